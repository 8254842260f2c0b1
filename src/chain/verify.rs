//! Does an issuer's public key verify a certificate's signature?
//!
//! Pure-Rust RustCrypto verifiers: RSA PKCS#1 v1.5 with SHA-1 (for old
//! roots), SHA-256, SHA-384 and SHA-512; RSA-PSS with those hashes and MGF1
//! over the same hash; ECDSA on P-256, P-384 and P-521 with SHA-256/384/512;
//! Ed25519. Anything else is [`Signature::Unsupported`], which chain
//! building treats as not verifying. Malformed keys or signatures are
//! [`Signature::Invalid`]; nothing here panics on input.

use sha2::Digest;

use crate::certificate::CertificateView;
use crate::key::{OID_EC_PUBLIC_KEY, OID_ED25519, OID_P256, OID_P384, OID_P521, OID_RSA, OID_RSA_PSS};
use crate::tlv::{self, Reader, tag};

/// The outcome of a signature check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signature {
    /// The key verifies the signature.
    Valid,
    /// It does not (or the key or signature is malformed).
    Invalid,
    /// The algorithm is not one we verify.
    Unsupported,
}

const SHA1_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05];
const SHA256_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
const SHA384_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c];
const SHA512_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d];
const ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const ECDSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
const ECDSA_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04];
const OID_SHA1: &[u8] = &[0x2b, 0x0e, 0x03, 0x02, 0x1a];
const OID_SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
const OID_SHA384: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02];
const OID_SHA512: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03];
const OID_MGF1: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn from_oid(oid: &[u8]) -> Option<Self> {
        match oid {
            OID_SHA1 => Some(Hash::Sha1),
            OID_SHA256 => Some(Hash::Sha256),
            OID_SHA384 => Some(Hash::Sha384),
            OID_SHA512 => Some(Hash::Sha512),
            _ => None,
        }
    }

    fn digest(self, message: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha1 => sha1::Sha1::digest(message).to_vec(),
            Hash::Sha256 => sha2::Sha256::digest(message).to_vec(),
            Hash::Sha384 => sha2::Sha384::digest(message).to_vec(),
            Hash::Sha512 => sha2::Sha512::digest(message).to_vec(),
        }
    }
}

/// Checks `cert`'s signature with the public key `issuer_spki` (a DER
/// `SubjectPublicKeyInfo`).
pub(crate) fn check(issuer_spki: &[u8], cert: &CertificateView<'_>) -> Signature {
    let Some(key) = PublicKey::parse(issuer_spki) else {
        return Signature::Unsupported;
    };
    let Some(algorithm) = Algorithm::parse(cert.signature_algorithm) else {
        return Signature::Unsupported;
    };
    let valid = match (key, algorithm) {
        (PublicKey::Rsa(der), Algorithm::RsaPkcs1(hash)) => rsa_pkcs1(der, hash, cert.tbs, cert.signature),
        (PublicKey::Rsa(der), Algorithm::RsaPss { hash, salt_len }) => {
            rsa_pss(der, hash, salt_len, cert.tbs, cert.signature)
        }
        (PublicKey::Ec { curve, point }, Algorithm::Ecdsa(hash)) => {
            ecdsa(curve, point, &hash.digest(cert.tbs), cert.signature)
        }
        (PublicKey::Ed25519(key), Algorithm::Ed25519) => ed25519(key, cert.tbs, cert.signature),
        _ => return Signature::Invalid,
    };
    if valid { Signature::Valid } else { Signature::Invalid }
}

