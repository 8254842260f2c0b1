//! Distinguished names: RFC 4514 strings in, RFC 5280 §7.1 comparison,
//! RFC 4514 strings out.
//!
//! Names are compared through their [`NameKey`], a canonical byte form in
//! which string values are case folded with white space collapsed, every
//! directory string type compares equal to the others, and the attributes
//! of a multi-valued RDN are sorted. Two names match when their keys are
//! equal. The same key is computed for a DN string and for a DER `Name`,
//! so a store can index certificates by it.

mod attribute;
mod parse;
mod value;

use std::fmt;
use std::str::FromStr;

use der::Encode;

use crate::error::{ExportError, shown};
use crate::fast_der::{self as tlv, Reader, tag};

/// A distinguished name given as an RFC 4514 string, parsed and checked.
///
/// Besides the strict RFC 4514 grammar it accepts what OpenSSL and Windows
/// print: spaces around `,` `+` `=`, `;` between RDNs, quoted values,
/// `OID.n.n.n=` types and the Windows short names `S`, `E`, `G`, `T`.
///
/// ```
/// use certexport::name::DistinguishedName;
/// let a: DistinguishedName = "CN=www.example.com, O=Example  Corp, C=US".parse()?;
/// let b: DistinguishedName = "cn=WWW.EXAMPLE.COM,o=example corp,c=us".parse()?;
/// assert_eq!(a.key(), b.key());
/// # Ok::<(), certexport::ExportError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistinguishedName {
    input: String,
    key: NameKey,
    reversed: Option<NameKey>,
}

impl DistinguishedName {
    /// The string as it was given.
    pub fn as_str(&self) -> &str {
        &self.input
    }

    /// The comparison key of the name read as RFC 4514 (most specific RDN first).
    pub fn key(&self) -> &NameKey {
        &self.key
    }

    /// The comparison key of the name read in the reverse (X.500, `C=`
    /// first) order, when that differs from [`key`](Self::key).
    pub fn reversed_key(&self) -> Option<&NameKey> {
        self.reversed.as_ref()
    }
}

impl FromStr for DistinguishedName {
    type Err = ExportError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let mut rdns = parse::parse(input).map_err(|e| ExportError::InvalidDistinguishedName {
            input: shown(input),
            position: e.position,
            reason: e.reason,
        })?;
        // A DER Name lists the RDNs root first: the reverse of RFC 4514.
        rdns.reverse();
        let key = NameKey::from_rdns(rdns.iter().map(|rdn| rdn.iter().map(ParsedValue::from_attribute)));
        let reversed = (rdns.len() > 1)
            .then(|| NameKey::from_rdns(rdns.iter().rev().map(|rdn| rdn.iter().map(ParsedValue::from_attribute))))
            .filter(|reversed| *reversed != key);
        Ok(Self {
            input: input.to_owned(),
            key,
            reversed,
        })
    }
}

impl fmt::Display for DistinguishedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.input)
    }
}

/// The canonical comparison form of a distinguished name.
///
/// Custom [`CertificateStore`](crate::store::CertificateStore)s index certificates
/// by the keys of their subject and issuer names ([`NameKey::from_der`]).
/// The bytes are stable within a major version of this crate.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NameKey(Box<[u8]>);

impl NameKey {
    /// The key of a DER-encoded `Name`.
    pub fn from_der(name: &[u8]) -> Result<Self, der::Error> {
        let mut out = Vec::with_capacity(96);
        write_der_key(name, &mut out)?;
        Ok(Self(out.into_boxed_slice()))
    }

    /// The canonical bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn from_rdns<'a, R, A>(rdns: R) -> Self
    where
        R: IntoIterator<Item = A>,
        A: IntoIterator<Item = ParsedValue<'a>>,
    {
        let mut out = Vec::with_capacity(96);
        for rdn in rdns {
            write_rdn(&mut out, rdn);
        }
        Self(out.into_boxed_slice())
    }
}

/// Appends the key bytes of a DER `Name` to `out`, allocating nothing for
/// the usual single-valued RDNs (the store computes two keys per
/// certificate it loads).
pub(crate) fn write_der_key(name: &[u8], out: &mut Vec<u8>) -> der::Result<()> {
    for rdn in rdn_sets(name)? {
        let rdn = rdn?;
        let mut atvs = attributes(rdn);
        let first = atvs.next().transpose()?;
        match (first, atvs.next().transpose()?) {
            (Some((oid, tag, content)), None) => {
                write_rdn(
                    out,
                    [ParsedValue {
                        oid,
                        value: ValueRef::Der { tag, content },
                    }],
                );
            }
            _ => {
                let all = attributes(rdn)
                    .map(|atv| {
                        atv.map(|(oid, tag, content)| ParsedValue {
                            oid,
                            value: ValueRef::Der { tag, content },
                        })
                    })
                    .collect::<der::Result<Vec<_>>>()?;
                write_rdn(out, all);
            }
        }
    }
    Ok(())
}

