//! Where exports run, so that a burst of key exports cannot starve
//! certificate downloads.
//!
//! - A key export (PBKDF2 at 600,000 iterations: 50–80 ms of one core)
//!   runs on the blocking pool behind a semaphore of `--key-export-workers`
//!   permits (default: the number of cores less one, so that one core is
//!   always free for everything else; at least one). Callers beyond that wait
//!   their turn in order, holding no thread, and the runtime's workers
//!   stay free to answer everything else.
//! - A certificate download from a store in memory takes microseconds and
//!   never waits: it runs on the request's own task, which is cheaper than
//!   any hand-over to another thread.
//! - Over a store whose calls block (a database), downloads run on the
//!   blocking pool too, behind their own, larger semaphore
//!   ([`STORE_CALLS_PER_CORE`] per core), so they never queue behind keys
//!   — except those a database's answer cache can answer alone
//!   ([`StoreIo::CacheFirst`]): they run on the request's task, as from
//!   memory, and only a download that needs the database is handed over.

use std::sync::Arc;

use tokio::sync::Semaphore;

use super::store::StoreIo;

/// Blocking downloads at once per core over a store that blocks: they
/// mostly wait on the store, not on the CPU.
pub(crate) const STORE_CALLS_PER_CORE: usize = 4;

/// How many downloads may run at once over a store that blocks, on a
/// machine of `cores` cores.
pub(crate) fn store_calls(cores: usize) -> usize {
    cores.max(1) * STORE_CALLS_PER_CORE
}

/// Which work a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lane {
    /// A certificate (and chain), no key: cheap.
    Certificate,
    /// An export with a private key: key derivation, expensive.
    Key,
}

/// The lanes and their semaphores.
pub(crate) struct Lanes {
    io: StoreIo,
    keys: Arc<Semaphore>,
    key_slots: usize,
    store_calls: Arc<Semaphore>,
}

/// The work could not finish (it panicked).
#[derive(Debug)]
pub(crate) struct WorkFailed;

impl Lanes {
    /// Lanes over a store whose calls are `io`, with `key_slots` key
    /// exports at once, on a machine of `cores` cores.
    pub(crate) fn new(io: StoreIo, key_slots: usize, cores: usize) -> Self {
        Self {
            io,
            keys: Arc::new(Semaphore::new(key_slots)),
            key_slots,
            store_calls: Arc::new(Semaphore::new(store_calls(cores))),
        }
    }

    /// Runs `work` in `lane`.
    pub(crate) async fn run<T, F>(&self, lane: Lane, work: F) -> Result<T, WorkFailed>
    where
        T: Send + 'static,
        F: Fn() -> T + Send + 'static,
    {
        let semaphore = match (lane, self.io) {
            (Lane::Certificate, StoreIo::Memory) => return Ok(work()),
            #[cfg(feature = "postgres")]
            (Lane::Certificate, StoreIo::CacheFirst) => match certexport::store::cached_answers_only(&work) {
                Some(answer) => return Ok(answer),
                None => &self.store_calls,
            },
            (Lane::Certificate, StoreIo::Blocking) => &self.store_calls,
            (Lane::Key, _) => &self.keys,
        };
        let permit = Arc::clone(semaphore).acquire_owned().await.map_err(|_| WorkFailed)?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(|_| WorkFailed)
    }

    /// How many key exports may run at once.
    pub(crate) fn key_slots(&self) -> usize {
        self.key_slots
    }

    /// How many key exports are running now.
    pub(crate) fn keys_running(&self) -> usize {
        self.key_slots.saturating_sub(self.keys.available_permits())
    }
}
