//! Reading a JSON request body's fields as the reference servers do:
//! names matched case-insensitively, `null` as absent, unknown fields kept
//! aside for a warning, and errors that name the field but never quote its
//! value (a value may be a password).

use serde::de::{MapAccess, Visitor};
use serde_json::Value;

use super::Casing;
use crate::error::{ExportError, shown};
use crate::key::Password;

/// The most unknown field names reported.
const MAX_UNKNOWN: usize = 20;

/// One field a call knows: its name in the reference's casing, what it
/// holds, and a sentence for the API description. A call's table of these
/// is the one list both the reader ([`Fields`]) and the OpenAPI document
/// (feature `openapi`) use, so neither can name a field the other lacks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
    #[cfg_attr(not(feature = "openapi"), allow(dead_code))]
    pub(crate) about: &'static str,
}

/// What a field holds, as the reader takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A string.
    Text,
    /// A string from a fixed list (matched case-insensitively).
    Choice(&'static [&'static str]),
    /// `true` or `false`.
    Flag,
    /// A whole number (or a string of digits).
    WholeNumber,
    /// A secret string (a password).
    Secret,
}

impl Field {
    pub(crate) const fn new(name: &'static str, kind: Kind, about: &'static str) -> Self {
        Self { name, kind, about }
    }
}

/// The fields of one JSON object, taken one by one by their names.
pub(crate) struct Fields {
    entries: Vec<(String, Option<Value>)>,
    known: &'static [Field],
}

impl Fields {
    /// The fields of `body`, which must be one JSON object whose names
    /// are unique in any casing: a name given twice (`CertID` twice, or
    /// `CertID` and `certID`) is refused, naming it, since readers that
    /// keep the first value and readers that keep the last would see two
    /// different requests. `known` is the call's table of fields.
    pub(crate) fn parse(body: &[u8], known: &'static [Field]) -> Result<Self, ExportError> {
        let mut reader = serde_json::Deserializer::from_slice(body);
        let entries = serde::Deserializer::deserialize_map(&mut reader, EntriesVisitor)
            .and_then(|entries| reader.end().map(|()| entries))
            .map_err(|e| {
                let what = match e.classify() {
                    serde_json::error::Category::Eof => "it ends early",
                    serde_json::error::Category::Data => {
                        return invalid("the request body must be a JSON object".into());
                    }
                    _ => "it is not valid JSON",
                };
                invalid(format!(
                    "the request body cannot be read: {what} (line {}, column {})",
                    e.line(),
                    e.column()
                ))
            })?;
        let mut seen = std::collections::HashMap::with_capacity(entries.len());
        for (key, _) in &entries {
            if let Some(first) = seen.insert(key.to_ascii_lowercase(), key.as_str()) {
                return Err(invalid(format!(
                    "the field {} is given twice (names match in any casing)",
                    shown(first)
                )));
            }
        }
        Ok(Self {
            entries: entries.into_iter().map(|(k, v)| (k, Some(v))).collect(),
            known,
        })
    }

    /// Takes the field `name` (any casing; [`parse`](Self::parse) made
    /// sure there is at most one), which the call's table must list as
    /// `kind` (checked in debug builds: a field read but not described, or
    /// described as another kind, fails every test that reads it). `null`
    /// counts as absent.
    fn take(&mut self, name: &'static str, kind: Kind) -> Option<Value> {
        debug_assert!(
            self.known.iter().any(|f| f.name == name && kind_matches(f.kind, kind)),
            "field {name} is read as {kind:?} but its call's table does not list it so"
        );
        self.entries
            .iter_mut()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .and_then(|(_, value)| value.take())
            .filter(|v| !v.is_null())
    }

