//! Who may export (SPEC §7), through `Exporter::export`.
//!
//! Fixtures: tests/data/pki/ (CertID 3 is rsa.example.com, with its RSA
//! key; the table gives it collections, containers and a key policy before
//! each export). tests/data/manifest/ for the metadata a store manifest
//! gives (a.example.com in collection 5, container 2, policy "Standard";
//! b.example.com fixed at id 100 in collection 6, container 3;
//! c.example.com in collection 5, policy "Production", keys restricted).

// A failed unwrap in a test is a failed test (STYLE.md: unwrap allowed in tests).
#![allow(clippy::unwrap_used)]

mod common;

use certexport::formats::KeyEncryption;
use certexport::ids::CertId;
use certexport::options::{KeyExport, KeyPlacement, Scope};
use certexport::store::{CertificateStore, KeyAccess, KeyPolicy, MemoryStore};
use certexport::{Caller, CertificateFormat, ExportError, ExportRequest, Exporter, Password};

// The claim strings of SPEC §7, as a caller's claims file spells them.
const ALL_CERTS: &str = "/certificates/collections/read/";
const COLL_5: &str = "/certificates/collections/read/5/";
const ALL_STORES: &str = "/certificate_stores/read/";
const CONT_2: &str = "/certificate_stores/read/2/";
const ALL_KEYS: &str = "/certificates/collections/private_key/read/";
const KEYS_5: &str = "/certificates/collections/private_key/read/5/";
const KEYS_6: &str = "/certificates/collections/private_key/read/6/";
/// Every claim there is, system-wide and for collection 5 / container 2.
const EVERY: &[&str] = &[ALL_CERTS, COLL_5, ALL_STORES, CONT_2, ALL_KEYS, KEYS_5];

/// The certificate every row exports: rsa.example.com, which has a key.
const CERT: CertId = CertId(3);

#[derive(Debug, Clone, Copy)]
enum Policy {
    /// No key policy: key export is up to the claims.
    Unset,
    /// "Standard", which allows private-key access.
    Standard,
    /// "Production", which restricts private-key access.
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Allowed,
    Denied,
    /// `KeyExportRestricted` naming this policy.
    Restricted(&'static str),
    /// `ScopeRequired`: the caller's claims are scoped and the request
    /// names no scope (read), or no collection (key).
    ScopeNeeded,
}
use Outcome::{Allowed, Denied, Restricted, ScopeNeeded};
use Policy::{Production, Standard, Unset};

const KEY: bool = true;
const CERT_ONLY: bool = false;

/// One case of SPEC §7.
struct Row {
    why: &'static str,
    claims: &'static [&'static str],
    collection_id: Option<u64>,
    container_id: Option<u64>,
    cert_collections: &'static [u64],
    cert_containers: &'static [u64],
    policy: Policy,
    wants_key: bool,
    expected: Outcome,
}

