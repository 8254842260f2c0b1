//! PKCS#12 / PFX (RFC 7292) with a key and its certificates.
//!
//! Layout, as OpenSSL 3 writes it: `PFX { version 3, authSafe, macData }`
//! where the AuthenticatedSafe holds two ContentInfos — the certificate
//! bags, encrypted (`EncryptedData`), then the shrouded key bag (`Data`).
//! The MAC is HMAC over the AuthenticatedSafe's DER, with its key from the
//! PKCS#12 KDF (id 3) over the MAC's hash.
//!
//! | profile | key bag | certificate bags | MAC |
//! | --- | --- | --- | --- |
//! | Modern | PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC | the same | HMAC-SHA256 |
//! | Legacy | pbeWithSHAAnd3-KeyTripleDES-CBC | pbeWithSHAAnd3-KeyTripleDES-CBC | HMAC-SHA1 |
//!
//! The legacy profile encrypts certificates with 3DES rather than 40-bit
//! RC2: every reader of the legacy format (Windows Server 2016 and older,
//! Java 8, OpenSSL `-legacy`) opens 3DES certificate bags, and Windows
//! itself writes them ("TripleDES-SHA1"), while RC2-40 gives no protection.
//!
//! Attributes: `localKeyId` (the SHA-1 of the end-entity certificate) on
//! the key bag and the end-entity certificate bag only — on CA
//! certificates it makes Apple's importer drop them; `friendlyName` on the
//! same two; the Microsoft CSP name (1.3.6.1.4.1.311.17.1) on the key bag
//! when one is asked for.
//!
//! Iterations are bounded as for key encryption (1 to
//! `KeyEncryption::MAX_ITERATIONS`) before anything is derived: OpenSSL
//! refuses a PFX whose PBKDF2 runs 0 times, and neither the modern
//! profile's PBES2 nor either profile's MAC passes through
//! `KeyEncryption::encrypt`, which checks the count for PEM keys.

use hmac::{KeyInit, Mac};
use sha1::Digest;
use zeroize::Zeroizing;

use crate::ExportError;
use crate::key::{Encrypted, KeyEncryption, Password, pbes2_aes256cbc, pkcs12_kdf};
use crate::random::{self, RandomSource};
use crate::request::PfxProfile;
use crate::tlv::{self, tag};

const DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
const ENCRYPTED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x06];
const CERT_BAG: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x03];
const SHROUDED_KEY_BAG: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x02];
const X509_CERTIFICATE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x16, 0x01];
const FRIENDLY_NAME: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x14];
const LOCAL_KEY_ID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x15];
const MS_CSP_NAME: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x11, 0x01];
const SHA1: &[u8] = &[0x2b, 0x0e, 0x03, 0x02, 0x1a];
const SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];

/// What goes into one PFX.
pub(crate) struct PfxContents<'a> {
    /// The unencrypted PKCS#8 key.
    pub(crate) pkcs8: &'a [u8],
    /// The end-entity certificate's DER.
    pub(crate) end_entity: &'a [u8],
    /// All certificates in output order, the end-entity one among them.
    pub(crate) certificates: &'a [&'a [u8]],
    pub(crate) friendly_name: &'a str,
    pub(crate) csp: Option<&'a str>,
}

/// The DER PFX.
pub(crate) fn encode(
    contents: &PfxContents<'_>,
    password: &Password,
    profile: PfxProfile,
    iterations: u32,
    rng: &dyn RandomSource,
) -> Result<Vec<u8>, ExportError> {
    let local_key_id: [u8; 20] = sha1::Sha1::digest(contents.end_entity).into();
    let friendly_name = attribute(FRIENDLY_NAME, &bmp_string("friendly name", contents.friendly_name)?);
    let key_id = attribute(LOCAL_KEY_ID, &tlv::encode(tag::OCTET_STRING, &[&local_key_id]));

    let encrypt = |plaintext: &[u8]| -> Result<Encrypted, ExportError> {
        match profile {
            PfxProfile::Modern => pbes2_aes256cbc(password, plaintext, iterations, rng),
            PfxProfile::Legacy => KeyEncryption::LegacyPkcs12TripleDes { iterations }.encrypt(password, plaintext, rng),
        }
    };

    let cert_bags: Vec<Vec<u8>> = contents
        .certificates
        .iter()
        .map(|der| {
            let cert_bag = tlv::encode(
                tag::SEQUENCE,
                &[
                    &tlv::encode(tag::OID, &[X509_CERTIFICATE]),
                    &explicit0(&tlv::encode(tag::OCTET_STRING, &[der])),
                ],
            );
            let attributes: Vec<&[u8]> = if *der == contents.end_entity {
                vec![&friendly_name, &key_id]
            } else {
                Vec::new()
            };
            safe_bag(CERT_BAG, &cert_bag, &attributes)
        })
        .collect();
    let cert_safe = tlv::encode(tag::SEQUENCE, &cert_bags.iter().map(Vec::as_slice).collect::<Vec<_>>());
    let encrypted_certs = encrypt(&cert_safe)?;
    let encrypted_content_info = tlv::encode(
        tag::SEQUENCE,
        &[
            &tlv::encode(tag::OID, &[DATA]),
            &encrypted_certs.algorithm,
            &tlv::encode(tag::CONTEXT_PRIM_0, &[&encrypted_certs.ciphertext]),
        ],
    );
    let encrypted_data = tlv::encode(tag::SEQUENCE, &[&[tag::INTEGER, 1, 0], &encrypted_content_info]);
    let certs_info = content_info(ENCRYPTED_DATA, &encrypted_data);

    let shrouded_key = Zeroizing::new(encrypt(contents.pkcs8)?.to_encrypted_private_key_info());
    let csp = contents
        .csp
        .map(|name| Ok::<_, ExportError>(attribute(MS_CSP_NAME, &bmp_string("CSP name", name)?)))
        .transpose()?;
    let mut key_attributes: Vec<&[u8]> = vec![&friendly_name, &key_id];
    key_attributes.extend(csp.as_deref());
    let key_safe = tlv::encode(
        tag::SEQUENCE,
        &[&safe_bag(SHROUDED_KEY_BAG, &shrouded_key, &key_attributes)],
    );
    let key_info = content_info(DATA, &tlv::encode(tag::OCTET_STRING, &[&key_safe]));

    let authenticated_safe = tlv::encode(tag::SEQUENCE, &[&certs_info, &key_info]);
    let mac_data = mac_data(&authenticated_safe, password, profile, iterations, rng)?;
    let auth_safe = content_info(DATA, &tlv::encode(tag::OCTET_STRING, &[&authenticated_safe]));
    Ok(tlv::encode(
        tag::SEQUENCE,
        &[&[tag::INTEGER, 1, 3], &auth_safe, &mac_data],
    ))
}

