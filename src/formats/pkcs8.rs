//! Password-encrypted PKCS#8 (`EncryptedPrivateKeyInfo`, RFC 5958 §3) in
//! two schemes: PBES2 (AES-256-CBC) and the legacy PKCS#12 3DES.

use der::Encode;
use zeroize::Zeroizing;

use super::pbe::{self, Encrypted};
use super::pem;
use crate::error::ExportError;
use crate::key::{Password, PrivateKey};
use crate::random::RandomSource;

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
    /// The fewest iterations accepted, for PKCS#8 keys and PFX files alike:
    /// 1,000, the minimum of NIST SP 800-132 §5.2 and RFC 8018 §4.2. Below
    /// it a stolen file's password is guessed at nearly the speed of a bare
    /// hash. It is a floor, not advice: the defaults are 600,000 for PBES2
    /// (OWASP's 2023 figure for PBKDF2-HMAC-SHA256) and 2,048 for the
    /// legacy scheme and PFX (OpenSSL's `PKCS12_DEFAULT_ITER`, and what the
    /// reference key-download sample uses), which importers open quickly.
    pub const MIN_ITERATIONS: u32 = pbe::MIN_ITERATIONS;
    /// The most iterations accepted (pkcs5's limit: beyond it an export
    /// takes minutes, which is a mistake, not a policy).
    pub const MAX_ITERATIONS: u32 = pbe::MAX_ITERATIONS;

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

    /// Encrypts `plaintext` under this scheme.
    pub(crate) fn encrypt(
        self,
        password: &Password,
        plaintext: &[u8],
        rng: &dyn RandomSource,
    ) -> Result<Encrypted, ExportError> {
        match self {
            KeyEncryption::Pbes2Aes256Cbc { iterations } => pbe::pbes2_aes256cbc(password, plaintext, iterations, rng),
            KeyEncryption::LegacyPkcs12TripleDes { iterations } => {
                pbe::pkcs12_3des(password, plaintext, iterations, rng)
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

/// How an encrypted key is written out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyEncoding {
    /// `-----BEGIN ENCRYPTED PRIVATE KEY-----` (the default).
    #[default]
    Pem,
    /// Binary DER (`.p8`).
    Der,
}

/// The private key encrypted under `password` as PKCS#8
/// `EncryptedPrivateKeyInfo`, PEM or DER — what `openssl pkey -passin`
/// and Python `cryptography`'s `load_pem_private_key` open
/// ([`PrivateKey::from_encrypted`] reads it back). Salts and IVs come from
/// the operating system ([`encrypted_pkcs8_with_rng`] takes another source).
///
/// ```
/// use certexport::formats::{KeyEncoding, KeyEncryption, encrypted_pkcs8};
/// use certexport::{Password, PrivateKey};
///
/// let key = PrivateKey::from_pem(std::fs::read("tests/data/pki/03-rsa.example.com.key")?)?;
/// let password = Password::new("correct horse battery")?;
/// let encryption = KeyEncryption::default().with_iterations(10_000);
/// let pem = encrypted_pkcs8(&key, &password, encryption, KeyEncoding::Pem)?;
/// assert!(pem.starts_with(b"-----BEGIN ENCRYPTED PRIVATE KEY-----"));
/// assert_eq!(PrivateKey::from_encrypted(&pem, &password)?.kind(), key.kind());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn encrypted_pkcs8(
    key: &PrivateKey,
    password: &Password,
    encryption: KeyEncryption,
    encoding: KeyEncoding,
) -> Result<Zeroizing<Vec<u8>>, ExportError> {
    encrypted_pkcs8_with_rng(key, password, encryption, encoding, &crate::random::OsRandom)
}

/// [`encrypted_pkcs8`] with salts and IVs from `rng`.
pub fn encrypted_pkcs8_with_rng(
    key: &PrivateKey,
    password: &Password,
    encryption: KeyEncryption,
    encoding: KeyEncoding,
    rng: &dyn RandomSource,
) -> Result<Zeroizing<Vec<u8>>, ExportError> {
    let der = encrypted_der(key.secret_pkcs8_der(), password, encryption, rng)?;
    match encoding {
        KeyEncoding::Der => Ok(der),
        KeyEncoding::Pem => {
            let mut out = Zeroizing::new(Vec::new());
            pem::secret_block(&mut out, "ENCRYPTED PRIVATE KEY", &der)?;
            Ok(out)
        }
    }
}

/// The DER `EncryptedPrivateKeyInfo` of an unencrypted PKCS#8 key.
pub(crate) fn encrypted_der(
    pkcs8: &[u8],
    password: &Password,
    encryption: KeyEncryption,
    rng: &dyn RandomSource,
) -> Result<Zeroizing<Vec<u8>>, ExportError> {
    encrypted_private_key_info(encryption.encrypt(password, pkcs8, rng)?)
}

/// `EncryptedPrivateKeyInfo ::= SEQUENCE { algorithm, OCTET STRING }`
/// (RFC 5958), which is also PKCS#12's shrouded key bag.
pub(crate) fn encrypted_private_key_info(encrypted: Encrypted) -> Result<Zeroizing<Vec<u8>>, ExportError> {
    let info = pkcs12::pbe_params::EncryptedPrivateKeyInfo {
        encryption_algorithm: encrypted.algorithm,
        encrypted_data: der::asn1::OctetString::new(encrypted.ciphertext)
            .map_err(ExportError::encoding("encrypted key"))?,
    };
    info.to_der()
        .map(Zeroizing::new)
        .map_err(ExportError::encoding("encrypted key"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::pbe::tests::Counter;

    #[test]
    fn pbes2_output_decrypts_with_pkcs8() {
        let password = Password::new("correct horse").unwrap();
        let secret = [0x30, 0x03, 0x02, 0x01, 0x00];
        let der = encrypted_der(
            &secret,
            &password,
            KeyEncryption::Pbes2Aes256Cbc { iterations: 1000 },
            &Counter(0.into()),
        )
        .unwrap();
        let info = pkcs8::EncryptedPrivateKeyInfoRef::try_from(der.as_slice()).unwrap();
        assert_eq!(info.decrypt("correct horse").unwrap().as_bytes(), secret);
        assert!(info.decrypt("wrong").is_err());
    }
}
