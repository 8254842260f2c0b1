//! The export tests of `MemoryStore` — the format matrix, chains, keys,
//! PFX and access — over `PgStore`, against a live PostgreSQL server that
//! the tests start (tests/common/pg.rs).
//!
//! Each fixture case is loaded into a `MemoryStore`, imported into a new
//! database, and every request of a table is exported through both stores
//! with the same fixed random source: the artifacts must be byte for byte
//! the same, and so must every error. The memory store's own tests judge
//! those artifacts with OpenSSL, Python and keytool; the last tests here
//! hand the database's artifacts to OpenSSL directly as well.
//!
//! Fixtures: every case of tests/data/ (tests/data/make_fixtures.py).

#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used)]

mod common;
#[path = "common/pg.rs"]
mod pg;

use std::sync::Arc;

use certexport::formats::{KeyEncryption, P7bEncoding, PfxProfile};
use certexport::ids::{CertId, Thumbprint, Uuid};
use certexport::options::{
    ChainOrder, CspPolicy, FileExtension as E, IncompleteChains, KeyExport, KeyPlacement, RootCertificate, Scope,
};
use certexport::random::RandomSource;
use certexport::store::{BadFiles, Kek, LoadOptions, Migrations, PgOptions, PgStore};
use certexport::store::{CertificateStore, KeyAccess, KeyPolicy, MemoryStore};
use certexport::{
    Caller, CertificateFormat as F, CertificateSummary, ExportArtifact, ExportError, ExportRequest, ExportSettings,
    Exporter, Lookup, Password,
};
use common::{TEST_TIME, openssl};

/// Salts and IVs of bytes 0, 1, 2, …: the same in both stores' exports.
struct Fixed;

impl RandomSource for Fixed {
    fn fill(&self, buf: &mut [u8]) -> Result<(), ExportError> {
        buf.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
        Ok(())
    }
}

/// A memory store and a database store with the same contents.
struct Twins {
    memory: MemoryStore,
    database: PgStore,
}

impl Twins {
    /// `memory`, and a new database it was imported into.
    fn of(memory: MemoryStore) -> Self {
        let database = PgStore::connect(
            &pg::database(),
            &PgOptions::default().with_migrations(Migrations::Apply),
        )
        .unwrap()
        .with_kek(Kek::generate().unwrap());
        database.import(&memory, &mut |_, _| {}).unwrap();
        Self { memory, database }
    }

    fn case(case: &str) -> Self {
        Self::of(common::store(case))
    }

    /// An exporter over each store, with `settings` and the fixed random source.
    fn exporters(&self, settings: &ExportSettings) -> Pair<'_> {
        Pair {
            memory: Exporter::with_settings(&self.memory, settings.clone()).with_random_source(Arc::new(Fixed)),
            database: Exporter::with_settings(&self.database, settings.clone()).with_random_source(Arc::new(Fixed)),
        }
    }

    /// Exports `request` through both stores with `settings` and `caller`,
    /// and checks that they agree; returns the database's result.
    fn agree(
        &self,
        settings: &ExportSettings,
        caller: &Caller,
        request: &ExportRequest,
    ) -> Result<ExportArtifact, ExportError> {
        self.exporters(settings).agree(caller, request)
    }

    /// Every certificate's id and DER, in id order.
    fn certificates(&self) -> Vec<(CertId, Vec<u8>)> {
        let mut all: Vec<_> = self.memory.iter().map(|(c, _)| (c.id, c.der.into_owned())).collect();
        all.sort_by_key(|(id, _)| *id);
        all
    }
}

/// Exporters with the same settings over the two stores.
struct Pair<'a> {
    memory: Exporter<&'a MemoryStore>,
    database: Exporter<&'a PgStore>,
}

impl Pair<'_> {
    /// Exports `request` through both and checks that they agree; returns
    /// the database's result.
    fn agree(&self, caller: &Caller, request: &ExportRequest) -> Result<ExportArtifact, ExportError> {
        let (expected, got) = (
            self.memory.export(caller, request),
            self.database.export(caller, request),
        );
        match (&expected, &got) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a.bytes(), b.bytes(), "bytes of {request:?}");
                assert_eq!(
                    (
                        a.file_name(),
                        a.content_type(),
                        a.certificate_count(),
                        a.contains_private_key()
                    ),
                    (
                        b.file_name(),
                        b.content_type(),
                        b.certificate_count(),
                        b.contains_private_key()
                    ),
                    "artifact of {request:?}"
                );
            }
            (Err(a), Err(b)) => assert_eq!(a, b, "error of {request:?}"),
            _ => panic!("{request:?}: memory store gave {expected:?}, database {got:?}"),
        }
        got
    }
}

