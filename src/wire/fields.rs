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

/// The fields of one JSON object, taken one by one by their names.
pub(crate) struct Fields {
    entries: Vec<(String, Option<Value>)>,
}

impl Fields {
    /// The fields of `body`, which must be one JSON object whose names
    /// are unique in any casing: a name given twice (`CertID` twice, or
    /// `CertID` and `certID`) is refused, naming it, since readers that
    /// keep the first value and readers that keep the last would see two
    /// different requests.
    pub(crate) fn parse(body: &[u8]) -> Result<Self, ExportError> {
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
        })
    }

    /// Takes the field `name` (any casing; [`parse`](Self::parse) made
    /// sure there is at most one). `null` counts as absent.
    pub(crate) fn take(&mut self, name: &'static str) -> Option<Value> {
        self.entries
            .iter_mut()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .and_then(|(_, value)| value.take())
            .filter(|v| !v.is_null())
    }

    pub(crate) fn string(&mut self, name: &'static str) -> Result<Option<String>, ExportError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(invalid(format!("{name} must be a string"))),
        }
    }

    pub(crate) fn bool(&mut self, name: &'static str) -> Result<Option<bool>, ExportError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(_) => Err(invalid(format!("{name} must be true or false"))),
        }
    }

    /// A whole number; a string of digits is taken too (some generated
    /// clients send ids as strings).
    pub(crate) fn u64(&mut self, name: &'static str) -> Result<Option<u64>, ExportError> {
        let bad = || invalid(format!("{name} must be a whole number"));
        match self.take(name) {
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
        match self.take(name) {
            None => Ok(None),
            Some(Value::String(text)) => Password::new(text).map(Some),
            Some(_) => Err(invalid(format!("{name} must be a string"))),
        }
    }

    /// The casing the client wrote: camelCase when most of the fields it
    /// gave that the call knows (`known`) start with a lower-case letter,
    /// PascalCase otherwise (and when it gave none). A count, not the
    /// first field, because a JSON object's fields have no order.
    pub(crate) fn casing(&self, known: &[&str]) -> Casing {
        let (mut lower, mut upper) = (0, 0);
        for (key, _) in &self.entries {
            if known.iter().any(|k| k.eq_ignore_ascii_case(key)) {
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
    pub(crate) fn unknown(&self, known: &[&str]) -> Vec<String> {
        self.entries
            .iter()
            .filter(|(key, _)| !known.iter().any(|k| k.eq_ignore_ascii_case(key)))
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

pub(crate) fn invalid(reason: String) -> ExportError {
    ExportError::InvalidRequest { reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_in_any_casing_and_null_is_absent() {
        let mut f = Fields::parse(br#"{"certID": 3, "INCLUDECHAIN": true, "thumbprint": null}"#).unwrap();
        assert_eq!(f.casing(&["CertID", "IncludeChain", "Thumbprint"]), Casing::Camel);
        assert_eq!(f.u64("CertID").unwrap(), Some(3));
        assert_eq!(f.bool("IncludeChain").unwrap(), Some(true));
        assert_eq!(f.string("Thumbprint").unwrap(), None);
    }

    #[test]
    fn type_errors_name_the_field_and_never_the_value() {
        let mut f = Fields::parse(br#"{"Password": 31415926535, "CertID": "x9"}"#).unwrap();
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
            let text = Fields::parse(twice.as_bytes()).err().unwrap().to_string();
            let name = &twice[2..twice[2..].find('"').unwrap() + 2];
            assert!(
                text.contains(&format!("the field {name} is given twice")),
                "{twice}: {text}"
            );
            assert!(!text.contains("100") && !text.contains("\"a\""), "{text}");
        }
        let f = Fields::parse(br#"{"CertID": 1, "Bogus": {"x": 1}}"#).unwrap();
        assert_eq!(f.unknown(&["CertID"]), ["Bogus"]);
        assert!(Fields::parse(b"[1]").is_err());
        let text = Fields::parse(b"{\"a\": \"s3cret").err().unwrap().to_string();
        assert!(!text.contains("s3cret"), "{text}");
    }
}
