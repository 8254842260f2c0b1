//! The query language's parser: text in, a [`Filter`] or a
//! [`QueryError`] naming the byte where the text went wrong.
//!
//! ```text
//! query := or?                      (empty: every certificate)
//! or    := and ("OR" and)*
//! and   := unit ("AND" unit)*
//! unit  := "(" or ")" | FIELD OPERATOR [VALUE]
//! VALUE := "quoted" | bare-word | %TODAY[±N]%
//! ```
//!
//! Recursion is bounded by [`MAX_NESTING`], the work by [`MAX_QUERY_BYTES`]
//! and [`MAX_TERMS`].

use super::{
    DateValue, Field, Filter, Kind, MAX_NESTING, MAX_QUERY_BYTES, MAX_RELATIVE_DAYS, MAX_TERMS, Operator, QueryError,
    Term, Value,
};

/// Parses `text`; `None` for a query that is empty or white space.
pub(super) fn parse(text: &str) -> Result<Option<Filter>, QueryError> {
    if text.len() > MAX_QUERY_BYTES {
        return Err(QueryError::new(
            MAX_QUERY_BYTES,
            format!("the query is longer than {MAX_QUERY_BYTES} bytes"),
        ));
    }
    let mut parser = Parser {
        text,
        tokens: tokenize(text)?,
        next: 0,
        terms: 0,
    };
    if parser.tokens.is_empty() {
        return Ok(None);
    }
    let filter = parser.or(0)?;
    match parser.tokens.get(parser.next) {
        None => Ok(Some(filter)),
        Some(token) if token.kind == TokenKind::Close => {
            Err(QueryError::new(token.start, "')' without a matching '('"))
        }
        Some(token) => Err(QueryError::new(
            token.start,
            format!(
                "expected AND, OR or the end of the query, found {}",
                token.describe(text)
            ),
        )),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenKind {
    Open,
    Close,
    /// A word: a field, an operator, AND/OR, or a bare value.
    Word,
    /// A quoted value (its text unescaped in `Token::quoted`).
    Quoted,
}

#[derive(Debug)]
struct Token {
    kind: TokenKind,
    start: usize,
    end: usize,
    quoted: Option<String>,
}

impl Token {
    fn text<'t>(&self, text: &'t str) -> &'t str {
        &text[self.start..self.end]
    }

    /// The token as a message names it.
    fn describe(&self, text: &str) -> String {
        match self.kind {
            TokenKind::Open => "'('".into(),
            TokenKind::Close => "')'".into(),
            _ => format!("{:?}", crate::error::shown(self.text(text))),
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, QueryError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        match c {
            b'(' | b')' => {
                i += 1;
                tokens.push(Token {
                    kind: if c == b'(' { TokenKind::Open } else { TokenKind::Close },
                    start,
                    end: i,
                    quoted: None,
                });
            }
            b'"' => {
                let mut value = String::new();
                i += 1;
                loop {
                    let Some(rest) = text.get(i..) else {
                        return Err(QueryError::new(start, "a quoted value has no closing '\"'"));
                    };
                    let Some(ch) = rest.chars().next() else {
                        return Err(QueryError::new(start, "a quoted value has no closing '\"'"));
                    };
                    match ch {
                        '\\' if rest[1..].starts_with('"') || rest[1..].starts_with('\\') => {
                            value.push(rest.as_bytes()[1] as char);
                            i += 2;
                        }
                        '"' if rest[1..].starts_with('"') => {
                            value.push('"');
                            i += 2;
                        }
                        '"' => {
                            i += 1;
                            break;
                        }
                        other => {
                            value.push(other);
                            i += other.len_utf8();
                        }
                    }
                }
                tokens.push(Token {
                    kind: TokenKind::Quoted,
                    start,
                    end: i,
                    quoted: Some(value),
                });
            }
            _ => {
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() && !matches!(bytes[i], b'(' | b')' | b'"') {
                    i += 1;
                }
                tokens.push(Token {
                    kind: TokenKind::Word,
                    start,
                    end: i,
                    quoted: None,
                });
            }
        }
    }
    Ok(tokens)
}

struct Parser<'t> {
    text: &'t str,
    tokens: Vec<Token>,
    next: usize,
    terms: usize,
}

