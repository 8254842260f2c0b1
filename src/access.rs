//! Who may export what: the reference API's permission strings (claims),
//! the collection and container scopes, and key policies.
//!
//! The check runs in two steps around the lookup. Before anything is read
//! for the caller, the claim check decides from the claims and the request's
//! scope alone whether the caller may export anything at all in that scope,
//! and whether a membership check is still owed. After the lookup, the
//! certificate's membership (and, for keys, its key policy) is checked. A
//! caller without system-wide rights gets [`ExportError::AccessDenied`]
//! both for a certificate that is not theirs and for one that does not
//! exist, so a denial never tells whether a certificate exists. The one
//! other refusal, [`ExportError::ScopeRequired`], comes from the claims and
//! the request alone (scoped claims, no scope named), before any lookup.

use std::fmt;
use std::str::FromStr;

use crate::error::ExportError;
use crate::lookup::Miss;
use crate::store::{CertMetadata, KeyAccess, KeyPolicy};

/// One permission a caller holds (the reference API's claim strings).
///
/// ```
/// use certexport::Claim;
///
/// let claim: Claim = "/certificates/collections/read/5/".parse()?;
/// assert_eq!(claim, Claim::ReadCollection(5));
/// assert_eq!(claim.to_string(), "/certificates/collections/read/5/");
/// # Ok::<(), certexport::ExportError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Claim {
    /// `/certificates/collections/read/`: every certificate.
    ReadAllCollections,
    /// `/certificates/collections/read/<id>/`: one collection.
    ReadCollection(u64),
    /// `/certificate_stores/read/`: every certificate store.
    ReadAllStores,
    /// `/certificate_stores/read/<id>/`: one store container.
    ReadStoreContainer(u64),
    /// `/certificates/collections/private_key/read/`: every private key.
    ReadAllPrivateKeys,
    /// `/certificates/collections/private_key/read/<id>/`: the keys of one collection.
    ReadCollectionPrivateKeys(u64),
}

impl FromStr for Claim {
    type Err = ExportError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |reason: &'static str| ExportError::InvalidClaim {
            input: crate::error::shown(input),
            reason,
        };
        let text = input.trim();
        let inner = text
            .strip_prefix('/')
            .and_then(|t| t.strip_suffix('/'))
            .ok_or_else(|| err("a claim starts and ends with '/'"))?;
        let parts: Vec<&str> = inner.split('/').collect();
        let id = |s: &str| -> Result<u64, ExportError> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err("the id must be a non-negative integer"));
            }
            s.parse().map_err(|_| err("the id is too large"))
        };
        match parts.as_slice() {
            ["certificates", "collections", "read"] => Ok(Claim::ReadAllCollections),
            ["certificates", "collections", "read", n] => Ok(Claim::ReadCollection(id(n)?)),
            ["certificate_stores", "read"] => Ok(Claim::ReadAllStores),
            ["certificate_stores", "read", n] => Ok(Claim::ReadStoreContainer(id(n)?)),
            ["certificates", "collections", "private_key", "read"] => Ok(Claim::ReadAllPrivateKeys),
            ["certificates", "collections", "private_key", "read", n] => Ok(Claim::ReadCollectionPrivateKeys(id(n)?)),
            _ => Err(err("not a known permission (/certificates/collections/read/[<id>/], \
                 /certificate_stores/read/[<id>/], /certificates/collections/private_key/read/[<id>/])")),
        }
    }
}

impl fmt::Display for Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Claim::ReadAllCollections => write!(f, "/certificates/collections/read/"),
            Claim::ReadCollection(id) => write!(f, "/certificates/collections/read/{id}/"),
            Claim::ReadAllStores => write!(f, "/certificate_stores/read/"),
            Claim::ReadStoreContainer(id) => write!(f, "/certificate_stores/read/{id}/"),
            Claim::ReadAllPrivateKeys => write!(f, "/certificates/collections/private_key/read/"),
            Claim::ReadCollectionPrivateKeys(id) => write!(f, "/certificates/collections/private_key/read/{id}/"),
        }
    }
}

