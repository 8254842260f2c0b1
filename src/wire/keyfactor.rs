//! Keyfactor Command's `POST /Certificates/Download` and
//! `POST /Certificates/Recover` (seed 000), as both generations of
//! generated clients send them.

use zeroize::Zeroizing;

use super::Casing;
use super::fields::Fields;
use crate::access::Scope;
use crate::artifact::ExportArtifact;
use crate::error::ExportError;
use crate::formats::{KeyEncryption, PfxProfile};
use crate::key::Password;
use crate::lookup::Lookup;
use crate::request::{CertificateFormat, ChainOrder, ExportRequest, FileExtension, KeyExport, KeyPlacement};

/// The body fields of a Download, in the reference's casing.
const DOWNLOAD_FIELDS: &[&str] = &[
    "CertID",
    "Thumbprint",
    "SerialNumber",
    "IssuerDN",
    "IncludeChain",
    "ChainOrder",
    "FileExtension",
    "IncludeSubjectHeader",
    "MicrosoftTargetCSP",
    "CollectionId",
    "ContainerId",
];

/// The body fields of a Recover.
const RECOVER_FIELDS: &[&str] = &[
    "CertID",
    "Thumbprint",
    "SerialNumber",
    "IssuerDN",
    "Password",
    "IncludeChain",
    "ChainOrder",
    "UseLegacyEncryption",
    "FileExtension",
    "IncludeSubjectHeader",
    "MicrosoftTargetCSP",
    "FriendlyName",
    "CollectionId",
    "ContainerId",
];

/// What both calls share.
#[derive(Debug)]
struct Common {
    lookups: Vec<Lookup>,
    include_chain: Option<bool>,
    chain_order: Option<ChainOrder>,
    file_extension: Option<FileExtension>,
    include_subject_header: Option<bool>,
    microsoft_target_csp: Option<String>,
    scope: Scope,
}

impl Common {
    fn take(fields: &mut Fields) -> Result<Self, ExportError> {
        let cert_id = fields.u64("CertID")?;
        let thumbprint = fields.string("Thumbprint")?;
        let serial = fields.string("SerialNumber")?;
        let issuer = fields.string("IssuerDN")?;
        let lookups = match Lookup::from_parts(cert_id, thumbprint.as_deref(), serial.as_deref(), issuer.as_deref()) {
            Err(ExportError::MissingLookup) => Vec::new(),
            other => other?,
        };
        Ok(Self {
            lookups,
            include_chain: fields.bool("IncludeChain")?,
            chain_order: fields.string("ChainOrder")?.map(|s| s.parse()).transpose()?,
            file_extension: fields.string("FileExtension")?.map(|s| s.parse()).transpose()?,
            include_subject_header: fields.bool("IncludeSubjectHeader")?,
            microsoft_target_csp: fields.string("MicrosoftTargetCSP")?,
            scope: query_scope(fields.u64("CollectionId")?, fields.u64("ContainerId")?),
        })
    }

    /// The request for these fields, in `format`, checked at `scope`
    /// (the query's, which wins over the body's).
    fn request(&self, format: CertificateFormat, scope: Scope) -> Result<ExportRequest, ExportError> {
        let mut request = ExportRequest::from_lookups(self.lookups.clone())?;
        request.format = format;
        self.apply_to(&mut request);
        request.scope = Scope {
            collection_id: scope.collection_id.or(self.scope.collection_id),
            container_id: scope.container_id.or(self.scope.container_id),
        };
        Ok(request)
    }

    /// Sets on `request` the options the body gives (not its lookups).
    fn apply_to(&self, request: &mut ExportRequest) {
        if let Some(v) = self.include_chain {
            request.include_chain = v;
        }
        if let Some(v) = self.chain_order {
            request.chain_order = v;
        }
        if self.file_extension.is_some() {
            request.extension = self.file_extension;
        }
        if let Some(v) = self.include_subject_header {
            request.include_subject_header = v;
        }
        if self.microsoft_target_csp.is_some() {
            request.pfx.target_csp.clone_from(&self.microsoft_target_csp);
        }
        if let Some(c) = self.scope.collection_id {
            request.scope.collection_id = Some(c);
        }
        if let Some(k) = self.scope.container_id {
            request.scope.container_id = Some(k);
        }
    }
}