    pub(crate) fn string(&mut self, name: &'static str) -> Result<Option<String>, ExportError> {
        match self.take(name, Kind::Text) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(invalid(format!("{name} must be a string"))),
        }
    }

    pub(crate) fn bool(&mut self, name: &'static str) -> Result<Option<bool>, ExportError> {
        match self.take(name, Kind::Flag) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(_) => Err(invalid(format!("{name} must be true or false"))),
        }
    }

    /// A whole number; a string of digits is taken too (some generated
    /// clients send ids as strings).
    pub(crate) fn u64(&mut self, name: &'static str) -> Result<Option<u64>, ExportError> {
        let bad = || invalid(format!("{name} must be a whole number"));
        match self.take(name, Kind::WholeNumber) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_u64().map(Some).ok_or_else(bad),
            Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                s.parse().map(Some).map_err(|_| bad())
            }
            Some(_) => Err(bad()),
        }
    }

    /// A password: the string is moved into the [`Password`], never
    /// copied. An empty string is [`ExportError::PasswordRequired`].
    pub(crate) fn password(&mut self, name: &'static str) -> Result<Option<Password>, ExportError> {
        match self.take(name, Kind::Secret) {
            None => Ok(None),
            Some(Value::String(text)) => Password::new(text).map(Some),
            Some(_) => Err(invalid(format!("{name} must be a string"))),
        }
    }

    /// The casing the client wrote: camelCase when most of the fields it
    /// gave that the call knows start with a lower-case letter,
    /// PascalCase otherwise (and when it gave none). A count, not the
    /// first field, because a JSON object's fields have no order.
    pub(crate) fn casing(&self) -> Casing {
        let (mut lower, mut upper) = (0, 0);
        for (key, _) in &self.entries {
            if self.known.iter().any(|k| k.name.eq_ignore_ascii_case(key)) {
                if key.starts_with(|c: char| c.is_ascii_lowercase()) {
                    lower += 1;
                } else {
                    upper += 1;
                }
            }
        }
        if lower > upper { Casing::Camel } else { Casing::Pascal }
    }

    /// The fields nobody took: reported, not refused (the reference
    /// servers ignore them), at most [`MAX_UNKNOWN`], each name cut short.
    pub(crate) fn unknown(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|(key, _)| !self.known.iter().any(|k| k.name.eq_ignore_ascii_case(key)))
            .take(MAX_UNKNOWN)
            .map(|(key, _)| shown(key))
            .collect()
    }
}

/// Reads a JSON object's members in order, keeping every one (a
/// `serde_json::Map` keeps only the last of two members of one name).
struct EntriesVisitor;

impl<'de> Visitor<'de> for EntriesVisitor {
    type Value = Vec<(String, Value)>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
        while let Some(entry) = map.next_entry::<String, Value>()? {
            entries.push(entry);
        }
        Ok(entries)
    }
}

/// A choice is read as text, then parsed by its type.
fn kind_matches(listed: Kind, read: Kind) -> bool {
    listed == read || (matches!(listed, Kind::Choice(_)) && read == Kind::Text)
}

pub(crate) fn invalid(reason: String) -> ExportError {
    ExportError::InvalidRequest { reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[Field] = &[
        Field::new("CertID", Kind::WholeNumber, ""),
        Field::new("IncludeChain", Kind::Flag, ""),
        Field::new("Thumbprint", Kind::Text, ""),
        Field::new("Password", Kind::Secret, ""),
    ];

    #[test]
    fn names_match_in_any_casing_and_null_is_absent() {
        let mut f = Fields::parse(br#"{"certID": 3, "INCLUDECHAIN": true, "thumbprint": null}"#, KNOWN).unwrap();
        assert_eq!(f.casing(), Casing::Camel);
        assert_eq!(f.u64("CertID").unwrap(), Some(3));
        assert_eq!(f.bool("IncludeChain").unwrap(), Some(true));
        assert_eq!(f.string("Thumbprint").unwrap(), None);
    }

    #[test]
    fn type_errors_name_the_field_and_never_the_value() {
        let mut f = Fields::parse(br#"{"Password": 31415926535, "CertID": "x9"}"#, KNOWN).unwrap();
        let text = f.password("Password").unwrap_err().to_string();
        assert!(text.contains("Password") && !text.contains("31415926535"), "{text}");
        let text = f.u64("CertID").unwrap_err().to_string();
        assert!(!text.contains("x9"), "{text}");
    }

    #[test]
    fn a_field_twice_is_refused_and_unknown_ones_reported() {
        for twice in [
            r#"{"CertID": 1, "certId": 2}"#,
            r#"{"CertID": 100, "CertID": 3}"#,
            r#"{"Password": "a", "Password": "b"}"#,
            r#"{"Bogus": 1, "bogus": null}"#,
        ] {
            let text = Fields::parse(twice.as_bytes(), KNOWN).err().unwrap().to_string();
            let name = &twice[2..twice[2..].find('"').unwrap() + 2];
            assert!(
                text.contains(&format!("the field {name} is given twice")),
                "{twice}: {text}"
            );
            assert!(!text.contains("100") && !text.contains("\"a\""), "{text}");
        }
        let f = Fields::parse(br#"{"CertID": 1, "Bogus": {"x": 1}}"#, KNOWN).unwrap();
        assert_eq!(f.unknown(), ["Bogus"]);
        assert!(Fields::parse(b"[1]", KNOWN).is_err());
        let text = Fields::parse(b"{\"a\": \"s3cret", KNOWN).err().unwrap().to_string();
        assert!(!text.contains("s3cret"), "{text}");
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "its call's table does not list it")]
    fn reading_a_field_the_table_does_not_list_fails() {
        let mut f = Fields::parse(br#"{"Other": true}"#, KNOWN).unwrap();
        let _ = f.bool("Other");
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "its call's table does not list it")]
    fn reading_a_field_as_another_kind_fails() {
        let mut f = Fields::parse(br#"{"CertID": true}"#, KNOWN).unwrap();
        let _ = f.bool("CertID");
    }
}
