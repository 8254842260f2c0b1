//! PBKDF2-HMAC-SHA256 (RFC 8018 §5.2), the derivation behind every
//! encrypted PKCS#8 key and every modern PFX, written for speed.
//!
//! Hand-written because the `pbkdf2` crate makes the operations it sits in
//! more than 20% slower (issue 12's bar): `benches/hand_written.rs` runs
//! both at 600,000 iterations, the PKCS#8 default, in the same run, and
//! the crate took 1.21–1.22× the time of this loop in three runs (an
//! encrypted-key export is the derivation and a few microseconds). The
//! HMAC pads are hashed once, and each iteration is then exactly two
//! SHA-256 block compressions (`sha2::block_api::compress256`, on the
//! CPU's SHA extensions when it has them) on fixed, pre-padded blocks,
//! where the generic `hmac` state is cloned, re-buffered and re-padded
//! every iteration. The unit tests below and `fuzz/fuzz_targets/pbkdf2.rs`
//! hold it to the `pbkdf2` crate's output for any password, salt,
//! iteration count and output length; every buffer that holds key
//! material is zeroizing.

use sha2::Digest;
use sha2::block_api::compress256;
use zeroize::Zeroizing;

const BLOCK: usize = 64;
const OUT: usize = 32;
/// SHA-256's initial state (FIPS 180-4 §5.3.3).
const IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// Fills `out` with PBKDF2-HMAC-SHA256 of `password` and `salt` over
/// `iterations` (at least 1; 0 gives what 1 gives, as the crate does).
pub(crate) fn pbkdf2_hmac_sha256(password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
    // HMAC's key: hashed when longer than a block, zero-padded to a block.
    let mut key = Zeroizing::new([0u8; BLOCK]);
    if password.len() > BLOCK {
        key[..OUT].copy_from_slice(&sha2::Sha256::digest(password));
    } else {
        key[..password.len()].copy_from_slice(password);
    }
    let ipad = padded_key(&key, 0x36);
    let opad = padded_key(&key, 0x5c);
    let inner = state_after(&ipad);
    let outer = state_after(&opad);

    for (index, chunk) in out.chunks_mut(OUT).enumerate() {
        // U1 = HMAC(P, S || INT(i)), through the generic hasher: it runs once.
        let block_index = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let inner_hash = Zeroizing::new(
            sha2::Sha256::new()
                .chain_update(&ipad[..])
                .chain_update(salt)
                .chain_update(block_index.to_be_bytes())
                .finalize(),
        );
        let mut u = Zeroizing::new([0u8; OUT]);
        u.copy_from_slice(
            &sha2::Sha256::new()
                .chain_update(&opad[..])
                .chain_update(*inner_hash)
                .finalize(),
        );
        let mut t = Zeroizing::new(*u);

        // U_j = HMAC(P, U_{j-1}): a 32-byte message, so one padded block
        // for the inner hash and one for the outer.
        let mut block = Zeroizing::new(padded_block());
        let mut state = Zeroizing::new(IV);
        for _ in 1..iterations {
            block[..OUT].copy_from_slice(&u[..]);
            *state = *inner;
            compress256(&mut state, std::slice::from_ref(&*block));
            write_be(&state, &mut block[..OUT]);
            *state = *outer;
            compress256(&mut state, std::slice::from_ref(&*block));
            write_be(&state, &mut u[..]);
            for (t, u) in t.iter_mut().zip(u.iter()) {
                *t ^= u;
            }
        }
        chunk.copy_from_slice(&t[..chunk.len()]);
    }
}

/// `key ^ pad`, byte by byte.
fn padded_key(key: &[u8; BLOCK], pad: u8) -> Zeroizing<[u8; BLOCK]> {
    let mut block = Zeroizing::new([0u8; BLOCK]);
    for (b, k) in block.iter_mut().zip(key) {
        *b = k ^ pad;
    }
    block
}

/// The SHA-256 state after compressing one block.
fn state_after(block: &[u8; BLOCK]) -> Zeroizing<[u32; 8]> {
    let mut state = Zeroizing::new(IV);
    compress256(&mut state, std::slice::from_ref(block));
    state
}

/// A block holding a 32-byte message after a 64-byte prefix: the message,
/// the `0x80` marker, zeros, and the bit length (64 + 32) * 8.
fn padded_block() -> [u8; BLOCK] {
    let mut block = [0u8; BLOCK];
    block[OUT] = 0x80;
    block[BLOCK - 8..].copy_from_slice(&(((BLOCK + OUT) * 8) as u64).to_be_bytes());
    block
}

fn write_be(state: &[u32; 8], out: &mut [u8]) {
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crate_output(password: &[u8], salt: &[u8], iterations: u32, len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, &mut out);
        out
    }

    fn ours(password: &[u8], salt: &[u8], iterations: u32, len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len];
        pbkdf2_hmac_sha256(password, salt, iterations, &mut out);
        out
    }

    #[test]
    fn matches_rfc7914_vectors() {
        // RFC 7914 §11, PBKDF2-HMAC-SHA256.
        let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(
            hex(&ours(b"passwd", b"salt", 1, 64)),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc\
             49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"
        );
        assert_eq!(
            hex(&ours(b"Password", b"NaCl", 80_000, 64)),
            "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56\
             a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"
        );
    }

    /// The differential: the `pbkdf2` crate's output for passwords on both
    /// sides of the 64-byte block (hashed when longer), salts of any
    /// length, 0 to 40 iterations and outputs of one, two and three blocks.
    #[test]
    fn agrees_with_the_pbkdf2_crate() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for password_len in [0usize, 1, 31, 32, 63, 64, 65, 100, 200] {
            for _ in 0..6 {
                let password: Vec<u8> = (0..password_len).map(|_| next() as u8).collect();
                let salt: Vec<u8> = (0..next() % 80).map(|_| next() as u8).collect();
                let iterations = (next() % 41) as u32;
                let len = 1 + (next() % 96) as usize;
                assert_eq!(
                    ours(&password, &salt, iterations, len),
                    crate_output(&password, &salt, iterations, len),
                    "password {password_len} bytes, salt {} bytes, {iterations} iterations, {len} bytes out",
                    salt.len()
                );
            }
        }
    }
}