/// Who is exporting: the claims they hold.
///
/// There is no default caller: every export names one. A program that
/// serves one tenant and checks rights elsewhere uses
/// [`Caller::single_tenant_full_access`], which says so where it is called.
///
/// ```
/// use certexport::{Caller, Claim};
///
/// // Read and key rights for collection 5 only: requests must name it
/// // (`Scope::collection(5)`).
/// let caller = Caller::from_claim_lines(
///     "/certificates/collections/read/5/\n/certificates/collections/private_key/read/5/\n",
/// )?;
/// assert_eq!(caller.claims(), [Claim::ReadCollection(5), Claim::ReadCollectionPrivateKeys(5)]);
/// # Ok::<(), certexport::ExportError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    claims: Vec<Claim>,
}

impl Caller {
    /// A caller holding `claims`.
    pub fn with_claims(claims: impl IntoIterator<Item = Claim>) -> Self {
        Self {
            claims: claims.into_iter().collect(),
        }
    }

    /// A caller from claim strings, one per line; blank lines and lines
    /// starting with `#` are skipped. A malformed line is an error.
    pub fn from_claim_lines(text: &str) -> Result<Self, ExportError> {
        let claims = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::parse)
            .collect::<Result<_, _>>()?;
        Ok(Self { claims })
    }

    /// Every system-wide claim: for a program that serves a single tenant
    /// and has checked rights before calling. (The command line runs as
    /// this caller without `--claims`.)
    pub fn single_tenant_full_access() -> Self {
        Self::with_claims([
            Claim::ReadAllCollections,
            Claim::ReadAllStores,
            Claim::ReadAllPrivateKeys,
        ])
    }

    /// The claims held.
    pub fn claims(&self) -> &[Claim] {
        &self.claims
    }

    fn holds(&self, claim: Claim) -> bool {
        self.claims.contains(&claim)
    }

    /// [`ExportError::ScopeRequired`] when this caller holds scoped claims
    /// (read claims, or with `key` private-key claims) that a request
    /// without a scope leaves unused; `None` when it holds none.
    fn scope_required(&self, key: bool) -> Option<ExportError> {
        let mut collections = Vec::new();
        let mut containers = Vec::new();
        for claim in &self.claims {
            match *claim {
                Claim::ReadCollection(c) if !key => collections.push(c),
                Claim::ReadStoreContainer(k) if !key => containers.push(k),
                Claim::ReadCollectionPrivateKeys(c) if key => collections.push(c),
                _ => {}
            }
        }
        collections.sort_unstable();
        collections.dedup();
        containers.sort_unstable();
        containers.dedup();
        (!collections.is_empty() || !containers.is_empty()).then_some(ExportError::ScopeRequired {
            collections,
            containers,
            key,
        })
    }
}

/// The collection or container a request is made in (the reference API's
/// `CollectionId` and `ContainerId` query parameters). The default names
/// neither: only system-wide claims count then.
///
/// ```
/// use certexport::options::Scope;
///
/// let scope = Scope::collection(5);
/// assert_eq!((scope.collection_id, scope.container_id), (Some(5), None));
/// assert_eq!(Scope::default(), Scope::none());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Scope {
    /// Check rights at this collection. Wins over `container_id`.
    pub collection_id: Option<u64>,
    /// Check rights at this certificate-store container.
    pub container_id: Option<u64>,
}

impl Scope {
    /// No scope: only system-wide claims count.
    pub const fn none() -> Self {
        Self {
            collection_id: None,
            container_id: None,
        }
    }

    /// Rights checked at collection `id` (the reference API's `collectionId`).
    pub const fn collection(id: u64) -> Self {
        Self {
            collection_id: Some(id),
            container_id: None,
        }
    }

