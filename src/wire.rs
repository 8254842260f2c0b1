//! The reference API's JSON request (feature `serde`).

use serde::Deserialize;

use crate::error::ExportError;
use crate::formats::{KeyEncryption, PfxProfile};
use crate::key::Password;
use crate::lookup::Lookup;
use crate::request::{ExportRequest, KeyExport};

/// A request in the reference API's field names:
///
/// ```json
/// { "CertID": 3, "Thumbprint": "5f:b7:…", "SerialNumber": "00:8f…", "IssuerDN": "CN=…",
///   "IncludeChain": true, "ChainOrder": "RootFirst", "FileExtension": "pem",
///   "IncludeSubjectHeader": false, "FriendlyName": "web", "MicrosoftTargetCSP": "…",
///   "Password": "…", "UseLegacyEncryption": false, "CollectionId": 5, "ContainerId": 2 }
/// ```
///
/// Every field is optional; unknown fields are refused. The lookups it
/// holds join any others of the request (all must name one certificate),
/// and [`apply`](Self::apply) sets the options it gives.
/// `UseLegacyEncryption` is the reference recovery endpoint's switch for
/// the legacy profile: it selects [`KeyEncryption::LegacyPkcs12TripleDes`]
/// for PEM keys and [`PfxProfile::Legacy`] for PFX.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct ReferenceRequest {
    /// `CertID`.
    #[serde(rename = "CertID")]
    pub cert_id: Option<u64>,
    /// `Thumbprint`.
    pub thumbprint: Option<String>,
    /// `SerialNumber`.
    pub serial_number: Option<String>,
    /// `IssuerDN`.
    #[serde(rename = "IssuerDN")]
    pub issuer_dn: Option<String>,
    /// `IncludeChain`.
    pub include_chain: Option<bool>,
    /// `ChainOrder`: `EndEntityFirst` or `RootFirst`.
    pub chain_order: Option<String>,
    /// `FileExtension`: `cer`, `crt`, `pem`, `p7b`, `pfx`.
    pub file_extension: Option<String>,
    /// `IncludeSubjectHeader`.
    pub include_subject_header: Option<bool>,
    /// `FriendlyName` (PFX).
    pub friendly_name: Option<String>,
    /// `MicrosoftTargetCSP` (PFX).
    #[serde(rename = "MicrosoftTargetCSP")]
    pub microsoft_target_csp: Option<String>,
    /// `Password`, for key exports.
    pub password: Option<Password>,
    /// `UseLegacyEncryption`.
    pub use_legacy_encryption: Option<bool>,
    /// `CollectionId` (a query parameter in the reference API).
    pub collection_id: Option<u64>,
    /// `ContainerId` (a query parameter in the reference API).
    pub container_id: Option<u64>,
}

impl ReferenceRequest {
    /// Parses the JSON text of a request.
    pub fn from_json(json: &[u8]) -> Result<Self, ExportError> {
        serde_json::from_slice(json).map_err(|e| ExportError::InvalidRequest {
            reason: crate::error::shown(&e.to_string()),
        })
    }

    /// The lookups the request gives (possibly none).
    pub fn lookups(&self) -> Result<Vec<Lookup>, ExportError> {
        match Lookup::from_parts(
            self.cert_id,
            self.thumbprint.as_deref(),
            self.serial_number.as_deref(),
            self.issuer_dn.as_deref(),
        ) {
            Err(ExportError::MissingLookup) => Ok(Vec::new()),
            other => other,
        }
    }

