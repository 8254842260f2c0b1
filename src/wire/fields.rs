//! Reading a JSON request body's fields as the reference servers do:
//! names matched case-insensitively, `null` as absent, unknown fields kept
//! aside for a warning, and errors that name the field but never quote its
//! value (a value may be a password).

use serde_json::{Map, Value};

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
    /// The fields of `body`, which must be one JSON object.
    pub(crate) fn parse(body: &[u8]) -> Result<Self, ExportError> {
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            let what = match e.classify() {
                serde_json::error::Category::Eof => "it ends early",
                _ => "it is not valid JSON",
            };
            invalid(format!(
                "the request body cannot be read: {what} (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        let Value::Object(map) = value else {
            return Err(invalid("the request body must be a JSON object".into()));
        };
        Ok(Self::from_map(map))
    }

    fn from_map(map: Map<String, Value>) -> Self {
        Self {
            entries: map.into_iter().map(|(k, v)| (k, Some(v))).collect(),
        }
    }

    /// Takes the field `name` (any casing). `null` counts as absent; the
    /// same field given twice in two casings is an error.
    pub(crate) fn take(&mut self, name: &'static str) -> Result<Option<Value>, ExportError> {
        let mut found = None;
        for (key, value) in &mut self.entries {
            if key.eq_ignore_ascii_case(name) {
                if found.is_some() {
                    return Err(invalid(format!("{name} is given twice")));
                }
                found = Some(value.take().unwrap_or(Value::Null));
            }
        }
        Ok(found.filter(|v| !v.is_null()))
    }

    pub(crate) fn string(&mut self, name: &'static str) -> Result<Option<String>, ExportError> {
        match self.take(name)? {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(invalid(format!("{name} must be a string"))),
        }
    }

    pub(crate) fn bool(&mut self, name: &'static str) -> Result<Option<bool>, ExportError> {
        match self.take(name)? {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(_) => Err(invalid(format!("{name} must be true or false"))),
        }
    }

    /// A whole number; a string of digits is taken too (some generated
    /// clients send ids as strings).
    pub(crate) fn u64(&mut self, name: &'static str) -> Result<Option<u64>, ExportError> {
        let bad = || invalid(format!("{name} must be a whole number"));
        match self.take(name)? {
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
        match self.take(name)? {
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
        let mut f = Fields::parse(br#"{"CertID": 1, "certId": 2, "Bogus": 1}"#).unwrap();
        assert!(f.u64("CertID").is_err());
        assert_eq!(f.unknown(&["CertID"]), ["Bogus"]);
        assert!(Fields::parse(b"[1]").is_err());
        let text = Fields::parse(b"{\"a\": \"s3cret").err().unwrap().to_string();
        assert!(!text.contains("s3cret"), "{text}");
    }
}
