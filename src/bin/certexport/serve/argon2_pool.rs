//! argon2id verification in memory of our own, reused.
//!
//! argon2 needs its memory cost in working memory (19 MiB at the default
//! `m=19456`) for every check. Allocated and freed per check, as
//! `PasswordVerifier` does, those blocks are kept by the allocator and a
//! flood of failed logins grew the server by hundreds of MiB that it never
//! gave back. Here each of a fixed number of slots (one per check that may
//! run at once) owns one buffer, grown once to the largest memory cost of
//! the callers file and reused: password checks take at most
//! `slots × m` KiB, whatever their number. A buffer is wiped after each
//! check (it holds state derived from the password).

use std::sync::Mutex;

use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

/// The largest memory cost a hash may ask for: 256 MiB (in 1 KiB blocks).
/// A callers file with more is refused where it is read.
pub(crate) const MAX_M_COST: u32 = 256 * 1024;

/// The working memory of the password checks.
pub(crate) struct Argon2Pool {
    free: Mutex<Vec<Vec<Block>>>,
}

impl Argon2Pool {
    /// A pool of `slots` buffers (allocated at their first use).
    pub(crate) fn new(slots: usize) -> Self {
        Self {
            free: Mutex::new((0..slots.max(1)).map(|_| Vec::new()).collect()),
        }
    }

    /// Whether `password` is the one `hash` was made from. The caller holds
    /// one of the `slots` permits, so a buffer is always free.
    pub(crate) fn verify(&self, password: &[u8], hash: &PasswordHash) -> bool {
        let Some(mut memory) = self.lock().pop() else {
            tracing::error!("password check without a free argon2 buffer (a bug): refused");
            return false;
        };
        let verified = verify_in(&mut memory, password, hash);
        for block in memory.iter_mut() {
            block.zeroize();
        }
        self.lock().push(memory);
        verified
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Vec<Block>>> {
        self.free.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn verify_in(memory: &mut Vec<Block>, password: &[u8], hash: &PasswordHash) -> bool {
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm.as_str()) else {
        return false;
    };
    let Ok(version) = hash.version.map_or(Ok(Version::default()), Version::try_from) else {
        return false;
    };
    let Ok(params) = Params::try_from(hash) else {
        return false;
    };
    if params.m_cost() > MAX_M_COST {
        return false;
    }
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::new());
    }
    let mut computed = Zeroizing::new(vec![0u8; expected.len()]);
    let hashed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password,
        salt.as_ref(),
        &mut computed,
        &mut memory[..blocks],
    );
    hashed.is_ok() && bool::from(computed.as_slice().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use argon2::PasswordVerifier;

    use super::*;

    /// `certexport hash-password` of "pw" with argon2's test salt, made
    /// with the crate's own hasher.
    fn hash_of(password: &[u8]) -> PasswordHash {
        use argon2::PasswordHasher;
        let params = Params::new(64, 1, 1, None).unwrap();
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_with_salt(password, b"somesaltsomesalt")
            .unwrap()
    }

    #[test]
    fn agrees_with_the_crates_verifier_and_reuses_its_buffer() {
        let pool = Argon2Pool::new(1);
        let hash = hash_of(b"right");
        for (password, right) in [(&b"right"[..], true), (b"wrong", false), (b"", false)] {
            assert_eq!(pool.verify(password, &hash), right);
            assert_eq!(Argon2::default().verify_password(password, &hash).is_ok(), right);
        }
        let buffers = pool.lock();
        assert_eq!(buffers.len(), 1);
        assert_eq!(buffers[0].len(), 64);
    }
}