/// Checks that a DER `Name` is one [`write_der_key`] can read (it fails
/// exactly where this does), without computing the key.
pub(crate) fn check_der(name: &[u8]) -> der::Result<()> {
    for rdn in rdn_sets(name)? {
        for atv in attributes(rdn?) {
            atv?;
        }
    }
    Ok(())
}

/// One RDN: a marker, then its attributes' keys in sorted order (a
/// multi-valued RDN is a SET: its order does not matter).
fn write_rdn<'a>(out: &mut Vec<u8>, rdn: impl IntoIterator<Item = ParsedValue<'a>>) {
    out.push(0xff);
    let mut rdn = rdn.into_iter();
    let Some(first) = rdn.next() else { return };
    let Some(second) = rdn.next() else {
        first.write_key(out);
        return;
    };
    let mut sorted: Vec<Vec<u8>> = [first, second]
        .into_iter()
        .chain(rdn)
        .map(|atv| {
            let mut one = Vec::with_capacity(32);
            atv.write_key(&mut one);
            one
        })
        .collect();
    sorted.sort_unstable();
    for one in &sorted {
        out.extend_from_slice(one);
    }
}

/// One attribute, from either a DN string or a DER name.
struct ParsedValue<'a> {
    oid: &'a [u8],
    value: ValueRef<'a>,
}

