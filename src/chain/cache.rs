//! What an exporter remembers between chain builds: signature checks and,
//! for stores whose contents are fixed, whole chains.
//!
//! Whether a public key verifies a certificate's signature is a fact of
//! the bytes involved, so an exporter keeps the answers and a second export
//! of the same chain costs no verification. An answer is keyed by the
//! SHA-256 digests of the certificate checked and of the issuer certificate
//! whose key checked it — 64 bytes that stand for exactly those bytes (a
//! certificate crafted to collide would need a SHA-256 collision) — so the
//! cache holds digests, never copies, whatever the certificates' size. It
//! holds at most [`SignatureCache::CAPACITY`] answers and starts afresh
//! when full.

use std::collections::HashMap;
use std::sync::RwLock;

use super::verify::Signature;
use crate::ids::{CertId, DigestKey};
use foldhash::fast::RandomState as FoldHash;

/// The SHA-256 digests of a certificate and of the issuer certificate
/// whose key checked its signature.
type CheckedPair = (DigestKey<32>, DigestKey<32>);

/// The answers of earlier signature checks.
#[derive(Debug, Default)]
pub(crate) struct SignatureCache {
    entries: RwLock<HashMap<CheckedPair, Signature, FoldHash>>,
}

impl SignatureCache {
    /// About 100 bytes an answer: 1.6 MB at most.
    pub(crate) const CAPACITY: usize = 16_384;

    /// The remembered answer for the issuer certificate with digest
    /// `issuer` checking the certificate with digest `subject`.
    pub(crate) fn get(&self, subject: [u8; 32], issuer: [u8; 32]) -> Option<Signature> {
        self.entries
            .read()
            .ok()?
            .get(&(DigestKey(subject), DigestKey(issuer)))
            .copied()
    }

    /// Remembers `answer`.
    pub(crate) fn insert(&self, subject: [u8; 32], issuer: [u8; 32], answer: Signature) {
        let Ok(mut entries) = self.entries.write() else { return };
        if entries.len() >= Self::CAPACITY {
            entries.clear();
        }
        entries.insert((DigestKey(subject), DigestKey(issuer)), answer);
    }
}

/// Chains already built, for stores whose contents are fixed
/// ([`CertificateStore::contents_are_fixed`](crate::CertificateStore::contents_are_fixed))
/// or tell their version
/// ([`CertificateStore::contents_version`](crate::CertificateStore::contents_version)):
/// the entries hold for one version, and one of another empties them.
///
/// A chain is chosen from signature checks (fixed facts) and from which
/// candidates are valid at the export time, so each remembered chain
/// carries the time window in which every candidate the search looked at
/// keeps its validity: inside it, the search would choose the same chain.
/// Only complete chains are remembered; at most [`ChainCache::CAPACITY`].
#[derive(Debug, Default)]
pub(crate) struct ChainCache {
    entries: RwLock<Versioned>,
}

#[derive(Debug, Default)]
struct Versioned {
    /// The store contents' version the entries were built from.
    version: u64,
    entries: HashMap<CertId, Remembered, FoldHash>,
}

#[derive(Debug)]
struct Remembered {
    /// The chain's ids, end-entity first, root included.
    ids: Vec<CertId>,
    window: TimeWindow,
}

/// The times, inclusive, in which a chain choice stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimeWindow {
    pub(crate) from: i64,
    pub(crate) until: i64,
}

impl TimeWindow {
    pub(crate) const ALWAYS: TimeWindow = TimeWindow {
        from: i64::MIN,
        until: i64::MAX,
    };

    /// Narrows the window to the times at which a certificate valid from
    /// `not_before` to `not_after` is as valid (or not) as at `time`.
    pub(crate) fn narrow(&mut self, time: i64, not_before: i64, not_after: i64) {
        if time < not_before {
            self.until = self.until.min(not_before - 1);
        } else if time > not_after {
            self.from = self.from.max(not_after.saturating_add(1));
        } else {
            self.from = self.from.max(not_before);
            self.until = self.until.min(not_after);
        }
    }
}

impl ChainCache {
    /// Chains remembered at most.
    pub(crate) const CAPACITY: usize = 65_536;

    /// The remembered chain of `leaf` for `time`, over contents at `version`.
    pub(crate) fn get(&self, leaf: CertId, time: i64, version: u64) -> Option<Vec<CertId>> {
        let versioned = self.entries.read().ok()?;
        if versioned.version != version {
            return None;
        }
        let remembered = versioned.entries.get(&leaf)?;
        (remembered.window.from <= time && time <= remembered.window.until).then(|| remembered.ids.clone())
    }

    /// Remembers the chain `ids` of its first certificate, built from
    /// contents at `version`.
    pub(crate) fn insert(&self, ids: Vec<CertId>, window: TimeWindow, version: u64) {
        let Some(&leaf) = ids.first() else { return };
        let Ok(mut versioned) = self.entries.write() else {
            return;
        };
        if versioned.version != version || versioned.entries.len() >= Self::CAPACITY {
            versioned.entries.clear();
            versioned.version = version;
        }
        versioned.entries.insert(leaf, Remembered { ids, window });
    }
}

/// What an exporter remembers between chain builds.
#[derive(Debug, Default)]
pub(crate) struct Caches {
    pub(crate) signatures: SignatureCache,
    pub(crate) chains: ChainCache,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_keeps_each_validity_as_it_was() {
        let mut window = TimeWindow::ALWAYS;
        window.narrow(100, 50, 200); // valid: stays valid from 50 to 200
        window.narrow(100, 150, 300); // not yet valid: until 149
        window.narrow(100, 0, 80); // expired: from 81
        assert_eq!(window, TimeWindow { from: 81, until: 149 });
    }

    #[test]
    fn chains_hold_for_the_version_they_were_built_from() {
        let cache = ChainCache::default();
        cache.insert(vec![CertId(3), CertId(2)], TimeWindow::ALWAYS, 7);
        assert_eq!(cache.get(CertId(3), 0, 7), Some(vec![CertId(3), CertId(2)]));
        assert_eq!(cache.get(CertId(3), 0, 8), None, "contents changed since");
        cache.insert(vec![CertId(4), CertId(2)], TimeWindow::ALWAYS, 8);
        assert_eq!(cache.get(CertId(3), 0, 7), None, "forgotten with the old version");
        assert_eq!(cache.get(CertId(4), 0, 8), Some(vec![CertId(4), CertId(2)]));
    }
}
