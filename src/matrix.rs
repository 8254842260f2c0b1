//! The format / extension / chain / key matrix: which
//! combinations a request may ask for, and every choice they resolve to.
//!
//! | format | output | IncludeChain | default ext. | ext. allowed |
//! | --- | --- | --- | --- | --- |
//! | CER | PEM, end-entity | ignored | `.cer` | CER |
//! | CRT | PEM, end-entity | ignored | `.crt` | CRT |
//! | DER | DER, one certificate | error | `.cer` | CER, CRT |
//! | PEM | PEM, chain optional | chain | `.pem` | CER, CRT, PEM |
//! | P7B | PKCS#7 | required | `.p7b` | P7B |
//! | PFX | PKCS#12 with key | chain | `.pfx` | PFX |
//! | ZIP | PEM files of certificate, chain and key | chain | `.zip` | ZIP |
//!
//! With a key: PEM (certificates then key) or PFX; a key alone is PEM
//! (`.key`, or `.pem`) or, with format DER, DER (`.p8`). [`plan`] resolves
//! everything the encoder needs — the key scheme, the PFX profile, the
//! encodings — so the encoder takes the [`Plan`], never the request. The
//! matches have no `_` arm, so a new format does not compile until every
//! rule says what it does with it.

use crate::error::ExportError;
use crate::formats::{KeyEncoding, KeyEncryption, P7bEncoding, PfxOptions, PfxProfile};
use crate::key::Password;
use crate::request::{CertificateFormat as F, ExportRequest, FileExtension as E, KeyExport, KeyPlacement};

/// What one export produces, with every choice resolved.
#[derive(Debug)]
pub(crate) struct Plan<'r> {
    pub(crate) output: Output<'r>,
    pub(crate) extension: E,
}

/// The shape of the output and how it is written.
#[derive(Debug)]
pub(crate) enum Output<'r> {
    /// One certificate, DER.
    Der,
    /// PEM certificate blocks (the chain, or the end entity), then the key
    /// if there is one.
    Pem {
        chain: bool,
        subject_headers: bool,
        key: Option<KeyProtection<'r>>,
    },
    /// PKCS#7 SignedData with the chain.
    P7b { encoding: P7bEncoding },
    /// The key alone, PKCS#8.
    KeyOnly {
        encoding: KeyEncoding,
        protection: KeyProtection<'r>,
    },
    /// PKCS#12 with the key.
    Pfx {
        chain: bool,
        password: &'r Password,
        options: &'r PfxOptions,
    },
    /// A ZIP of the certificate, the chain and the key, each as PEM.
    #[cfg(feature = "zip")]
    Zip {
        chain: bool,
        subject_headers: bool,
        protection: KeyProtection<'r>,
    },
}

/// How a key leaves: encrypted, or (asked for by name) not.
#[derive(Debug, Clone, Copy)]
pub(crate) enum KeyProtection<'r> {
    Encrypted {
        password: &'r Password,
        encryption: KeyEncryption,
    },
    DangerUnencrypted,
}

impl Output<'_> {
    /// Whether the output holds the chain.
    pub(crate) fn chain(&self) -> bool {
        match self {
            Output::Der | Output::KeyOnly { .. } => false,
            Output::Pem { chain, .. } | Output::Pfx { chain, .. } => *chain,
            #[cfg(feature = "zip")]
            Output::Zip { chain, .. } => *chain,
            Output::P7b { .. } => true,
        }
    }

    /// Whether the output holds certificates.
    pub(crate) fn certificates(&self) -> bool {
        match self {
            Output::Der | Output::Pem { .. } | Output::P7b { .. } | Output::Pfx { .. } => true,
            #[cfg(feature = "zip")]
            Output::Zip { .. } => true,
            Output::KeyOnly { .. } => false,
        }
    }

    /// Whether the output holds the private key.
    pub(crate) fn needs_key(&self) -> bool {
        match self {
            Output::Der | Output::P7b { .. } | Output::Pem { key: None, .. } => false,
            Output::Pem { key: Some(_), .. } | Output::KeyOnly { .. } | Output::Pfx { .. } => true,
            #[cfg(feature = "zip")]
            Output::Zip { .. } => true,
        }
    }

    /// Whether the format itself is one that holds a key (PFX, ZIP), so
    /// an error need not say "with a private key".
    fn carries_key_by_format(&self) -> bool {
        match self {
            Output::Pfx { .. } => true,
            #[cfg(feature = "zip")]
            Output::Zip { .. } => true,
            _ => false,
        }
    }

    /// The MIME type of the output.
    pub(crate) fn content_type(&self) -> &'static str {
        match self {
            Output::Der => "application/pkix-cert",
            Output::Pem { .. }
            | Output::KeyOnly {
                encoding: KeyEncoding::Pem,
                ..
            } => "application/x-pem-file",
            Output::P7b { .. } => "application/pkcs7-mime",
            Output::KeyOnly {
                encoding: KeyEncoding::Der,
                ..
            } => "application/pkcs8",
            Output::Pfx { .. } => "application/x-pkcs12",
            #[cfg(feature = "zip")]
            Output::Zip { .. } => "application/zip",
        }
    }
}