fn settings() -> ExportSettings {
    common::settings()
}

/// The chain settings the tables run under: default, partial chains
/// allowed, root left out.
fn chain_settings() -> Vec<ExportSettings> {
    let mut partial = settings();
    partial.chain.incomplete = IncompleteChains::AllowPartial;
    let mut no_root = settings();
    no_root.chain.root = RootCertificate::Exclude;
    vec![settings(), partial, no_root]
}

fn password() -> Password {
    Password::new("pässword").unwrap()
}

fn encrypted(placement: KeyPlacement, encryption: KeyEncryption) -> KeyExport {
    KeyExport::Encrypted {
        placement,
        password: password(),
        encryption,
    }
}

/// Every lookup of a certificate: id, both thumbprints, issuer + serial.
fn lookups(id: CertId, der: &[u8]) -> Vec<Lookup> {
    let summary = CertificateSummary::from_der(der).unwrap();
    let mut lookups = vec![
        Lookup::CertId(id),
        Thumbprint::sha1_of(der).into(),
        Thumbprint::sha256_of(der).into(),
    ];
    lookups.extend(
        Lookup::from_parts(
            None,
            None,
            Some(&summary.serial.to_string()),
            Some(&summary.issuer.to_string()),
        )
        .unwrap(),
    );
    lookups
}

/// The requests of the table, for one certificate: the format × extension
/// matrix with and without the chain in both orders, and every way of
/// exporting a key (SPEC §3, §5, §6).
fn requests(lookup: &Lookup) -> Vec<ExportRequest> {
    let formats = [F::Cer, F::Crt, F::Der, F::Pem, F::P7b, F::Pfx];
    let extensions = [
        None,
        Some(E::Cer),
        Some(E::Crt),
        Some(E::Pem),
        Some(E::P7b),
        Some(E::Pfx),
    ];
    let mut requests = Vec::new();
    let new = || ExportRequest::new(lookup.clone());
    for format in formats {
        for extension in extensions {
            for include_chain in [false, true] {
                let mut r = new();
                r.format = format;
                r.extension = extension;
                r.include_chain = include_chain;
                requests.push(r);
            }
        }
    }
    for order in [ChainOrder::EndEntityFirst, ChainOrder::RootFirst] {
        for (format, p7b) in [
            (F::Pem, P7bEncoding::Der),
            (F::P7b, P7bEncoding::Der),
            (F::P7b, P7bEncoding::Pem),
        ] {
            let mut r = new();
            r.format = format;
            r.include_chain = true;
            r.chain_order = order;
            r.p7b_encoding = p7b;
            r.include_subject_header = order == ChainOrder::EndEntityFirst;
            requests.push(r);
        }
    }
    let schemes = [
        KeyEncryption::default().with_iterations(1_000),
        KeyEncryption::legacy_pkcs12_triple_des(),
    ];
    for encryption in schemes {
        for placement in [KeyPlacement::KeyOnly, KeyPlacement::WithCertificate] {
            for include_chain in [false, true] {
                let mut r = new();
                r.private_key = encrypted(placement, encryption);
                r.include_chain = include_chain;
                requests.push(r);
            }
        }
        let mut der = new();
        der.format = F::Der;
        der.private_key = encrypted(KeyPlacement::KeyOnly, encryption);
        requests.push(der);
    }
    for profile in [PfxProfile::Modern, PfxProfile::Legacy] {
        for (include_chain, order) in [(false, ChainOrder::EndEntityFirst), (true, ChainOrder::RootFirst)] {
            let mut r = new();
            r.format = F::Pfx;
            r.include_chain = include_chain;
            r.chain_order = order;
            r.pfx.profile = profile;
            r.pfx.iterations = 1_000;
            r.private_key = encrypted(KeyPlacement::WithCertificate, KeyEncryption::default());
            requests.push(r);
        }
    }
    let mut named = new();
    named.format = F::Pfx;
    named.pfx.friendly_name = Some("web server".into());
    named.pfx.target_csp = Some("Microsoft Enhanced RSA and AES Cryptographic Provider".into());
    named.private_key = encrypted(KeyPlacement::WithCertificate, KeyEncryption::default());
    requests.push(named);
    let mut plain = new();
    plain.private_key = KeyExport::DangerUnencrypted {
        placement: KeyPlacement::KeyOnly,
    };
    requests.push(plain);
    requests.push(pfx_without_key(lookup));
    requests
}

