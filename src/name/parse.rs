//! The RFC 4514 string parser.
//!
//! Accepted beyond the strict grammar, because OpenSSL and Windows print
//! these forms: spaces around `,`, `+` and `=`; `;` between RDNs
//! (RFC 2253 §4); values in double quotes (`O="Example, Inc."`, as Windows
//! prints them); `OID.2.5.4.3=` (Windows); unescaped `=`, `<`, `>` inside
//! values. Attribute type names are case-insensitive.

use super::attribute;
use crate::fast_der as tlv;

/// One attribute of a parsed DN string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attribute {
    /// The type's OID content octets.
    pub(crate) oid: Vec<u8>,
    pub(crate) value: Value,
}

/// A value as written in the string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    /// A string value, unescaped.
    Text(String),
    /// A `#hex` value: the DER element it encodes.
    Der { tag: u8, content: Vec<u8> },
}

/// Why parsing failed, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    pub(crate) position: usize,
    pub(crate) reason: String,
}

/// The RDNs of `input`, in the order written (most specific first).
pub(crate) fn parse(input: &str) -> Result<Vec<Vec<Attribute>>, ParseError> {
    let mut parser = Parser {
        input: input.as_bytes(),
        pos: 0,
    };
    parser.skip_spaces();
    if parser.at_end() {
        return Err(parser.error("the distinguished name is empty"));
    }
    let mut rdns = vec![Vec::new()];
    loop {
        let attribute = parser.attribute()?;
        if let Some(rdn) = rdns.last_mut() {
            rdn.push(attribute);
        }
        parser.skip_spaces();
        match parser.peek() {
            None => return Ok(rdns),
            Some(b'+') => parser.pos += 1,
            Some(b',' | b';') => {
                parser.pos += 1;
                rdns.push(Vec::new());
            }
            Some(_) => return Err(parser.error("expected ',' or '+' after the value")),
        }
        parser.skip_spaces();
        if parser.at_end() {
            return Err(parser.error("expected an attribute after the separator"));
        }
    }
}

struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.input.len()
    }

    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.pos += 1;
        }
    }

    fn error(&self, reason: impl Into<String>) -> ParseError {
        ParseError {
            position: self.pos,
            reason: reason.into(),
        }
    }

    fn attribute(&mut self) -> Result<Attribute, ParseError> {
        let oid = self.attribute_type()?;
        self.skip_spaces();
        if self.peek() != Some(b'=') {
            return Err(self.error("expected '=' after the attribute type"));
        }
        self.pos += 1;
        self.skip_spaces();
        let value = match self.peek() {
            Some(b'#') => self.hex_value()?,
            Some(b'"') => Value::Text(self.quoted_value()?),
            _ => Value::Text(self.string_value()?),
        };
        Ok(Attribute { oid, value })
    }

    fn attribute_type(&mut self) -> Result<Vec<u8>, ParseError> {
        let start = self.pos;
        while matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric() || b == b'-' || b == b'.') {
            self.pos += 1;
        }
        let word = std::str::from_utf8(&self.input[start..self.pos]).unwrap_or_default();
        if word.is_empty() {
            return Err(self.error("expected an attribute type"));
        }
        let dotted = match word.get(..4) {
            Some(prefix) if prefix.eq_ignore_ascii_case("oid.") => &word[4..],
            _ => word,
        };
        if dotted.starts_with(|c: char| c.is_ascii_digit()) {
            return der::asn1::ObjectIdentifier::new(dotted)
                .map(|oid| oid.as_bytes().to_vec())
                .map_err(|_| ParseError {
                    position: start,
                    reason: format!("{word:?} is not a valid OID"),
                });
        }
        attribute::by_name(word)
            .map(|t| t.oid.to_vec())
            .ok_or_else(|| ParseError {
                position: start,
                reason: format!("unknown attribute type {word:?}"),
            })
    }

    fn hex_value(&mut self) -> Result<Value, ParseError> {
        let start = self.pos;
        self.pos += 1;
        let mut bytes = Vec::new();
        while let Some(b) = self.peek() {
            if !b.is_ascii_hexdigit() {
                break;
            }
            let pair = self
                .hex_pair()
                .ok_or_else(|| self.error("a #hex value needs an even number of hex digits"))?;
            bytes.push(pair);
        }
        // Any one-byte tag, as attribute values are read from a DER name
        // (`super::attributes`): every value the crate prints as #hex parses back.
        let mut reader = tlv::Reader::new(&bytes);
        let element = reader
            .next_any()
            .and_then(|element| reader.finish().map(|()| element))
            .map_err(|_| ParseError {
                position: start,
                reason: "the #hex value is not one DER element".into(),
            })?;
        Ok(Value::Der {
            tag: element.tag,
            content: element.value.to_vec(),
        })
    }

    fn hex_pair(&mut self) -> Option<u8> {
        let hi = hex_digit(self.peek()?)?;
        let lo = hex_digit(*self.input.get(self.pos + 1)?)?;
        self.pos += 2;
        Some(hi << 4 | lo)
    }

    /// A value up to the next unescaped `,`, `;` or `+`; unescaped
    /// trailing spaces are not part of it.
    fn string_value(&mut self) -> Result<String, ParseError> {
        let mut bytes = Vec::new();
        let mut significant = 0;
        while let Some(b) = self.peek() {
            match b {
                b',' | b';' | b'+' => break,
                b'\\' => {
                    self.escape(&mut bytes)?;
                    significant = bytes.len();
                }
                b'"' => return Err(self.error("a '\"' inside a value must be escaped as '\\\"'")),
                _ => {
                    self.pos += 1;
                    bytes.push(b);
                    if b != b' ' {
                        significant = bytes.len();
                    }
                }
            }
        }
        bytes.truncate(significant);
        self.text(bytes)
    }

    fn quoted_value(&mut self) -> Result<String, ParseError> {
        let open = self.pos;
        self.pos += 1;
        let mut bytes = Vec::new();
        loop {
            match self.peek() {
                None => {
                    return Err(ParseError {
                        position: open,
                        reason: "unterminated quoted value".into(),
                    });
                }
                Some(b'"') => {
                    self.pos += 1;
                    return self.text(bytes);
                }
                Some(b'\\') => self.escape(&mut bytes)?,
                Some(b) => {
                    self.pos += 1;
                    bytes.push(b);
                }
            }
        }
    }

    fn escape(&mut self, bytes: &mut Vec<u8>) -> Result<(), ParseError> {
        self.pos += 1;
        match self.peek() {
            Some(b) if b.is_ascii_hexdigit() => {
                let pair = self
                    .hex_pair()
                    .ok_or_else(|| self.error("'\\' must be followed by two hex digits or a special character"))?;
                bytes.push(pair);
            }
            Some(b @ (b'"' | b'+' | b',' | b';' | b'<' | b'>' | b'\\' | b' ' | b'#' | b'=')) => {
                self.pos += 1;
                bytes.push(b);
            }
            _ => return Err(self.error("'\\' must be followed by two hex digits or a special character")),
        }
        Ok(())
    }

    fn text(&self, bytes: Vec<u8>) -> Result<String, ParseError> {
        String::from_utf8(bytes).map_err(|_| self.error("escaped bytes do not form UTF-8 text"))
    }
}