#[rustfmt::skip]
const TABLE: &[Row] = &[
    // --- CollectionId c: the system-wide collections claim, or the claim for c and membership of c.
    Row { why: "system-wide collections claim, certificate in c", claims: &[ALL_CERTS], collection_id: Some(5), container_id: None, cert_collections: &[5], cert_containers: &[], policy: Unset, wants_key: CERT_ONLY, expected: Allowed },
    Row { why: "system-wide collections claim needs no membership", claims: &[ALL_CERTS], collection_id: Some(5), container_id: None, cert_collections: &[], cert_containers: &[], policy: Unset, wants_key: CERT_ONLY, expected: Allowed },
    Row { why: "claim for c, certificate in c", claims: &[COLL_5], collection_id: Some(5), container_id: None, cert_collections: &[5], cert_containers: &[], policy: Unset, wants_key: CERT_ONLY, expected: Allowed },
    Row { why: "claim for c, certificate in c among others", claims: &[COLL_5], collection_id: Some(5), container_id: None, cert_collections: &[6, 5], cert_containers: &[], policy: Unset, wants_key: CERT_ONLY, expected: Allowed },
    Row { why: "claim for c, certificate in another collection", claims: &[COLL_5], collection_id: Some(5), container_id: None, cert_collections: &[6], cert_containers: &[], policy: Unset, wants_key: CERT_ONLY, expected: Denied },
    Row { why: "claim for c, certificate in no collection", claims: &[COLL_5], collection_id: Some(5), container_id: None, cert_collections: &[], cert_containers: &[], policy: Unset, wants_key: CERT_ONLY, expected: Denied },
    Row { why: "claim for 5, request names collection 6", claims: &[COLL_5], collection_id: Some(6), container_id: None, cert_collections: &[5, 6], cert_containers: &[], policy: Unset, wants_key: CERT_ONLY, expected: Denied },
    Row { why: "system-wide stores claim does not open a collection", claims: &[ALL_STORES], collection_id: Some(5), container_id: None, cert_collections: &[5], cert_containers: &[], policy: Unset, wants_key: CERT_ONLY, expected: Denied },
    Row { why: "a key claim alone does not open a collection", claims: &[KEYS_5], collection_id: Some(5), container_id: None, cert_collections: &[5], cert_containers: &[], policy: Unset, wants_key: CERT_ONLY, expected: Denied },
    Row { why: "no claims at all", claims: &[], collection_id: Some(5), container_id: None, cert_collections: &[5], cert_containers: &[], policy: Unset, wants_key: CERT_ONLY, expected: Denied },
    // --- ContainerId k (no CollectionId): the system-wide stores claim, or the claim for k and a store in k.
    Row { why: "system-wide stores claim, certificate in k", claims: &[ALL_STORES], collection_id: None, container_id: Some(2), cert_collections: &[], cert_containers: &[2], policy: Unset, wants_key: CERT_ONLY, expected: Allowed },
    Row { why: "system-wide stores claim needs no membership", claims: &[ALL_STORES], collection_id: None, container_id: Some(2), cert_collections: &[], cert_containers: &[], policy: Unset, wants_key: CERT_ONLY, expected: Allowed },
    Row { why: "claim for k, certificate in k", claims: &[CONT_2], collection_id: None, container_id: Some(2), cert_collections: &[], cert_containers: &[2], policy: Unset, wants_key: CERT_ONLY, expected: Allowed },
    Row { why: "claim for k, certificate in another container", claims: &[CONT_2], collection_id: None, container_id: Some(2), cert_collections: &[], cert_containers: &[3], policy: Unset, wants_key: CERT_ONLY, expected: Denied },
    Row { why: "claim for 2, request names container 3", claims: &[CONT_2], collection_id: None, container_id: Some(3), cert_collections: &[], cert_containers: &[2, 3], policy: Unset, wants_key: CERT_ONLY, expected: Denied },
    Row { why: "system-wide collections claim does not open a container", claims: &[ALL_CERTS], collection_id: None, container_id: Some(2), cert_collections: &[5], cert_containers: &[2], policy: Unset, wants_key: CERT_ONLY, expected: Denied },
    Row { why: "collection claim does not open a container", claims: &[COLL_5], collection_id: None, container_id: Some(2), cert_collections: &[5], cert_containers: &[2], policy: Unset, wants_key: CERT_ONLY, expected: Denied },
    // --- Both given: CollectionId wins and ContainerId is ignored.
    Row { why: "both: collection claim and membership decide", claims: &[COLL_5], collection_id: Some(5), container_id: Some(2), cert_collections: &[5], cert_containers: &[], policy: Unset, wants_key: CERT_ONLY, expected: Allowed },
    Row { why: "both: container claim and membership are ignored", claims: &[CONT_2], collection_id: Some(5), container_id: Some(2), cert_collections: &[5], cert_containers: &[2], policy: Unset, wants_key: CERT_ONLY, expected: Denied },
    Row { why: "both: system-wide stores claim is ignored", claims: &[ALL_STORES], collection_id: Some(5), container_id: Some(2), cert_collections: &[5], cert_containers: &[2], policy: Unset, wants_key: CERT_ONLY, expected: Denied },
    Row { why: "both: container rights do not make up for missing collection membership", claims: &[COLL_5, CONT_2], collection_id: Some(5), container_id: Some(2), cert_collections: &[6], cert_containers: &[2], policy: Unset, wants_key: CERT_ONLY, expected: Denied },
    Row { why: "both: system-wide collections claim", claims: &[ALL_CERTS], collection_id: Some(5), container_id: Some(2), cert_collections: &[], cert_containers: &[], policy: Unset, wants_key: CERT_ONLY, expected: Allowed },
    // --- Neither: only a system-wide claim.
    Row { why: "neither: system-wide collections claim", claims: &[ALL_CERTS], collection_id: None, container_id: None, cert_collections: &[], cert_containers: &[], policy: Unset, wants_key: CERT_ONLY, expected: Allowed },
    Row { why: "neither: system-wide stores claim", claims: &[ALL_STORES], collection_id: None, container_id: None, cert_collections: &[], cert_containers: &[], policy: Unset, wants_key: CERT_ONLY, expected: Allowed },
    Row { why: "neither: collection claim, even with membership", claims: &[COLL_5], collection_id: None, container_id: None, cert_collections: &[5], cert_containers: &[], policy: Unset, wants_key: CERT_ONLY, expected: ScopeNeeded },
    Row { why: "neither: container claim, even with membership", claims: &[CONT_2], collection_id: None, container_id: None, cert_collections: &[], cert_containers: &[2], policy: Unset, wants_key: CERT_ONLY, expected: ScopeNeeded },
    Row { why: "neither: collection claim, certificate elsewhere: the same refusal", claims: &[COLL_5], collection_id: None, container_id: None, cert_collections: &[6], cert_containers: &[], policy: Unset, wants_key: CERT_ONLY, expected: ScopeNeeded },
    Row { why: "neither: no claims", claims: &[], collection_id: None, container_id: None, cert_collections: &[5], cert_containers: &[2], policy: Unset, wants_key: CERT_ONLY, expected: Denied },
    // --- Key export: the private-key claim, system-wide or for the collection given (with membership).
    Row { why: "key: system-wide key claim", claims: &[ALL_CERTS, ALL_KEYS], collection_id: None, container_id: None, cert_collections: &[], cert_containers: &[], policy: Unset, wants_key: KEY, expected: Allowed },
    Row { why: "key: read rights without a key claim", claims: &[ALL_CERTS, ALL_STORES], collection_id: None, container_id: None, cert_collections: &[5], cert_containers: &[2], policy: Unset, wants_key: KEY, expected: Denied },
    Row { why: "key: a key claim without read rights", claims: &[ALL_KEYS], collection_id: None, container_id: None, cert_collections: &[5], cert_containers: &[], policy: Unset, wants_key: KEY, expected: Denied },
    Row { why: "key: collection claims for c, certificate in c", claims: &[COLL_5, KEYS_5], collection_id: Some(5), container_id: None, cert_collections: &[5], cert_containers: &[], policy: Unset, wants_key: KEY, expected: Allowed },
    Row { why: "key: collection claims for c, certificate not in c", claims: &[COLL_5, KEYS_5], collection_id: Some(5), container_id: None, cert_collections: &[6], cert_containers: &[], policy: Unset, wants_key: KEY, expected: Denied },
    Row { why: "key: read claim for c but no key claim", claims: &[COLL_5], collection_id: Some(5), container_id: None, cert_collections: &[5], cert_containers: &[], policy: Unset, wants_key: KEY, expected: Denied },
    Row { why: "key: key claim for another collection", claims: &[COLL_5, KEYS_6], collection_id: Some(5), container_id: None, cert_collections: &[5, 6], cert_containers: &[], policy: Unset, wants_key: KEY, expected: Denied },
    Row { why: "key: per-collection key claim needs the collection given", claims: &[ALL_CERTS, KEYS_5], collection_id: None, container_id: None, cert_collections: &[5], cert_containers: &[], policy: Unset, wants_key: KEY, expected: ScopeNeeded },
    Row { why: "key: per-collection key claim with system-wide read, certificate in c", claims: &[ALL_CERTS, KEYS_5], collection_id: Some(5), container_id: None, cert_collections: &[5], cert_containers: &[], policy: Unset, wants_key: KEY, expected: Allowed },
    Row { why: "key: per-collection key claim still needs membership under system-wide read", claims: &[ALL_CERTS, KEYS_5], collection_id: Some(5), container_id: None, cert_collections: &[6], cert_containers: &[], policy: Unset, wants_key: KEY, expected: Denied },
    Row { why: "key: container scope with the system-wide key claim", claims: &[CONT_2, ALL_KEYS], collection_id: None, container_id: Some(2), cert_collections: &[], cert_containers: &[2], policy: Unset, wants_key: KEY, expected: Allowed },
    Row { why: "key: container scope, per-collection key claim (no collection given)", claims: &[CONT_2, KEYS_5], collection_id: None, container_id: Some(2), cert_collections: &[5], cert_containers: &[2], policy: Unset, wants_key: KEY, expected: ScopeNeeded },
    // --- Key policy: a restricted policy refuses every caller; an allowing one leaves it to the claims.
    Row { why: "policy: restricted, every claim, neither id", claims: EVERY, collection_id: None, container_id: None, cert_collections: &[5], cert_containers: &[2], policy: Production, wants_key: KEY, expected: Restricted("Production") },
    Row { why: "policy: restricted, every claim, collection given", claims: EVERY, collection_id: Some(5), container_id: None, cert_collections: &[5], cert_containers: &[2], policy: Production, wants_key: KEY, expected: Restricted("Production") },
    Row { why: "policy: restricted, per-collection claims with membership", claims: &[COLL_5, KEYS_5], collection_id: Some(5), container_id: None, cert_collections: &[5], cert_containers: &[], policy: Production, wants_key: KEY, expected: Restricted("Production") },
    Row { why: "policy: restricted, no membership: denied without naming the policy", claims: &[COLL_5, KEYS_5], collection_id: Some(5), container_id: None, cert_collections: &[6], cert_containers: &[], policy: Production, wants_key: KEY, expected: Denied },
    Row { why: "policy: restricted, no key claim: denied", claims: &[ALL_CERTS], collection_id: None, container_id: None, cert_collections: &[], cert_containers: &[], policy: Production, wants_key: KEY, expected: Denied },
    Row { why: "policy: restricted keys do not stop a certificate-only export", claims: &[COLL_5], collection_id: Some(5), container_id: None, cert_collections: &[5], cert_containers: &[], policy: Production, wants_key: CERT_ONLY, expected: Allowed },
    Row { why: "policy: allowed, every claim", claims: EVERY, collection_id: None, container_id: None, cert_collections: &[5], cert_containers: &[2], policy: Standard, wants_key: KEY, expected: Allowed },
    Row { why: "policy: allowed, per-collection claims with membership", claims: &[COLL_5, KEYS_5], collection_id: Some(5), container_id: None, cert_collections: &[5], cert_containers: &[], policy: Standard, wants_key: KEY, expected: Allowed },
    Row { why: "policy: allowed still needs the key claim", claims: &[COLL_5], collection_id: Some(5), container_id: None, cert_collections: &[5], cert_containers: &[], policy: Standard, wants_key: KEY, expected: Denied },
];

