//! Naming the certificate to export, and finding it: every
//! lookup of a request is resolved against the store, and they must agree.

use std::fmt;

use crate::error::{ExportError, shown};
use crate::ids::{CertId, SerialNumber, Thumbprint, Uuid};
use crate::name::{DistinguishedName, NameKey};
use crate::store::Certificate;
use crate::store::{CertMetadata, CertificateStore};

/// One way of naming a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lookup {
    /// The store's id (the reference API's `CertID`).
    CertId(CertId),
    /// The SHA-1 or SHA-256 digest of the certificate's DER.
    Thumbprint(Thumbprint),
    /// Serial number and issuer, which name one certificate in a sane PKI.
    IssuerSerial {
        /// The issuer's distinguished name.
        issuer: DistinguishedName,
        /// The serial number.
        serial: SerialNumber,
    },
    /// The string id a store or manifest gave the certificate (the
    /// AppViewX API's `uuId`).
    Uuid(Uuid),
}

impl Lookup {
    /// The lookups of an untyped request (JSON, command line), in the order
    /// `CertID`, `Thumbprint`, `SerialNumber` + `IssuerDN`. At least one
    /// must be given; a serial number needs its issuer and the reverse.
    pub fn from_parts(
        cert_id: Option<u64>,
        thumbprint: Option<&str>,
        serial: Option<&str>,
        issuer: Option<&str>,
    ) -> Result<Vec<Lookup>, ExportError> {
        let mut lookups = Vec::new();
        if let Some(id) = cert_id {
            lookups.push(Lookup::CertId(CertId(id)));
        }
        if let Some(thumbprint) = thumbprint {
            lookups.push(Lookup::Thumbprint(thumbprint.parse()?));
        }
        match (serial, issuer) {
            (Some(serial), Some(issuer)) => lookups.push(Lookup::IssuerSerial {
                serial: serial.parse()?,
                issuer: issuer.parse()?,
            }),
            (Some(_), None) => {
                return Err(ExportError::IncompleteLookup {
                    given: "SerialNumber",
                    missing: "IssuerDN",
                });
            }
            (None, Some(_)) => {
                return Err(ExportError::IncompleteLookup {
                    given: "IssuerDN",
                    missing: "SerialNumber",
                });
            }
            (None, None) => {}
        }
        if lookups.is_empty() {
            return Err(ExportError::MissingLookup);
        }
        Ok(lookups)
    }
}

impl fmt::Display for Lookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lookup::CertId(id) => write!(f, "CertID {id}"),
            Lookup::Thumbprint(t) => write!(f, "thumbprint {t}"),
            Lookup::IssuerSerial { issuer, serial } => {
                write!(f, "serial number {serial} of issuer {:?}", shown(issuer.as_str()))
            }
            Lookup::Uuid(uuid) => write!(f, "uuId {uuid}"),
        }
    }
}

impl From<CertId> for Lookup {
    fn from(id: CertId) -> Self {
        Lookup::CertId(id)
    }
}

impl From<Thumbprint> for Lookup {
    fn from(thumbprint: Thumbprint) -> Self {
        Lookup::Thumbprint(thumbprint)
    }
}

impl From<Uuid> for Lookup {
    fn from(uuid: Uuid) -> Self {
        Lookup::Uuid(uuid)
    }
}

/// What the lookups of a request found.
// One value per export, moved once: boxing the certificate would add an
// allocation to every export for nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Resolution<'s, 'r> {
    /// The one certificate they all name, its fields read.
    Found(Certificate<'s>),
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
                first_id: first_id.0,
                second: second.to_string(),
                second_id: second_id.map(|id| id.0),
            },
        }
    }
}

/// Which stored certificates a lookup may name: the caller's read right,
/// decided from the metadata alone.
pub(crate) type Visible<'a> = &'a dyn Fn(&CertMetadata) -> bool;