/// A `POST /Certificates/Download` body:
///
/// ```json
/// { "CertID": 3, "Thumbprint": "5f:b7:…", "SerialNumber": "00:8f…", "IssuerDN": "CN=…",
///   "IncludeChain": true, "ChainOrder": "RootFirst", "FileExtension": "pem",
///   "IncludeSubjectHeader": false, "MicrosoftTargetCSP": "…" }
/// ```
///
/// Field names in any casing (`CertID`, `certID`, `certId`); `null` is
/// absent; unknown fields are ignored and listed in
/// [`unknown_fields`](Self::unknown_fields). The format comes from the
/// `x-certificateformat` header ([`download_format`]) and the scope from
/// the query ([`query_scope`]); `CollectionId`/`ContainerId` in the body
/// are taken too, for the command line, and the query wins.
///
/// ```
/// use certexport::wire::{Casing, DownloadRequest, download_format, query_scope};
/// let request = DownloadRequest::from_json(br#"{"certID": 3, "includeChain": true, "bogus": 1}"#)?;
/// assert_eq!(request.casing(), Casing::Camel);
/// assert_eq!(request.unknown_fields(), ["bogus"]);
/// let export = request.to_export_request(download_format(Some("p7b"))?, query_scope(Some(0), None))?;
/// assert!(export.include_chain && export.scope.collection_id.is_none());
/// # Ok::<(), certexport::ExportError>(())
/// ```
#[derive(Debug)]
pub struct DownloadRequest {
    common: Common,
    casing: Casing,
    unknown: Vec<String>,
}

impl DownloadRequest {
    /// Reads a Download body.
    pub fn from_json(body: &[u8]) -> Result<Self, ExportError> {
        let mut fields = Fields::parse(body)?;
        let casing = fields.casing(DOWNLOAD_FIELDS);
        let unknown = fields.unknown(DOWNLOAD_FIELDS);
        Ok(Self {
            common: Common::take(&mut fields)?,
            casing,
            unknown,
        })
    }

    /// The casing of the answer: that of the request's field names.
    pub fn casing(&self) -> Casing {
        self.casing
    }

    /// Fields the call does not know, which were ignored (for a warning).
    pub fn unknown_fields(&self) -> &[String] {
        &self.unknown
    }

    /// The lookups the body gives (possibly none).
    pub fn lookups(&self) -> &[Lookup] {
        &self.common.lookups
    }

    /// The export this call asks for, in `format` (from the
    /// `x-certificateformat` header), checked at `scope` (from the query).
    pub fn to_export_request(&self, format: CertificateFormat, scope: Scope) -> Result<ExportRequest, ExportError> {
        self.common.request(format, scope)
    }

    /// Sets on `request` the options this body gives (not its lookups:
    /// [`lookups`](Self::lookups)) — for the command line, whose flags
    /// give the rest.
    pub fn apply_to(&self, request: &mut ExportRequest) {
        self.common.apply_to(request);
    }
}

/// A `POST /Certificates/Recover` body: the certificate with its key.
///
/// ```json
/// { "CertID": 3, "Password": "…", "IncludeChain": true, "ChainOrder": "EndEntityFirst",
///   "UseLegacyEncryption": false }
/// ```
///
/// Read as [`DownloadRequest`] is. `Password` is required (an empty one is
/// [`ExportError::PasswordRequired`]); `UseLegacyEncryption` selects the
/// legacy PFX profile, or the legacy key scheme for PEM and ZIP. The format
/// comes from the `x-certificateformat` header ([`recover_format`]).
#[derive(Debug)]
pub struct RecoverRequest {
    common: Common,
    password: Option<Password>,
    use_legacy_encryption: bool,
    friendly_name: Option<String>,
    casing: Casing,
    unknown: Vec<String>,
}

impl RecoverRequest {
    /// Reads a Recover body.
    pub fn from_json(body: &[u8]) -> Result<Self, ExportError> {
        let mut fields = Fields::parse(body)?;
        let casing = fields.casing(RECOVER_FIELDS);
        let unknown = fields.unknown(RECOVER_FIELDS);
        let password = fields.password("Password")?;
        Ok(Self {
            common: Common::take(&mut fields)?,
            password,
            use_legacy_encryption: fields.bool("UseLegacyEncryption")?.unwrap_or(false),
            friendly_name: fields.string("FriendlyName")?,
            casing,
            unknown,
        })
    }

    /// The casing of the answer: that of the request's field names.
    pub fn casing(&self) -> Casing {
        self.casing
    }

    /// Fields the call does not know, which were ignored (for a warning).
    pub fn unknown_fields(&self) -> &[String] {
        &self.unknown
    }

    /// The lookups the body gives (possibly none).
    pub fn lookups(&self) -> &[Lookup] {
        &self.common.lookups
    }

