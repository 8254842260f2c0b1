//! Where certificates and keys come from.
//!
//! [`CertificateStore`] is the interface the exporter reads through, so a
//! program can plug in its own database; [`MemoryStore`] is the store this
//! crate ships, loaded from PEM, DER and P7B files and directories.
//! [`IndexKeys`] computes, for a store of one's own, the values every
//! lookup of the trait is answered by.

mod index;
mod load;
mod manifest;
mod memory;
mod parsed;
#[cfg(feature = "postgres")]
mod pg;

use std::borrow::Cow;
use std::ops::Deref;

use crate::error::ExportError;
use crate::ids::{CertId, SerialNumber, Thumbprint, Uuid};
use crate::key::PrivateKey;
use crate::name::NameKey;
use crate::search::{SearchPage, StoreQuery};

pub use crate::key::PublicKeyFingerprint;
pub use index::IndexKeys;
pub use load::{BadFiles, LoadOptions, LoadReport, read_regular_file};
pub use memory::{Added, MemoryStore};
pub(crate) use parsed::Certificate;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use pg::{ImportReport, Kek, Migrations, PgOptions, PgStore, PgStoreError, SCHEMA_VERSION};

/// The name of the manifest file a store directory may carry.
pub const MANIFEST_FILE: &str = "certexport-store.json";

/// A source of certificates, their keys and their metadata.
///
/// Every method is a point query that a database answers from an index
/// (the values to index are [`IndexKeys`]); the exporter never scans.
/// Lookups by name return *candidates*: the exporter checks each
/// candidate's names itself, so a store may return extra ones (say, from a
/// hash index) but must not leave any out. Each method is one round trip:
/// a chain step asks for all issuer candidates at once.
///
/// Implementations wrap their own failures with [`ExportError::backend`].
/// The trait is synchronous; from async code call the exporter inside
/// `tokio::task::spawn_blocking` (or your runtime's equivalent).
pub trait CertificateStore: Send + Sync {
    /// The certificate with this id.
    fn certificate(&self, id: CertId) -> Result<Option<StoredCertificate<'_>>, ExportError>;

    /// The certificate with this SHA-1 or SHA-256 thumbprint (exact).
    fn certificate_by_thumbprint(&self, thumbprint: &Thumbprint) -> Result<Option<StoredCertificate<'_>>, ExportError>;

    /// The certificate with this `uuId` (exact).
    fn certificate_by_uuid(&self, uuid: &Uuid) -> Result<Option<StoredCertificate<'_>>, ExportError>;

    /// Candidates for the certificates with this issuer name and serial.
    fn certificates_by_issuer_serial(
        &self,
        issuer: &NameKey,
        serial: &SerialNumber,
    ) -> Result<Vec<StoredCertificate<'_>>, ExportError>;

    /// Candidates for the issuer of a certificate: certificates whose
    /// subject is `subject`, and, when `key_id` (the certificate's
    /// authority key identifier) is given, whose subject key identifier is
    /// `key_id` or absent.
    fn issuer_candidates(
        &self,
        subject: &NameKey,
        key_id: Option<&[u8]>,
    ) -> Result<Vec<StoredCertificate<'_>>, ExportError>;

    /// The private key of the certificate, if the store holds one, with
    /// the key policies of every certificate that holds the same public
    /// key ([`StoredKey::holder_policies`]).
    fn private_key(&self, id: CertId) -> Result<Option<StoredKey<'_>>, ExportError>;

    /// Whether the certificates behind each id, and the set of
    /// certificates, cannot change while the store is borrowed. When true,
    /// an exporter remembers the chains it builds (for the time window in
    /// which the same chain would be chosen). The default, false, suits a
    /// database that others write to.
    fn contents_are_fixed(&self) -> bool {
        false
    }

    /// The certificates matching `query.filter`, sorted, the window of
    /// `query.offset` and `query.limit`, with how many match in all.
    /// Relative dates are taken at `query.now`. The default fails with a
    /// [`SearchUnsupported`](crate::search::SearchUnsupported) backend
    /// error: a store of one's own answers it from its indexes (the
    /// crate's stores do).
    fn search(&self, query: &StoreQuery) -> Result<SearchPage<'_>, ExportError> {
        let _ = query;
        Err(ExportError::backend(crate::search::SearchUnsupported))
    }
}

/// A certificate as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredCertificate<'s> {
    /// Its id in the store.
    pub id: CertId,
    /// Its DER, exactly as loaded; exports write these bytes unchanged.
    pub der: Cow<'s, [u8]>,
    /// Collections, containers and key policy.
    pub metadata: Cow<'s, CertMetadata>,
    /// The SHA-256 of `der`, when the store keeps it (it saves the
    /// exporter hashing the certificate). It must be exactly that digest:
    /// the exporter trusts it as it trusts the DER.
    pub sha256: Option<[u8; 32]>,
}

impl<'s> StoredCertificate<'s> {
    /// A certificate with its id, DER and metadata.
    pub fn new(id: CertId, der: impl Into<Cow<'s, [u8]>>, metadata: impl Into<Cow<'s, CertMetadata>>) -> Self {
        Self {
            id,
            der: der.into(),
            metadata: metadata.into(),
            sha256: None,
        }
    }

    /// The same, with the SHA-256 of its DER that the store keeps.
    pub fn with_sha256(mut self, sha256: [u8; 32]) -> Self {
        self.sha256 = Some(sha256);
        self
    }
}

