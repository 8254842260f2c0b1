//! [`CertificateDetail`]: one certificate's facts, as a search answers
//! them for each certificate found and a detail call for one.

use std::net::IpAddr;

use crate::error::ExportError;
use crate::ids::{CertId, Thumbprint, Uuid};
use crate::search::SearchHit;
use crate::search::facts::Facts;

/// One certificate's facts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CertificateDetail {
    /// The store id (`Id`).
    pub id: CertId,
    /// The SHA-1 thumbprint (`Thumbprint`).
    pub sha1: Thumbprint,
    /// The SHA-256 thumbprint.
    pub sha256: Thumbprint,
    /// The serial number, lower-case hex (`SerialNumber`).
    pub serial: String,
    /// The subject, RFC 4514 (`IssuedDN`).
    pub subject: String,
    /// The subject's most specific common name (`IssuedCN`).
    pub common_name: Option<String>,
    /// The issuer, RFC 4514 (`IssuerDN`).
    pub issuer: String,
    /// `notBefore`, seconds since the Unix epoch (`NotBefore`).
    pub not_before: i64,
    /// `notAfter`, seconds since the Unix epoch (`NotAfter`).
    pub not_after: i64,
    /// `RSA`, `ECC` or `Ed25519` (`KeyType`); `None` for other key types.
    pub key_type: Option<&'static str>,
    /// The key size in bits (`KeySizeInBits`).
    pub key_bits: Option<u32>,
    /// The signature algorithm, OpenSSL's name or the OID (`SigningAlgorithm`).
    pub signature_algorithm: String,
    /// The subject alternative names (`SubjectAltNameElements`).
    pub subject_alt_names: Vec<SubjectAltName>,
    /// Whether the store holds the private key (`HasPrivateKey`).
    pub has_private_key: bool,
    /// Whether this caller may export the private key in the scope asked
    /// for: the store holds it, the caller has the key claim for the
    /// scope, and no key policy of a holder of the key forbids it (false
    /// too when the store cannot read the key, say without its
    /// key-encryption key). `None` in search answers, which do not work
    /// it out.
    pub private_key_exportable: Option<bool>,
    /// The collections it belongs to (`Collections`).
    pub collections: Vec<u64>,
    /// Its `uuId` (`Uuid`).
    pub uuid: Option<Uuid>,
    /// The chain an export with `IncludeChain` would hold, end entity
    /// first; empty in search answers, which do not build chains, and the
    /// error instead when the chain cannot be built (a missing issuer, say).
    pub chain: Result<Vec<ChainLink>, ExportError>,
}

/// One certificate of a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChainLink {
    /// Its store id.
    pub id: CertId,
    /// Its SHA-1 thumbprint.
    pub sha1: Thumbprint,
    /// Its subject, RFC 4514.
    pub subject: String,
}

/// One subject alternative name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubjectAltName {
    /// `rfc822Name`.
    Email(String),
    /// `dNSName`.
    Dns(String),
    /// `directoryName`, RFC 4514.
    Directory(String),
    /// `uniformResourceIdentifier`.
    Uri(String),
    /// `iPAddress`.
    Ip(IpAddr),
}

impl SubjectAltName {
    /// The reference API's type code: the `GeneralName` choice number
    /// (1 e-mail, 2 DNS, 4 directory name, 6 URI, 7 IP address).
    pub fn type_code(&self) -> u8 {
        match self {
            SubjectAltName::Email(_) => 1,
            SubjectAltName::Dns(_) => 2,
            SubjectAltName::Directory(_) => 4,
            SubjectAltName::Uri(_) => 6,
            SubjectAltName::Ip(_) => 7,
        }
    }

    /// The value as text.
    pub fn value(&self) -> String {
        match self {
            SubjectAltName::Email(v)
            | SubjectAltName::Dns(v)
            | SubjectAltName::Directory(v)
            | SubjectAltName::Uri(v) => v.clone(),
            SubjectAltName::Ip(ip) => ip.to_string(),
        }
    }
}

impl CertificateDetail {
    /// The detail of a hit, without its chain or whether its key may be exported.
    pub(crate) fn of_hit(hit: &SearchHit<'_>) -> Result<Self, ExportError> {
        let der = &*hit.certificate.der;
        let facts = Facts::of(der)?;
        let sha256 = match hit.certificate.sha256 {
            Some(digest) => Thumbprint::Sha256(digest),
            None => Thumbprint::sha256_of(der),
        };
        Ok(Self {
            id: hit.certificate.id,
            sha1: Thumbprint::sha1_of(der),
            sha256,
            serial: facts.serial,
            subject: facts.subject,
            common_name: facts.common_name,
            issuer: facts.issuer,
            not_before: facts.not_before,
            not_after: facts.not_after,
            key_type: facts.key_type,
            key_bits: facts.key_bits,
            signature_algorithm: facts.signature_algorithm,
            subject_alt_names: facts.subject_alt_names,
            has_private_key: hit.has_private_key,
            private_key_exportable: None,
            collections: hit.certificate.metadata.collections.clone(),
            uuid: hit.uuid.clone(),
            chain: Ok(Vec::new()),
        })
    }
}
