//! PEM (RFC 7468), both ways: certificate blocks with their `subject=`
//! headers and key blocks out; the blocks of a store file in.
//!
//! Certificates are public, so they are encoded and decoded with the
//! `base64` crate; anything secret — keys, encrypted or not — goes through
//! `pem-rfc7468`'s constant-time codec into zeroizing memory.
//!
//! Reading follows RFC 7468: an encapsulation boundary counts only at the
//! start of a line (spaces and tabs before it are tolerated), so text such
//! as a `subject=` header that holds `-----BEGIN CERTIFICATE-----` is
//! never read as a block.

use zeroize::Zeroizing;

use crate::error::{DerError, ExportError};
use crate::name;

/// The `base64` crate's engine for public data (certificates, P7B): its
/// SIMD engine (AVX2 or NEON, chosen once at run time, scalar otherwise),
/// on the targets that have one. On x86-64 it encodes a certificate three
/// times as fast as the scalar engine and decodes it five times as fast
/// (`benches/load.rs` and `benches/export_vs_openssl.rs` carry the effect).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub(crate) fn public_engine() -> &'static impl ::base64::Engine {
    use ::base64::engine::{GeneralPurposeConfig, Simd};
    static ENGINE: std::sync::LazyLock<Simd> = std::sync::LazyLock::new(|| Simd::standard(GeneralPurposeConfig::new()));
    &*ENGINE
}

/// The `base64` crate's standard engine, on targets without a SIMD one.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub(crate) fn public_engine() -> &'static impl ::base64::Engine {
    &::base64::engine::general_purpose::STANDARD
}

/// A certificate to write as PEM: its DER and, when a `subject=` header is
/// to precede it, its subject `Name` element.
pub(crate) type CertificateBlock<'a> = (&'a [u8], Option<&'a [u8]>);

