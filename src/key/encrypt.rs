//! Password-based encryption of PKCS#8 keys (and, for PKCS#12, of any
//! content): PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC, and the legacy
//! PKCS#12 scheme pbeWithSHAAnd3-KeyTripleDES-CBC.

use aes::cipher::{BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
use der::Encode;
use zeroize::Zeroizing;

use super::{Password, legacy, pbkdf2_hmac_sha256};
use crate::ExportError;
use crate::random::{self, RandomSource};
use crate::tlv::{self, tag};

/// How an exported private key is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyEncryption {
    /// PKCS#5 PBES2: PBKDF2-HMAC-SHA256 with a 16-byte random salt, then
    /// AES-256-CBC with a random IV. The default, at 600,000 iterations
    /// (OWASP's 2023 figure for PBKDF2-HMAC-SHA256).
    Pbes2Aes256Cbc {
        /// PBKDF2 iteration count.
        iterations: u32,
    },
    /// **Legacy.** PKCS#12 `pbeWithSHAAnd3-KeyTripleDES-CBC`
    /// (1.2.840.113549.1.12.1.3) with a 20-byte salt: SHA-1 and 3DES, weak
    /// by today's standards. It is what the reference key-download sample
    /// returns and what old Java and Windows consumers read; use it only
    /// for them. Default 2,048 iterations, as OpenSSL.
    LegacyPkcs12TripleDes {
        /// PKCS#12 KDF iteration count.
        iterations: u32,
    },
}

impl KeyEncryption {
    /// PBES2 iterations when none are given.
    pub const DEFAULT_PBES2_ITERATIONS: u32 = 600_000;
    /// Legacy PKCS#12 iterations when none are given (OpenSSL's `PKCS12_DEFAULT_ITER`).
    pub const DEFAULT_LEGACY_ITERATIONS: u32 = 2_048;
    /// The most iterations accepted (pkcs5's limit: beyond it an export
    /// takes minutes, which is a mistake, not a policy).
    pub const MAX_ITERATIONS: u32 = 100_000_000;

    /// The legacy scheme at its default iteration count.
    pub fn legacy_pkcs12_triple_des() -> Self {
        KeyEncryption::LegacyPkcs12TripleDes {
            iterations: Self::DEFAULT_LEGACY_ITERATIONS,
        }
    }

    /// The same scheme with another iteration count.
    pub fn with_iterations(self, iterations: u32) -> Self {
        match self {
            KeyEncryption::Pbes2Aes256Cbc { .. } => KeyEncryption::Pbes2Aes256Cbc { iterations },
            KeyEncryption::LegacyPkcs12TripleDes { .. } => KeyEncryption::LegacyPkcs12TripleDes { iterations },
        }
    }

    fn iterations(self) -> u32 {
        match self {
            KeyEncryption::Pbes2Aes256Cbc { iterations } | KeyEncryption::LegacyPkcs12TripleDes { iterations } => {
                iterations
            }
        }
    }

    /// Encrypts `plaintext`, returning the `AlgorithmIdentifier` DER and the ciphertext.
    pub(crate) fn encrypt(
        self,
        password: &Password,
        plaintext: &[u8],
        rng: &dyn RandomSource,
    ) -> Result<Encrypted, ExportError> {
        let iterations = self.iterations();
        match self {
            KeyEncryption::Pbes2Aes256Cbc { .. } => pbes2_aes256cbc(password, plaintext, iterations, rng),
            KeyEncryption::LegacyPkcs12TripleDes { .. } => {
                legacy::pkcs12_pbe_3des(password, plaintext, iterations, rng)
            }
        }
    }
}

impl Default for KeyEncryption {
    fn default() -> Self {
        KeyEncryption::Pbes2Aes256Cbc {
            iterations: Self::DEFAULT_PBES2_ITERATIONS,
        }
    }
}

