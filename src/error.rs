//! The one error type of the crate, and how it is designed.
//!
//! [`ExportError`] is one flat `#[non_exhaustive]` enum, as webpki's: a
//! variant per thing a caller might handle differently, each carrying what
//! the caller needs to act — the bad input, the file, the missing issuer's
//! DN, the policy name, the scope to add — and never key material or
//! passwords. Its `Display` is a sentence that says what is wrong and,
//! where there is one, what to do instead ([`ExportError::ScopeRequired`]
//! names the scope to add, [`ExportError::KeyNotInChain`] the certificate
//! to include). Programs match the variants they handle and print the
//! rest; [`ExportError::is_malformed_request`] groups the ones a caller
//! fixes without knowing the store (the command line's exit code 2, the
//! wire's 400).
//!
//! **Features.** A variant that only a feature's code can produce exists
//! only with that feature: the PostgreSQL store's (`SchemaTooNew`,
//! `SchemaOutdated`, `KekRequired`, `BadKekFile`, `WrongKek`,
//! `KeyRowMismatch`, `IdOutOfRange`) with `postgres`, the command line's
//! output errors (`Write`, `OutputExists`) with `cli`. The enum is
//! `#[non_exhaustive]`, so every `match` outside the crate already has a
//! `_` arm and a feature turned on anywhere in a build breaks none of them
//! (features stay additive). One nested enum per feature
//! (`ExportError::Database(PgError)`) was weighed and not taken: an
//! [`Exporter`](crate::Exporter) over a `dyn CertificateStore` cannot know
//! which store failed, so its callers would match two levels for one
//! failure, and the status table of the wire and the exit codes of the
//! command line would have to look through the wrapper.
//!
//! **Room to grow.** New kinds of input get their own variants beside the
//! lookups' (`InvalidThumbprint`, `InvalidDistinguishedName`, …), as the
//! search query language's errors are `InvalidQuery` (a position and a
//! message, `search::QueryError`), listed in
//! [`ExportError::is_malformed_request`]. A variant
//! that a new feature alone produces is gated like the PostgreSQL ones.
//!
//! **No foreign pre-1.0 types.** The DER codec's error, which
//! [`ExportError::MalformedCertificate`] and [`ExportError::Encoding`]
//! wrap, is held in [`DerError`], an opaque type of this crate, so a new
//! release of `der` is not a breaking change here. Wrapped errors are
//! reachable through [`std::error::Error::source`] and not repeated in
//! `Display`.
//!
//! **Display by hand.** The sentences are written in one `match` below
//! the enum rather than derived with `thiserror`: `thiserror` 2.0.18 and
//! later build on syn 3 while the RustCrypto stack's derives (`der_derive`,
//! `curve25519-dalek-derive`) build on syn 2, so deriving would compile
//! two syn majors in every build. To add a variant: its doc and fields in
//! the enum, its sentence in `Display`, and its `source` (if it wraps an
//! error) in `Error::source`.
//!
//! Input quoted back is cut to a bounded length (100 characters, with
//! `…` where it was cut), so hostile input cannot make an error line huge,
//! and it is printed with Rust's escaping, so control and bidirectional
//! characters show as escapes.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// Everything that can go wrong while loading a store or exporting.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExportError {
    /// A thumbprint string is not 40 or 64 hex digits.
    InvalidThumbprint {
        /// The string as given (cut to a bounded length).
        input: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A serial-number string is not hex.
    InvalidSerialNumber {
        /// The string as given (cut to a bounded length).
        input: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A `uuId` is not 1–64 characters of `[A-Za-z0-9-]`.
    InvalidUuid {
        /// The string as given (cut to a bounded length).
        input: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A distinguished-name string does not follow RFC 4514.
    InvalidDistinguishedName {
        /// The string as given (cut to a bounded length).
        input: String,
        /// Byte offset of the problem in the string.
        position: usize,
        /// What is wrong there.
        reason: String,
    },

    /// A permission (claim) string is not one of the reference API's forms.
    InvalidClaim {
        /// The string as given (cut to a bounded length).
        input: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A certificate search query the grammar refuses, or a page request
    /// out of bounds (see [`crate::search`]): where and why.
    InvalidQuery(crate::search::QueryError),

    /// A named choice (format, extension, chain order, profile, …) is not
    /// one of the values it takes.
    UnknownChoice {
        /// The option, e.g. `format`.
        option: &'static str,
        /// The value as given (cut to a bounded length).
        input: String,
        /// The values it takes, e.g. `one of CER, CRT, DER, PEM, P7B, PFX`.
        accepted: &'static str,
    },

    /// An iteration count is below the floor that keeps a password from
    /// being guessed cheaply, or above what finishes in reasonable time.
    InvalidIterations {
        /// The count given.
        iterations: u32,
        /// The smallest count accepted.
        min: u32,
        /// The largest count accepted.
        max: u32,
    },

    /// A password cannot be used (it is never quoted).
    InvalidPassword {
        /// Why, e.g. that it holds a NUL character.
        reason: &'static str,
    },

    /// Text that must be a BMPString (PKCS#12 attributes) holds characters
    /// outside the Basic Multilingual Plane.
    NotBmpString {
        /// Which attribute, e.g. `friendly name`.
        what: &'static str,
        /// The text (cut to a bounded length).
        text: String,
    },

    /// Bytes given as certificates (PEM, DER or P7B) cannot be read as such.
    UnreadableCertificates {
        /// What is wrong.
        reason: String,
    },

    /// A request in JSON cannot be read.
    InvalidRequest {
        /// What is wrong (never a field's value).
        reason: String,
    },

    /// The request names no certificate.
    MissingLookup,

    /// A serial number was given without an issuer DN, or the reverse.
    IncompleteLookup {
        /// The part that was given.
        given: &'static str,
        /// The part that is missing.
        missing: &'static str,
    },

    /// Several lookups were given and they name different certificates.
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
    NotFound {
        /// The lookup, as text.
        lookup: String,
    },

    /// More than one certificate matches a lookup that must name one.
    AmbiguousLookup {
        /// The lookup, as text.
        lookup: String,
        /// How many certificates match.
        count: usize,
    },

    /// A store id that may name another certificate than the caller
    /// thinks: files were skipped while the store was loaded, so the
    /// automatic ids after them moved.
    UnstableId {
        /// The id asked for.
        id: u64,
        /// The first file that was skipped.
        skipped: PathBuf,
    },

    /// Two options of the request cannot be used together (the format
    /// matrix: format × extension × chain).
    IncompatibleOptions {
        /// One side, e.g. `format DER`.
        first: String,
        /// The other side, e.g. `IncludeChain`.
        second: String,
    },

    /// A Microsoft CSP was named that the exporter's settings do not allow.
    CspNotAllowed {
        /// The CSP as requested (cut to a bounded length).
        csp: String,
    },

    /// The chain cannot be completed from the store's certificates.
    IncompleteChain {
        /// RFC 4514 DN of the issuer that is missing.
        missing_issuer: String,
    },

    /// The chain would be longer than the depth limit.
    ChainTooLong {
        /// The limit that was hit.
        limit: usize,
    },

    /// Chain building used up its budget (a hostile or very crowded store).
    ChainBudgetExceeded {
        /// The budget that ran out.
        what: &'static str,
        /// Its size.
        limit: usize,
    },

    /// A certificate's DER is not an X.509 certificate.
    MalformedCertificate {
        /// Which certificate or file.
        what: String,
        /// What the decoder found, and where.
        source: DerError,
    },

    /// No certificate was given where at least one is needed (an empty
    /// chain, or bytes that hold only keys or other PEM blocks).
    EmptyChain {
        /// What needed them, e.g. `a P7B`.
        what: &'static str,
    },

    /// The same certificate was given twice in one chain.
    DuplicateCertificate {
        /// Its position in the chain, from 1.
        position: usize,
        /// The position of its first occurrence, from 1.
        first: usize,
    },

    /// A certificate is larger than a store accepts.
    CertificateTooLarge {
        /// Where it came from.
        what: String,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },

    /// A file could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        kind: std::io::ErrorKind,
    },

    /// A path that must be a regular file is something else.
    NotARegularFile {
        /// The path.
        path: PathBuf,
        /// What it is, e.g. `a FIFO`.
        kind: &'static str,
    },

    /// A file is larger than the limit for its kind.
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
    BadStoreFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// The store manifest is malformed or names something the store lacks.
    BadManifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// A fixed id is already taken by another certificate.
    IdTaken {
        /// The id.
        id: u64,
        /// SHA-1 thumbprint of the certificate that holds it, lower-case hex.
        by: String,
    },

    /// A certificate is already stored under another id than the one asked for.
    AlreadyStored {
        /// SHA-1 thumbprint of the certificate, lower-case hex.
        certificate: String,
        /// Its id.
        stored: u64,
        /// The id asked for.
        wanted: u64,
    },

    /// A `uuId` is already given to another certificate.
    UuidTaken {
        /// The uuId.
        uuid: String,
        /// The id of the certificate that has it.
        by: u64,
    },

    /// A store cannot hold more certificates.
    StoreFull {
        /// How many it holds.
        limit: usize,
    },

    /// The private key given with a chain belongs to none of its
    /// certificates.
    KeyNotInChain {
        /// How many certificates were given.
        certificates: usize,
    },

    /// A password does not decrypt an encrypted private key.
    WrongPassword {
        /// Where the key came from.
        key: String,
    },

    /// A private key does not belong to the certificate it was given for.
    KeyMismatch {
        /// Where the key came from (a file name, or `key`).
        key: String,
        /// The certificate it was meant for.
        certificate: String,
    },

    /// A private key read with a store matches none of its certificates.
    UnpairedKey {
        /// Where the key came from.
        key: String,
    },

    /// A private key is malformed or of an unsupported kind.
    BadPrivateKey {
        /// Where the key came from.
        key: String,
        /// What is wrong (never the key itself).
        reason: &'static str,
    },

    /// A key export was asked for without a password, or with an empty one
    /// (the reference API's "Field cannot be null/empty").
    PasswordRequired,

    /// The store holds no private key for the certificate.
    NoPrivateKey {
        /// SHA-1 thumbprint of the certificate, lower-case hex.
        certificate: String,
    },

    /// A key policy forbids private-key export.
    KeyExportRestricted {
        /// The policy's name.
        policy: String,
    },

    /// The caller may not export this certificate (or it does not exist and
    /// the caller may not learn that).
    AccessDenied,

    /// The caller holds rights only for some collections or containers
    /// (scoped claims) and the request names no scope, so none of them
    /// counts. Add the collection (or container) the certificate is in to
    /// the request: [`Scope::collection`](crate::options::Scope::collection),
    /// the reference API's `collectionId`, the command line's
    /// `--collection-id`. The refusal depends only on the caller's claims
    /// and the request, never on the store, so it tells nothing about any
    /// certificate.
    ScopeRequired {
        /// The collections the caller's claims name, in ascending order.
        collections: Vec<u64>,
        /// The store containers the caller's claims name, in ascending order.
        containers: Vec<u64>,
        /// Whether a private key was asked for (its claims are checked at
        /// a collection only).
        key: bool,
    },

    /// The random source failed (salts and IVs could not be made).
    Random,

    /// Encoding the output failed.
    Encoding {
        /// What was being encoded.
        what: &'static str,
        /// The encoder's error.
        source: DerError,
    },

    /// An output file could not be written.
    #[cfg(feature = "cli")]
    Write {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        kind: std::io::ErrorKind,
    },

    /// An output file exists already and replacing it was not asked for.
    #[cfg(feature = "cli")]
    OutputExists {
        /// The file.
        path: PathBuf,
    },

    /// A user-supplied store backend failed.
    Backend(BackendError),

    /// The store cannot be reached for now (its database is down,
    /// restarting, or every connection stayed busy): the same request may
    /// succeed later. Servers answer it with 503.
    StoreUnavailable(BackendError),

    /// The database's schema was written by a newer certexport than this
    /// one; it is not read rather than misread.
    #[cfg(feature = "postgres")]
    SchemaTooNew {
        /// The version the database is at.
        found: i32,
        /// The newest version this build knows.
        supported: i32,
    },

    /// The database's schema is older than this build's (or absent).
    #[cfg(feature = "postgres")]
    SchemaOutdated {
        /// The version the database is at (0: no certexport schema).
        found: i32,
        /// The version this build needs.
        required: i32,
    },

    /// Private keys are stored encrypted and no key-encryption key was
    /// given to read or write them.
    #[cfg(feature = "postgres")]
    KekRequired,

    /// A key-encryption key file is not 32 bytes written as 64 hex digits.
    #[cfg(feature = "postgres")]
    BadKekFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it (never its content).
        reason: &'static str,
    },

    /// The private key of a certificate was encrypted under another
    /// key-encryption key than the one given.
    #[cfg(feature = "postgres")]
    WrongKek {
        /// The id of the certificate whose key was asked for.
        id: u64,
    },

    /// A stored private key does not decrypt under its own key-encryption
    /// key: the row was moved from another certificate, or altered.
    #[cfg(feature = "postgres")]
    KeyRowMismatch {
        /// The id of the certificate whose key was asked for.
        id: u64,
    },

    /// An id is larger than a database store holds (ids are PostgreSQL
    /// `bigint`s).
    #[cfg(feature = "postgres")]
    IdOutOfRange {
        /// Which id, e.g. `CertID` or `collection id`.
        what: &'static str,
        /// The id.
        id: u64,
        /// The largest id allowed.
        max: u64,
    },
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidThumbprint { input, reason } => write!(f, "invalid thumbprint {input:?}: {reason}"),
            Self::InvalidSerialNumber { input, reason } => write!(f, "invalid serial number {input:?}: {reason}"),
            Self::InvalidUuid { input, reason } => write!(f, "invalid uuId {input:?}: {reason}"),
            Self::InvalidDistinguishedName {
                input,
                position,
                reason,
            } => write!(f, "invalid distinguished name {input:?}: {reason} (at byte {position})"),
            Self::InvalidClaim { input, reason } => write!(f, "invalid claim {input:?}: {reason}"),
            Self::InvalidQuery(error) => error.fmt(f),
            Self::UnknownChoice {
                option,
                input,
                accepted,
            } => write!(f, "invalid {option} {input:?}: {accepted} is accepted"),
            Self::InvalidIterations { iterations, min, max } => write!(
                f,
                "iteration count {iterations} is not accepted: give between {min} and {max} \
(fewer make the password cheap to guess offline, more take minutes)"
            ),
            Self::InvalidPassword { reason } => write!(f, "unusable password: {reason}"),
            Self::NotBmpString { what, text } => write!(
                f,
                "the {what} {text:?} has characters outside the Basic Multilingual Plane, which a BMPString cannot hold"
            ),
            Self::UnreadableCertificates { reason } => write!(f, "cannot read certificates: {reason}"),
            Self::InvalidRequest { reason } => write!(f, "invalid request: {reason}"),
            Self::MissingLookup => write!(
                f,
                "no certificate named: give a CertID, a thumbprint, a serial number with an issuer DN, or a uuId"
            ),
            Self::IncompleteLookup { given, missing } => write!(f, "{given} needs {missing} as well"),
            Self::ConflictingLookups {
                first,
                first_id,
                second,
                second_id,
            } => write!(
                f,
                "conflicting lookups: {first} names certificate {first_id}, {second} names {}",
                second_id.map_or_else(|| "none".to_owned(), |id| id.to_string())
            ),
            Self::NotFound { lookup } => write!(f, "no certificate matches {lookup}"),
            Self::AmbiguousLookup { lookup, count } => write!(
                f,
                "{lookup} matches {count} certificates; name one by thumbprint or CertID"
            ),
            Self::UnstableId { id, skipped } => {
                let skipped = skipped.display();
                write!(
                    f,
                    "CertID {id} may have moved: {skipped} was skipped while loading, so automatic ids after it shift; \
name the certificate by thumbprint, or give it a fixed id in the manifest"
                )
            }
            Self::IncompatibleOptions { first, second } => {
                write!(f, "incompatible options: {first} cannot be used with {second}")
            }
            Self::CspNotAllowed { csp } => write!(
                f,
                "cryptographic service provider {csp:?} is not allowed by the exporter's settings"
            ),
            Self::IncompleteChain { missing_issuer } => {
                write!(f, "incomplete chain: no issuer {missing_issuer:?} in the store")
            }
            Self::ChainTooLong { limit } => write!(f, "chain longer than the depth limit of {limit} issuers"),
            Self::ChainBudgetExceeded { what, limit } => write!(
                f,
                "chain building gave up after {limit} {what}; the store holds too many or too large candidate issuers"
            ),
            Self::MalformedCertificate { what, .. } => {
                write!(f, "certificate {what} is not a well-formed X.509 certificate")
            }
            Self::EmptyChain { what } => write!(f, "no certificate given: {what} needs at least one"),
            Self::DuplicateCertificate { position, first } => write!(
                f,
                "certificate #{position} of the chain is the same certificate as #{first}; give each certificate once"
            ),
            Self::CertificateTooLarge { what, size, limit } => write!(
                f,
                "certificate of {size} bytes in {what} is larger than the {limit} bytes a store accepts"
            ),
            Self::Io { path, kind } => {
                let path = path.display();
                write!(f, "cannot read {path}: {kind}")
            }
            Self::NotARegularFile { path, kind } => {
                let path = path.display();
                write!(
                    f,
                    "{path} is {kind}, not a regular file; only regular files are read, so a device or pipe cannot feed endless or blocking input"
                )
            }
            Self::FileTooLarge { path, what, limit } => {
                let path = path.display();
                write!(f, "{path} holds more than {limit} bytes, the limit for {what}")
            }
            Self::BadStoreFile { path, reason } => {
                let path = path.display();
                write!(f, "bad store file {path}: {reason}")
            }
            Self::BadManifest { path, reason } => {
                let path = path.display();
                write!(f, "bad store manifest {path}: {reason}")
            }
            Self::IdTaken { id, by } => write!(f, "id {id} is already taken by certificate {by}"),
            Self::AlreadyStored {
                certificate,
                stored,
                wanted,
            } => write!(
                f,
                "certificate {certificate} is already stored as {stored}, not {wanted}"
            ),
            Self::UuidTaken { uuid, by } => write!(f, "uuId {uuid} is already given to certificate {by}"),
            Self::StoreFull { limit } => write!(f, "the store is full ({limit} certificates)"),
            Self::KeyNotInChain { certificates } => write!(
                f,
                "the private key belongs to none of the {certificates} certificate(s) given; include the key's own certificate in the chain"
            ),
            Self::WrongPassword { key } => write!(
                f,
                "the password does not decrypt the private key {key} (or the encrypted key was altered)"
            ),
            Self::KeyMismatch { key, certificate } => {
                write!(f, "private key {key} does not match certificate {certificate}")
            }
            Self::UnpairedKey { key } => write!(f, "private key {key} matches no certificate in the store"),
            Self::BadPrivateKey { key, reason } => write!(f, "unusable private key {key}: {reason}"),
            Self::PasswordRequired => write!(
                f,
                "a private key is exported only encrypted, and no password (or an empty one) was given to encrypt it"
            ),
            Self::NoPrivateKey { certificate } => write!(f, "no private key for certificate {certificate}"),
            Self::KeyExportRestricted { policy } => write!(f, "Private key access is restricted in {policy} policy"),
            Self::AccessDenied => write!(f, "access denied"),
            Self::ScopeRequired {
                collections,
                containers,
                key,
            } => write!(f, "{}", scope_required(collections, containers, *key)),
            Self::Random => write!(f, "the random number source failed"),
            Self::Encoding { what, .. } => write!(f, "cannot encode {what}"),
            #[cfg(feature = "cli")]
            Self::Write { path, kind } => {
                let path = path.display();
                write!(f, "cannot write {path}: {kind}")
            }
            #[cfg(feature = "cli")]
            Self::OutputExists { path } => {
                let path = path.display();
                write!(f, "{path} exists; it is not replaced unless asked (--force)")
            }
            Self::Backend(_) => write!(f, "certificate store failed"),
            Self::StoreUnavailable(_) => {
                write!(f, "the certificate store cannot be reached for now; try again later")
            }
            #[cfg(feature = "postgres")]
            Self::SchemaTooNew { found, supported } => write!(
                f,
                "the database's certexport schema is version {found}, newer than version {supported} that this build reads; use a newer certexport"
            ),
            #[cfg(feature = "postgres")]
            Self::SchemaOutdated { found, required } => write!(
                f,
                "the database's certexport schema is version {found}, this build needs version {required}: run `certexport db migrate`"
            ),
            #[cfg(feature = "postgres")]
            Self::KekRequired => write!(
                f,
                "private keys in the database are encrypted: give the key-encryption key (--kek-file FILE or CERTEXPORT_KEK_FILE)"
            ),
            #[cfg(feature = "postgres")]
            Self::BadKekFile { path, reason } => {
                let path = path.display();
                write!(f, "bad key-encryption key file {path}: {reason}")
            }
            #[cfg(feature = "postgres")]
            Self::WrongKek { id } => write!(
                f,
                "the private key of certificate {id} does not decrypt: it was encrypted under another key-encryption key than the one given"
            ),
            #[cfg(feature = "postgres")]
            Self::KeyRowMismatch { id } => write!(
                f,
                "the private key stored for certificate {id} does not decrypt with the right key-encryption key: the row belongs to another certificate or was altered"
            ),
            #[cfg(feature = "postgres")]
            Self::IdOutOfRange { what, id, max } => write!(
                f,
                "{what} {id} is larger than {max}, the largest a database store holds"
            ),
        }
    }
}