fn key_only(password: &str) -> KeyExport {
    KeyExport::Encrypted {
        placement: KeyPlacement::KeyOnly,
        password: Password::new(password).unwrap(),
        encryption: KeyEncryption::default().with_iterations(1000),
    }
}

fn caller(claims: &[&str]) -> Caller {
    Caller::from_claim_lines(&claims.join("\n")).unwrap()
}

/// The pki store with CERT given the row's membership and key policy.
fn exporter_for(row: &Row) -> Exporter<MemoryStore> {
    let mut store = common::store("pki");
    let metadata = store.metadata_mut(CERT).unwrap();
    metadata.collections = row.cert_collections.to_vec();
    metadata.containers = row.cert_containers.to_vec();
    metadata.key_policy = match row.policy {
        Unset => None,
        Standard => Some(KeyPolicy::new("Standard", KeyAccess::Allowed)),
        Production => Some(KeyPolicy::new("Production", KeyAccess::Restricted)),
    };
    Exporter::with_settings(store, common::settings())
}

fn request_for(row: &Row) -> ExportRequest {
    let mut r = ExportRequest::new(CERT);
    r.scope = Scope::new(row.collection_id, row.container_id);
    if row.wants_key {
        r.private_key = key_only("pw");
    } else {
        r.format = CertificateFormat::Der;
    }
    r
}