/// Encrypted content with the algorithm that opens it.
pub(crate) struct Encrypted {
    /// The `AlgorithmIdentifier` DER.
    pub(crate) algorithm: Vec<u8>,
    pub(crate) ciphertext: Vec<u8>,
}

impl Encrypted {
    /// `EncryptedPrivateKeyInfo ::= SEQUENCE { algorithm, OCTET STRING }`
    /// (RFC 5958), which is also PKCS#12's `EncryptedPrivateKeyInfo`.
    pub(crate) fn to_encrypted_private_key_info(&self) -> Vec<u8> {
        let data = tlv::encode(tag::OCTET_STRING, &[&self.ciphertext]);
        tlv::encode(tag::SEQUENCE, &[&self.algorithm, &data])
    }
}

/// Refuses what no reader opens (0 iterations) and what would make one
/// export run for minutes (more than [`KeyEncryption::MAX_ITERATIONS`]).
pub(crate) fn check_iterations(iterations: u32) -> Result<(), ExportError> {
    if (1..=KeyEncryption::MAX_ITERATIONS).contains(&iterations) {
        return Ok(());
    }
    Err(ExportError::InvalidIterations {
        iterations,
        max: KeyEncryption::MAX_ITERATIONS,
    })
}

/// The DER `EncryptedPrivateKeyInfo` of an unencrypted PKCS#8 key.
pub(crate) fn encrypt_pkcs8(
    pkcs8: &[u8],
    password: &Password,
    encryption: KeyEncryption,
    rng: &dyn RandomSource,
) -> Result<Vec<u8>, ExportError> {
    Ok(encryption
        .encrypt(password, pkcs8, rng)?
        .to_encrypted_private_key_info())
}

/// PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC (RFC 8018 §6.2). The
/// parameters are encoded by `pkcs5`; the key derivation is ours (see
/// [`pbkdf2_hmac_sha256`]).
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
            max: KeyEncryption::MAX_ITERATIONS,
        }
    })?;
    let algorithm = pkcs5::EncryptionScheme::from(params)
        .to_der()
        .map_err(ExportError::encoding("PBES2 parameters"))?;
    let mut key = Zeroizing::new([0u8; 32]);
    pbkdf2_hmac_sha256(password.secret_bytes(), &salt, iterations, &mut key[..]);
    let ciphertext =
        cbc::Encryptor::<aes::Aes256>::new(&(*key).into(), &iv.into()).encrypt_padded_vec::<Pkcs7>(plaintext);
    Ok(Encrypted { algorithm, ciphertext })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts up from a start byte: deterministic salts and IVs.
    pub(crate) struct Counter(std::sync::atomic::AtomicU8);

    impl RandomSource for Counter {
        fn fill(&self, buf: &mut [u8]) -> Result<(), ExportError> {
            for b in buf {
                *b = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Ok(())
        }
    }

    #[test]
    fn pbes2_output_decrypts_with_pkcs8() {
        let password = Password::new("correct horse").unwrap();
        let secret = &tlv::encode(tag::SEQUENCE, &[b"not really a key, but DER"]);
        let der = encrypt_pkcs8(
            secret,
            &password,
            KeyEncryption::Pbes2Aes256Cbc { iterations: 1000 },
            &Counter(0.into()),
        )
        .unwrap();
        let info = pkcs8::EncryptedPrivateKeyInfoRef::try_from(der.as_slice()).unwrap();
        assert_eq!(info.decrypt("correct horse").unwrap().as_bytes(), secret);
        assert!(info.decrypt("wrong").is_err());
    }

    #[test]
    fn iteration_counts_are_bounded() {
        let password = Password::new("x").unwrap();
        for bad in [0, KeyEncryption::MAX_ITERATIONS + 1] {
            let result = encrypt_pkcs8(
                b"k",
                &password,
                KeyEncryption::default().with_iterations(bad),
                &Counter(0.into()),
            );
            assert!(matches!(result, Err(ExportError::InvalidIterations { .. })));
        }
    }
}
