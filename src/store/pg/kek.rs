//! Private keys at rest: envelope encryption under the operator's
//! key-encryption key (KEK).
//!
//! Each stored key gets its own random 256-bit data key. The data key
//! encrypts the key's PKCS#8 and the KEK wraps the data key, both with
//! AES-256-GCM under a random 96-bit nonce, and both with the certificate
//! id as associated data: a row copied to another certificate does not
//! decrypt. The KEK never enters the database; the row keeps only an
//! identifier of it (an HMAC of a fixed label under the KEK), so a wrong KEK
//! is told apart from a moved or damaged row. Rotating the KEK re-wraps the
//! data keys and leaves the encrypted keys as they are.

use std::fmt;
use std::path::Path;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use zeroize::Zeroizing;

use crate::error::{DerError, ExportError};
use crate::ids::CertId;
use crate::random::OsRandom;

/// A key-encryption key: 32 bytes that encrypt the private keys a
/// [`PgStore`](super::PgStore) keeps, and that the database never sees.
///
/// It is zeroized on drop, has no `Clone`, and its `Debug` shows only its
/// identifier.
pub struct Kek {
    key: Zeroizing<[u8; 32]>,
    id: [u8; KEK_ID_LEN],
}

/// The length of a KEK's identifier.
const KEK_ID_LEN: usize = 16;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// The largest KEK file read: 64 hex digits and a line ending, with room
/// for spaces around them.
const MAX_KEK_FILE: u64 = 1024;

impl Kek {
    /// A KEK of these bytes (from a secrets manager, say).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let key = Zeroizing::new(bytes);
        let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&key[..]).expect("HMAC takes any key length");
        mac.update(b"certexport key-encryption key id v1");
        let mut id = [0u8; KEK_ID_LEN];
        id.copy_from_slice(&mac.finalize().into_bytes()[..KEK_ID_LEN]);
        Self { key, id }
    }

    /// Reads a KEK file: 32 bytes as 64 hex digits (upper or lower case),
    /// surrounding white space ignored — what `openssl rand -hex 32`
    /// writes. Anything else is [`ExportError::BadKekFile`].
    pub fn from_file(path: &Path) -> Result<Self, ExportError> {
        let bad = |reason| ExportError::BadKekFile {
            path: path.to_owned(),
            reason,
        };
        let text = crate::store::read_regular_file(path, MAX_KEK_FILE, "a key-encryption key file")?;
        let digits = text.trim_ascii();
        if digits.len() != 64 {
            return Err(bad(
                "it must hold 64 hex digits (32 bytes), e.g. from `openssl rand -hex 32`",
            ));
        }
        let mut bytes = Zeroizing::new([0u8; 32]);
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            let (Some(high), Some(low)) = (hex_value(pair[0]), hex_value(pair[1])) else {
                return Err(bad("it holds a character that is not a hex digit"));
            };
            *byte = high << 4 | low;
        }
        Ok(Self::from_bytes(*bytes))
    }

    /// A new random KEK.
    pub fn generate() -> Result<Self, ExportError> {
        Ok(Self::from_bytes(*Zeroizing::new(random::<32>()?)))
    }

    /// The KEK's identifier as stored beside the keys it wraps.
    pub(super) fn id(&self) -> &[u8; KEK_ID_LEN] {
        &self.id
    }

    /// Encrypts `pkcs8`, the private key of certificate `id`.
    pub(super) fn seal(&self, pkcs8: &[u8], id: CertId) -> Result<SealedKey, ExportError> {
        let data_key = Zeroizing::new(random::<32>()?);
        Ok(SealedKey {
            kek_id: self.id.to_vec(),
            wrapped_key: encrypt(&self.key, &data_key[..], &aad(DATA_KEY, id))?,
            ciphertext: encrypt(&data_key, pkcs8, &aad(PRIVATE_KEY, id))?,
        })
    }

    /// Decrypts the private key stored for certificate `id`.
    pub(super) fn open(&self, sealed: &SealedKey, id: CertId) -> Result<Zeroizing<Vec<u8>>, ExportError> {
        let data_key = self.unwrap_data_key(&sealed.kek_id, &sealed.wrapped_key, id)?;
        let key: &[u8; 32] = data_key[..]
            .try_into()
            .map_err(|_| ExportError::KeyRowMismatch { id: id.0 })?;
        decrypt(key, &sealed.ciphertext, &aad(PRIVATE_KEY, id)).ok_or(ExportError::KeyRowMismatch { id: id.0 })
    }

    /// The data key of certificate `id`'s stored key (`wrapped_key`, under
    /// the KEK `kek_id` names), wrapped by `new` instead of this KEK.
    pub(super) fn rewrap(
        &self,
        kek_id: &[u8],
        wrapped_key: &[u8],
        id: CertId,
        new: &Kek,
    ) -> Result<Vec<u8>, ExportError> {
        let data_key = self.unwrap_data_key(kek_id, wrapped_key, id)?;
        encrypt(&new.key, &data_key, &aad(DATA_KEY, id))
    }

    fn unwrap_data_key(
        &self,
        kek_id: &[u8],
        wrapped_key: &[u8],
        id: CertId,
    ) -> Result<Zeroizing<Vec<u8>>, ExportError> {
        if kek_id != self.id {
            return Err(ExportError::WrongKek { id: id.0 });
        }
        decrypt(&self.key, wrapped_key, &aad(DATA_KEY, id)).ok_or(ExportError::KeyRowMismatch { id: id.0 })
    }
}

