//! Building the chain from a certificate up to a root, from the store's
//! certificates only.
//!
//! A depth-first path search, in the manner of rustls-webpki's path
//! builder:
//!
//! - The issuer candidates of a certificate are the store's certificates
//!   whose subject equals its issuer (RFC 5280 §7.1 comparison), narrowed
//!   by key identifier when both the certificate's AKI and the candidate's
//!   SKI exist.
//! - Candidates are tried in order of preference: valid at the export time
//!   first, then the latest `notAfter`, then the lowest id (so the choice
//!   is deterministic). A candidate is taken only if its public key
//!   verifies the certificate's signature; the first one that leads to a
//!   root wins, so among verifying candidates the preferred one wins, and
//!   a candidate whose own path dead-ends gives way to the next (a
//!   cross-signed intermediate reaches a root by whichever copy can).
//! - The chain ends at a self-signed certificate: subject equal to issuer,
//!   and its own key verifies its signature.
//! - A certificate whose subject and public key are already on the path is
//!   never added again, so loops end. The depth limit and the [`Budget`]
//!   bound the work a hostile store can cause.

mod cache;
mod verify;

pub(crate) use cache::Caches;
use cache::TimeWindow;

use crate::certificate::CertificateView;
use crate::error::ExportError;
use crate::name::{self, NameKey};
use crate::store::Certificate;
use crate::store::CertificateStore;

use verify::Signature;

/// How chains are built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChainPolicy {
    /// The most issuers above the end-entity certificate (default 10).
    pub max_depth: usize,
    /// Limits on the work of one chain build.
    pub budget: Budget,
    /// What to do when no root can be reached.
    pub incomplete: IncompleteChains,
    /// Whether the root is part of the exported chain.
    pub root: RootCertificate,
}

impl Default for ChainPolicy {
    fn default() -> Self {
        Self {
            max_depth: 10,
            budget: Budget::default(),
            incomplete: IncompleteChains::Refuse,
            root: RootCertificate::Include,
        }
    }
}

/// What to do with a chain that cannot reach a root.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum IncompleteChains {
    /// Fail with [`ExportError::IncompleteChain`] (the default).
    #[default]
    Refuse,
    /// Export the chain as far as it goes.
    AllowPartial,
}

/// Whether the root certificate is exported with the chain.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RootCertificate {
    /// The chain ends with the root (the default).
    #[default]
    Include,
    /// The chain stops below the root, as TLS servers should send it. An
    /// end-entity certificate that is itself self-signed is still exported.
    Exclude,
}

/// Limits on the work of one chain build, so that a store crowded with
/// same-named CAs, or holding huge certificates, cannot make an export run
/// long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Budget {
    /// Signature verifications per build. 100, as rustls-webpki, which takes
    /// the figure from mozilla::pkix.
    pub signature_checks: usize,
    /// Issuer candidates examined per build (each is read from the store).
    /// 1,000: well above any real PKI, where a name has a handful of CA
    /// certificates (key rollovers, renewals, cross-signs).
    pub candidates: usize,
    /// Bytes of signed data (`TBSCertificate`s) that the signature checks
    /// of one build may cover. 16 MiB: a real chain's checks cover a few
    /// kilobytes, and 100 checks of a 1 MiB certificate (the largest a
    /// store loads by default) would hash 100 MiB.
    pub signed_bytes: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            signature_checks: 100,
            candidates: 1_000,
            signed_bytes: 16 << 20,
        }
    }
}

/// The chain of `leaf`, leaf first, as `policy` asks for it.
pub(crate) fn build<'s>(
    store: &'s dyn CertificateStore,
    leaf: Certificate<'s>,
    policy: &ChainPolicy,
    time: i64,
    caches: &Caches,
) -> Result<Vec<Certificate<'s>>, ExportError> {
    let fixed = store.contents_are_fixed();
    if fixed && let Some(chain) = remembered(store, &leaf, time, caches)? {
        return Ok(without_root(chain, policy));
    }
    let mut builder = Builder {
        store,
        policy,
        time,
        cache: &caches.signatures,
        window: TimeWindow::ALWAYS,
        signature_checks: 0,
        candidates: 0,
        signed_bytes: 0,
        dead_end: None,
    };
    let node = Node::leaf(leaf, time)?;
    let mut path = vec![node];
    let chain: Vec<Certificate<'s>> = match builder.extend(&mut path)? {
        Outcome::Root => path.into_iter().map(|n| n.certificate).collect(),
        Outcome::DeadEnd => {
            let Some((partial, error)) = builder.dead_end.take() else {
                // Every dead end is recorded where it is met; this only
                // keeps the function total.
                let leaf = &path[0].certificate;
                let missing_issuer = name::to_rfc4514(leaf.view()?.issuer).map_err(malformed(leaf))?;
                return Err(ExportError::IncompleteChain { missing_issuer });
            };
            match (policy.incomplete, &error) {
                (IncompleteChains::AllowPartial, ExportError::IncompleteChain { .. }) => return Ok(partial),
                _ => return Err(error),
            }
        }
    };
    if fixed {
        caches
            .chains
            .insert(chain.iter().map(|c| c.stored.id).collect(), builder.window);
    }
    Ok(without_root(chain, policy))
}

