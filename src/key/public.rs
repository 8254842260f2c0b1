//! Public-key identity: what a private key and a certificate must share for
//! the key to be attached to the certificate.
//!
//! The public key is always derived from the private key's secret parts
//! (never taken from an optional copy stored beside them, which could lie),
//! and compared as a key value, so encodings that differ only in form —
//! an EC point compressed or not, RSA integers with leading zeros — match.

use p256::elliptic_curve::sec1::ToSec1Point;

use super::{KeyKind, OID_EC_PUBLIC_KEY, OID_ED25519, OID_P256, OID_P384, OID_P521, OID_RSA, OID_RSA_PSS};
use crate::error::ExportError;
use crate::ids::trim_leading_zeros;
use crate::store::PublicKeyFingerprint;
use crate::tlv::{self, Reader, tag};

/// A public key as a comparable value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum PublicKeyId {
    /// Modulus and public exponent, without leading zeros.
    Rsa { n: Box<[u8]>, e: Box<[u8]> },
    /// Curve OID and uncompressed point.
    Ec { curve: &'static [u8], point: Box<[u8]> },
    /// The 32-byte Ed25519 public key.
    Ed25519([u8; 32]),
}

impl PublicKeyId {
    /// The key of a DER `SubjectPublicKeyInfo`, if it is of a kind we know.
    pub(crate) fn from_spki(spki: &[u8]) -> Option<Self> {
        let info = tlv::single(spki, tag::SEQUENCE).ok()?;
        let mut fields = Reader::new(info.value);
        let algorithm = fields.expect(tag::SEQUENCE).ok()?;
        let bits = fields.expect(tag::BIT_STRING).ok()?;
        fields.finish().ok()?;
        let (&0, key) = bits.value.split_first()? else {
            return None;
        };
        let mut alg = Reader::new(algorithm.value);
        match alg.expect(tag::OID).ok()?.value {
            OID_RSA | OID_RSA_PSS => {
                let sequence = tlv::single(key, tag::SEQUENCE).ok()?;
                let mut ints = Reader::new(sequence.value);
                let n = ints.expect(tag::INTEGER).ok()?.value;
                let e = ints.expect(tag::INTEGER).ok()?.value;
                ints.finish().ok()?;
                Some(rsa_id(n, e))
            }
            OID_EC_PUBLIC_KEY => {
                let curve = alg.expect(tag::OID).ok()?.value;
                let (curve, _) = curve_of(curve)?;
                Some(PublicKeyId::Ec {
                    curve,
                    point: uncompressed(curve, key)?,
                })
            }
            OID_ED25519 => Some(PublicKeyId::Ed25519(key.try_into().ok()?)),
            _ => None,
        }
    }
}

impl PublicKeyId {
    /// The `SubjectPublicKeyInfo` encodings certificates use for this key:
    /// the canonical one first, then the variants seen in the wild (RSA
    /// without the NULL parameters, a compressed EC point).
    pub(crate) fn spki_encodings(&self) -> Vec<Vec<u8>> {
        let spki = |algorithm: &[&[u8]], key: &[u8]| {
            let algorithm = tlv::encode(tag::SEQUENCE, algorithm);
            tlv::encode(
                tag::SEQUENCE,
                &[&algorithm, &tlv::encode(tag::BIT_STRING, &[&[0], key])],
            )
        };
        let oid = |oid: &[u8]| tlv::encode(tag::OID, &[oid]);
        match self {
            PublicKeyId::Rsa { n, e } => {
                let rsa_key = tlv::encode(tag::SEQUENCE, &[&tlv::unsigned_integer(n), &tlv::unsigned_integer(e)]);
                vec![
                    spki(&[&oid(OID_RSA), &[tag::NULL, 0]], &rsa_key),
                    spki(&[&oid(OID_RSA)], &rsa_key),
                ]
            }
            PublicKeyId::Ec { curve, point } => {
                let algorithm: [&[u8]; 2] = [&oid(OID_EC_PUBLIC_KEY), &oid(curve)];
                let coordinate = (point.len() - 1) / 2;
                let mut compressed = vec![0x02 | (point[point.len() - 1] & 1)];
                compressed.extend_from_slice(&point[1..=coordinate]);
                vec![spki(&algorithm, point), spki(&algorithm, &compressed)]
            }
            PublicKeyId::Ed25519(key) => vec![spki(&[&oid(OID_ED25519)], key)],
        }
    }
}

