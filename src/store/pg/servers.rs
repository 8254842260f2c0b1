//! Which server a query goes to: the primary, or a read replica.
//!
//! Writes (import, migrate, KEK rotation, listing) always use the primary.
//! Reads — every lookup, chain step and key read of the trait, and any
//! read-only query a [`PgStore`](super::PgStore) adds — go through
//! [`Servers::read`]: to the replicas in turn (round robin), and to the
//! primary when there are none or none answers.
//!
//! A replica that cannot be reached (refused connection, a server shutting
//! down, a connection lost) is skipped for [`REPLICA_RETRY`] and then
//! tried again, so one that comes back takes its share again without a
//! restart. Any other error (a query that fails on the replica itself)
//! is the answer: it would fail on the primary too.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::pool::{Connection, Pool};
use crate::error::{BackendError, ExportError};

/// How long a replica that could not be reached is left alone.
pub(super) const REPLICA_RETRY: Duration = Duration::from_secs(2);

pub(super) struct Servers {
    primary: Pool,
    replicas: Vec<Replica>,
    /// Where the next read starts among the replicas.
    next: AtomicUsize,
}

struct Replica {
    pool: Pool,
    /// Until when it is skipped, after it could not be reached.
    skipped_until: Mutex<Option<Instant>>,
}

impl Servers {
    pub(super) fn new(primary: Pool) -> Self {
        Self {
            primary,
            replicas: Vec::new(),
            next: AtomicUsize::new(0),
        }
    }

    /// Adds a read replica (connected when first used).
    pub(super) fn add_replica(&mut self, pool: Pool) {
        self.replicas.push(Replica {
            pool,
            skipped_until: Mutex::new(None),
        });
    }

    /// The primary, for writes.
    pub(super) fn primary(&self) -> &Pool {
        &self.primary
    }

    /// Runs the read-only `query` on a replica that answers, else on the
    /// primary.
    pub(super) fn read<T>(&self, query: impl Fn(&mut Connection) -> Result<T, ExportError>) -> Result<T, ExportError> {
        let count = self.replicas.len();
        if count > 0 {
            let start = self.next.fetch_add(1, Ordering::Relaxed);
            for offset in 0..count {
                let replica = &self.replicas[(start + offset) % count];
                if replica.skipped() {
                    continue;
                }
                match run(&replica.pool, &query) {
                    Err(ExportError::StoreUnavailable(_)) => replica.skip(),
                    answered => return answered,
                }
            }
        }
        run(&self.primary, &query)
    }
}

impl Replica {
    fn skipped(&self) -> bool {
        let mut until = self.lock();
        match *until {
            Some(at) if Instant::now() < at => true,
            Some(_) => {
                *until = None;
                false
            }
            None => false,
        }
    }

    fn skip(&self) {
        *self.lock() = Some(Instant::now() + REPLICA_RETRY);
        // Its other connections are most likely dead too.
        self.pool.discard_idle();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.skipped_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Runs `query` on a connection of `pool`. A connection that served
/// before and turns out closed (the server restarted) is replaced, with
/// the other idle ones, and the query runs once more: it only reads. A
/// connection lost on the second try too is [`ExportError::StoreUnavailable`].
fn run<T>(pool: &Pool, query: &impl Fn(&mut Connection) -> Result<T, ExportError>) -> Result<T, ExportError> {
    let mut connection = pool.get()?;
    let result = match query(&mut connection) {
        Err(ExportError::Backend(e)) if connection.reused && (connection.client.is_closed() || connection_lost(&e)) => {
            drop(connection);
            pool.discard_idle();
            query(&mut *pool.get()?)
        }
        result => result,
    };
    result.map_err(|e| match e {
        ExportError::Backend(backend) if connection_lost(&backend) => ExportError::StoreUnavailable(backend),
        other => other,
    })
}

/// Whether `error` says the connection is gone: closed, broken (an I/O
/// error), or ended by the server (SQLSTATE class 57P: shutdown, crash,
/// termination by an operator, a server still starting; class 08:
/// connection exceptions).
fn connection_lost(error: &BackendError) -> bool {
    error.get_ref().downcast_ref::<postgres::Error>().is_some_and(|e| {
        e.is_closed()
            || std::error::Error::source(e).is_some_and(|source| source.is::<std::io::Error>())
            || e.code()
                .is_some_and(|code| code.code().starts_with("57P") || code.code().starts_with("08"))
    })
}

impl std::fmt::Debug for Servers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Servers")
            .field("primary", &self.primary)
            .field("replicas", &self.replicas.iter().map(|r| &r.pool).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}