/// The certificate every lookup of `first` and `rest` names, among those
/// `visible` lets through. A certificate it does not is passed over before
/// any of it is parsed, so that for a caller it costs what an absent one
/// costs.
pub(crate) fn resolve<'s, 'r>(
    store: &'s dyn CertificateStore,
    first: &'r Lookup,
    rest: &'r [Lookup],
    visible: Visible<'_>,
) -> Result<Resolution<'s, 'r>, ExportError> {
    let certificate = match resolve_one(store, first, visible)? {
        One::Found(certificate) => certificate,
        One::None => return Ok(Resolution::Missed(Miss::NotFound(first))),
        One::Several(count) => return Ok(Resolution::Missed(Miss::Ambiguous(first, count))),
    };
    for second in rest {
        let second_id = match resolve_one(store, second, visible)? {
            One::Found(other) if other.stored.id == certificate.stored.id => continue,
            One::Found(other) => Some(other.stored.id),
            One::None | One::Several(_) => None,
        };
        return Ok(Resolution::Missed(Miss::Conflict {
            first,
            first_id: certificate.stored.id,
            second,
            second_id,
        }));
    }
    Ok(Resolution::Found(certificate))
}

#[allow(clippy::large_enum_variant)] // As `Resolution`.
enum One<'s> {
    Found(Certificate<'s>),
    None,
    Several(usize),
}

fn resolve_one<'s>(
    store: &'s dyn CertificateStore,
    lookup: &Lookup,
    visible: Visible<'_>,
) -> Result<One<'s>, ExportError> {
    let found = match lookup {
        Lookup::CertId(id) => store.certificate(*id)?,
        Lookup::Thumbprint(t) => store.certificate_by_thumbprint(t)?,
        Lookup::Uuid(uuid) => store.certificate_by_uuid(uuid)?,
        Lookup::IssuerSerial { issuer, serial } => {
            let mut found = matching(store, issuer.key(), serial, visible)?;
            if let Some(reversed) = issuer.reversed_key() {
                found.extend(matching(store, reversed, serial, visible)?);
                found.sort_unstable_by_key(|c| c.stored.id);
                found.dedup_by_key(|c| c.stored.id);
            }
            return Ok(match found.len() {
                0 => One::None,
                1 => found.pop().map_or(One::None, One::Found),
                count => One::Several(count),
            });
        }
    };
    Ok(match found {
        Some(stored) if visible(&stored.metadata) => One::Found(Certificate::new(stored)),
        _ => One::None,
    })
}

/// The store's candidates for `issuer` + `serial`, each checked against
/// the certificate itself: a store's index may return extra candidates,
/// and the wrong certificate must never be exported.
fn matching<'s>(
    store: &'s dyn CertificateStore,
    issuer: &NameKey,
    serial: &SerialNumber,
    visible: Visible<'_>,
) -> Result<Vec<Certificate<'s>>, ExportError> {
    let mut found = Vec::new();
    for stored in store.certificates_by_issuer_serial(issuer, serial)? {
        if !visible(&stored.metadata) {
            continue;
        }
        let certificate = Certificate::new(stored);
        let Ok(view) = certificate.view() else {
            continue;
        };
        if view.serial_magnitude() == serial.as_bytes() && NameKey::from_der(view.issuer).is_ok_and(|k| k == *issuer) {
            found.push(certificate);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA1: &str = "5fb7ee0633e259dbad0c4c9ae6d38f1a61c7dc25";

    #[test]
    fn untyped_parts_need_a_whole_lookup() {
        assert_eq!(
            Lookup::from_parts(None, None, None, None),
            Err(ExportError::MissingLookup)
        );
        assert!(matches!(
            Lookup::from_parts(None, None, Some("01"), None),
            Err(ExportError::IncompleteLookup { .. })
        ));
        assert!(matches!(
            Lookup::from_parts(None, None, None, Some("CN=x")),
            Err(ExportError::IncompleteLookup { .. })
        ));
        assert_eq!(
            Lookup::from_parts(Some(1), Some(SHA1), Some("01"), Some("CN=x"))
                .unwrap()
                .len(),
            3
        );
    }
}
