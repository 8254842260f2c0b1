//! PKCS#12 / PFX (RFC 7292) with a key and its certificates, assembled from
//! the `pkcs12` crate's types (`Pfx`, `MacData`, `SafeBag`, `CertBag`) and
//! `cms`'s `ContentInfo` and `EncryptedData` (`pkcs12` has the types and
//! the key derivation, but no builder, MAC or encryption: those are here).
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
//! Iterations are bounded as for key encryption
//! ([`KeyEncryption::MIN_ITERATIONS`](super::KeyEncryption::MIN_ITERATIONS),
//! 1,000, to [`KeyEncryption::MAX_ITERATIONS`](super::KeyEncryption::MAX_ITERATIONS))
//! before anything is derived.

use cms::content_info::ContentInfo;
use cms::encrypted_data::EncryptedData;
use cms::enveloped_data::EncryptedContentInfo;
use der::Encode;
use der::asn1::{Any, BmpString, ObjectIdentifier, OctetString, SetOfVec};
use hmac::{KeyInit, Mac};
use pkcs12::kdf::Pkcs12KeyType;
use pkcs12::pfx::Version;
use pkcs12::{CertBag, DigestInfo, MacData, Pfx, SafeBag};
use sha1::Digest;
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::{Attribute, Attributes};
use zeroize::Zeroizing;

use super::pbe::{self, Encrypted};
use super::pkcs8::encrypted_private_key_info;
use crate::error::{DerError, ExportError, shown};
use crate::key::Password;
use crate::oid;
use crate::random::{self, RandomSource};

/// PKCS#12 encryption profiles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum PfxProfile {
    /// PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) for the key and the
    /// certificates, HMAC-SHA256 MAC: what OpenSSL 3 and current Windows
    /// write (the default).
    #[default]
    Modern,
    /// pbeWithSHAAnd3-KeyTripleDES-CBC for the key and the certificates,
    /// HMAC-SHA1 MAC: for Windows Server 2016 and older and old Java.
    Legacy,
}

/// Settings of a PFX: [`PfxOptions::default`] and the `with_*` builders.
///
/// ```
/// use certexport::formats::{PfxOptions, PfxProfile};
///
/// let options = PfxOptions::default()
///     .with_profile(PfxProfile::Legacy)
///     .with_friendly_name("www.example.com");
/// assert_eq!(options.iterations, PfxOptions::DEFAULT_ITERATIONS);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PfxOptions {
    /// The encryption profile.
    pub profile: PfxProfile,
    /// Iterations of the key derivations and of the MAC. 2,048, as OpenSSL 3
    /// (`PKCS12_DEFAULT_ITER`): a PFX is opened by importers, such as
    /// Windows and Java, that take seconds per PFX at higher counts.
    pub iterations: u32,
    /// The `friendlyName` of the key and the end-entity certificate, which
    /// Java uses as the keystore alias. When this is `None`, the exporter
    /// gives the file-name stem and [`formats::pfx`](crate::formats::pfx)
    /// the end entity's common name.
    pub friendly_name: Option<String>,
    /// The Microsoft CSP to name on the key (the reference API's
    /// `MicrosoftTargetCSP`). The exporter takes it only if its settings
    /// allow that CSP ([`CspPolicy`](crate::options::CspPolicy)).
    pub target_csp: Option<String>,
}

impl PfxOptions {
    /// The default iteration count.
    pub const DEFAULT_ITERATIONS: u32 = 2_048;

    /// These options with `profile`.
    pub fn with_profile(mut self, profile: PfxProfile) -> Self {
        self.profile = profile;
        self
    }

    /// These options with `iterations` (between
    /// [`KeyEncryption::MIN_ITERATIONS`](super::KeyEncryption::MIN_ITERATIONS)
    /// and [`KeyEncryption::MAX_ITERATIONS`](super::KeyEncryption::MAX_ITERATIONS),
    /// checked when the PFX is written).
    pub fn with_iterations(mut self, iterations: u32) -> Self {
        self.iterations = iterations;
        self
    }

    /// These options with the `friendlyName` `name`.
    pub fn with_friendly_name(mut self, name: impl Into<String>) -> Self {
        self.friendly_name = Some(name.into());
        self
    }

    /// These options naming the Microsoft CSP `csp` on the key.
    pub fn with_target_csp(mut self, csp: impl Into<String>) -> Self {
        self.target_csp = Some(csp.into());
        self
    }
}

impl Default for PfxOptions {
    fn default() -> Self {
        Self {
            profile: PfxProfile::Modern,
            iterations: Self::DEFAULT_ITERATIONS,
            friendly_name: None,
            target_csp: None,
        }
    }
}

