//! What an exporter remembers between chain builds: signature checks and,
//! for stores whose contents are fixed, whole chains.
//!
//! Whether a public key verifies a certificate's signature is a fact of
//! the bytes involved (the key, the signed `TBSCertificate`, the algorithm
//! and the signature), so an exporter keeps the answers and a second export
//! of the same chain costs no verification. Entries are found by a keyed
//! hash and confirmed by comparing every byte, so a certificate crafted to
//! collide can never borrow another's answer. The cache holds at most
//! [`SignatureCache::CAPACITY`] answers and starts afresh when full.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::RwLock;

use super::verify::Signature;
use crate::CertId;
use crate::certificate::CertificateView;
use crate::hash::FoldHash;

/// The answers of earlier signature checks.
#[derive(Debug, Default)]
pub(crate) struct SignatureCache {
    entries: RwLock<HashMap<u64, Vec<Entry>>>,
    hasher: FoldHash,
}

#[derive(Debug)]
struct Entry {
    /// The key, algorithm, signature and signed bytes, one after the other.
    bytes: Box<[u8]>,
    lengths: [usize; 3],
    answer: Signature,
}

impl SignatureCache {
    /// At about 1.5 KB an answer, a few megabytes at most.
    pub(crate) const CAPACITY: usize = 4_096;

    /// The remembered answer for `spki` checking `certificate`.
    pub(crate) fn get(&self, spki: &[u8], certificate: &CertificateView<'_>) -> Option<Signature> {
        let parts = parts(spki, certificate);
        let key = self.key(&parts);
        let entries = self.entries.read().ok()?;
        entries.get(&key)?.iter().find(|e| e.matches(&parts)).map(|e| e.answer)
    }

    /// Remembers `answer`.
    pub(crate) fn insert(&self, spki: &[u8], certificate: &CertificateView<'_>, answer: Signature) {
        let parts = parts(spki, certificate);
        let key = self.key(&parts);
        let Ok(mut entries) = self.entries.write() else { return };
        if entries.len() >= Self::CAPACITY {
            entries.clear();
        }
        let bytes = parts.concat().into_boxed_slice();
        let lengths = [parts[0].len(), parts[1].len(), parts[2].len()];
        entries.entry(key).or_default().push(Entry { bytes, lengths, answer });
    }

    fn key(&self, parts: &[&[u8]; 4]) -> u64 {
        let mut hasher = self.hasher.build_hasher();
        for part in parts {
            hasher.write(part);
        }
        hasher.finish()
    }
}

impl Entry {
    fn matches(&self, parts: &[&[u8]; 4]) -> bool {
        let [a, b, c] = self.lengths;
        let stored = [
            &self.bytes[..a],
            &self.bytes[a..a + b],
            &self.bytes[a + b..a + b + c],
            &self.bytes[a + b + c..],
        ];
        stored == *parts
    }
}

fn parts<'a>(spki: &'a [u8], certificate: &CertificateView<'a>) -> [&'a [u8]; 4] {
    [
        spki,
        certificate.signature_algorithm,
        certificate.signature,
        certificate.tbs,
    ]
}

/// Chains already built, for stores whose contents are fixed
/// ([`CertificateStore::contents_are_fixed`](crate::CertificateStore::contents_are_fixed)).
///
/// A chain is chosen from signature checks (fixed facts) and from which
/// candidates are valid at the export time, so each remembered chain
/// carries the time window in which every candidate the search looked at
/// keeps its validity: inside it, the search would choose the same chain.
/// Only complete chains are remembered; at most [`ChainCache::CAPACITY`].
#[derive(Debug, Default)]
pub(crate) struct ChainCache {
    entries: RwLock<HashMap<CertId, Remembered>>,
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

    /// The remembered chain of `leaf` for `time`.
    pub(crate) fn get(&self, leaf: CertId, time: i64) -> Option<Vec<CertId>> {
        let entries = self.entries.read().ok()?;
        let remembered = entries.get(&leaf)?;
        (remembered.window.from <= time && time <= remembered.window.until).then(|| remembered.ids.clone())
    }

    /// Remembers the chain `ids` of its first certificate.
    pub(crate) fn insert(&self, ids: Vec<CertId>, window: TimeWindow) {
        let Some(&leaf) = ids.first() else { return };
        let Ok(mut entries) = self.entries.write() else { return };
        if entries.len() >= Self::CAPACITY {
            entries.clear();
        }
        entries.insert(leaf, Remembered { ids, window });
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
}
