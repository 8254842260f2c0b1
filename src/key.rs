//! Private keys: reading them and matching them to certificates,
//! and the password that protects them on export.
//!
//! A [`PrivateKey`] holds its PKCS#8 DER in zeroizing memory, has no
//! `Clone`, and its `Debug` prints `[redacted]` in place of the key. Keys
//! are read with RustCrypto's `pkcs8`, `sec1` and `pkcs1` (through `rsa`)
//! types; the public key is derived from the secret parts.

mod password;
pub(crate) mod public;

use std::fmt;

use der::asn1::{AnyRef, OctetStringRef};
use der::{Decode, Encode};
use p256::elliptic_curve::sec1::ToSec1Point;
use pkcs8::PrivateKeyInfoRef;
use spki::AlgorithmIdentifierRef;
use zeroize::Zeroizing;

use crate::error::ExportError;
use crate::oid;

pub use password::Password;
use public::Curve;
pub(crate) use public::PublicKeyId;

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

/// SHA-256 of a public key's value (not of its encoding: a compressed and
/// an uncompressed EC point, or RSA with and without leading zeros, give
/// the same fingerprint). [`PrivateKey::public_key_fingerprint`]
/// gives the fingerprint of a private key's public half.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKeyFingerprint(pub [u8; 32]);

/// A private key, unencrypted, in zeroizing memory.
pub struct PrivateKey {
    pkcs8: Zeroizing<Vec<u8>>,
    public: PublicKeyId,
    kind: KeyKind,
}

