//! The file formats — PEM certificate chains, P7B, encrypted PKCS#8 and
//! PKCS#12 — as stateless functions, for programs that already hold a
//! chain's DER and a key and need no store, caller or lookup (the role of
//! Python's `pkcs7.serialize_certificates` and
//! `pkcs12.serialize_key_and_certificates`). The [`Exporter`](crate::Exporter)
//! writes its artifacts through these same functions.
//!
//! Certificates are given as DER (anything that is `AsRef<[u8]>`: `Vec<u8>`,
//! `&[u8]`, rustls' `CertificateDer`), end entity first as TLS and PEM
//! bundles hold them; each is checked to be one X.509 certificate and
//! written out byte for byte, in the [`ChainOrder`] asked for. An empty
//! chain, or one that holds the same certificate twice, is refused
//! ([`ExportError::EmptyChain`], [`ExportError::DuplicateCertificate`]).
//!
//! Salts and IVs come from the operating system's random source; each
//! encrypting function has a `_with_rng` twin that takes a
//! [`RandomSource`] instead, so tests can fix them.
//!
//! ```
//! use certexport::formats::{self, ChainOrder, P7bEncoding, PfxOptions};
//! use certexport::{Password, PrivateKey};
//!
//! // A chain (end entity first) and its key, as a program might hold them.
//! let chain = formats::read_certificates(&std::fs::read("tests/data/bundles/chain.pem")?)?;
//! let key = PrivateKey::from_pem(std::fs::read("tests/data/pki/03-rsa.example.com.key")?)?;
//!
//! let p7b = formats::p7b(&chain, ChainOrder::RootFirst, P7bEncoding::Der)?;
//! let pfx = formats::pfx(&key, &chain, &Password::new("s3cret!")?, &PfxOptions::default())?;
//! assert!(p7b.starts_with(&[0x30]) && pfx.starts_with(&[0x30]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod p7b;
pub(crate) mod pbe;
pub(crate) mod pbkdf2;
pub(crate) mod pem;
mod pfx;
mod pkcs8;
mod read;
#[cfg(feature = "zip")]
pub(crate) mod zip;

use zeroize::Zeroizing;

use crate::certificate::CertificateView;
use crate::error::ExportError;
use crate::key::{Password, PrivateKey};
use crate::random::{OsRandom, RandomSource};

pub use crate::request::ChainOrder;
pub(crate) use pfx::PfxContents;
pub use pfx::{PfxOptions, PfxProfile};
pub use pkcs8::{KeyEncoding, KeyEncryption, encrypted_pkcs8, encrypted_pkcs8_with_rng};
pub use read::read_certificates;
pub(crate) use read::{Item, items};

/// How a P7B is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum P7bEncoding {
    /// Binary DER, as Windows writes `.p7b` files (the default).
    #[default]
    Der,
    /// PEM text with the `PKCS7` label, which `openssl pkcs7` reads.
    Pem,
}

/// Whether each PEM certificate is preceded by a `subject=<RFC 4514 DN>`
/// line, as OpenSSL's `x509 -subject` prints it (the reference API's
/// `IncludeSubjectHeader`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SubjectHeaders {
    /// A `subject=` line before each certificate (the default, as the
    /// reference API).
    #[default]
    Include,
    /// Bare `CERTIFICATE` blocks.
    Omit,
}

/// The certificates as PEM `CERTIFICATE` blocks in `order` (the chain is
/// given end entity first), with or without `subject=` lines.
///
/// ```
/// use certexport::formats::{self, ChainOrder, SubjectHeaders};
///
/// let chain = formats::read_certificates(&std::fs::read("tests/data/bundles/chain.pem")?)?;
/// let pem = formats::pem_chain(&chain, ChainOrder::RootFirst, SubjectHeaders::Include)?;
/// let text = String::from_utf8(pem)?;
/// assert!(text.starts_with("subject=")); // the root's subject comes first
/// assert_eq!(text.matches("-----BEGIN CERTIFICATE-----").count(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn pem_chain(
    chain: &[impl AsRef<[u8]>],
    order: ChainOrder,
    headers: SubjectHeaders,
) -> Result<Vec<u8>, ExportError> {
    let views = ordered(views(chain, "a PEM chain")?, order);
    let blocks: Vec<_> = views
        .iter()
        .map(|(der, view)| (*der, (headers == SubjectHeaders::Include).then_some(view.subject)))
        .collect();
    let mut out = Vec::new();
    pem::certificate_blocks(&mut out, &blocks)?;
    Ok(out)
}