fn hex_digit(b: u8) -> Option<u8> {
    char::from(b).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    fn values(input: &str) -> Vec<Vec<Value>> {
        parse(input)
            .unwrap()
            .into_iter()
            .map(|rdn| rdn.into_iter().map(|a| a.value).collect())
            .collect()
    }

    #[test]
    fn parses_rfc4514_examples() {
        // RFC 4514 §4.
        assert_eq!(
            values("UID=jsmith,DC=example,DC=net"),
            [[text("jsmith")], [text("example")], [text("net")]]
        );
        assert_eq!(
            values("OU=Sales+CN=J.  Smith,DC=example,DC=net")[0],
            [text("Sales"), text("J.  Smith")]
        );
        assert_eq!(
            values("CN=James \\\"Jim\\\" Smith\\, III,DC=example,DC=net")[0],
            [text("James \"Jim\" Smith, III")]
        );
        assert_eq!(
            values("CN=Before\\0dAfter,DC=example,DC=net")[0],
            [text("Before\rAfter")]
        );
        assert_eq!(
            values("1.3.6.1.4.1.1466.0=#04024869,DC=example,DC=com")[0],
            [Value::Der {
                tag: 0x04,
                content: b"Hi".to_vec()
            }]
        );
        assert_eq!(values("CN=Lu\\C4\\8Di\\C4\\87")[0], [text("Lučić")]);
    }

    #[test]
    fn accepts_what_openssl_and_windows_print() {
        assert_eq!(values("CN = www.example.com, O = Example, C = US").len(), 3);
        assert_eq!(values("CN=x; O=y").len(), 2);
        assert_eq!(values("O=\"Example, Inc.\", C=US")[0], [text("Example, Inc.")]);
        assert_eq!(parse("OID.2.5.4.3=x").unwrap(), parse("cn=x").unwrap());
        assert_eq!(parse("S=Bavaria").unwrap(), parse("ST=Bavaria").unwrap());
        assert_eq!(values("CN=a=b")[0], [text("a=b")]);
    }

    #[test]
    fn keeps_escaped_and_drops_unescaped_edge_spaces() {
        assert_eq!(values("CN=  x  ")[0], [text("x")]);
        assert_eq!(values("CN=\\ x\\ ")[0], [text(" x ")]);
        assert_eq!(values("CN=x \\ ,O=y")[0], [text("x  ")]);
    }

    #[test]
    fn rejects_malformed_strings_with_position() {
        let cases = [
            ("", 0),
            ("CN", 2),
            ("=x", 0),
            ("CN=x,", 5),
            ("XYZ=x", 0),
            ("CN=x\\", 5),
            ("CN=x\\zz", 5),
            ("CN=#12", 3),
            ("CN=#123", 6),
            ("CN=\"open", 3),
            ("CN=a\"b", 4),
            ("CN=\\ff", 6),
            ("1.2.x=y", 0),
            ("CN=\"x\" y", 7),
        ];
        for (input, position) in cases {
            let err = parse(input).unwrap_err();
            assert_eq!(err.position, position, "{input:?}: {}", err.reason);
        }
    }
}
