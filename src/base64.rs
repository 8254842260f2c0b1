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
    let line_len = if wrap { LINE_BYTES } else { data.len().max(1) };
    for line in data.chunks(line_len) {
        let mut triples = line.chunks_exact(3);
        for t in &mut triples {
            let n = u32::from(t[0]) << 16 | u32::from(t[1]) << 8 | u32::from(t[2]);
            out.extend_from_slice(&[
                ALPHABET[(n >> 18) as usize & 63],
                ALPHABET[(n >> 12) as usize & 63],
                ALPHABET[(n >> 6) as usize & 63],
                ALPHABET[n as usize & 63],
            ]);
        }
        match *triples.remainder() {
            [a] => out.extend_from_slice(&[
                ALPHABET[usize::from(a >> 2)],
                ALPHABET[usize::from(a & 3) << 4],
                b'=',
                b'=',
            ]),
            [a, b] => out.extend_from_slice(&[
                ALPHABET[usize::from(a >> 2)],
                ALPHABET[usize::from(a & 3) << 4 | usize::from(b >> 4)],
                ALPHABET[usize::from(b & 15) << 2],
                b'=',
            ]),
            _ => {}
        }
        if wrap {
            out.push(b'\n');
        }
    }
}

/// Base64 of `data` on one line.
pub(crate) fn encode(data: &[u8]) -> String {
    let mut out = Vec::new();
    encode_into(&mut out, data, false);
    String::from_utf8(out).unwrap_or_default()
}

/// Decodes base64 text, skipping ASCII white space (PEM line breaks).
/// Padding is required to complete the last group and nothing may follow it.
pub(crate) fn decode(text: &[u8]) -> Result<Vec<u8>, &'static str> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
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
    Ok(out)
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
    fn rejects_malformed_input() {
        for bad in ["Zg=", "Z===", "Zg==Zg==", "Zm9v!", "Zm9", "=Zm9", "Zg=a"] {
            assert!(decode(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
