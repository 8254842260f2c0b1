#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod access;
mod artifact;
mod base64;
mod certificate;
pub mod chain;
mod encode;
mod error;
mod export;
mod hash;
pub mod ids;
pub mod key;
mod lookup;
mod matrix;
mod name;
mod random;
pub mod request;
pub mod store;
mod tlv;

pub use access::{Caller, Claim, Scope};
pub use artifact::ExportArtifact;
pub use certificate::CertificateSummary;
pub use chain::{Budget, ChainPolicy, IncompleteChains, RootCertificate};
pub use error::{BackendError, ExportError};
pub use export::{CspPolicy, ExportSettings, ExportTime, Exporter};
pub use ids::{CertId, Lookup, SerialNumber, Thumbprint, Uuid};
pub use key::{KeyEncryption, KeyKind, Password, PrivateKey};
pub use name::{DistinguishedName, NameKey};
pub use random::{OsRandom, RandomSource};
pub use request::{
    CertificateFormat, ChainOrder, ExportRequest, FileExtension, KeyExport, KeyPlacement, P7bEncoding, PfxOptions,
    PfxProfile,
};
pub use store::{CertMetadata, CertificateStore, KeyAccess, KeyPolicy, MemoryStore, StoredCertificate, StoredKey};