enum ValueRef<'a> {
    Text(&'a str),
    Der { tag: u8, content: &'a [u8] },
}

impl<'a> ParsedValue<'a> {
    fn from_attribute(attribute: &'a parse::Attribute) -> Self {
        let value = match &attribute.value {
            parse::Value::Text(text) => ValueRef::Text(text),
            parse::Value::Der { tag, content } => ValueRef::Der { tag: *tag, content },
        };
        Self {
            oid: &attribute.oid,
            value,
        }
    }

    /// `len(oid) oid kind len(value) value`, with string values in their
    /// comparison form (kind 0) and other values as their DER (kind 1).
    fn write_key(&self, out: &mut Vec<u8>) {
        push_len_prefixed(out, self.oid);
        let (tag, content) = match self.value {
            ValueRef::Text(text) => return write_value(out, 0, |out| value::push_normalized(out, text)),
            ValueRef::Der { tag, content } => (tag, content),
        };
        match value::is_string(tag).then(|| value::decode(tag, content)).flatten() {
            Some(text) => write_value(out, 0, |out| value::push_normalized(out, &text)),
            None => write_value(out, 1, |out| {
                // Not text: compared as its tag and content octets.
                out.push(tag);
                out.extend_from_slice(content);
            }),
        }
    }
}

/// Appends `kind`, a length placeholder, the value `write` appends, then
/// fills in the length.
fn write_value(out: &mut Vec<u8>, kind: u8, write: impl FnOnce(&mut Vec<u8>)) {
    out.extend_from_slice(&[kind, 0, 0, 0, 0]);
    let start = out.len();
    write(out);
    let len = (out.len() - start) as u32;
    out[start - 4..start].copy_from_slice(&len.to_be_bytes());
}

fn push_len_prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// The RDN `SET`s of a DER `Name`, root first.
fn rdn_sets(name: &[u8]) -> der::Result<impl Iterator<Item = der::Result<&[u8]>>> {
    let sequence = tlv::single(name, tag::SEQUENCE)?;
    let mut reader = Reader::new(sequence.value);
    Ok(std::iter::from_fn(move || {
        (!reader.is_empty()).then(|| {
            let set = reader.expect(tag::SET)?;
            if set.value.is_empty() {
                return Err(der::ErrorKind::Length { tag: der::Tag::Set }.into());
            }
            Ok(set.value)
        })
    }))
}

/// The `(type OID, value tag, value content)` of each attribute of an RDN.
fn attributes(rdn: &[u8]) -> impl Iterator<Item = der::Result<(&[u8], u8, &[u8])>> {
    let mut reader = Reader::new(rdn);
    std::iter::from_fn(move || {
        (!reader.is_empty()).then(|| {
            let atv = reader.expect(tag::SEQUENCE)?;
            let mut parts = Reader::new(atv.value);
            let oid = parts.expect(tag::OID)?;
            let value = parts.next_any()?;
            parts.finish()?;
            Ok((oid.value, value.tag, value.value))
        })
    })
}

/// The RFC 4514 string of a DER `Name` (most specific RDN first, `,`
/// between RDNs, `+` inside one). Types we know print by short name;
/// others, and values that are not strings, as `OID=#hex` (RFC 4514 §2.4).
pub(crate) fn to_rfc4514(name: &[u8]) -> der::Result<String> {
    // Names rarely have more than a handful of RDNs: keep them on the stack.
    let mut stack: [&[u8]; 12] = [&[]; 12];
    let mut heap = Vec::new();
    let mut count = 0;
    for rdn in rdn_sets(name)? {
        let rdn = rdn?;
        match stack.get_mut(count) {
            Some(slot) if heap.is_empty() => *slot = rdn,
            _ => {
                if heap.is_empty() {
                    heap.extend_from_slice(&stack);
                }
                heap.push(rdn);
            }
        }
        count += 1;
    }
    let rdns: &[&[u8]] = if heap.is_empty() { &stack[..count] } else { &heap };
    let mut out = String::with_capacity(name.len() + 16);
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, atv) in attributes(rdn).enumerate() {
            let (oid, tag, content) = atv?;
            if j > 0 {
                out.push('+');
            }
            let known = attribute::by_oid(oid);
            let text = value::is_string(tag).then(|| value::decode(tag, content)).flatten();
            match (known, text) {
                (Some(t), Some(text)) => {
                    out.push_str(t.name);
                    out.push('=');
                    value::push_escaped(&mut out, &text);
                }
                _ => {
                    // Printed only if the dotted form names these very bytes:
                    // `der` also reads subidentifiers padded with 0x80
                    // octets (not DER, X.690 §8.19.2), which print as
                    // another OID.
                    let dotted = der::asn1::ObjectIdentifier::from_bytes(oid)?.to_string();
                    if der::asn1::ObjectIdentifier::new(&dotted).map_or(true, |again| again.as_bytes() != oid) {
                        return Err(der::ErrorKind::OidMalformed.into());
                    }
                    out.push_str(&dotted);
                    // RFC 4514 §2.4: the hex of the value's DER element.
                    out.push_str("=#");
                    out.push_str(&crate::ids::hex(&[tag]));
                    out.push_str(&crate::ids::hex(&der::Length::try_from(content.len())?.to_der()?));
                    out.push_str(&crate::ids::hex(content));
                }
            }
        }
    }
    Ok(out)
}

