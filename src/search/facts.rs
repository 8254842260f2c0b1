//! What a search compares and a detail shows of one certificate, read
//! from its DER: names, serial, thumbprints, subject alternative names,
//! validity, key type and size, signature algorithm.

use std::net::IpAddr;

use super::SubjectAltName;
use crate::certificate::CertificateView;
use crate::error::ExportError;
use crate::fast_der::{self as tlv, Reader, TlvError, tag};
use crate::ids::{Thumbprint, hex};
use crate::key::public::{Curve, SubjectKey};
use crate::name;
use crate::oid;

/// The facts of one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Facts {
    pub(crate) subject: String,
    pub(crate) issuer: String,
    pub(crate) common_name: Option<String>,
    /// Lower-case hex of the serial's magnitude.
    pub(crate) serial: String,
    /// Lower-case hex of the SHA-1 of the DER.
    pub(crate) sha1: String,
    pub(crate) subject_alt_names: Vec<SubjectAltName>,
    pub(crate) not_before: i64,
    pub(crate) not_after: i64,
    /// `RSA`, `ECC` or `Ed25519`.
    pub(crate) key_type: Option<&'static str>,
    pub(crate) key_bits: Option<u32>,
    pub(crate) signature_algorithm: String,
}

impl Facts {
    /// The facts of a DER certificate.
    pub(crate) fn of(der: &[u8]) -> Result<Self, ExportError> {
        let sha1 = Thumbprint::sha1_of(der);
        let malformed = ExportError::malformed(|| sha1.to_string());
        let view = CertificateView::parse(der).map_err(&malformed)?;
        let subject_alt_names = subject_alt_names(view.tbs)
            .map_err(der::Error::from)
            .map_err(&malformed)?;
        let (key_type, key_bits) = key_of(view.spki);
        Ok(Self {
            subject: name::to_rfc4514(view.subject).map_err(&malformed)?,
            issuer: name::to_rfc4514(view.issuer).map_err(&malformed)?,
            common_name: name::common_name(view.subject),
            serial: hex(view.serial_magnitude()),
            sha1: sha1.to_string(),
            subject_alt_names,
            not_before: view.not_before,
            not_after: view.not_after,
            key_type,
            key_bits,
            signature_algorithm: algorithm_name(view.signature_algorithm),
        })
    }

    /// The DNS names among the subject alternative names.
    pub(crate) fn dns_names(&self) -> impl Iterator<Item = &str> {
        self.subject_alt_names.iter().filter_map(|san| match san {
            SubjectAltName::Dns(name) => Some(name.as_str()),
            _ => None,
        })
    }
}

/// The key type and size of a `SubjectPublicKeyInfo`, for the kinds read.
fn key_of(spki: &[u8]) -> (Option<&'static str>, Option<u32>) {
    match SubjectKey::parse(spki) {
        Some(SubjectKey::Rsa(pkcs1)) => ("RSA".into(), rsa_bits(pkcs1)),
        Some(SubjectKey::Ec { curve, .. }) => (
            Some("ECC"),
            Some(match curve {
                Curve::P256 => 256,
                Curve::P384 => 384,
                Curve::P521 => 521,
            }),
        ),
        Some(SubjectKey::Ed25519(_)) => (Some("Ed25519"), Some(256)),
        None => (None, None),
    }
}

/// The modulus size of a PKCS#1 `RSAPublicKey`.
fn rsa_bits(pkcs1: &[u8]) -> Option<u32> {
    let key = tlv::single(pkcs1, tag::SEQUENCE).ok()?;
    let modulus = Reader::new(key.value).expect(tag::INTEGER).ok()?;
    let magnitude = crate::ids::trim_leading_zeros(modulus.value);
    let first = *magnitude.first()?;
    let bits = (magnitude.len() - 1) * 8 + (8 - first.leading_zeros() as usize);
    u32::try_from(bits).ok()
}