/// Appends one `CERTIFICATE` block per `(der, subject)`, each preceded by
/// `subject=<RFC 4514 DN>` when its subject `Name` element is given. The
/// DN is escaped so that the line can never hold a PEM boundary
/// ([`name::to_rfc4514`]).
pub(crate) fn certificate_blocks(out: &mut Vec<u8>, certificates: &[CertificateBlock<'_>]) -> Result<(), ExportError> {
    out.reserve(
        certificates
            .iter()
            .map(|(der, _)| der.len() / 3 * 4 + der.len() / 48 + 200)
            .sum(),
    );
    for (der, subject) in certificates {
        if let Some(subject) = subject {
            let subject = name::to_rfc4514(subject).map_err(ExportError::malformed(|| "in the chain".to_owned()))?;
            out.extend_from_slice(b"subject=");
            out.extend_from_slice(subject.as_bytes());
            out.push(b'\n');
        }
        public_block(out, "CERTIFICATE", der);
    }
    Ok(())
}

/// Appends a PEM block of public data (certificates, P7B).
pub(crate) fn public_block(out: &mut Vec<u8>, label: &str, der: &[u8]) {
    out.extend_from_slice(b"-----BEGIN ");
    out.extend_from_slice(label.as_bytes());
    out.extend_from_slice(b"-----\n");
    base64_lines(out, der);
    out.extend_from_slice(b"-----END ");
    out.extend_from_slice(label.as_bytes());
    out.extend_from_slice(b"-----\n");
}

/// Appends the base64 of public data in PEM's 64-character lines
/// (RFC 7468 §2), through the `base64` crate: the whole of `data` in one
/// call (the crate's fast loop takes long input; a call per 48-byte line
/// cost an export ~10%), then spread into lines in place, from the last
/// line back so that nothing is overwritten before it has moved.
pub(crate) fn base64_lines(out: &mut Vec<u8>, data: &[u8]) {
    use ::base64::Engine;
    let engine = public_engine();
    let chars = data.len().div_ceil(3) * 4;
    let lines = chars.div_ceil(64);
    let start = out.len();
    out.resize(start + chars + lines, 0);
    let text = &mut out[start..];
    // `chars` is exactly the encoded length: the slice always fits.
    let written = engine.encode_slice(data, &mut text[..chars]).unwrap_or(0);
    debug_assert_eq!(written, chars);
    for line in (0..lines).rev() {
        let from = line * 64;
        let len = (chars - from).min(64);
        text.copy_within(from..from + len, from + line);
        text[from + line + len] = b'\n';
    }
}

/// Appends a PEM block of key material through `pem-rfc7468`'s
/// constant-time encoder, into zeroizing memory.
pub(crate) fn secret_block(out: &mut Zeroizing<Vec<u8>>, label: &'static str, der: &[u8]) -> Result<(), ExportError> {
    let line_ending = pem_rfc7468::LineEnding::LF;
    let overflow = |_| ExportError::Encoding {
        what: "PEM key",
        source: DerError::of(der::ErrorKind::Overflow),
    };
    let len = pem_rfc7468::encoded_len(label, line_ending, der).map_err(overflow)?;
    let mut buf = Zeroizing::new(vec![0u8; len]);
    let written = pem_rfc7468::encode(label, line_ending, der, &mut buf)
        .map_err(overflow)?
        .len();
    out.extend_from_slice(&buf[..written]);
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    Ok(())
}

/// Decodes the base64 body of a public PEM block from the start of `text`
/// into `out` (replacing what it held), and returns how many bytes of
/// `text` the body took: everything up to the first `-`, which base64
/// never holds and the END line starts with. ASCII white space is skipped
/// (line breaks, and the spaces some writers indent with); the rest is
/// decoded by the `base64` crate (its standard alphabet and configuration:
/// [`public_engine`]), so padding must be
/// canonical (`Zh==` is refused) and nothing may follow it. `out` gets
/// room for this body only, never for the rest of the file, since every
/// block of a file is kept until the file is read.
pub(crate) fn decode_public_body(text: &[u8], out: &mut Vec<u8>) -> Result<usize, &'static str> {
    use ::base64::Engine;
    // `memchr` finds the end and the line breaks (SIMD); a byte-by-byte
    // scan of each was a bundle load's largest cost after decoding.
    let end = memchr::memchr(b'-', text).unwrap_or(text.len());
    let body = &text[..end];
    // Line by line: a PEM line holds no white space but at its ends, so it
    // is copied whole, trimmed; white space inside a line is looked for
    // only when the decoder refuses the text, and then filtered out.
    let mut compact = Vec::with_capacity(end);
    let mut start = 0;
    for line_end in memchr::memchr_iter(b'\n', body).chain([end]) {
        compact.extend_from_slice(body[start..line_end].trim_ascii());
        start = line_end + 1;
    }
    out.clear();
    let decoded = match public_engine().decode_vec(&compact, out) {
        Err(_) if compact.iter().any(u8::is_ascii_whitespace) => {
            compact.retain(|b| !b.is_ascii_whitespace());
            out.clear();
            public_engine().decode_vec(&compact, out)
        }
        other => other,
    };
    decoded.map_err(|e| match e {
        ::base64::DecodeError::InvalidByte(_, b'=') => "data after '=' padding",
        ::base64::DecodeError::InvalidByte(..) => "a character that is not base64",
        ::base64::DecodeError::InvalidLength(_) => "truncated base64",
        ::base64::DecodeError::InvalidLastSymbol { .. } => "non-canonical bits before '=' padding",
        ::base64::DecodeError::InvalidPadding => "padding that is not canonical",
    })?;
    Ok(end)
}

/// One block of a PEM file.
pub(crate) struct Block<'a> {
    /// The label, e.g. `CERTIFICATE`.
    pub(crate) label: &'a str,
    /// The whole block, BEGIN and END lines included.
    pub(crate) text: &'a [u8],
    /// The decoded body, for the labels whose body is read with the fast
    /// decoder (certificates and P7B): [`public_labels`]. Empty otherwise.
    pub(crate) der: Vec<u8>,
}

/// Whether `label`'s body is public data decoded while the END line is
/// looked for (one pass over a bundle).
pub(crate) fn public_label(label: &str) -> bool {
    matches!(
        label,
        "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" | "PKCS7" | "CMS"
    )
}

