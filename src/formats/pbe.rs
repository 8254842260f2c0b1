//! Password-based encryption under the two schemes exports use:
//! PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC (RFC 8018 §6.2), and the
//! legacy PKCS#12 scheme pbeWithSHAAnd3-KeyTripleDES-CBC (RFC 7292
//! Appendix B and C), for PKCS#8 keys and for the contents of a PFX.
//!
//! The parameters are the crates' types (`pkcs5` for PBES2, `pkcs12` for
//! the legacy scheme). The key derivations are PBKDF2 of
//! [`super::pbkdf2`] (hand-written: the `pbkdf2` crate made these exports
//! more than 20% slower) and the `pkcs12` crate's KDF, written into
//! zeroizing buffers: `pkcs5`'s own
//! `encrypt` leaves the derived AES key on the stack unwiped, so this
//! module derives the key itself and runs `cbc` over `aes`/`des` built with
//! their `zeroize` features, which wipe the key schedules.

use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
use der::{Decode, Encode};
use pkcs12::kdf::{Pkcs12KeyType, derive_key};
use spki::AlgorithmIdentifierOwned;
use zeroize::Zeroizing;

use crate::error::{DerError, ExportError};
use crate::key::Password;
use crate::oid;
use crate::random::{self, RandomSource};

/// Content encrypted under a password, with the algorithm that opens it.
pub(crate) struct Encrypted {
    /// The `AlgorithmIdentifier`, parameters included.
    pub(crate) algorithm: AlgorithmIdentifierOwned,
    pub(crate) ciphertext: Vec<u8>,
}

/// The most iterations accepted (pkcs5's limit: beyond it an export
/// takes minutes, which is a mistake, not a policy).
pub(crate) const MAX_ITERATIONS: u32 = 100_000_000;

/// The fewest iterations accepted: 1,000, the minimum of NIST SP 800-132
/// §5.2 and RFC 8018 §4.2. Below it a password is guessed offline at
/// nearly the speed of a bare hash; OpenSSL's PKCS#12 default and the
/// reference key-download sample's (2,048) stay above it.
pub(crate) const MIN_ITERATIONS: u32 = 1_000;

/// Refuses counts below the floor ([`MIN_ITERATIONS`]; 0 no reader opens)
/// and counts that would make one export run for minutes (more than
/// [`MAX_ITERATIONS`]).
pub(crate) fn check_iterations(iterations: u32) -> Result<(), ExportError> {
    if (MIN_ITERATIONS..=MAX_ITERATIONS).contains(&iterations) {
        Ok(())
    } else {
        Err(ExportError::InvalidIterations {
            iterations,
            min: MIN_ITERATIONS,
            max: MAX_ITERATIONS,
        })
    }
}

/// PBES2: PBKDF2-HMAC-SHA256 over a 16-byte random salt, then AES-256-CBC
/// with a random IV.
pub(crate) fn pbes2_aes256cbc(
    password: &Password,
    plaintext: &[u8],
    iterations: u32,
    rng: &dyn RandomSource,
) -> Result<Encrypted, ExportError> {
    check_iterations(iterations)?;
    let salt = random::bytes::<16>(rng)?;
    let iv = random::bytes::<16>(rng)?;
    let params = pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(iterations, &salt, iv).map_err(|_| {
        ExportError::InvalidIterations {
            iterations,
            min: MIN_ITERATIONS,
            max: MAX_ITERATIONS,
        }
    })?;
    let algorithm = algorithm_of(&pkcs5::EncryptionScheme::from(params))?;
    let mut key = Zeroizing::new([0u8; 32]);
    super::pbkdf2::pbkdf2_hmac_sha256(password.secret_bytes(), &salt, iterations, &mut key[..]);
    let ciphertext =
        cbc::Encryptor::<aes::Aes256>::new(&(*key).into(), &iv.into()).encrypt_padded_vec::<Pkcs7>(plaintext);
    Ok(Encrypted { algorithm, ciphertext })
}