#[test]
fn every_case_of_spec_7() {
    let mut failures = Vec::new();
    for (i, row) in TABLE.iter().enumerate() {
        let exporter = exporter_for(row);
        let stored = exporter.store().certificate(CERT).unwrap().unwrap().der.into_owned();
        let result = exporter.export(&caller(row.claims), &request_for(row));
        let got = match &result {
            Ok(artifact) => {
                // What was handed out is what was asked for: the certificate's
                // own DER, or its key encrypted under the password.
                if row.wants_key {
                    assert!(artifact.contains_private_key(), "row {i} ({})", row.why);
                    assert!(
                        artifact.bytes().starts_with(b"-----BEGIN ENCRYPTED PRIVATE KEY-----"),
                        "row {i}"
                    );
                } else {
                    assert_eq!(
                        artifact.bytes(),
                        stored.as_slice(),
                        "row {i} ({}): wrong certificate",
                        row.why
                    );
                    assert!(!artifact.contains_private_key(), "row {i}");
                }
                Allowed
            }
            Err(ExportError::AccessDenied) => Denied,
            Err(ExportError::ScopeRequired { .. }) => ScopeNeeded,
            Err(ExportError::KeyExportRestricted { policy }) if policy == "Production" => Restricted("Production"),
            Err(other) => panic!("row {i} ({}): unexpected error {other:?}", row.why),
        };
        if got != row.expected {
            failures.push(format!(
                "row {i} ({}): expected {:?}, got {:?}",
                row.why, row.expected, got
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows wrong:\n{}",
        failures.len(),
        TABLE.len(),
        failures.join("\n")
    );
}

#[test]
fn the_table_covers_every_scope_shape_and_policy() {
    // Guard against the table losing a whole column of SPEC §7 in an edit.
    let shape = |r: &Row| (r.collection_id.is_some(), r.container_id.is_some());
    for wanted in [(true, false), (false, true), (true, true), (false, false)] {
        for outcome in [Allowed, Denied] {
            assert!(
                TABLE.iter().any(|r| shape(r) == wanted && r.expected == outcome),
                "{wanted:?} {outcome:?}"
            );
        }
    }
    assert!(
        TABLE
            .iter()
            .any(|r| r.wants_key && r.expected == Allowed && matches!(r.policy, Standard))
    );
    assert!(
        TABLE
            .iter()
            .any(|r| r.claims == EVERY && r.expected == Restricted("Production"))
    );
}

#[test]
fn restricted_policy_message_names_the_policy() {
    let row = TABLE
        .iter()
        .find(|r| r.claims == EVERY && matches!(r.policy, Production))
        .unwrap();
    let error = exporter_for(row).export(&caller(EVERY), &request_for(row)).unwrap_err();
    assert_eq!(
        error,
        ExportError::KeyExportRestricted {
            policy: "Production".into()
        }
    );
    assert_eq!(
        error.to_string(),
        "Private key access is restricted in Production policy"
    );
}

#[test]
fn single_tenant_full_access_is_still_refused_a_restricted_key() {
    let mut store = common::store("pki");
    store.metadata_mut(CERT).unwrap().key_policy = Some(KeyPolicy::new("Production", KeyAccess::Restricted));
    let exporter = Exporter::with_settings(store, common::settings());
    let mut r = ExportRequest::new(CERT);
    r.private_key = key_only("pw");
    assert_eq!(
        exporter.export(&Caller::single_tenant_full_access(), &r).unwrap_err(),
        ExportError::KeyExportRestricted {
            policy: "Production".into()
        }
    );
    // Another certificate of the same store, without the policy, still gives its key.
    let mut other = ExportRequest::new(CertId(4));
    other.private_key = key_only("pw");
    assert!(
        exporter
            .export(&Caller::single_tenant_full_access(), &other)
            .unwrap()
            .contains_private_key()
    );
}

#[test]
fn allowed_key_export_is_the_certificates_key() {
    // The per-collection caller's key, decrypted by openssl, is the key of
    // the certificate asked for.
    let row = TABLE
        .iter()
        .find(|r| r.claims == [COLL_5, KEYS_5] && matches!(r.policy, Standard))
        .unwrap();
    let exporter = exporter_for(row);
    let artifact = exporter.export(&caller(row.claims), &request_for(row)).unwrap();
    let key_public = common::openssl(&["pkey", "-pubout", "-passin", "pass:pw"], artifact.bytes());
    let cert_pem = certificate_pem(&exporter, CERT);
    let cert_public = common::openssl(&["x509", "-noout", "-pubkey"], cert_pem.as_bytes());
    assert_eq!(key_public, cert_public);
}

fn certificate_pem(exporter: &Exporter<MemoryStore>, id: CertId) -> String {
    let artifact = exporter
        .export(&Caller::single_tenant_full_access(), &ExportRequest::new(id))
        .unwrap();
    String::from_utf8(artifact.bytes().to_vec()).unwrap()
}

fn scoped(id: u64, collection_id: Option<u64>) -> ExportRequest {
    let mut r = ExportRequest::new(CertId(id));
    r.scope = Scope::new(collection_id, None);
    r
}

#[test]
fn a_denied_caller_cannot_tell_missing_from_forbidden() {
    let mut store = common::store("pki");
    store.metadata_mut(CertId(3)).unwrap().collections.push(5);
    store.metadata_mut(CertId(4)).unwrap().collections.push(6);
    let exporter = Exporter::with_settings(store, common::settings());
    let member = caller(&[COLL_5]);

    let missing = exporter.export(&member, &scoped(999, Some(5))).unwrap_err();
    let forbidden = exporter.export(&member, &scoped(4, Some(5))).unwrap_err();
    assert_eq!(missing, ExportError::AccessDenied);
    assert_eq!(forbidden, ExportError::AccessDenied);
    assert_eq!(missing.to_string(), forbidden.to_string());
    // Looked up by thumbprint rather than id, a missing certificate is hidden too.
    let mut by_thumbprint = ExportRequest::new("00".repeat(20).parse::<certexport::ids::Thumbprint>().unwrap());
    by_thumbprint.scope.collection_id = Some(5);
    assert_eq!(
        exporter.export(&member, &by_thumbprint).unwrap_err(),
        ExportError::AccessDenied
    );

    // A caller with system-wide rights may learn that it does not exist.
    let admin = caller(&[ALL_CERTS]);
    assert!(matches!(
        exporter.export(&admin, &scoped(999, None)),
        Err(ExportError::NotFound { .. })
    ));
    assert!(matches!(
        exporter.export(&admin, &scoped(999, Some(5))),
        Err(ExportError::NotFound { .. })
    ));
}

#[test]
fn a_per_collection_key_caller_learns_nothing_about_a_missing_key_elsewhere() {
    // nokey.example.com (8) has no key. Outside the caller's collection the
    // answer is "access denied", not "no private key".
    let mut store = common::store("pki");
    store.metadata_mut(CertId(8)).unwrap().collections.push(6);
    let exporter = Exporter::with_settings(store, common::settings());
    let mut r = scoped(8, Some(5));
    r.private_key = key_only("pw");
    assert_eq!(
        exporter.export(&caller(&[COLL_5, KEYS_5]), &r).unwrap_err(),
        ExportError::AccessDenied
    );
}

#[test]
fn claim_strings_are_parsed_strictly() {
    for good in EVERY.iter().chain([&KEYS_6]) {
        let parsed = Caller::from_claim_lines(good).unwrap();
        assert_eq!(parsed.claims().len(), 1);
        assert_eq!(parsed.claims()[0].to_string(), *good);
    }
    for bad in [
        "/certificates/collections/read",
        "certificates/collections/read/",
        "/certificates/collections/read/five/",
        "/certificates/collections/read/-5/",
        "/certificate_stores/write/",
        "/certificates/collections/private_key/read/5/6/",
        "/certificate_stores/read//",
    ] {
        match Caller::from_claim_lines(&format!("{ALL_CERTS}\n{bad}\n")) {
            Err(ExportError::InvalidClaim { input, .. }) => assert_eq!(input, bad),
            other => panic!("{bad:?} was accepted: {other:?}"),
        }
    }
}

#[test]
fn claim_lines_skip_comments_and_blank_lines() {
    let text = "# operator for collection 5\n\n   \n/certificates/collections/read/5/\r\n  # keys too\n\
                /certificates/collections/private_key/read/5/\n";
    let parsed = Caller::from_claim_lines(text).unwrap();
    assert_eq!(parsed, caller(&[COLL_5, KEYS_5]));
}

#[test]
fn manifest_metadata_reaches_the_access_check() {
    // tests/data/manifest: a.example.com (3) in collection 5, b.example.com
    // (fixed id 100) in collection 6, c.example.com (4) under "Production".
    let exporter = common::exporter("manifest");
    let store = exporter.store();
    assert_eq!(
        store
            .certificate_by_thumbprint(&common::by_cn(store, "a.example.com"))
            .unwrap()
            .map(|c| c.id),
        Some(CertId(3))
    );
    assert_eq!(
        store
            .certificate_by_thumbprint(&common::by_cn(store, "b.example.com"))
            .unwrap()
            .map(|c| c.id),
        Some(CertId(100))
    );
    assert_eq!(
        store
            .certificate_by_thumbprint(&common::by_cn(store, "c.example.com"))
            .unwrap()
            .map(|c| c.id),
        Some(CertId(4))
    );
    let member = caller(&[COLL_5]);

    let a = exporter.export(&member, &scoped(3, Some(5))).unwrap();
    assert_eq!(a.file_name(), "a.example.com.pem");
    assert_eq!(
        exporter.export(&member, &scoped(100, Some(5))).unwrap_err(),
        ExportError::AccessDenied
    );
    // Without a scope, the collection claim counts for nothing, and the
    // refusal says what to add — the same for a's certificate, b (not in
    // collection 5) and an id that names nothing, so it tells nothing of
    // the store.
    let unscoped = exporter.export(&member, &scoped(3, None)).unwrap_err();
    assert_eq!(
        unscoped,
        ExportError::ScopeRequired {
            collections: vec![5],
            containers: vec![],
            key: false
        }
    );
    assert_eq!(
        unscoped.to_string(),
        "access denied: this caller's rights are scoped to collection(s) 5 and the request names no \
         collection or container; add the collection or container the certificate is in \
         (Scope::collection(id), collectionId=id, --collection-id id; Scope::container(id), containerId=id, --container-id id)"
    );
    for other in [100, 999_999] {
        assert_eq!(exporter.export(&member, &scoped(other, None)).unwrap_err(), unscoped);
    }
    // b sits in container 3 and a in container 2.
    let mut in_container = scoped(100, None);
    in_container.scope.container_id = Some(3);
    assert!(
        exporter
            .export(&caller(&["/certificate_stores/read/3/"]), &in_container)
            .is_ok()
    );
    in_container.lookup = CertId(3).into();
    assert_eq!(
        exporter
            .export(&caller(&["/certificate_stores/read/3/"]), &in_container)
            .unwrap_err(),
        ExportError::AccessDenied
    );

    // Keys: a's "Standard" policy allows, c's "Production" policy refuses even every claim.
    let mut a_key = scoped(3, Some(5));
    a_key.private_key = key_only("pw");
    assert!(
        exporter
            .export(&caller(&[COLL_5, KEYS_5]), &a_key)
            .unwrap()
            .contains_private_key()
    );
    let mut c_key = scoped(4, Some(5));
    c_key.private_key = key_only("pw");
    assert_eq!(
        exporter.export(&caller(EVERY), &c_key).unwrap_err(),
        ExportError::KeyExportRestricted {
            policy: "Production".into()
        }
    );
}
