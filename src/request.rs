//! What a caller asks for: [`ExportRequest`] and its option types.

use std::fmt;
use std::str::FromStr;

use crate::access::{Scope, ScopeRule};
use crate::error::ExportError;
use crate::formats::{KeyEncryption, P7bEncoding, PfxOptions, PfxProfile};
use crate::key::Password;
use crate::lookup::Lookup;

/// One export: which certificate, in which form, with what.
///
/// Build it with [`ExportRequest::new`] and set the fields that differ from
/// the defaults (PEM, no chain, end-entity first, subject headers on, no
/// key, modern PFX profile, no collection or container scope).
#[derive(Debug)]
#[non_exhaustive]
pub struct ExportRequest {
    /// The certificate to export.
    pub lookup: Lookup,
    /// Further lookups from an untyped request; each must name the same
    /// certificate as `lookup`, or the request is refused as conflicting.
    pub also_matching: Vec<Lookup>,
    /// The output format (default PEM).
    pub format: CertificateFormat,
    /// The file extension; `None` takes the format's default.
    pub extension: Option<FileExtension>,
    /// Include the chain up to the root (PEM and P7B; P7B requires it).
    pub include_chain: bool,
    /// The order of a multi-certificate output.
    pub chain_order: ChainOrder,
    /// Write `subject=<DN>` before each PEM certificate block (default true).
    pub include_subject_header: bool,
    /// DER or PEM for P7B output.
    pub p7b_encoding: P7bEncoding,
    /// Whether and how the private key is exported.
    pub private_key: KeyExport,
    /// PKCS#12 settings, for format PFX.
    pub pfx: PfxOptions,
    /// The collection or container the caller's rights are checked against.
    pub scope: Scope,
    /// How the caller's claims are matched to the certificate (the claims checked at
    /// `scope`, the default; or the AppViewX call's rule).
    pub scope_rule: ScopeRule,
}

impl ExportRequest {
    /// A request for `lookup` with every option at its default.
    pub fn new(lookup: impl Into<Lookup>) -> Self {
        Self {
            lookup: lookup.into(),
            also_matching: Vec::new(),
            format: CertificateFormat::Pem,
            extension: None,
            include_chain: false,
            chain_order: ChainOrder::EndEntityFirst,
            include_subject_header: true,
            p7b_encoding: P7bEncoding::Der,
            private_key: KeyExport::None,
            pfx: PfxOptions::default(),
            scope: Scope::default(),
            scope_rule: ScopeRule::default(),
        }
    }

    /// A request naming its certificate by several lookups at once, as an
    /// untyped (JSON, command-line) request may; see [`Lookup::from_parts`].
    pub fn from_lookups(lookups: Vec<Lookup>) -> Result<Self, ExportError> {
        let mut lookups = lookups.into_iter();
        let first = lookups.next().ok_or(ExportError::MissingLookup)?;
        let mut request = Self::new(first);
        request.also_matching = lookups.collect();
        Ok(request)
    }
}

/// Output formats (the reference API's `x-certificateformat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CertificateFormat {
    /// PEM text of the end-entity certificate, `.cer`.
    Cer,
    /// PEM text of the end-entity certificate, `.crt`.
    Crt,
    /// Raw DER of one certificate.
    Der,
    /// PEM text, one block per certificate, chain optional.
    Pem,
    /// PKCS#7 SignedData holding certificates only; needs the chain.
    P7b,
    /// PKCS#12 with the private key.
    Pfx,
    /// A ZIP archive of the certificate, its chain and the encrypted key,
    /// each a PEM file (the Keyfactor Recover call's `ZIP`). Feature `zip`.
    #[cfg(feature = "zip")]
    #[cfg_attr(docsrs, doc(cfg(feature = "zip")))]
    Zip,
}

/// File extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FileExtension {
    /// `.cer`
    Cer,
    /// `.crt`
    Crt,
    /// `.pem`
    Pem,
    /// `.p7b`
    P7b,
    /// `.pfx`
    Pfx,
    /// `.key`: an encrypted PKCS#8 key alone, PEM.
    Key,
    /// `.p8`: an encrypted PKCS#8 key alone, DER.
    P8,
    /// `.zip`. Feature `zip`.
    #[cfg(feature = "zip")]
    #[cfg_attr(docsrs, doc(cfg(feature = "zip")))]
    Zip,
}

impl FileExtension {
    /// The extension in lower case, without the dot.
    pub fn as_str(self) -> &'static str {
        match self {
            FileExtension::Cer => "cer",
            FileExtension::Crt => "crt",
            FileExtension::Pem => "pem",
            FileExtension::P7b => "p7b",
            FileExtension::Pfx => "pfx",
            FileExtension::Key => "key",
            FileExtension::P8 => "p8",
            #[cfg(feature = "zip")]
            FileExtension::Zip => "zip",
        }
    }
}

impl CertificateFormat {
    /// The format's name in upper case, as the reference API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            CertificateFormat::Cer => "CER",
            CertificateFormat::Crt => "CRT",
            CertificateFormat::Der => "DER",
            CertificateFormat::Pem => "PEM",
            CertificateFormat::P7b => "P7B",
            CertificateFormat::Pfx => "PFX",
            #[cfg(feature = "zip")]
            CertificateFormat::Zip => "ZIP",
        }
    }
}