impl Parser<'_> {
    fn peek_keyword(&self, keyword: &str) -> bool {
        self.tokens
            .get(self.next)
            .is_some_and(|t| t.kind == TokenKind::Word && t.text(self.text).eq_ignore_ascii_case(keyword))
    }

    fn end_position(&self) -> usize {
        self.text.len()
    }

    fn or(&mut self, depth: usize) -> Result<Filter, QueryError> {
        let mut parts = vec![self.and(depth)?];
        while self.peek_keyword("OR") {
            self.next += 1;
            parts.push(self.and(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Filter::Or(parts)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Filter, QueryError> {
        let mut parts = vec![self.unit(depth)?];
        while self.peek_keyword("AND") {
            self.next += 1;
            parts.push(self.unit(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Filter::And(parts)
        })
    }

    fn unit(&mut self, depth: usize) -> Result<Filter, QueryError> {
        let Some(token) = self.tokens.get(self.next) else {
            return Err(QueryError::new(
                self.end_position(),
                "the query ends where a term or '(' was expected",
            ));
        };
        match token.kind {
            TokenKind::Open => {
                if depth >= MAX_NESTING {
                    return Err(QueryError::new(
                        token.start,
                        format!("parentheses nest deeper than {MAX_NESTING}"),
                    ));
                }
                let open = token.start;
                self.next += 1;
                let inner = self.or(depth + 1)?;
                match self.tokens.get(self.next) {
                    Some(t) if t.kind == TokenKind::Close => {
                        self.next += 1;
                        Ok(inner)
                    }
                    Some(t) => Err(QueryError::new(
                        t.start,
                        format!("expected AND, OR or ')', found {}", t.describe(self.text)),
                    )),
                    None => Err(QueryError::new(open, "'(' is never closed")),
                }
            }
            TokenKind::Close => Err(QueryError::new(token.start, "expected a term or '(', found ')'")),
            TokenKind::Quoted => Err(QueryError::new(
                token.start,
                "expected a field name, found a quoted value",
            )),
            TokenKind::Word => self.term(),
        }
    }

    fn term(&mut self) -> Result<Filter, QueryError> {
        let field_token = &self.tokens[self.next];
        let field_text = field_token.text(self.text);
        let field = Field::from_name(field_text).ok_or_else(|| {
            QueryError::new(
                field_token.start,
                format!(
                    "unknown field {:?}; the fields are {}",
                    crate::error::shown(field_text),
                    field_list()
                ),
            )
        })?;
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(QueryError::new(
                field_token.start,
                format!("the query has more than {MAX_TERMS} terms"),
            ));
        }
        self.next += 1;
        let Some(op_token) = self.tokens.get(self.next) else {
            return Err(QueryError::new(
                self.end_position(),
                format!("the query ends where an operator (such as -eq) was expected after {field}"),
            ));
        };
        let op_text = op_token.text(self.text);
        let operator = Operator::NAMES
            .iter()
            .find(|(_, name)| op_token.kind == TokenKind::Word && name.eq_ignore_ascii_case(op_text))
            .map(|(op, _)| *op)
            .ok_or_else(|| {
                QueryError::new(
                    op_token.start,
                    format!(
                        "expected an operator after {field} (-eq -ne -contains -notcontains -startswith -endswith -gt -ge -lt -le -isnull -notnull), found {}",
                        op_token.describe(self.text)
                    ),
                )
            })?;
        let op_start = op_token.start;
        self.next += 1;
        operator_fits(field, operator).map_err(|m| QueryError::new(op_start, m))?;
        if matches!(operator, Operator::IsNull | Operator::NotNull) {
            return Ok(Filter::Term(Term {
                field,
                operator,
                value: Value::None,
            }));
        }
        let Some(value_token) = self.tokens.get(self.next) else {
            return Err(QueryError::new(
                self.end_position(),
                format!("the query ends where the value of {field} {operator} was expected"),
            ));
        };
        let raw = match value_token.kind {
            TokenKind::Quoted => value_token.quoted.clone().unwrap_or_default(),
            TokenKind::Word => value_token.text(self.text).to_owned(),
            _ => {
                return Err(QueryError::new(
                    value_token.start,
                    format!(
                        "expected the value of {field} {operator}, found {}",
                        value_token.describe(self.text)
                    ),
                ));
            }
        };
        let value_start = value_token.start;
        self.next += 1;
        let value = value_of(field, &raw).map_err(|m| QueryError::new(value_start, m))?;
        Ok(Filter::Term(Term { field, operator, value }))
    }
}

fn field_list() -> String {
    Field::NAMES
        .iter()
        .map(|(_, names)| names[0])
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether `operator` applies to `field` and `value` is of its kind; the
/// message says why not. (A `Value::None` stands for "not given yet".)
pub(super) fn check_term(field: Field, operator: Operator, value: &Value) -> Result<(), String> {
    operator_fits(field, operator)?;
    let kind = field.kind();
    let null_op = matches!(operator, Operator::IsNull | Operator::NotNull);
    match (value, kind) {
        (Value::None, _) if null_op => Ok(()),
        (Value::None, _) => Err(format!("no value given for {field} {operator}")),
        (_, _) if null_op => Err(format!("{operator} takes no value")),
        (Value::Text(_), Kind::Text)
        | (Value::Integer(_), Kind::Integer)
        | (Value::Date(_), Kind::Date)
        | (Value::Bool(_), Kind::Bool) => Ok(()),
        _ => Err(format!("the value is not of the kind {field} holds")),
    }
}

/// Whether `operator` applies to `field`; the message says why not.
fn operator_fits(field: Field, operator: Operator) -> Result<(), String> {
    let kind = field.kind();
    let fits = match operator {
        Operator::Eq | Operator::Ne => true,
        Operator::Contains | Operator::NotContains | Operator::StartsWith | Operator::EndsWith => kind == Kind::Text,
        Operator::Gt | Operator::Ge | Operator::Lt | Operator::Le => kind != Kind::Bool,
        Operator::IsNull | Operator::NotNull => kind != Kind::Bool,
    };
    if !fits {
        let what = match kind {
            Kind::Text => "text",
            Kind::Integer => "a whole number",
            Kind::Date => "a date",
            Kind::Bool => "true or false",
        };
        return Err(format!("{operator} does not apply to {field}, which is {what}"));
    }
    Ok(())
}

/// The value `raw` as field `field` compares it.
fn value_of(field: Field, raw: &str) -> Result<Value, String> {
    match field.kind() {
        Kind::Text => Ok(Value::Text(match field {
            Field::SerialNumber | Field::Thumbprint => raw
                .chars()
                .filter(|c| *c != ':' && !c.is_whitespace())
                .collect::<String>()
                .to_lowercase(),
            _ => raw.to_lowercase(),
        })),
        Kind::Integer => {
            let value = raw.trim();
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("{:?} is not a whole number", crate::error::shown(raw)));
            }
            value
                .parse::<u64>()
                .ok()
                .filter(|v| i64::try_from(*v).is_ok())
                .map(Value::Integer)
                .ok_or_else(|| format!("{value} is larger than {}", i64::MAX))
        }
        Kind::Bool => match raw.trim() {
            t if t.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            t if t.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            _ => Err(format!("{:?} is not true or false", crate::error::shown(raw))),
        },
        Kind::Date => date(raw.trim()).map(Value::Date),
    }
}

/// A date: `%TODAY%`, `%TODAY±N%`, `YYYY-MM-DD`, or `YYYY-MM-DD[T ]HH:MM[:SS][Z|±HH:MM]`.
fn date(text: &str) -> Result<DateValue, String> {
    let bad = || {
        format!(
            "{:?} is not a date (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, %TODAY%, %TODAY+N%, %TODAY-N%)",
            crate::error::shown(text)
        )
    };
    if let Some(inner) = text.strip_prefix('%').and_then(|t| t.strip_suffix('%')) {
        let Some(rest) = inner
            .get(..5)
            .filter(|head| head.eq_ignore_ascii_case("TODAY"))
            .map(|_| &inner[5..])
        else {
            return Err(bad());
        };
        if rest.is_empty() {
            return Ok(DateValue::Today(0));
        }
        let (sign, digits) = match rest.as_bytes()[0] {
            b'+' => (1, &rest[1..]),
            b'-' => (-1, &rest[1..]),
            _ => return Err(bad()),
        };
        if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let days: i64 = digits.parse().map_err(|_| bad())?;
        if days > MAX_RELATIVE_DAYS {
            return Err(format!("{text} reaches more than {MAX_RELATIVE_DAYS} days from today"));
        }
        return Ok(DateValue::Today(sign * days));
    }
    let b = text.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Result<i64, String> {
        let part = b.get(range).ok_or_else(bad)?;
        if part.iter().all(u8::is_ascii_digit) {
            Ok(part.iter().fold(0, |acc, d| acc * 10 + i64::from(d - b'0')))
        } else {
            Err(bad())
        }
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    if year < 1 || !(1..=12).contains(&month) || day < 1 || day > crate::certificate::days_in_month(year, month) {
        return Err(bad());
    }
    let days = crate::certificate::days_from_civil(year, month, day);
    if b.len() == 10 {
        return Ok(DateValue::Day(days));
    }
    if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 16 || b[13] != b':' {
        return Err(bad());
    }
    let (hour, minute) = (number(11..13)?, number(14..16)?);
    let mut at = 16;
    let mut second = 0;
    if b.get(at) == Some(&b':') {
        second = number(17..19)?;
        at = 19;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(bad());
    }
    let offset = match &b[at..] {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let hh = number(at + 1..at + 3)?;
            let mm = number(at + 4..at + 6)?;
            let _ = (h1, h2, m1, m2);
            if hh > 23 || mm > 59 {
                return Err(bad());
            }
            let minutes = hh * 60 + mm;
            if *sign == b'+' { minutes * 60 } else { -minutes * 60 }
        }
        _ => return Err(bad()),
    };
    Ok(DateValue::At(
        days * 86_400 + hour * 3_600 + minute * 60 + second - offset,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(field: Field, operator: Operator, value: Value) -> Filter {
        Filter::Term(Term { field, operator, value })
    }

    #[test]
    fn parses_precedence_quotes_and_casing() {
        let parsed = parse(r#"cn -Contains "Ex""am\"ple" or (NotAfter -le %TODAY+30% and HasPrivateKey -eq TRUE)"#)
            .unwrap()
            .unwrap();
        assert_eq!(
            parsed,
            Filter::Or(vec![
                term(Field::IssuedCn, Operator::Contains, Value::Text("ex\"am\"ple".into())),
                Filter::And(vec![
                    term(Field::NotAfter, Operator::Le, Value::Date(DateValue::Today(30))),
                    term(Field::HasPrivateKey, Operator::Eq, Value::Bool(true)),
                ]),
            ])
        );
        assert_eq!(
            parse("A -eq 1").unwrap_err().message(),
            "unknown field \"A\"; the fields are CertId, CN, DN, IssuerDN, SerialNumber, Thumbprint, DNSName, NotBefore, NotAfter, KeyType, KeySizeInBits, HasPrivateKey, Uuid, CollectionId, ContainerId"
        );
        assert_eq!(parse("  ").unwrap(), None);
    }

    #[test]
    fn dates() {
        assert_eq!(date("1970-01-02"), Ok(DateValue::Day(1)));
        assert_eq!(date("1970-01-01T01:00:00Z"), Ok(DateValue::At(3_600)));
        assert_eq!(date("1970-01-01T01:00+01:00"), Ok(DateValue::At(0)));
        assert_eq!(date("%today-7%"), Ok(DateValue::Today(-7)));
        for bad in [
            "2027-02-30",
            "2027-1-1",
            "%TODAY+%",
            "%TOMORROW%",
            "2027-01-01T25:00",
            "x",
        ] {
            assert!(date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn errors_name_the_position() {
        for (text, position) in [
            ("CN -eq", 6),
            ("CN -like \"a\"", 3),
            ("CN -eq \"a", 7),
            ("(CN -eq a", 0),
            ("CN -eq a)", 8),
            ("NotAfter -contains 1", 9),
            ("KeySizeInBits -eq big", 18),
            ("CN -eq a XOR", 9),
            ("CN -isnull AND", 14),
        ] {
            let error = parse(text).unwrap_err();
            assert_eq!(error.position(), position, "{text}: {error}");
        }
        let deep = format!("{}CN -eq a{}", "(".repeat(MAX_NESTING + 1), ")".repeat(MAX_NESTING + 1));
        assert!(parse(&deep).unwrap_err().message().contains("nest"));
        let many = vec!["CN -eq a"; MAX_TERMS + 1].join(" OR ");
        assert!(parse(&many).unwrap_err().message().contains("terms"));
        assert!(parse(&"x".repeat(MAX_QUERY_BYTES + 1)).is_err());
    }
}
