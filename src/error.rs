//! The one error type of the crate.
//!
//! Every variant carries what a caller needs to act on it — the bad input,
//! the file, the missing issuer's DN, the policy name — and never key
//! material or passwords. Wrapped errors are reachable through
//! [`std::error::Error::source`] and are not repeated in `Display`.

use std::path::PathBuf;
use std::sync::Arc;

/// Everything that can go wrong while loading a store or exporting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// A thumbprint string is not 40 or 64 hex digits.
    #[error("invalid thumbprint {input:?}: {reason}")]
    InvalidThumbprint {
        /// The string as given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A serial-number string is not hex.
    #[error("invalid serial number {input:?}: {reason}")]
    InvalidSerialNumber {
        /// The string as given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A distinguished-name string does not follow RFC 4514.
    #[error("invalid distinguished name {input:?}: {reason} (at byte {position})")]
    InvalidDistinguishedName {
        /// The string as given.
        input: String,
        /// Byte offset of the problem in `input`.
        position: usize,
        /// What is wrong there.
        reason: String,
    },

    /// A permission (claim) string is not one of the forms of SPEC §7.
    #[error("invalid claim {input:?}: {reason}")]
    InvalidClaim {
        /// The string as given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The request names no certificate.
    #[error("no certificate named: give a CertID, a thumbprint, or a serial number with an issuer DN")]
    MissingLookup,

    /// A serial number was given without an issuer DN, or the reverse.
    #[error("{given} needs {missing} as well")]
    IncompleteLookup {
        /// The part that was given.
        given: &'static str,
        /// The part that is missing.
        missing: &'static str,
    },

    /// Several lookups were given and they name different certificates.
    #[error("conflicting lookups: {first} names certificate {first_id}, {second} names {second_id}")]
    ConflictingLookups {
        /// The first lookup, as text.
        first: String,
        /// The certificate it names.
        first_id: u64,
        /// The lookup that disagrees.
        second: String,
        /// The certificate that one names (0 when it names none).
        second_id: u64,
    },

    /// No certificate in the store matches the lookup.
    #[error("no certificate matches {lookup}")]
    NotFound {
        /// The lookup, as text.
        lookup: String,
    },

    /// More than one certificate matches a lookup that must name one.
    #[error("{lookup} matches {count} certificates; name one by thumbprint or CertID")]
    AmbiguousLookup {
        /// The lookup, as text.
        lookup: String,
        /// How many certificates match.
        count: usize,
    },

    /// Two options of the request cannot be used together (SPEC §3).
    #[error("incompatible options: {first} cannot be used with {second}")]
    IncompatibleOptions {
        /// One side, e.g. `format DER`.
        first: String,
        /// The other side, e.g. `IncludeChain`.
        second: String,
    },

    /// The chain cannot be completed from the store's certificates.
    #[error("incomplete chain: no issuer \"{missing_issuer}\" in the store")]
    IncompleteChain {
        /// RFC 4514 DN of the issuer that is missing.
        missing_issuer: String,
    },

    /// The chain would be longer than the depth limit.
    #[error("chain longer than the depth limit of {limit} issuers")]
    ChainTooLong {
        /// The limit that was hit.
        limit: usize,
    },

    /// Chain building used up its budget (a hostile or very crowded store).
    #[error("chain building gave up after {limit} {what}; the store holds too many candidate issuers")]
    ChainBudgetExceeded {
        /// The budget that ran out.
        what: &'static str,
        /// Its size.
        limit: usize,
    },

    /// A certificate's DER is not an X.509 certificate.
    #[error("malformed certificate {what}")]
    MalformedCertificate {
        /// Which certificate or file.
        what: String,
        /// The decoding error.
        #[source]
        source: der::Error,
    },

    /// A file of a store could not be read.
    #[error("cannot read {path}: {kind}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        kind: std::io::ErrorKind,
    },

    /// A file of a store holds something that is not a certificate, P7B or
    /// private key in a form the store reads.
    #[error("bad store file {path}: {reason}")]
    BadStoreFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// The store manifest is malformed or names something the store lacks.
    #[error("bad store manifest {path}: {reason}")]
    BadManifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// A private key does not belong to the certificate it was given for.
    #[error("private key {key} does not match certificate {certificate}")]
    KeyMismatch {
        /// Where the key came from (a file name, or `key`).
        key: String,
        /// The certificate it was meant for.
        certificate: String,
    },

    /// A private key read with a store matches none of its certificates.
    #[error("private key {key} matches no certificate in the store")]
    UnpairedKey {
        /// Where the key came from.
        key: String,
    },

    /// A private key is malformed or of an unsupported kind.
    #[error("unusable private key {key}: {reason}")]
    BadPrivateKey {
        /// Where the key came from.
        key: String,
        /// What is wrong (never the key itself).
        reason: &'static str,
    },

    /// A key export was asked for without a password (the reference API's
    /// "Field cannot be null/empty").
    #[error("Password: field cannot be null or empty")]
    PasswordRequired,

    /// The store holds no private key for the certificate.
    #[error("no private key for certificate {certificate}")]
    NoPrivateKey {
        /// SHA-1 thumbprint of the certificate.
        certificate: String,
    },

    /// The certificate's key policy forbids private-key export.
    #[error("Private key access is restricted in {policy} policy")]
    KeyExportRestricted {
        /// The policy's name.
        policy: String,
    },

    /// The caller may not export this certificate (or it does not exist and
    /// the caller may not learn that).
    #[error("access denied")]
    AccessDenied,

    /// A Microsoft CSP was named that the exporter's settings do not allow.
    #[error("cryptographic service provider {csp:?} is not allowed by the exporter's settings")]
    CspNotAllowed {
        /// The CSP as requested.
        csp: String,
    },

    /// A setting or option value is out of range.
    #[error("invalid {what}: {reason}")]
    InvalidOption {
        /// Which option.
        what: &'static str,
        /// Why.
        reason: String,
    },

    /// The random source failed (salts and IVs could not be made).
    #[error("the random number source failed")]
    Random,

    /// Encoding or encrypting the output failed.
    #[error("cannot encode {what}")]
    Encoding {
        /// What was being encoded.
        what: &'static str,
        /// The encoder's error.
        #[source]
        source: der::Error,
    },

    /// A user-supplied store backend failed.
    #[error("certificate store failed")]
    Backend(#[source] BackendError),
}

impl ExportError {
    pub(crate) fn encoding(what: &'static str) -> impl FnOnce(der::Error) -> Self {
        move |source| Self::Encoding { what, source }
    }

    /// [`ExportError::MalformedCertificate`] for the certificate `what`
    /// names; the name is made only if there is an error.
    pub(crate) fn malformed(what: impl Fn() -> String) -> impl Fn(der::Error) -> Self {
        move |source| Self::MalformedCertificate { what: what(), source }
    }
}

/// The error of a user-supplied [`CertificateStore`](crate::CertificateStore)
/// backend, shared so that [`ExportError`] stays `Clone`.
#[derive(Debug, Clone)]
pub struct BackendError(pub Arc<dyn std::error::Error + Send + Sync>);

impl PartialEq for BackendError {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for BackendError {}

impl std::fmt::Display for BackendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for BackendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}
