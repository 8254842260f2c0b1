//! OpenAPI 3.1 schemas of the wire shapes (feature `openapi`), for a
//! service's API document (`certexport serve` publishes one at
//! `/openapi.json`).
//!
//! The request schemas are made from the same field tables the readers
//! take their fields by (a field read but not in its call's table, or read
//! as another kind, fails every test that reads it), so the document
//! cannot name a field the server does not read, nor leave out one it
//! does. The answers are written by functions
//! ([`download_response`](super::download_response), …), so their shapes
//! are described by the marker types of this module; `certexport`'s own
//! tests compare every one with an answer of the real server.
//!
//! OpenAPI has no case-insensitive field names: the schemas name fields in
//! the reference's PascalCase (`CertID`), and say that any casing is read
//! and that the answer follows the request's casing.

use std::borrow::Cow;

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{RefOr, SchemaFormat};
use utoipa::{PartialSchema, ToSchema};

use super::fields::{Field, Kind};
use super::{AvxKeyRequest, DownloadRequest, RecoverRequest, appviewx, keyfactor};

const ANY_CASING: &str = "Field names are matched case-insensitively (`CertID`, `certID`); `null` is an absent \
                          field; unknown fields are ignored. The answer uses the casing of the request's field \
                          names (`Content` or `content`).";

impl PartialSchema for DownloadRequest {
    fn schema() -> RefOr<Schema> {
        object_of(
            keyfactor::DOWNLOAD_FIELDS,
            "A Keyfactor Download: one certificate (and its chain) without its key. Give at least one lookup \
             (CertID, Thumbprint, or SerialNumber with IssuerDN); lookups given together must name the same \
             certificate.",
            &[],
        )
    }
}

impl ToSchema for DownloadRequest {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("DownloadRequest")
    }
}

impl PartialSchema for RecoverRequest {
    fn schema() -> RefOr<Schema> {
        object_of(
            keyfactor::RECOVER_FIELDS,
            "A Keyfactor Recover: the certificate (and chain) with its private key, encrypted under Password.",
            &["Password"],
        )
    }
}

impl ToSchema for RecoverRequest {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("RecoverRequest")
    }
}

impl PartialSchema for AvxKeyRequest {
    fn schema() -> RefOr<Schema> {
        object_of(
            appviewx::FIELDS,
            "An AppViewX private-key download: the key of the certificate with this uuid, encrypted under \
             password.",
            &["uuId", "password"],
        )
    }
}

impl ToSchema for AvxKeyRequest {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("AvxKeyRequest")
    }
}

/// The answer of a Download, `{"Content": <base64 of the file>}`
/// ([`download_response`](super::download_response)); the file name is in
/// the `X-CertificateFile` header.
#[derive(Debug)]
#[non_exhaustive]
pub struct DownloadAnswer;

impl PartialSchema for DownloadAnswer {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .description(Some(
                "The file, base64. `content` for a request written in camelCase; the file name is in the \
                 X-CertificateFile header.",
            ))
            .property("Content", base64("The file (PEM text, DER, or P7B), base64."))
            .required("Content")
            .into()
    }
}

impl ToSchema for DownloadAnswer {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("DownloadAnswer")
    }
}

/// The answer of a Recover, `{"PFX": <base64>, "FileName": …}`
/// ([`recover_response`](super::recover_response)).
#[derive(Debug)]
#[non_exhaustive]
pub struct RecoverAnswer;

impl PartialSchema for RecoverAnswer {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .description(Some(
                "The file with the key, base64, whatever its format (PFX, PEM or ZIP), and its name. `pfx` and \
                 `fileName` for a request written in camelCase.",
            ))
            .property("PFX", base64("The file, base64."))
            .property(
                "FileName",
                text("The file's name (also in the X-CertificateFile header)."),
            )
            .required("PFX")
            .required("FileName")
            .into()
    }
}