/// The longest PEM label read (the longest in use, `NEW CERTIFICATE
/// REQUEST`, has 23 characters).
const MAX_LABEL: usize = 64;

/// Where the first block of `bytes` begins, if it is PEM.
pub(crate) fn first_block(bytes: &[u8]) -> Option<usize> {
    find_boundary(bytes, b"-----BEGIN ")
}

/// Every block of `bytes` from `start` (a BEGIN line), in order. The
/// error says what is wrong, quoting at most a short label.
pub(crate) fn blocks(bytes: &[u8], mut start: usize) -> Result<Vec<Block<'_>>, String> {
    let mut blocks = Vec::new();
    loop {
        let rest = &bytes[start + b"-----BEGIN ".len()..];
        // The label ends on its own line, within RFC 7468's printable
        // characters; a longer "label" is not one.
        let line = &rest[..memchr::memchr(b'\n', rest).unwrap_or(rest.len())];
        let label_len = memchr::memmem::find(line, b"-----")
            .filter(|&len| len <= MAX_LABEL)
            .ok_or("a BEGIN line without its closing dashes")?;
        let label = std::str::from_utf8(&rest[..label_len])
            .ok()
            .filter(|l| l.bytes().all(|b| b.is_ascii_graphic() || b == b' '))
            .ok_or("a PEM label that is not printable text")?;
        let body_start = start + b"-----BEGIN ".len() + label_len + 5;
        let end_marker = format!("-----END {label}-----");
        let mut der = Vec::new();
        let body_len = if public_label(label) {
            let used = decode_public_body(&bytes[body_start..], &mut der)
                .map_err(|e| format!("the {label} block is not base64: {e}"))?;
            (bytes[body_start + used..].starts_with(end_marker.as_bytes()) && at_line_start(bytes, body_start + used))
                .then_some(used)
        } else {
            find_boundary(&bytes[body_start..], end_marker.as_bytes())
        }
        .ok_or_else(|| format!("the {label} block has no END line"))?;
        let block_end = body_start + body_len + end_marker.len();
        blocks.push(Block {
            label,
            text: &bytes[start..block_end],
            der,
        });
        match find_boundary(&bytes[block_end..], b"-----BEGIN ") {
            Some(next) => start = block_end + next,
            None => return Ok(blocks),
        }
    }
}

/// The first position of `needle` at the start of a line of `haystack`
/// (RFC 7468: encapsulation boundaries start a line; spaces and tabs
/// before them are tolerated). A `-----BEGIN` in the middle of a line,
/// such as inside a `subject=` header, is text, not a boundary.
fn find_boundary(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let mut at = 0;
    while let Some(offset) = memchr::memmem::find(&haystack[at..], needle) {
        let candidate = at + offset;
        if at_line_start(haystack, candidate) {
            return Some(candidate);
        }
        at = candidate + 1;
    }
    None
}