/// A PFX asked for without a key: refused alike.
fn pfx_without_key(lookup: &Lookup) -> ExportRequest {
    let mut r = ExportRequest::new(lookup.clone());
    r.format = F::Pfx;
    r.private_key = KeyExport::None;
    r
}

/// Requests whose chain the chain settings change: PEM and P7B with the
/// chain, in both orders.
fn chain_requests(lookup: &Lookup) -> Vec<ExportRequest> {
    [F::Pem, F::P7b]
        .into_iter()
        .flat_map(|format| {
            [ChainOrder::EndEntityFirst, ChainOrder::RootFirst].map(|order| {
                let mut r = ExportRequest::new(lookup.clone());
                r.format = format;
                r.include_chain = true;
                r.chain_order = order;
                r
            })
        })
        .collect()
}

/// Runs the table over certificates of a case: every lookup of each, every
/// request of [`requests`], and the chain requests under every chain
/// setting.
fn run_table(twins: &Twins, certificates: &[(CertId, Vec<u8>)]) -> usize {
    let admin = Caller::single_tenant_full_access();
    let mut exports = 0;
    let mut with_csp = settings();
    with_csp.csps = CspPolicy::allowing(["Microsoft Enhanced RSA and AES Cryptographic Provider"]);
    let plain = twins.exporters(&settings());
    let csp = twins.exporters(&with_csp);
    let chained: Vec<Pair<'_>> = chain_settings()[1..].iter().map(|s| twins.exporters(s)).collect();
    for (id, der) in certificates {
        for lookup in lookups(*id, der) {
            let mut r = ExportRequest::new(lookup);
            r.include_chain = true;
            plain.agree(&admin, &r).ok();
            exports += 1;
        }
        let thumbprint: Lookup = Thumbprint::sha1_of(der).into();
        for request in requests(&thumbprint) {
            let pair = if request.pfx.target_csp.is_some() { &csp } else { &plain };
            pair.agree(&admin, &request).ok();
            exports += 1;
        }
        for pair in &chained {
            for request in chain_requests(&thumbprint) {
                pair.agree(&admin, &request).ok();
                exports += 1;
            }
        }
    }
    exports
}

#[test]
fn every_case_exports_the_same_bytes_from_the_database() {
    let cases = [
        "pki",
        "algorithms",
        "bundles",
        "cross",
        "cross-both",
        "deep",
        "loop",
        "manifest",
        "missing",
        "names",
        "renewed",
        "rollover",
    ];
    for case in cases {
        let twins = Twins::case(case);
        let certificates = twins.certificates();
        assert!(run_table(&twins, &certificates) > 0, "{case}");
    }
    // A key file named for a certificate it does not match is skipped, in
    // the memory store and so in the database.
    let mut memory = MemoryStore::new();
    memory
        .load_paths(
            [common::data("keys-mismatch")],
            &LoadOptions::with_bad_files(BadFiles::SkipWithWarning),
        )
        .unwrap();
    let twins = Twins::of(memory);
    let certificates = twins.certificates();
    run_table(&twins, &certificates);
}

#[test]
fn a_crowded_store_hits_the_same_budget() {
    // 300 same-named CAs: the leaves' chain builds run out of budget, the
    // same way through either store.
    let twins = Twins::case("crowded");
    let certificates = twins.certificates();
    let sample: Vec<_> = certificates
        .iter()
        .take(2)
        .chain(certificates.iter().rev().take(3))
        .cloned()
        .collect();
    run_table(&twins, &sample);
}

#[test]
fn lookups_that_miss_or_disagree_fail_alike() {
    let twins = Twins::case("pki");
    let admin = Caller::single_tenant_full_access();
    let (root, leaf) = (&twins.certificates()[0], &twins.certificates()[2]);
    let unknown = ExportRequest::new(Thumbprint::sha1_of(b"not a certificate"));
    assert!(matches!(
        twins.agree(&settings(), &admin, &unknown),
        Err(ExportError::NotFound { .. })
    ));
    assert!(
        twins
            .agree(&settings(), &admin, &ExportRequest::new(CertId(999)))
            .is_err()
    );
    assert!(
        twins
            .agree(&settings(), &admin, &ExportRequest::new(CertId(u64::MAX)))
            .is_err()
    );
    let mut conflicting = ExportRequest::new(root.0);
    conflicting.also_matching.push(Thumbprint::sha1_of(&leaf.1).into());
    assert!(matches!(
        twins.agree(&settings(), &admin, &conflicting),
        Err(ExportError::ConflictingLookups { .. })
    ));
}

