//! The bytes of an export: the [`Plan`](crate::matrix::Plan)'s output
//! written through the stateless encoders of [`crate::formats`], from
//! certificates already read and a key already checked. Certificates are
//! written from their stored DER, never re-encoded.

use zeroize::Zeroizing;

use crate::error::{DerError, ExportError};
use crate::formats::pem::{self, CertificateBlock};
use crate::formats::{self, KeyEncoding, PfxContents};
use crate::key::PrivateKey;
use crate::matrix::{KeyProtection, Output};
use crate::random::RandomSource;
use crate::store::Certificate;

/// What the encoder writes from.
pub(crate) struct Inputs<'a, 's> {
    /// Certificates in output order; always at least the one asked for
    /// (a key-only output writes none of them).
    pub(crate) certificates: &'a [Certificate<'s>],
    /// Where the certificate that was asked for sits among them.
    pub(crate) end_entity: usize,
    /// Its key, when the output carries one.
    pub(crate) key: Option<&'a PrivateKey>,
    /// The file-name stem (the PFX friendly name's default).
    pub(crate) stem: &'a str,
}

/// The bytes of `output`. They are returned in a plain `Vec`: the
/// [`ExportArtifact`](crate::ExportArtifact) they go into wipes them on drop
/// when they hold a key, and a certificate, being public, is not wiped.
/// Every buffer that held key material on the way is zeroizing.
pub(crate) fn encode(
    output: &Output<'_>,
    inputs: &Inputs<'_, '_>,
    rng: &dyn RandomSource,
) -> Result<Vec<u8>, ExportError> {
    Ok(match output {
        Output::Der => end_entity(inputs)?.der().to_vec(),
        Output::Pem {
            subject_headers, key, ..
        } => {
            let mut out = Vec::new();
            pem::certificate_blocks(&mut out, &pem_blocks(inputs.certificates.iter(), *subject_headers)?)?;
            if let Some(protection) = key {
                let key = key_of(inputs)?;
                // The artifact wipes `out` once it holds the key; should
                // this extend move it, what it leaves behind held only certificates.
                out.extend_from_slice(&key_bytes(key, *protection, KeyEncoding::Pem, rng)?);
            }
            out
        }
        Output::P7b { encoding } => {
            let ders: Vec<&[u8]> = inputs.certificates.iter().map(Certificate::der).collect();
            formats::p7b_of_checked(&ders, *encoding)?
        }
        Output::KeyOnly { encoding, protection } => {
            let key = key_of(inputs)?;
            unwrap_secret(key_bytes(key, *protection, *encoding, rng)?)
        }
        Output::Pfx { password, options, .. } => {
            let key = key_of(inputs)?;
            let ders: Vec<&[u8]> = inputs.certificates.iter().map(Certificate::der).collect();
            let contents = PfxContents {
                pkcs8: key.secret_pkcs8_der(),
                certificates: &ders,
                end_entity: inputs.end_entity,
                friendly_name: Some(options.friendly_name.as_deref().unwrap_or(inputs.stem)),
                csp: options.target_csp.as_deref(),
            };
            unwrap_secret(formats::pfx_of_checked(&contents, password, options, rng)?)
        }
        #[cfg(feature = "zip")]
        Output::Zip {
            subject_headers,
            protection,
            ..
        } => unwrap_secret(zip(inputs, *subject_headers, *protection, rng)?),
    })
}

/// The bytes of a zeroizing buffer, moved out of it (not copied) for the
/// artifact, which wipes them.
fn unwrap_secret(mut secret: Zeroizing<Vec<u8>>) -> Vec<u8> {
    std::mem::take(&mut *secret)
}

#[cfg(feature = "zip")]
/// The ZIP members, named after the file-name stem: `<stem>.pem` (the
/// certificate), `<stem>-chain.pem` (the rest of the chain in the output's
/// order, when there is one) and `<stem>.key` (the key).
fn zip(
    inputs: &Inputs<'_, '_>,
    subject_headers: bool,
    protection: KeyProtection<'_>,
    rng: &dyn RandomSource,
) -> Result<Zeroizing<Vec<u8>>, ExportError> {
    let leaf = end_entity(inputs)?;
    let mut certificate = Vec::new();
    pem::certificate_blocks(&mut certificate, &pem_blocks(std::iter::once(leaf), subject_headers)?)?;
    let others = pem_blocks(
        inputs
            .certificates
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != inputs.end_entity)
            .map(|(_, c)| c),
        subject_headers,
    )?;
    let mut chain = Vec::new();
    pem::certificate_blocks(&mut chain, &others)?;
    let key = key_bytes(key_of(inputs)?, protection, KeyEncoding::Pem, rng)?;
    let names = [
        format!("{}.pem", inputs.stem),
        format!("{}-chain.pem", inputs.stem),
        format!("{}.key", inputs.stem),
    ];
    let mut members: Vec<(&str, &[u8])> = vec![(&names[0], &certificate)];
    if !others.is_empty() {
        members.push((&names[1], &chain));
    }
    members.push((&names[2], &key));
    formats::zip::archive(&members)
}

/// Each certificate's DER with, when headers are asked for, its subject.
fn pem_blocks<'a>(
    certificates: impl Iterator<Item = &'a Certificate<'a>>,
    subject_headers: bool,
) -> Result<Vec<CertificateBlock<'a>>, ExportError> {
    certificates
        .map(|c| Ok((c.der(), if subject_headers { Some(c.subject()?) } else { None })))
        .collect()
}

/// The key as PKCS#8: encrypted, or (only when asked for by name) plain.
fn key_bytes(
    key: &PrivateKey,
    protection: KeyProtection<'_>,
    encoding: KeyEncoding,
    rng: &dyn RandomSource,
) -> Result<Zeroizing<Vec<u8>>, ExportError> {
    match protection {
        KeyProtection::Encrypted { password, encryption } => {
            formats::encrypted_pkcs8_with_rng(key, password, encryption, encoding, rng)
        }
        KeyProtection::DangerUnencrypted => match encoding {
            KeyEncoding::Der => Ok(Zeroizing::new(key.secret_pkcs8_der().to_vec())),
            KeyEncoding::Pem => {
                let mut out = Zeroizing::new(Vec::new());
                pem::secret_block(&mut out, "PRIVATE KEY", key.secret_pkcs8_der())?;
                Ok(out)
            }
        },
    }
}

/// The exporter hands the key to every output that needs one; this keeps
/// the encoder total without a sentinel.
fn key_of<'a>(inputs: &Inputs<'a, '_>) -> Result<&'a PrivateKey, ExportError> {
    match inputs.key {
        Some(key) => Ok(key),
        None => Err(ExportError::NoPrivateKey {
            certificate: crate::ids::Thumbprint::sha1_of(end_entity(inputs)?.der()).to_string(),
        }),
    }
}

fn end_entity<'a, 's>(inputs: &Inputs<'a, 's>) -> Result<&'a Certificate<'s>, ExportError> {
    inputs.certificates.get(inputs.end_entity).ok_or(ExportError::Encoding {
        what: "the certificate",
        source: DerError::of(der::ErrorKind::Failed),
    })
}
