//! Table-driven base64 for certificates and other public data.
//!
//! PEM-encoding a certificate is mostly base64, and `pem-rfc7468`'s
//! constant-time codec (right for keys) is several times slower than a
//! table lookup. Certificates are public, so they take this path; private
//! keys keep to `pem-rfc7468`.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const INVALID: u8 = 0xff;
const DECODE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Bytes per 64-character PEM line (RFC 7468 §2).
const LINE_BYTES: usize = 48;

/// Appends base64 of `data` to `out`, with a `\n` after every 64 characters
/// and after the last line when `wrap` is true.
pub(crate) fn encode_into(out: &mut Vec<u8>, data: &[u8], wrap: bool) {
    let lines = data.len().div_ceil(LINE_BYTES);
    out.reserve(data.len().div_ceil(3) * 4 + if wrap { lines } else { 0 });
    let mut full = data.chunks_exact(LINE_BYTES);
    // Whole lines: 48 bytes become 64 characters, built on the stack and
    // appended at once.
    for line in &mut full {
        let mut text = [b'\n'; 65];
        encode_line(line, &mut text);
        out.extend_from_slice(if wrap { &text } else { &text[..64] });
    }
    let rest = full.remainder();
    if rest.is_empty() {
        return;
    }
    let mut triples = rest.chunks_exact(3);
    for t in &mut triples {
        out.extend_from_slice(&encode_triple(t[0], t[1], t[2]));
    }
    match *triples.remainder() {
        [a] => out.extend_from_slice(&[
            ALPHABET[usize::from(a >> 2)],
            ALPHABET[usize::from(a & 3) << 4],
            b'=',
            b'=',
        ]),
        [a, b] => {
            let quad = encode_triple(a, b, 0);
            out.extend_from_slice(&[quad[0], quad[1], quad[2], b'=']);
        }
        _ => {}
    }
    if wrap {
        out.push(b'\n');
    }
}

/// Every 12-bit value as its two alphabet characters, first character in
/// the low byte: six input bytes are four lookups (8 KiB, which stays in
/// the L1 cache).
static PAIRS: [u16; 4096] = {
    let mut table = [0u16; 4096];
    let mut i = 0;
    while i < 4096 {
        table[i] = ALPHABET[i >> 6] as u16 | (ALPHABET[i & 63] as u16) << 8;
        i += 1;
    }
    table
};

/// 48 bytes into 64 characters, six bytes (48 bits, four 12-bit pairs)
/// at a time.
#[inline(always)]
fn encode_line(line: &[u8], text: &mut [u8; 65]) {
    // Two spare bytes so every 8-byte load stays inside the buffer.
    let mut input = [0u8; 50];
    input[..48].copy_from_slice(line);
    for i in 0..8 {
        let mut word = [0u8; 8];
        word.copy_from_slice(&input[6 * i..6 * i + 8]);
        let bits = u64::from_be_bytes(word) >> 16;
        let pair = |shift: u32| u64::from(PAIRS[(bits >> shift) as usize & 0xfff]);
        let chars = pair(36) | pair(24) << 16 | pair(12) << 32 | pair(0) << 48;
        text[8 * i..8 * i + 8].copy_from_slice(&chars.to_le_bytes());
    }
}

#[inline(always)]
fn encode_triple(a: u8, b: u8, c: u8) -> [u8; 4] {
    let n = u32::from(a) << 16 | u32::from(b) << 8 | u32::from(c);
    [
        ALPHABET[(n >> 18) as usize & 63],
        ALPHABET[(n >> 12) as usize & 63],
        ALPHABET[(n >> 6) as usize & 63],
        ALPHABET[n as usize & 63],
    ]
}

/// Base64 of `data` on one line.
pub(crate) fn encode(data: &[u8]) -> String {
    let mut out = Vec::new();
    encode_into(&mut out, data, false);
    String::from_utf8(out).unwrap_or_default()
}

/// Decodes base64 text, skipping ASCII white space (PEM line breaks).
/// Padding is required to complete the last group and nothing may follow it.
#[cfg(test)]
fn decode(text: &[u8]) -> Result<Vec<u8>, &'static str> {
    let mut out = Vec::new();
    if decode_pem_body(text, &mut out)? != text.len() {
        return Err("invalid base64 character");
    }
    Ok(out)
}

/// Decodes the base64 body of a PEM block from the start of `text` into
/// `out` (cleared first), stopping before the first line that starts with
/// `-` (the END line). Returns how many bytes of `text` the body took.
///
/// The fast path takes the 64-character lines PEM writers produce as
/// sixteen 4-character groups; any other shape of line goes through the
/// careful decoder, which also names what is wrong.
pub(crate) fn decode_pem_body(text: &[u8], out: &mut Vec<u8>) -> Result<usize, &'static str> {
    out.clear();
    out.reserve(text.len().min(1 << 20) / 4 * 3);
    let mut pos = 0;
    let mut ended = false;
    loop {
        while pos < text.len() && text[pos].is_ascii_whitespace() {
            pos += 1;
        }
        if pos >= text.len() || text[pos] == b'-' {
            return Ok(pos);
        }
        if ended {
            return Err("data after '=' padding");
        }
        if let Some(line) = text
            .get(pos..pos + 64)
            .filter(|_| text.get(pos + 64).is_some_and(u8::is_ascii_whitespace))
        {
            if let Some(bytes) = full_line(line) {
                out.extend_from_slice(&bytes);
                pos += 64;
                continue;
            }
        }
        let len = text[pos..].iter().position(|&b| b == b'\n').unwrap_or(text.len() - pos);
        match decode_line(text[pos..pos + len].trim_ascii(), out) {
            Some(padded) => ended = padded,
            None => {
                // Groups split across lines, or bad input: decode the whole
                // body (up to the first '-', which base64 never holds) with
                // the careful decoder, which also names what is wrong.
                let end = text.iter().position(|&b| b == b'-').unwrap_or(text.len());
                out.clear();
                decode_any(&text[..end], out)?;
                return Ok(end);
            }
        }
        pos += len;
    }
}

