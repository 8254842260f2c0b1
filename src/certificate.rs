//! The fields of an X.509 certificate that lookups, chain building and
//! file naming need (a stored certificate carries them through an export
//! once read: `store::Certificate`).
//!
//! The view borrows the stored DER: nothing is decoded that is not used and
//! nothing is re-encoded, so a stored certificate is written out byte for
//! byte as it was loaded. The outer structure is checked strictly (every
//! field of `TBSCertificate` in order, DER lengths, no trailing bytes); the
//! contents of extensions other than the key identifiers are not interpreted.
//! It is read with [`crate::fast_der`], the one hand-written DER reader of
//! the crate, which `benches/der_reader.rs` and the differential test in
//! `tests/der_reader.rs` hold against the `der` crate.

use crate::error::ExportError;
use crate::fast_der::{self as tlv, Reader, Tlv, tag};
use crate::ids::{SerialNumber, Thumbprint, trim_leading_zeros};
use crate::name;
use crate::oid;

/// What a person reads about a certificate: the fields `certexport list`
/// prints.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CertificateSummary {
    /// SHA-1 thumbprint.
    pub sha1: Thumbprint,
    /// SHA-256 thumbprint.
    pub sha256: Thumbprint,
    /// Serial number.
    pub serial: SerialNumber,
    /// Subject, RFC 4514.
    pub subject: String,
    /// Issuer, RFC 4514.
    pub issuer: String,
    /// `notBefore`, seconds since the Unix epoch.
    pub not_before: i64,
    /// `notAfter`, seconds since the Unix epoch.
    pub not_after: i64,
}

impl CertificateSummary {
    /// The summary of a DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, ExportError> {
        let sha1 = Thumbprint::sha1_of(der);
        let malformed = ExportError::malformed(|| sha1.to_string());
        let view = CertificateView::parse(der).map_err(&malformed)?;
        Ok(Self {
            sha1,
            sha256: Thumbprint::sha256_of(der),
            serial: SerialNumber::from_der_content(view.serial),
            subject: name::to_rfc4514(view.subject).map_err(&malformed)?,
            issuer: name::to_rfc4514(view.issuer).map_err(&malformed)?,
            not_before: view.not_before,
            not_after: view.not_after,
        })
    }
}

#[cfg(any(test, feature = "bench-internals"))]
pub(crate) mod der_twin;

/// The fields of one certificate, borrowed from its DER.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CertificateView<'a> {
    /// The `TBSCertificate` element: the signed bytes.
    pub(crate) tbs: &'a [u8],
    /// The serial number's content octets (two's complement, as stored).
    pub(crate) serial: &'a [u8],
    /// The issuer `Name` element.
    pub(crate) issuer: &'a [u8],
    /// The subject `Name` element.
    pub(crate) subject: &'a [u8],
    /// `notBefore`, seconds since the Unix epoch.
    pub(crate) not_before: i64,
    /// `notAfter`, seconds since the Unix epoch.
    pub(crate) not_after: i64,
    /// The `SubjectPublicKeyInfo` element.
    pub(crate) spki: &'a [u8],
    /// The subject key identifier, if the extension is present.
    pub(crate) subject_key_id: Option<&'a [u8]>,
    /// The authority key identifier's `keyIdentifier`, if present.
    pub(crate) authority_key_id: Option<&'a [u8]>,
    /// The outer `signatureAlgorithm` element.
    pub(crate) signature_algorithm: &'a [u8],
    /// The signature bits (without the unused-bits octet).
    pub(crate) signature: &'a [u8],
}