/// Whether only spaces and tabs stand between the start of the line and `pos`.
fn at_line_start(bytes: &[u8], pos: usize) -> bool {
    let before = &bytes[..pos];
    let indent = before.iter().rev().take_while(|&&b| b == b' ' || b == b'\t').count();
    matches!(before[..pos - indent].last(), None | Some(b'\n' | b'\r'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(text: &str) -> Result<Vec<u8>, &'static str> {
        let mut out = Vec::new();
        let used = decode_public_body(text.as_bytes(), &mut out)?;
        assert_eq!(used, text.len());
        Ok(out)
    }

    #[test]
    fn bodies_decode_as_rfc4648_says_with_line_breaks_anywhere() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(decode(coded).unwrap(), plain.as_bytes());
        }
        assert_eq!(decode("Zm9vY\nmFy\n").unwrap(), b"foobar");
        assert_eq!(decode(" Zm9v\r\n YmFy \r\n").unwrap(), b"foobar");
        assert_eq!(decode("Zm 9v\tYm\x0cFy\n").unwrap(), b"foobar");
    }

    #[test]
    fn bodies_that_are_not_canonical_base64_are_refused() {
        for bad in [
            "Zh==",
            "Zm9=",
            "Zh\n==",
            "Zg=",
            "Z===",
            "Zg==Zg==",
            "Zm9v!",
            "Zm9",
            "=Zm9",
            "Zg=a",
            "Zg==\nZm9v",
        ] {
            assert!(decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_body_stops_at_the_end_line_and_reserves_for_itself_only() {
        let mut text = Vec::new();
        base64_lines(&mut text, &[7u8; 1_000]);
        let body_len = text.len();
        text.extend_from_slice(b"-----END CERTIFICATE-----\n");
        text.resize(text.len() + (4 << 20), b'A');
        let mut out = Vec::new();
        assert_eq!(decode_public_body(&text, &mut out).unwrap(), body_len);
        assert_eq!(out, [7u8; 1_000]);
        assert!(out.capacity() < 1_100, "{}", out.capacity());
    }

    #[test]
    fn base64_lines_are_64_characters_each_for_every_length() {
        use ::base64::Engine;
        let engine = ::base64::engine::general_purpose::STANDARD;
        let data: Vec<u8> = (0..400u32).map(|i| (i * 37 % 251) as u8).collect();
        for len in 0..data.len() {
            let mut ours = b"prefix".to_vec();
            base64_lines(&mut ours, &data[..len]);
            let mut expected = b"prefix".to_vec();
            for chunk in data[..len].chunks(48) {
                expected.extend_from_slice(engine.encode(chunk).as_bytes());
                expected.push(b'\n');
            }
            assert_eq!(ours, expected, "{len} bytes");
        }
    }

    #[test]
    fn white_space_anywhere_in_a_body_is_skipped() {
        // Found by the pem_decoder fuzz target: white space after the
        // padding made the decoder refuse before the white space was taken
        // out (fuzz/corpus/pem_decoder/regress-padding-then-tabs).
        for text in [
            &b"Zg=\t\t=\n"[..],
            b"Zm 9v\nYm\tFy\n",
            b" Zm9v \r\n\tYmFy\n",
            b"Zg\t==\n",
        ] {
            let mut out = Vec::new();
            assert_eq!(decode_public_body(text, &mut out), Ok(text.len()), "{text:?}");
            let expected: &[u8] = if text.starts_with(b"Zg") { b"f" } else { b"foobar" };
            assert_eq!(out, expected, "{text:?}");
        }
    }

    #[test]
    fn boundaries_count_only_at_the_start_of_a_line() {
        let text = b"subject=CN=-----BEGIN CERTIFICATE-----MAA=-----END CERTIFICATE-----\n";
        assert_eq!(first_block(text), None);
        let text = b"junk\n  -----BEGIN FOO-----\nMAA=\n-----END FOO-----\n";
        let blocks = blocks(text, first_block(text).unwrap()).unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].label, "FOO");
    }

    #[test]
    fn an_end_line_inside_a_line_does_not_end_the_block() {
        let text = b"-----BEGIN CERTIFICATE-----\nMAA=x-----END CERTIFICATE-----\n";
        assert!(blocks(text, 0).is_err());
    }

    #[test]
    fn decoded_bodies_keep_no_spare_room() {
        // 4 MB of small blocks took 320 MB and 0.9 s to load when each
        // body kept the decoder's reservation (found while writing the
        // store_file fuzz target; its inputs are too small to reach it).
        let text = b"-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n".repeat(1_000);
        let blocks = blocks(&text, 0).unwrap();
        assert_eq!(blocks.len(), 1_000);
        assert!(blocks.iter().all(|b| b.der == [0x30, 0x00] && b.der.capacity() < 64));
    }

    #[test]
    fn long_labels_are_refused_without_quoting_them() {
        let mut text = b"-----BEGIN ".to_vec();
        text.extend(std::iter::repeat_n(b'A', 100_000));
        text.extend_from_slice(b"-----\n");
        let error = blocks(&text, 0).err().unwrap();
        assert!(error.len() < 100, "{error}");
    }
}
