//! A small pool of database connections, each with the store's statements
//! prepared on it.
//!
//! Own code rather than r2d2: r2d2's newest release pulls `parking_lot`
//! 0.13, which needs a newer Rust than this crate's `rust-version`, its
//! pooled type cannot carry per-connection prepared statements without a
//! wrapper anyway, and it keeps a thread pool of its own. This pool opens
//! connections when they are first needed, up to a maximum, hands out idle
//! ones last-in first-out, and drops a connection whose socket has closed.

use std::ops::{Deref, DerefMut};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::PgStoreError;
use super::queries::Statements;
use crate::error::ExportError;

/// A connection and the statements prepared on it.
pub(super) struct Connection {
    pub(super) client: postgres::Client,
    pub(super) statements: Statements,
}

pub(super) struct Pool {
    config: postgres::Config,
    size: usize,
    wait: Duration,
    state: Mutex<State>,
    returned: Condvar,
}

struct State {
    idle: Vec<Connection>,
    /// Connections handed out, idle, or being opened.
    open: usize,
    /// Callers waiting for a connection (none: returning one wakes nobody,
    /// and costs no system call).
    waiting: usize,
}

/// A connection on loan; it goes back to the pool when dropped.
pub(super) struct Pooled<'p> {
    pool: &'p Pool,
    connection: Option<Connection>,
    /// Whether it had served before (and so may have gone stale).
    pub(super) reused: bool,
}

impl Pool {
    /// A pool of at most `size` connections (at least one) to `config`,
    /// whose callers wait at most `wait` for a free one.
    pub(super) fn new(config: postgres::Config, size: usize, wait: Duration) -> Self {
        Self {
            config,
            size: size.max(1),
            wait,
            state: Mutex::new(State {
                idle: Vec::new(),
                open: 0,
                waiting: 0,
            }),
            returned: Condvar::new(),
        }
    }

    /// Opens a plain client (no statements prepared), outside the pool. A
    /// server that cannot be reached is [`ExportError::StoreUnavailable`].
    pub(super) fn connect(&self) -> Result<postgres::Client, ExportError> {
        self.config.connect(postgres::NoTls).map_err(|e| {
            let class = e.code().map(|code| &code.code()[..2]);
            if matches!(class, Some("28" | "3D")) {
                // The server answered and refused (a bad password, no such
                // database): a configuration error, not an outage. (A
                // server starting up or full answers 57P03 or 53300.)
                ExportError::backend(e)
            } else {
                ExportError::store_unavailable(e)
            }
        })
    }

    /// An idle connection, a new one if the pool has room, or the first
    /// one returned within the wait.
    pub(super) fn get(&self) -> Result<Pooled<'_>, ExportError> {
        let deadline = Instant::now() + self.wait;
        let mut state = self.lock();
        loop {
            if let Some(connection) = state.idle.pop() {
                return Ok(self.pooled(connection, true));
            }
            if state.open < self.size {
                state.open += 1;
                drop(state);
                return match self.open() {
                    Ok(connection) => Ok(self.pooled(connection, false)),
                    Err(e) => {
                        let mut state = self.lock();
                        state.open -= 1;
                        self.wake_one(state);
                        Err(e)
                    }
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(ExportError::store_unavailable(PgStoreError::PoolTimeout {
                    size: self.size,
                    waited: self.wait,
                }));
            }
            state.waiting += 1;
            state = match self.returned.wait_timeout(state, deadline - now) {
                Ok((state, _)) => state,
                Err(poisoned) => poisoned.into_inner().0,
            };
            state.waiting -= 1;
        }
    }

    /// Closes every idle connection: after one was found dead (a server
    /// restart), the others most likely are too.
    pub(super) fn discard_idle(&self) {
        let mut state = self.lock();
        let dropped = std::mem::take(&mut state.idle);
        state.open -= dropped.len();
        let waiting = state.waiting > 0;
        drop(state);
        // Closed outside the lock: closing may wait on the network.
        drop(dropped);
        if waiting {
            self.returned.notify_all();
        }
    }

    fn open(&self) -> Result<Connection, ExportError> {
        let mut client = self.connect()?;
        let statements = Statements::prepare(&mut client).map_err(ExportError::store_unavailable)?;
        Ok(Connection { client, statements })
    }

    /// Releases `state`, waking one waiting caller if there is one.
    fn wake_one(&self, state: MutexGuard<'_, State>) {
        let waiting = state.waiting > 0;
        drop(state);
        if waiting {
            self.returned.notify_one();
        }
    }

    fn pooled(&self, connection: Connection, reused: bool) -> Pooled<'_> {
        Pooled {
            pool: self,
            connection: Some(connection),
            reused,
        }
    }

    /// The state, even if a thread panicked holding it (it stays consistent:
    /// every change is one statement).
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Deref for Pooled<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.connection.as_ref().expect("present until dropped")
    }
}

impl DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.connection.as_mut().expect("present until dropped")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let Some(connection) = self.connection.take() else {
            return;
        };
        let mut state = self.pool.lock();
        if connection.client.is_closed() {
            state.open -= 1;
            // Closed outside the lock.
            self.pool.wake_one(state);
            drop(connection);
        } else {
            state.idle.push(connection);
            self.pool.wake_one(state);
        }
    }
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("Pool")
            .field("size", &self.size)
            .field("open", &state.open)
            .field("idle", &state.idle.len())
            .finish_non_exhaustive()
    }
}
