//! A short-lived memory of verified passwords, so that argon2id (tens of
//! milliseconds and 19 MiB by design) runs once per caller per minute
//! rather than on every request, as production servers do.
//!
//! Entries are keyed by HMAC-SHA256, under a random key made at start-up,
//! of the caller's name and password: the cache never holds a password or
//! a hash an attacker could test guesses against offline, and its key dies
//! with the process. An entry lives [`TTL`]. At most [`CAPACITY`] entries: when full, expired
//! ones go, and if none has expired the cache starts over (a flood of
//! distinct good passwords costs argon2 again, nothing worse).
//!
//! One cache belongs to one reading of the callers file: `SIGHUP` makes a
//! new reading with a new, empty cache, so a removed caller or a changed
//! password stops working at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// How long a verified password is remembered.
pub(crate) const TTL: Duration = Duration::from_secs(60);

/// The most entries kept.
pub(crate) const CAPACITY: usize = 10_000;

/// Verified (name, password) pairs, by keyed hash.
pub(crate) struct CredentialCache {
    key: Zeroizing<[u8; 32]>,
    entries: Mutex<HashMap<[u8; 32], Instant>>,
}

impl CredentialCache {
    /// An empty cache with a fresh random key.
    pub(crate) fn new() -> Result<Self, getrandom::Error> {
        let mut key = Zeroizing::new([0u8; 32]);
        getrandom::fill(key.as_mut())?;
        Ok(Self {
            key,
            entries: Mutex::new(HashMap::new()),
        })
    }

    /// The cache key of `name` and `password` (lengths framed, so that no
    /// two pairs give the same input).
    pub(crate) fn tag(&self, name: &str, password: &[u8]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.key.as_ref())
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(&(name.len() as u64).to_be_bytes());
        mac.update(name.as_bytes());
        mac.update(password);
        mac.finalize().into_bytes().into()
    }

    /// Whether `tag` was verified less than [`TTL`] ago.
    pub(crate) fn contains(&self, tag: &[u8; 32]) -> bool {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(tag).is_some_and(|&verified| verified.elapsed() < TTL)
    }

    /// Remembers that `tag` was verified now.
    pub(crate) fn insert(&self, tag: [u8; 32]) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.retain(|_, verified| verified.elapsed() < TTL);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(tag, Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_pairs_by_keyed_hash_only() {
        let cache = CredentialCache::new().unwrap();
        let tag = cache.tag("alice", b"pw");
        assert!(!cache.contains(&tag));
        cache.insert(tag);
        assert!(cache.contains(&tag));
        // Another name or password, or the same pair under another key, differs.
        assert_ne!(cache.tag("alice", b"pw2"), tag);
        assert_ne!(cache.tag("alicep", b"w"), tag);
        assert_ne!(CredentialCache::new().unwrap().tag("alice", b"pw"), tag);
    }

    #[test]
    fn stays_bounded() {
        let cache = CredentialCache::new().unwrap();
        for i in 0..CAPACITY + 10 {
            cache.insert(cache.tag(&i.to_string(), b"pw"));
        }
        assert!(cache.entries.lock().unwrap().len() <= CAPACITY);
    }
}