/// Whether `c` is an invisible character that changes how the text around
/// it is displayed: bidirectional controls (U+061C, U+200E–U+200F,
/// U+202A–U+202E, U+2066–U+2069), line and paragraph separators
/// (U+2028–U+2029) and zero-width characters (U+200B–U+200D, U+2060,
/// U+FEFF). A name, header or file name holding one can show as something
/// else than it is ("invoice\u{202e}fdp.exe").
pub(crate) fn is_display_spoofing(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// The most specific common name of a DER `Name` (the first `CN` in
/// RFC 4514 order), if it has one that is text.
pub(crate) fn common_name(name: &[u8]) -> Option<String> {
    // DER lists RDNs root first, so the last CN is the most specific.
    let mut found = None;
    for rdn in rdn_sets(name).ok()? {
        for (oid, tag, content) in attributes(rdn.ok()?).filter_map(Result::ok) {
            if oid == attribute::COMMON_NAME {
                found = value::decode(tag, content).or(found);
            }
        }
    }
    found.map(std::borrow::Cow::into_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DER of `C=US, O=Example  Corp (UTF8String), CN=www.example.com`.
    fn sample_name() -> Vec<u8> {
        use der::asn1::{Any, PrintableStringRef, SetOfVec, Utf8StringRef};
        let rdn = |oid, value: Any| {
            let atv = x509_cert::attr::AttributeTypeAndValue { oid, value };
            x509_cert::name::RelativeDistinguishedName::from(SetOfVec::try_from(vec![atv]).unwrap())
        };
        let printable = |s| Any::encode_from(&PrintableStringRef::new(s).unwrap()).unwrap();
        let utf8 = |s| Any::encode_from(&Utf8StringRef::new(s).unwrap()).unwrap();
        x509_cert::name::RdnSequence::from(vec![
            rdn(crate::oid::COUNTRY, printable("US")),
            rdn(crate::oid::ORGANIZATION, utf8("Example  Corp")),
            rdn(crate::oid::COMMON_NAME, printable("www.example.com")),
        ])
        .to_der()
        .unwrap()
    }

    fn dn(s: &str) -> DistinguishedName {
        s.parse().unwrap()
    }

    #[test]
    fn string_and_der_keys_agree() {
        let der_key = NameKey::from_der(&sample_name()).unwrap();
        assert_eq!(dn("CN=www.example.com,O=Example Corp,C=US").key(), &der_key);
        assert_eq!(dn("cn = WWW.Example.com , o=example   corp,c=us").key(), &der_key);
        assert_eq!(
            dn("CN=www.example.com,O=Example Corp,C=US").reversed_key(),
            Some(&dn("C=US,O=Example Corp,CN=www.example.com").key().clone())
        );
        assert_eq!(
            dn("C=US, O=Example Corp, CN=www.example.com").reversed_key(),
            Some(&der_key)
        );
        assert_ne!(dn("CN=www.example.com,O=Other,C=US").key(), &der_key);
        assert_eq!(
            dn("CN=www.example.com,O=#0c0c4578616d706c6520436f7270,C=US").key(),
            &der_key
        );
    }

    #[test]
    fn multi_valued_rdns_compare_unordered() {
        assert_eq!(
            dn("OU=Sales+CN=J Smith,DC=example").key(),
            dn("CN=J Smith+OU=Sales,DC=example").key()
        );
        assert_ne!(dn("OU=Sales+CN=J Smith").key(), dn("OU=Sales,CN=J Smith").key());
        assert_eq!(dn("CN=x").reversed_key(), None);
    }

    #[test]
    fn formats_rfc4514() {
        assert_eq!(
            to_rfc4514(&sample_name()).unwrap(),
            "CN=www.example.com,O=Example  Corp,C=US"
        );
        assert_eq!(common_name(&sample_name()).as_deref(), Some("www.example.com"));
    }

    #[test]
    fn values_of_any_tag_print_and_parse_back() {
        // CN whose value is an element of a tag the `der` crate does not
        // name (0x3e: universal 30, constructed). The name reader takes
        // any one-byte tag; the string parser must take what it prints.
        // Found by the store_file fuzz target.
        let der = [
            0x30, 0x0b, 0x31, 0x09, 0x30, 0x07, 0x06, 0x03, 0x55, 0x04, 0x03, 0x3e, 0x00,
        ];
        let printed = to_rfc4514(&der).unwrap();
        assert_eq!(printed, "2.5.4.3=#3e00");
        assert_eq!(dn(&printed).key(), &NameKey::from_der(&der).unwrap());
        assert!("CN=#3e0000".parse::<DistinguishedName>().is_err());
        assert!("CN=#1f0100".parse::<DistinguishedName>().is_err());
    }

    #[test]
    fn an_oid_that_would_print_as_another_is_not_printed() {
        // 2.5.0 with its last subidentifier padded (`55 80 00`): `der`
        // reads it, but "2.5.0" names `55 00`. Found by the name fuzz target.
        let padded = [
            0x30, 0x0d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x80, 0x00, 0x13, 0x02, 0x55, 0x53,
        ];
        assert!(to_rfc4514(&padded).is_err());
        let plain = [
            0x30, 0x0c, 0x31, 0x0a, 0x30, 0x08, 0x06, 0x02, 0x55, 0x00, 0x13, 0x02, 0x55, 0x53,
        ];
        assert_eq!(to_rfc4514(&plain).unwrap(), "2.5.0=#13025553");
    }

    #[test]
    fn malformed_der_names_fail_cleanly() {
        for bad in [&b""[..], b"\x30\x02\x31\x00", b"\x30\x04\x31\x02\x30\x00", b"\x31\x00"] {
            assert!(NameKey::from_der(bad).is_err());
            assert!(to_rfc4514(bad).is_err());
            assert!(common_name(bad).is_none());
        }
    }

    #[test]
    fn reports_dn_errors_with_input() {
        let err = "CN=x,".parse::<DistinguishedName>().unwrap_err();
        assert!(
            matches!(err, ExportError::InvalidDistinguishedName { position: 5, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("CN=x,"));
    }
}
