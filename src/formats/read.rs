//! Reading what a certificate file holds: PEM (any number of
//! `CERTIFICATE`, `PKCS7`, `PRIVATE KEY`, `EC PRIVATE KEY` and `RSA PRIVATE
//! KEY` blocks, with any text between them, such as the `subject=` lines
//! this crate writes), a DER certificate, a DER P7B, or a DER private key.

use super::{p7b, pem};
use crate::certificate::CertificateView;
use crate::error::ExportError;
use crate::fast_der::Reader;
use crate::key::PrivateKey;

/// One thing a file held.
pub(crate) enum Item {
    /// A certificate's DER, not yet checked beyond its outer element.
    Certificate(Box<[u8]>),
    Key(PrivateKey),
}

/// The certificates and keys of one file's bytes, in file order; the
/// error says what is wrong (never quoting more than a short label).
pub(crate) fn items(bytes: &[u8]) -> Result<Vec<Item>, String> {
    if let Some(start) = pem::first_block(bytes) {
        return pem_items(bytes, start);
    }
    if CertificateView::parse(bytes).is_ok() {
        return Ok(vec![Item::Certificate(bytes.into())]);
    }
    if let Ok(certificates) = p7b::decode(bytes) {
        return Ok(certificates.into_iter().map(|c| Item::Certificate(c.into())).collect());
    }
    if let Ok(key) = PrivateKey::from_der(bytes) {
        return Ok(vec![Item::Key(key)]);
    }
    Err("neither PEM nor a DER certificate, P7B or private key".into())
}

fn pem_items(bytes: &[u8], start: usize) -> Result<Vec<Item>, String> {
    let mut items = Vec::new();
    for block in pem::blocks(bytes, start)? {
        let label = block.label;
        match label {
            "CERTIFICATE" | "X509 CERTIFICATE" => items.push(Item::Certificate(block.der.into())),
            "TRUSTED CERTIFICATE" => {
                // OpenSSL's trust settings follow the certificate; the
                // certificate itself is checked when it is stored.
                let certificate = Reader::new(&block.der)
                    .next()
                    .map_err(|e| format!("the {label} block: {}", der::Error::from(e)))?;
                items.push(Item::Certificate(certificate.raw.into()));
            }
            "PKCS7" | "CMS" => {
                for certificate in p7b::decode(&block.der).map_err(|e| format!("the {label} block: {e}"))? {
                    items.push(Item::Certificate(certificate.into()));
                }
            }
            "PRIVATE KEY" | "EC PRIVATE KEY" | "RSA PRIVATE KEY" | "ENCRYPTED PRIVATE KEY" => {
                items.push(Item::Key(
                    PrivateKey::from_pem_block(label, block.text).map_err(|e| e.to_string())?,
                ));
            }
            // Blocks that sit beside certificates and keys but are not ours to load.
            "EC PARAMETERS" | "X509 CRL" | "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" | "PUBLIC KEY" => {}
            other => return Err(format!("unknown PEM block {other:?}")),
        }
    }
    Ok(items)
}

/// The certificates of a PEM, DER or P7B file's bytes, in file order, each
/// checked to be one X.509 certificate (private keys and the other blocks
/// PEM files carry beside certificates are passed over). Bytes that hold
/// no certificate — a key file, say — are refused
/// ([`ExportError::UnreadableCertificates`]).
///
/// ```
/// let bundle = std::fs::read("tests/data/bundles/chain.pem")?;
/// let chain = certexport::formats::read_certificates(&bundle)?;
/// assert_eq!(chain.len(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_certificates(bytes: &[u8]) -> Result<Vec<Vec<u8>>, ExportError> {
    let unreadable = |reason| ExportError::UnreadableCertificates { reason };
    let mut certificates = Vec::new();
    for item in items(bytes).map_err(unreadable)? {
        if let Item::Certificate(der) = item {
            CertificateView::parse(&der).map_err(|e| unreadable(format!("malformed certificate: {e}")))?;
            certificates.push(der.into_vec());
        }
    }
    if certificates.is_empty() {
        return Err(unreadable(
            "they hold no certificate (only private keys or other PEM blocks)".into(),
        ));
    }
    Ok(certificates)
}
