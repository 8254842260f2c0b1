//! Private keys: reading them, matching them to certificates, and
//! encrypting them for export (SPEC §6).
//!
//! A [`PrivateKey`] holds its PKCS#8 DER in zeroizing memory, has no
//! `Clone`, and its `Debug` prints `[redacted]` in place of the key.

mod encrypt;
mod legacy;
mod password;
mod pbkdf2;
mod public;

use std::fmt;

use zeroize::Zeroizing;

use crate::ExportError;
use crate::tlv::{self, Reader, tag};

pub use encrypt::KeyEncryption;
pub(crate) use encrypt::{Encrypted, encrypt_pkcs8, pbes2_aes256cbc};
pub(crate) use legacy::pkcs12_kdf;
pub use password::Password;
pub(crate) use public::PublicKeyId;

use pbkdf2::pbkdf2_hmac_sha256;

/// The kind of a private key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyKind {
    /// RSA, with its modulus size in bits.
    Rsa {
        /// Modulus size.
        bits: usize,
    },
    /// ECDSA on NIST P-256.
    EcP256,
    /// ECDSA on NIST P-384.
    EcP384,
    /// ECDSA on NIST P-521.
    EcP521,
    /// Ed25519.
    Ed25519,
}

/// A private key, unencrypted, in zeroizing memory.
pub struct PrivateKey {
    pkcs8: Zeroizing<Vec<u8>>,
    public: PublicKeyId,
    kind: KeyKind,
}

pub(crate) const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
pub(crate) const OID_RSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
pub(crate) const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
pub(crate) const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
pub(crate) const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
pub(crate) const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
pub(crate) const OID_P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];

impl PrivateKey {
    /// Reads a key from PEM text: `PRIVATE KEY` (PKCS#8), `EC PRIVATE KEY`
    /// (SEC1) or `RSA PRIVATE KEY` (PKCS#1). Encrypted PEM is refused.
    pub fn from_pem(pem: &str) -> Result<Self, ExportError> {
        let bad = |reason| ExportError::BadPrivateKey {
            key: "PEM".into(),
            reason,
        };
        let (label, der) = pem_rfc7468::decode_vec(pem.trim().as_bytes()).map_err(|_| bad("not a PEM private key"))?;
        let der = Zeroizing::new(der);
        match label {
            "PRIVATE KEY" => Self::from_pkcs8_der(&der),
            "EC PRIVATE KEY" => Self::from_sec1_der(&der),
            "RSA PRIVATE KEY" => Self::from_pkcs1_der(&der),
            "ENCRYPTED PRIVATE KEY" => Err(bad("the key is encrypted; the store needs it unencrypted")),
            _ => Err(bad("the PEM label is not a private key")),
        }
    }

    /// Reads a DER key in any of the three forms, trying PKCS#8, then SEC1,
    /// then PKCS#1.
    pub fn from_der(der: &[u8]) -> Result<Self, ExportError> {
        Self::from_pkcs8_der(der)
            .or_else(|_| Self::from_sec1_der(der))
            .or_else(|_| Self::from_pkcs1_der(der))
            .map_err(|_| ExportError::BadPrivateKey {
                key: "DER".into(),
                reason: "not a PKCS#8, SEC1 or PKCS#1 private key",
            })
    }

