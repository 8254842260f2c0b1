//! The reference APIs on the wire (feature `serde`): the JSON
//! bodies and answers of Keyfactor Command's `POST /Certificates/Download`
//! and `POST /Certificates/Recover`, and of AppViewX's
//! `POST /avxapi/certificate/privatekey/download`, as library types that a
//! service of one's own, `certexport serve` and the command line's
//! `--request` share.
//!
//! - Field names are matched case-insensitively, as the reference servers
//!   do: older generated clients send `CertID` / `IncludeChain`, current ones
//!   `certID` / `includeChain`. `null` is an absent field. A field given
//!   twice — `CertID` and `certID`, or `CertID` twice — is refused
//!   ([`ExportError::InvalidRequest`](crate::ExportError::InvalidRequest)
//!   naming it) rather than one of its values picked: a proxy that reads
//!   the first and a server that reads the last would see two requests.
//! - Unknown fields are ignored, as the reference servers ignore them, and
//!   listed (`unknown_fields()`) so that a misspelt option can be logged
//!   rather than pass silently. Lookups that name different certificates
//!   stay an error.
//! - Answers are written in the casing of the request's field names
//!   ([`Casing`]): a client that wrote `certID` reads `content` (Download)
//!   or `pfx` and `fileName` (Recover); one that wrote `CertID` reads
//!   `Content`, or `PFX` and `FileName`. A body whose known fields are
//!   mostly camelCase is answered in camelCase; any other (an empty one
//!   too) in PascalCase.
//! - Errors name the field that is wrong and never quote a value (a value
//!   may be a password).

mod appviewx;
mod fields;
mod keyfactor;
mod search;

pub use appviewx::{AvxKeyRequest, AvxStatus, avx_failure, avx_status, avx_success};
pub use keyfactor::{
    DownloadRequest, KeyfactorStatus, RecoverRequest, artifact_json, download_format, download_response,
    keyfactor_code, keyfactor_error, keyfactor_status, query_scope, recover_format, recover_response,
};
pub use search::{SearchParams, certificate_json, search_json};

use std::borrow::Cow;

/// The casing of a request's field names, which its answer follows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Casing {
    /// `CertID`, `Content`, `FileName` (older generated clients; the default).
    #[default]
    Pascal,
    /// `certID`, `content`, `fileName` (current generated clients).
    Camel,
}

impl Casing {
    /// A PascalCase field name in this casing.
    pub fn name(self, pascal: &str) -> Cow<'_, str> {
        match self {
            Casing::Pascal => Cow::Borrowed(pascal),
            Casing::Camel => {
                let mut chars = pascal.chars();
                match chars.next() {
                    Some(first) => Cow::Owned(first.to_ascii_lowercase().to_string() + chars.as_str()),
                    None => Cow::Borrowed(pascal),
                }
            }
        }
    }
}
