//! The fast decoder of PEM certificate bodies, the one hand-written codec
//! the crate keeps: loading a bundle is mostly base64 decoding, and the
//! `base64` crate, which needs the line breaks taken out first, made a
//! bundle load 20.8% and 15.9% slower in the last two runs of
//! `benches/hand_written.rs` (README, Performance): at the 20% bar, so the
//! crate may take its place if a later run stays under it. It decodes
//! exactly what the `base64` crate's standard engine decodes — canonical
//! padding included, so `Zh==` is refused as it is there
//! (`tests/der_reader.rs`, and the `pem_decoder` fuzz target).
//! Certificates are public: keys are read by `pem-rfc7468`'s constant-time
//! codec, and everything the crate writes is encoded by the `base64` crate
//! (public data) or `base64ct` (anything holding a key).

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

/// The most base64 text [`decode_pem_body`] reserves room for at once
/// (a certificate of ~12 KB; longer bodies grow the buffer as they go).
const RESERVE_TEXT: usize = 16 << 10;

/// Decodes the base64 body of a PEM block from the start of `text` into
/// `out` (cleared first), stopping before the first line that starts with
/// `-` (the END line). Returns how many bytes of `text` the body took.
///
/// The fast path takes the 64-character lines PEM writers produce as
/// sixteen 4-character groups; any other shape of line goes through the
/// careful decoder, which also names what is wrong.
pub(crate) fn decode_pem_body(text: &[u8], out: &mut Vec<u8>) -> Result<usize, &'static str> {
    out.clear();
    // `text` runs to the end of the file, not of this block: reserve for a
    // large certificate only. Reserving for the rest of a bundle gave every
    // certificate of a 100,000-certificate PEM its own ~770 KiB mapping,
    // which, once shrunk, left one memory map per certificate — past the
    // kernel's 65,530 maps per process, where thread creation then fails.
    out.reserve(text.len().min(RESERVE_TEXT) / 4 * 3);
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
            && let Some(bytes) = full_line(line)
        {
            out.extend_from_slice(&bytes);
            pos += 64;
            continue;
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
    // Padding must follow canonical bits: the bits the padding drops are zero.
    let (bytes, keep, padded) = match last {
        [a, b, b'=', b'='] if DECODE[usize::from(*b)] & 0x0f == 0 => (quad_value(&[*a, *b, b'A', b'A']), 1, true),
        [a, b, c, b'='] if DECODE[usize::from(*c)] & 0x03 == 0 => (quad_value(&[*a, *b, *c, b'A']), 2, true),
        [_, _, _, b'='] => (None, 0, true),
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
            let dropped = match padding {
                1 => group[2] & 0x03,
                2 => group[1] & 0x0f,
                _ => 0,
            };
            if dropped != 0 {
                return Err("non-canonical bits before '=' padding");
            }
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
    fn a_block_early_in_a_long_bundle_reserves_for_itself_only() {
        let mut text = encode(&[7u8; 1_000]);
        text.extend_from_slice(b"-----END CERTIFICATE-----\n");
        text.resize(text.len() + (4 << 20), b'A');
        let mut out = Vec::new();
        decode_pem_body(&text, &mut out).unwrap();
        assert_eq!(out, [7u8; 1_000]);
        assert!(out.capacity() <= RESERVE_TEXT, "{}", out.capacity());
    }

    fn encode(data: &[u8]) -> Vec<u8> {
        use ::base64::Engine;
        let text = ::base64::engine::general_purpose::STANDARD.encode(data);
        let mut wrapped = Vec::new();
        for line in text.as_bytes().chunks(64) {
            wrapped.extend_from_slice(line);
            wrapped.push(b'\n');
        }
        wrapped
    }

    #[test]
    fn round_trips_every_length() {
        for len in 0..200 {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(decode(&encode(&data)).unwrap(), data);
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
            assert_eq!(decode(coded.as_bytes()).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn refuses_non_canonical_padding() {
        for bad in ["Zh==", "Zm9=", "Zh==\n", "Zm\n9=", "Zh\n=="] {
            assert!(decode(bad.as_bytes()).is_err(), "{bad}");
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
        let mut text = encode(&data);
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
