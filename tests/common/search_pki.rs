//! Generated certificates for the search tests, and the model the search
//! is judged against: what the generator put into each certificate, and a
//! brute-force filter over it written from the query language's rules
//! (independent of the crate's index and SQL).
//!
//! Each certificate is built field by field (serial, subject with or
//! without a CN, validity, subject alternative names, a public key taken
//! from a fixture of tests/data/pki) and signed with a fixed Ed25519 key;
//! the generator records every value a query compares. Keys: the RSA and
//! P-256 fixtures' private keys are loaded, so the certificates carrying
//! those public keys have a key. Collections, containers and uuIds follow
//! the index. Also used by fuzz/fuzz_targets/search_query.rs.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::cmp::Ordering;

use certexport::PrivateKey;
use certexport::ids::{CertId, Uuid};
use certexport::search::{DateValue, Field, Filter, Operator, SortDirection, SortField, Value};
use certexport::store::MemoryStore;
use ed25519_dalek::{Signer, SigningKey};
use sha1::Digest;

/// The clock the tests take `%TODAY%` at: 2027-03-15T12:00:00Z.
pub const NOW: i64 = 1_805_198_400;
const DAY: i64 = 86_400;

/// What the generator put into one certificate.
#[derive(Debug, Clone)]
pub struct Model {
    pub id: u64,
    pub cn: Option<String>,
    pub dn: String,
    pub issuer: String,
    pub serial: String,
    pub sha1: String,
    pub dns: Vec<String>,
    pub not_before: i64,
    pub not_after: i64,
    pub key_type: &'static str,
    pub key_bits: u64,
    pub has_key: bool,
    pub uuid: Option<String>,
    pub collections: Vec<u64>,
    pub containers: Vec<u64>,
}

/// The fixtures whose public keys the certificates carry: (file, type,
/// bits, whether its private key is loaded).
const KEYS: [(&str, &str, u64, bool); 5] = [
    ("03-rsa.example.com", "RSA", 2048, true),
    ("04-p256.example.com", "ECC", 256, true),
    ("05-p384.example.com", "ECC", 384, false),
    ("06-ed25519.example.com", "Ed25519", 256, false),
    ("07-p521.example.com", "ECC", 521, false),
];

const WORDS: [&str; 8] = ["alpha", "Beta", "gamma", "delta", "Epsilon", "zeta", "eta", "theta"];
const DOMAINS: [&str; 4] = ["example.com", "Example.ORG", "test.net", "corp.example.com"];