    /// Whether `UseLegacyEncryption` was set.
    pub fn use_legacy_encryption(&self) -> bool {
        self.use_legacy_encryption
    }

    /// Takes the password out (for a caller that builds the key export
    /// itself, such as the command line's `--key-only`).
    pub fn take_password(&mut self) -> Option<Password> {
        self.password.take()
    }

    /// The export this call asks for: the certificate (and chain) with its
    /// key, encrypted under the body's password, as `format` (PFX, PEM or
    /// ZIP, from the `x-certificateformat` header), checked at `scope`.
    pub fn into_export_request(
        mut self,
        format: CertificateFormat,
        scope: Scope,
    ) -> Result<ExportRequest, ExportError> {
        let password = self.password.take().ok_or(ExportError::PasswordRequired)?;
        let mut request = self.common.request(format, scope)?;
        let encryption = if self.use_legacy_encryption {
            request.pfx.profile = PfxProfile::Legacy;
            KeyEncryption::legacy_pkcs12_triple_des()
        } else {
            KeyEncryption::default()
        };
        request.private_key = KeyExport::Encrypted {
            placement: KeyPlacement::WithCertificate,
            password,
            encryption,
        };
        request.pfx.friendly_name = self.friendly_name;
        Ok(request)
    }

    /// Sets on `request` the options of this body (chain, order, extension,
    /// subject header, CSP, friendly name, and the legacy switch for the
    /// key scheme or PFX profile), not its lookups
    /// ([`lookups`](Self::lookups)) nor its password — for the command
    /// line, whose flags give the rest.
    pub fn apply_to(&self, request: &mut ExportRequest) {
        self.common.apply_to(request);
        if self.friendly_name.is_some() {
            request.pfx.friendly_name.clone_from(&self.friendly_name);
        }
        if self.use_legacy_encryption {
            request.pfx.profile = PfxProfile::Legacy;
            if let KeyExport::Encrypted { encryption, .. } = &mut request.private_key {
                *encryption = KeyEncryption::legacy_pkcs12_triple_des();
            }
        }
    }

    /// Uses `password` when the body gives none.
    pub fn or_password(mut self, password: Password) -> Self {
        self.password.get_or_insert(password);
        self
    }

    /// Whether the body gives a password.
    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }
}

/// The format of a Download from its `x-certificateformat` header: CER,
/// CRT, DER, PEM or P7B in any case; absent, PEM. PFX (and ZIP) carry a
/// key and are Recover's.
pub fn download_format(header: Option<&str>) -> Result<CertificateFormat, ExportError> {
    let Some(value) = header.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(CertificateFormat::Pem);
    };
    match value.parse()? {
        format @ (CertificateFormat::Pfx | CertificateFormat::Zip) => Err(ExportError::IncompatibleOptions {
            first: format!("format {format}"),
            second: "the Download call (a key is exported by Recover)".into(),
        }),
        format => Ok(format),
    }
}

/// The format of a Recover from its `x-certificateformat` header: PFX, PEM
/// or ZIP in any case; absent, PFX.
pub fn recover_format(header: Option<&str>) -> Result<CertificateFormat, ExportError> {
    let Some(value) = header.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(CertificateFormat::Pfx);
    };
    match value.parse()? {
        format @ (CertificateFormat::Pfx | CertificateFormat::Pem | CertificateFormat::Zip) => Ok(format),
        format => Err(ExportError::IncompatibleOptions {
            first: format!("format {format}"),
            second: "the Recover call (PFX, PEM or ZIP)".into(),
        }),
    }
}

/// The scope from the query's `collectionId` and `containerId`, where 0
/// means "not given" (the seed: "defaults to 0"; current clients always
/// send `collectionId=0`).
pub fn query_scope(collection_id: Option<u64>, container_id: Option<u64>) -> Scope {
    Scope {
        collection_id: collection_id.filter(|&id| id != 0),
        container_id: container_id.filter(|&id| id != 0),
    }
}

/// How a Keyfactor call answers an error: the HTTP status, a stable
/// `ErrorCode` and the `Message` ([`keyfactor_status`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyfactorStatus {
    /// The HTTP status.
    pub http: u16,
    /// `ErrorCode`: the kind of error, stable for scripts (and the `kind`
    /// label of a server's error counters).
    pub code: &'static str,
    /// `Message`: a sentence for people. Server-side failures get a
    /// generic one, so paths and backend details stay in the server's log.
    pub message: String,
}