    /// Sets on `request` every option this JSON gives but the `Password`
    /// ([`take_password`](Self::take_password)).
    pub fn apply(self, request: &mut ExportRequest) -> Result<(), ExportError> {
        if let Some(v) = self.include_chain {
            request.include_chain = v;
        }
        if let Some(v) = &self.chain_order {
            request.chain_order = v.parse()?;
        }
        if let Some(v) = &self.file_extension {
            request.extension = Some(v.parse()?);
        }
        if let Some(v) = self.include_subject_header {
            request.include_subject_header = v;
        }
        if self.friendly_name.is_some() {
            request.pfx.friendly_name = self.friendly_name;
        }
        if self.microsoft_target_csp.is_some() {
            request.pfx.target_csp = self.microsoft_target_csp;
        }
        if self.collection_id.is_some() {
            request.scope.collection_id = self.collection_id;
        }
        if self.container_id.is_some() {
            request.scope.container_id = self.container_id;
        }
        let legacy = self.use_legacy_encryption;
        if legacy == Some(true) {
            request.pfx.profile = PfxProfile::Legacy;
        }
        if let KeyExport::Encrypted { encryption, .. } = &mut request.private_key {
            match legacy {
                Some(true) => *encryption = KeyEncryption::legacy_pkcs12_triple_des(),
                Some(false) => *encryption = KeyEncryption::default(),
                None => {}
            }
        }
        Ok(())
    }

    /// Takes the `Password` out, for the key export the caller builds.
    pub fn take_password(&mut self) -> Option<Password> {
        self.password.take()
    }
}

impl<'de> Deserialize<'de> for Password {
    /// A JSON string. Any other type is refused without its value: serde's
    /// own "invalid type" message quotes it, and a password sent as a
    /// number (a PIN, say) would end up in the error and in logs.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(PasswordVisitor)
    }
}

struct PasswordVisitor;

impl PasswordVisitor {
    fn refuse<E: serde::de::Error>(&self, what: &'static str) -> Result<Password, E> {
        Err(E::invalid_type(serde::de::Unexpected::Other(what), self))
    }
}

impl serde::de::Visitor<'_> for PasswordVisitor {
    type Value = Password;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Password, E> {
        Password::new(text).map_err(E::custom)
    }

    fn visit_string<E: serde::de::Error>(self, text: String) -> Result<Password, E> {
        Password::new(text).map_err(E::custom)
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Password, E> {
        self.refuse("a boolean")
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Password, E> {
        self.refuse("a number")
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Password, E> {
        self.refuse("a number")
    }

    fn visit_i128<E: serde::de::Error>(self, _: i128) -> Result<Password, E> {
        self.refuse("a number")
    }

    fn visit_u128<E: serde::de::Error>(self, _: u128) -> Result<Password, E> {
        self.refuse("a number")
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Password, E> {
        self.refuse("a number")
    }

    fn visit_bytes<E: serde::de::Error>(self, _: &[u8]) -> Result<Password, E> {
        self.refuse("bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_of_another_json_type_is_refused_without_its_value() {
        // Found by the json_request fuzz target: serde_json's message was
        // "invalid type: integer `12345678901`, expected a string".
        for (json, value) in [
            (r#"{"Password": 12345678901}"#, "12345678901"),
            (r#"{"Password": -12345678901}"#, "12345678901"),
            (r#"{"Password": 123456789012345678901234567890}"#, "123456789"),
            (r#"{"Password": 1234.5678e3}"#, "1234567"),
            (r#"{"Password": true}"#, "true"),
            (r#"{"Password": ["s3cret-pin"]}"#, "s3cret-pin"),
            (r#"{"Password": {"pin": "s3cret-pin"}}"#, "s3cret-pin"),
        ] {
            let error = ReferenceRequest::from_json(json.as_bytes()).unwrap_err();
            let text = error.to_string();
            assert!(matches!(error, ExportError::InvalidRequest { .. }), "{json}: {error:?}");
            assert!(
                !text.contains(value) && !format!("{error:?}").contains(value),
                "{json}: {text}"
            );
            assert!(text.contains("expected a string"), "{json}: {text}");
        }
        let mut request = ReferenceRequest::from_json(br#"{"Password": "12345678901"}"#).unwrap();
        assert_eq!(request.take_password().unwrap().secret_str(), "12345678901");
        assert!(matches!(
            ReferenceRequest::from_json(br#"{"Password": ""}"#),
            Err(ExportError::InvalidRequest { .. })
        ));
    }
}