impl ToSchema for RecoverAnswer {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("RecoverAnswer")
    }
}

/// A Keyfactor call's error, `{"ErrorCode": …, "Message": …}`
/// ([`keyfactor_error`](super::keyfactor_error)).
#[derive(Debug)]
#[non_exhaustive]
pub struct KeyfactorErrorAnswer;

impl PartialSchema for KeyfactorErrorAnswer {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .description(Some(
                "Why the call failed. `errorCode` and `message` for a request written in camelCase.",
            ))
            .property(
                "ErrorCode",
                ObjectBuilder::new().schema_type(Type::String).description(Some(format!(
                    "The kind of error, stable for scripts: {}; a server adds its own (certexport serve: \
                     Unauthorized, TooManyFailures, BodyTooLarge, Timeout).",
                    KEYFACTOR_CODES.join(", ")
                ))),
            )
            .property("Message", text("A sentence for people."))
            .required("ErrorCode")
            .required("Message")
            .into()
    }
}

impl ToSchema for KeyfactorErrorAnswer {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("KeyfactorErrorAnswer")
    }
}

/// Every `ErrorCode` of [`keyfactor_status`](super::keyfactor_status).
pub const KEYFACTOR_CODES: &[&str] = &[
    "InvalidRequest",
    "IncompatibleOptions",
    "PasswordRequired",
    "CspNotAllowed",
    "AccessDenied",
    "KeyExportRestricted",
    "NotFound",
    "NoPrivateKey",
    "Ambiguous",
    "IncompleteChain",
    "InternalError",
];

/// One certificate of a search's answer
/// ([`search_json`](super::search_json)).
#[derive(Debug)]
#[non_exhaustive]
pub struct CertificateAnswer;

impl PartialSchema for CertificateAnswer {
    fn schema() -> RefOr<Schema> {
        certificate_object("A certificate. camelCase names (`id`, `issuedCN`) for a camelCase request.").into()
    }
}

impl ToSchema for CertificateAnswer {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("CertificateAnswer")
    }
}

/// One certificate's detail ([`certificate_json`](super::certificate_json)):
/// a search's fields and its chain.
#[derive(Debug)]
#[non_exhaustive]
pub struct CertificateDetailAnswer;

impl PartialSchema for CertificateDetailAnswer {
    fn schema() -> RefOr<Schema> {
        let link = ObjectBuilder::new()
            .property("Id", integer("The chain certificate's id."))
            .property("Thumbprint", text("Its SHA-1, upper-case hex."))
            .property("IssuedDN", text("Its subject, RFC 4514."));
        certificate_object("A certificate with its chain. camelCase names for a camelCase request.")
            .property("Thumbprint256", text("SHA-256 of the DER, upper-case hex."))
            .property(
                "PrivateKeyExportable",
                ObjectBuilder::new()
                    .schema_type(Type::Boolean)
                    .description(Some("Whether this caller may export the key.")),
            )
            .property(
                "Chain",
                utoipa::openapi::schema::ArrayBuilder::new()
                    .items(link)
                    .description(Some("The chain an export would hold, end-entity first.")),
            )
            .property("ChainError", text("Why the chain cannot be built, when it cannot."))
            .into()
    }
}

impl ToSchema for CertificateDetailAnswer {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("CertificateDetailAnswer")
    }
}

