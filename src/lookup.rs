//! Finding the certificate a request names (SPEC §2): every lookup of the
//! request is resolved against the store, and they must agree.

use crate::certificate::CertificateView;
use crate::error::ExportError;
use crate::ids::{CertId, Lookup, SerialNumber};
use crate::name::NameKey;
use crate::store::{CertificateStore, StoredCertificate};

/// What the lookups of a request found.
pub(crate) enum Resolution<'s, 'r> {
    /// The one certificate they all name.
    Found(StoredCertificate<'s>),
    /// They name none, several, or different ones. Nothing is formatted
    /// until [`Miss::into_error`], so a caller who may not learn why (the
    /// exporter hides it from scoped callers) pays nothing for the text.
    Missed(Miss<'r>),
}

/// Why the lookups of a request name no single certificate.
pub(crate) enum Miss<'r> {
    NotFound(&'r Lookup),
    Ambiguous(&'r Lookup, usize),
    Conflict {
        first: &'r Lookup,
        first_id: CertId,
        second: &'r Lookup,
        second_id: Option<CertId>,
    },
}

impl Miss<'_> {
    /// The error that tells what happened.
    pub(crate) fn into_error(self) -> ExportError {
        match self {
            Miss::NotFound(lookup) => ExportError::NotFound {
                lookup: lookup.to_string(),
            },
            Miss::Ambiguous(lookup, count) => ExportError::AmbiguousLookup {
                lookup: lookup.to_string(),
                count,
            },
            Miss::Conflict {
                first,
                first_id,
                second,
                second_id,
            } => ExportError::ConflictingLookups {
                first: first.to_string(),
                first_id,
                second: second.to_string(),
                second_id,
            },
        }
    }
}

/// The certificate every lookup of `first` and `rest` names.
pub(crate) fn resolve<'s, 'r>(
    store: &'s dyn CertificateStore,
    first: &'r Lookup,
    rest: &'r [Lookup],
) -> Result<Resolution<'s, 'r>, ExportError> {
    let certificate = match resolve_one(store, first)? {
        One::Found(certificate) => certificate,
        One::None => return Ok(Resolution::Missed(Miss::NotFound(first))),
        One::Several(count) => return Ok(Resolution::Missed(Miss::Ambiguous(first, count))),
    };
    for second in rest {
        let second_id = match resolve_one(store, second)? {
            One::Found(other) if other.id == certificate.id => continue,
            One::Found(other) => Some(other.id),
            One::None | One::Several(_) => None,
        };
        return Ok(Resolution::Missed(Miss::Conflict {
            first,
            first_id: certificate.id,
            second,
            second_id,
        }));
    }
    Ok(Resolution::Found(certificate))
}

enum One<'s> {
    Found(StoredCertificate<'s>),
    None,
    Several(usize),
}

fn resolve_one<'s>(store: &'s dyn CertificateStore, lookup: &Lookup) -> Result<One<'s>, ExportError> {
    let found = match lookup {
        Lookup::CertId(id) => store.certificate(*id)?,
        Lookup::Thumbprint(t) => store.certificate_by_thumbprint(t)?,
        Lookup::Uuid(uuid) => store.certificate_by_uuid(uuid)?,
        Lookup::IssuerSerial { issuer, serial } => {
            let mut found = matching(store, issuer.key(), serial)?;
            if let Some(reversed) = issuer.reversed_key() {
                found.extend(matching(store, reversed, serial)?);
                found.sort_unstable_by_key(|c| c.id);
                found.dedup_by_key(|c| c.id);
            }
            if found.len() > 1 {
                return Ok(One::Several(found.len()));
            }
            found.pop()
        }
    };
    Ok(found.map_or(One::None, One::Found))
}

/// The store's candidates for `issuer` + `serial`, each checked against
/// the certificate itself: a store's index may return extra candidates,
/// and the wrong certificate must never be exported.
fn matching<'s>(
    store: &'s dyn CertificateStore,
    issuer: &NameKey,
    serial: &SerialNumber,
) -> Result<Vec<StoredCertificate<'s>>, ExportError> {
    let mut found = store.certificates_by_issuer_serial(issuer, serial)?;
    found.retain(|certificate| {
        CertificateView::parse(&certificate.der).is_ok_and(|view| {
            view.serial_magnitude() == serial.as_bytes() && NameKey::from_der(view.issuer).is_ok_and(|k| k == *issuer)
        })
    });
    Ok(found)
}