/// What goes into one PFX.
pub(crate) struct PfxContents<'a> {
    /// The unencrypted PKCS#8 key.
    pub(crate) pkcs8: &'a [u8],
    /// All certificates in output order; `end_entity` indexes the key's.
    pub(crate) certificates: &'a [&'a [u8]],
    pub(crate) end_entity: usize,
    pub(crate) friendly_name: Option<&'a str>,
    pub(crate) csp: Option<&'a str>,
}

/// The DER PFX.
pub(crate) fn encode(
    contents: &PfxContents<'_>,
    password: &Password,
    profile: PfxProfile,
    iterations: u32,
    rng: &dyn RandomSource,
) -> Result<Zeroizing<Vec<u8>>, ExportError> {
    let encoding = ExportError::encoding;
    let rounds = pbe::rounds(iterations)?;
    let end_entity = contents
        .certificates
        .get(contents.end_entity)
        .ok_or(ExportError::Encoding {
            what: "PFX",
            source: DerError::of(der::ErrorKind::Failed),
        })?;
    let local_key_id: [u8; 20] = sha1::Sha1::digest(end_entity).into();
    let mut key_attributes = vec![attribute(
        oid::LOCAL_KEY_ID,
        Any::encode_from(&OctetString::new(local_key_id.to_vec()).map_err(encoding("localKeyId"))?)
            .map_err(encoding("localKeyId"))?,
    )?];
    if let Some(name) = contents.friendly_name {
        key_attributes.push(attribute(oid::FRIENDLY_NAME, bmp_string("friendly name", name)?)?);
    }
    let end_entity_attributes = key_attributes.clone();
    if let Some(csp) = contents.csp {
        key_attributes.push(attribute(oid::MS_CSP_NAME, bmp_string("CSP name", csp)?)?);
    }

    let encrypt = |plaintext: &[u8]| -> Result<Encrypted, ExportError> {
        match profile {
            PfxProfile::Modern => pbe::pbes2_aes256cbc(password, plaintext, iterations, rng),
            PfxProfile::Legacy => pbe::pkcs12_3des(password, plaintext, iterations, rng),
        }
    };

    let cert_bags = contents
        .certificates
        .iter()
        .enumerate()
        .map(|(i, der)| {
            let bag = CertBag {
                cert_id: oid::X509_CERTIFICATE,
                cert_value: OctetString::new(der.to_vec()).map_err(encoding("certificate bag"))?,
            };
            Ok(SafeBag {
                bag_id: oid::CERT_BAG,
                bag_value: bag.to_der().map_err(encoding("certificate bag"))?,
                bag_attributes: (i == contents.end_entity)
                    .then(|| attributes(&end_entity_attributes))
                    .transpose()?,
            })
        })
        .collect::<Result<Vec<_>, ExportError>>()?;
    let cert_safe = cert_bags.to_der().map_err(encoding("certificate bags"))?;
    let encrypted_certs = encrypt(&cert_safe)?;
    let encrypted_data = EncryptedData {
        version: cms::content_info::CmsVersion::V0,
        enc_content_info: EncryptedContentInfo {
            content_type: oid::DATA,
            content_enc_alg: encrypted_certs.algorithm,
            encrypted_content: Some(
                OctetString::new(encrypted_certs.ciphertext).map_err(encoding("certificate bags"))?,
            ),
        },
        unprotected_attrs: None,
    };
    let certs_info = ContentInfo {
        content_type: oid::ENCRYPTED_DATA,
        content: Any::encode_from(&encrypted_data).map_err(encoding("certificate bags"))?,
    };

    let shrouded_key = encrypted_private_key_info(encrypt(contents.pkcs8)?)?;
    let key_safe = Zeroizing::new(
        vec![SafeBag {
            bag_id: oid::PKCS8_SHROUDED_KEY_BAG,
            bag_value: shrouded_key.to_vec(),
            bag_attributes: Some(attributes(&key_attributes)?),
        }]
        .to_der()
        .map_err(encoding("key bag"))?,
    );
    let key_info = data(&key_safe)?;

    let authenticated_safe = vec![certs_info, key_info]
        .to_der()
        .map_err(encoding("AuthenticatedSafe"))?;
    let mac_data = mac_data(&authenticated_safe, password, profile, rounds, rng)?;
    let pfx = Pfx {
        version: Version::V3,
        auth_safe: data(&authenticated_safe)?,
        mac_data: Some(mac_data),
    };
    pfx.to_der().map(Zeroizing::new).map_err(encoding("PFX"))
}

