//! The fast certificate-field reader: a zero-copy walk over DER
//! tag-length-value triples, with DER's rules (definite, minimal lengths;
//! single-byte tags, which is all X.509 uses).
//!
//! It is the one hand-written ASN.1 code the crate keeps, because it sits
//! on every export and load: `benches/der_reader.rs` measures the same
//! walk with the `der` crate's `SliceReader`/`AnyRef` at several times the
//! cost (figures in the README), which makes an export more than 20%
//! slower. `tests/der_reader.rs` holds the two to the same fields for every
//! certificate the `der` walk accepts and the same refusals for the rest,
//! and `fuzz/fuzz_targets/der_reader.rs` does the same on fuzzed input.
//! Everything the crate *writes* goes through `der` and the RustCrypto
//! format crates.

use der::{ErrorKind, Length, Tag};

/// DER tag bytes used across the crate.
pub(crate) mod tag {
    pub(crate) const BOOLEAN: u8 = 0x01;
    pub(crate) const INTEGER: u8 = 0x02;
    pub(crate) const BIT_STRING: u8 = 0x03;
    pub(crate) const OCTET_STRING: u8 = 0x04;
    pub(crate) const OID: u8 = 0x06;
    pub(crate) const UTF8_STRING: u8 = 0x0c;
    pub(crate) const NUMERIC_STRING: u8 = 0x12;
    pub(crate) const PRINTABLE_STRING: u8 = 0x13;
    pub(crate) const TELETEX_STRING: u8 = 0x14;
    pub(crate) const IA5_STRING: u8 = 0x16;
    pub(crate) const UTC_TIME: u8 = 0x17;
    pub(crate) const GENERALIZED_TIME: u8 = 0x18;
    pub(crate) const VISIBLE_STRING: u8 = 0x1a;
    pub(crate) const UNIVERSAL_STRING: u8 = 0x1c;
    pub(crate) const BMP_STRING: u8 = 0x1e;
    pub(crate) const SEQUENCE: u8 = 0x30;
    pub(crate) const SET: u8 = 0x31;
    /// `[0]` constructed, context-specific.
    pub(crate) const CONTEXT_0: u8 = 0xa0;
    /// `[3]` constructed, context-specific.
    pub(crate) const CONTEXT_3: u8 = 0xa3;
    /// `[0]` primitive, context-specific.
    pub(crate) const CONTEXT_PRIM_0: u8 = 0x80;
}

/// One element: its tag, the whole encoding and the content octets.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tlv<'a> {
    pub(crate) tag: u8,
    /// Tag, length and content together.
    pub(crate) raw: &'a [u8],
    /// The content octets only.
    pub(crate) value: &'a [u8],
}

/// Why a byte string is not DER, and where. Eight bytes, so the reader's
/// results stay in registers; it becomes a [`der::Error`] at the edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TlvError {
    kind: TlvErrorKind,
    at: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlvErrorKind {
    Truncated,
    MultiByteTag,
    BadLength(u8),
    Unexpected { expected: u8, actual: u8 },
    UnknownTag(u8),
    Trailing,
}

impl From<TlvError> for der::Error {
    fn from(e: TlvError) -> Self {
        let at = Length::from(e.at);
        let kind = match e.kind {
            TlvErrorKind::Truncated => ErrorKind::Incomplete {
                expected_len: at.saturating_add(Length::ONE),
                actual_len: at,
            },
            TlvErrorKind::MultiByteTag => ErrorKind::TagNumberInvalid,
            TlvErrorKind::BadLength(tag) => ErrorKind::Length { tag: tag_of(tag) },
            TlvErrorKind::Unexpected { expected, actual } => ErrorKind::TagUnexpected {
                expected: Some(tag_of(expected)),
                actual: tag_of(actual),
            },
            TlvErrorKind::UnknownTag(byte) => ErrorKind::TagUnknown { byte },
            TlvErrorKind::Trailing => ErrorKind::TrailingData {
                decoded: at,
                remaining: Length::ONE,
            },
        };
        der::Error::new(kind, at)
    }
}

/// The one-byte tags the `der` crate decodes: the universal types it
/// knows, and every application, context-specific and private tag in
/// low-tag-number form. [`Reader::next`] refuses the others as `der` does.
const KNOWN_TAGS: [bool; 256] = {
    let mut table = [false; 256];
    let universal: [u8; 22] = [
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x09, 0x0a, 0x0c, 0x0d, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x1a,
        0x1b, 0x1e, 0x30, 0x31,
    ];
    let mut i = 0;
    while i < universal.len() {
        table[universal[i] as usize] = true;
        i += 1;
    }
    let mut b = 0x40;
    while b < 0x100 {
        table[b] = b & 0x1f != 0x1f;
        b += 1;
    }
    table
};