/// Parses case-insensitively, by the names of the `Display` output.
macro_rules! parse_by_name {
    ($type:ty, $what:literal, $accepted:expr, $all:expr) => {
        impl FromStr for $type {
            type Err = ExportError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let wanted = s.trim().trim_start_matches('.');
                $all.iter()
                    .copied()
                    .find(|v| v.as_str().eq_ignore_ascii_case(wanted))
                    .ok_or_else(|| ExportError::UnknownChoice {
                        option: $what,
                        input: crate::error::shown(s),
                        accepted: $accepted,
                    })
            }
        }

        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// Every format this build writes.
const FORMATS: &[CertificateFormat] = &[
    CertificateFormat::Cer,
    CertificateFormat::Crt,
    CertificateFormat::Der,
    CertificateFormat::Pem,
    CertificateFormat::P7b,
    CertificateFormat::Pfx,
    #[cfg(feature = "zip")]
    CertificateFormat::Zip,
];

/// Every extension this build writes.
const EXTENSIONS: &[FileExtension] = &[
    FileExtension::Cer,
    FileExtension::Crt,
    FileExtension::Pem,
    FileExtension::P7b,
    FileExtension::Pfx,
    FileExtension::Key,
    FileExtension::P8,
    #[cfg(feature = "zip")]
    FileExtension::Zip,
];

parse_by_name!(
    CertificateFormat,
    "format",
    if cfg!(feature = "zip") {
        "one of CER, CRT, DER, PEM, P7B, PFX, ZIP"
    } else {
        "one of CER, CRT, DER, PEM, P7B, PFX (ZIP needs certexport's feature `zip`)"
    },
    FORMATS
);
parse_by_name!(
    FileExtension,
    "file extension",
    if cfg!(feature = "zip") {
        "one of cer, crt, pem, p7b, pfx, key, p8, zip"
    } else {
        "one of cer, crt, pem, p7b, pfx, key, p8 (zip needs certexport's feature `zip`)"
    },
    EXTENSIONS
);

/// The order of certificates in a multi-certificate output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChainOrder {
    /// The end-entity certificate first, the root last (the default).
    #[default]
    EndEntityFirst,
    /// The root first, the end-entity certificate last.
    RootFirst,
}

impl ChainOrder {
    fn as_str(self) -> &'static str {
        match self {
            ChainOrder::EndEntityFirst => "EndEntityFirst",
            ChainOrder::RootFirst => "RootFirst",
        }
    }
}

impl FromStr for ChainOrder {
    type Err = ExportError;

    /// `EndEntityFirst` / `RootFirst` (the reference API), or the command
    /// line's `end-entity-first` / `root-first`; case-insensitive.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().replace('-', "").to_ascii_lowercase().as_str() {
            "endentityfirst" => Ok(ChainOrder::EndEntityFirst),
            "rootfirst" => Ok(ChainOrder::RootFirst),
            _ => Err(ExportError::UnknownChoice {
                option: "chain order",
                input: crate::error::shown(s),
                accepted: "EndEntityFirst or RootFirst",
            }),
        }
    }
}

impl fmt::Display for ChainOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an exported key goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyPlacement {
    /// After the certificate(s) in a PEM file, or inside a PFX.
    WithCertificate,
    /// Alone: PKCS#8, PEM or (format DER) DER.
    KeyOnly,
}

/// Whether and how the private key is exported.
#[derive(Debug, Default)]
#[non_exhaustive]
pub enum KeyExport {
    /// Certificates only (the default).
    #[default]
    None,
    /// The key, encrypted under a password.
    Encrypted {
        /// With the certificate, or alone.
        placement: KeyPlacement,
        /// The password; never empty.
        password: Password,
        /// The scheme of a PEM or PKCS#8 key. A PFX is encrypted as its
        /// [`PfxOptions`] say (profile and iterations); asking for the
        /// legacy scheme with the modern PFX profile is refused as
        /// contradictory ([`ExportError::IncompatibleOptions`]).
        encryption: KeyEncryption,
    },
    /// **Dangerous.** The key unencrypted, as `PRIVATE KEY` PKCS#8. Anyone
    /// who reads the file has the key. Never chosen by default.
    DangerUnencrypted {
        /// With the certificate, or alone.
        placement: KeyPlacement,
    },
}

impl KeyExport {
    /// The key encrypted under `password` with the default scheme.
    pub fn encrypted(placement: KeyPlacement, password: Password) -> Self {
        KeyExport::Encrypted {
            placement,
            password,
            encryption: KeyEncryption::default(),
        }
    }

    pub(crate) fn placement(&self) -> Option<KeyPlacement> {
        match self {
            KeyExport::None => None,
            KeyExport::Encrypted { placement, .. } | KeyExport::DangerUnencrypted { placement } => Some(*placement),
        }
    }
}

impl FromStr for PfxProfile {
    type Err = ExportError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "modern" => Ok(PfxProfile::Modern),
            "legacy" => Ok(PfxProfile::Legacy),
            _ => Err(ExportError::UnknownChoice {
                option: "PFX profile",
                input: crate::error::shown(s),
                accepted: "modern or legacy",
            }),
        }
    }
}