impl PrivateKey {
    /// Reads the one private key of PEM text: a `PRIVATE KEY` (PKCS#8),
    /// `EC PRIVATE KEY` (SEC1) or `RSA PRIVATE KEY` (PKCS#1) block, alone or
    /// among other blocks (a certificate and its key in one file, as
    /// servers keep them) and text between blocks. Text with no key, or
    /// with two, is refused; so is an `ENCRYPTED PRIVATE KEY`, which
    /// [`PrivateKey::from_encrypted`] reads with its password.
    ///
    /// ```
    /// use certexport::{KeyKind, PrivateKey};
    ///
    /// // A certificate and its key in one PEM file.
    /// let mut pem = std::fs::read("tests/data/manifest/a.example.com.pem")?;
    /// pem.extend(std::fs::read("tests/data/manifest/a.example.com.key")?);
    /// let key = PrivateKey::from_pem(&pem)?;
    /// assert_eq!(key.kind(), KeyKind::EcP256);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_pem(pem: impl AsRef<[u8]>) -> Result<Self, ExportError> {
        let bytes = pem.as_ref();
        let bad = |reason| bad_key("PEM", reason);
        let start = crate::formats::pem::first_block(bytes).ok_or(bad("no PEM block (-----BEGIN PRIVATE KEY-----)"))?;
        let blocks = crate::formats::pem::blocks(bytes, start).map_err(|_| bad("malformed PEM text"))?;
        let mut keys = blocks.iter().filter(|b| is_key_label(b.label));
        match (keys.next(), keys.next()) {
            (Some(key), None) => Self::from_pem_block(key.label, key.text),
            (None, _) => Err(bad(
                "no private key block (PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY)",
            )),
            (Some(_), Some(_)) => Err(bad("more than one private key block; give the one to use")),
        }
    }

    /// Reads a password-encrypted PKCS#8 key (`EncryptedPrivateKeyInfo`),
    /// as PEM (an `ENCRYPTED PRIVATE KEY` block, alone or among other
    /// blocks) or DER: PBES2 (PBKDF2 or scrypt, AES-CBC — what OpenSSL 3,
    /// Python `cryptography` and this crate write) or the legacy
    /// pbeWithSHAAnd3-KeyTripleDES-CBC. [`ExportError::WrongPassword`] when
    /// the password does not open it.
    ///
    /// ```
    /// use certexport::formats::{KeyEncoding, KeyEncryption, encrypted_pkcs8};
    /// use certexport::{ExportError, Password, PrivateKey};
    ///
    /// let key = PrivateKey::from_pem(std::fs::read("tests/data/manifest/a.example.com.key")?)?;
    /// let password = Password::new("s3cret!")?;
    /// let pem = encrypted_pkcs8(&key, &password, KeyEncryption::legacy_pkcs12_triple_des(), KeyEncoding::Pem)?;
    ///
    /// let again = PrivateKey::from_encrypted(&pem, &password)?;
    /// assert_eq!(again.secret_pkcs8_der(), key.secret_pkcs8_der());
    /// let wrong = PrivateKey::from_encrypted(&pem, &Password::new("guess")?);
    /// assert!(matches!(wrong, Err(ExportError::WrongPassword { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_encrypted(encrypted: impl AsRef<[u8]>, password: &Password) -> Result<Self, ExportError> {
        let bytes = encrypted.as_ref();
        let (what, der) = match crate::formats::pem::first_block(bytes) {
            Some(start) => {
                let blocks =
                    crate::formats::pem::blocks(bytes, start).map_err(|_| bad_key("PEM", "malformed PEM text"))?;
                let mut keys = blocks.iter().filter(|b| b.label == "ENCRYPTED PRIVATE KEY");
                let block = match (keys.next(), keys.next()) {
                    (Some(block), None) => block,
                    (None, _) => return Err(bad_key("PEM", "no ENCRYPTED PRIVATE KEY block")),
                    (Some(_), Some(_)) => return Err(bad_key("PEM", "more than one ENCRYPTED PRIVATE KEY block")),
                };
                let (_, der) = pem_rfc7468::decode_vec(block.text).map_err(|_| bad_key("PEM", "malformed PEM text"))?;
                ("PEM", Zeroizing::new(der))
            }
            None => ("DER", Zeroizing::new(bytes.to_vec())),
        };
        let plaintext = crate::formats::pbe::decrypt(&der, password).map_err(|e| match e {
            crate::formats::pbe::DecryptError::Unreadable(reason) => bad_key(what, reason),
            crate::formats::pbe::DecryptError::WrongPassword => ExportError::WrongPassword { key: what.into() },
        })?;
        // A wrong password can leave valid padding by chance (1 in 256 for
        // 3DES); the plaintext then is no key.
        Self::from_pkcs8_der(&plaintext).map_err(|_| ExportError::WrongPassword { key: what.into() })
    }

    /// The key of one PEM block (its whole text, BEGIN to END line).
    pub(crate) fn from_pem_block(label: &str, text: &[u8]) -> Result<Self, ExportError> {
        let bad = |reason| bad_key("PEM", reason);
        let (_, der) = pem_rfc7468::decode_vec(text).map_err(|_| bad("malformed PEM key block"))?;
        let der = Zeroizing::new(der);
        match label {
            "PRIVATE KEY" => Self::from_pkcs8_der(&der),
            "EC PRIVATE KEY" => Self::from_sec1_der(&der),
            "RSA PRIVATE KEY" => Self::from_pkcs1_der(&der),
            "ENCRYPTED PRIVATE KEY" => Err(bad(
                "the key is encrypted: read it with PrivateKey::from_encrypted and its password",
            )),
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
        let bad = |reason| bad_key("PKCS#8", reason);
        let info = PrivateKeyInfoRef::from_der(der).map_err(|_| bad("malformed PKCS#8"))?;
        let private_key = info.private_key.as_bytes();
        let (public, kind) = match info.algorithm.oid {
            oid::RSA_ENCRYPTION | oid::RSASSA_PSS => rsa_from_pkcs1(private_key)?,
            oid::EC_PUBLIC_KEY => {
                let curve = info
                    .algorithm
                    .parameters
                    .and_then(|p| p.decode_as::<der::asn1::ObjectIdentifier>().ok())
                    .ok_or(bad("EC key without a named curve"))?;
                ec_from_sec1(private_key, Some(curve))?
            }
            oid::ED25519 => ed25519_from_seed(private_key)?,
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
        let (public, kind) = ec_from_sec1(der, None)?;
        let PublicKeyId::Ec { curve, .. } = &public else {
            return Err(bad_key("EC", "not an EC key"));
        };
        let curve = curve.oid();
        let parameters = AnyRef::new(der::Tag::ObjectIdentifier, curve.as_bytes())
            .map_err(|_| bad_key("EC", "malformed EC private key"))?;
        Ok(Self {
            pkcs8: wrap_pkcs8(oid::EC_PUBLIC_KEY, Some(parameters), der)?,
            public,
            kind,
        })
    }

    /// Reads a PKCS#1 `RSAPrivateKey` (the `RSA PRIVATE KEY` PEM label).
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, ExportError> {
        let (public, kind) = rsa_from_pkcs1(der)?;
        Ok(Self {
            pkcs8: wrap_pkcs8(oid::RSA_ENCRYPTION, Some(AnyRef::NULL), der)?,
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

    /// The fingerprint of the public key, as `IndexKeys::public_key` gives
    /// it for certificates: equal fingerprints, same key.
    pub fn public_key_fingerprint(&self) -> PublicKeyFingerprint {
        self.public.fingerprint()
    }

    pub(crate) fn public_key_id(&self) -> &PublicKeyId {
        &self.public
    }
}

#[cfg(feature = "pki-types")]
#[cfg_attr(docsrs, doc(cfg(feature = "pki-types")))]
impl PrivateKey {
    /// The key as rustls holds it (PKCS#8), for a TLS server of one's own:
    /// a copy of the secret, which rustls zeroizes when dropped.
    pub fn to_private_key_der(&self) -> rustls_pki_types::PrivateKeyDer<'static> {
        rustls_pki_types::PrivatePkcs8KeyDer::from(self.pkcs8.to_vec()).into()
    }
}

/// A key from rustls' `PrivateKeyDer` (feature `pki-types`): PKCS#8, SEC1
/// or PKCS#1. The rustls value is dropped (and so zeroized) here.
#[cfg(feature = "pki-types")]
#[cfg_attr(docsrs, doc(cfg(feature = "pki-types")))]
impl TryFrom<rustls_pki_types::PrivateKeyDer<'_>> for PrivateKey {
    type Error = ExportError;

    fn try_from(der: rustls_pki_types::PrivateKeyDer<'_>) -> Result<Self, ExportError> {
        Self::try_from(&der)
    }
}

/// A key from a borrowed rustls `PrivateKeyDer` (feature `pki-types`).
#[cfg(feature = "pki-types")]
#[cfg_attr(docsrs, doc(cfg(feature = "pki-types")))]
impl TryFrom<&rustls_pki_types::PrivateKeyDer<'_>> for PrivateKey {
    type Error = ExportError;

    fn try_from(der: &rustls_pki_types::PrivateKeyDer<'_>) -> Result<Self, ExportError> {
        use rustls_pki_types::PrivateKeyDer;
        match der {
            PrivateKeyDer::Pkcs8(key) => Self::from_pkcs8_der(key.secret_pkcs8_der()),
            PrivateKeyDer::Sec1(key) => Self::from_sec1_der(key.secret_sec1_der()),
            PrivateKeyDer::Pkcs1(key) => Self::from_pkcs1_der(key.secret_pkcs1_der()),
            _ => Err(bad_key("PrivateKeyDer", "a key form this crate does not read")),
        }
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

/// Whether a PEM label is an unencrypted or encrypted private key.
fn is_key_label(label: &str) -> bool {
    matches!(
        label,
        "PRIVATE KEY" | "EC PRIVATE KEY" | "RSA PRIVATE KEY" | "ENCRYPTED PRIVATE KEY"
    )
}

fn bad_key(key: &str, reason: &'static str) -> ExportError {
    ExportError::BadPrivateKey {
        key: key.into(),
        reason,
    }
}

/// `PrivateKeyInfo { version 0, algorithm, privateKey }`, in zeroizing memory.
fn wrap_pkcs8(
    algorithm: der::asn1::ObjectIdentifier,
    parameters: Option<AnyRef<'_>>,
    private_key: &[u8],
) -> Result<Zeroizing<Vec<u8>>, ExportError> {
    let octets = OctetStringRef::new(private_key).map_err(|_| bad_key("key", "too large"))?;
    let info = PrivateKeyInfoRef::new(
        AlgorithmIdentifierRef {
            oid: algorithm,
            parameters,
        },
        octets,
    );
    let mut out = Zeroizing::new(Vec::new());
    info.encode_to_vec(&mut out).map_err(|_| bad_key("key", "too large"))?;
    Ok(out)
}

/// The public key of a PKCS#1 `RSAPrivateKey`, after checking that its
/// parts are consistent (n = p·q and the exponents agree).
fn rsa_from_pkcs1(der: &[u8]) -> Result<(PublicKeyId, KeyKind), ExportError> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::traits::PublicKeyParts;
    let key = rsa::PrivateKey::from_pkcs1_der(der).map_err(|_| bad_key("RSA", "malformed RSA private key"))?;
    key.validate()
        .map_err(|_| bad_key("RSA", "inconsistent RSA private key"))?;
    let n = key.n().to_be_bytes();
    let e = key.e().to_be_bytes();
    Ok((PublicKeyId::rsa(&n, &e), KeyKind::Rsa { bits: key.size() * 8 }))
}

/// The public key of a SEC1 `ECPrivateKey`, derived from its secret
/// scalar. `outer` is the curve named outside it (PKCS#8), if any; the
/// key's own parameters must agree with it.
fn ec_from_sec1(der: &[u8], outer: Option<der::asn1::ObjectIdentifier>) -> Result<(PublicKeyId, KeyKind), ExportError> {
    let key = sec1::EcPrivateKey::from_der(der).map_err(|_| bad_key("EC", "malformed EC private key"))?;
    let inner = key.parameters.map(|sec1::EcParameters::NamedCurve(oid)| oid);
    let named = match (outer, inner) {
        (Some(outer), Some(inner)) if outer != inner => return Err(bad_key("EC", "EC key names two different curves")),
        (Some(c), _) | (None, Some(c)) => c,
        (None, None) => return Err(bad_key("EC", "EC key without a named curve")),
    };
    let curve = Curve::from_oid(&named).ok_or(bad_key("EC", "unsupported curve (P-256, P-384 and P-521 are)"))?;
    let scalar = key.private_key;
    let invalid = |_| bad_key("EC", "the EC private scalar is out of range");
    let (point, kind): (Box<[u8]>, _) = match curve {
        Curve::P256 => (
            p256::SecretKey::from_slice(scalar)
                .map_err(invalid)?
                .public_key()
                .to_sec1_point(false)
                .as_bytes()
                .into(),
            KeyKind::EcP256,
        ),
        Curve::P384 => (
            p384::SecretKey::from_slice(scalar)
                .map_err(invalid)?
                .public_key()
                .to_sec1_point(false)
                .as_bytes()
                .into(),
            KeyKind::EcP384,
        ),
        Curve::P521 => (
            p521::SecretKey::from_slice(scalar)
                .map_err(invalid)?
                .public_key()
                .to_sec1_point(false)
                .as_bytes()
                .into(),
            KeyKind::EcP521,
        ),
    };
    Ok((PublicKeyId::Ec { curve, point }, kind))
}

/// The public key of an Ed25519 PKCS#8 `privateKey` (an OCTET STRING
/// holding the 32-byte seed, RFC 8410 §7).
fn ed25519_from_seed(private_key: &[u8]) -> Result<(PublicKeyId, KeyKind), ExportError> {
    let seed =
        <&OctetStringRef>::from_der(private_key).map_err(|_| bad_key("Ed25519", "malformed Ed25519 private key"))?;
    let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
        seed.as_bytes()
            .try_into()
            .map_err(|_| bad_key("Ed25519", "an Ed25519 seed has 32 bytes"))?,
    );
    let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key().to_bytes();
    Ok((PublicKeyId::Ed25519(public), KeyKind::Ed25519))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ed25519_pkcs8(seed: [u8; 32]) -> Zeroizing<Vec<u8>> {
        let inner = OctetStringRef::new(&seed).unwrap().to_der().unwrap();
        wrap_pkcs8(oid::ED25519, None, &inner).unwrap()
    }

    #[test]
    fn debug_never_shows_the_key() {
        let key = PrivateKey::from_pkcs8_der(&ed25519_pkcs8([7u8; 32])).unwrap();
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
