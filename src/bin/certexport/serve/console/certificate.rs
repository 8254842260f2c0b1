//! The certificate page: its facts, the chain an export would hold (built
//! by the exporter, with the same access checks as a download), and how
//! long each certificate is still valid.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use certexport::ids::{CertId, Thumbprint};
use certexport::options::{KeyExport, KeyPlacement, ScopeRule};
use certexport::store::CertificateStore;
use certexport::{CertificateFormat, CertificateSummary, ExportError, ExportRequest, Exporter, Password};
use der::Decode as _;
use der::asn1::ObjectIdentifier;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

use super::page::{common_name, esc, utc};

/// What the page shows of one certificate.
pub(crate) struct Facts {
    pub(crate) id: u64,
    /// Where the caller has it: downloads ask there too.
    pub(crate) reach: Reach,
    /// The chain as an export would build it, end-entity first (only the
    /// certificate itself when the chain cannot be completed).
    pub(crate) chain: Vec<CertificateSummary>,
    /// Why the chain stops short, if it does.
    pub(crate) chain_problem: Option<String>,
    pub(crate) sha256: String,
    pub(crate) names: Vec<String>,
    pub(crate) key_algorithm: &'static str,
    pub(crate) collections: Vec<u64>,
    /// Whether the caller may export the private key (the store holds one,
    /// the caller's claims and the key policy allow it).
    pub(crate) key_export: bool,
}

/// Where the console finds a certificate for a caller: in any collection
/// of the certificate the caller holds claims for (the AppViewX call's
/// rule), or else in a store container the caller holds a read claim for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// [`ScopeRule::AnyCollectionOfTheCertificate`].
    Collections,
    /// The scope of container `k`.
    Container(u64),
}

impl Reach {
    /// A request for certificate `id` in this reach.
    pub(crate) fn request(self, id: u64) -> ExportRequest {
        let mut request = ExportRequest::new(CertId(id));
        match self {
            Reach::Collections => request.scope_rule = ScopeRule::AnyCollectionOfTheCertificate,
            Reach::Container(k) => request.scope.container_id = Some(k),
        }
        request
    }
}

/// A certificate found for a caller: where, and its chain.
struct Found {
    reach: Reach,
    /// The chain's DER, end-entity first.
    ders: Vec<Vec<u8>>,
    /// Why the chain stops short, if it does.
    chain_problem: Option<String>,
}

/// The first reach in which `caller` may have certificate `id`, with
/// the chain an export builds there (or, when it cannot be completed, the
/// certificate alone and why). A certificate the caller may not have and
/// one that does not exist are both [`ExportError::AccessDenied`] (or
/// [`ExportError::NotFound`] for a caller with system-wide rights).
fn find(
    exporter: &Exporter<Box<dyn CertificateStore>>,
    caller: &certexport::Caller,
    id: u64,
) -> Result<Found, ExportError> {
    let containers = caller.claims().iter().filter_map(|claim| match claim {
        certexport::Claim::ReadStoreContainer(k) => Some(Reach::Container(*k)),
        _ => None,
    });
    let mut refused = ExportError::AccessDenied;
    for reach in std::iter::once(Reach::Collections).chain(containers) {
        let mut chained = reach.request(id);
        chained.format = CertificateFormat::Pem;
        chained.include_chain = true;
        match exporter.certificates(caller, &chained) {
            Ok(ders) => {
                return Ok(Found {
                    reach,
                    ders,
                    chain_problem: None,
                });
            }
            Err(
                e @ (ExportError::IncompleteChain { .. }
                | ExportError::ChainTooLong { .. }
                | ExportError::ChainBudgetExceeded { .. }),
            ) => {
                return Ok(Found {
                    reach,
                    ders: exporter.certificates(caller, &reach.request(id))?,
                    chain_problem: Some(e.to_string()),
                });
            }
            Err(e @ (ExportError::AccessDenied | ExportError::NotFound { .. })) => refused = e,
            Err(e) => return Err(e),
        }
    }
    Err(refused)
}

