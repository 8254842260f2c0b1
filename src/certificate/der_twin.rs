//! The certificate-field walk of [`CertificateView::parse`], written with
//! the `der` crate's reader (`SliceReader`, `Header`, its time types)
//! instead of [`crate::fast_der`]: the oracle of the differential test
//! (`tests/der_reader.rs`, the `der_reader` fuzz target) and the contender
//! of `benches/der_reader.rs`. Built only for those (feature
//! `bench-internals`, and unit tests).

use der::asn1::{GeneralizedTime, UtcTime};
use der::{Decode, Header, Reader, SliceReader, Tag};

use super::CertificateView;
use crate::oid;

/// One element: its tag, the whole encoding and the content octets.
struct Element<'a> {
    tag: Tag,
    raw: &'a [u8],
    value: &'a [u8],
}

/// The next element of `reader`. Tags with a number above 30 (the
/// multi-byte form, which X.509 never uses) are refused, as the fast
/// reader refuses them.
fn element<'a>(reader: &mut SliceReader<'a>) -> der::Result<Element<'a>> {
    let raw = reader.tlv_bytes()?;
    let mut inner = SliceReader::new(raw)?;
    let header = Header::decode(&mut inner)?;
    if header.tag().number().value() > 30 {
        return Err(der::ErrorKind::TagNumberInvalid.into());
    }
    let value = inner.read_slice(header.length())?;
    Ok(Element {
        tag: header.tag(),
        raw,
        value,
    })
}

/// The next element, which must carry `tag`.
fn expect<'a>(reader: &mut SliceReader<'a>, tag: Tag) -> der::Result<Element<'a>> {
    let element = element(reader)?;
    if element.tag == tag {
        Ok(element)
    } else {
        Err(der::ErrorKind::TagUnexpected {
            expected: Some(tag),
            actual: element.tag,
        }
        .into())
    }
}

/// The next element if it carries `tag`. A multi-byte tag is refused even
/// when it is only looked at, as the fast reader refuses it: in an
/// authority key identifier nothing reads it afterwards.
fn optional<'a>(reader: &mut SliceReader<'a>, tag: Tag) -> der::Result<Option<Element<'a>>> {
    if reader.is_finished() {
        return Ok(None);
    }
    let next = Tag::peek(reader)?;
    if next.number().value() > 30 {
        return Err(der::ErrorKind::TagNumberInvalid.into());
    }
    if next != tag {
        return Ok(None);
    }
    element(reader).map(Some)
}

/// Exactly one element carrying `tag` that fills `bytes`.
fn single(bytes: &[u8], tag: Tag) -> der::Result<Element<'_>> {
    let mut reader = SliceReader::new(bytes)?;
    let element = expect(&mut reader, tag)?;
    reader.finish()?;
    Ok(element)
}

fn context(number: u8, constructed: bool) -> Tag {
    Tag::ContextSpecific {
        constructed,
        number: der::TagNumber(u32::from(number)),
    }
}

/// The fields of `certificate`, read with `der`.
pub(crate) fn parse(certificate: &[u8]) -> der::Result<CertificateView<'_>> {
    let cert = single(certificate, Tag::Sequence)?;
    let mut outer = SliceReader::new(cert.value)?;
    let tbs = expect(&mut outer, Tag::Sequence)?;
    let signature_algorithm = expect(&mut outer, Tag::Sequence)?;
    let signature = match expect(&mut outer, Tag::BitString)?.value.split_first() {
        Some((0, bits)) => bits,
        _ => return Err(Tag::BitString.value_error().into()),
    };
    outer.finish()?;

    let mut fields = SliceReader::new(tbs.value)?;
    optional(&mut fields, context(0, true))?;
    let serial = expect(&mut fields, Tag::Integer)?;
    if serial.value.is_empty() {
        return Err(der::ErrorKind::Length { tag: Tag::Integer }.into());
    }
    expect(&mut fields, Tag::Sequence)?;
    let issuer = expect(&mut fields, Tag::Sequence)?;
    let validity = expect(&mut fields, Tag::Sequence)?;
    let subject = expect(&mut fields, Tag::Sequence)?;
    let spki = expect(&mut fields, Tag::Sequence)?;
    optional(&mut fields, context(1, false))?;
    optional(&mut fields, context(2, false))?;
    let extensions = optional(&mut fields, context(3, true))?;
    fields.finish()?;

    let mut times = SliceReader::new(validity.value)?;
    let not_before = time(element(&mut times)?)?;
    let not_after = time(element(&mut times)?)?;
    times.finish()?;

    let mut view = CertificateView {
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
        let list = single(extensions.value, Tag::Sequence)?;
        let mut reader = SliceReader::new(list.value)?;
        while !reader.is_finished() {
            let extension = expect(&mut reader, Tag::Sequence)?;
            let mut parts = SliceReader::new(extension.value)?;
            let id = expect(&mut parts, Tag::ObjectIdentifier)?;
            optional(&mut parts, Tag::Boolean)?;
            let value = expect(&mut parts, Tag::OctetString)?;
            parts.finish()?;
            if id.value == oid::SUBJECT_KEY_IDENTIFIER.as_bytes() {
                view.subject_key_id = Some(single(value.value, Tag::OctetString)?.value);
            } else if id.value == oid::AUTHORITY_KEY_IDENTIFIER.as_bytes() {
                let aki = single(value.value, Tag::Sequence)?;
                let mut aki = SliceReader::new(aki.value)?;
                view.authority_key_id = optional(&mut aki, context(0, false))?.map(|key_id| key_id.value);
            }
        }
    }
    Ok(view)
}

/// Seconds since the Unix epoch, through `der`'s time types.
fn time(element: Element<'_>) -> der::Result<i64> {
    let duration = match element.tag {
        Tag::UtcTime => UtcTime::from_der(element.raw)?.to_unix_duration(),
        Tag::GeneralizedTime => GeneralizedTime::from_der(element.raw)?.to_unix_duration(),
        _ => return Err(der::ErrorKind::DateTime.into()),
    };
    i64::try_from(duration.as_secs()).map_err(|_| der::ErrorKind::DateTime.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_certificate() {
        for bad in [&b""[..], b"\x30\x00", b"\x30\x03\x30\x01\x00", b"\x30\x80"] {
            assert!(parse(bad).is_err());
        }
    }
}
