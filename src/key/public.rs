//! Public keys: reading a `SubjectPublicKeyInfo` (the one place the crate
//! does, for key pairing and for signature checks alike), and the
//! public-key identity a private key and a certificate must share for the
//! key to be attached to the certificate.
//!
//! The identity is always derived from the private key's secret parts
//! (never taken from an optional copy stored beside them, which could lie),
//! and compared as a key value, so encodings that differ only in form —
//! an EC point compressed or not, RSA integers with leading zeros — match.

use der::asn1::{AnyRef, BitStringRef, UintRef};
use der::{Decode, Encode};
use p256::elliptic_curve::sec1::ToSec1Point;
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};

use super::PublicKeyFingerprint;
use crate::ids::trim_leading_zeros;
use crate::oid;

/// The NIST curves this crate reads keys on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    /// The curve a `namedCurve` OID names, if we support it.
    pub(crate) fn from_oid(oid: &der::asn1::ObjectIdentifier) -> Option<Self> {
        match *oid {
            oid::SECP256R1 => Some(Curve::P256),
            oid::SECP384R1 => Some(Curve::P384),
            oid::SECP521R1 => Some(Curve::P521),
            _ => None,
        }
    }

    pub(crate) fn oid(self) -> der::asn1::ObjectIdentifier {
        match self {
            Curve::P256 => oid::SECP256R1,
            Curve::P384 => oid::SECP384R1,
            Curve::P521 => oid::SECP521R1,
        }
    }

    /// The uncompressed form of a SEC1 point on the curve, if it is one.
    pub(crate) fn uncompressed(self, point: &[u8]) -> Option<Box<[u8]>> {
        Some(match self {
            Curve::P256 => p256::PublicKey::from_sec1_bytes(point)
                .ok()?
                .to_sec1_point(false)
                .as_bytes()
                .into(),
            Curve::P384 => p384::PublicKey::from_sec1_bytes(point)
                .ok()?
                .to_sec1_point(false)
                .as_bytes()
                .into(),
            Curve::P521 => p521::PublicKey::from_sec1_bytes(point)
                .ok()?
                .to_sec1_point(false)
                .as_bytes()
                .into(),
        })
    }
}