/// The chain remembered for `leaf` at `time`, fetched from the store.
fn remembered<'s>(
    store: &'s dyn CertificateStore,
    leaf: &Certificate<'s>,
    time: i64,
    caches: &Caches,
) -> Result<Option<Vec<Certificate<'s>>>, ExportError> {
    let Some(ids) = caches.chains.get(leaf.stored.id, time) else {
        return Ok(None);
    };
    let mut chain = vec![leaf.clone()];
    for &id in ids.iter().skip(1) {
        match store.certificate(id) {
            // Only the DER is written out: no field of it is read.
            Ok(Some(certificate)) => chain.push(Certificate::new(certificate)),
            // Gone, or no longer to be named by id: build the chain afresh.
            Ok(None) | Err(ExportError::UnstableId { .. }) => return Ok(None),
            Err(e) => return Err(e),
        }
    }
    Ok(Some(chain))
}

fn without_root<'s>(mut chain: Vec<Certificate<'s>>, policy: &ChainPolicy) -> Vec<Certificate<'s>> {
    if policy.root == RootCertificate::Exclude && chain.len() > 1 {
        chain.pop();
    }
    chain
}

/// A certificate on the path, with what the search compares.
struct Node<'s> {
    certificate: Certificate<'s>,
    /// SHA-256 of its DER: what the signature cache knows it by.
    digest: [u8; 32],
    subject: NameKey,
    valid_now: bool,
    not_after: i64,
}

impl<'s> Node<'s> {
    /// The node of the certificate the chain starts from.
    fn leaf(certificate: Certificate<'s>, time: i64) -> Result<Self, ExportError> {
        let subject = NameKey::from_der(certificate.view()?.subject).map_err(malformed(&certificate))?;
        Self::with_subject(certificate, subject, time)
    }

    /// The node of an issuer candidate, if its subject is `issuer` (RFC
    /// 5280 §7.1), which is `issuer_der` normalized: a store's index may
    /// return others. A subject encoded byte for byte as the issuer is
    /// equal without normalizing it, which most are.
    fn candidate(
        certificate: Certificate<'s>,
        issuer: &NameKey,
        issuer_der: &[u8],
        time: i64,
    ) -> Result<Option<Self>, ExportError> {
        let subject = certificate.view()?.subject;
        if subject != issuer_der && NameKey::from_der(subject).map_err(malformed(&certificate))? != *issuer {
            return Ok(None);
        }
        Self::with_subject(certificate, issuer.clone(), time).map(Some)
    }

    fn with_subject(certificate: Certificate<'s>, subject: NameKey, time: i64) -> Result<Self, ExportError> {
        let view = certificate.view()?;
        let valid_now = view.is_valid_at(time);
        let not_after = view.not_after;
        let digest = certificate.sha256();
        Ok(Self {
            certificate,
            digest,
            subject,
            valid_now,
            not_after,
        })
    }
}

enum Outcome {
    Root,
    DeadEnd,
}