/// A certificates-only PKCS#7 bundle of the certificates in `order` (the
/// chain is given end entity first); OpenSSL, Windows and Java read the
/// bundle's order as the chain order.
pub fn p7b(chain: &[impl AsRef<[u8]>], order: ChainOrder, encoding: P7bEncoding) -> Result<Vec<u8>, ExportError> {
    let views = ordered(views(chain, "a P7B")?, order);
    let ders: Vec<&[u8]> = views.iter().map(|(der, _)| *der).collect();
    p7b_of_checked(&ders, encoding)
}

/// [`p7b`] of certificates already checked.
pub(crate) fn p7b_of_checked(chain: &[&[u8]], encoding: P7bEncoding) -> Result<Vec<u8>, ExportError> {
    let der = p7b::encode(chain)?;
    Ok(match encoding {
        P7bEncoding::Der => der,
        P7bEncoding::Pem => {
            let mut out = Vec::with_capacity(der.len() * 4 / 3 + 64);
            pem::public_block(&mut out, "PKCS7", &der);
            out
        }
    })
}

/// A PKCS#12 file holding `key` and the certificates of `chain`, in the
/// order given, under `password` with `options`' profile and iterations;
/// salts and IVs from the operating system ([`pfx_with_rng`] takes another
/// source). The certificate whose public key is the key's gets the
/// `localKeyId` that ties it to the key, and a `friendlyName` (Java's
/// keystore alias): [`PfxOptions::friendly_name`], or else its subject's
/// common name. [`ExportError::KeyNotInChain`] if no certificate holds the
/// key's public key.
pub fn pfx(
    key: &PrivateKey,
    chain: &[impl AsRef<[u8]>],
    password: &Password,
    options: &PfxOptions,
) -> Result<Zeroizing<Vec<u8>>, ExportError> {
    pfx_with_rng(key, chain, password, options, &OsRandom)
}

/// [`pfx`] with salts and IVs from `rng`.
pub fn pfx_with_rng(
    key: &PrivateKey,
    chain: &[impl AsRef<[u8]>],
    password: &Password,
    options: &PfxOptions,
    rng: &dyn RandomSource,
) -> Result<Zeroizing<Vec<u8>>, ExportError> {
    let views = views(chain, "a PFX")?;
    let end_entity = views
        .iter()
        .position(|(_, view)| key.matches_public_key(view.spki))
        .ok_or(ExportError::KeyNotInChain {
            certificates: views.len(),
        })?;
    let ders: Vec<&[u8]> = views.iter().map(|(der, _)| *der).collect();
    let common_name = match options.friendly_name {
        Some(_) => None,
        None => crate::name::common_name(views[end_entity].1.subject),
    };
    let contents = PfxContents {
        pkcs8: key.secret_pkcs8_der(),
        certificates: &ders,
        end_entity,
        friendly_name: options.friendly_name.as_deref().or(common_name.as_deref()),
        csp: options.target_csp.as_deref(),
    };
    pfx::encode(&contents, password, options.profile, options.iterations, rng)
}

/// The PFX of contents the exporter has already checked.
pub(crate) fn pfx_of_checked(
    contents: &PfxContents<'_>,
    password: &Password,
    options: &PfxOptions,
    rng: &dyn RandomSource,
) -> Result<Zeroizing<Vec<u8>>, ExportError> {
    pfx::encode(contents, password, options.profile, options.iterations, rng)
}

/// Each certificate with its fields, or the error naming the first that
/// is not one DER certificate; an empty chain or a certificate given
/// twice is refused. `what` names the output for the error.
fn views<'c, T: AsRef<[u8]>>(
    chain: &'c [T],
    what: &'static str,
) -> Result<Vec<(&'c [u8], CertificateView<'c>)>, ExportError> {
    if chain.is_empty() {
        return Err(ExportError::EmptyChain { what });
    }
    let mut seen = std::collections::HashMap::with_capacity(chain.len());
    chain
        .iter()
        .enumerate()
        .map(|(i, der)| {
            let der = der.as_ref();
            if let Some(first) = seen.insert(der, i) {
                return Err(ExportError::DuplicateCertificate {
                    position: i + 1,
                    first: first + 1,
                });
            }
            let view =
                CertificateView::parse(der).map_err(ExportError::malformed(|| format!("#{} of the chain", i + 1)))?;
            Ok((der, view))
        })
        .collect()
}

/// The chain, given end entity first, in `order`.
fn ordered<T>(mut chain: Vec<T>, order: ChainOrder) -> Vec<T> {
    match order {
        ChainOrder::EndEntityFirst => {}
        ChainOrder::RootFirst => chain.reverse(),
    }
    chain
}