/// The status of a Keyfactor call (`Download`, `Recover`) for `error`,
/// the one place they are decided:
///
/// | error | HTTP | ErrorCode |
/// | --- | --- | --- |
/// | malformed body or field, unknown choice, no or conflicting lookup, bad password | 400 | `InvalidRequest` |
/// | options that do not go together (format × extension × chain) | 400 | `IncompatibleOptions` |
/// | no or empty `Password` on Recover | 400 | `PasswordRequired` |
/// | a `MicrosoftTargetCSP` the server does not allow | 400 | `CspNotAllowed` |
/// | the caller may not have the certificate — and, for a caller without system-wide rights, a certificate that does not exist | 403 | `AccessDenied` |
/// | the certificate's key policy forbids key export (message: "Private key access is restricted in \<policy\> policy.") | 403 | `KeyExportRestricted` |
/// | no certificate matches (callers with system-wide rights only) | 404 | `NotFound` |
/// | the certificate has no private key in the store (Recover) | 404 | `NoPrivateKey` |
/// | serial + issuer names two certificates, or a CertID that may have moved (system-wide callers) | 409 | `Ambiguous` |
/// | the chain cannot be completed from the store, is too long, or its build ran out of budget | 422 | `IncompleteChain` |
/// | anything else: the store, the random source, an encoder | 500 | `InternalError` |
///
/// A missing key is 404, not 409: the resource asked for (the key) is not
/// there, whatever the request's state. An incomplete chain is 422: the
/// request is well formed and allowed, but the store cannot satisfy it.
pub fn keyfactor_status(error: &ExportError) -> KeyfactorStatus {
    let (http, code) = keyfactor_code(error);
    let message = match error {
        ExportError::KeyExportRestricted { policy } => format!("Private key access is restricted in {policy} policy."),
        _ if http == 500 => "The request could not be completed.".to_owned(),
        other => other.to_string(),
    };
    KeyfactorStatus { http, code, message }
}

/// The HTTP status and `ErrorCode` of [`keyfactor_status`] alone, without
/// writing the message (a server's error counters and audit lines want
/// only the code).
pub fn keyfactor_code(error: &ExportError) -> (u16, &'static str) {
    use ExportError as E;
    match error {
        e if e.is_malformed_request() => (400, "InvalidRequest"),
        E::IncompatibleOptions { .. } => (400, "IncompatibleOptions"),
        E::PasswordRequired => (400, "PasswordRequired"),
        E::CspNotAllowed { .. } => (400, "CspNotAllowed"),
        E::AccessDenied | E::ScopeRequired { .. } => (403, "AccessDenied"),
        E::KeyExportRestricted { .. } => (403, "KeyExportRestricted"),
        E::NotFound { .. } => (404, "NotFound"),
        E::NoPrivateKey { .. } => (404, "NoPrivateKey"),
        E::AmbiguousLookup { .. } | E::UnstableId { .. } => (409, "Ambiguous"),
        E::IncompleteChain { .. } | E::ChainTooLong { .. } | E::ChainBudgetExceeded { .. } => (422, "IncompleteChain"),
        _ => (500, "InternalError"),
    }
}

/// The answer of a Keyfactor call to `error`: its [`keyfactor_status`]
/// and the body `{"ErrorCode": …, "Message": …}` (`errorCode`,
/// `message` for a client that wrote camelCase).
pub fn keyfactor_error(error: &ExportError, casing: Casing) -> (u16, String) {
    let status = keyfactor_status(error);
    let mut out = String::from("{");
    out.push_str(&json_string(&casing.name("ErrorCode")));
    out.push(':');
    out.push_str(&json_string(status.code));
    push_field(&mut out, &casing.name("Message"), &json_string(&status.message));
    out.push('}');
    (status.http, out)
}

/// The answer to a Download: `{"Content": <base64>}`, or `{"content": …}`
/// for a client that wrote camelCase. The file name goes in the
/// `X-CertificateFile` header ([`ExportArtifact::file_name`]).
pub fn download_response(artifact: &ExportArtifact, casing: Casing) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::from("{"));
    push_content(&mut out, &casing.name("Content"), artifact);
    out.push('}');
    out
}

/// The answer to a Recover: `{"PFX": <base64>, "FileName": …}` (the
/// `PFX` field holds the file whatever its format), or `{"pfx": …,
/// "fileName": …}` for a client that wrote camelCase.
pub fn recover_response(artifact: &ExportArtifact, casing: Casing) -> Zeroizing<String> {
    let pfx = match casing {
        Casing::Pascal => "PFX",
        Casing::Camel => "pfx",
    };
    let mut out = Zeroizing::new(String::from("{"));
    push_content(&mut out, pfx, artifact);
    push_field(&mut out, &casing.name("FileName"), &json_string(artifact.file_name()));
    out.push('}');
    out
}