    /// Rights checked at certificate-store container `id` (the reference
    /// API's `containerId`).
    pub const fn container(id: u64) -> Self {
        Self {
            collection_id: None,
            container_id: Some(id),
        }
    }

    /// Both, as a query may carry them; the collection wins.
    pub const fn new(collection_id: Option<u64>, container_id: Option<u64>) -> Self {
        Self {
            collection_id,
            container_id,
        }
    }
}

/// The "Allow Cryptographic Service Providers" setting and its list: which
/// Microsoft CSPs a PFX request may name. Without it, a request naming a
/// CSP is refused ([`ExportError::CspNotAllowed`]).
///
/// ```
/// use certexport::options::CspPolicy;
///
/// let policy = CspPolicy::allowing(["Microsoft Enhanced RSA and AES Cryptographic Provider"]);
/// assert!(policy.allow);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CspPolicy {
    /// Whether a request may name a CSP at all (default false).
    pub allow: bool,
    /// The CSP names a request may give, compared exactly.
    pub names: Vec<String>,
}

impl CspPolicy {
    /// CSPs allowed, these names only.
    pub fn allowing(names: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            allow: true,
            names: names.into_iter().map(Into::into).collect(),
        }
    }
}

/// Refuses a CSP the policy does not list ([`ExportError::CspNotAllowed`]).
pub(crate) fn check_csp(policy: &CspPolicy, csp: Option<&str>) -> Result<(), ExportError> {
    match csp {
        Some(csp) if !policy.allow || !policy.names.iter().any(|n| n == csp) => Err(ExportError::CspNotAllowed {
            csp: crate::error::shown(csp),
        }),
        _ => Ok(()),
    }
}

/// Which rule matches the caller's claims to a certificate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScopeRule {
    /// Rights are checked at the request's [`Scope`] (the
    /// Keyfactor calls); without one, only system-wide claims count. The
    /// default.
    #[default]
    GivenScope,
    /// The AppViewX key download, which names no scope: its
    /// permission is "within the specified certificate's category". The
    /// caller may have the certificate (and its key) with the system-wide
    /// read (and private-key) claims, or with the read (and private-key)
    /// claims of one collection the certificate belongs to — both claims of
    /// the same collection, or one of them system-wide. The request's
    /// [`Scope`] is not used. Key policies apply as for the other calls.
    AnyCollectionOfTheCertificate,
}

/// What [`authorize`] granted, and what is still owed once the certificate is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grant {
    read: Reach,
    key: Option<Reach>,
}

/// How far a right reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reach {
    /// Every certificate.
    SystemWide,
    /// Certificates of this collection.
    Collection(u64),
    /// Certificates in a store of this container.
    Container(u64),
    /// Certificates in any of these collections (never empty).
    AnyCollection(Vec<u64>),
}

/// The claim check, before anything is read, by `rule`.
pub(crate) fn authorize(caller: &Caller, rule: ScopeRule, scope: Scope, wants_key: bool) -> Result<Grant, ExportError> {
    match rule {
        ScopeRule::GivenScope => authorize_in_scope(caller, scope, wants_key),
        ScopeRule::AnyCollectionOfTheCertificate => authorize_in_category(caller, wants_key),
    }
}

