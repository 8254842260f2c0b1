//! The legacy PKCS#12 password-based encryption
//! pbeWithSHAAnd3-KeyTripleDES-CBC (RFC 7292 Appendix B and C).
//!
//! `pkcs5` cannot produce it, so it is built from `pkcs12`'s KDF (SHA-1;
//! id 1 gives the 24-byte key, id 2 the 8-byte IV) and `des`'s 3DES in CBC
//! mode with PKCS#7 padding, wrapped in `pkcs12`'s parameter type.

use der::Encode;
use des::cipher::{BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
use pkcs12::kdf::{Pkcs12KeyType, derive_key};
use zeroize::Zeroizing;

use super::Password;
use super::encrypt::{Encrypted, check_iterations};
use crate::ExportError;
use crate::random::{self, RandomSource};

/// Encrypts `plaintext` under pbeWithSHAAnd3-KeyTripleDES-CBC with a
/// 20-byte random salt.
pub(crate) fn pkcs12_pbe_3des(
    password: &Password,
    plaintext: &[u8],
    iterations: u32,
    rng: &dyn RandomSource,
) -> Result<Encrypted, ExportError> {
    let salt = random::bytes::<20>(rng)?;
    let derive = |kind, len| pkcs12_kdf::<sha1::Sha1>(password, &salt, kind, iterations, len);
    let key = derive(Pkcs12KeyType::EncryptionKey, 24)?;
    let iv = derive(Pkcs12KeyType::Iv, 8)?;
    let cipher = cbc::Encryptor::<des::TdesEde3>::new_from_slices(&key, &iv).map_err(|_| ExportError::Encoding {
        what: "3DES key",
        source: der::ErrorKind::Length {
            tag: der::Tag::OctetString,
        }
        .into(),
    })?;
    let ciphertext = cipher.encrypt_padded_vec::<Pkcs7>(plaintext);
    let params = pkcs12::pbe_params::Pkcs12PbeParams {
        salt: der::asn1::OctetString::new(salt.to_vec()).map_err(ExportError::encoding("PBE salt"))?,
        iterations: rounds(iterations)?,
    };
    let algorithm = spki::AlgorithmIdentifierOwned {
        oid: pkcs12::PKCS_12_PBE_WITH_SHAAND3_KEY_TRIPLE_DES_CBC,
        parameters: Some(der::Any::encode_from(&params).map_err(ExportError::encoding("PBE parameters"))?),
    }
    .to_der()
    .map_err(ExportError::encoding("PBE parameters"))?;
    Ok(Encrypted { algorithm, ciphertext })
}

/// The RFC 7292 Appendix B key derivation over `D`, of `len` bytes.
///
/// The password is the BMPString form RFC 7292 asks for — UTF-16
/// big-endian with a two-byte NUL terminator — built here in zeroizing
/// memory. Characters beyond the Basic Multilingual Plane are written as
/// surrogate pairs, as OpenSSL does, so such passwords open in OpenSSL too.
pub(crate) fn pkcs12_kdf<D>(
    password: &Password,
    salt: &[u8],
    kind: Pkcs12KeyType,
    iterations: u32,
    len: usize,
) -> Result<Zeroizing<Vec<u8>>, ExportError>
where
    D: sha2::digest::Digest + sha2::digest::FixedOutputReset + sha2::digest::block_api::BlockSizeUser,
{
    let mut bmp = Zeroizing::new(Vec::with_capacity(password.secret_str().len() * 2 + 2));
    for unit in password.secret_str().encode_utf16() {
        bmp.extend_from_slice(&unit.to_be_bytes());
    }
    bmp.extend_from_slice(&[0, 0]);
    Ok(Zeroizing::new(derive_key::<D>(
        &bmp,
        salt,
        kind,
        rounds(iterations)?,
        len,
    )))
}

/// The iteration count as the `INTEGER` PKCS#12 stores, after the common check.
fn rounds(iterations: u32) -> Result<i32, ExportError> {
    check_iterations(iterations)?;
    i32::try_from(iterations).map_err(|_| ExportError::InvalidIterations {
        iterations,
        max: super::KeyEncryption::MAX_ITERATIONS,
    })
}
