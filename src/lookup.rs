//! Naming the certificate to export (SPEC §2): store id, SHA-1 or SHA-256
//! thumbprint, or serial number with issuer DN.

use std::fmt;
use std::str::FromStr;

use crate::certificate::CertificateView;
use crate::store::{CertificateStore, StoredCertificate};
use crate::{DistinguishedName, ExportError, NameKey};

/// A certificate's id in its store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CertId(pub u64);

impl fmt::Display for CertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One way of naming a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The store's id (the reference API's `CertID`).
    CertId(CertId),
    /// The SHA-1 or SHA-256 digest of the certificate's DER.
    Thumbprint(Thumbprint),
    /// Serial number and issuer, which name one certificate in a sane PKI.
    IssuerSerial {
        /// The issuer's distinguished name.
        issuer: DistinguishedName,
        /// The serial number.
        serial: SerialNumber,
    },
}

impl Lookup {
    /// The lookups of an untyped request (JSON, command line), in the order
    /// `CertID`, `Thumbprint`, `SerialNumber` + `IssuerDN`. At least one
    /// must be given; a serial number needs its issuer and the reverse.
    pub fn from_parts(
        cert_id: Option<u64>,
        thumbprint: Option<&str>,
        serial: Option<&str>,
        issuer: Option<&str>,
    ) -> Result<Vec<Lookup>, ExportError> {
        let mut lookups = Vec::new();
        if let Some(id) = cert_id {
            lookups.push(Lookup::CertId(CertId(id)));
        }
        if let Some(thumbprint) = thumbprint {
            lookups.push(Lookup::Thumbprint(thumbprint.parse()?));
        }
        match (serial, issuer) {
            (Some(serial), Some(issuer)) => lookups.push(Lookup::IssuerSerial {
                serial: serial.parse()?,
                issuer: issuer.parse()?,
            }),
            (Some(_), None) => {
                return Err(ExportError::IncompleteLookup {
                    given: "SerialNumber",
                    missing: "IssuerDN",
                });
            }
            (None, Some(_)) => {
                return Err(ExportError::IncompleteLookup {
                    given: "IssuerDN",
                    missing: "SerialNumber",
                });
            }
            (None, None) => {}
        }
        if lookups.is_empty() {
            return Err(ExportError::MissingLookup);
        }
        Ok(lookups)
    }
}

impl fmt::Display for Lookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lookup::CertId(id) => write!(f, "CertID {id}"),
            Lookup::Thumbprint(t) => write!(f, "thumbprint {t}"),
            Lookup::IssuerSerial { issuer, serial } => write!(f, "serial number {serial} of issuer \"{issuer}\""),
        }
    }
}

impl From<CertId> for Lookup {
    fn from(id: CertId) -> Self {
        Lookup::CertId(id)
    }
}

impl From<Thumbprint> for Lookup {
    fn from(thumbprint: Thumbprint) -> Self {
        Lookup::Thumbprint(thumbprint)
    }
}

/// A certificate thumbprint: the SHA-1 (40 hex digits) or SHA-256
/// (64 hex digits) of its DER.
///
/// Parsing is case-insensitive and allows `:` and spaces between bytes, as
/// OpenSSL (`AB:CD:…`) and Windows (`ab cd …`) print them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
            input: input.to_owned(),
            reason,
        };
        let bytes = parse_hex_bytes(input).map_err(err)?;
        match bytes.len() {
            20 => Ok(Thumbprint::Sha1(bytes.try_into().unwrap_or([0; 20]))),
            32 => Ok(Thumbprint::Sha256(bytes.try_into().unwrap_or([0; 32]))),
            n => Err(err(format!(
                "{} hex digits; a SHA-1 thumbprint has 40 and a SHA-256 thumbprint 64",
                n * 2
            ))),
        }
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
        SerialNumber(crate::certificate::trim_leading_zeros(content).into())
    }
}

impl FromStr for SerialNumber {
    type Err = ExportError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |reason: String| ExportError::InvalidSerialNumber {
            input: input.to_owned(),
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
        let bytes = parse_hex_bytes(text).map_err(err)?;
        if bytes.len() > Self::MAX_LEN {
            return Err(err(format!(
                "{} bytes; at most {} are accepted",
                bytes.len(),
                Self::MAX_LEN
            )));
        }
        Ok(Self::from_der_content(&bytes))
    }
}

