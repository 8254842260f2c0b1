//! Writing the output bytes for each shape of the matrix: DER, PEM, P7B,
//! PKCS#8 and PFX. Certificates are written from their stored DER, never
//! re-encoded.

mod p7b;
mod pem;
mod pfx;

use zeroize::Zeroizing;

use crate::ExportError;
use crate::key::{PrivateKey, encrypt_pkcs8};
use crate::matrix::Output;
use crate::random::RandomSource;
use crate::request::{ExportRequest, KeyExport, P7bEncoding};

/// What the encoder writes from.
pub(crate) struct Inputs<'a> {
    /// Certificates in output order.
    pub(crate) certificates: &'a [&'a [u8]],
    /// The certificate that was asked for.
    pub(crate) end_entity: &'a [u8],
    /// Its key, when the output carries one.
    pub(crate) key: Option<&'a PrivateKey>,
    /// The file-name stem (PFX friendly name default).
    pub(crate) stem: &'a str,
}

/// The bytes of `output`.
pub(crate) fn encode(
    output: Output,
    inputs: &Inputs<'_>,
    request: &ExportRequest,
    rng: &dyn RandomSource,
) -> Result<Zeroizing<Vec<u8>>, ExportError> {
    let mut out = Zeroizing::new(Vec::new());
    match output {
        Output::Der => out.extend_from_slice(inputs.end_entity),
        Output::Pem { with_key, .. } => {
            pem::certificates(&mut out, inputs.certificates, request.include_subject_header)?;
            if with_key {
                key(&mut out, inputs, request, rng, false)?;
            }
        }
        Output::P7b => {
            let der = p7b::encode(inputs.certificates);
            match request.p7b_encoding {
                P7bEncoding::Der => out.extend_from_slice(&der),
                P7bEncoding::Pem => pem::block(&mut out, "PKCS7", &der),
            }
        }
        Output::KeyOnly { der } => key(&mut out, inputs, request, rng, der)?,
        Output::Pfx { .. } => {
            let KeyExport::Encrypted { password, .. } = &request.private_key else {
                return Err(ExportError::PasswordRequired);
            };
            let key = inputs.key.ok_or_else(|| ExportError::NoPrivateKey {
                certificate: crate::ids::Thumbprint::sha1_of(inputs.end_entity).to_string(),
            })?;
            let contents = pfx::PfxContents {
                pkcs8: key.secret_pkcs8_der(),
                end_entity: inputs.end_entity,
                certificates: inputs.certificates,
                friendly_name: request.pfx.friendly_name.as_deref().unwrap_or(inputs.stem),
                csp: request.pfx.target_csp.as_deref(),
            };
            out.extend_from_slice(&pfx::encode(
                &contents,
                password,
                request.pfx.profile,
                request.pfx.iterations,
                rng,
            )?);
        }
    }
    Ok(out)
}

/// Appends the key: encrypted PKCS#8 (or, only when asked for by name,
/// plain PKCS#8), as PEM or DER.
fn key(
    out: &mut Zeroizing<Vec<u8>>,
    inputs: &Inputs<'_>,
    request: &ExportRequest,
    rng: &dyn RandomSource,
    der: bool,
) -> Result<(), ExportError> {
    let key = inputs.key.ok_or_else(|| ExportError::NoPrivateKey {
        certificate: crate::ids::Thumbprint::sha1_of(inputs.end_entity).to_string(),
    })?;
    let (label, bytes) = match &request.private_key {
        KeyExport::Encrypted {
            password, encryption, ..
        } => (
            "ENCRYPTED PRIVATE KEY",
            Zeroizing::new(encrypt_pkcs8(key.secret_pkcs8_der(), password, *encryption, rng)?),
        ),
        KeyExport::DangerUnencrypted { .. } => ("PRIVATE KEY", Zeroizing::new(key.secret_pkcs8_der().to_vec())),
        KeyExport::None => return Ok(()),
    };
    if der {
        out.extend_from_slice(&bytes);
        Ok(())
    } else {
        pem::key_block(out, label, &bytes)
    }
}
