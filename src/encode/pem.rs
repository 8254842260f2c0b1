//! PEM output: certificate blocks with their `subject=` headers, and key blocks.

use zeroize::Zeroizing;

use crate::certificate;
use crate::{ExportError, base64, name};

/// Appends one `CERTIFICATE` block per DER certificate, each preceded by
/// `subject=<RFC 4514 DN>` when `subject_header` is true.
pub(crate) fn certificates(out: &mut Vec<u8>, certificates: &[&[u8]], subject_header: bool) -> Result<(), ExportError> {
    out.reserve(
        certificates
            .iter()
            .map(|der| der.len() / 3 * 4 + der.len() / 48 + 200)
            .sum(),
    );
    for der in certificates {
        if subject_header {
            let malformed = ExportError::malformed(|| "in the chain".into());
            let subject = certificate::subject_of(der).map_err(&malformed)?;
            let subject = name::to_rfc4514(subject).map_err(malformed)?;
            out.extend_from_slice(b"subject=");
            out.extend_from_slice(subject.as_bytes());
            out.push(b'\n');
        }
        block(out, "CERTIFICATE", der);
    }
    Ok(())
}

/// Appends a PEM block of public data (certificates, P7B), with the fast
/// base64 of [`crate::base64`].
pub(crate) fn block(out: &mut Vec<u8>, label: &str, der: &[u8]) {
    out.extend_from_slice(b"-----BEGIN ");
    out.extend_from_slice(label.as_bytes());
    out.extend_from_slice(b"-----\n");
    base64::encode_into(out, der, true);
    out.extend_from_slice(b"-----END ");
    out.extend_from_slice(label.as_bytes());
    out.extend_from_slice(b"-----\n");
}

/// Appends a PEM block of key material through `pem-rfc7468`'s
/// constant-time encoder, into zeroizing memory.
pub(crate) fn key_block(out: &mut Zeroizing<Vec<u8>>, label: &'static str, der: &[u8]) -> Result<(), ExportError> {
    let line_ending = pem_rfc7468::LineEnding::LF;
    let len = pem_rfc7468::encoded_len(label, line_ending, der).map_err(|_| ExportError::Encoding {
        what: "PEM key",
        source: der::ErrorKind::Overflow.into(),
    })?;
    let mut buf = Zeroizing::new(vec![0u8; len]);
    let written = pem_rfc7468::encode(label, line_ending, der, &mut buf)
        .map_err(|_| ExportError::Encoding {
            what: "PEM key",
            source: der::ErrorKind::Overflow.into(),
        })?
        .len();
    out.extend_from_slice(&buf[..written]);
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    Ok(())
}