/// pbeWithSHAAnd3-KeyTripleDES-CBC with a 20-byte random salt: the key
/// (24 bytes, id 1) and IV (8 bytes, id 2) from the PKCS#12 KDF over SHA-1.
pub(crate) fn pkcs12_3des(
    password: &Password,
    plaintext: &[u8],
    iterations: u32,
    rng: &dyn RandomSource,
) -> Result<Encrypted, ExportError> {
    let rounds = rounds(iterations)?;
    let salt = random::bytes::<20>(rng)?;
    let key = pkcs12_kdf::<sha1::Sha1>(password, &salt, Pkcs12KeyType::EncryptionKey, rounds, 24);
    let iv = pkcs12_kdf::<sha1::Sha1>(password, &salt, Pkcs12KeyType::Iv, rounds, 8);
    let cipher = cbc::Encryptor::<des::TdesEde3>::new_from_slices(&key, &iv).map_err(|_| ExportError::Encoding {
        what: "3DES key",
        source: DerError::of(der::ErrorKind::Length {
            tag: der::Tag::OctetString,
        }),
    })?;
    let params = pkcs12::pbe_params::Pkcs12PbeParams {
        salt: der::asn1::OctetString::new(salt.to_vec()).map_err(ExportError::encoding("PBE salt"))?,
        iterations: rounds,
    };
    let algorithm = AlgorithmIdentifierOwned {
        oid: oid::PBE_WITH_SHA_AND_3_KEY_TRIPLE_DES_CBC,
        parameters: Some(der::Any::encode_from(&params).map_err(ExportError::encoding("PBE parameters"))?),
    };
    Ok(Encrypted {
        algorithm,
        ciphertext: cipher.encrypt_padded_vec::<Pkcs7>(plaintext),
    })
}

/// Why an `EncryptedPrivateKeyInfo` did not decrypt.
pub(crate) enum DecryptError {
    /// The bytes are not one, or name a scheme not read here.
    Unreadable(&'static str),
    /// The password is wrong (or the ciphertext altered): the padding or
    /// the plaintext did not check out.
    WrongPassword,
}

/// The plaintext of a DER `EncryptedPrivateKeyInfo` under either scheme
/// exports use (PBES2 as `pkcs5` reads it: PBKDF2 with SHA-1 or SHA-2 or
/// scrypt, AES-CBC; or pbeWithSHAAnd3-KeyTripleDES-CBC), in zeroizing
/// memory. Iteration counts above [`MAX_ITERATIONS`] are refused before
/// any work, so a hostile file cannot hold a reader for hours.
pub(crate) fn decrypt(der: &[u8], password: &Password) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
    use DecryptError::{Unreadable, WrongPassword};
    let info = pkcs12::pbe_params::EncryptedPrivateKeyInfo::from_der(der)
        .map_err(|_| Unreadable("not an encrypted PKCS#8 key (EncryptedPrivateKeyInfo)"))?;
    let mut buffer = Zeroizing::new(info.encrypted_data.as_bytes().to_vec());
    let algorithm = &info.encryption_algorithm;
    if algorithm.oid == oid::PBE_WITH_SHA_AND_3_KEY_TRIPLE_DES_CBC {
        let params = algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<pkcs12::pbe_params::Pkcs12PbeParams>().ok())
            .ok_or(Unreadable("malformed pbeWithSHAAnd3-KeyTripleDES-CBC parameters"))?;
        let rounds = u32::try_from(params.iterations)
            .ok()
            .filter(|n| (1..=MAX_ITERATIONS).contains(n))
            .ok_or(Unreadable("an iteration count out of range"))?;
        let rounds = i32::try_from(rounds).map_err(|_| Unreadable("an iteration count out of range"))?;
        let salt = params.salt.as_bytes();
        let key = pkcs12_kdf::<sha1::Sha1>(password, salt, Pkcs12KeyType::EncryptionKey, rounds, 24);
        let iv = pkcs12_kdf::<sha1::Sha1>(password, salt, Pkcs12KeyType::Iv, rounds, 8);
        let cipher = cbc::Decryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
            .map_err(|_| Unreadable("malformed pbeWithSHAAnd3-KeyTripleDES-CBC parameters"))?;
        let len = cipher
            .decrypt_padded::<Pkcs7>(&mut buffer)
            .map_err(|_| WrongPassword)?
            .len();
        buffer.truncate(len);
        return Ok(buffer);
    }
    let scheme_der = algorithm
        .to_der()
        .map_err(|_| Unreadable("a malformed encryption algorithm"))?;
    let scheme = pkcs5::EncryptionScheme::from_der(&scheme_der).map_err(|_| {
        Unreadable("encrypted with a scheme this crate does not read (PBES2 and pbeWithSHAAnd3-KeyTripleDES-CBC are)")
    })?;
    if let pkcs5::EncryptionScheme::Pbes2(params) = &scheme
        && let pkcs5::pbes2::Kdf::Pbkdf2(pbkdf2) = &params.kdf
        && pbkdf2.iteration_count > MAX_ITERATIONS
    {
        return Err(Unreadable("an iteration count out of range"));
    }
    let len = scheme
        .decrypt_in_place(password.secret_bytes(), &mut buffer)
        .map_err(|e| match e {
            pkcs5::Error::DecryptFailed => WrongPassword,
            _ => Unreadable(
                "encrypted with parameters this crate does not read (PBES2 with PBKDF2 or scrypt and AES-CBC is)",
            ),
        })?
        .len();
    buffer.truncate(len);
    Ok(buffer)
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
    rounds: i32,
    len: usize,
) -> Zeroizing<Vec<u8>>
where
    D: sha2::digest::Digest + sha2::digest::FixedOutputReset + sha2::digest::block_api::BlockSizeUser,
{
    let mut bmp = Zeroizing::new(Vec::with_capacity(password.secret_str().len() * 2 + 2));
    for unit in password.secret_str().encode_utf16() {
        bmp.extend_from_slice(&unit.to_be_bytes());
    }
    bmp.extend_from_slice(&[0, 0]);
    Zeroizing::new(derive_key::<D>(&bmp, salt, kind, rounds, len))
}

