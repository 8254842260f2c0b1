//! AppViewX's `POST /avxapi/certificate/privatekey/download` (seed 003):
//! `{"uuId", "password"}` in, the seed's envelope out, with its status codes.

use serde::Serialize;

use super::fields::{Field, Fields, Kind};
use crate::access::ScopeRule;
use crate::artifact::ExportArtifact;
use crate::error::ExportError;
use crate::formats::KeyEncryption;
use crate::ids::Uuid;
use crate::key::Password;
use crate::lookup::Lookup;
use crate::request::{CertificateFormat, ExportRequest, KeyExport, KeyPlacement};

/// The fields of the call. `zip` is this crate's: it asks for the answer
/// as a ZIP (`zipFileName` and `certContents`, see [`AvxKeyRequest`]).
pub(super) const FIELDS: &[Field] = &[
    Field::new(
        "uuId",
        Kind::Text,
        "The certificate's uuid: 1-64 of A-Z, a-z, 0-9 and '-'.",
    ),
    Field::new(
        "password",
        Kind::Secret,
        "The password the key is encrypted under; required, never empty.",
    ),
    Field::new(
        "zip",
        Kind::Flag,
        "certexport's extension: answer with a ZIP of certificate, chain and key in certContents.",
    ),
];

/// An AppViewX private-key download:
///
/// ```json
/// { "uuId": "60b8d6c4e5c7a920d4f4f1f4", "password": "testPassword123" }
/// ```
///
/// The key comes back as a password-encrypted PKCS#8 PEM in
/// `privateKeyPemEncoded`, encrypted with the scheme the server is set to
/// (PBES2 AES-256-CBC by default; the seed's sample shows the legacy 3DES
/// scheme, which a server may choose for old consumers). With `"zip":
/// true` (an extension of this crate; the seed names `zipFileName` without
/// saying how it is asked for), the answer also carries a ZIP of the
/// certificate, its chain and the key in `certContents` (base64), named by
/// `zipFileName`.
///
/// Who may: the call names no scope; its permission is "within the
/// specified certificate's category"
/// ([`ScopeRule::AnyCollectionOfTheCertificate`]): the system-wide read
/// and private-key claims, or the read and private-key claims of a
/// collection the certificate belongs to; key policies then apply.
///
/// ```
/// use certexport::wire::AvxKeyRequest;
/// let request = AvxKeyRequest::from_json(br#"{"uuId": "60b8d6c4e5c7a920d4f4f1f4", "password": "testPassword123"}"#)?;
/// assert_eq!(request.uuid().as_str(), "60b8d6c4e5c7a920d4f4f1f4");
/// # Ok::<(), certexport::ExportError>(())
/// ```
#[derive(Debug)]
pub struct AvxKeyRequest {
    uuid: Uuid,
    password: Password,
    zip: bool,
    unknown: Vec<String>,
}

impl AvxKeyRequest {
    /// Reads the body. A malformed `uuId` is [`ExportError::InvalidUuid`],
    /// a missing one [`ExportError::InvalidRequest`],
    /// a missing or empty `password` [`ExportError::PasswordRequired`]:
    /// [`avx_status`] turns them into the seed's codes.
    pub fn from_json(body: &[u8]) -> Result<Self, ExportError> {
        let mut fields = Fields::parse(body, FIELDS)?;
        let unknown = fields.unknown();
        let uuid = fields
            .string("uuId")?
            .ok_or_else(|| ExportError::InvalidRequest {
                reason: "uuId is missing".into(),
            })?
            .parse::<Uuid>()?;
        let password = fields.password("password")?.ok_or(ExportError::PasswordRequired)?;
        let zip = fields.bool("zip")?.unwrap_or(false);
        Ok(Self {
            uuid,
            password,
            zip,
            unknown,
        })
    }

    /// The certificate's `uuId`.
    pub fn uuid(&self) -> &Uuid {
        &self.uuid
    }

    /// Whether a ZIP was asked for.
    pub fn zip(&self) -> bool {
        self.zip
    }

    /// Fields the call does not know, which were ignored (for a warning).
    pub fn unknown_fields(&self) -> &[String] {
        &self.unknown
    }

    /// The export this call asks for: the key alone as encrypted PKCS#8
    /// PEM under `encryption` (or, with `zip`, the certificate, chain and
    /// key as a ZIP), by the category rule of the call.
    pub fn into_export_request(self, encryption: KeyEncryption) -> ExportRequest {
        let mut request = ExportRequest::new(Lookup::Uuid(self.uuid));
        let placement = if self.zip {
            request.format = CertificateFormat::Zip;
            request.include_chain = true;
            KeyPlacement::WithCertificate
        } else {
            KeyPlacement::KeyOnly
        };
        request.private_key = KeyExport::Encrypted {
            placement,
            password: self.password,
            encryption,
        };
        request.scope_rule = ScopeRule::AnyCollectionOfTheCertificate;
        request
    }
}

