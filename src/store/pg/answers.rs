//! The cache of answers: what each certificate query found, kept in the
//! server so that a lookup asked again costs no round trip.
//!
//! A certificate's bytes never change once imported, but what decides
//! access does (collections, containers, key policy, whether the
//! certificate still exists). So the cache keeps whole answers — a lookup
//! that found nothing among them, so that an absent certificate costs what
//! one of another collection costs — and trusts them only while it knows
//! the database has not changed:
//!
//! - **Change counter.** Every statement that inserts, updates or deletes
//!   certificates, their collections or containers, or key policies bumps
//!   `certexport_state.generation` (a statement trigger). Every certificate
//!   query reads it in the same round trip, and the cache empties itself
//!   whenever any answer or check shows a newer one. An answer is kept only
//!   under the generation its own query saw, so a slow query, or a replica
//!   that has not yet replayed a change, never puts an old answer into a
//!   newer cache.
//! - **Freshness bound.** Answers are used only while the counter was read
//!   at most [`PgOptions::cache_ttl`](super::PgOptions::cache_ttl) ago
//!   (default 1 s). The first lookup that finds the last check older reads
//!   the counter again (one indexed one-row query); lookups arriving
//!   meanwhile go to the database. So a change committed at time `t` (a
//!   claim removed, a certificate deleted) is no longer served from the
//!   cache after `t + cache_ttl`, in every process, with no message between
//!   them; a database that cannot be reached is not papered over by the
//!   cache for longer than that either. `cache_ttl` zero checks before
//!   every answer.
//! - **Bound in bytes.** At most [`PgOptions::cache_bytes`](super::PgOptions::cache_bytes)
//!   (default 64 MiB): each answer weighs its DER, its metadata and its
//!   key; the least useful answers go first (`quick_cache`'s S3-FIFO).
//!   Zero keeps nothing.
//!
//! Private keys are never cached: each key export reads and decrypts its
//! row.

use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use quick_cache::Weighter;
use quick_cache::sync::Cache;

use crate::error::ExportError;
use crate::ids::CertId;
use crate::store::{CertMetadata, KeyAccess, KeyPolicy, StoredCertificate};

