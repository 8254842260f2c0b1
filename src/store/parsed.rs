//! A stored certificate carried through an export, its fields read on
//! first use and then kept.
//!
//! Reading is lazy because most exports need few fields: a PEM or DER
//! export by thumbprint needs only the subject (for the file name), and
//! a chain the exporter remembers needs nothing of its CA certificates but
//! their DER. Chain building reads every field of the certificates it
//! compares, once each. The certificates a store hands out were checked
//! when they were stored ([`MemoryStore`](super::MemoryStore) and the
//! PostgreSQL store read every field on the way in); a field that cannot
//! be read is reported when it is first asked for.

use std::cell::OnceCell;
use std::ops::Range;

use super::StoredCertificate;
use crate::certificate::CertificateView;
use crate::error::ExportError;

/// A stored certificate and, once read, its fields: what a lookup returns
/// and chain building and the encoders use, so an export reads each
/// certificate at most once, and only if it needs to.
#[derive(Debug, Clone)]
pub(crate) struct Certificate<'s> {
    pub(crate) stored: StoredCertificate<'s>,
    spans: OnceCell<Spans>,
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

impl Spans {
    /// The offsets of `view`'s fields in `der`, which it borrows from.
    fn of(der: &[u8], view: &CertificateView<'_>) -> Self {
        let base = der.as_ptr() as usize;
        // Offsets within the DER, which the reader bounds to 32 bits.
        let span = |part: &[u8]| {
            let start = part.as_ptr() as usize - base;
            Span(start as u32, (start + part.len()) as u32)
        };
        Self {
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
        }
    }
}

impl Span {
    fn range(self) -> Range<usize> {
        self.0 as usize..self.1 as usize
    }
}

impl<'s> Certificate<'s> {
    /// `stored`, its fields not read yet.
    pub(crate) fn new(stored: StoredCertificate<'s>) -> Self {
        Self {
            stored,
            spans: OnceCell::new(),
        }
    }

    /// The fields, borrowed from the DER (read on the first call).
    pub(crate) fn view(&self) -> Result<CertificateView<'_>, ExportError> {
        let der = &*self.stored.der;
        let s = match self.spans.get() {
            Some(spans) => spans,
            None => {
                let view = CertificateView::parse(der).map_err(self.malformed())?;
                self.spans.get_or_init(|| Spans::of(der, &view))
            }
        };
        Ok(CertificateView {
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
        })
    }

    /// The subject `Name` element: from the fields if they were read,
    /// otherwise by a walk that stops at the subject.
    pub(crate) fn subject(&self) -> Result<&[u8], ExportError> {
        match self.spans.get() {
            Some(spans) => Ok(&self.stored.der[spans.subject.range()]),
            None => CertificateView::subject_of(&self.stored.der).map_err(self.malformed()),
        }
    }

    fn malformed(&self) -> impl Fn(der::Error) -> ExportError + '_ {
        ExportError::malformed(|| format!("CertID {}", self.stored.id))
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