/// What the call answers for an error: the HTTP status, the seed's
/// `appStatusCode` and message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AvxStatus {
    /// The HTTP status.
    pub http: u16,
    /// `appStatusCode`.
    pub app_status_code: &'static str,
    /// `message`.
    pub message: String,
}

/// The seed's status for `error`, the one place they are decided:
///
/// | error | HTTP | appStatusCode | message |
/// | --- | --- | --- | --- |
/// | no or empty password | 417 | `CERT-GEN-0015` | Field cannot be null/empty. |
/// | key policy restricts the key | 417 | `CERT-KEY-0006` | Private key access is restricted in \<policy\> policy. |
/// | no, malformed or unusable field (`uuId`, body, password) | 400 | `MANDATORY_FIELD_MISSING` | Mandatory field is missing or invalid. |
/// | the store cannot be reached for now | 503 | `CERT-GEN-0027` | Certificate private key download failed. |
/// | anything else — an unknown `uuId` and a denial alike | 500 | `CERT-GEN-0027` | Certificate private key download failed. |
///
/// An unknown `uuId` and a certificate the caller may not have give the
/// same answer, so a caller never learns whether a certificate exists.
pub fn avx_status(error: &ExportError) -> AvxStatus {
    let (http, app_status_code, message) = match error {
        ExportError::PasswordRequired => (417, "CERT-GEN-0015", "Field cannot be null/empty.".to_owned()),
        ExportError::KeyExportRestricted { policy } => (
            417,
            "CERT-KEY-0006",
            format!("Private key access is restricted in {policy} policy."),
        ),
        ExportError::InvalidUuid { .. } | ExportError::InvalidRequest { .. } | ExportError::InvalidPassword { .. } => (
            400,
            "MANDATORY_FIELD_MISSING",
            "Mandatory field is missing or invalid.".to_owned(),
        ),
        ExportError::StoreUnavailable(_) => (
            503,
            "CERT-GEN-0027",
            "Certificate private key download failed.".to_owned(),
        ),
        _ => (
            500,
            "CERT-GEN-0027",
            "Certificate private key download failed.".to_owned(),
        ),
    };
    AvxStatus {
        http,
        app_status_code,
        message,
    }
}

/// The seed's envelope.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Envelope<'a> {
    response: Response<'a>,
    message: &'a str,
    app_status_code: Option<&'a str>,
    tags: serde_json::Map<String, serde_json::Value>,
    headers: Option<()>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Response<'a> {
    status: &'a str,
    zip_file_name: Option<&'a str>,
    cert_contents: Option<&'a str>,
    private_key_pem_encoded: Option<&'a str>,
    success: bool,
    log: bool,
}

/// The success envelope for an exported key (`artifact` is the key PEM,
/// or the ZIP): HTTP 200 and the seed's body, `privateKeyPemEncoded`
/// holding the encrypted key.
pub fn avx_success(artifact: &ExportArtifact) -> (u16, zeroize::Zeroizing<String>) {
    let zip = artifact.format() == CertificateFormat::Zip;
    let text = String::from_utf8_lossy(artifact.bytes());
    let contents = zip.then(|| artifact.to_base64());
    let key_pem = if zip { None } else { Some(text.as_ref()) };
    let envelope = Envelope {
        response: Response {
            status: "Success",
            zip_file_name: zip.then(|| artifact.file_name()),
            cert_contents: contents.as_ref().map(|c| c.as_str()),
            private_key_pem_encoded: key_pem,
            success: true,
            log: false,
        },
        message: "private key downloaded successfully",
        app_status_code: None,
        tags: serde_json::Map::new(),
        headers: None,
    };
    (
        200,
        zeroize::Zeroizing::new(serde_json::to_string(&envelope).unwrap_or_default()),
    )
}

/// The failure envelope for `error`: its [`avx_status`], `success`
/// false, the message and code, nothing else.
pub fn avx_failure(error: &ExportError) -> (u16, String) {
    let status = avx_status(error);
    let envelope = Envelope {
        response: Response {
            status: "Failure",
            zip_file_name: None,
            cert_contents: None,
            private_key_pem_encoded: None,
            success: false,
            log: false,
        },
        message: &status.message,
        app_status_code: Some(status.app_status_code),
        tags: serde_json::Map::new(),
        headers: None,
    };
    (status.http, serde_json::to_string(&envelope).unwrap_or_default())
}