/// What one query found: shared by every lookup that asks it again.
type Answer = Arc<[StoredCertificate<'static>]>;

/// Which query an answer is of: the first byte of its cache key.
#[derive(Debug, Clone, Copy)]
#[repr(u8)]
pub(super) enum Query {
    Id,
    Sha1,
    Sha256,
    Uuid,
    IssuerSerial,
    Subject,
    SubjectKeyId,
}

pub(super) struct Answers {
    entries: Option<Cache<Vec<u8>, Answer, Weight>>,
    /// What an answer that found nothing copies instead (see [`Answers::get`]).
    decoy: Box<StoredCertificate<'static>>,
    ttl: Duration,
    state: RwLock<State>,
    /// Held by the one lookup reading the counter again.
    checking: Mutex<()>,
}

struct State {
    /// The newest generation seen; the entries are answers at it.
    generation: i64,
    /// When the last successful check of the counter started.
    checked: Option<Instant>,
}

/// An answer's weight: about the bytes it holds.
#[derive(Clone)]
struct Weight;

impl Weighter<Vec<u8>, Answer> for Weight {
    fn weight(&self, key: &Vec<u8>, answer: &Answer) -> u64 {
        let certificates: usize = answer
            .iter()
            .map(|c| {
                let metadata = &c.metadata;
                c.der.len()
                    + 8 * (metadata.collections.len() + metadata.containers.len())
                    + metadata.key_policy.as_ref().map_or(0, |p| p.name.len())
                    + CERTIFICATE_OVERHEAD
            })
            .sum();
        (key.len() + certificates + ENTRY_OVERHEAD) as u64
    }
}

/// What an entry and a certificate cost beyond their bytes (allocations,
/// the map's slot), counted so that many small answers respect the bound too.
const ENTRY_OVERHEAD: usize = 96;
const CERTIFICATE_OVERHEAD: usize = 160;
/// The size of a typical answer, to size the map.
const TYPICAL_ANSWER: u64 = 2_048;
/// The DER size of the certificate an empty answer copies in its place: a
/// typical leaf's.
const DECOY_DER: usize = 1_024;

impl Answers {
    /// A cache of at most `bytes`, trusting answers for `ttl` after a check.
    pub(super) fn new(bytes: u64, ttl: Duration) -> Self {
        let entries = (bytes > 0).then(|| {
            let items = usize::try_from(bytes / TYPICAL_ANSWER).unwrap_or(usize::MAX).max(16);
            Cache::with_weighter(items, bytes, Weight)
        });
        let decoy = Box::new(StoredCertificate::new(
            CertId(0),
            vec![0; DECOY_DER],
            CertMetadata {
                collections: vec![0],
                containers: vec![0],
                key_policy: Some(KeyPolicy {
                    name: "decoy".to_owned(),
                    private_key_access: KeyAccess::Allowed,
                }),
            },
        ));
        Self {
            entries,
            decoy,
            ttl,
            state: RwLock::new(State {
                generation: i64::MIN,
                checked: None,
            }),
            checking: Mutex::new(()),
        }
    }

    /// The cache key of `query` with `params`.
    pub(super) fn key(query: Query, params: &[&[u8]]) -> Vec<u8> {
        let mut key = Vec::with_capacity(1 + params.iter().map(|p| p.len() + 8).sum::<usize>());
        key.push(query as u8);
        for param in params {
            key.extend_from_slice(&(param.len() as u64).to_be_bytes());
            key.extend_from_slice(param);
        }
        key
    }

    /// The answer remembered for `key`, if the cache may be trusted now;
    /// `check` reads the change counter when the last check is older than
    /// the TTL (its failure makes the caller ask the database itself).
    pub(super) fn get(
        &self,
        key: &[u8],
        check: impl FnOnce() -> Result<i64, ExportError>,
    ) -> Option<Vec<StoredCertificate<'static>>> {
        let entries = self.entries.as_ref()?;
        if !self.fresh(check) {
            return None;
        }
        let answer = entries.get(key)?;
        if answer.is_empty() {
            // An answer that found nothing costs what one that found a
            // certificate costs (copying it out of the cache, dropping the
            // copy): a caller who may not see a certificate cannot tell
            // by timing whether it exists.
            drop(std::hint::black_box(std::slice::from_ref(&*self.decoy).to_vec()));
        }
        Some(answer.to_vec())
    }

    /// Whether the counter was read within the TTL, reading it now if not
    /// and no other lookup is already doing so.
    fn fresh(&self, check: impl FnOnce() -> Result<i64, ExportError>) -> bool {
        if self.trusted(&self.read()) {
            return true;
        }
        let Ok(_checking) = self.checking.try_lock() else {
            return false;
        };
        if self.trusted(&self.read()) {
            return true;
        }
        let started = Instant::now();
        match check() {
            Ok(generation) => {
                let mut state = self.write();
                state.observe(generation, self.entries.as_ref());
                state.checked = Some(started);
                // A check that took longer than the TTL read a counter
                // already too old to trust: the bound holds from the
                // moment the counter was asked for, not answered. (A zero
                // TTL means a check for every answer: this one.)
                self.ttl.is_zero() || self.trusted(&state)
            }
            Err(_) => false,
        }
    }

    /// The generation the answers are at, while they may be trusted
    /// without reading the counter (none when the cache keeps nothing).
    pub(super) fn version(&self) -> Option<u64> {
        self.entries.as_ref()?;
        let state = self.read();
        if !self.trusted(&state) {
            return None;
        }
        u64::try_from(state.generation).ok()
    }

    /// Whether the counter was read within the TTL.
    fn trusted(&self, state: &State) -> bool {
        state.checked.is_some_and(|at| at.elapsed() < self.ttl)
    }

    /// Makes the next lookup read the counter first (after this process
    /// changed the database).
    pub(super) fn recheck(&self) {
        self.write().checked = None;
    }

    /// Notes that the database was at `generation` (a newer one than the
    /// entries' empties the cache).
    pub(super) fn observe(&self, generation: i64) {
        if generation > self.read().generation {
            self.write().observe(generation, self.entries.as_ref());
        }
    }

    /// Remembers what the query `key` found at `generation`.
    pub(super) fn insert(&self, key: Vec<u8>, generation: i64, certificates: &[StoredCertificate<'static>]) {
        let Some(entries) = &self.entries else { return };
        self.observe(generation);
        let state = self.read();
        // An answer from before the newest change seen is not kept; the
        // read lock keeps a change from emptying the cache between this
        // test and the insert.
        if state.generation == generation {
            entries.insert(key, certificates.into());
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    fn observe(&mut self, generation: i64, entries: Option<&Cache<Vec<u8>, Answer, Weight>>) {
        if generation > self.generation {
            self.generation = generation;
            if let Some(entries) = entries {
                entries.clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate(id: u64, bytes: usize) -> StoredCertificate<'static> {
        StoredCertificate::new(CertId(id), vec![id as u8; bytes], CertMetadata::default())
    }

    fn at(generation: i64) -> impl FnOnce() -> Result<i64, ExportError> {
        move || Ok(generation)
    }

    #[test]
    fn a_newer_generation_empties_the_cache_and_an_older_answer_is_not_kept() {
        let answers = Answers::new(1 << 20, Duration::from_secs(60));
        answers.insert(b"a".to_vec(), 1, &[certificate(1, 10)]);
        assert_eq!(answers.get(b"a", at(1)).map(|c| c.len()), Some(1));
        answers.observe(2);
        assert!(answers.get(b"a", at(2)).is_none());
        answers.insert(b"b".to_vec(), 1, &[certificate(2, 10)]);
        assert!(answers.get(b"b", at(2)).is_none(), "an answer from before the change");
        answers.insert(b"none".to_vec(), 2, &[]);
        assert_eq!(answers.get(b"none", at(2)), Some(Vec::new()), "an empty answer is kept");
    }

    #[test]
    fn answers_are_trusted_only_within_the_ttl_of_a_check() {
        let answers = Answers::new(1 << 20, Duration::ZERO);
        answers.insert(b"a".to_vec(), 1, &[certificate(1, 10)]);
        assert!(answers.get(b"a", at(1)).is_some(), "checked: unchanged");
        assert!(answers.get(b"a", at(2)).is_none(), "checked: changed");
        answers.insert(b"a".to_vec(), 2, &[certificate(1, 10)]);
        let unreachable = || Err(ExportError::store_unavailable(std::io::Error::other("down")));
        assert!(answers.get(b"a", unreachable).is_none(), "no check, no answer");

        let answers = Answers::new(1 << 20, Duration::from_secs(60));
        answers.insert(b"a".to_vec(), 1, &[certificate(1, 10)]);
        assert!(answers.get(b"a", at(1)).is_some());
        assert!(answers.get(b"a", || panic!("checked within the TTL")).is_some());
    }

    #[test]
    fn a_check_slower_than_the_ttl_is_not_trusted() {
        let answers = Answers::new(1 << 20, Duration::from_millis(20));
        answers.insert(b"a".to_vec(), 1, &[certificate(1, 10)]);
        let slow = || {
            std::thread::sleep(Duration::from_millis(40));
            Ok(1)
        };
        assert!(
            answers.get(b"a", slow).is_none(),
            "a counter read 40 ms ago under a 20 ms TTL"
        );
        assert!(answers.get(b"a", at(1)).is_some(), "a quick check is trusted");
    }

    #[test]
    fn the_bound_is_in_bytes() {
        let answers = Answers::new(64 * 1024, Duration::from_secs(60));
        for id in 0..200 {
            answers.insert(id.to_string().into_bytes(), 0, &[certificate(id, 1_000)]);
        }
        let entries = answers.entries.as_ref().unwrap();
        assert!(entries.weight() <= 64 * 1024, "{}", entries.weight());
        assert!(entries.len() < 64, "{} answers of ~1.2 KB in 64 KiB", entries.len());
        assert!(Answers::new(0, Duration::from_secs(60)).get(b"a", at(0)).is_none());
    }

    #[test]
    fn keys_tell_queries_and_params_apart() {
        assert_ne!(Answers::key(Query::Id, &[b"1"]), Answers::key(Query::Sha1, &[b"1"]));
        assert_ne!(
            Answers::key(Query::IssuerSerial, &[b"ab", b"c"]),
            Answers::key(Query::IssuerSerial, &[b"a", b"bc"])
        );
        assert_ne!(
            Answers::key(Query::Subject, &[b"x"]),
            Answers::key(Query::SubjectKeyId, &[b"x", b""])
        );
    }
}
