//! The cache of chain steps: issuer candidates by subject name and key
//! identifier.
//!
//! The certificates a chain step asks for are CA certificates: few, and
//! asked for by every export of their leaves. A [`PgStore`](super::PgStore)
//! keeps each step's answer here, so a chain costs the leaf's lookup and
//! no round trip per level.
//!
//! **Invalidation.** The database counts its changes: every statement that
//! inserts, updates or deletes certificates, their collections or
//! containers, or key policies bumps `certexport_state.generation` (a
//! statement trigger, so a batch import bumps it once per statement). Every
//! certificate query that finds something, and every chain-step query, reads
//! that generation in the same round trip, and the cache empties itself
//! whenever it sees a newer one. So an export never
//! uses a chain step older than its own leaf lookup, whichever process
//! changed the database. An answer is kept only under the generation its
//! own query saw, so a slow query cannot put an old answer into a newer
//! cache.
//!
//! **Bound.** At most [`PgOptions::ca_cache_certificates`](super::PgOptions::ca_cache_certificates)
//! certificates are held; a step that would pass the bound empties the
//! cache first (a step larger than the bound is not kept).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use crate::name::NameKey;
use crate::store::StoredCertificate;

pub(super) struct CaCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The generation the entries are valid for.
    generation: i64,
    entries: HashMap<Vec<u8>, Vec<StoredCertificate<'static>>>,
    /// Certificates held across all entries.
    held: usize,
}

impl CaCache {
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// The cache key of a chain step.
    pub(super) fn key(subject: &NameKey, key_id: Option<&[u8]>) -> Vec<u8> {
        let subject = subject.as_bytes();
        let mut key = Vec::with_capacity(subject.len() + key_id.map_or(0, <[u8]>::len) + 9);
        key.extend_from_slice(&(subject.len() as u64).to_be_bytes());
        key.extend_from_slice(subject);
        if let Some(key_id) = key_id {
            key.push(1);
            key.extend_from_slice(key_id);
        }
        key
    }

    /// The candidates remembered for `key`.
    pub(super) fn get(&self, key: &[u8]) -> Option<Vec<StoredCertificate<'static>>> {
        self.lock().entries.get(key).cloned()
    }

    /// Notes that the database was at `generation`: a newer one than the
    /// entries' empties the cache.
    pub(super) fn observe(&self, generation: i64) {
        self.lock().observe(generation);
    }

    /// Remembers the candidates of `key` that a query at `generation` found.
    pub(super) fn insert(&self, key: Vec<u8>, generation: i64, candidates: &[StoredCertificate<'static>]) {
        if candidates.len() > self.capacity {
            return;
        }
        let mut inner = self.lock();
        inner.observe(generation);
        if inner.generation != generation {
            return;
        }
        if inner.held + candidates.len() > self.capacity {
            inner.entries.clear();
            inner.held = 0;
        }
        inner.held += candidates.len();
        if let Some(old) = inner.entries.insert(key, candidates.to_vec()) {
            inner.held -= old.len();
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Inner {
    fn observe(&mut self, generation: i64) {
        if generation > self.generation {
            self.generation = generation;
            self.entries.clear();
            self.held = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::CertId;
    use crate::store::CertMetadata;

    fn certificate(id: u64) -> StoredCertificate<'static> {
        StoredCertificate::new(CertId(id), vec![id as u8], CertMetadata::default())
    }

    #[test]
    fn a_newer_generation_empties_the_cache_and_an_older_answer_is_not_kept() {
        let cache = CaCache::new(10);
        cache.insert(b"a".to_vec(), 1, &[certificate(1)]);
        assert_eq!(cache.get(b"a").map(|c| c.len()), Some(1));
        cache.observe(1);
        assert!(cache.get(b"a").is_some());
        cache.observe(2);
        assert!(cache.get(b"a").is_none());
        cache.insert(b"b".to_vec(), 1, &[certificate(2)]);
        assert!(cache.get(b"b").is_none(), "an answer from before the change");
    }

    #[test]
    fn the_bound_holds() {
        let cache = CaCache::new(3);
        cache.insert(b"a".to_vec(), 0, &[certificate(1), certificate(2)]);
        cache.insert(b"b".to_vec(), 0, &[certificate(3), certificate(4)]);
        assert!(cache.get(b"a").is_none());
        assert!(cache.get(b"b").is_some());
        cache.insert(
            b"c".to_vec(),
            0,
            &[certificate(5), certificate(6), certificate(7), certificate(8)],
        );
        assert!(cache.get(b"c").is_none(), "larger than the whole cache");
    }

    #[test]
    fn keys_tell_subjects_and_key_ids_apart() {
        let name = |s: &[u8]| NameKey::from_der(s).unwrap();
        let empty = name(&[0x30, 0x00]);
        assert_ne!(CaCache::key(&empty, None), CaCache::key(&empty, Some(b"")));
        assert_ne!(CaCache::key(&empty, Some(b"x")), CaCache::key(&empty, Some(b"y")));
    }
}