    /// Reads an unencrypted PKCS#8 `PrivateKeyInfo` (or `OneAsymmetricKey`).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, ExportError> {
        let bad = |reason| ExportError::BadPrivateKey {
            key: "PKCS#8".into(),
            reason,
        };
        let malformed = |_| bad("malformed PKCS#8");
        let info = tlv::single(der, tag::SEQUENCE).map_err(malformed)?;
        let mut fields = Reader::new(info.value);
        let version = fields.expect(tag::INTEGER).map_err(malformed)?;
        if version.value != [0] && version.value != [1] {
            return Err(bad("unknown PKCS#8 version"));
        }
        let algorithm = fields.expect(tag::SEQUENCE).map_err(malformed)?;
        let private_key = fields.expect(tag::OCTET_STRING).map_err(malformed)?;
        let mut alg = Reader::new(algorithm.value);
        let oid = alg.expect(tag::OID).map_err(malformed)?;
        let (public, kind) = match oid.value {
            OID_RSA | OID_RSA_PSS => public::rsa_from_pkcs1(private_key.value)?,
            OID_EC_PUBLIC_KEY => {
                let curve = alg.expect(tag::OID).map_err(|_| bad("EC key without a named curve"))?;
                public::ec_from_sec1(private_key.value, Some(curve.value))?
            }
            OID_ED25519 => public::ed25519_from_seed(private_key.value)?,
            _ => {
                return Err(bad(
                    "unsupported key algorithm (RSA, EC P-256/P-384/P-521 and Ed25519 are)",
                ));
            }
        };
        Ok(Self {
            pkcs8: Zeroizing::new(der.to_vec()),
            public,
            kind,
        })
    }

    /// Reads a SEC1 `ECPrivateKey` (the `EC PRIVATE KEY` PEM label), which
    /// must name its curve.
    pub fn from_sec1_der(der: &[u8]) -> Result<Self, ExportError> {
        let (public, kind) = public::ec_from_sec1(der, None)?;
        let curve = match kind {
            KeyKind::EcP256 => OID_P256,
            KeyKind::EcP384 => OID_P384,
            _ => OID_P521,
        };
        let algorithm = tlv::encode(
            tag::SEQUENCE,
            &[
                &tlv::encode(tag::OID, &[OID_EC_PUBLIC_KEY]),
                &tlv::encode(tag::OID, &[curve]),
            ],
        );
        Ok(Self {
            pkcs8: wrap_pkcs8(&algorithm, der),
            public,
            kind,
        })
    }

    /// Reads a PKCS#1 `RSAPrivateKey` (the `RSA PRIVATE KEY` PEM label).
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, ExportError> {
        let (public, kind) = public::rsa_from_pkcs1(der)?;
        let algorithm = tlv::encode(tag::SEQUENCE, &[&tlv::encode(tag::OID, &[OID_RSA]), &[tag::NULL, 0]]);
        Ok(Self {
            pkcs8: wrap_pkcs8(&algorithm, der),
            public,
            kind,
        })
    }

    /// The kind of key.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The unencrypted PKCS#8 DER: the secret itself. Handle with care.
    pub fn secret_pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// Whether this key's public key is the one in `spki` (a DER
    /// `SubjectPublicKeyInfo`), compared as key values, not encodings.
    pub fn matches_public_key(&self, spki: &[u8]) -> bool {
        PublicKeyId::from_spki(spki).is_some_and(|id| id == self.public)
    }

    /// The fingerprint of the public key, as [`IndexKeys::public_key`](crate::store::IndexKeys::public_key)
    /// gives it for certificates: equal fingerprints, same key.
    pub fn public_key_fingerprint(&self) -> crate::store::PublicKeyFingerprint {
        self.public.fingerprint()
    }

    pub(crate) fn public_key_id(&self) -> &PublicKeyId {
        &self.public
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("kind", &self.kind)
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// `PrivateKeyInfo { version 0, algorithm, privateKey }`.
fn wrap_pkcs8(algorithm: &[u8], private_key: &[u8]) -> Zeroizing<Vec<u8>> {
    let octets = Zeroizing::new(tlv::encode(tag::OCTET_STRING, &[private_key]));
    Zeroizing::new(tlv::encode(tag::SEQUENCE, &[&[tag::INTEGER, 1, 0], algorithm, &octets]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let seed = [7u8; 32];
        let inner = tlv::encode(tag::OCTET_STRING, &[&seed]);
        let algorithm = tlv::encode(tag::SEQUENCE, &[&tlv::encode(tag::OID, &[OID_ED25519])]);
        let der = wrap_pkcs8(&algorithm, &inner);
        let key = PrivateKey::from_pkcs8_der(&der).unwrap();
        assert_eq!(key.kind(), KeyKind::Ed25519);
        let debug = format!("{key:?}");
        assert!(debug.contains("[redacted]"));
        assert!(!debug.contains("7, 7"));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for input in [
            &b""[..],
            b"\x30\x00",
            b"\x30\x03\x02\x01\x00",
            &[0x30, 0x05, 0x02, 0x01, 0x00, 0x30, 0x00],
        ] {
            assert!(PrivateKey::from_der(input).is_err());
        }
        assert!(PrivateKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").is_err());
        assert!(matches!(
            PrivateKey::from_pem("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n"),
            Err(ExportError::BadPrivateKey { reason, .. }) if reason.contains("encrypted")
        ));
    }
}
