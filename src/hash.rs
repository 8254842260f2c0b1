//! The hasher of the store's indexes and the signature cache: a keyed
//! folded-multiply hash.
//!
//! Index keys are thumbprints, ids and name keys of a few hundred bytes at
//! most; SipHash spends more time on them than the rest of a lookup. The
//! folded multiply (the 128-bit product of the state and a key, its halves
//! XORed, as in foldhash) mixes eight bytes per multiplication. The keys are
//! random per store, so a hostile store cannot aim certificates at one
//! bucket without knowing them. Callers compare the keys themselves on a hit
//! wherever a wrong answer would matter.

use std::hash::{BuildHasher, Hasher, RandomState};

/// Builds [`FoldHasher`]s with the store's random keys.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FoldHash {
    seed: u64,
    multiplier: u64,
}

impl Default for FoldHash {
    fn default() -> Self {
        // std's RandomState is seeded from the OS once per process and
        // varies per instance: a source of keys that cannot fail.
        let random = RandomState::new();
        Self {
            seed: random.hash_one(0x5eed_u64),
            multiplier: random.hash_one(0x6d75_u64) | 1,
        }
    }
}

impl BuildHasher for FoldHash {
    type Hasher = FoldHasher;

    fn build_hasher(&self) -> FoldHasher {
        FoldHasher {
            state: self.seed,
            multiplier: self.multiplier,
        }
    }
}

/// The hasher of one value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FoldHasher {
    state: u64,
    multiplier: u64,
}

#[inline(always)]
fn fold(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

impl Hasher for FoldHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            self.state = fold(self.state ^ u64::from_le_bytes(w), self.multiplier);
        }
        let mut tail = [0u8; 8];
        tail[..words.remainder().len()].copy_from_slice(words.remainder());
        self.state = fold(self.state ^ u64::from_le_bytes(tail), self.multiplier);
        self.state = fold(self.state ^ bytes.len() as u64, self.multiplier);
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.state = fold(self.state ^ n, self.multiplier);
    }

    #[inline]
    fn finish(&self) -> u64 {
        fold(self.state, self.multiplier.rotate_left(32) | 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinguishes_lengths_and_contents() {
        let h = FoldHash::default();
        let values: [&[u8]; 6] = [b"", b"\0", b"\0\0", b"a", b"abcdefgh", b"abcdefgh\0"];
        let hashes: Vec<u64> = values.iter().map(|v| h.hash_one(v)).collect();
        for i in 0..hashes.len() {
            for j in i + 1..hashes.len() {
                assert_ne!(hashes[i], hashes[j], "{:?} {:?}", values[i], values[j]);
            }
        }
    }

    #[test]
    fn keys_differ_per_store() {
        assert_ne!(FoldHash::default().hash_one(1u64), FoldHash::default().hash_one(1u64));
    }
}
