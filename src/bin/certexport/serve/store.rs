//! Where `serve` exports from: the one function that opens the store.
//!
//! A store that answers from memory ([`StoreIo::Memory`]) lets certificate
//! downloads run on the request's own task; one that waits on I/O (a
//! database) must declare [`StoreIo::Blocking`], so that every export runs
//! on the blocking pool — a sync database driver panics, or stalls the
//! runtime, when called from a tokio worker.

use certexport::store::CertificateStore;

use crate::StoreArgs;
use crate::failure::Failure;

/// Whether the store's calls may wait on I/O.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StoreIo {
    /// Every call answers from memory at once.
    Memory,
    /// Calls may block (a database): run them on the blocking pool.
    Blocking,
}

/// An opened store and how to call it.
pub(crate) struct OpenedStore {
    /// The store.
    pub(crate) store: Box<dyn CertificateStore>,
    /// Whether its calls block.
    pub(crate) io: StoreIo,
    /// What it is, for the start-up log line (never a password).
    pub(crate) description: String,
}

/// Opens the store the flags name.
///
/// This is the one place a store is opened: store files, or a database
/// (`--database URL`; its contents are not fixed, so its calls go
/// to the blocking pool, [`StoreIo::Blocking`]); nothing else in `serve`
/// knows the store's kind.
///
/// `exports` is the most exports that may run at once: a database gets a
/// connection for each, so that none waits for another's.
#[cfg_attr(not(feature = "postgres"), allow(unused_variables))]
pub(crate) fn open(args: &StoreArgs, exports: usize) -> Result<OpenedStore, Failure> {
    #[cfg(feature = "postgres")]
    if let Some(database) = crate::db::open(args, exports)? {
        // The URL may hold a password: the log line does not name it.
        return Ok(OpenedStore::new(Box::new(database), "a PostgreSQL database".to_owned()));
    }
    let store = crate::load_reporting(args, |warning| tracing::warn!("{warning}"))?;
    let description = format!("{} certificates from {} store path(s)", store.len(), args.stores.len());
    Ok(OpenedStore::new(Box::new(store), description))
}

impl OpenedStore {
    fn new(store: Box<dyn CertificateStore>, description: String) -> Self {
        let io = StoreIo::of(&*store);
        Self { store, io, description }
    }
}

impl StoreIo {
    /// How to call `store`: a store whose contents are fixed holds them in
    /// memory ([`MemoryStore`](certexport::store::MemoryStore)); any other
    /// may be a database that others write to, whose calls wait on the
    /// network.
    fn of(store: &dyn CertificateStore) -> Self {
        if store.contents_are_fixed() {
            StoreIo::Memory
        } else {
            StoreIo::Blocking
        }
    }
}
