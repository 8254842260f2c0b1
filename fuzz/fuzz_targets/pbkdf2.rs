//! The hand-written PBKDF2-HMAC-SHA256 (`src/formats/pbkdf2.rs`, behind
//! every encrypted key and PFX) against the `pbkdf2` crate, on arbitrary
//! passwords, salts, small iteration counts and output lengths.
//!
//! Oracle: the same bytes out.
#![no_main]

use certexport::__internals::pbkdf2_hmac_sha256;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&[iterations, out_len, password_len], rest)) = data.split_first_chunk::<3>() else {
        return;
    };
    let (password, salt) = rest.split_at(usize::from(password_len).min(rest.len()));
    let iterations = u32::from(iterations % 64);
    let len = usize::from(out_len % 128) + 1;
    let (mut ours, mut theirs) = (vec![0u8; len], vec![0u8; len]);
    pbkdf2_hmac_sha256(password, salt, iterations, &mut ours);
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, &mut theirs);
    assert_eq!(ours, theirs, "the derivations differ");
});