/// A store of `count` generated certificates (ids 1..=count) and the model of each.
pub fn store(count: usize) -> (MemoryStore, Vec<Model>) {
    let signer = SigningKey::from_bytes(&[7; 32]);
    // Two issuers: every seventh certificate is the other CA's.
    let issuers = ["Search Test CA", "Other Test CA"].map(|cn| {
        (
            format!("CN={cn},O=certexport tests,C=US"),
            name(&[("2.5.4.6", "US"), ("2.5.4.10", "certexport tests"), ("2.5.4.3", cn)]),
        )
    });
    let spkis: Vec<Vec<u8>> = KEYS.iter().map(|(file, ..)| spki_of(&pem_der(file))).collect();
    let mut store = MemoryStore::new();
    let mut models = Vec::with_capacity(count);
    for i in 0..count {
        let word = WORDS[i % WORDS.len()];
        let domain = DOMAINS[(i / 3) % DOMAINS.len()];
        let cn = match i % 11 {
            10 => None,
            7 => Some(format!("{word} 100%_{i}")),
            _ => Some(format!("{word}-{i}.{domain}")),
        };
        let org = if i % 2 == 0 { "Acme" } else { "Widgets, Inc" };
        let mut attributes = vec![("2.5.4.6", "US".to_owned()), ("2.5.4.10", org.to_owned())];
        if let Some(cn) = &cn {
            attributes.push(("2.5.4.3", cn.clone()));
        }
        let subject = name(&attributes.iter().map(|(o, v)| (*o, v.as_str())).collect::<Vec<_>>());
        let mut dn = String::new();
        if let Some(cn) = &cn {
            dn.push_str(&format!("CN={cn},"));
        }
        dn.push_str(&format!("O={},C=US", org.replace(',', "\\,")));
        let dns: Vec<String> = match i % 5 {
            0 => vec![],
            1 => vec![format!("{word}-{i}.{domain}")],
            _ => vec![format!("{word}-{i}.{domain}"), format!("www.{word}.{domain}")],
        };
        let not_before = NOW - (i as i64 % 400) * DAY - 3_600;
        let not_after = NOW + ((i as i64 * 37) % 200 - 60) * DAY + (i as i64 % 3) * 3_600;
        let key = i % KEYS.len();
        let serial = (i as u64 + 1) * 0x1_0001 + 0x80;
        let (issuer_dn, issuer) = &issuers[usize::from(i % 7 == 0)];
        let tbs = tbs(
            serial,
            issuer,
            &subject,
            not_before,
            not_after,
            &spkis[key],
            &dns,
            i % 4 == 3,
        );
        let der = certificate(&tbs, &signer);
        let id = store.insert(&der).unwrap();
        let uuid = (i % 4 != 0).then(|| format!("Cert-{i:04}"));
        if let Some(uuid) = &uuid {
            store.set_uuid(id, uuid.parse::<Uuid>().unwrap()).unwrap();
        }
        let collections: Vec<u64> = match i % 6 {
            0 => vec![],
            1 | 2 => vec![5],
            3 => vec![6],
            _ => vec![5, 7],
        };
        let containers: Vec<u64> = if i % 3 == 0 { vec![2] } else { vec![] };
        let metadata = store.metadata_mut(id).unwrap();
        metadata.collections = collections.clone();
        metadata.containers = containers.clone();
        models.push(Model {
            id: id.0,
            cn,
            dn,
            issuer: issuer_dn.clone(),
            serial: hex(trimmed(&serial.to_be_bytes())),
            sha1: hex(&sha1::Sha1::digest(&der)),
            dns,
            not_before,
            not_after,
            key_type: KEYS[key].1,
            key_bits: KEYS[key].2,
            has_key: KEYS[key].3,
            uuid,
            collections,
            containers,
        });
    }
    for (file, .., load) in KEYS {
        if load {
            let pem = std::fs::read_to_string(format!("{}/{file}.key", pki_dir())).unwrap();
            store.insert_private_key(PrivateKey::from_pem(&pem).unwrap());
        }
    }
    (store, models)
}

/// The brute-force answer: every model matching `filter`, sorted, the
/// window of `offset` and `limit`, and the total.
pub fn answer(
    models: &[Model],
    filter: Option<&Filter>,
    sort: SortField,
    direction: SortDirection,
    offset: u64,
    limit: u32,
    now: i64,
) -> (u64, Vec<u64>) {
    let mut found: Vec<&Model> = models
        .iter()
        .filter(|m| filter.is_none_or(|f| holds(f, m, now)))
        .collect();
    found.sort_by(|a, b| {
        let key = match sort {
            SortField::CertId => Ordering::Equal,
            SortField::IssuedCn => {
                a.cn.as_ref()
                    .map(|c| c.to_lowercase())
                    .cmp(&b.cn.as_ref().map(|c| c.to_lowercase()))
            }
            SortField::IssuedDate => a.not_before.cmp(&b.not_before),
            SortField::NotAfter => a.not_after.cmp(&b.not_after),
            SortField::IssuerDn => a.issuer.to_lowercase().cmp(&b.issuer.to_lowercase()),
            _ => unreachable!("a sort field the model does not know"),
        };
        key.then(a.id.cmp(&b.id))
    });
    if direction == SortDirection::Descending {
        found.reverse();
    }
    let total = found.len() as u64;
    let page = found
        .iter()
        .skip(offset as usize)
        .take(limit as usize)
        .map(|m| m.id)
        .collect();
    (total, page)
}

