//! The bytes of an export: the [`Plan`](crate::matrix::Plan)'s output
//! written through the stateless encoders of [`crate::formats`], from
//! certificates already read and a key already checked. Certificates are
//! written from their stored DER, never re-encoded.

use zeroize::Zeroizing;

use crate::certificate::CertificateView;
use crate::error::ExportError;
use crate::formats::{self, KeyEncoding, PfxContents, pem};
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

/// The bytes of `output`.
pub(crate) fn encode(
    output: &Output<'_>,
    inputs: &Inputs<'_, '_>,
    rng: &dyn RandomSource,
) -> Result<Zeroizing<Vec<u8>>, ExportError> {
    let mut out = Zeroizing::new(Vec::new());
    match output {
        Output::Der => out.extend_from_slice(end_entity(inputs)?.der()),
        Output::Pem {
            subject_headers, key, ..
        } => {
            let views: Vec<(&[u8], CertificateView<'_>)> =
                inputs.certificates.iter().map(|c| (c.der(), c.view())).collect();
            pem::certificate_blocks(&mut out, &views, *subject_headers)?;
            if let Some(protection) = key {
                let key = key_of(inputs)?;
                let bytes = key_bytes(key, *protection, KeyEncoding::Pem, rng)?;
                out.extend_from_slice(&bytes);
            }
        }
        Output::P7b { encoding } => {
            let ders: Vec<&[u8]> = inputs.certificates.iter().map(Certificate::der).collect();
            out.extend_from_slice(&formats::p7b_of_checked(&ders, *encoding)?);
        }
        Output::KeyOnly { encoding, protection } => {
            let key = key_of(inputs)?;
            out = key_bytes(key, *protection, *encoding, rng)?;
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
            out = formats::pfx_of_checked(&contents, password, options, rng)?;
        }
        Output::Zip {
            subject_headers,
            protection,
            ..
        } => out = zip(inputs, *subject_headers, *protection, rng)?,
    }
    Ok(out)
}

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
    pem::certificate_blocks(&mut certificate, &[(leaf.der(), leaf.view())], subject_headers)?;
    let others: Vec<(&[u8], CertificateView<'_>)> = inputs
        .certificates
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != inputs.end_entity)
        .map(|(_, c)| (c.der(), c.view()))
        .collect();
    let mut chain = Vec::new();
    pem::certificate_blocks(&mut chain, &others, subject_headers)?;
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

/// The key as PKCS#8: encrypted, or (only when asked for by name) plain.
fn key_bytes(
    key: &PrivateKey,
    protection: KeyProtection<'_>,
    encoding: KeyEncoding,
    rng: &dyn RandomSource,
) -> Result<Zeroizing<Vec<u8>>, ExportError> {
    match protection {
        KeyProtection::Encrypted { password, encryption } => {
            formats::encrypted_pkcs8(key, password, encryption, encoding, rng)
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
        source: der::ErrorKind::Failed.into(),
    })
}