fn certificate_object(about: &str) -> ObjectBuilder {
    let san = ObjectBuilder::new()
        .property("Value", text("The name."))
        .property("Type", integer("The reference's name type code."));
    let mut object = ObjectBuilder::new()
        .description(Some(about))
        .property("Id", integer("The certificate's id."))
        .property("Thumbprint", text("SHA-1 of the DER, upper-case hex."))
        .property("SerialNumber", text("Upper-case hex."))
        .property("IssuedDN", text("The subject, RFC 4514."))
        .property("IssuedCN", nullable_text("The subject's CN."))
        .property("IssuerDN", text("The issuer, RFC 4514."))
        .property("NotBefore", text("ISO 8601, UTC."))
        .property("NotAfter", text("ISO 8601, UTC."))
        .property("KeyType", nullable_text("RSA, ECC, Ed25519, ..."))
        .property(
            "KeySizeInBits",
            ObjectBuilder::new().schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                Type::Integer,
                Type::Null,
            ])),
        )
        .property("SigningAlgorithm", text("The signature algorithm's name."))
        .property(
            "SubjectAltNameElements",
            utoipa::openapi::schema::ArrayBuilder::new().items(san),
        )
        .property("HasPrivateKey", ObjectBuilder::new().schema_type(Type::Boolean))
        .property("Uuid", nullable_text("The certificate's uuid, if it has one."))
        .property(
            "Collections",
            utoipa::openapi::schema::ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::Integer)),
        );
    for name in [
        "Id",
        "Thumbprint",
        "SerialNumber",
        "IssuedDN",
        "IssuerDN",
        "NotBefore",
        "NotAfter",
        "HasPrivateKey",
    ] {
        object = object.required(name);
    }
    object
}

fn integer(about: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Int64)))
        .description(Some(about))
}

/// The AppViewX envelope, success or failure
/// ([`avx_success`](super::avx_success), [`avx_failure`](super::avx_failure)).
#[derive(Debug)]
#[non_exhaustive]
pub struct AvxAnswer;

impl PartialSchema for AvxAnswer {
    fn schema() -> RefOr<Schema> {
        let response = ObjectBuilder::new()
            .property(
                "status",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["Success", "Failure"])),
            )
            .property("zipFileName", nullable_text("The ZIP's file name (with `zip`)."))
            .property("certContents", nullable_text("The ZIP, base64 (with `zip`)."))
            .property(
                "privateKeyPemEncoded",
                nullable_text("The key as encrypted PKCS#8 PEM (BEGIN ENCRYPTED PRIVATE KEY)."),
            )
            .property("success", ObjectBuilder::new().schema_type(Type::Boolean))
            .property("log", ObjectBuilder::new().schema_type(Type::Boolean))
            .required("status")
            .required("success");
        ObjectBuilder::new()
            .description(Some("The seed's envelope."))
            .property("response", response)
            .property("message", text("A sentence for people."))
            .property(
                "appStatusCode",
                nullable_text("On failure: CERT-GEN-0015, CERT-KEY-0006, MANDATORY_FIELD_MISSING or CERT-GEN-0027."),
            )
            .property(
                "tags",
                ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .description(Some("Always empty.")),
            )
            .property(
                "headers",
                ObjectBuilder::new()
                    .schema_type(Type::Null)
                    .description(Some("Always null.")),
            )
            .required("response")
            .required("message")
            .into()
    }
}

impl ToSchema for AvxAnswer {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("AvxAnswer")
    }
}

/// An object schema of `fields`, `required` among them.
fn object_of(fields: &[Field], about: &str, required: &[&str]) -> RefOr<Schema> {
    let mut object = ObjectBuilder::new().description(Some(format!("{about} {ANY_CASING}")));
    for field in fields {
        let schema = match field.kind {
            Kind::Text => ObjectBuilder::new().schema_type(Type::String),
            Kind::Secret => ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Password)))
                .min_length(Some(1)),
            Kind::Choice(values) => ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(values.iter().copied())),
            Kind::Flag => ObjectBuilder::new().schema_type(Type::Boolean),
            Kind::WholeNumber => ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Int64)))
                .minimum(Some(0)),
        };
        object = object.property(field.name, schema.description(Some(field.about)));
    }
    for name in required {
        object = object.required(*name);
    }
    object.into()
}

fn text(about: &str) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String).description(Some(about))
}

fn nullable_text(about: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::String,
            Type::Null,
        ]))
        .description(Some(about))
}