struct Builder<'s, 'p> {
    store: &'s dyn CertificateStore,
    policy: &'p ChainPolicy,
    time: i64,
    cache: &'p cache::SignatureCache,
    /// The times at which every candidate looked at is as valid as now.
    window: TimeWindow,
    signature_checks: usize,
    candidates: usize,
    signed_bytes: usize,
    /// The first dead end met: the path so far and why it ended. The
    /// search meets the most preferred path's end first.
    dead_end: Option<(Vec<Certificate<'s>>, ExportError)>,
}

impl<'s> Builder<'s, '_> {
    fn extend(&mut self, path: &mut Vec<Node<'s>>) -> Result<Outcome, ExportError> {
        let Some(last) = path.last() else {
            return Ok(Outcome::DeadEnd);
        };
        // A handle on the certificate (a borrow for stores in memory), so the
        // path can grow while the view of it is in use.
        let certificate = last.certificate.clone();
        let digest = last.digest;
        let current = certificate.view()?;
        let issuer = NameKey::from_der(current.issuer).map_err(malformed(&certificate))?;
        if issuer == last.subject && self.verify(current.spki, digest, &current, digest)? == Signature::Valid {
            return Ok(Outcome::Root);
        }
        if path.len() > self.policy.max_depth {
            self.dead_end(
                path,
                ExportError::ChainTooLong {
                    limit: self.policy.max_depth,
                },
            );
            return Ok(Outcome::DeadEnd);
        }

        // The keys the path already holds under the issuer's name: a
        // candidate with one of them is on the path, and loops are not taken.
        let mut keys_on_path = Vec::new();
        for node in path.iter().filter(|n| n.subject == issuer) {
            keys_on_path.push(node.certificate.view()?.spki);
        }
        let mut candidates = Vec::new();
        for stored in self.store.issuer_candidates(&issuer, current.authority_key_id)? {
            self.candidates += 1;
            if self.candidates > self.policy.budget.candidates {
                return Err(ExportError::ChainBudgetExceeded {
                    what: "issuer candidates",
                    limit: self.policy.budget.candidates,
                });
            }
            let Some(node) = Node::candidate(Certificate::new(stored), &issuer, current.issuer, self.time)? else {
                continue;
            };
            let view = node.certificate.view()?;
            if !keys_on_path.contains(&view.spki) {
                // Its validity ranks it: the chain stands while that does not change.
                self.window.narrow(self.time, view.not_before, view.not_after);
                candidates.push(node);
            }
        }
        candidates.sort_by(|a, b| {
            b.valid_now
                .cmp(&a.valid_now)
                .then(b.not_after.cmp(&a.not_after))
                .then(a.certificate.stored.id.cmp(&b.certificate.stored.id))
        });

        // Same key, same answer: a renewed CA's copies cost one check.
        let mut checked: Vec<(Box<[u8]>, Signature)> = Vec::new();
        let mut any_verified = false;
        for node in candidates {
            let spki = node.certificate.view()?.spki;
            let signature = match checked.iter().find(|(key, _)| **key == *spki) {
                Some(&(_, s)) => s,
                None => {
                    let s = self.verify(spki, node.digest, &current, digest)?;
                    checked.push((spki.into(), s));
                    s
                }
            };
            if signature != Signature::Valid {
                continue;
            }
            any_verified = true;
            path.push(node);
            if let Outcome::Root = self.extend(path)? {
                return Ok(Outcome::Root);
            }
            path.pop();
        }
        if !any_verified {
            let missing_issuer = name::to_rfc4514(current.issuer).unwrap_or_else(|_| "(malformed name)".into());
            self.dead_end(path, ExportError::IncompleteChain { missing_issuer });
        }
        Ok(Outcome::DeadEnd)
    }

    /// Whether `issuer_spki` (of the certificate whose DER digest is
    /// `issuer`) verifies `certificate` (whose DER digest is `subject`).
    fn verify(
        &mut self,
        issuer_spki: &[u8],
        issuer: [u8; 32],
        certificate: &CertificateView<'_>,
        subject: [u8; 32],
    ) -> Result<Signature, ExportError> {
        self.signature_checks += 1;
        if self.signature_checks > self.policy.budget.signature_checks {
            return Err(ExportError::ChainBudgetExceeded {
                what: "signature checks",
                limit: self.policy.budget.signature_checks,
            });
        }
        // A remembered answer still counts against the budgets, so whether
        // a build succeeds never depends on what the cache holds.
        self.signed_bytes = self.signed_bytes.saturating_add(certificate.tbs.len());
        if self.signed_bytes > self.policy.budget.signed_bytes {
            return Err(ExportError::ChainBudgetExceeded {
                what: "bytes of signed data",
                limit: self.policy.budget.signed_bytes,
            });
        }
        if let Some(answer) = self.cache.get(subject, issuer) {
            return Ok(answer);
        }
        let answer = verify::check(issuer_spki, certificate);
        self.cache.insert(subject, issuer, answer);
        Ok(answer)
    }

    fn dead_end(&mut self, path: &[Node<'s>], error: ExportError) {
        if self.dead_end.is_none() {
            self.dead_end = Some((path.iter().map(|n| n.certificate.clone()).collect(), error));
        }
    }
}

fn malformed<'a>(certificate: &'a Certificate<'_>) -> impl Fn(der::Error) -> ExportError + 'a {
    ExportError::malformed(move || format!("CertID {}", certificate.stored.id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::CertId;
    use crate::store::{CertificateStore, MemoryStore};

    /// tests/data/renewed: copy 1 of the CA is valid 2015–2025, copy 2 from
    /// 2024 on; the leaf is id 3. A remembered chain must not outlive the
    /// validity it was chosen by.
    #[test]
    fn a_remembered_chain_holds_only_in_its_time_window() {
        let store = MemoryStore::from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/renewed")).unwrap();
        let caches = Caches::default();
        let chain_at = |time: i64| {
            let leaf = Certificate::new(store.certificate(CertId(3)).unwrap().unwrap());
            let chain = build(&store, leaf, &ChainPolicy::default(), time, &caches).unwrap();
            chain.iter().map(|c| c.stored.id.0).collect::<Vec<_>>()
        };
        let y2030 = 1_893_456_000;
        let y2020 = 1_577_836_800;
        for _ in 0..2 {
            assert_eq!(chain_at(y2030), [3, 2]);
            assert_eq!(chain_at(y2020), [3, 1]);
        }
    }
}