/// The 48 bytes of a 64-character line, or `None` if it has anything but
/// alphabet characters.
#[inline(always)]
fn full_line(line: &[u8]) -> Option<[u8; 48]> {
    let mut bytes = [0u8; 48];
    let mut bad = 0u8;
    for (quad, out) in line.chunks_exact(4).zip(bytes.chunks_exact_mut(3)) {
        let [a, b, c, d] = [
            DECODE[usize::from(quad[0])],
            DECODE[usize::from(quad[1])],
            DECODE[usize::from(quad[2])],
            DECODE[usize::from(quad[3])],
        ];
        bad |= a | b | c | d;
        let n = u32::from(a) << 18 | u32::from(b) << 12 | u32::from(c) << 6 | u32::from(d);
        out.copy_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    (bad & 0x80 == 0).then_some(bytes)
}

/// One line of whole groups, padding allowed in its last group; returns
/// whether the line ended the data with padding, or `None` if the line is
/// not whole groups of alphabet characters.
fn decode_line(line: &[u8], out: &mut Vec<u8>) -> Option<bool> {
    if !line.len().is_multiple_of(4) {
        return None;
    }
    let (body, last) = line.split_at(line.len() - 4);
    let start = out.len();
    for quad in body.chunks_exact(4) {
        match quad_value(quad) {
            Some(bytes) => out.extend_from_slice(&bytes),
            None => {
                out.truncate(start);
                return None;
            }
        }
    }
    let (bytes, keep, padded) = match last {
        [a, b, b'=', b'='] => (quad_value(&[*a, *b, b'A', b'A']), 1, true),
        [a, b, c, b'='] => (quad_value(&[*a, *b, *c, b'A']), 2, true),
        _ => (quad_value(last), 3, false),
    };
    match bytes {
        Some(bytes) => {
            out.extend_from_slice(&bytes[..keep]);
            Some(padded)
        }
        None => {
            out.truncate(start);
            None
        }
    }
}

/// The three bytes of four alphabet characters, or `None`.
#[inline(always)]
fn quad_value(quad: &[u8]) -> Option<[u8; 3]> {
    let [a, b, c, d] = [
        DECODE[usize::from(quad[0])],
        DECODE[usize::from(quad[1])],
        DECODE[usize::from(quad[2])],
        DECODE[usize::from(quad[3])],
    ];
    if (a | b | c | d) & 0x80 != 0 {
        return None;
    }
    let n = u32::from(a) << 18 | u32::from(b) << 12 | u32::from(c) << 6 | u32::from(d);
    Some([(n >> 16) as u8, (n >> 8) as u8, n as u8])
}

/// Character by character, white space anywhere, with precise errors.
fn decode_any(text: &[u8], out: &mut Vec<u8>) -> Result<(), &'static str> {
    let mut group = [0u8; 4];
    let mut filled = 0;
    let mut padding = 0;
    for &c in text {
        if c.is_ascii_whitespace() {
            continue;
        }
        if c == b'=' {
            if filled < 2 {
                return Err("misplaced '=' padding");
            }
            padding += 1;
            group[filled] = 0;
            filled += 1;
        } else {
            if padding > 0 {
                return Err("data after '=' padding");
            }
            let v = DECODE[usize::from(c)];
            if v == INVALID {
                return Err("invalid base64 character");
            }
            group[filled] = v;
            filled += 1;
        }
        if filled == 4 {
            let n =
                u32::from(group[0]) << 18 | u32::from(group[1]) << 12 | u32::from(group[2]) << 6 | u32::from(group[3]);
            let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
            out.extend_from_slice(&bytes[..3 - padding]);
            filled = 0;
            if padding > 0 {
                padding = 3; // any later character is an error
            }
        }
    }
    if filled != 0 {
        return Err("truncated base64");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_length() {
        for len in 0..200 {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let mut wrapped = Vec::new();
            encode_into(&mut wrapped, &data, true);
            assert!(wrapped.split(|&b| b == b'\n').all(|line| line.len() <= 64));
            assert_eq!(decode(&wrapped).unwrap(), data);
            assert_eq!(decode(encode(&data).as_bytes()).unwrap(), data);
        }
    }

    #[test]
    fn matches_rfc4648_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, coded) in vectors {
            assert_eq!(encode(plain.as_bytes()), coded);
            assert_eq!(decode(coded.as_bytes()).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn decodes_groups_split_across_lines() {
        assert_eq!(decode(b"Zm9vY\nmFy\n").unwrap(), b"foobar");
        assert_eq!(decode(b" Zm9v\r\n YmFy \r\n").unwrap(), b"foobar");
    }

    #[test]
    fn a_pem_body_stops_at_the_end_line() {
        let mut data = vec![7u8; 100];
        data.extend(0..=255);
        let mut text = Vec::new();
        encode_into(&mut text, &data, true);
        let body_len = text.len();
        text.extend_from_slice(b"-----END CERTIFICATE-----\n");
        let mut out = Vec::new();
        assert_eq!(decode_pem_body(&text, &mut out).unwrap(), body_len);
        assert_eq!(out, data);
    }

    #[test]
    fn rejects_malformed_input() {
        for bad in [
            "Zg=",
            "Z===",
            "Zg==Zg==",
            "Zm9v!",
            "Zm9",
            "=Zm9",
            "Zg=a",
            "Zg==\nZm9v",
            "Zm9v\nZ===",
            "Zm9v\n!m9v",
        ] {
            assert!(decode(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
