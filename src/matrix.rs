//! The format / extension / chain / key matrix (SPEC §3 and §6): which
//! combinations a request may ask for, and what each one produces.
//!
//! | format | output | IncludeChain | default ext. | ext. allowed |
//! | --- | --- | --- | --- | --- |
//! | CER | PEM, end-entity | ignored | `.cer` | CER |
//! | CRT | PEM, end-entity | ignored | `.crt` | CRT |
//! | DER | DER, one certificate | error | `.cer` | CER, CRT |
//! | PEM | PEM, chain optional | chain | `.pem` | CER, CRT, PEM |
//! | P7B | PKCS#7 | required | `.p7b` | P7B |
//! | PFX | PKCS#12 with key | chain | `.pfx` | PFX |
//!
//! With a key: PEM (certificates then key) or PFX; a key alone is PEM
//! (`.key`, or `.pem`) or, with format DER, DER (`.p8`). The matches below
//! have no `_` arm, so a new format does not compile until every rule says
//! what it does with it.

use crate::ExportError;
use crate::request::{CertificateFormat as F, ExportRequest, FileExtension as E, KeyExport, KeyPlacement};

/// What one export produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) output: Output,
    pub(crate) extension: E,
}

/// The shape of the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Output {
    /// One certificate, DER.
    Der,
    /// PEM certificate blocks, then the key if `with_key`.
    Pem { chain: bool, with_key: bool },
    /// PKCS#7 SignedData with the chain.
    P7b,
    /// The key alone, PKCS#8, PEM or DER.
    KeyOnly { der: bool },
    /// PKCS#12 with the key.
    Pfx { chain: bool },
}

impl Output {
    pub(crate) fn chain(self) -> bool {
        match self {
            Output::Der | Output::KeyOnly { .. } => false,
            Output::Pem { chain, .. } | Output::Pfx { chain } => chain,
            Output::P7b => true,
        }
    }

    pub(crate) fn needs_key(self) -> bool {
        match self {
            Output::Der | Output::P7b | Output::Pem { with_key: false, .. } => false,
            Output::Pem { with_key: true, .. } | Output::KeyOnly { .. } | Output::Pfx { .. } => true,
        }
    }

    /// The MIME type of the output (SPEC §4).
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Output::Der => "application/pkix-cert",
            Output::Pem { .. } | Output::KeyOnly { der: false } => "application/x-pem-file",
            Output::P7b => "application/pkcs7-mime",
            Output::KeyOnly { der: true } => "application/pkcs8",
            Output::Pfx { .. } => "application/x-pkcs12",
        }
    }
}

/// Checks the request's options against the matrix.
pub(crate) fn plan(request: &ExportRequest) -> Result<Plan, ExportError> {
    let format = request.format;
    let chain = request.include_chain;
    let (output, default, allowed): (Output, E, &[E]) = match request.private_key.placement() {
        None => match format {
            F::Cer => (
                Output::Pem {
                    chain: false,
                    with_key: false,
                },
                E::Cer,
                &[E::Cer],
            ),
            F::Crt => (
                Output::Pem {
                    chain: false,
                    with_key: false,
                },
                E::Crt,
                &[E::Crt],
            ),
            F::Der if chain => return Err(incompatible("format DER (it holds one certificate)", "IncludeChain")),
            F::Der => (Output::Der, E::Cer, &[E::Cer, E::Crt]),
            F::Pem => (
                Output::Pem { chain, with_key: false },
                E::Pem,
                &[E::Cer, E::Crt, E::Pem],
            ),
            F::P7b if !chain => {
                return Err(incompatible(
                    "format P7B",
                    "IncludeChain = false (P7B requires the chain)",
                ));
            }
            F::P7b => (Output::P7b, E::P7b, &[E::P7b]),
            F::Pfx => return Err(incompatible("format PFX", "no private key (a PFX carries the key)")),
        },
        Some(KeyPlacement::WithCertificate) => match format {
            F::Pem => (Output::Pem { chain, with_key: true }, E::Pem, &[E::Cer, E::Crt, E::Pem]),
            F::Pfx if matches!(request.private_key, KeyExport::DangerUnencrypted { .. }) => {
                return Err(incompatible(
                    "format PFX",
                    "an unencrypted key (a PFX needs a password)",
                ));
            }
            F::Pfx => (Output::Pfx { chain }, E::Pfx, &[E::Pfx]),
            F::Cer | F::Crt | F::Der | F::P7b => {
                return Err(incompatible(
                    &format!("format {format}"),
                    "a private key (use PEM or PFX)",
                ));
            }
        },
        Some(KeyPlacement::KeyOnly) => {
            if chain {
                return Err(incompatible("a key-only export", "IncludeChain"));
            }
            match format {
                F::Pem => (Output::KeyOnly { der: false }, E::Key, &[E::Key, E::Pem]),
                F::Der => (Output::KeyOnly { der: true }, E::P8, &[E::P8]),
                F::Cer | F::Crt | F::P7b | F::Pfx => {
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
            let with = if output.needs_key() && !matches!(output, Output::Pfx { .. }) {
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

fn incompatible(first: &str, second: &str) -> ExportError {
    ExportError::IncompatibleOptions {
        first: first.to_owned(),
        second: second.to_owned(),
    }
}
