//! The identifiers that name a certificate: the store id,
//! SHA-1 and SHA-256 thumbprints, serial numbers and the AppViewX `uuId`;
//! a [`Lookup`](crate::Lookup) is one of them, or an issuer DN with a
//! serial.
//!
//! Each is a newtype whose `FromStr` says what is wrong with bad input;
//! once parsed, a value is valid and later code never checks it again.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use crate::error::{ExportError, shown};

/// A certificate's id in its store (the reference API's `CertID`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CertId(pub u64);

impl fmt::Display for CertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A certificate thumbprint: the SHA-1 (40 hex digits) or SHA-256
/// (64 hex digits) of its DER.
///
/// Parsing is case-insensitive and allows `:` and spaces between bytes, as
/// OpenSSL (`AB:CD:…`) and Windows (`ab cd …`) print them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Thumbprint {
    /// SHA-1 digest.
    Sha1([u8; 20]),
    /// SHA-256 digest.
    Sha256([u8; 32]),
}

impl Thumbprint {
    /// The SHA-1 thumbprint of `der`.
    pub fn sha1_of(der: &[u8]) -> Self {
        use sha1::Digest;
        Thumbprint::Sha1(sha1::Sha1::digest(der).into())
    }

    /// The SHA-256 thumbprint of `der`.
    pub fn sha256_of(der: &[u8]) -> Self {
        use sha2::Digest;
        Thumbprint::Sha256(sha2::Sha256::digest(der).into())
    }

    /// The digest bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Thumbprint::Sha1(d) => d,
            Thumbprint::Sha256(d) => d,
        }
    }
}

impl FromStr for Thumbprint {
    type Err = ExportError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |reason: String| ExportError::InvalidThumbprint {
            input: shown(input),
            reason,
        };
        let bytes = parse_hex_bytes(input, 32).map_err(err)?;
        if let Ok(sha1) = <[u8; 20]>::try_from(bytes.as_slice()) {
            return Ok(Thumbprint::Sha1(sha1));
        }
        if let Ok(sha256) = <[u8; 32]>::try_from(bytes.as_slice()) {
            return Ok(Thumbprint::Sha256(sha256));
        }
        Err(err(format!(
            "{} hex digits; a SHA-1 thumbprint has 40 and a SHA-256 thumbprint 64",
            bytes.len() * 2
        )))
    }
}

impl fmt::Display for Thumbprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(self.as_bytes()))
    }
}

/// A certificate serial number, as an unsigned magnitude.
///
/// Parsing is case-insensitive, allows `:` and spaces between bytes, and
/// drops leading zero bytes (`00:8F` equals `8F`). Without separators an odd
/// number of digits is read with a leading zero (`123` is `01 23`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SerialNumber(Box<[u8]>);

impl SerialNumber {
    /// The longest serial accepted: RFC 5280 allows 20 octets; real CAs
    /// have issued a few more, so 64 leaves room without inviting abuse.
    const MAX_LEN: usize = 64;

    /// The magnitude's bytes, without leading zeros (at least one byte).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The serial of a certificate, from its DER `INTEGER` content.
    pub(crate) fn from_der_content(content: &[u8]) -> Self {
        SerialNumber(trim_leading_zeros(content).into())
    }
}

impl FromStr for SerialNumber {
    type Err = ExportError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |reason: String| ExportError::InvalidSerialNumber {
            input: shown(input),
            reason,
        };
        let trimmed = input.trim();
        let padded;
        let text = if trimmed.len() % 2 == 1 && trimmed.bytes().all(|b| b.is_ascii_hexdigit()) {
            padded = format!("0{trimmed}");
            &padded
        } else {
            input
        };
        let bytes = parse_hex_bytes(text, Self::MAX_LEN).map_err(err)?;
        Ok(Self::from_der_content(&bytes))
    }
}

impl fmt::Display for SerialNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

/// The string id of a certificate (the AppViewX API's `uuId`): 1 to 64
/// characters from `A–Z`, `a–z`, `0–9` and `-`, compared exactly.
///
/// A store or a manifest assigns it; it names one certificate.
///
/// ```
/// use certexport::ids::Uuid;
/// let id: Uuid = "60b8d6c4e5c7a920d4f4f1f4".parse()?;
/// assert_eq!(id.as_str(), "60b8d6c4e5c7a920d4f4f1f4");
/// assert!("../etc".parse::<Uuid>().is_err());
/// # Ok::<(), certexport::ExportError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uuid(Box<str>);

