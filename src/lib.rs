#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod access;
mod artifact;
mod base64;
mod certificate;
mod chain;
mod encode;
mod error;
mod export;
mod fast_der;
pub mod formats;
pub mod ids;
mod key;
mod lookup;
mod matrix;
pub mod name;
mod oid;
pub mod random;
mod request;
pub mod store;
#[cfg(feature = "serde")]
pub mod wire;

pub use access::{Caller, Claim};
pub use artifact::ExportArtifact;
pub use certificate::CertificateSummary;
pub use error::{BackendError, ExportError};
pub use export::{ExportSettings, Exporter};
pub use key::{KeyKind, Password, PrivateKey};
pub use lookup::Lookup;
pub use request::{CertificateFormat, ExportRequest};

/// The options of a request and of an exporter's settings, beyond the
/// format: file extension, chain order and policy, key export, scope,
/// CSPs, the time validity is judged at. (The encodings and key schemes
/// are in [`formats`].)
pub mod options {
    pub use crate::access::{CspPolicy, Scope};
    pub use crate::chain::{Budget, ChainPolicy, IncompleteChains, RootCertificate};
    pub use crate::export::ExportTime;
    pub use crate::request::{ChainOrder, FileExtension, KeyExport, KeyPlacement};
}
