//! The one error type of the crate.
//!
//! Every variant carries what a caller needs to act on it — the bad input,
//! the file, the missing issuer's DN, the policy name — and never key
//! material or passwords. Input quoted back is cut to a bounded length
//! ([`shown`]), so hostile input cannot make an error line huge, and it is
//! printed with Rust's escaping, so control and bidirectional characters
//! show as escapes. Wrapped errors are reachable through
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
        /// The string as given (cut to a bounded length).
        input: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A serial-number string is not hex.
    #[error("invalid serial number {input:?}: {reason}")]
    InvalidSerialNumber {
        /// The string as given (cut to a bounded length).
        input: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A `uuId` is not 1–64 characters of `[A-Za-z0-9-]`.
    #[error("invalid uuId {input:?}: {reason}")]
    InvalidUuid {
        /// The string as given (cut to a bounded length).
        input: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A distinguished-name string does not follow RFC 4514.
    #[error("invalid distinguished name {input:?}: {reason} (at byte {position})")]
    InvalidDistinguishedName {
        /// The string as given (cut to a bounded length).
        input: String,
        /// Byte offset of the problem in the string.
        position: usize,
        /// What is wrong there.
        reason: String,
    },

    /// A permission (claim) string is not one of the forms of SPEC §7.
    #[error("invalid claim {input:?}: {reason}")]
    InvalidClaim {
        /// The string as given (cut to a bounded length).
        input: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A certificate search query the grammar refuses, or a page request
    /// out of bounds (see [`crate::search`]): where and why.
    #[error(transparent)]
    InvalidQuery(crate::search::QueryError),

    /// A named choice (format, extension, chain order, profile, …) is not
    /// one of the values it takes.
    #[error("invalid {option} {input:?}: {accepted} is accepted")]
    UnknownChoice {
        /// The option, e.g. `format`.
        option: &'static str,
        /// The value as given (cut to a bounded length).
        input: String,
        /// The values it takes, e.g. `one of CER, CRT, DER, PEM, P7B, PFX`.
        accepted: &'static str,
    },

    /// An iteration count is outside what readers open and what finishes
    /// in reasonable time.
    #[error("invalid iteration count {iterations}: between 1 and {max} are accepted")]
    InvalidIterations {
        /// The count given.
        iterations: u32,
        /// The largest count accepted.
        max: u32,
    },

    /// A password cannot be used (it is never quoted).
    #[error("unusable password: {reason}")]
    InvalidPassword {
        /// Why, e.g. that it holds a NUL character.
        reason: &'static str,
    },

    /// Text that must be a BMPString (PKCS#12 attributes) holds characters
    /// outside the Basic Multilingual Plane.
    #[error("the {what} {text:?} has characters outside the Basic Multilingual Plane, which a BMPString cannot hold")]
    NotBmpString {
        /// Which attribute, e.g. `friendly name`.
        what: &'static str,
        /// The text (cut to a bounded length).
        text: String,
    },

    /// Bytes given as certificates (PEM, DER or P7B) cannot be read as such.
    #[error("cannot read certificates: {reason}")]
    UnreadableCertificates {
        /// What is wrong.
        reason: String,
    },

    /// A request in JSON cannot be read.
    #[error("invalid request: {reason}")]
    InvalidRequest {
        /// What is wrong (never a field's value).
        reason: String,
    },

    /// The request names no certificate.
    #[error("no certificate named: give a CertID, a thumbprint, a serial number with an issuer DN, or a uuId")]
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
    #[error("conflicting lookups: {first} names certificate {first_id}, {second} names {}", second_id.map_or_else(|| "none".to_owned(), |id| id.to_string()))]
    ConflictingLookups {
        /// The first lookup, as text.
        first: String,
        /// The id of the certificate it names.
        first_id: u64,
        /// The lookup that disagrees.
        second: String,
        /// The id of the certificate that one names, if any.
        second_id: Option<u64>,
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

    /// A store id that may name another certificate than the caller
    /// thinks: files were skipped while the store was loaded, so the
    /// automatic ids after them moved.
    #[error(
        "CertID {id} may have moved: {skipped} was skipped while loading, so automatic ids after it shift; \
         name the certificate by thumbprint, or give it a fixed id in the manifest"
    )]
    UnstableId {
        /// The id asked for.
        id: u64,
        /// The first file that was skipped.
        skipped: PathBuf,
    },

    /// Two options of the request cannot be used together (SPEC §3).
    #[error("incompatible options: {first} cannot be used with {second}")]
    IncompatibleOptions {
        /// One side, e.g. `format DER`.
        first: String,
        /// The other side, e.g. `IncludeChain`.
        second: String,
    },

    /// A Microsoft CSP was named that the exporter's settings do not allow.
    #[error("cryptographic service provider {csp:?} is not allowed by the exporter's settings")]
    CspNotAllowed {
        /// The CSP as requested (cut to a bounded length).
        csp: String,
    },

    /// The chain cannot be completed from the store's certificates.
    #[error("incomplete chain: no issuer {missing_issuer:?} in the store")]
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
    #[error("chain building gave up after {limit} {what}; the store holds too many or too large candidate issuers")]
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

    /// A certificate is larger than a store accepts.
    #[error("certificate of {size} bytes in {what} is larger than the {limit} bytes a store accepts")]
    CertificateTooLarge {
        /// Where it came from.
        what: String,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },

    /// A file could not be read.
    #[error("cannot read {path}: {kind}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        kind: std::io::ErrorKind,
    },

    /// A path that must be a regular file is something else.
    #[error(
        "{path} is {kind}, not a regular file; only regular files are read, so a device or pipe cannot feed endless or blocking input"
    )]
    NotARegularFile {
        /// The path.
        path: PathBuf,
        /// What it is, e.g. `a FIFO`.
        kind: &'static str,
    },

    /// A file is larger than the limit for its kind.
    #[error("{path} holds more than {limit} bytes, the limit for {what}")]
    FileTooLarge {
        /// The file.
        path: PathBuf,
        /// What kind of file, e.g. `a store file`.
        what: &'static str,
        /// The limit.
        limit: u64,
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

    /// A fixed id is already taken by another certificate.
    #[error("id {id} is already taken by certificate {by}")]
    IdTaken {
        /// The id.
        id: u64,
        /// SHA-1 thumbprint of the certificate that holds it, lower-case hex.
        by: String,
    },

    /// A certificate is already stored under another id than the one asked for.
    #[error("certificate {certificate} is already stored as {stored}, not {wanted}")]
    AlreadyStored {
        /// SHA-1 thumbprint of the certificate, lower-case hex.
        certificate: String,
        /// Its id.
        stored: u64,
        /// The id asked for.
        wanted: u64,
    },

    /// A `uuId` is already given to another certificate.
    #[error("uuId {uuid} is already given to certificate {by}")]
    UuidTaken {
        /// The uuId.
        uuid: String,
        /// The id of the certificate that has it.
        by: u64,
    },

    /// A store cannot hold more certificates.
    #[error("the store is full ({limit} certificates)")]
    StoreFull {
        /// How many it holds.
        limit: usize,
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
        /// SHA-1 thumbprint of the certificate, lower-case hex.
        certificate: String,
    },

    /// A key policy forbids private-key export.
    #[error("Private key access is restricted in {policy} policy")]
    KeyExportRestricted {
        /// The policy's name.
        policy: String,
    },

    /// The caller may not export this certificate (or it does not exist and
    /// the caller may not learn that).
    #[error("access denied")]
    AccessDenied,

    /// The random source failed (salts and IVs could not be made).
    #[error("the random number source failed")]
    Random,

    /// Encoding the output failed.
    #[error("cannot encode {what}")]
    Encoding {
        /// What was being encoded.
        what: &'static str,
        /// The encoder's error.
        #[source]
        source: der::Error,
    },

    /// An output file could not be written.
    #[error("cannot write {path}: {kind}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        kind: std::io::ErrorKind,
    },

    /// An output file exists already and replacing it was not asked for.
    #[error("{path} exists; it is not replaced unless asked (--force)")]
    OutputExists {
        /// The file.
        path: PathBuf,
    },

    /// A user-supplied store backend failed.
    #[error("certificate store failed")]
    Backend(#[source] BackendError),

    /// The database's schema was written by a newer certexport than this
    /// one; it is not read rather than misread.
    #[error(
        "the database's certexport schema is version {found}, newer than version {supported} that this build reads; use a newer certexport"
    )]
    SchemaTooNew {
        /// The version the database is at.
        found: i32,
        /// The newest version this build knows.
        supported: i32,
    },

    /// The database's schema is older than this build's (or absent).
    #[error(
        "the database's certexport schema is version {found}, this build needs version {required}: run `certexport db migrate`"
    )]
    SchemaOutdated {
        /// The version the database is at (0: no certexport schema).
        found: i32,
        /// The version this build needs.
        required: i32,
    },

    /// Private keys are stored encrypted and no key-encryption key was
    /// given to read or write them.
    #[error(
        "private keys in the database are encrypted: give the key-encryption key (--kek-file FILE or CERTEXPORT_KEK_FILE)"
    )]
    KekRequired,

    /// A key-encryption key file is not 32 bytes written as 64 hex digits.
    #[error("bad key-encryption key file {path}: {reason}")]
    BadKekFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it (never its content).
        reason: &'static str,
    },

    /// The private key of a certificate was encrypted under another
    /// key-encryption key than the one given.
    #[error(
        "the private key of certificate {id} does not decrypt: it was encrypted under another key-encryption key than the one given"
    )]
    WrongKek {
        /// The id of the certificate whose key was asked for.
        id: u64,
    },

    /// A stored private key does not decrypt under its own key-encryption
    /// key: the row was moved from another certificate, or altered.
    #[error(
        "the private key stored for certificate {id} does not decrypt with the right key-encryption key: the row belongs to another certificate or was altered"
    )]
    KeyRowMismatch {
        /// The id of the certificate whose key was asked for.
        id: u64,
    },

    /// An id is larger than a database store holds (ids are PostgreSQL
    /// `bigint`s).
    #[error("{what} {id} is larger than {max}, the largest a database store holds")]
    IdOutOfRange {
        /// Which id, e.g. `CertID` or `collection id`.
        what: &'static str,
        /// The id.
        id: u64,
        /// The largest id allowed.
        max: u64,
    },
}