impl fmt::Display for SerialNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
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
/// and white space around the whole.
fn parse_hex_bytes(input: &str) -> Result<Vec<u8>, String> {
    let text = input.trim();
    if text.is_empty() {
        return Err("empty".into());
    }
    let mut bytes = Vec::with_capacity(text.len() / 2);
    let mut chars = text.char_indices().peekable();
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

/// The certificate every lookup of `lookups` names; they must agree.
pub(crate) fn resolve<'s>(
    store: &'s dyn CertificateStore,
    first: &Lookup,
    rest: &[Lookup],
) -> Result<StoredCertificate<'s>, ExportError> {
    let certificate = resolve_one(store, first)?;
    for other in rest {
        match resolve_one(store, other) {
            Ok(other) if other.id == certificate.id => {}
            Ok(other_cert) => return Err(conflict(first, certificate.id, other, other_cert.id.0)),
            Err(ExportError::NotFound { .. }) => return Err(conflict(first, certificate.id, other, 0)),
            Err(e) => return Err(e),
        }
    }
    Ok(certificate)
}

fn conflict(first: &Lookup, first_id: CertId, second: &Lookup, second_id: u64) -> ExportError {
    ExportError::ConflictingLookups {
        first: first.to_string(),
        first_id: first_id.0,
        second: second.to_string(),
        second_id,
    }
}

fn resolve_one<'s>(store: &'s dyn CertificateStore, lookup: &Lookup) -> Result<StoredCertificate<'s>, ExportError> {
    let not_found = || ExportError::NotFound {
        lookup: lookup.to_string(),
    };
    match lookup {
        Lookup::CertId(id) => store.certificate(*id)?.ok_or_else(not_found),
        Lookup::Thumbprint(t) => store.certificate_by_thumbprint(t)?.ok_or_else(not_found),
        Lookup::IssuerSerial { issuer, serial } => {
            let mut found = matching(store, issuer.key(), serial)?;
            if let Some(reversed) = issuer.reversed_key() {
                found.extend(matching(store, reversed, serial)?);
                found.sort_unstable_by_key(|c| c.id);
                found.dedup_by_key(|c| c.id);
            }
            match found.len() {
                0 => Err(not_found()),
                1 => found.pop().ok_or_else(not_found),
                count => Err(ExportError::AmbiguousLookup {
                    lookup: lookup.to_string(),
                    count,
                }),
            }
        }
    }
}

/// The store's candidates for `issuer` + `serial`, each checked against
/// the certificate itself: a store's index may return extra candidates,
/// and the wrong certificate must never be exported.
fn matching<'s>(
    store: &'s dyn CertificateStore,
    issuer: &NameKey,
    serial: &SerialNumber,
) -> Result<Vec<StoredCertificate<'s>>, ExportError> {
    let mut found = Vec::new();
    for id in store.find_by_issuer_serial(issuer, serial)? {
        let Some(certificate) = store.certificate(id)? else {
            continue;
        };
        let Ok(view) = CertificateView::parse(&certificate.der) else {
            continue;
        };
        if view.serial_magnitude() == serial.as_bytes() && NameKey::from_der(view.issuer).is_ok_and(|k| k == *issuer) {
            found.push(certificate);
        }
    }
    Ok(found)
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
    fn untyped_parts_need_a_whole_lookup() {
        assert_eq!(
            Lookup::from_parts(None, None, None, None),
            Err(ExportError::MissingLookup)
        );
        assert!(matches!(
            Lookup::from_parts(None, None, Some("01"), None),
            Err(ExportError::IncompleteLookup { .. })
        ));
        assert!(matches!(
            Lookup::from_parts(None, None, None, Some("CN=x")),
            Err(ExportError::IncompleteLookup { .. })
        ));
        assert_eq!(
            Lookup::from_parts(Some(1), Some(SHA1), Some("01"), Some("CN=x"))
                .unwrap()
                .len(),
            3
        );
    }
}