/// The facts of certificate `id` as `caller` may see them; a certificate
/// the caller may not have and one that does not exist are both
/// [`ExportError::AccessDenied`] or [`ExportError::NotFound`], which the
/// page shows alike.
pub(crate) fn facts(
    exporter: &Exporter<Box<dyn CertificateStore>>,
    caller: &certexport::Caller,
    id: u64,
) -> Result<Facts, ExportError> {
    let Found {
        reach,
        ders,
        chain_problem,
    } = find(exporter, caller, id)?;
    let leaf = ders.first().ok_or(ExportError::AccessDenied)?;
    let chain = ders
        .iter()
        .map(|der| CertificateSummary::from_der(der))
        .collect::<Result<Vec<_>, _>>()?;
    let collections = match exporter.store().certificate(CertId(id))? {
        Some(stored) => stored.metadata.collections.clone(),
        None => Vec::new(),
    };
    Ok(Facts {
        id,
        reach,
        sha256: Thumbprint::sha256_of(leaf).to_string(),
        names: subject_alt_names(leaf),
        key_algorithm: key_algorithm(leaf),
        collections,
        key_export: may_export_key(exporter, caller, reach, id),
        chain,
        chain_problem,
    })
}

/// Whether a key export of certificate `id` would pass every check (the
/// exporter's own, so the console offers exactly what the server allows).
/// The password is a placeholder: nothing is encrypted.
fn may_export_key(
    exporter: &Exporter<Box<dyn CertificateStore>>,
    caller: &certexport::Caller,
    reach: Reach,
    id: u64,
) -> bool {
    let Ok(placeholder) = Password::new("placeholder".to_owned()) else {
        return false;
    };
    let mut request = reach.request(id);
    request.private_key = KeyExport::encrypted(KeyPlacement::WithCertificate, placeholder);
    exporter.certificates(caller, &request).is_ok()
}

/// The DNS names, IP addresses, e-mail addresses and URIs of the subject
/// alternative name extension, as text.
fn subject_alt_names(der: &[u8]) -> Vec<String> {
    let Ok(certificate) = x509_cert::Certificate::from_der(der) else {
        return Vec::new();
    };
    let Some(extensions) = certificate.tbs_certificate().extensions() else {
        return Vec::new();
    };
    let san_oid = ObjectIdentifier::new_unwrap("2.5.29.17");
    let Some(san) = extensions
        .iter()
        .find(|e| e.extn_id == san_oid)
        .and_then(|e| SubjectAltName::from_der(e.extn_value.as_bytes()).ok())
    else {
        return Vec::new();
    };
    san.0
        .iter()
        .filter_map(|name| match name {
            GeneralName::DnsName(n) => Some(format!("DNS:{}", n.as_str())),
            GeneralName::Rfc822Name(n) => Some(format!("email:{}", n.as_str())),
            GeneralName::UniformResourceIdentifier(n) => Some(format!("URI:{}", n.as_str())),
            GeneralName::IpAddress(ip) => ip_text(ip.as_bytes()).map(|ip| format!("IP:{ip}")),
            _ => None,
        })
        .collect()
}

fn ip_text(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes)
            .ok()
            .map(|b| std::net::Ipv4Addr::from(b).to_string()),
        16 => <[u8; 16]>::try_from(bytes)
            .ok()
            .map(|b| std::net::Ipv6Addr::from(b).to_string()),
        _ => None,
    }
}

/// The public key's algorithm, by its OID.
fn key_algorithm(der: &[u8]) -> &'static str {
    let Ok(certificate) = x509_cert::Certificate::from_der(der) else {
        return "unknown";
    };
    let spki = certificate.tbs_certificate().subject_public_key_info();
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
        .map(|oid| oid.to_string());
    match (spki.algorithm.oid.to_string().as_str(), curve.as_deref()) {
        ("1.2.840.113549.1.1.1", _) => "RSA",
        ("1.2.840.113549.1.1.10", _) => "RSA-PSS",
        ("1.2.840.10045.2.1", Some("1.2.840.10045.3.1.7")) => "ECDSA P-256",
        ("1.2.840.10045.2.1", Some("1.3.132.0.34")) => "ECDSA P-384",
        ("1.2.840.10045.2.1", Some("1.3.132.0.35")) => "ECDSA P-521",
        ("1.2.840.10045.2.1", _) => "ECDSA",
        ("1.3.101.112", _) => "Ed25519",
        ("1.3.101.113", _) => "Ed448",
        _ => "other",
    }
}

