#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
// docs.rs (nightly, `--cfg docsrs`) labels each feature-gated item with
// its feature; stable rustdoc ignores this, and the items' docs say it too.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod access;
mod artifact;
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
pub mod search;
pub mod store;
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub mod wire;

pub use access::{Caller, Claim};
pub use artifact::ExportArtifact;
pub use certificate::CertificateSummary;
pub use error::{BackendError, DerError, ExportError};
pub use export::{ExportSettings, Exporter};
pub use key::{KeyKind, Password, PrivateKey};
pub use lookup::Lookup;
pub use request::{CertificateFormat, ExportRequest};

/// The options of a request and of an exporter's settings, beyond the
/// format: file extension, chain order and policy, key export, scope,
/// CSPs, the time validity is judged at. (The encodings and key schemes
/// are in [`formats`].)
pub mod options {
    pub use crate::access::{CspPolicy, Scope, ScopeRule};
    pub use crate::chain::{Budget, ChainPolicy, IncompleteChains, RootCertificate};
    pub use crate::export::ExportTime;
    pub use crate::request::{ChainOrder, FileExtension, KeyExport, KeyPlacement};
}

/// Internals exposed for the benchmarks and differential tests only
/// (feature `bench-internals`): not part of the API, no stability promise.
#[cfg(feature = "bench-internals")]
#[doc(hidden)]
pub mod __internals {
    /// PBKDF2-HMAC-SHA256 as the key encryption derives keys (the
    /// hand-written loop of `formats/pbkdf2.rs`).
    pub fn pbkdf2_hmac_sha256(password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
        crate::formats::pbkdf2::pbkdf2_hmac_sha256(password, salt, iterations, out);
    }

    /// Base64 of `data` into `out` with PEM's line breaks, as the
    /// exporter writes certificates.
    pub fn base64_pem_body(out: &mut Vec<u8>, data: &[u8]) {
        crate::formats::pem::base64_lines(out, data);
    }

    /// The bytes of a PEM body, as the store loader decodes certificates.
    pub fn base64_decode_pem_body(text: &[u8], out: &mut Vec<u8>) -> Result<usize, &'static str> {
        crate::formats::pem::decode_public_body(text, out)
    }

    /// The RFC 4514 string of a DER `Name`, as the crate prints subjects
    /// and issuers (`certexport list`, PEM subject headers).
    pub fn name_to_rfc4514(der: &[u8]) -> Result<String, der::Error> {
        crate::name::to_rfc4514(der)
    }

    /// The fields of a certificate, as one of the two readers read them.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct CertificateFields<'a>(crate::certificate::CertificateView<'a>);

    /// The fields of a certificate as the fast reader reads them.
    pub fn fast_certificate_fields(der: &[u8]) -> Result<CertificateFields<'_>, der::Error> {
        crate::certificate::CertificateView::parse(der).map(CertificateFields)
    }

    /// The same fields read with the `der` crate.
    pub fn der_certificate_fields(der: &[u8]) -> Result<CertificateFields<'_>, der::Error> {
        crate::certificate::der_twin::parse(der).map(CertificateFields)
    }
}