/// Walks the elements of a byte string one by one.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    input: &'a [u8],
    consumed: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        Self { input, consumed: 0 }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.input.is_empty()
    }

    fn error(&self, kind: TlvErrorKind, at: usize) -> TlvError {
        TlvError {
            kind,
            at: u32::try_from(self.consumed + at).unwrap_or(u32::MAX),
        }
    }

    /// The next element, whatever its tag.
    #[inline]
    pub(crate) fn next(&mut self) -> Result<Tlv<'a>, TlvError> {
        match self.input.first() {
            Some(&tag) if !KNOWN_TAGS[usize::from(tag)] && tag & 0x1f != 0x1f => {
                Err(self.error(TlvErrorKind::UnknownTag(tag), 0))
            }
            _ => self.next_any(),
        }
    }

    /// The next element, with any one-byte tag: for attribute values,
    /// whose string types (UniversalString, say) the `der` crate does not
    /// all name.
    #[inline]
    pub(crate) fn next_any(&mut self) -> Result<Tlv<'a>, TlvError> {
        let input = self.input;
        let (&tag, rest) = input.split_first().ok_or(self.error(TlvErrorKind::Truncated, 0))?;
        if tag & 0x1f == 0x1f {
            return Err(self.error(TlvErrorKind::MultiByteTag, 0));
        }
        let (&first, rest) = rest.split_first().ok_or(self.error(TlvErrorKind::Truncated, 1))?;
        let (len, header) = if first < 0x80 {
            (usize::from(first), 2)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return Err(self.error(TlvErrorKind::BadLength(tag), 1));
            }
            let len = rest[..n].iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            // DER: the shortest form, no leading zero octet.
            if len < 0x80 || rest[0] == 0 {
                return Err(self.error(TlvErrorKind::BadLength(tag), 1));
            }
            (len, 2 + n)
        };
        let total = header + len;
        if total > input.len() {
            return Err(self.error(TlvErrorKind::Truncated, input.len()));
        }
        let (raw, remaining) = input.split_at(total);
        self.input = remaining;
        self.consumed += total;
        Ok(Tlv {
            tag,
            raw,
            value: &raw[header..],
        })
    }

    /// The next element, which must carry `expected`.
    #[inline]
    pub(crate) fn expect(&mut self, expected: u8) -> Result<Tlv<'a>, TlvError> {
        let at = self.consumed;
        let tlv = self.next()?;
        if tlv.tag == expected {
            Ok(tlv)
        } else {
            Err(TlvError {
                kind: TlvErrorKind::Unexpected {
                    expected,
                    actual: tlv.tag,
                },
                at: at as u32,
            })
        }
    }

    /// The next element if it carries `tag`, leaving the reader untouched otherwise.
    #[inline]
    pub(crate) fn optional(&mut self, tag: u8) -> Result<Option<Tlv<'a>>, TlvError> {
        match self.input.first() {
            Some(&t) if t == tag => self.next().map(Some),
            // Looking at a tag no DER element carries is an error, as in `der`.
            Some(&t) if t & 0x1f == 0x1f => Err(self.error(TlvErrorKind::MultiByteTag, 0)),
            Some(&t) if !KNOWN_TAGS[usize::from(t)] => Err(self.error(TlvErrorKind::UnknownTag(t), 0)),
            _ => Ok(None),
        }
    }

    /// Fails unless every byte has been read.
    pub(crate) fn finish(&self) -> Result<(), TlvError> {
        if self.input.is_empty() {
            Ok(())
        } else {
            Err(self.error(TlvErrorKind::Trailing, 0))
        }
    }
}

/// Reads exactly one element that fills `input`.
#[inline]
pub(crate) fn single(input: &[u8], expected: u8) -> Result<Tlv<'_>, TlvError> {
    let mut reader = Reader::new(input);
    let tlv = reader.expect(expected)?;
    reader.finish()?;
    Ok(tlv)
}

fn tag_of(byte: u8) -> Tag {
    use der::Decode;
    Tag::from_der(&[byte]).unwrap_or(Tag::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_lengths() {
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend(std::iter::repeat_n(7u8, 0x80));
        let tlv = single(&long, tag::OCTET_STRING).unwrap();
        assert_eq!(tlv.value.len(), 0x80);
        assert_eq!(single(&[0x05, 0x00], 0x05).unwrap().value, b"");
    }

    #[test]
    fn rejects_non_minimal_and_truncated_lengths() {
        assert!(single(&[0x04, 0x81, 0x05, 1, 2, 3, 4, 5], tag::OCTET_STRING).is_err());
        assert!(single(&[0x04, 0x82, 0x00, 0x80], tag::OCTET_STRING).is_err());
        assert!(single(&[0x04, 0x05, 1, 2], tag::OCTET_STRING).is_err());
        assert!(single(&[0x04, 0x80], tag::OCTET_STRING).is_err());
        assert!(single(&[0x04, 0x85, 1, 1, 1, 1, 1], tag::OCTET_STRING).is_err());
        assert!(single(&[0x1f, 0x01, 0x00], tag::OCTET_STRING).is_err());
        assert!(single(&[], tag::OCTET_STRING).is_err());
    }

    #[test]
    fn rejects_trailing_data_and_wrong_tags() {
        assert!(single(&[0x05, 0x00, 0x00], 0x05).is_err());
        assert!(single(&[0x05, 0x00], tag::SEQUENCE).is_err());
    }
}