/// The name of a signature `AlgorithmIdentifier` (OpenSSL's long names),
/// or its OID in dotted form.
fn algorithm_name(algorithm: &[u8]) -> String {
    let Some(oid) = tlv::single(algorithm, tag::SEQUENCE)
        .ok()
        .and_then(|seq| Reader::new(seq.value).expect(tag::OID).ok())
    else {
        return "unknown".into();
    };
    let known = [
        (oid::SHA1_WITH_RSA, "sha1WithRSAEncryption"),
        (oid::SHA256_WITH_RSA, "sha256WithRSAEncryption"),
        (oid::SHA384_WITH_RSA, "sha384WithRSAEncryption"),
        (oid::SHA512_WITH_RSA, "sha512WithRSAEncryption"),
        (oid::RSASSA_PSS, "rsassaPss"),
        (oid::ECDSA_WITH_SHA256, "ecdsa-with-SHA256"),
        (oid::ECDSA_WITH_SHA384, "ecdsa-with-SHA384"),
        (oid::ECDSA_WITH_SHA512, "ecdsa-with-SHA512"),
        (oid::ED25519, "ED25519"),
    ];
    if let Some((_, name)) = known.iter().find(|(known, _)| known.as_bytes() == oid.value) {
        return (*name).into();
    }
    der::asn1::ObjectIdentifier::from_bytes(oid.value).map_or_else(|_| "unknown".into(), |oid| oid.to_string())
}

/// The subject alternative names of a `TBSCertificate` element: DNS
/// names, e-mail addresses, URIs, IP addresses and directory names (other
/// kinds are left out).
fn subject_alt_names(tbs: &[u8]) -> Result<Vec<SubjectAltName>, TlvError> {
    let tbs = tlv::single(tbs, tag::SEQUENCE)?;
    let mut fields = Reader::new(tbs.value);
    fields.optional(tag::CONTEXT_0)?;
    for _ in 0..6 {
        // serial, signature, issuer, validity, subject, key
        fields.next_any()?;
    }
    fields.optional(0x81)?;
    fields.optional(0x82)?;
    let Some(extensions) = fields.optional(tag::CONTEXT_3)? else {
        return Ok(Vec::new());
    };
    let list = tlv::single(extensions.value, tag::SEQUENCE)?;
    let mut reader = Reader::new(list.value);
    while !reader.is_empty() {
        let extension = reader.expect(tag::SEQUENCE)?;
        let mut parts = Reader::new(extension.value);
        let id = parts.expect(tag::OID)?;
        if id.value != oid::SUBJECT_ALT_NAME.as_bytes() {
            continue;
        }
        parts.optional(tag::BOOLEAN)?;
        let value = parts.expect(tag::OCTET_STRING)?;
        let names = tlv::single(value.value, tag::SEQUENCE)?;
        let mut names = Reader::new(names.value);
        let mut found = Vec::new();
        while !names.is_empty() {
            let general_name = names.next_any()?;
            let text = || String::from_utf8_lossy(general_name.value).into_owned();
            match general_name.tag {
                0x81 => found.push(SubjectAltName::Email(text())),
                0x82 => found.push(SubjectAltName::Dns(text())),
                0x86 => found.push(SubjectAltName::Uri(text())),
                0x87 => match general_name.value.len() {
                    4 => found.push(SubjectAltName::Ip(IpAddr::from(
                        <[u8; 4]>::try_from(general_name.value).unwrap_or_default(),
                    ))),
                    16 => found.push(SubjectAltName::Ip(IpAddr::from(
                        <[u8; 16]>::try_from(general_name.value).unwrap_or_default(),
                    ))),
                    _ => {}
                },
                0xa4 => {
                    if let Ok(dn) = name::to_rfc4514(general_name.value) {
                        found.push(SubjectAltName::Directory(dn));
                    }
                }
                _ => {}
            }
        }
        return Ok(found);
    }
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pem(path: &str) -> Vec<u8> {
        let text = std::fs::read_to_string(path).unwrap();
        pem_rfc7468::decode_vec(text.as_bytes()).unwrap().1
    }

    #[test]
    fn reads_the_fixture_facts() {
        let rsa = Facts::of(&pem("tests/data/pki/03-rsa.example.com.pem")).unwrap();
        assert_eq!(rsa.common_name.as_deref(), Some("rsa.example.com"));
        assert_eq!(rsa.dns_names().collect::<Vec<_>>(), ["rsa.example.com"]);
        assert_eq!(rsa.key_type, Some("RSA"));
        assert_eq!(rsa.key_bits, Some(2048));
        assert_eq!(rsa.issuer, "CN=Test Intermediate CA,O=certexport tests,C=US");
        let p384 = Facts::of(&pem("tests/data/pki/05-p384.example.com.pem")).unwrap();
        assert_eq!((p384.key_type, p384.key_bits), (Some("ECC"), Some(384)));
        let ed = Facts::of(&pem("tests/data/pki/06-ed25519.example.com.pem")).unwrap();
        assert_eq!(ed.key_type, Some("Ed25519"));
    }
}
