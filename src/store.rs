//! Where certificates and keys come from (SPEC §8).
//!
//! [`CertificateStore`] is the interface the exporter reads through, so a
//! program can plug in its own database; [`MemoryStore`] is the store this
//! crate ships, loaded from PEM, DER and P7B files and directories.

mod load;
mod manifest;
mod memory;

use std::borrow::Cow;
use std::ops::Deref;

use crate::key::PrivateKey;
use crate::{CertId, ExportError, NameKey, SerialNumber, Thumbprint};

pub use load::{BadFiles, LoadOptions, LoadReport};
pub use memory::MemoryStore;

/// The name of the manifest file a store directory may carry.
pub const MANIFEST_FILE: &str = "certexport-store.json";

/// A source of certificates, their keys and their metadata.
///
/// Every method is a point query that a database answers from an index;
/// the exporter never scans. Lookups by name return *candidates*: the
/// exporter checks each candidate's names itself, so a store may return
/// extra ones (say, from a hash index) but must not leave any out.
pub trait CertificateStore: Send + Sync {
    /// The certificate with this id.
    fn certificate(&self, id: CertId) -> Result<Option<StoredCertificate<'_>>, ExportError>;

    /// The certificate with this SHA-1 or SHA-256 thumbprint (exact).
    fn find_by_thumbprint(&self, thumbprint: &Thumbprint) -> Result<Option<CertId>, ExportError>;

    /// Candidates for the certificates with this issuer name and serial.
    fn find_by_issuer_serial(&self, issuer: &NameKey, serial: &SerialNumber) -> Result<Vec<CertId>, ExportError>;

    /// Candidates for the issuer of a certificate: certificates whose
    /// subject is `subject`, and, when `key_id` (the certificate's
    /// authority key identifier) is given, whose subject key identifier is
    /// `key_id` or absent.
    fn find_issuers(&self, subject: &NameKey, key_id: Option<&[u8]>) -> Result<Vec<CertId>, ExportError>;

    /// The private key of the certificate, if the store holds one.
    fn private_key(&self, id: CertId) -> Result<Option<KeyRef<'_>>, ExportError>;

    /// The certificate with this thumbprint: [`find_by_thumbprint`](Self::find_by_thumbprint)
    /// then [`certificate`](Self::certificate), unless the store can do it in one step.
    fn certificate_by_thumbprint(&self, thumbprint: &Thumbprint) -> Result<Option<StoredCertificate<'_>>, ExportError> {
        match self.find_by_thumbprint(thumbprint)? {
            Some(id) => self.certificate(id),
            None => Ok(None),
        }
    }

    /// Whether the certificates behind each id, and the set of
    /// certificates, cannot change while the store is borrowed. When true,
    /// an exporter remembers the chains it builds (for the time window in
    /// which the same chain would be chosen). The default, false, suits a
    /// database that others write to.
    fn contents_are_fixed(&self) -> bool {
        false
    }
}

/// A certificate as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCertificate<'s> {
    /// Its id in the store.
    pub id: CertId,
    /// Its DER, exactly as loaded; exports write these bytes unchanged.
    pub der: Cow<'s, [u8]>,
    /// Collections, containers and key policy.
    pub metadata: Cow<'s, CertMetadata>,
}

/// What the access checks of SPEC §7 know about a certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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

/// A named policy that allows or forbids exporting private keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPolicy {
    /// The policy's name, as error messages quote it.
    pub name: String,
    /// Whether private keys under this policy may be exported.
    pub private_key_access: KeyAccess,
}

/// Whether a key policy lets private keys out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAccess {
    /// Keys may be exported (by callers with the private-key claim).
    Allowed,
    /// Keys may not be exported by anyone.
    Restricted,
}

/// A private key borrowed from the store, or produced by it.
#[derive(Debug)]
pub enum KeyRef<'s> {
    /// The store holds the key in memory.
    Borrowed(&'s PrivateKey),
    /// The store made the key for this request (e.g. read from a vault).
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

impl<S: CertificateStore + ?Sized> CertificateStore for &S {
    fn certificate(&self, id: CertId) -> Result<Option<StoredCertificate<'_>>, ExportError> {
        (**self).certificate(id)
    }
    fn find_by_thumbprint(&self, thumbprint: &Thumbprint) -> Result<Option<CertId>, ExportError> {
        (**self).find_by_thumbprint(thumbprint)
    }
    fn find_by_issuer_serial(&self, issuer: &NameKey, serial: &SerialNumber) -> Result<Vec<CertId>, ExportError> {
        (**self).find_by_issuer_serial(issuer, serial)
    }
    fn find_issuers(&self, subject: &NameKey, key_id: Option<&[u8]>) -> Result<Vec<CertId>, ExportError> {
        (**self).find_issuers(subject, key_id)
    }
    fn private_key(&self, id: CertId) -> Result<Option<KeyRef<'_>>, ExportError> {
        (**self).private_key(id)
    }
    fn certificate_by_thumbprint(&self, thumbprint: &Thumbprint) -> Result<Option<StoredCertificate<'_>>, ExportError> {
        (**self).certificate_by_thumbprint(thumbprint)
    }
    fn contents_are_fixed(&self) -> bool {
        (**self).contents_are_fixed()
    }
}
