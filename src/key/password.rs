//! The password that protects an exported key.

use std::fmt;

use zeroize::Zeroizing;

use crate::ExportError;

/// A non-empty password, zeroized when dropped, never printed.
///
/// It has no `Clone`: one copy exists, and it is wiped when the request
/// that holds it is dropped.
///
/// ```
/// use certexport::{ExportError, Password};
///
/// let password = Password::new("correct horse battery staple")?;
/// assert_eq!(format!("{password:?}"), "Password([redacted])");
/// assert_eq!(Password::new("").unwrap_err(), ExportError::PasswordRequired);
/// # Ok::<(), ExportError>(())
/// ```
pub struct Password(Zeroizing<String>);

impl Password {
    /// A password from `text`. Empty text is refused with
    /// [`ExportError::PasswordRequired`] (the reference API's
    /// "Field cannot be null/empty"); text holding a NUL character with
    /// [`ExportError::InvalidPassword`], since OpenSSL and the C programs
    /// built on it end a password at its first NUL and could never open
    /// the result.
    pub fn new(text: impl Into<String>) -> Result<Self, ExportError> {
        let text = Zeroizing::new(text.into());
        if text.is_empty() {
            return Err(ExportError::PasswordRequired);
        }
        if text.contains('\0') {
            return Err(ExportError::InvalidPassword {
                reason: "it holds a NUL character, which OpenSSL and other C programs take as its end",
            });
        }
        Ok(Self(text))
    }

    /// A password from the first line of a file's contents, without its
    /// line ending (`\n` or `\r\n`). The contents are wiped afterwards.
    pub fn from_first_line(contents: Zeroizing<Vec<u8>>) -> Result<Self, ExportError> {
        let line = contents.split(|&b| b == b'\n').next().unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let text = std::str::from_utf8(line).map_err(|_| ExportError::InvalidPassword {
            reason: "it is not UTF-8 text",
        })?;
        Self::new(text)
    }

    /// The password's UTF-8 bytes, for the key derivation.
    pub(crate) fn secret_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The password as text, for the PKCS#12 (BMPString) key derivation.
    pub(crate) fn secret_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_passwords_are_refused() {
        assert!(matches!(Password::new(""), Err(ExportError::PasswordRequired)));
        assert!(matches!(
            Password::from_first_line(Zeroizing::new(b"\nsecond".to_vec())),
            Err(ExportError::PasswordRequired)
        ));
    }

    #[test]
    fn takes_the_first_line_without_its_ending() {
        let p = Password::from_first_line(Zeroizing::new(b"s3cret\r\nignored\n".to_vec())).unwrap();
        assert_eq!(p.secret_str(), "s3cret");
        let p = Password::from_first_line(Zeroizing::new(b"no newline".to_vec())).unwrap();
        assert_eq!(p.secret_str(), "no newline");
    }

    #[test]
    fn debug_is_redacted() {
        assert_eq!(
            format!("{:?}", Password::new("hunter2").unwrap()),
            "Password([redacted])"
        );
    }
}