impl ExportError {
    /// An [`ExportError::Backend`] wrapping the error of a custom
    /// [`CertificateStore`](crate::store::CertificateStore) (a database driver's, say).
    pub fn backend(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Backend(BackendError(Arc::new(error)))
    }

    /// Whether the request itself does not read: a lookup, claim, choice,
    /// iteration count or password that is malformed, or lookups that are
    /// missing, incomplete or name different certificates. The caller can
    /// fix it without knowing anything of the store; the command line's
    /// exit code 2 and the wire's 400 answers start from this one list.
    pub fn is_malformed_request(&self) -> bool {
        matches!(
            self,
            Self::InvalidThumbprint { .. }
                | Self::InvalidSerialNumber { .. }
                | Self::InvalidUuid { .. }
                | Self::InvalidDistinguishedName { .. }
                | Self::InvalidClaim { .. }
                | Self::InvalidQuery(_)
                | Self::UnknownChoice { .. }
                | Self::InvalidIterations { .. }
                | Self::InvalidPassword { .. }
                | Self::NotBmpString { .. }
                | Self::InvalidRequest { .. }
                | Self::MissingLookup
                | Self::IncompleteLookup { .. }
                | Self::ConflictingLookups { .. }
        )
    }

    pub(crate) fn encoding(what: &'static str) -> impl FnOnce(der::Error) -> Self {
        move |source| Self::Encoding { what, source }
    }