/// The key of a `SubjectPublicKeyInfo`, borrowed from its DER.
pub(crate) enum SubjectKey<'a> {
    /// RSA (or RSA-PSS): the PKCS#1 `RSAPublicKey` DER.
    Rsa(&'a [u8]),
    /// EC: the curve and the SEC1 point.
    Ec { curve: Curve, point: &'a [u8] },
    /// Ed25519: the 32-byte key (unchecked length).
    Ed25519(&'a [u8]),
}

impl<'a> SubjectKey<'a> {
    /// The key of a DER `SubjectPublicKeyInfo`, if it is of a kind we read.
    pub(crate) fn parse(spki: &'a [u8]) -> Option<Self> {
        let info = SubjectPublicKeyInfoRef::from_der(spki).ok()?;
        let key = info.subject_public_key.as_bytes()?;
        match info.algorithm.oid {
            oid::RSA_ENCRYPTION | oid::RSASSA_PSS => Some(SubjectKey::Rsa(key)),
            oid::EC_PUBLIC_KEY => {
                let curve = info
                    .algorithm
                    .parameters?
                    .decode_as::<der::asn1::ObjectIdentifier>()
                    .ok()?;
                Some(SubjectKey::Ec {
                    curve: Curve::from_oid(&curve)?,
                    point: key,
                })
            }
            oid::ED25519 => Some(SubjectKey::Ed25519(key)),
            _ => None,
        }
    }
}

/// A public key as a comparable value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum PublicKeyId {
    /// Modulus and public exponent, without leading zeros.
    Rsa { n: Box<[u8]>, e: Box<[u8]> },
    /// Curve and uncompressed point.
    Ec { curve: Curve, point: Box<[u8]> },
    /// The 32-byte Ed25519 public key.
    Ed25519([u8; 32]),
}

impl PublicKeyId {
    /// The key of a DER `SubjectPublicKeyInfo`, if it is of a kind we know.
    pub(crate) fn from_spki(spki: &[u8]) -> Option<Self> {
        match SubjectKey::parse(spki)? {
            SubjectKey::Rsa(pkcs1) => {
                let key = rsa::pkcs1::RsaPublicKey::<UintRef<'_>>::from_der(pkcs1).ok()?;
                Some(Self::rsa(key.modulus.as_bytes(), key.public_exponent.as_bytes()))
            }
            SubjectKey::Ec { curve, point } => Some(PublicKeyId::Ec {
                curve,
                point: curve.uncompressed(point)?,
            }),
            SubjectKey::Ed25519(key) => Some(PublicKeyId::Ed25519(key.try_into().ok()?)),
        }
    }

    /// An RSA key from its big-endian modulus and exponent.
    pub(crate) fn rsa(n: &[u8], e: &[u8]) -> Self {
        PublicKeyId::Rsa {
            n: trim_leading_zeros(n).into(),
            e: trim_leading_zeros(e).into(),
        }
    }

    /// The `SubjectPublicKeyInfo` encodings certificates use for this key:
    /// the canonical one first, then the variants seen in the wild (RSA
    /// without the NULL parameters, a compressed EC point).
    pub(crate) fn spki_encodings(&self) -> Vec<Vec<u8>> {
        let encode = |oid, parameters: Option<AnyRef<'_>>, key: &[u8]| {
            let subject_public_key = BitStringRef::from_bytes(key).ok()?;
            SubjectPublicKeyInfoRef {
                algorithm: AlgorithmIdentifierRef { oid, parameters },
                subject_public_key,
            }
            .to_der()
            .ok()
        };
        let encodings = match self {
            PublicKeyId::Rsa { n, e } => {
                let Some(key) = rsa_public_key_der(n, e) else {
                    return Vec::new();
                };
                vec![
                    encode(oid::RSA_ENCRYPTION, Some(AnyRef::NULL), &key),
                    encode(oid::RSA_ENCRYPTION, None, &key),
                ]
            }
            PublicKeyId::Ec { curve, point } => {
                let curve_oid = curve.oid();
                let parameters = AnyRef::new(der::Tag::ObjectIdentifier, curve_oid.as_bytes()).ok();
                let coordinate = (point.len() - 1) / 2;
                let mut compressed = vec![0x02 | (point[point.len() - 1] & 1)];
                compressed.extend_from_slice(&point[1..=coordinate]);
                vec![
                    encode(oid::EC_PUBLIC_KEY, parameters, point),
                    encode(oid::EC_PUBLIC_KEY, parameters, &compressed),
                ]
            }
            PublicKeyId::Ed25519(key) => vec![encode(oid::ED25519, None, key)],
        };
        encodings.into_iter().flatten().collect()
    }

    /// SHA-256 over a canonical encoding of the key value: a kind, then
    /// length-prefixed parts.
    pub(crate) fn fingerprint(&self) -> PublicKeyFingerprint {
        use sha2::Digest;
        let mut hash = sha2::Sha256::new();
        let mut part = |bytes: &[u8]| {
            hash.update((bytes.len() as u32).to_be_bytes());
            hash.update(bytes);
        };
        match self {
            PublicKeyId::Rsa { n, e } => {
                part(b"rsa");
                part(n);
                part(e);
            }
            PublicKeyId::Ec { curve, point } => {
                part(b"ec");
                part(curve.oid().as_bytes());
                part(point);
            }
            PublicKeyId::Ed25519(key) => {
                part(b"ed25519");
                part(key);
            }
        }
        PublicKeyFingerprint(hash.finalize().into())
    }
}

/// The PKCS#1 `RSAPublicKey` DER of a modulus and exponent.
fn rsa_public_key_der(n: &[u8], e: &[u8]) -> Option<Vec<u8>> {
    rsa::pkcs1::RsaPublicKey {
        modulus: UintRef::new(n).ok()?,
        public_exponent: UintRef::new(e).ok()?,
    }
    .to_der()
    .ok()
}