enum PublicKey<'a> {
    /// The PKCS#1 `RSAPublicKey` DER.
    Rsa(&'a [u8]),
    Ec {
        curve: &'a [u8],
        point: &'a [u8],
    },
    Ed25519(&'a [u8]),
}

impl<'a> PublicKey<'a> {
    fn parse(spki: &'a [u8]) -> Option<Self> {
        let info = tlv::single(spki, tag::SEQUENCE).ok()?;
        let mut fields = Reader::new(info.value);
        let algorithm = fields.expect(tag::SEQUENCE).ok()?;
        let (&0, key) = fields.expect(tag::BIT_STRING).ok()?.value.split_first()? else {
            return None;
        };
        let mut alg = Reader::new(algorithm.value);
        match alg.expect(tag::OID).ok()?.value {
            OID_RSA | OID_RSA_PSS => Some(PublicKey::Rsa(key)),
            OID_EC_PUBLIC_KEY => Some(PublicKey::Ec {
                curve: alg.expect(tag::OID).ok()?.value,
                point: key,
            }),
            OID_ED25519 => Some(PublicKey::Ed25519(key)),
            _ => None,
        }
    }
}

enum Algorithm {
    RsaPkcs1(Hash),
    RsaPss { hash: Hash, salt_len: usize },
    Ecdsa(Hash),
    Ed25519,
}

impl Algorithm {
    fn parse(identifier: &[u8]) -> Option<Self> {
        let sequence = tlv::single(identifier, tag::SEQUENCE).ok()?;
        let mut fields = Reader::new(sequence.value);
        let oid = fields.expect(tag::OID).ok()?.value;
        Some(match oid {
            SHA1_WITH_RSA => Algorithm::RsaPkcs1(Hash::Sha1),
            SHA256_WITH_RSA => Algorithm::RsaPkcs1(Hash::Sha256),
            SHA384_WITH_RSA => Algorithm::RsaPkcs1(Hash::Sha384),
            SHA512_WITH_RSA => Algorithm::RsaPkcs1(Hash::Sha512),
            ECDSA_SHA256 => Algorithm::Ecdsa(Hash::Sha256),
            ECDSA_SHA384 => Algorithm::Ecdsa(Hash::Sha384),
            ECDSA_SHA512 => Algorithm::Ecdsa(Hash::Sha512),
            OID_ED25519 => Algorithm::Ed25519,
            OID_RSA_PSS => Self::pss(fields.expect(tag::SEQUENCE).ok()?.value)?,
            _ => return None,
        })
    }

    /// `RSASSA-PSS-params` (RFC 4055 §3.1): hash `[0]` (default SHA-1),
    /// MGF `[1]` (MGF1 over the same hash is all we verify), salt length
    /// `[2]` (default 20), trailer `[3]` (must be 1).
    fn pss(params: &[u8]) -> Option<Self> {
        let mut fields = Reader::new(params);
        let hash = match fields.optional(tag::CONTEXT_0).ok()? {
            Some(h) => hash_of_identifier(tlv::single(h.value, tag::SEQUENCE).ok()?.value)?,
            None => Hash::Sha1,
        };
        let mgf_hash = match fields.optional(tag::CONTEXT_1).ok()? {
            Some(m) => {
                let mgf = tlv::single(m.value, tag::SEQUENCE).ok()?;
                let mut parts = Reader::new(mgf.value);
                if parts.expect(tag::OID).ok()?.value != OID_MGF1 {
                    return None;
                }
                hash_of_identifier(parts.expect(tag::SEQUENCE).ok()?.value)?
            }
            None => Hash::Sha1,
        };
        let salt_len = match fields.optional(0xa2).ok()? {
            Some(s) => small_uint(tlv::single(s.value, tag::INTEGER).ok()?.value)?,
            None => 20,
        };
        if let Some(t) = fields.optional(0xa3).ok()? {
            if small_uint(tlv::single(t.value, tag::INTEGER).ok()?.value)? != 1 {
                return None;
            }
        }
        fields.finish().ok()?;
        (hash == mgf_hash).then_some(Algorithm::RsaPss { hash, salt_len })
    }
}

/// The hash of an `AlgorithmIdentifier`'s contents (parameters NULL or absent).
fn hash_of_identifier(contents: &[u8]) -> Option<Hash> {
    let mut fields = Reader::new(contents);
    let hash = Hash::from_oid(fields.expect(tag::OID).ok()?.value)?;
    fields.optional(tag::NULL).ok()?;
    fields.finish().ok()?;
    Some(hash)
}

fn small_uint(content: &[u8]) -> Option<usize> {
    if content.is_empty() || content.len() > 4 || content[0] & 0x80 != 0 {
        return None;
    }
    Some(content.iter().fold(0usize, |acc, &b| acc << 8 | usize::from(b)))
}

fn rsa_public_key(der: &[u8]) -> Option<rsa::PublicKey> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    rsa::PublicKey::from_pkcs1_der(der).ok()
}

fn rsa_pkcs1(key: &[u8], hash: Hash, message: &[u8], signature: &[u8]) -> bool {
    let Some(key) = rsa_public_key(key) else { return false };
    let scheme = match hash {
        Hash::Sha1 => rsa::Pkcs1v15Sign::new::<sha1::Sha1>(),
        Hash::Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
        Hash::Sha384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
        Hash::Sha512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
    };
    key.verify(scheme, &hash.digest(message), signature).is_ok()
}

fn rsa_pss(key: &[u8], hash: Hash, salt_len: usize, message: &[u8], signature: &[u8]) -> bool {
    let Some(key) = rsa_public_key(key) else { return false };
    let digest = hash.digest(message);
    match hash {
        Hash::Sha1 => key.verify(rsa::Pss::<sha1::Sha1>::new_with_salt(salt_len), &digest, signature),
        Hash::Sha256 => key.verify(rsa::Pss::<sha2::Sha256>::new_with_salt(salt_len), &digest, signature),
        Hash::Sha384 => key.verify(rsa::Pss::<sha2::Sha384>::new_with_salt(salt_len), &digest, signature),
        Hash::Sha512 => key.verify(rsa::Pss::<sha2::Sha512>::new_with_salt(salt_len), &digest, signature),
    }
    .is_ok()
}

fn ecdsa(curve: &[u8], point: &[u8], prehash: &[u8], signature: &[u8]) -> bool {
    use ecdsa::signature::hazmat::PrehashVerifier;
    macro_rules! verify {
        ($curve:ident) => {{
            let Ok(key) = $curve::ecdsa::VerifyingKey::from_sec1_bytes(point) else {
                return false;
            };
            let Ok(signature) = $curve::ecdsa::DerSignature::from_bytes(signature) else {
                return false;
            };
            key.verify_prehash(prehash, &signature).is_ok()
        }};
    }
    match curve {
        OID_P256 => verify!(p256),
        OID_P384 => verify!(p384),
        OID_P521 => verify!(p521),
        _ => false,
    }
}

fn ed25519(key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let Ok(key) = <&[u8; 32]>::try_from(key) else {
        return false;
    };
    let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(key) else {
        return false;
    };
    let Ok(signature) = ed25519_dalek::Signature::from_slice(signature) else {
        return false;
    };
    key.verify_strict(message, &signature).is_ok()
}