impl fmt::Debug for Kek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id: String = self.id.iter().map(|b| format!("{b:02x}")).collect();
        f.debug_struct("Kek")
            .field("id", &id)
            .field("key", &"[redacted]")
            .finish()
    }
}

/// A private key as a row of `private_keys` holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SealedKey {
    /// The identifier of the KEK that wrapped the data key.
    pub(super) kek_id: Vec<u8>,
    /// nonce ‖ the data key encrypted under the KEK ‖ tag.
    pub(super) wrapped_key: Vec<u8>,
    /// nonce ‖ the PKCS#8 encrypted under the data key ‖ tag.
    pub(super) ciphertext: Vec<u8>,
}

const DATA_KEY: &[u8] = b"certexport data key v1";
const PRIVATE_KEY: &[u8] = b"certexport private key v1";

/// The associated data: what is encrypted, and for which certificate.
fn aad(label: &[u8], id: CertId) -> Vec<u8> {
    [label, b"\0", &id.0.to_be_bytes()].concat()
}

fn random<const N: usize>() -> Result<[u8; N], ExportError> {
    crate::random::bytes::<N>(&OsRandom)
}

/// nonce ‖ AES-256-GCM(`key`, `plaintext`, `aad`) ‖ tag.
fn encrypt(key: &[u8; 32], plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, ExportError> {
    let nonce = random::<NONCE_LEN>()?;
    let mut buffer = Zeroizing::new(plaintext.to_vec());
    let cipher = Aes256Gcm::new(key.into());
    let tag = cipher
        .encrypt_inout_detached(&Nonce::from(nonce), aad, buffer.as_mut_slice().into())
        .map_err(|_| ExportError::Encoding {
            what: "an encrypted private key",
            source: DerError::of(der::ErrorKind::Overflow),
        })?;
    Ok([&nonce[..], &buffer, &tag[..]].concat())
}

/// The plaintext of [`encrypt`]'s output, or `None` if it does not
/// authenticate under `key` and `aad`.
fn decrypt(key: &[u8; 32], sealed: &[u8], aad: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return None;
    }
    let (nonce, rest) = sealed.split_at(NONCE_LEN);
    let (body, tag) = rest.split_at(rest.len() - TAG_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
    let tag: [u8; TAG_LEN] = tag.try_into().ok()?;
    let mut buffer = Zeroizing::new(body.to_vec());
    let cipher = Aes256Gcm::new(key.into());
    cipher
        .decrypt_inout_detached(&Nonce::from(nonce), aad, buffer.as_mut_slice().into(), &tag.into())
        .ok()?;
    Some(buffer)
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PKCS8: &[u8] = b"a stand-in for PKCS#8 bytes";

    #[test]
    fn a_sealed_key_opens_for_its_certificate_only() {
        let kek = Kek::from_bytes([7; 32]);
        let sealed = kek.seal(PKCS8, CertId(5)).unwrap();
        assert_eq!(&kek.open(&sealed, CertId(5)).unwrap()[..], PKCS8);
        assert_eq!(
            kek.open(&sealed, CertId(6)).unwrap_err(),
            ExportError::KeyRowMismatch { id: 6 }
        );
        let other = Kek::from_bytes([8; 32]);
        assert_eq!(
            other.open(&sealed, CertId(5)).unwrap_err(),
            ExportError::WrongKek { id: 5 }
        );
    }

    #[test]
    fn the_row_holds_neither_key_nor_plaintext() {
        let kek = Kek::from_bytes([7; 32]);
        let sealed = kek.seal(PKCS8, CertId(1)).unwrap();
        for field in [&sealed.kek_id, &sealed.wrapped_key, &sealed.ciphertext] {
            assert!(!field.windows(8).any(|w| PKCS8.windows(8).any(|p| p == w)));
            assert!(!field.windows(8).any(|w| w == [7; 8]));
        }
        assert_ne!(kek.seal(PKCS8, CertId(1)).unwrap(), sealed, "fresh data key and nonces");
    }

    #[test]
    fn a_tampered_row_fails() {
        let kek = Kek::from_bytes([7; 32]);
        let mut sealed = kek.seal(PKCS8, CertId(1)).unwrap();
        let last = sealed.ciphertext.len() - 1;
        sealed.ciphertext[last] ^= 1;
        assert_eq!(
            kek.open(&sealed, CertId(1)).unwrap_err(),
            ExportError::KeyRowMismatch { id: 1 }
        );
        sealed.ciphertext.truncate(3);
        assert!(kek.open(&sealed, CertId(1)).is_err());
    }

    #[test]
    fn rotation_rewraps_the_data_key_only() {
        let (old, new) = (Kek::from_bytes([1; 32]), Kek::from_bytes([2; 32]));
        let sealed = old.seal(PKCS8, CertId(9)).unwrap();
        let rotated = SealedKey {
            kek_id: new.id().to_vec(),
            wrapped_key: old
                .rewrap(&sealed.kek_id, &sealed.wrapped_key, CertId(9), &new)
                .unwrap(),
            ciphertext: sealed.ciphertext.clone(),
        };
        assert_eq!(&new.open(&rotated, CertId(9)).unwrap()[..], PKCS8);
        assert_eq!(
            old.open(&rotated, CertId(9)).unwrap_err(),
            ExportError::WrongKek { id: 9 }
        );
    }

    #[test]
    fn kek_files_are_64_hex_digits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kek");
        std::fs::write(&path, format!("{}\n", "aB".repeat(32))).unwrap();
        assert_eq!(Kek::from_file(&path).unwrap().id, Kek::from_bytes([0xab; 32]).id);
        for bad in ["ab".repeat(31), "zz".repeat(32), "ab".repeat(33), String::new()] {
            std::fs::write(&path, bad).unwrap();
            assert!(matches!(Kek::from_file(&path), Err(ExportError::BadKekFile { .. })));
        }
    }

    #[test]
    fn debug_shows_the_id_not_the_key() {
        let debug = format!("{:?}", Kek::from_bytes([0xab; 32]));
        assert!(debug.contains("[redacted]"));
        assert!(!debug.contains("abab"));
    }
}