/// What the access checks know about a certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CertMetadata {
    /// The certificate collections it belongs to.
    pub collections: Vec<u64>,
    /// The certificate-store containers it sits in.
    pub containers: Vec<u64>,
    /// The policy governing its private key; `None` allows key export.
    pub key_policy: Option<KeyPolicy>,
}

impl CertMetadata {
    /// Metadata with nothing set.
    pub const EMPTY: CertMetadata = CertMetadata {
        collections: Vec::new(),
        containers: Vec::new(),
        key_policy: None,
    };
}

impl<'s> From<&'s CertMetadata> for Cow<'s, CertMetadata> {
    fn from(metadata: &'s CertMetadata) -> Self {
        Cow::Borrowed(metadata)
    }
}

impl From<CertMetadata> for Cow<'_, CertMetadata> {
    fn from(metadata: CertMetadata) -> Self {
        Cow::Owned(metadata)
    }
}

/// A named policy that allows or forbids exporting private keys.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyPolicy {
    /// The policy's name, as error messages quote it.
    pub name: String,
    /// Whether private keys under this policy may be exported.
    pub private_key_access: KeyAccess,
}

impl KeyPolicy {
    /// A policy named `name` that lets keys out, or not.
    ///
    /// ```
    /// use certexport::store::{KeyAccess, KeyPolicy};
    ///
    /// let policy = KeyPolicy::new("Production", KeyAccess::Restricted);
    /// assert_eq!(policy.name, "Production");
    /// ```
    pub fn new(name: impl Into<String>, private_key_access: KeyAccess) -> Self {
        Self {
            name: name.into(),
            private_key_access,
        }
    }
}

/// Whether a key policy lets private keys out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyAccess {
    /// Keys may be exported (by callers with the private-key claim).
    Allowed,
    /// Keys may not be exported by anyone.
    Restricted,
}

/// A private key as the store gives it out, with what governs it.
///
/// A key is one secret however many certificates carry its public key (a
/// renewed certificate usually keeps its predecessor's key). So the policy
/// of every such certificate applies to it: if any of them restricts key
/// export, the key stays in the store whichever certificate is asked for.
#[derive(Debug)]
#[non_exhaustive]
pub struct StoredKey<'s> {
    /// The key.
    pub key: KeyRef<'s>,
    /// The key policies of every certificate in the store whose public key
    /// is this key's, the certificate asked for among them.
    pub holder_policies: Vec<KeyPolicy>,
}

impl<'s> StoredKey<'s> {
    /// A key and the policies of the certificates that hold it.
    pub fn new(key: KeyRef<'s>, holder_policies: Vec<KeyPolicy>) -> Self {
        Self { key, holder_policies }
    }
}

impl Deref for StoredKey<'_> {
    type Target = PrivateKey;

    fn deref(&self) -> &PrivateKey {
        &self.key
    }
}

/// A private key borrowed from the store, or produced by it.
#[derive(Debug)]
#[non_exhaustive]
pub enum KeyRef<'s> {
    /// The store holds the key in memory.
    Borrowed(&'s PrivateKey),
    /// The store made the key for this request (e.g. decrypted it from a
    /// database row).
    Owned(PrivateKey),
}

impl Deref for KeyRef<'_> {
    type Target = PrivateKey;

    fn deref(&self) -> &PrivateKey {
        match self {
            KeyRef::Borrowed(key) => key,
            KeyRef::Owned(key) => key,
        }
    }
}

/// Forwards every method of [`CertificateStore`] through a pointer type.
macro_rules! forward_store {
    ($(#[$doc:meta])* $pointer:ty) => {
        $(#[$doc])*
        impl<S: CertificateStore + ?Sized> CertificateStore for $pointer {
            fn certificate(&self, id: CertId) -> Result<Option<StoredCertificate<'_>>, ExportError> {
                (**self).certificate(id)
            }
            fn certificate_by_thumbprint(&self, thumbprint: &Thumbprint) -> Result<Option<StoredCertificate<'_>>, ExportError> {
                (**self).certificate_by_thumbprint(thumbprint)
            }
            fn certificate_by_uuid(&self, uuid: &Uuid) -> Result<Option<StoredCertificate<'_>>, ExportError> {
                (**self).certificate_by_uuid(uuid)
            }
            fn certificates_by_issuer_serial(
                &self,
                issuer: &NameKey,
                serial: &SerialNumber,
            ) -> Result<Vec<StoredCertificate<'_>>, ExportError> {
                (**self).certificates_by_issuer_serial(issuer, serial)
            }
            fn issuer_candidates(
                &self,
                subject: &NameKey,
                key_id: Option<&[u8]>,
            ) -> Result<Vec<StoredCertificate<'_>>, ExportError> {
                (**self).issuer_candidates(subject, key_id)
            }
            fn private_key(&self, id: CertId) -> Result<Option<StoredKey<'_>>, ExportError> {
                (**self).private_key(id)
            }
            fn contents_are_fixed(&self) -> bool {
                (**self).contents_are_fixed()
            }
            fn search(&self, query: &StoreQuery) -> Result<SearchPage<'_>, ExportError> {
                (**self).search(query)
            }
        }
    };
}

forward_store!(
    /// A borrowed store.
    &S
);
forward_store!(
    /// A boxed store, such as the `Box<dyn CertificateStore>` a program
    /// picks at run time (`certexport serve` over a directory or a database).
    Box<S>
);
forward_store!(
    /// A shared store: one `Arc<PgStore>` (say) behind several exporters.
    std::sync::Arc<S>
);