/// `MacData { DigestInfo { hash, HMAC }, salt, iterations DEFAULT 1 }`
/// (RFC 7292 §4). A count of 1 is left out, as DER wants a field equal to
/// its DEFAULT to be (Python `cryptography` warns otherwise).
fn mac_data(
    authenticated_safe: &[u8],
    password: &Password,
    profile: PfxProfile,
    rounds: i32,
    rng: &dyn RandomSource,
) -> Result<MacData, ExportError> {
    let salt = random::bytes::<16>(rng)?;
    let (hash, mac) = match profile {
        PfxProfile::Modern => {
            let key = pbe::pkcs12_kdf::<sha2::Sha256>(password, &salt, Pkcs12KeyType::Mac, rounds, 32);
            let mut hmac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).map_err(|_| mac_key_error())?;
            hmac.update(authenticated_safe);
            (oid::SHA256, hmac.finalize().into_bytes().to_vec())
        }
        PfxProfile::Legacy => {
            let key = pbe::pkcs12_kdf::<sha1::Sha1>(password, &salt, Pkcs12KeyType::Mac, rounds, 20);
            let mut hmac = hmac::Hmac::<sha1::Sha1>::new_from_slice(&key).map_err(|_| mac_key_error())?;
            hmac.update(authenticated_safe);
            (oid::SHA1, hmac.finalize().into_bytes().to_vec())
        }
    };
    let encoding = ExportError::encoding("MAC");
    Ok(MacData {
        mac: DigestInfo {
            algorithm: AlgorithmIdentifierOwned {
                oid: hash,
                parameters: Some(Any::null()),
            },
            digest: OctetString::new(mac).map_err(ExportError::encoding("MAC"))?,
        },
        mac_salt: OctetString::new(salt.to_vec()).map_err(encoding)?,
        iterations: rounds,
    })
}

/// HMAC takes keys of any length, so this is never met; it keeps the
/// function total.
fn mac_key_error() -> ExportError {
    ExportError::Encoding {
        what: "MAC key",
        source: DerError::of(der::ErrorKind::Length {
            tag: der::Tag::OctetString,
        }),
    }
}

/// `ContentInfo { id-data, [0] OCTET STRING }`.
fn data(content: &[u8]) -> Result<ContentInfo, ExportError> {
    let octets = OctetString::new(content.to_vec()).map_err(ExportError::encoding("PFX data"))?;
    Ok(ContentInfo {
        content_type: oid::DATA,
        content: Any::encode_from(&octets).map_err(ExportError::encoding("PFX data"))?,
    })
}

/// `Attribute { type, SET { value } }`.
fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, ExportError> {
    let values = SetOfVec::try_from(vec![value]).map_err(ExportError::encoding("PFX attribute"))?;
    Ok(Attribute { oid, values })
}

/// The attributes of a bag: a SET OF, which DER orders by encoding.
fn attributes(list: &[Attribute]) -> Result<Attributes, ExportError> {
    SetOfVec::try_from(list.to_vec()).map_err(ExportError::encoding("PFX attributes"))
}

fn bmp_string(what: &'static str, text: &str) -> Result<Any, ExportError> {
    if text.chars().any(|c| u32::from(c) > 0xffff) {
        return Err(ExportError::NotBmpString {
            what,
            text: shown(text),
        });
    }
    let bmp = BmpString::from_utf8(text).map_err(ExportError::encoding("BMPString"))?;
    Any::encode_from(&bmp).map_err(ExportError::encoding("BMPString"))
}

#[cfg(test)]
mod tests {
    use der::Decode;

    use super::*;

    #[test]
    fn the_mac_covers_the_authenticated_safe() {
        // A PFX over a fake key and certificate: its MAC must verify with
        // the same password and fail with another.
        let rng = crate::formats::pbe::tests::Counter(0.into());
        let password = Password::new("pw").unwrap();
        let certificate: &[u8] = &[0x30, 0x03, 0x02, 0x01, 0x05];
        let contents = PfxContents {
            pkcs8: &[0x30, 0x00],
            certificates: &[certificate],
            end_entity: 0,
            friendly_name: Some("a"),
            csp: None,
        };
        let der = encode(&contents, &password, PfxProfile::Modern, pbe::MIN_ITERATIONS, &rng).unwrap();
        let pfx = Pfx::from_der(&der).unwrap();
        let mac_data = pfx.mac_data.unwrap();
        let safe = OctetString::from_der(&pfx.auth_safe.content.to_der().unwrap()).unwrap();
        let check = |password: &Password| {
            let key = pbe::pkcs12_kdf::<sha2::Sha256>(
                password,
                mac_data.mac_salt.as_bytes(),
                Pkcs12KeyType::Mac,
                mac_data.iterations,
                32,
            );
            let mut hmac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
            hmac.update(safe.as_bytes());
            hmac.verify_slice(mac_data.mac.digest.as_bytes()).is_ok()
        };
        assert!(check(&password));
        assert!(!check(&Password::new("other").unwrap()));
    }
}