/// The command line's `--json` shape in the request's casing:
/// `{"Content", "FileName", "ContentType", "Certificates"}`.
pub fn artifact_json(artifact: &ExportArtifact, casing: Casing) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::from("{"));
    push_content(&mut out, &casing.name("Content"), artifact);
    push_field(&mut out, &casing.name("FileName"), &json_string(artifact.file_name()));
    push_field(
        &mut out,
        &casing.name("ContentType"),
        &json_string(artifact.content_type()),
    );
    push_field(
        &mut out,
        &casing.name("Certificates"),
        &artifact.certificate_count().to_string(),
    );
    out.push('}');
    out
}

/// `"name":"<base64 of the artifact>"`, written straight into `out`: base64
/// needs no JSON escape, and the text (which may hold an encrypted key)
/// is never copied outside zeroizing memory.
fn push_content(out: &mut Zeroizing<String>, name: &str, artifact: &ExportArtifact) {
    let content = artifact.to_base64();
    out.push_str(&json_string(name));
    out.push_str(":\"");
    out.push_str(&content);
    out.push('"');
}

fn push_field(out: &mut String, name: &str, value: &str) {
    out.push(',');
    out.push_str(&json_string(name));
    out.push(':');
    out.push_str(value);
}

fn json_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    /// One row per line of [`keyfactor_status`]'s table.
    #[test]
    fn errors_map_to_the_documented_status_row_by_row() {
        let rows: Vec<(ExportError, u16, &str)> = vec![
            (invalid_request("CertID must be a whole number"), 400, "InvalidRequest"),
            (ExportError::MissingLookup, 400, "InvalidRequest"),
            (
                ExportError::IncompatibleOptions {
                    first: "format DER".into(),
                    second: "IncludeChain".into(),
                },
                400,
                "IncompatibleOptions",
            ),
            (ExportError::PasswordRequired, 400, "PasswordRequired"),
            (ExportError::CspNotAllowed { csp: "x".into() }, 400, "CspNotAllowed"),
            (ExportError::AccessDenied, 403, "AccessDenied"),
            (
                ExportError::KeyExportRestricted {
                    policy: "Production".into(),
                },
                403,
                "KeyExportRestricted",
            ),
            (
                ExportError::NotFound {
                    lookup: "CertID 9".into(),
                },
                404,
                "NotFound",
            ),
            (
                ExportError::NoPrivateKey {
                    certificate: "ab".into(),
                },
                404,
                "NoPrivateKey",
            ),
            (
                ExportError::AmbiguousLookup {
                    lookup: "serial".into(),
                    count: 2,
                },
                409,
                "Ambiguous",
            ),
            (
                ExportError::IncompleteChain {
                    missing_issuer: "CN=CA".into(),
                },
                422,
                "IncompleteChain",
            ),
            (
                ExportError::Io {
                    path: PathBuf::from("/srv/secret/path"),
                    kind: std::io::ErrorKind::NotFound,
                },
                500,
                "InternalError",
            ),
            (ExportError::Random, 500, "InternalError"),
        ];
        for (error, http, code) in rows {
            let status = keyfactor_status(&error);
            assert_eq!((status.http, status.code), (http, code), "{error:?}");
        }
    }

    #[test]
    fn bodies_follow_the_casing_and_keep_server_details_out() {
        let restricted = ExportError::KeyExportRestricted {
            policy: "Production".into(),
        };
        let (http, body) = keyfactor_error(&restricted, Casing::Pascal);
        assert_eq!(http, 403);
        assert_eq!(
            body,
            r#"{"ErrorCode":"KeyExportRestricted","Message":"Private key access is restricted in Production policy."}"#
        );
        let (_, body) = keyfactor_error(&ExportError::AccessDenied, Casing::Camel);
        assert_eq!(body, r#"{"errorCode":"AccessDenied","message":"access denied"}"#);
        let io = ExportError::Io {
            path: PathBuf::from("/srv/secret/path"),
            kind: std::io::ErrorKind::NotFound,
        };
        let (http, body) = keyfactor_error(&io, Casing::Pascal);
        assert_eq!(http, 500);
        assert!(!body.contains("/srv"), "{body}");
    }

    fn invalid_request(reason: &str) -> ExportError {
        ExportError::InvalidRequest { reason: reason.into() }
    }
}