impl PublicKeyId {
    /// SHA-256 over a canonical encoding of the key value: a kind byte,
    /// then length-prefixed parts.
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
                part(curve);
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

fn rsa_id(n: &[u8], e: &[u8]) -> PublicKeyId {
    PublicKeyId::Rsa {
        n: trim_leading_zeros(n).into(),
        e: trim_leading_zeros(e).into(),
    }
}

fn bad(key: &str, reason: &'static str) -> ExportError {
    ExportError::BadPrivateKey {
        key: key.into(),
        reason,
    }
}

/// The public key of a PKCS#1 `RSAPrivateKey`, after checking that its
/// parts are consistent (n = p·q and the exponents agree).
pub(super) fn rsa_from_pkcs1(der: &[u8]) -> Result<(PublicKeyId, KeyKind), ExportError> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::traits::PublicKeyParts;
    let key = rsa::PrivateKey::from_pkcs1_der(der).map_err(|_| bad("RSA", "malformed RSA private key"))?;
    key.validate().map_err(|_| bad("RSA", "inconsistent RSA private key"))?;
    let n = key.n().to_be_bytes();
    let e = key.e().to_be_bytes();
    Ok((rsa_id(&n, &e), KeyKind::Rsa { bits: key.size() * 8 }))
}

/// The public key of a SEC1 `ECPrivateKey`, derived from its secret
/// scalar. `curve` is the curve named outside it (PKCS#8), if any; the
/// key's own `[0]` parameters must agree with it.
pub(super) fn ec_from_sec1(der: &[u8], curve: Option<&[u8]>) -> Result<(PublicKeyId, KeyKind), ExportError> {
    let malformed = |_| bad("EC", "malformed EC private key");
    let key = tlv::single(der, tag::SEQUENCE).map_err(malformed)?;
    let mut fields = Reader::new(key.value);
    if fields.expect(tag::INTEGER).map_err(malformed)?.value != [1] {
        return Err(bad("EC", "unknown EC private key version"));
    }
    let scalar = fields.expect(tag::OCTET_STRING).map_err(malformed)?.value;
    let inner_curve = match fields.optional(tag::CONTEXT_0).map_err(malformed)? {
        Some(params) => Some(
            tlv::single(params.value, tag::OID)
                .map_err(|_| bad("EC", "EC key parameters are not a named curve"))?
                .value,
        ),
        None => None,
    };
    let named = match (curve, inner_curve) {
        (Some(outer), Some(inner)) if outer != inner => return Err(bad("EC", "EC key names two different curves")),
        (Some(c), _) | (None, Some(c)) => c,
        (None, None) => return Err(bad("EC", "EC key without a named curve")),
    };
    let (curve, kind) = curve_of(named).ok_or_else(|| bad("EC", "unsupported curve (P-256, P-384 and P-521 are)"))?;
    let invalid = |_| bad("EC", "the EC private scalar is out of range");
    let point: Box<[u8]> = match kind {
        KeyKind::EcP256 => p256::SecretKey::from_slice(scalar)
            .map_err(invalid)?
            .public_key()
            .to_sec1_point(false)
            .as_bytes()
            .into(),
        KeyKind::EcP384 => p384::SecretKey::from_slice(scalar)
            .map_err(invalid)?
            .public_key()
            .to_sec1_point(false)
            .as_bytes()
            .into(),
        _ => p521::SecretKey::from_slice(scalar)
            .map_err(invalid)?
            .public_key()
            .to_sec1_point(false)
            .as_bytes()
            .into(),
    };
    Ok((PublicKeyId::Ec { curve, point }, kind))
}

/// The public key of an Ed25519 PKCS#8 `privateKey` (an OCTET STRING
/// holding the 32-byte seed, RFC 8410).
pub(super) fn ed25519_from_seed(private_key: &[u8]) -> Result<(PublicKeyId, KeyKind), ExportError> {
    let seed =
        tlv::single(private_key, tag::OCTET_STRING).map_err(|_| bad("Ed25519", "malformed Ed25519 private key"))?;
    let seed: &[u8; 32] = seed
        .value
        .try_into()
        .map_err(|_| bad("Ed25519", "an Ed25519 seed has 32 bytes"))?;
    let public = ed25519_dalek::SigningKey::from_bytes(seed).verifying_key().to_bytes();
    Ok((PublicKeyId::Ed25519(public), KeyKind::Ed25519))
}

fn curve_of(oid: &[u8]) -> Option<(&'static [u8], KeyKind)> {
    match oid {
        OID_P256 => Some((OID_P256, KeyKind::EcP256)),
        OID_P384 => Some((OID_P384, KeyKind::EcP384)),
        OID_P521 => Some((OID_P521, KeyKind::EcP521)),
        _ => None,
    }
}

/// The uncompressed form of a SEC1 point on `curve`, checking it is on it.
fn uncompressed(curve: &'static [u8], point: &[u8]) -> Option<Box<[u8]>> {
    let out: Box<[u8]> = match curve {
        OID_P256 => p256::PublicKey::from_sec1_bytes(point)
            .ok()?
            .to_sec1_point(false)
            .as_bytes()
            .into(),
        OID_P384 => p384::PublicKey::from_sec1_bytes(point)
            .ok()?
            .to_sec1_point(false)
            .as_bytes()
            .into(),
        _ => p521::PublicKey::from_sec1_bytes(point)
            .ok()?
            .to_sec1_point(false)
            .as_bytes()
            .into(),
    };
    Some(out)
}