    /// [`ExportError::MalformedCertificate`] for the certificate `what`
    /// names; the name is made only if there is an error.
    pub(crate) fn malformed(what: impl Fn() -> String) -> impl Fn(der::Error) -> Self {
        move |source| Self::MalformedCertificate { what: what(), source }
    }
}

/// The error of a user-supplied [`CertificateStore`](crate::store::CertificateStore)
/// backend, shared so that [`ExportError`] stays `Clone`. Make one with
/// [`ExportError::backend`].
#[derive(Debug, Clone)]
pub struct BackendError(Arc<dyn std::error::Error + Send + Sync>);

impl BackendError {
    /// The backend's own error.
    pub fn get_ref(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.0
    }
}

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

/// The most characters of hostile input an error quotes.
const SHOWN_CHARS: usize = 100;

/// `input` as an error may quote it: at most [`SHOWN_CHARS`] characters,
/// with `…` where it was cut. (Errors print it with `{:?}`, which escapes
/// control and bidirectional characters.)
pub(crate) fn shown(input: &str) -> String {
    match input.char_indices().nth(SHOWN_CHARS) {
        None => input.to_owned(),
        Some((cut, _)) => format!("{}…", &input[..cut]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_input_is_bounded() {
        assert_eq!(shown("short"), "short");
        let long = "é".repeat(1_000);
        let cut = shown(&long);
        assert_eq!(cut.chars().count(), SHOWN_CHARS + 1);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn backend_errors_keep_their_source() {
        let io = std::io::Error::other("connection reset");
        let error = ExportError::backend(io);
        let source = std::error::Error::source(&error).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("connection reset"));
        assert_eq!(error.to_string(), "certificate store failed");
    }
}