/// The AppViewX rule for a call that names no scope (see
/// [`ScopeRule::AnyCollectionOfTheCertificate`]).
fn authorize_in_category(caller: &Caller, wants_key: bool) -> Result<Grant, ExportError> {
    let read_all = caller.holds(Claim::ReadAllCollections) || caller.holds(Claim::ReadAllStores);
    let keys_all = caller.holds(Claim::ReadAllPrivateKeys);
    if read_all && (keys_all || !wants_key) {
        return Ok(Grant {
            read: Reach::SystemWide,
            key: wants_key.then_some(Reach::SystemWide),
        });
    }
    // The collections whose claims together give what is asked for.
    let mut collections: Vec<u64> = caller
        .claims
        .iter()
        .filter_map(|claim| match *claim {
            Claim::ReadCollection(c) | Claim::ReadCollectionPrivateKeys(c) => Some(c),
            _ => None,
        })
        .filter(|&c| {
            let read = read_all || caller.holds(Claim::ReadCollection(c));
            let key = !wants_key || keys_all || caller.holds(Claim::ReadCollectionPrivateKeys(c));
            read && key
        })
        .collect();
    collections.sort_unstable();
    collections.dedup();
    if collections.is_empty() {
        return Err(ExportError::AccessDenied);
    }
    let reach = Reach::AnyCollection(collections);
    Ok(Grant {
        key: wants_key.then(|| reach.clone()),
        read: reach,
    })
}

/// The claim check, before anything is read, in its evaluation order.
fn authorize_in_scope(caller: &Caller, scope: Scope, wants_key: bool) -> Result<Grant, ExportError> {
    let read = match (scope.collection_id, scope.container_id) {
        // CollectionId wins; ContainerId is ignored.
        (Some(_), _) if caller.holds(Claim::ReadAllCollections) => Reach::SystemWide,
        (Some(c), _) if caller.holds(Claim::ReadCollection(c)) => Reach::Collection(c),
        (None, Some(_)) if caller.holds(Claim::ReadAllStores) => Reach::SystemWide,
        (None, Some(k)) if caller.holds(Claim::ReadStoreContainer(k)) => Reach::Container(k),
        (None, None) if caller.holds(Claim::ReadAllCollections) || caller.holds(Claim::ReadAllStores) => {
            Reach::SystemWide
        }
        (None, None) => return Err(caller.scope_required(false).unwrap_or(ExportError::AccessDenied)),
        _ => return Err(ExportError::AccessDenied),
    };
    let key = if !wants_key {
        None
    } else if caller.holds(Claim::ReadAllPrivateKeys) {
        Some(Reach::SystemWide)
    } else {
        match scope.collection_id {
            Some(c) if caller.holds(Claim::ReadCollectionPrivateKeys(c)) => Some(Reach::Collection(c)),
            None => return Err(caller.scope_required(true).unwrap_or(ExportError::AccessDenied)),
            Some(_) => return Err(ExportError::AccessDenied),
        }
    };
    Ok(Grant { read, key })
}

impl Grant {
    /// Whether the read right reaches a certificate of `metadata`: the
    /// lookup passes over any certificate it does not, before reading a
    /// byte of it, so that a certificate that is not the caller's costs
    /// what one that does not exist costs.
    pub(crate) fn may_read(&self, metadata: &CertMetadata) -> bool {
        self.read.reaches(metadata)
    }

    /// Whether the caller may learn that a certificate does not exist.
    pub(crate) fn is_system_wide(&self) -> bool {
        self.read == Reach::SystemWide
    }

    /// A lookup that named no single certificate, as the caller may see
    /// it: without system-wide rights, "not found" (or any answer that
    /// tells which certificates exist) is "access denied", and nothing
    /// else is even formatted.
    pub(crate) fn hide(&self, miss: Miss<'_>) -> ExportError {
        if self.is_system_wide() {
            miss.into_error()
        } else {
            ExportError::AccessDenied
        }
    }

    /// A store error met while resolving a lookup, as the caller may see
    /// it: an id that may have moved tells that something holds it, so a
    /// caller without system-wide rights sees "access denied".
    pub(crate) fn hide_error(&self, error: ExportError) -> ExportError {
        match error {
            ExportError::UnstableId { .. } if !self.is_system_wide() => ExportError::AccessDenied,
            other => other,
        }
    }

