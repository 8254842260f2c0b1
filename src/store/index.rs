//! The values a store indexes certificates by: what a database of one's
//! own keeps in columns so that every method of
//! [`CertificateStore`](super::CertificateStore) is one indexed query.

use sha1::Digest;

use crate::certificate::CertificateView;
use crate::error::ExportError;
use crate::ids::{SerialNumber, Thumbprint};
use crate::key::{PublicKeyFingerprint, PublicKeyId};
use crate::name::NameKey;

/// The index values of one certificate.
///
/// ```
/// use certexport::store::{IndexKeys, MemoryStore};
/// let store = MemoryStore::from_path("tests/data/pki/01-root.pem")?;
/// let (root, _) = store.iter().next().expect("one certificate");
/// let keys = IndexKeys::of(&root.der)?;
/// assert_eq!(keys.subject, keys.issuer); // a root
/// # Ok::<(), certexport::ExportError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IndexKeys {
    /// SHA-1 of the DER ([`certificate_by_thumbprint`](super::CertificateStore::certificate_by_thumbprint)).
    pub sha1: [u8; 20],
    /// SHA-256 of the DER (the same, and [`StoredCertificate::sha256`](super::StoredCertificate::sha256)).
    pub sha256: [u8; 32],
    /// The subject's comparison key ([`issuer_candidates`](super::CertificateStore::issuer_candidates)).
    pub subject: NameKey,
    /// The issuer's comparison key ([`certificates_by_issuer_serial`](super::CertificateStore::certificates_by_issuer_serial)).
    pub issuer: NameKey,
    /// The serial number, as an unsigned magnitude.
    pub serial: SerialNumber,
    /// The subject key identifier, if the certificate has one.
    pub subject_key_id: Option<Vec<u8>>,
    /// The authority key identifier's `keyIdentifier`, if present.
    pub authority_key_id: Option<Vec<u8>>,
    /// `notBefore`, seconds since the Unix epoch.
    pub not_before: i64,
    /// `notAfter`, seconds since the Unix epoch.
    pub not_after: i64,
    /// The public key's fingerprint, for the key types this crate reads
    /// (RSA, EC P-256/P-384/P-521, Ed25519): certificates with equal
    /// fingerprints hold the same key ([`StoredKey::holder_policies`](super::StoredKey::holder_policies)).
    pub public_key: Option<PublicKeyFingerprint>,
}

impl IndexKeys {
    /// The index values of a DER certificate.
    pub fn of(der: &[u8]) -> Result<Self, ExportError> {
        let sha1: [u8; 20] = sha1::Sha1::digest(der).into();
        let malformed = ExportError::malformed(|| Thumbprint::Sha1(sha1).to_string());
        let view = CertificateView::parse(der).map_err(&malformed)?;
        Ok(Self {
            sha1,
            sha256: sha2::Sha256::digest(der).into(),
            subject: NameKey::from_der(view.subject).map_err(&malformed)?,
            issuer: NameKey::from_der(view.issuer).map_err(&malformed)?,
            serial: SerialNumber::from_der_content(view.serial),
            subject_key_id: view.subject_key_id.map(<[u8]>::to_vec),
            authority_key_id: view.authority_key_id.map(<[u8]>::to_vec),
            not_before: view.not_before,
            not_after: view.not_after,
            public_key: PublicKeyId::from_spki(view.spki).map(|id| id.fingerprint()),
        })
    }
}