/// Whether `filter` holds for `m`.
pub fn holds(filter: &Filter, m: &Model, now: i64) -> bool {
    match filter {
        Filter::Term(term) => {
            let (op, negate) = match term.operator {
                Operator::Ne => (Operator::Eq, true),
                Operator::NotContains => (Operator::Contains, true),
                op => (op, false),
            };
            let values = values_of(term.field, m);
            let result = match op {
                Operator::IsNull => values.is_empty(),
                Operator::NotNull => !values.is_empty(),
                _ => values.iter().any(|v| compare(v, op, &term.value, now)),
            };
            result != negate
        }
        Filter::And(parts) => parts.iter().all(|p| holds(p, m, now)),
        Filter::Or(parts) => parts.iter().any(|p| holds(p, m, now)),
    }
}

/// A model value of one field.
enum V {
    Text(String),
    Int(u64),
    Time(i64),
    Bool(bool),
}

fn values_of(field: Field, m: &Model) -> Vec<V> {
    let text = |s: &str| V::Text(s.to_lowercase());
    match field {
        Field::CertId => vec![V::Int(m.id)],
        Field::IssuedCn => m.cn.iter().map(|c| text(c)).collect(),
        Field::IssuedDn => vec![text(&m.dn)],
        Field::IssuerDn => vec![text(&m.issuer)],
        Field::SerialNumber => vec![text(&m.serial)],
        Field::Thumbprint => vec![text(&m.sha1)],
        Field::DnsName => m.dns.iter().map(|d| text(d)).collect(),
        Field::NotBefore => vec![V::Time(m.not_before)],
        Field::NotAfter => vec![V::Time(m.not_after)],
        Field::KeyType => vec![text(m.key_type)],
        Field::KeySizeInBits => vec![V::Int(m.key_bits)],
        Field::HasPrivateKey => vec![V::Bool(m.has_key)],
        Field::Uuid => m.uuid.iter().map(|u| text(u)).collect(),
        Field::CollectionId => m.collections.iter().map(|&c| V::Int(c)).collect(),
        Field::ContainerId => m.containers.iter().map(|&c| V::Int(c)).collect(),
        _ => unreachable!("a field the model does not know"),
    }
}

fn compare(v: &V, op: Operator, wanted: &Value, now: i64) -> bool {
    match (v, wanted) {
        (V::Text(v), Value::Text(w)) => match op {
            Operator::Eq => v == w,
            Operator::Contains => v.contains(w.as_str()),
            Operator::StartsWith => v.starts_with(w.as_str()),
            Operator::EndsWith => v.ends_with(w.as_str()),
            _ => ordered(v.as_str().cmp(w.as_str()), op),
        },
        (V::Int(v), Value::Integer(w)) => ordered(v.cmp(w), op),
        (V::Bool(v), Value::Bool(w)) => op == Operator::Eq && v == w,
        (V::Time(t), Value::Date(d)) => {
            // The whole day (or second) the value names.
            let (start, end) = match *d {
                DateValue::Day(day) => (day * DAY, day * DAY + DAY),
                DateValue::At(s) => (s, s + 1),
                DateValue::Today(n) => {
                    let day = now.div_euclid(DAY) + n;
                    (day * DAY, day * DAY + DAY)
                }
            };
            match op {
                Operator::Eq => start <= *t && *t < end,
                Operator::Gt => *t >= end,
                Operator::Ge => *t >= start,
                Operator::Lt => *t < start,
                Operator::Le => *t < end,
                _ => false,
            }
        }
        _ => false,
    }
}

fn ordered(ordering: Ordering, op: Operator) -> bool {
    match op {
        Operator::Eq => ordering == Ordering::Equal,
        Operator::Gt => ordering == Ordering::Greater,
        Operator::Ge => ordering != Ordering::Less,
        Operator::Lt => ordering == Ordering::Less,
        Operator::Le => ordering != Ordering::Greater,
        _ => false,
    }
}

// --- DER --------------------------------------------------------------------