impl<'a> CertificateView<'a> {
    /// Reads the view of `der`, which must be exactly one certificate.
    pub(crate) fn parse(der: &'a [u8]) -> der::Result<Self> {
        let cert = tlv::single(der, tag::SEQUENCE)?;
        let mut outer = Reader::new(cert.value);
        let tbs = outer.expect(tag::SEQUENCE)?;
        let signature_algorithm = outer.expect(tag::SEQUENCE)?;
        let signature = bit_string(outer.expect(tag::BIT_STRING)?)?;
        outer.finish()?;

        let TbsHead {
            serial,
            issuer,
            validity,
            subject,
            rest: mut fields,
        } = TbsHead::read(tbs.value)?;
        let spki = fields.expect(tag::SEQUENCE)?;
        fields.optional(0x81)?;
        fields.optional(0x82)?;
        let extensions = fields.optional(tag::CONTEXT_3)?;
        fields.finish()?;

        let mut times = Reader::new(validity.value);
        let not_before = time(times.next()?)?;
        let not_after = time(times.next()?)?;
        times.finish()?;

        let mut view = Self {
            tbs: tbs.raw,
            serial: serial.value,
            issuer: issuer.raw,
            subject: subject.raw,
            not_before,
            not_after,
            spki: spki.raw,
            subject_key_id: None,
            authority_key_id: None,
            signature_algorithm: signature_algorithm.raw,
            signature,
        };
        if let Some(extensions) = extensions {
            view.read_key_identifiers(extensions)?;
        }
        Ok(view)
    }

    fn read_key_identifiers(&mut self, extensions: Tlv<'a>) -> der::Result<()> {
        let list = tlv::single(extensions.value, tag::SEQUENCE)?;
        let mut reader = Reader::new(list.value);
        while !reader.is_empty() {
            let extension = reader.expect(tag::SEQUENCE)?;
            let mut parts = Reader::new(extension.value);
            let id = parts.expect(tag::OID)?;
            parts.optional(tag::BOOLEAN)?;
            let value = parts.expect(tag::OCTET_STRING)?;
            parts.finish()?;
            if id.value == oid::SUBJECT_KEY_IDENTIFIER.as_bytes() {
                self.subject_key_id = Some(tlv::single(value.value, tag::OCTET_STRING)?.value);
            } else if id.value == oid::AUTHORITY_KEY_IDENTIFIER.as_bytes() {
                let aki = tlv::single(value.value, tag::SEQUENCE)?;
                self.authority_key_id = Reader::new(aki.value)
                    .optional(tag::CONTEXT_PRIM_0)?
                    .map(|key_id| key_id.value);
            }
        }
        Ok(())
    }

    /// The subject `Name` element of `der` alone: the walk stops there, so
    /// nothing after it (validity dates, key, extensions, signature) is
    /// read or checked. For naming a file or writing a `subject=` header
    /// from a certificate the store has already checked;
    /// [`parse`](Self::parse) is the strict reading.
    pub(crate) fn subject_of(der: &'a [u8]) -> der::Result<&'a [u8]> {
        let cert = tlv::single(der, tag::SEQUENCE)?;
        let tbs = Reader::new(cert.value).expect(tag::SEQUENCE)?;
        Ok(TbsHead::read(tbs.value)?.subject.raw)
    }

    /// The serial number as an unsigned magnitude: leading zero octets dropped.
    pub(crate) fn serial_magnitude(&self) -> &'a [u8] {
        trim_leading_zeros(self.serial)
    }

    /// Whether the certificate is valid at `time` (Unix seconds).
    pub(crate) fn is_valid_at(&self, time: i64) -> bool {
        self.not_before <= time && time <= self.not_after
    }
}

/// The fields of a `TBSCertificate`'s contents up to the subject, which
/// [`CertificateView::parse`] and [`CertificateView::subject_of`] both
/// walk, and a reader over the fields after it.
struct TbsHead<'a> {
    serial: Tlv<'a>,
    issuer: Tlv<'a>,
    validity: Tlv<'a>,
    subject: Tlv<'a>,
    rest: Reader<'a>,
}

impl<'a> TbsHead<'a> {
    /// Reads `[0] version` (optional), a non-empty serial, the signature
    /// algorithm, issuer, validity and subject.
    fn read(tbs: &'a [u8]) -> der::Result<Self> {
        let mut fields = Reader::new(tbs);
        fields.optional(tag::CONTEXT_0)?;
        let serial = fields.expect(tag::INTEGER)?;
        if serial.value.is_empty() {
            return Err(der::ErrorKind::Length { tag: der::Tag::Integer }.into());
        }
        fields.expect(tag::SEQUENCE)?;
        Ok(Self {
            serial,
            issuer: fields.expect(tag::SEQUENCE)?,
            validity: fields.expect(tag::SEQUENCE)?,
            subject: fields.expect(tag::SEQUENCE)?,
            rest: fields,
        })
    }
}

