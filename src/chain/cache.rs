//! Remembered signature checks.
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