    /// The checks owed once the certificate is known: membership of the
    /// scope, and for a key export the key claim's scope and the
    /// certificate's own key policy (checked again on every holder of the
    /// key by [`check_key_holders`](Self::check_key_holders)).
    pub(crate) fn check(&self, metadata: &CertMetadata) -> Result<(), ExportError> {
        if !self.may_read(metadata) || self.key.as_ref().is_some_and(|k| !k.reaches(metadata)) {
            return Err(ExportError::AccessDenied);
        }
        if self.key.is_some() {
            restricted(metadata.key_policy.iter())?;
        }
        Ok(())
    }

    /// A key is one secret: the policy of every certificate holding it
    /// applies, whichever of them was asked for. The certificate asked for
    /// passed [`check`](Self::check), so a restricting policy here is
    /// another holder's: it is named (the first one) only to a caller with
    /// system-wide read rights, who may see every certificate. Any other
    /// caller gets [`ExportError::AccessDenied`], the answer of a
    /// certificate whose key they may not have, which says nothing of a
    /// certificate outside their scope.
    pub(crate) fn check_key_holders(&self, holder_policies: &[KeyPolicy]) -> Result<(), ExportError> {
        restricted(holder_policies.iter()).map_err(|named| {
            if self.is_system_wide() {
                named
            } else {
                ExportError::AccessDenied
            }
        })
    }
}

impl Grant {
    /// The read right as a search condition: `None` for system-wide
    /// rights, otherwise the collection or container terms a certificate
    /// must meet (what [`may_read`](Self::may_read) checks).
    pub(crate) fn read_filter(&self) -> Option<crate::search::Filter> {
        use crate::search::{Field, Filter, Operator, Term, Value};
        let member = |field, id| {
            Filter::Term(Term {
                field,
                operator: Operator::Eq,
                value: Value::Integer(id),
            })
        };
        match &self.read {
            Reach::SystemWide => None,
            Reach::Collection(c) => Some(member(Field::CollectionId, *c)),
            Reach::Container(k) => Some(member(Field::ContainerId, *k)),
            Reach::AnyCollection(list) => Some(Filter::Or(
                list.iter().map(|c| member(Field::CollectionId, *c)).collect(),
            )),
        }
    }
}

impl Reach {
    fn reaches(&self, metadata: &CertMetadata) -> bool {
        match self {
            Reach::SystemWide => true,
            Reach::Collection(c) => metadata.collections.contains(c),
            Reach::Container(k) => metadata.containers.contains(k),
            Reach::AnyCollection(list) => list.iter().any(|c| metadata.collections.contains(c)),
        }
    }
}

fn restricted<'a>(policies: impl Iterator<Item = &'a KeyPolicy>) -> Result<(), ExportError> {
    for policy in policies {
        if policy.private_key_access == KeyAccess::Restricted {
            return Err(ExportError::KeyExportRestricted {
                policy: policy.name.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_every_claim_form() {
        for text in [
            "/certificates/collections/read/",
            "/certificates/collections/read/5/",
            "/certificate_stores/read/",
            "/certificate_stores/read/7/",
            "/certificates/collections/private_key/read/",
            "/certificates/collections/private_key/read/5/",
        ] {
            let claim: Claim = text.parse().unwrap();
            assert_eq!(claim.to_string(), text);
        }
    }

    #[test]
    fn rejects_malformed_claims() {
        for bad in [
            "",
            "/certificates/collections/read",
            "certificates/collections/read/",
            "/certificates/collections/read/x/",
            "/certificates/collections/read/-1/",
            "/certificates/collections/read/5/6/",
            "/certificates/collections/write/",
            "/certificates/collections/read/99999999999999999999999/",
            "/certificates/collections/read//",
        ] {
            assert!(
                matches!(bad.parse::<Claim>(), Err(ExportError::InvalidClaim { .. })),
                "{bad:?}"
            );
        }
        assert!(Caller::from_claim_lines("/certificate_stores/read/\nbogus\n").is_err());
        assert_eq!(
            Caller::from_claim_lines("# comment\n\n/certificate_stores/read/\n")
                .unwrap()
                .claims()
                .len(),
            1
        );
    }
}