fn bit_string(tlv: Tlv<'_>) -> der::Result<&[u8]> {
    match tlv.value.split_first() {
        Some((0, bits)) => Ok(bits),
        _ => Err(der::ErrorKind::Value {
            tag: der::Tag::BitString,
        }
        .into()),
    }
}

/// Seconds since the Unix epoch of a `UTCTime` or `GeneralizedTime`
/// (RFC 5280 §4.1.2.5: `YYMMDDHHMMSSZ` and `YYYYMMDDHHMMSSZ`), accepting
/// exactly the dates the `der` crate's time types accept: years from 1970,
/// and days that exist in their month.
fn time(tlv: Tlv<'_>) -> der::Result<i64> {
    let (year, rest) = match (tlv.tag, tlv.value.len()) {
        (tag::UTC_TIME, 13) => {
            let yy = digits(&tlv.value[..2])?;
            // RFC 5280: YY >= 50 is 19YY, otherwise 20YY.
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &tlv.value[2..])
        }
        (tag::GENERALIZED_TIME, 15) => (digits(&tlv.value[..4])?, &tlv.value[4..]),
        _ => return Err(der::ErrorKind::DateTime.into()),
    };
    if rest[10] != b'Z' {
        return Err(der::ErrorKind::DateTime.into());
    }
    let month = digits(&rest[0..2])?;
    let day = digits(&rest[2..4])?;
    let hour = digits(&rest[4..6])?;
    let minute = digits(&rest[6..8])?;
    let second = digits(&rest[8..10])?;
    if year < 1970
        || !(1..=12).contains(&month)
        || !(1..=days_in_month(year, month)).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return Err(der::ErrorKind::DateTime.into());
    }
    Ok(days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second)
}

fn digits(bytes: &[u8]) -> der::Result<i64> {
    bytes.iter().try_fold(0i64, |acc, &b| {
        if b.is_ascii_digit() {
            Ok(acc * 10 + i64::from(b - b'0'))
        } else {
            Err(der::ErrorKind::DateTime.into())
        }
    })
}

pub(crate) fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time_of(tag: u8, text: &str) -> der::Result<i64> {
        time(Tlv {
            tag,
            raw: &[],
            value: text.as_bytes(),
        })
    }

    #[test]
    fn reads_both_time_forms() {
        assert_eq!(time_of(tag::UTC_TIME, "700101000000Z").unwrap(), 0);
        assert_eq!(time_of(tag::UTC_TIME, "491231235959Z").unwrap(), 2_524_607_999);
        assert_eq!(time_of(tag::GENERALIZED_TIME, "20000229120000Z").unwrap(), 951_825_600);
        assert_eq!(
            time_of(tag::GENERALIZED_TIME, "99991231235959Z").unwrap(),
            253_402_300_799
        );
    }

    #[test]
    fn rejects_bad_times() {
        for bad in [
            "700101000000",
            "7001010000000",
            "701301000000Z",
            "70010100000aZ",
            "700101000060Z",
            "500101000000Z",
            "010229000000Z",
            "010431000000Z",
        ] {
            assert!(time_of(tag::UTC_TIME, bad).is_err(), "{bad}");
        }
        assert!(time_of(tag::OCTET_STRING, "700101000000Z").is_err());
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        for input in [&b""[..], b"\x30", b"\x30\x00", b"\x30\x03\x30\x01\x00", b"\x30\x80"] {
            assert!(CertificateView::parse(input).is_err());
        }
    }

    #[test]
    fn trims_serial_zeros() {
        assert_eq!(trim_leading_zeros(&[0, 0x8f]), &[0x8f]);
        assert_eq!(trim_leading_zeros(&[0]), &[0]);
        assert_eq!(trim_leading_zeros(&[0, 0]), &[0]);
    }
}