#[test]
fn uuid_lookups_name_the_same_certificate() {
    let mut memory = common::store("pki");
    let ids: Vec<CertId> = memory.iter().map(|(c, _)| c.id).collect();
    for (i, id) in ids.iter().enumerate() {
        memory
            .set_uuid(*id, format!("60b8d6c4-{i:04}").parse().unwrap())
            .unwrap();
    }
    let twins = Twins::of(memory);
    let admin = Caller::single_tenant_full_access();
    for (i, id) in ids.iter().enumerate() {
        let uuid: Uuid = format!("60b8d6c4-{i:04}").parse().unwrap();
        let mut request = ExportRequest::new(Lookup::Uuid(uuid));
        request.private_key = encrypted(KeyPlacement::KeyOnly, KeyEncryption::default().with_iterations(1_000));
        twins.agree(&settings(), &admin, &request).ok();
        let found = twins
            .database
            .certificate_by_uuid(&format!("60b8d6c4-{i:04}").parse().unwrap());
        assert_eq!(found.unwrap().map(|c| c.id), Some(*id));
    }
    let missing = ExportRequest::new(Lookup::Uuid("no-such-uuid".parse().unwrap()));
    assert!(matches!(
        twins.agree(&settings(), &admin, &missing),
        Err(ExportError::NotFound { .. })
    ));
}

/// The claims of SPEC §7 a caller may hold.
const CLAIM_SETS: &[&[&str]] = &[
    &[],
    &["/certificates/collections/read/"],
    &["/certificates/collections/read/5/"],
    &["/certificate_stores/read/"],
    &["/certificate_stores/read/2/"],
    &[
        "/certificates/collections/read/",
        "/certificates/collections/private_key/read/",
    ],
    &[
        "/certificates/collections/read/5/",
        "/certificates/collections/private_key/read/5/",
    ],
    &[
        "/certificates/collections/read/",
        "/certificates/collections/private_key/read/5/",
    ],
    &[
        "/certificate_stores/read/2/",
        "/certificates/collections/private_key/read/",
    ],
];

#[test]
fn access_decisions_are_the_same_over_the_database() {
    // tests/data/pki with rsa.example.com (id 3) given each membership and
    // key policy, every caller × scope × key/no-key: SPEC §7's cases and more.
    let memberships: [(&[u64], &[u64]); 4] = [(&[], &[]), (&[5], &[2]), (&[6], &[3]), (&[5, 6], &[2, 3])];
    let policies = [
        None,
        Some(("Standard", KeyAccess::Allowed)),
        Some(("Production", KeyAccess::Restricted)),
    ];
    let scopes = [
        (None, None),
        (Some(5), None),
        (Some(6), None),
        (None, Some(2)),
        (None, Some(3)),
        (Some(5), Some(2)),
    ];
    let mut outcomes = std::collections::HashSet::new();
    for (collections, containers) in memberships {
        for policy in policies {
            let mut memory = common::store("pki");
            let metadata = memory.metadata_mut(CertId(3)).unwrap();
            metadata.collections = collections.to_vec();
            metadata.containers = containers.to_vec();
            metadata.key_policy = policy.map(|(name, private_key_access)| KeyPolicy::new(name, private_key_access));
            let twins = Twins::of(memory);
            for claims in CLAIM_SETS {
                let caller = Caller::from_claim_lines(&claims.join("\n")).unwrap();
                for (collection_id, container_id) in scopes {
                    for wants_key in [false, true] {
                        let mut request = ExportRequest::new(CertId(3));
                        request.scope = Scope::new(collection_id, container_id);
                        if wants_key {
                            request.private_key =
                                encrypted(KeyPlacement::KeyOnly, KeyEncryption::default().with_iterations(1_000));
                        }
                        let outcome = twins.agree(&settings(), &caller, &request);
                        outcomes.insert(match outcome {
                            Ok(_) => "allowed".to_owned(),
                            Err(e) => e.to_string(),
                        });
                    }
                }
            }
        }
    }
    // The table reaches every outcome of SPEC §7.
    assert!(outcomes.contains("allowed"));
    assert!(outcomes.contains("access denied"));
    assert!(outcomes.contains("Private key access is restricted in Production policy"));
}