/// Checks the request's options against the matrix and resolves them.
pub(crate) fn plan(request: &ExportRequest) -> Result<Plan<'_>, ExportError> {
    let format = request.format;
    let chain = request.include_chain;
    let subject_headers = request.include_subject_header;
    let protection = match &request.private_key {
        KeyExport::None => None,
        KeyExport::Encrypted {
            password, encryption, ..
        } => Some(KeyProtection::Encrypted {
            password,
            encryption: *encryption,
        }),
        KeyExport::DangerUnencrypted { .. } => Some(KeyProtection::DangerUnencrypted),
    };
    let (output, default, allowed): (Output<'_>, E, &[E]) = match (request.private_key.placement(), protection) {
        (None, _) | (_, None) => match format {
            F::Cer => (Output::pem(false, subject_headers, None), E::Cer, &[E::Cer]),
            F::Crt => (Output::pem(false, subject_headers, None), E::Crt, &[E::Crt]),
            F::Der if chain => return Err(incompatible("format DER (it holds one certificate)", "IncludeChain")),
            F::Der => (Output::Der, E::Cer, &[E::Cer, E::Crt]),
            F::Pem => (
                Output::pem(chain, subject_headers, None),
                E::Pem,
                &[E::Cer, E::Crt, E::Pem],
            ),
            F::P7b if !chain => {
                return Err(incompatible(
                    "format P7B",
                    "IncludeChain = false (P7B requires the chain)",
                ));
            }
            F::P7b => (
                Output::P7b {
                    encoding: request.p7b_encoding,
                },
                E::P7b,
                &[E::P7b],
            ),
            F::Pfx => return Err(incompatible("format PFX", "no private key (a PFX carries the key)")),
            #[cfg(feature = "zip")]
            F::Zip => return Err(incompatible("format ZIP", "no private key (a ZIP carries the key)")),
        },
        (Some(KeyPlacement::WithCertificate), Some(protection)) => match format {
            F::Pem => (
                Output::pem(chain, subject_headers, Some(protection)),
                E::Pem,
                &[E::Cer, E::Crt, E::Pem],
            ),
            F::Pfx => (pfx(request, chain, protection)?, E::Pfx, &[E::Pfx]),
            #[cfg(feature = "zip")]
            F::Zip => (
                Output::Zip {
                    chain,
                    subject_headers,
                    protection,
                },
                E::Zip,
                &[E::Zip],
            ),
            F::Cer | F::Crt | F::Der | F::P7b => {
                return Err(incompatible(
                    &format!("format {format}"),
                    "a private key (use PEM or PFX)",
                ));
            }
        },
        (Some(KeyPlacement::KeyOnly), Some(protection)) => {
            if chain {
                return Err(incompatible("a key-only export", "IncludeChain"));
            }
            let key_only = |encoding| Output::KeyOnly { encoding, protection };
            match format {
                F::Pem => (key_only(KeyEncoding::Pem), E::Key, &[E::Key, E::Pem]),
                F::Der => (key_only(KeyEncoding::Der), E::P8, &[E::P8]),
                F::Cer | F::Crt | F::P7b | F::Pfx => {
                    return Err(incompatible(
                        "a key-only export",
                        &format!("format {format} (use PEM or DER)"),
                    ));
                }
                #[cfg(feature = "zip")]
                F::Zip => {
                    return Err(incompatible(
                        "a key-only export",
                        &format!("format {format} (use PEM or DER)"),
                    ));
                }
            }
        }
    };
    let extension = match request.extension {
        None => default,
        Some(ext) if allowed.contains(&ext) => ext,
        Some(ext) => {
            let with = if output.needs_key() && !output.carries_key_by_format() {
                " with a private key"
            } else {
                ""
            };
            return Err(incompatible(
                &format!("format {format}{with}"),
                &format!("file extension .{}", ext.as_str()),
            ));
        }
    };
    Ok(Plan { output, extension })
}

impl<'r> Output<'r> {
    fn pem(chain: bool, subject_headers: bool, key: Option<KeyProtection<'r>>) -> Self {
        Output::Pem {
            chain,
            subject_headers,
            key,
        }
    }
}

/// A PFX needs a password, and its encryption is its profile's: the legacy
/// key scheme with the modern profile asks for two things at once.
fn pfx<'r>(request: &'r ExportRequest, chain: bool, protection: KeyProtection<'r>) -> Result<Output<'r>, ExportError> {
    match protection {
        KeyProtection::DangerUnencrypted => Err(incompatible(
            "format PFX",
            "an unencrypted key (a PFX needs a password)",
        )),
        KeyProtection::Encrypted {
            encryption: KeyEncryption::LegacyPkcs12TripleDes { .. },
            ..
        } if request.pfx.profile == PfxProfile::Modern => Err(incompatible(
            "format PFX with the modern profile",
            "the legacy 3DES key encryption (choose the legacy PFX profile)",
        )),
        KeyProtection::Encrypted { password, .. } => Ok(Output::Pfx {
            chain,
            password,
            options: &request.pfx,
        }),
    }
}

fn incompatible(first: &str, second: &str) -> ExportError {
    ExportError::IncompatibleOptions {
        first: first.to_owned(),
        second: second.to_owned(),
    }
}