fn base64(about: &str) -> ObjectBuilder {
    text(about).content_encoding("base64")
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn properties(schema: RefOr<Schema>) -> Value {
        serde_json::to_value(schema).unwrap()["properties"].clone()
    }

    /// Every field of a call's table, with a value of the kind the schema
    /// states, gets past the reader's type checks; one of another kind is
    /// refused naming the field. So the schema's types are the reader's.
    /// `base` holds valid values of the fields read before the one probed.
    fn schema_types_are_what_the_reader_takes(schema: RefOr<Schema>, base: Value, read: fn(&[u8]) -> Option<String>) {
        let props = properties(schema);
        let props = props.as_object().unwrap();
        assert!(!props.is_empty());
        for (name, schema) in props {
            let (good, bad) = match schema["type"].as_str().unwrap() {
                "string" => (schema["enum"].get(0).cloned().unwrap_or(json!("x1")), json!(7)),
                "boolean" => (json!(true), json!("yes")),
                "integer" => (json!(7), json!("seven")),
                other => panic!("{name}: type {other}"),
            };
            let body = |value: Value| {
                let mut body = base.clone();
                body[name] = value;
                body.to_string()
            };
            let refused = read(body(bad).as_bytes()).unwrap_or_default();
            assert!(refused.contains(name.as_str()), "{name}: a wrong type gave {refused:?}");
            let taken = read(body(good).as_bytes()).unwrap_or_default();
            assert!(!taken.contains(&format!("{name} must")), "{name}: {taken}");
        }
    }

    fn error_of<T>(result: Result<T, crate::ExportError>) -> Option<String> {
        result.err().map(|e| e.to_string())
    }

    #[test]
    fn request_schemas_state_the_types_the_readers_take() {
        schema_types_are_what_the_reader_takes(DownloadRequest::schema(), json!({}), |b| {
            error_of(DownloadRequest::from_json(b))
        });
        schema_types_are_what_the_reader_takes(RecoverRequest::schema(), json!({}), |b| {
            error_of(RecoverRequest::from_json(b))
        });
        schema_types_are_what_the_reader_takes(AvxKeyRequest::schema(), json!({"uuId": "a-1", "password": "p"}), |b| {
            error_of(AvxKeyRequest::from_json(b))
        });
    }

    #[test]
    fn every_field_a_request_reads_is_in_its_schema() {
        for (schema, table) in [
            (DownloadRequest::schema(), keyfactor::DOWNLOAD_FIELDS),
            (RecoverRequest::schema(), keyfactor::RECOVER_FIELDS),
            (AvxKeyRequest::schema(), appviewx::FIELDS),
        ] {
            let props = properties(schema);
            let mut names: Vec<&str> = props.as_object().unwrap().keys().map(String::as_str).collect();
            let mut want: Vec<&str> = table.iter().map(|f| f.name).collect();
            names.sort_unstable();
            want.sort_unstable();
            assert_eq!(names, want);
        }
        // A body of every listed field leaves none unknown: the table is
        // what the reader knows.
        let all: serde_json::Map<String, Value> = keyfactor::RECOVER_FIELDS
            .iter()
            .map(|f| (f.name.to_owned(), Value::Null))
            .collect();
        let body = Value::Object(all).to_string();
        assert!(
            RecoverRequest::from_json(body.as_bytes())
                .unwrap()
                .unknown_fields()
                .is_empty()
        );
    }

    #[test]
    fn every_keyfactor_status_code_is_listed() {
        use crate::ExportError as E;
        let errors = [
            E::MissingLookup,
            E::PasswordRequired,
            E::AccessDenied,
            E::Random,
            E::CspNotAllowed { csp: "x".into() },
            E::NotFound { lookup: "x".into() },
        ];
        for error in errors {
            let code = super::super::keyfactor_code(&error).1;
            assert!(KEYFACTOR_CODES.contains(&code), "{code}");
        }
    }
}
