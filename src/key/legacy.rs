//! The legacy PKCS#12 password-based encryption
//! pbeWithSHAAnd3-KeyTripleDES-CBC (RFC 7292 Appendix B and C).
//!
//! `pkcs5` cannot produce it, so it is built from `pkcs12`'s KDF (SHA-1;
//! id 1 gives the 24-byte key, id 2 the 8-byte IV) and `des`'s 3DES in CBC
//! mode with PKCS#7 padding, wrapped in `pkcs12`'s parameter type.

use der::Encode;
use des::cipher::{BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
use pkcs12::kdf::{Pkcs12KeyType, derive_key_utf8};
use zeroize::Zeroizing;

use super::Password;
use super::encrypt::Encrypted;
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
    let rounds = i32::try_from(iterations).map_err(|_| ExportError::InvalidOption {
        what: "iterations",
        reason: iterations.to_string(),
    })?;
    let derive = |kind, len| {
        derive_key_utf8::<sha1::Sha1>(password.secret_str(), &salt, kind, rounds, len)
            .map(Zeroizing::new)
            .map_err(ExportError::encoding("the password as BMPString"))
    };
    let key = derive(Pkcs12KeyType::EncryptionKey, 24)?;
    let iv = derive(Pkcs12KeyType::Iv, 8)?;
    let cipher =
        cbc::Encryptor::<des::TdesEde3>::new_from_slices(&key, &iv).map_err(|_| ExportError::InvalidOption {
            what: "3DES key",
            reason: "wrong length".into(),
        })?;
    let ciphertext = cipher.encrypt_padded_vec::<Pkcs7>(plaintext);
    let params = pkcs12::pbe_params::Pkcs12PbeParams {
        salt: der::asn1::OctetString::new(salt.to_vec()).map_err(ExportError::encoding("PBE salt"))?,
        iterations: rounds,
    };
    let algorithm = spki::AlgorithmIdentifierOwned {
        oid: pkcs12::PKCS_12_PBE_WITH_SHAAND3_KEY_TRIPLE_DES_CBC,
        parameters: Some(der::Any::encode_from(&params).map_err(ExportError::encoding("PBE parameters"))?),
    }
    .to_der()
    .map_err(ExportError::encoding("PBE parameters"))?;
    Ok(Encrypted { algorithm, ciphertext })
}