/// The fixture directory, from the repository (tests) or from fuzz/.
fn pki_dir() -> &'static str {
    if std::path::Path::new("tests/data/pki").is_dir() {
        "tests/data/pki"
    } else {
        "../tests/data/pki"
    }
}

fn pem_der(file: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(format!("{}/{file}.pem", pki_dir())).unwrap();
    pem_rfc7468::decode_vec(text.as_bytes()).unwrap().1
}

/// The SubjectPublicKeyInfo of a DER certificate.
fn spki_of(der: &[u8]) -> Vec<u8> {
    use der::{Decode, Encode};
    let cert = x509_cert::Certificate::from_der(der).unwrap();
    cert.tbs_certificate().subject_public_key_info().to_der().unwrap()
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend([0x81, len as u8]);
    } else {
        out.extend([0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

fn oid(dotted: &str) -> Vec<u8> {
    let oid: der::asn1::ObjectIdentifier = dotted.parse().unwrap();
    tlv(0x06, oid.as_bytes())
}

fn name(attributes: &[(&str, &str)]) -> Vec<u8> {
    let rdns: Vec<Vec<u8>> = attributes
        .iter()
        .map(|(o, v)| {
            let tag = if *o == "2.5.4.6" { 0x13 } else { 0x0c };
            tlv(0x31, &seq(&[&oid(o), &tlv(tag, v.as_bytes())]))
        })
        .collect();
    tlv(0x30, &rdns.concat())
}

fn time(seconds: i64) -> Vec<u8> {
    let days = seconds.div_euclid(DAY);
    let rest = seconds.rem_euclid(DAY);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let text = format!(
        "{year:04}{month:02}{day:02}{:02}{:02}{:02}Z",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60
    );
    tlv(0x18, text.as_bytes())
}

#[allow(clippy::too_many_arguments)]
fn tbs(
    serial: u64,
    issuer: &[u8],
    subject: &[u8],
    not_before: i64,
    not_after: i64,
    spki: &[u8],
    dns: &[String],
    with_email: bool,
) -> Vec<u8> {
    let mut bytes = serial.to_be_bytes().to_vec();
    while bytes.len() > 1 && bytes[0] == 0 && bytes[1] < 0x80 {
        bytes.remove(0);
    }
    if bytes[0] >= 0x80 {
        bytes.insert(0, 0);
    }
    let mut names: Vec<u8> = dns.iter().flat_map(|d| tlv(0x82, d.as_bytes())).collect();
    if with_email {
        names.extend(tlv(0x81, b"pki@example.com"));
        names.extend(tlv(0x87, &[192, 0, 2, 7]));
    }
    let mut parts: Vec<Vec<u8>> = vec![
        tlv(0xa0, &tlv(0x02, &[2])),
        tlv(0x02, &bytes),
        seq(&[&oid("1.3.101.112")]),
        issuer.to_vec(),
        seq(&[&time(not_before), &time(not_after)]),
        subject.to_vec(),
        spki.to_vec(),
    ];
    if !names.is_empty() {
        let san = seq(&[&oid("2.5.29.17"), &tlv(0x04, &tlv(0x30, &names))]);
        parts.push(tlv(0xa3, &seq(&[&san])));
    }
    seq(&parts.iter().map(Vec::as_slice).collect::<Vec<_>>())
}

fn certificate(tbs: &[u8], key: &SigningKey) -> Vec<u8> {
    let signature = key.sign(tbs).to_bytes();
    let mut bits = vec![0];
    bits.extend_from_slice(&signature);
    seq(&[tbs, &seq(&[&oid("1.3.101.112")]), &tlv(0x03, &bits)])
}

fn trimmed(bytes: &[u8]) -> &[u8] {
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    &bytes[zeros.min(bytes.len() - 1)..]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The id of the model with this CN (for readable assertions).
pub fn id_of(models: &[Model], cn: &str) -> CertId {
    CertId(models.iter().find(|m| m.cn.as_deref() == Some(cn)).unwrap().id)
}
