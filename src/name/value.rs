//! Attribute values: decoding ASN.1 string types, the RFC 5280 §7.1
//! comparison form, and RFC 4514 escaping.

use crate::fast_der::tag;

/// Whether `tag` is one of the directory string types a DN value may use.
pub(crate) fn is_string(tag: u8) -> bool {
    matches!(
        tag,
        tag::UTF8_STRING
            | tag::PRINTABLE_STRING
            | tag::IA5_STRING
            | tag::TELETEX_STRING
            | tag::BMP_STRING
            | tag::UNIVERSAL_STRING
            | tag::VISIBLE_STRING
            | tag::NUMERIC_STRING
    )
}

/// The text of a string-typed value, or `None` if it is not valid for its
/// type. TeletexString is read as Latin-1, as OpenSSL and browsers do.
pub(crate) fn decode(tag: u8, bytes: &[u8]) -> Option<std::borrow::Cow<'_, str>> {
    use std::borrow::Cow;
    match tag {
        tag::UTF8_STRING => std::str::from_utf8(bytes).ok().map(Cow::Borrowed),
        tag::PRINTABLE_STRING | tag::IA5_STRING | tag::VISIBLE_STRING | tag::NUMERIC_STRING => {
            // ASCII is UTF-8: one check serves both.
            std::str::from_utf8(bytes)
                .ok()
                .filter(|text| text.is_ascii())
                .map(Cow::Borrowed)
        }
        tag::TELETEX_STRING => Some(Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect())),
        tag::BMP_STRING => {
            if !bytes.len().is_multiple_of(2) {
                return None;
            }
            let units = bytes.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]]));
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .ok()
                .map(Cow::Owned)
        }
        tag::UNIVERSAL_STRING => {
            if !bytes.len().is_multiple_of(4) {
                return None;
            }
            bytes
                .chunks_exact(4)
                .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                .collect::<Option<String>>()
                .map(Cow::Owned)
        }
        _ => None,
    }
}

/// Appends the comparison form of `text` (RFC 5280 §7.1, simplified
/// RFC 4518): case folded, leading and trailing white space removed, each
/// inner run of white space one space.
pub(crate) fn push_normalized(out: &mut Vec<u8>, text: &str) {
    let mut pending_space = false;
    let mut any = false;
    if text.is_ascii() {
        for &b in text.as_bytes() {
            if b.is_ascii_whitespace() {
                pending_space = any;
            } else {
                if pending_space {
                    out.push(b' ');
                    pending_space = false;
                }
                out.push(b.to_ascii_lowercase());
                any = true;
            }
        }
        return;
    }
    let mut buf = [0u8; 4];
    for c in text.chars() {
        if c.is_whitespace() {
            pending_space = any;
        } else {
            if pending_space {
                out.push(b' ');
                pending_space = false;
            }
            for lower in c.to_lowercase() {
                out.extend_from_slice(lower.encode_utf8(&mut buf).as_bytes());
            }
            any = true;
        }
    }
}

/// The bytes that never need an escape inside a value: printable ASCII
/// other than `" + , ; < > \` (and `#` and space only matter at the edges).
const PLAIN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0x20;
    while b < 0x7f {
        table[b] = !matches!(b as u8, b'"' | b'+' | b',' | b';' | b'<' | b'>' | b'\\');
        b += 1;
    }
    table
};

/// Appends `text` escaped as an RFC 4514 attribute value.
///
/// Beyond RFC 4514's own escapes, everything that could make the DN print
/// as something else than it is is escaped as `\XX` (the UTF-8 bytes in
/// hex, which RFC 4514 allows for any character): control characters, so
/// a DN always prints on one line; the invisible characters that reorder
/// or break displayed text ([`super::is_display_spoofing`]); and every `-`
/// next to another `-`, so a DN never holds `-----` and a `subject=` line
/// can never be taken for a PEM boundary by a reader that looks for one
/// anywhere in a line.
pub(crate) fn push_escaped(out: &mut String, text: &str) {
    // Most values need no escape at all.
    let bytes = text.as_bytes();
    let edges_fine = bytes.first().is_none_or(|&b| b != b' ' && b != b'#') && bytes.last().is_none_or(|&b| b != b' ');
    let mut after_dash = false;
    let plain = bytes.iter().all(|&b| {
        let fine = PLAIN[usize::from(b)] && !(after_dash && b == b'-');
        after_dash = b == b'-';
        fine
    });
    if edges_fine && plain {
        out.push_str(text);
        return;
    }
    let chars: Vec<char> = text.chars().collect();
    let last = chars.len().saturating_sub(1);
    for (i, &c) in chars.iter().enumerate() {
        let dash_run = c == '-' && (i > 0 && chars[i - 1] == '-' || chars.get(i + 1) == Some(&'-'));
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '#' | ' ' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            ' ' if i == last => out.push_str("\\ "),
            c if c.is_control() || super::is_display_spoofing(c) || dash_run => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\{b:02X}"));
                }
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalized(text: &str) -> String {
        let mut out = Vec::new();
        push_normalized(&mut out, text);
        String::from_utf8(out).unwrap()
    }

    fn escaped(text: &str) -> String {
        let mut out = String::new();
        push_escaped(&mut out, text);
        out
    }

    #[test]
    fn normalizes_case_and_white_space() {
        assert_eq!(normalized("  Example   Corp\t Inc "), "example corp inc");
        assert_eq!(normalized("ÉCOLE  Été"), "école été");
        assert_eq!(normalized(""), "");
        assert_eq!(normalized("   "), "");
    }

    #[test]
    fn escapes_as_rfc4514() {
        assert_eq!(escaped("a,b+c"), "a\\,b\\+c");
        assert_eq!(escaped("#x"), "\\#x");
        assert_eq!(escaped(" x "), "\\ x\\ ");
        assert_eq!(escaped("a#b"), "a#b");
        assert_eq!(escaped("line\nbreak"), "line\\0Abreak");
        assert_eq!(escaped("Zürich"), "Zürich");
        assert_eq!(escaped("my-site"), "my-site");
        assert_eq!(escaped("a--b"), "a\\2D\\2Db");
        assert_eq!(
            escaped("-----BEGIN CERTIFICATE-----"),
            "\\2D\\2D\\2D\\2D\\2DBEGIN CERTIFICATE\\2D\\2D\\2D\\2D\\2D"
        );
        assert_eq!(escaped("a\u{202e}b"), "a\\E2\\80\\AEb");
    }

    #[test]
    fn decodes_string_types() {
        assert_eq!(decode(tag::BMP_STRING, &[0, b'h', 0, b'i']).unwrap(), "hi");
        assert_eq!(decode(tag::UNIVERSAL_STRING, &[0, 0, 0, b'x']).unwrap(), "x");
        assert_eq!(decode(tag::TELETEX_STRING, &[0xe9]).unwrap(), "é");
        assert!(decode(tag::PRINTABLE_STRING, &[0xe9]).is_none());
        assert!(decode(tag::UTF8_STRING, &[0xff]).is_none());
        assert!(decode(tag::BMP_STRING, &[0]).is_none());
        assert!(decode(tag::BMP_STRING, &[0xd8, 0x00]).is_none());
        assert!(decode(tag::OCTET_STRING, b"x").is_none());
    }
}
