//! The file formats of SPEC §3 and §6 — PEM certificate chains, P7B,
//! encrypted PKCS#8 and PKCS#12 — as stateless functions, for programs
//! that already hold a chain's DER and a key and need no store, caller or
//! lookup (the role of Python's `pkcs7.serialize_certificates` and
//! `pkcs12.serialize_key_and_certificates`). The [`Exporter`](crate::Exporter)
//! writes its artifacts through these same functions.
//!
//! Certificates are given as DER (anything that is `AsRef<[u8]>`: `Vec<u8>`,
//! `&[u8]`, rustls' `CertificateDer`), each checked to be one X.509
//! certificate and written out byte for byte, in the order given.
//!
//! ```
//! use certexport::formats::{self, P7bEncoding, PfxOptions};
//! use certexport::random::OsRandom;
//! use certexport::{Password, PrivateKey};
//!
//! // A chain (end entity first) and its key, as a program might hold them.
//! let chain = formats::read_certificates(&std::fs::read("tests/data/bundles/chain.pem")?)?;
//! let key = PrivateKey::from_pem(&std::fs::read_to_string("tests/data/pki/03-rsa.example.com.key")?)?;
//!
//! let p7b = formats::p7b(&chain, P7bEncoding::Der)?;
//! let pfx = formats::pfx(&key, &chain, &Password::new("s3cret!")?, &PfxOptions::default(), &OsRandom)?;
//! # assert!(!p7b.is_empty() && !pfx.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod p7b;
pub(crate) mod pbe;
pub(crate) mod pbkdf2;
pub(crate) mod pem;
mod pfx;
mod pkcs8;
mod read;
pub(crate) mod zip;

use zeroize::Zeroizing;

use crate::certificate::CertificateView;
use crate::error::ExportError;
use crate::key::{Password, PrivateKey};
use crate::random::RandomSource;

pub(crate) use pfx::PfxContents;
pub use pfx::{PfxOptions, PfxProfile};
pub use pkcs8::{KeyEncoding, KeyEncryption, encrypted_pkcs8};
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

/// The certificates as PEM `CERTIFICATE` blocks, in the order given, each
/// preceded by a `subject=<RFC 4514 DN>` line when `subject_headers` is
/// true (SPEC §3's `IncludeSubjectHeader`).
pub fn pem_chain(chain: &[impl AsRef<[u8]>], subject_headers: bool) -> Result<Vec<u8>, ExportError> {
    let views = views(chain)?;
    let blocks: Vec<_> = views
        .iter()
        .map(|(der, view)| (*der, subject_headers.then_some(view.subject)))
        .collect();
    let mut out = Vec::new();
    pem::certificate_blocks(&mut out, &blocks)?;
    Ok(out)
}

/// A certificates-only PKCS#7 bundle of the certificates, in the order
/// given (which OpenSSL, Windows and Java read as the chain order).
pub fn p7b(chain: &[impl AsRef<[u8]>], encoding: P7bEncoding) -> Result<Vec<u8>, ExportError> {
    let views = views(chain)?;
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
/// order given, under `password` with `options`' profile and iterations.
/// The certificate whose public key is the key's gets the `localKeyId`
/// (and `friendlyName`, if given) that ties it to the key;
/// [`ExportError::KeyMismatch`] if none holds it.
pub fn pfx(
    key: &PrivateKey,
    chain: &[impl AsRef<[u8]>],
    password: &Password,
    options: &PfxOptions,
    rng: &dyn RandomSource,
) -> Result<Zeroizing<Vec<u8>>, ExportError> {
    let views = views(chain)?;
    let end_entity = views
        .iter()
        .position(|(_, view)| key.matches_public_key(view.spki))
        .ok_or_else(|| ExportError::KeyMismatch {
            key: "key".into(),
            certificate: "any certificate of the chain".into(),
        })?;
    let ders: Vec<&[u8]> = views.iter().map(|(der, _)| *der).collect();
    let contents = PfxContents {
        pkcs8: key.secret_pkcs8_der(),
        certificates: &ders,
        end_entity,
        friendly_name: options.friendly_name.as_deref(),
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
/// is not one DER certificate.
fn views<T: AsRef<[u8]>>(chain: &[T]) -> Result<Vec<(&[u8], CertificateView<'_>)>, ExportError> {
    chain
        .iter()
        .enumerate()
        .map(|(i, der)| {
            let der = der.as_ref();
            let view =
                CertificateView::parse(der).map_err(ExportError::malformed(|| format!("#{} of the chain", i + 1)))?;
            Ok((der, view))
        })
        .collect()
}