impl std::error::Error for ExportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::MalformedCertificate { source, .. } | Self::Encoding { source, .. } => Some(source),
            Self::Backend(backend) | Self::StoreUnavailable(backend) => Some(backend),
            _ => None,
        }
    }
}

impl ExportError {
    /// An [`ExportError::Backend`] wrapping the error of a custom
    /// [`CertificateStore`](crate::store::CertificateStore) (a database driver's, say).
    pub fn backend(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Backend(BackendError(Arc::new(error)))
    }

    /// An [`ExportError::StoreUnavailable`] wrapping why the store cannot
    /// be reached (a refused connection, a server shutting down).
    pub fn store_unavailable(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::StoreUnavailable(BackendError(Arc::new(error)))
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
        move |source| Self::Encoding {
            what,
            source: DerError(source),
        }
    }

    /// [`ExportError::MalformedCertificate`] for the certificate `what`
    /// names; the name is made only if there is an error.
    pub(crate) fn malformed(what: impl Fn() -> String) -> impl Fn(der::Error) -> Self {
        move |source| Self::MalformedCertificate {
            what: what(),
            source: DerError(source),
        }
    }
}

/// What the DER decoder or encoder underneath found wrong, and where (the
/// byte offset): the `source` of [`ExportError::MalformedCertificate`] and
/// [`ExportError::Encoding`]. Opaque, so the crate's API does not expose a
/// pre-1.0 codec's type; its `Display` is the description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerError(pub(crate) der::Error);

impl std::fmt::Display for DerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for DerError {}

impl DerError {
    pub(crate) fn of(error: impl Into<der::Error>) -> Self {
        Self(error.into())
    }
}

/// The sentence of [`ExportError::ScopeRequired`]: what the caller's
/// claims reach, and what to add to the request.
fn scope_required(collections: &[u64], containers: &[u64], key: bool) -> String {
    let list = |ids: &[u64]| ids.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
    let mut reach = Vec::new();
    if !collections.is_empty() {
        reach.push(format!("collection(s) {}", list(collections)));
    }
    if !containers.is_empty() {
        reach.push(format!("store container(s) {}", list(containers)));
    }
    let (missing, add) = if key {
        (
            "collection",
            "a key export is checked at a collection: add the collection the certificate is in \
             (Scope::collection(id), collectionId=id, --collection-id id)",
        )
    } else {
        (
            "collection or container",
            "add the collection or container the certificate is in \
             (Scope::collection(id), collectionId=id, --collection-id id; \
             Scope::container(id), containerId=id, --container-id id)",
        )
    };
    format!(
        "access denied: this caller's rights are scoped to {} and the request names no {missing}; {add}",
        reach.join(" and ")
    )
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
