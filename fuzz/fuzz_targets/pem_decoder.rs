//! The reader of PEM certificate bodies (`formats::pem::decode_public_body`,
//! behind every PEM load: white space and the END line around the `base64`
//! crate's standard engine) against that engine on the bare body.
//!
//! Its contract (its doc comment): decode base64 from the start of the
//! text, skipping ASCII white space, up to the first `-` (the END line's
//! first character), and say how many bytes the body took. So the input is cut at its first `-` (which base64 never holds)
//! into a body, and the decoder is run
//! - on the body alone: it takes the whole body;
//! - on the body, a line end, and the rest of the input from its `-` (or an
//!   END line): it stops at that line.
//!
//! Oracle: both runs agree with the `base64` crate on the body without its
//! white space: both refuse, or both accept with the same bytes.
#![no_main]

use base64::Engine;
use certexport::__internals::base64_decode_pem_body;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dash = data.iter().position(|&b| b == b'-');
    let body = &data[..dash.unwrap_or(data.len())];
    let compact: Vec<u8> = body.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    let theirs = base64::engine::general_purpose::STANDARD.decode(&compact).ok();

    let mut out = Vec::new();
    let alone = base64_decode_pem_body(body, &mut out).map(|used| (used, out.clone()));
    agree("the body alone", body.len(), alone, theirs.as_deref());

    let mut text = body.to_vec();
    text.push(b'\n');
    let end_line = text.len();
    match dash {
        Some(at) => text.extend_from_slice(&data[at..]),
        None => text.extend_from_slice(b"-----END CERTIFICATE-----\n"),
    }
    let ended = base64_decode_pem_body(&text, &mut out).map(|used| (used, out.clone()));
    agree("the body and its END line", end_line, ended, theirs.as_deref());
});

/// The decoder's result `ours` (bytes taken, bytes decoded) against the
/// `base64` crate's decoding, `theirs`; `body_end` is where the body ends.
fn agree(what: &str, body_end: usize, ours: Result<(usize, Vec<u8>), &'static str>, theirs: Option<&[u8]>) {
    match (ours, theirs) {
        (Ok((used, bytes)), Some(expected)) => {
            assert_eq!(
                bytes, expected,
                "{what}: decoded to other bytes than the base64 crate's"
            );
            assert_eq!(used, body_end, "{what}: took {used} bytes, the body ends at {body_end}");
        }
        (Err(_), None) => {}
        (ours, theirs) => panic!(
            "{what}: the decoder {} where the base64 crate {}",
            if ours.is_ok() { "accepts" } else { "refuses" },
            if theirs.is_some() { "accepts" } else { "refuses" }
        ),
    }
}
