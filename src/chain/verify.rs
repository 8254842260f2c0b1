//! Does an issuer's public key verify a certificate's signature?
//!
//! Pure-Rust RustCrypto verifiers: RSA PKCS#1 v1.5 with SHA-1 (for old
//! roots), SHA-256, SHA-384 and SHA-512; RSA-PSS with those hashes and MGF1
//! over the same hash; ECDSA on P-256, P-384 and P-521 with SHA-256/384/512;
//! Ed25519. Anything else is [`Signature::Unsupported`], which chain
//! building treats as not verifying. Malformed keys or signatures are
//! [`Signature::Invalid`]; nothing here panics on input.

use der::Decode;
use der::asn1::ObjectIdentifier;
use rsa::pkcs1::RsaPssParamsOwned;
use sha2::Digest;
use spki::AlgorithmIdentifierRef;

use crate::certificate::CertificateView;
use crate::key::public::{Curve, SubjectKey};
use crate::oid;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn from_oid(oid: ObjectIdentifier) -> Option<Self> {
        match oid {
            oid::SHA1 => Some(Hash::Sha1),
            oid::SHA256 => Some(Hash::Sha256),
            oid::SHA384 => Some(Hash::Sha384),
            oid::SHA512 => Some(Hash::Sha512),
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
    let Some(key) = SubjectKey::parse(issuer_spki) else {
        return Signature::Unsupported;
    };
    let Some(algorithm) = Algorithm::parse(cert.signature_algorithm) else {
        return Signature::Unsupported;
    };
    let valid = match (key, algorithm) {
        (SubjectKey::Rsa(der), Algorithm::RsaPkcs1(hash)) => rsa_pkcs1(der, hash, cert.tbs, cert.signature),
        (SubjectKey::Rsa(der), Algorithm::RsaPss { hash, salt_len }) => {
            rsa_pss(der, hash, salt_len, cert.tbs, cert.signature)
        }
        (SubjectKey::Ec { curve, point }, Algorithm::Ecdsa(hash)) => {
            ecdsa(curve, point, &hash.digest(cert.tbs), cert.signature)
        }
        (SubjectKey::Ed25519(key), Algorithm::Ed25519) => ed25519(key, cert.tbs, cert.signature),
        _ => return Signature::Invalid,
    };
    if valid { Signature::Valid } else { Signature::Invalid }
}

enum Algorithm {
    RsaPkcs1(Hash),
    RsaPss { hash: Hash, salt_len: usize },
    Ecdsa(Hash),
    Ed25519,
}

impl Algorithm {
    fn parse(identifier: &[u8]) -> Option<Self> {
        let algorithm = AlgorithmIdentifierRef::from_der(identifier).ok()?;
        Some(match algorithm.oid {
            oid::SHA1_WITH_RSA => Algorithm::RsaPkcs1(Hash::Sha1),
            oid::SHA256_WITH_RSA => Algorithm::RsaPkcs1(Hash::Sha256),
            oid::SHA384_WITH_RSA => Algorithm::RsaPkcs1(Hash::Sha384),
            oid::SHA512_WITH_RSA => Algorithm::RsaPkcs1(Hash::Sha512),
            oid::ECDSA_WITH_SHA256 => Algorithm::Ecdsa(Hash::Sha256),
            oid::ECDSA_WITH_SHA384 => Algorithm::Ecdsa(Hash::Sha384),
            oid::ECDSA_WITH_SHA512 => Algorithm::Ecdsa(Hash::Sha512),
            oid::ED25519 => Algorithm::Ed25519,
            oid::RSASSA_PSS => Self::pss(algorithm.parameters?.decode_as::<RsaPssParamsOwned>().ok()?)?,
            _ => return None,
        })
    }

    /// `RSASSA-PSS-params` (RFC 4055 §3.1): MGF1 over the same hash as the
    /// message is all we verify (the `pkcs1` crate checks the trailer).
    fn pss(params: RsaPssParamsOwned) -> Option<Self> {
        let hash = Hash::from_oid(params.hash.oid)?;
        let mgf_hash = Hash::from_oid(params.mask_gen.parameters?.oid)?;
        (params.mask_gen.oid == oid::MGF1 && hash == mgf_hash).then_some(Algorithm::RsaPss {
            hash,
            salt_len: usize::from(params.salt_len),
        })
    }
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

fn ecdsa(curve: Curve, point: &[u8], prehash: &[u8], signature: &[u8]) -> bool {
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
        Curve::P256 => verify!(p256),
        Curve::P384 => verify!(p384),
        Curve::P521 => verify!(p521),
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