/// `MacData { DigestInfo { hash, HMAC }, salt, iterations DEFAULT 1 }`
/// (RFC 7292 §4).
fn mac_data(
    authenticated_safe: &[u8],
    password: &Password,
    profile: PfxProfile,
    iterations: u32,
    rng: &dyn RandomSource,
) -> Result<Vec<u8>, ExportError> {
    use pkcs12::kdf::Pkcs12KeyType;
    let salt = random::bytes::<16>(rng)?;
    let (hash_oid, mac) = match profile {
        PfxProfile::Modern => {
            let key = pkcs12_kdf::<sha2::Sha256>(password, &salt, Pkcs12KeyType::Mac, iterations, 32)?;
            let mut hmac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).map_err(|_| mac_key_error())?;
            hmac.update(authenticated_safe);
            (SHA256, hmac.finalize().into_bytes().to_vec())
        }
        PfxProfile::Legacy => {
            let key = pkcs12_kdf::<sha1::Sha1>(password, &salt, Pkcs12KeyType::Mac, iterations, 20)?;
            let mut hmac = hmac::Hmac::<sha1::Sha1>::new_from_slice(&key).map_err(|_| mac_key_error())?;
            hmac.update(authenticated_safe);
            (SHA1, hmac.finalize().into_bytes().to_vec())
        }
    };
    let algorithm = tlv::encode(tag::SEQUENCE, &[&tlv::encode(tag::OID, &[hash_oid]), &[tag::NULL, 0]]);
    let digest_info = tlv::encode(tag::SEQUENCE, &[&algorithm, &tlv::encode(tag::OCTET_STRING, &[&mac])]);
    let salt = tlv::encode(tag::OCTET_STRING, &[&salt]);
    // DER leaves out a field equal to its DEFAULT, as OpenSSL does; Python
    // `cryptography` warns that a PFX with an explicit 1 is not DER.
    if iterations == 1 {
        return Ok(tlv::encode(tag::SEQUENCE, &[&digest_info, &salt]));
    }
    Ok(tlv::encode(
        tag::SEQUENCE,
        &[
            &digest_info,
            &salt,
            &tlv::unsigned_integer(crate::ids::trim_leading_zeros(&iterations.to_be_bytes())),
        ],
    ))
}

fn mac_key_error() -> ExportError {
    ExportError::Encoding {
        what: "MAC key",
        source: der::ErrorKind::Length {
            tag: der::Tag::OctetString,
        }
        .into(),
    }
}

/// `SafeBag { bagId, [0] EXPLICIT value, attributes SET OF OPTIONAL }`.
fn safe_bag(bag_id: &[u8], value: &[u8], attributes: &[&[u8]]) -> Vec<u8> {
    let oid = tlv::encode(tag::OID, &[bag_id]);
    if attributes.is_empty() {
        return tlv::encode(tag::SEQUENCE, &[&oid, &explicit0(value)]);
    }
    // DER orders the elements of a SET OF by their encodings.
    let mut sorted = attributes.to_vec();
    sorted.sort();
    tlv::encode(
        tag::SEQUENCE,
        &[&oid, &explicit0(value), &tlv::encode(tag::SET, &sorted)],
    )
}

/// `Attribute { type, SET { value } }`.
fn attribute(oid: &[u8], value: &[u8]) -> Vec<u8> {
    tlv::encode(
        tag::SEQUENCE,
        &[&tlv::encode(tag::OID, &[oid]), &tlv::encode(tag::SET, &[value])],
    )
}

fn content_info(content_type: &[u8], content: &[u8]) -> Vec<u8> {
    tlv::encode(
        tag::SEQUENCE,
        &[&tlv::encode(tag::OID, &[content_type]), &explicit0(content)],
    )
}

fn explicit0(content: &[u8]) -> Vec<u8> {
    tlv::encode(tag::CONTEXT_0, &[content])
}

fn bmp_string(what: &'static str, text: &str) -> Result<Vec<u8>, ExportError> {
    let bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    if text.chars().any(|c| u32::from(c) > 0xffff) {
        return Err(ExportError::NotBmpString {
            what,
            text: crate::error::shown(text),
        });
    }
    Ok(tlv::encode(tag::BMP_STRING, &[&bytes]))
}