/// The iteration count as the `INTEGER` PKCS#12 stores, after the common check.
pub(crate) fn rounds(iterations: u32) -> Result<i32, ExportError> {
    check_iterations(iterations)?;
    i32::try_from(iterations).map_err(|_| ExportError::InvalidIterations {
        iterations,
        min: MIN_ITERATIONS,
        max: MAX_ITERATIONS,
    })
}

/// `pkcs5`'s scheme as the generic `AlgorithmIdentifier` PKCS#8 and PKCS#12 carry.
fn algorithm_of(scheme: &pkcs5::EncryptionScheme) -> Result<AlgorithmIdentifierOwned, ExportError> {
    let der = scheme.to_der().map_err(ExportError::encoding("PBES2 parameters"))?;
    AlgorithmIdentifierOwned::from_der(&der).map_err(ExportError::encoding("PBES2 parameters"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Counts up from a start byte: deterministic salts and IVs.
    pub(crate) struct Counter(pub(crate) std::sync::atomic::AtomicU8);

    impl RandomSource for Counter {
        fn fill(&self, buf: &mut [u8]) -> Result<(), ExportError> {
            for b in buf {
                *b = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Ok(())
        }
    }

    #[test]
    fn iteration_counts_are_bounded() {
        let password = Password::new("x").unwrap();
        for bad in [0, MAX_ITERATIONS + 1] {
            for result in [
                pbes2_aes256cbc(&password, b"k", bad, &Counter(0.into())).map(|_| ()),
                pkcs12_3des(&password, b"k", bad, &Counter(0.into())).map(|_| ()),
            ] {
                assert!(matches!(result, Err(ExportError::InvalidIterations { .. })));
            }
        }
    }

    #[test]
    fn pbes2_decrypts_with_pkcs5() {
        let password = Password::new("correct horse").unwrap();
        let encrypted = pbes2_aes256cbc(&password, b"the secret", 1_000, &Counter(0.into())).unwrap();
        let params = encrypted.algorithm.parameters.unwrap().to_der().unwrap();
        let params = pkcs5::pbes2::Parameters::from_der(&params).unwrap();
        assert_eq!(
            params.decrypt("correct horse", &encrypted.ciphertext).unwrap(),
            b"the secret"
        );
        assert!(params.decrypt("wrong", &encrypted.ciphertext).is_err());
    }
}
