//! How many connections the server holds: at most `--max-connections` in
//! all and `--max-connections-per-peer` from one peer (an IPv4 address, or
//! an IPv6 /64, the block one client usually has). A connection over either
//! cap is closed right after it is accepted, before its TLS handshake, and
//! counted in `/metrics`; the connections already open keep being served.
//!
//! Descriptors: at start the soft `RLIMIT_NOFILE` is raised to the hard
//! one, and `--max-connections` is lowered, with a warning, to what the
//! limit leaves after [`RESERVED_DESCRIPTORS`] (listening socket, store
//! files, database connections, the log), so the server never meets
//! "Too many open files" on `accept`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// Descriptors kept for everything but client connections.
pub(crate) const RESERVED_DESCRIPTORS: u64 = 64;

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The server holds `--max-connections` connections.
    ServerFull,
    /// The peer holds `--max-connections-per-peer` connections.
    PeerFull,
}

impl Refusal {
    /// The label of `/metrics`.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Refusal::ServerFull => "server_full",
            Refusal::PeerFull => "peer_full",
        }
    }
}

/// The open connections, by peer.
pub(crate) struct Connections {
    max: usize,
    per_peer: usize,
    open: Mutex<Open>,
    closed_last: Notify,
}

#[derive(Default)]
struct Open {
    total: usize,
    by_peer: HashMap<IpAddr, usize>,
}

/// One admitted connection; dropping it frees its place.
pub(crate) struct Admitted {
    connections: Arc<Connections>,
    peer: IpAddr,
}

impl Connections {
    /// At most `max` connections, `per_peer` of them from one peer.
    pub(crate) fn new(max: usize, per_peer: usize) -> Arc<Self> {
        Arc::new(Self {
            max: max.max(1),
            per_peer: per_peer.max(1),
            open: Mutex::new(Open::default()),
            closed_last: Notify::new(),
        })
    }

    /// A place for a connection from `peer`, if both caps allow one.
    pub(crate) fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<Admitted, Refusal> {
        let peer = peer_key(peer);
        let mut open = self.lock();
        if open.total >= self.max {
            return Err(Refusal::ServerFull);
        }
        let from_peer = open.by_peer.entry(peer).or_default();
        if *from_peer >= self.per_peer {
            return Err(Refusal::PeerFull);
        }
        *from_peer += 1;
        open.total += 1;
        Ok(Admitted {
            connections: Arc::clone(self),
            peer,
        })
    }

    /// How many connections are open.
    pub(crate) fn open(&self) -> usize {
        self.lock().total
    }

    /// Waits until no connection is open.
    pub(crate) async fn all_closed(&self) {
        loop {
            let closed = self.closed_last.notified();
            if self.open() == 0 {
                return;
            }
            closed.await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self.connections.lock();
        open.total = open.total.saturating_sub(1);
        if let Some(count) = open.by_peer.get_mut(&self.peer) {
            *count -= 1;
            if *count == 0 {
                open.by_peer.remove(&self.peer);
            }
        }
        if open.total == 0 {
            self.connections.closed_last.notify_waiters();
        }
    }
}

/// The peer a connection counts against: an IPv4 address (an IPv4-mapped
/// IPv6 address as IPv4), or the /64 of an IPv6 address.
pub(crate) fn peer_key(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

/// Raises the soft descriptor limit to the hard one, says so in the log,
/// and gives the connection cap the limit allows for `wanted` (and the
/// `store_descriptors` the store holds open).
pub(crate) fn descriptor_budget(wanted: usize, store_descriptors: usize) -> usize {
    let before = rlimit::getrlimit(rlimit::Resource::NOFILE);
    let limit = match (before, rlimit::increase_nofile_limit(u64::MAX)) {
        (Ok((soft, hard)), Ok(now)) if now > soft => {
            tracing::info!(from = soft, to = now, hard, "descriptor limit raised");
            now
        }
        (Ok((soft, hard)), Ok(_)) => {
            tracing::info!(limit = soft, hard, "descriptor limit (already the hard limit)");
            soft
        }
        (_, Err(e)) | (Err(e), _) => {
            tracing::warn!("descriptor limit not read or raised: {e}; connections stay capped by the flags");
            return wanted;
        }
    };
    let reserved = RESERVED_DESCRIPTORS + store_descriptors as u64;
    let allowed = usize::try_from(limit.saturating_sub(reserved))
        .unwrap_or(usize::MAX)
        .max(1);
    if allowed < wanted {
        tracing::warn!(
            descriptors = limit,
            max_connections = allowed,
            "--max-connections {wanted} lowered to what the descriptor limit allows ({reserved} kept for the store and the server)"
        );
        allowed
    } else {
        wanted
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;

    #[test]
    fn caps_in_all_and_per_peer_and_frees_on_drop() {
        let connections = Connections::new(3, 2);
        let a = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let b = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        let first = connections.admit(a).unwrap();
        let _second = connections.admit(a).unwrap();
        assert_eq!(connections.admit(a).err(), Some(Refusal::PeerFull));
        let _third = connections.admit(b).unwrap();
        assert_eq!(connections.admit(b).err(), Some(Refusal::ServerFull));
        drop(first);
        assert_eq!(connections.open(), 2);
        assert!(connections.admit(a).is_ok());
    }

    #[test]
    fn an_ipv6_peer_is_its_64_and_mapped_ipv4_is_ipv4() {
        let one: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let other: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(peer_key(one), peer_key(other));
        assert_ne!(peer_key(one), peer_key("2001:db8:1:3::1".parse().unwrap()));
        let mapped = IpAddr::V6(Ipv4Addr::new(127, 0, 0, 1).to_ipv6_mapped());
        assert_eq!(peer_key(mapped), IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(
            peer_key(IpAddr::V6(Ipv6Addr::LOCALHOST)),
            "::".parse::<IpAddr>().unwrap()
        );
    }
}