/// Now, in seconds since the Unix epoch.
pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Validity at a glance: a class for the colour and a sentence, the days
/// counted from `now`.
pub(crate) fn validity(summary: &CertificateSummary, now: i64) -> (&'static str, String) {
    validity_days(summary.not_before, summary.not_after, now)
}

/// [`validity`] of a certificate valid from `not_before` to `not_after`.
pub(crate) fn validity_days(not_before: i64, not_after: i64, now: i64) -> (&'static str, String) {
    const DAY: i64 = 86_400;
    if now < not_before {
        let days = (not_before - now).div_euclid(DAY);
        ("bad", format!("Not yet valid: starts in {days} days"))
    } else if now > not_after {
        let days = (now - not_after).div_euclid(DAY);
        ("bad", format!("Expired {days} days ago"))
    } else {
        let days = (not_after - now).div_euclid(DAY);
        let class = if days < 30 { "warn" } else { "good" };
        (class, format!("Valid: {days} days left"))
    }
}

/// The page's main part.
pub(crate) fn render(facts: &Facts, now: i64) -> String {
    let leaf = &facts.chain[0];
    let (class, sentence) = validity(leaf, now);
    let mut html = String::new();
    let _ = write!(
        html,
        "<h1>{}</h1><p class=\"dn\">{}</p><p class=\"badge {class}\" role=\"status\">{}</p>\
         <p><a class=\"button\" href=\"/console/certificates/{}/download\">Download…</a></p>\
         <h2>Facts</h2><dl class=\"facts\">",
        esc(common_name(&leaf.subject)),
        esc(&leaf.subject),
        esc(&sentence),
        facts.id
    );
    let collections = if facts.collections.is_empty() {
        "none".to_owned()
    } else {
        facts
            .collections
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let names = if facts.names.is_empty() {
        "none".to_owned()
    } else {
        facts.names.join(", ")
    };
    let rows: [(&str, String); 11] = [
        ("Id", facts.id.to_string()),
        ("Subject", leaf.subject.clone()),
        ("Issuer", leaf.issuer.clone()),
        ("Serial number", leaf.serial.to_string()),
        ("Not before", utc(leaf.not_before)),
        ("Not after", utc(leaf.not_after)),
        ("Alternative names", names),
        ("Key", facts.key_algorithm.to_owned()),
        ("SHA-1", leaf.sha1.to_string()),
        ("SHA-256", facts.sha256.clone()),
        ("Collections", collections),
    ];
    for (term, value) in rows {
        let _ = write!(html, "<dt>{term}</dt><dd>{}</dd>", esc(&value));
    }
    let key = if facts.key_export {
        "You may export it"
    } else {
        "Not exportable by you (no key in the store, no key claim, or a key policy forbids it)"
    };
    let _ = write!(html, "<dt>Private key</dt><dd>{key}</dd></dl>");
    html.push_str("<h2>Chain</h2><p>As an export builds it from the store, end-entity first.</p><ol class=\"chain\">");
    for summary in &facts.chain {
        let (class, sentence) = validity(summary, now);
        let _ = write!(
            html,
            "<li><span class=\"subject\">{}</span> <span class=\"badge {class}\">{}</span>\
             <br><small>until {} · SHA-1 {}</small></li>",
            esc(&summary.subject),
            esc(&sentence),
            utc(summary.not_after),
            summary.sha1
        );
    }
    html.push_str("</ol>");
    if let Some(problem) = &facts.chain_problem {
        let _ = write!(
            html,
            "<p class=\"badge bad\" role=\"status\">The chain is incomplete: {}</p>",
            esc(problem)
        );
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_counts_days_from_now() {
        let day = 86_400;
        assert_eq!(
            validity_days(0, 100 * day, 10 * day),
            ("good", "Valid: 90 days left".into())
        );
        assert_eq!(
            validity_days(0, 100 * day, 80 * day),
            ("warn", "Valid: 20 days left".into())
        );
        assert_eq!(
            validity_days(0, 100 * day, 103 * day),
            ("bad", "Expired 3 days ago".into())
        );
        assert_eq!(
            validity_days(5 * day, 100 * day, 2 * day),
            ("bad", "Not yet valid: starts in 3 days".into())
        );
    }
}
