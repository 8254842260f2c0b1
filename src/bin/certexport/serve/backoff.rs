//! Back-off on failed logins, per peer and per caller name, so that
//! passwords cannot be guessed at the speed of argon2:
//!
//! - A peer (an IPv4 address or an IPv6 /64) has [`PEER_FREE_FAILURES`]
//!   failed authentications free; a name [`NAME_FREE_FAILURES`] failed
//!   passwords (known and unknown names alike, so the answer does not tell
//!   which names exist).
//! - Each failure past those shuts the peer or the name out for 1 s, then
//!   2, 4, 8 … at most [`MAX_BLOCK`]; while shut out, a login is answered
//!   429 with `Retry-After`, before any password work — a right password
//!   too (a guess must not be checked, and a cached password is no
//!   exception).
//! - A right password clears its name's failures (not its peer's: an
//!   attacker holding one account must not wipe their own record). A
//!   record is forgotten [`FORGET_AFTER`] after its last failure.
//! - Each table holds at most [`MAX_ENTRIES`] records; when full, the
//!   forgotten ones go first, then the table starts over.
//!
//! A name shut out stays shut for its own caller too: a caller who must
//! keep working under attack uses a token (Bearer), which no name guess
//! can shut out.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// Failed authentications a peer has before it is shut out.
pub(crate) const PEER_FREE_FAILURES: u32 = 20;

/// Failed passwords a name has before it is shut out.
pub(crate) const NAME_FREE_FAILURES: u32 = 10;

/// The longest shut-out.
pub(crate) const MAX_BLOCK: Duration = Duration::from_secs(60);

/// A record is forgotten this long after its last failure.
pub(crate) const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);

/// The most records of each table.
pub(crate) const MAX_ENTRIES: usize = 65_536;

/// Failures of one peer or name.
#[derive(Clone, Copy)]
struct Record {
    failures: u32,
    last: Instant,
    blocked_until: Option<Instant>,
}

struct Table<K> {
    free: u32,
    records: Mutex<HashMap<K, Record>>,
}

impl<K: Hash + Eq> Table<K> {
    fn new(free: u32) -> Self {
        Self {
            free,
            records: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Record>> {
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How long `key` is still shut out.
    fn blocked(&self, key: &K, now: Instant) -> Option<Duration> {
        let until = self.lock().get(key)?.blocked_until?;
        (until > now).then(|| until - now)
    }

    fn fail(&self, key: K, now: Instant) {
        let mut records = self.lock();
        if records.len() >= MAX_ENTRIES && !records.contains_key(&key) {
            records.retain(|_, r| now.duration_since(r.last) < FORGET_AFTER);
            if records.len() >= MAX_ENTRIES {
                records.clear();
            }
        }
        let record = records.entry(key).or_insert(Record {
            failures: 0,
            last: now,
            blocked_until: None,
        });
        if now.duration_since(record.last) >= FORGET_AFTER {
            record.failures = 0;
        }
        record.failures = record.failures.saturating_add(1);
        record.last = now;
        if record.failures > self.free {
            record.blocked_until = Some(now + block_for(record.failures - self.free));
        }
    }

    fn clear(&self, key: &K) {
        self.lock().remove(key);
    }
}

/// The shut-out after the `excess`-th failure past the free ones.
fn block_for(excess: u32) -> Duration {
    let seconds = 1u64 << excess.saturating_sub(1).min(16);
    Duration::from_secs(seconds).min(MAX_BLOCK)
}

/// The back-off tables of a server.
pub(crate) struct Backoff {
    peers: Table<IpAddr>,
    names: Table<[u8; 32]>,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            peers: Table::new(PEER_FREE_FAILURES),
            names: Table::new(NAME_FREE_FAILURES),
        }
    }
}

impl Backoff {
    /// How long a login from `peer` (as `name`, for a password) must
    /// still wait, if it must.
    pub(crate) fn wait(&self, peer: IpAddr, name: Option<&str>) -> Option<Duration> {
        let now = Instant::now();
        let peer = self.peers.blocked(&super::connections::peer_key(peer), now);
        let name = name.and_then(|name| self.names.blocked(&name_key(name), now));
        peer.max(name)
    }

    /// A login from `peer` (as `name`, for a password) failed.
    pub(crate) fn failed(&self, peer: IpAddr, name: Option<&str>) {
        let now = Instant::now();
        self.peers.fail(super::connections::peer_key(peer), now);
        if let Some(name) = name {
            self.names.fail(name_key(name), now);
        }
    }

    /// `name`'s password was right.
    pub(crate) fn succeeded(&self, name: &str) {
        self.names.clear(&name_key(name));
    }
}

/// Names are kept as digests: a table of attacker-chosen names costs 32
/// bytes an entry whatever their length.
fn name_key(name: &str) -> [u8; 32] {
    Sha256::digest(name.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    #[test]
    fn shuts_out_after_the_free_failures_doubling_to_the_cap() {
        assert_eq!(
            (1..=8).map(|n| block_for(n).as_secs()).collect::<Vec<_>>(),
            [1, 2, 4, 8, 16, 32, 60, 60]
        );
        let backoff = Backoff::default();
        let peer = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        for _ in 0..NAME_FREE_FAILURES {
            assert_eq!(backoff.wait(peer, Some("alice")), None);
            backoff.failed(peer, Some("alice"));
        }
        assert_eq!(backoff.wait(peer, Some("alice")), None);
        backoff.failed(peer, Some("alice"));
        let wait = backoff.wait(peer, Some("alice")).unwrap();
        assert!(wait <= Duration::from_secs(1) && wait > Duration::ZERO);
        // Another name from the same peer is not shut out yet; the name is
        // shut out from every peer; a success clears the name.
        assert_eq!(backoff.wait(peer, Some("bob")), None);
        let other = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
        assert!(backoff.wait(other, Some("alice")).is_some());
        backoff.succeeded("alice");
        assert_eq!(backoff.wait(other, Some("alice")), None);
        // The peer's own record (11 failures so far) stays.
        for _ in NAME_FREE_FAILURES + 2..=PEER_FREE_FAILURES {
            backoff.failed(peer, None);
        }
        assert_eq!(backoff.wait(peer, None), None);
        backoff.failed(peer, None);
        assert!(backoff.wait(peer, Some("carol")).is_some());
    }

    #[test]
    fn the_tables_stay_bounded() {
        let table = Table::new(1);
        let now = Instant::now();
        for i in 0..MAX_ENTRIES as u32 + 10 {
            table.fail(i, now);
        }
        assert!(table.lock().len() <= MAX_ENTRIES);
    }
}
