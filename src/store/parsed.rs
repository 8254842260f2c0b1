//! A stored certificate with its fields read, carried through an export.

use std::ops::Range;

use super::StoredCertificate;
use crate::certificate::CertificateView;
use crate::error::ExportError;

/// A stored certificate with its fields read: what a lookup returns and
/// chain building and the encoders use, so an export reads each
/// certificate once.
#[derive(Debug, Clone)]
pub(crate) struct Certificate<'s> {
    pub(crate) stored: StoredCertificate<'s>,
    spans: Spans,
}

/// Where each field sits in the DER (the DER may be owned by the
/// certificate, so the fields are kept as offsets, not borrows; the DER
/// reader's lengths fit 32 bits).
#[derive(Debug, Clone)]
struct Spans {
    tbs: Span,
    serial: Span,
    issuer: Span,
    subject: Span,
    spki: Span,
    subject_key_id: Option<Span>,
    authority_key_id: Option<Span>,
    signature_algorithm: Span,
    signature: Span,
    not_before: i64,
    not_after: i64,
}

/// A field's start and end offsets.
#[derive(Debug, Clone, Copy)]
struct Span(u32, u32);

impl Span {
    fn range(self) -> Range<usize> {
        self.0 as usize..self.1 as usize
    }
}

impl<'s> Certificate<'s> {
    /// Reads the fields of `stored`.
    pub(crate) fn parse(stored: StoredCertificate<'s>) -> Result<Self, ExportError> {
        let view =
            CertificateView::parse(&stored.der).map_err(ExportError::malformed(|| format!("CertID {}", stored.id)))?;
        let base = stored.der.as_ptr() as usize;
        // Offsets within the DER, which the reader bounds to 32 bits.
        let span = |part: &[u8]| {
            let start = part.as_ptr() as usize - base;
            Span(start as u32, (start + part.len()) as u32)
        };
        let spans = Spans {
            tbs: span(view.tbs),
            serial: span(view.serial),
            issuer: span(view.issuer),
            subject: span(view.subject),
            spki: span(view.spki),
            subject_key_id: view.subject_key_id.map(span),
            authority_key_id: view.authority_key_id.map(span),
            signature_algorithm: span(view.signature_algorithm),
            signature: span(view.signature),
            not_before: view.not_before,
            not_after: view.not_after,
        };
        Ok(Self { stored, spans })
    }

    /// The fields, borrowed from the DER.
    pub(crate) fn view(&self) -> CertificateView<'_> {
        let der = &*self.stored.der;
        let s = &self.spans;
        CertificateView {
            tbs: &der[s.tbs.range()],
            serial: &der[s.serial.range()],
            issuer: &der[s.issuer.range()],
            subject: &der[s.subject.range()],
            not_before: s.not_before,
            not_after: s.not_after,
            spki: &der[s.spki.range()],
            subject_key_id: s.subject_key_id.map(|r| &der[r.range()]),
            authority_key_id: s.authority_key_id.map(|r| &der[r.range()]),
            signature_algorithm: &der[s.signature_algorithm.range()],
            signature: &der[s.signature.range()],
        }
    }

    /// The DER, exactly as stored.
    pub(crate) fn der(&self) -> &[u8] {
        &self.stored.der
    }

    /// The SHA-256 of the DER: the store's, or computed.
    pub(crate) fn sha256(&self) -> [u8; 32] {
        self.stored.sha256.unwrap_or_else(|| {
            use sha2::Digest;
            sha2::Sha256::digest(&self.stored.der).into()
        })
    }
}