impl Uuid {
    /// The longest id accepted.
    pub const MAX_LEN: usize = 64;

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Uuid {
    type Err = ExportError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |reason| ExportError::InvalidUuid {
            input: shown(input),
            reason,
        };
        if input.is_empty() {
            return Err(err("empty"));
        }
        if input.len() > Self::MAX_LEN {
            return Err(err("longer than 64 characters"));
        }
        if !input.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(err("only letters, digits and '-' are allowed"));
        }
        Ok(Self(input.into()))
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `bytes` without leading zero octets, keeping at least one octet.
pub(crate) fn trim_leading_zeros(bytes: &[u8]) -> &[u8] {
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    &bytes[zeros.min(bytes.len().saturating_sub(1))..]
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// Bytes from hex pairs, with runs of `:` and spaces allowed between pairs
/// and white space around the whole; at most `max` bytes, so hostile input
/// is refused after a bounded amount of work.
fn parse_hex_bytes(input: &str, max: usize) -> Result<Vec<u8>, String> {
    let text = input.trim();
    if text.is_empty() {
        return Err("empty".into());
    }
    let mut bytes = Vec::with_capacity(max);
    let mut chars = text.char_indices();
    let mut after_separator = false;
    while let Some((at, c)) = chars.next() {
        match c {
            ':' | ' ' => {
                if bytes.is_empty() {
                    return Err(format!("separator {c:?} at position {at} before any byte"));
                }
                after_separator = true;
            }
            c if c.is_ascii_hexdigit() => {
                if bytes.len() == max {
                    return Err(format!("more than {max} bytes"));
                }
                let (at2, c2) = chars
                    .next()
                    .ok_or_else(|| format!("odd number of hex digits: {c:?} at position {at} has no pair"))?;
                let lo = c2.to_digit(16).ok_or_else(|| bad_char(c2, at2))?;
                let hi = c.to_digit(16).unwrap_or(0);
                bytes.push((hi << 4 | lo) as u8);
                after_separator = false;
            }
            c => return Err(bad_char(c, at)),
        }
    }
    if after_separator {
        return Err("ends with a separator".into());
    }
    Ok(bytes)
}

fn bad_char(c: char, at: usize) -> String {
    if c.is_ascii_graphic() {
        format!("invalid character {c:?} at position {at}")
    } else {
        format!("invalid character U+{:04X} at position {at}", u32::from(c))
    }
}

/// A digest (a thumbprint, a cache key) as a hash-map key: its first
/// eight bytes go through the keyed hasher (`foldhash`, seeded per map)
/// as one 64-bit word, and the whole digest is compared. A cryptographic
/// digest's bytes are already uniform, and no one can make two stored
/// certificates share eight digest bytes (that is a 2^64 search), while
/// the seed keeps anyone from aiming at a bucket. Hashing the digest as a
/// byte string took foldhash's out-of-line path for long input (a lookup
/// 2.5 times slower at 100 certificates, 15 times at 100,000), and as
/// three or four words it still cost a 100,000-certificate lookup a
/// tenth (`benches/store_scale.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DigestKey<const N: usize>(pub(crate) [u8; N]);

impl<const N: usize> Hash for DigestKey<N> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let mut word = [0u8; 8];
        let len = N.min(8);
        word[..len].copy_from_slice(&self.0[..len]);
        state.write_u64(u64::from_le_bytes(word));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA1: &str = "5fb7ee0633e259dbad0c4c9ae6d38f1a61c7dc25";

    #[test]
    fn parses_thumbprint_spellings() {
        let plain: Thumbprint = SHA1.parse().unwrap();
        let upper: Thumbprint = SHA1.to_uppercase().parse().unwrap();
        let colons: Thumbprint = "5F:B7:EE:06:33:E2:59:DB:AD:0C:4C:9A:E6:D3:8F:1A:61:C7:DC:25"
            .parse()
            .unwrap();
        let spaces: Thumbprint = " 5f b7 ee 06 33 e2 59 db ad 0c 4c 9a e6 d3 8f 1a 61 c7 dc 25 "
            .parse()
            .unwrap();
        assert_eq!(plain, upper);
        assert_eq!(plain, colons);
        assert_eq!(plain, spaces);
        assert_eq!(plain.to_string(), SHA1);
        assert!(matches!(
            "ab".repeat(32).parse::<Thumbprint>().unwrap(),
            Thumbprint::Sha256(_)
        ));
    }

    #[test]
    fn rejects_bad_thumbprints_naming_the_problem() {
        let cases = [
            ("", "empty"),
            ("abc", "odd number"),
            (&SHA1[..38], "38 hex digits"),
            ("g".repeat(40).as_str(), "'g' at position 0"),
            ("\u{200e}5fb7", "U+200E"),
            (":5f", "before any byte"),
            ("5f:", "ends with a separator"),
            ("5:fb7", "':' at position 1"),
            ("ab".repeat(33).as_str(), "more than 32 bytes"),
        ]
        .map(|(a, b)| (a.to_owned(), b));
        for (input, expected) in cases {
            let err = input.parse::<Thumbprint>().unwrap_err();
            let text = err.to_string();
            assert!(text.contains(expected), "{input:?}: {text}");
            assert!(matches!(err, ExportError::InvalidThumbprint { .. }));
        }
    }

    #[test]
    fn serial_numbers_ignore_leading_zeros() {
        let a: SerialNumber = "00:8F:01".parse().unwrap();
        let b: SerialNumber = "8f01".parse().unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "8f01");
        assert_eq!("123".parse::<SerialNumber>().unwrap().as_bytes(), &[0x01, 0x23]);
        assert_eq!("00".parse::<SerialNumber>().unwrap().as_bytes(), &[0]);
        assert!("12 3".parse::<SerialNumber>().is_err());
        assert!("xyz".parse::<SerialNumber>().is_err());
        assert!("ab".repeat(65).parse::<SerialNumber>().is_err());
    }

    #[test]
    fn uuids_are_short_and_plain() {
        assert_eq!(
            "60b8d6c4e5c7a920d4f4f1f4".parse::<Uuid>().unwrap().as_str(),
            "60b8d6c4e5c7a920d4f4f1f4"
        );
        assert!("a".repeat(64).parse::<Uuid>().is_ok());
        for bad in ["", "a b", "../x", "x\n", "é", &"a".repeat(65)] {
            assert!(
                matches!(bad.parse::<Uuid>(), Err(ExportError::InvalidUuid { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn errors_quote_a_bounded_part_of_the_input() {
        let huge = "z".repeat(10_000_000);
        let text = huge.parse::<Thumbprint>().unwrap_err().to_string();
        assert!(text.len() < 400, "{} bytes", text.len());
    }
}
