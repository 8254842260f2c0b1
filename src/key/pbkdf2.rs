//! PBKDF2-HMAC-SHA256 (RFC 8018 §5.2), written for speed.
//!
//! Exporting a key at 600,000 iterations is all key derivation, so the
//! loop matters: the HMAC inner and outer pads are hashed once, and each
//! iteration is then exactly two SHA-256 block compressions on fixed,
//! pre-padded blocks (`sha2::block_api::compress256`, which uses the CPU's
//! SHA extensions when it has them). The generic `hmac` + `pbkdf2` path
//! re-pads and copies hasher state every iteration.

use sha2::Digest;
use sha2::block_api::compress256;
use zeroize::Zeroizing;

const BLOCK: usize = 64;
const OUT: usize = 32;
const IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// Fills `out` with PBKDF2-HMAC-SHA256 of `password` and `salt`.
pub(crate) fn pbkdf2_hmac_sha256(password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
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
        let inner_hash = sha2::Sha256::new()
            .chain_update(&ipad[..])
            .chain_update(salt)
            .chain_update(((index + 1) as u32).to_be_bytes())
            .finalize();
        let mut u = Zeroizing::new([0u8; OUT]);
        u.copy_from_slice(
            &sha2::Sha256::new()
                .chain_update(&opad[..])
                .chain_update(inner_hash)
                .finalize(),
        );
        let mut t = Zeroizing::new(*u);

        // U_j = HMAC(P, U_{j-1}): a 32-byte message, so one padded block
        // for the inner hash and one for the outer.
        let mut block = Zeroizing::new(padded_block());
        for _ in 1..iterations {
            block[..OUT].copy_from_slice(&u[..]);
            let mut state = *inner;
            compress256(&mut state, std::slice::from_ref(&*block));
            write_be(&state, &mut block[..OUT]);
            let mut state = *outer;
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

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn matches_rfc7914_vectors() {
        // RFC 7914 §11, PBKDF2-HMAC-SHA256.
        let mut out = [0u8; 64];
        pbkdf2_hmac_sha256(b"passwd", b"salt", 1, &mut out);
        assert_eq!(
            hex(&out),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc\
             49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"
        );
        pbkdf2_hmac_sha256(b"Password", b"NaCl", 80000, &mut out);
        assert_eq!(
            hex(&out),
            "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56\
             a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"
        );
    }

    #[test]
    fn hashes_long_passwords_first() {
        // A password longer than the block is replaced by its SHA-256.
        let long = [b'p'; 100];
        let digest = sha2::Sha256::digest(long);
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        pbkdf2_hmac_sha256(&long, b"salt", 3, &mut a);
        pbkdf2_hmac_sha256(&digest, b"salt", 3, &mut b);
        assert_eq!(a, b);
    }
}