#[test]
fn a_key_shared_by_renewed_certificates_answers_to_every_holders_policy() {
    // Two self-signed certificates over one key (a renewal), made here by
    // OpenSSL; the key pairs with both. The old one's policy restricts the
    // key, so asking through the new one is refused too — in one query.
    let dir = common::tempdir();
    let key = common::write(
        dir.path(),
        "shared.key",
        openssl(
            &["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
            b"",
        )
        .as_bytes(),
    );
    for (file, serial) in [("1-old.pem", "1"), ("2-new.pem", "2")] {
        let out = dir.path().join(file);
        openssl(
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                key.to_str().unwrap(),
                "-subj",
                "/CN=renewed.example.com",
                "-days",
                "1",
                "-set_serial",
                serial,
                "-out",
                out.to_str().unwrap(),
            ],
            b"",
        );
    }
    let mut memory = MemoryStore::from_path(dir.path()).unwrap();
    let policy = |name: &str, private_key_access| Some(KeyPolicy::new(name, private_key_access));
    memory.metadata_mut(CertId(1)).unwrap().key_policy = policy("Retired", KeyAccess::Restricted);
    memory.metadata_mut(CertId(2)).unwrap().key_policy = policy("Standard", KeyAccess::Allowed);
    let twins = Twins::of(memory);
    let stored = twins.database.private_key(CertId(2)).unwrap().unwrap();
    let names: Vec<&str> = stored.holder_policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Retired", "Standard"]);
    let mut request = ExportRequest::new(CertId(2));
    request.private_key = encrypted(KeyPlacement::KeyOnly, KeyEncryption::default().with_iterations(1_000));
    assert_eq!(
        twins
            .agree(&settings(), &Caller::single_tenant_full_access(), &request)
            .unwrap_err(),
        ExportError::KeyExportRestricted {
            policy: "Retired".into()
        }
    );
}

/// The database's artifacts, judged by OpenSSL directly.
#[test]
fn openssl_reads_what_the_database_exports() {
    let twins = Twins::case("pki");
    let exporter = Exporter::with_settings(&twins.database, settings());
    let admin = Caller::single_tenant_full_access();
    let leaf = common::by_cn(&twins.memory, "rsa.example.com");

    // The chain as a P7B, in chain order.
    let mut p7b = ExportRequest::new(leaf);
    p7b.format = F::P7b;
    p7b.include_chain = true;
    let artifact = exporter.export(&admin, &p7b).unwrap();
    let subjects = common::openssl_subjects(&["pkcs7", "-inform", "DER", "-print_certs", "-noout"], artifact.bytes());
    assert_eq!(
        subjects,
        [
            "CN=rsa.example.com,O=certexport tests,C=US",
            "CN=Test Intermediate CA,O=certexport tests,C=US",
            "CN=Test Root CA,O=certexport tests,C=US"
        ]
    );

    // The chain verifies at the test time.
    let mut pem = ExportRequest::new(leaf);
    pem.include_chain = true;
    pem.chain_order = ChainOrder::RootFirst;
    let chain = exporter.export(&admin, &pem).unwrap();
    let dir = common::tempdir();
    let bundle = common::write(dir.path(), "chain.pem", chain.bytes());
    let mut single = ExportRequest::new(leaf);
    single.include_subject_header = false;
    let leaf_pem = exporter.export(&admin, &single).unwrap();
    let verified = openssl(
        &[
            "verify",
            "-attime",
            &TEST_TIME.to_string(),
            "-CAfile",
            bundle.to_str().unwrap(),
        ],
        leaf_pem.bytes(),
    );
    assert!(verified.contains("OK"), "{verified}");

    // The key, decrypted from the database and re-encrypted for export,
    // opens with the password and is the certificate's.
    let mut key = ExportRequest::new(leaf);
    key.private_key = encrypted(KeyPlacement::KeyOnly, KeyEncryption::default().with_iterations(1_000));
    let key_pem = exporter.export(&admin, &key).unwrap();
    let key_public = openssl(&["pkey", "-passin", "pass:pässword", "-pubout"], key_pem.bytes());
    let cert_public = openssl(&["x509", "-pubkey", "-noout"], leaf_pem.bytes());
    assert_eq!(key_public, cert_public);

    // A PFX with the key and the chain opens, its MAC checked.
    let mut pfx = ExportRequest::new(leaf);
    pfx.format = F::Pfx;
    pfx.include_chain = true;
    pfx.private_key = encrypted(KeyPlacement::WithCertificate, KeyEncryption::default());
    let artifact = exporter.export(&admin, &pfx).unwrap();
    let dir = common::tempdir();
    let path = common::write(dir.path(), "p.pfx", artifact.bytes());
    let info = openssl(
        &[
            "pkcs12",
            "-in",
            path.to_str().unwrap(),
            "-passin",
            "pass:pässword",
            "-noenc",
        ],
        b"",
    );
    assert_eq!(info.matches("BEGIN CERTIFICATE").count(), 3);
    assert_eq!(info.matches("BEGIN PRIVATE KEY").count(), 1);
}
