//! `PgStore` as a store: schema migrations, ids on import and re-import,
//! metadata, the CA cache's invalidation, two stores over one database,
//! and the connection pool — against a live PostgreSQL server that the
//! tests start (tests/common/pg.rs).
//!
//! Fixtures: tests/data/manifest (fixed id 100, collections, containers,
//! policies), tests/data/pki (root → intermediate → five leaves with keys),
//! tests/data/missing.

#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used)]

mod common;
#[path = "common/pg.rs"]
mod pg;

use std::collections::HashMap;
use std::time::Duration;

use certexport::ids::{CertId, Thumbprint};
use certexport::store::{CertificateStore, KeyAccess, MemoryStore};
use certexport::store::{ImportReport, Kek, Migrations, PgOptions, PgStore, PgStoreError, SCHEMA_VERSION};
use certexport::{ExportError, ExportRequest, Exporter};

fn options(migrations: Migrations) -> PgOptions {
    PgOptions::default().with_migrations(migrations)
}

/// A store over a new, migrated database.
fn new_store() -> (PgStore, String) {
    let url = pg::database();
    let store = PgStore::connect(&url, &options(Migrations::Apply))
        .unwrap()
        .with_kek(Kek::generate().unwrap());
    (store, url)
}

fn import(store: &PgStore, memory: &MemoryStore) -> ImportReport {
    store.import(memory, &mut |_, _| {}).unwrap()
}

/// Thumbprint → id, of every certificate of a memory store.
fn ids_of(memory: &MemoryStore) -> HashMap<Thumbprint, CertId> {
    memory
        .iter()
        .map(|(c, _)| (Thumbprint::sha1_of(&c.der), c.id))
        .collect()
}

/// The id the database gives the certificate with this thumbprint.
fn id_in(store: &PgStore, thumbprint: &Thumbprint) -> CertId {
    store.certificate_by_thumbprint(thumbprint).unwrap().unwrap().id
}

fn sql(url: &str, statements: &str) {
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    client.batch_execute(statements).unwrap();
}

fn chain_request(lookup: impl Into<certexport::Lookup>) -> ExportRequest {
    let mut request = ExportRequest::new(lookup);
    request.include_chain = true;
    request
}

#[test]
fn a_database_without_the_schema_is_refused_until_migrated() {
    let url = pg::database();
    assert_eq!(
        PgStore::connect(&url, &options(Migrations::Require)).unwrap_err(),
        ExportError::SchemaOutdated {
            found: 0,
            required: SCHEMA_VERSION
        }
    );
    assert_eq!(PgStore::migrate(&url).unwrap(), SCHEMA_VERSION as usize);
    assert_eq!(PgStore::migrate(&url).unwrap(), 0, "a second migrate has nothing to do");
    PgStore::connect(&url, &options(Migrations::Require)).unwrap();
}

#[test]
fn migrations_applied_at_once_by_two_processes_run_once() {
    let url = pg::database();
    let applied: Vec<usize> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..4).map(|_| s.spawn(|| PgStore::migrate(&url).unwrap())).collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    assert_eq!(applied.iter().sum::<usize>(), SCHEMA_VERSION as usize);
}

#[test]
fn a_schema_from_a_newer_certexport_is_refused() {
    let (_, url) = new_store();
    sql(
        &url,
        "INSERT INTO certexport_migrations (version, description) VALUES (99, 'from the future')",
    );
    let newer = ExportError::SchemaTooNew {
        found: 99,
        supported: SCHEMA_VERSION,
    };
    assert_eq!(
        PgStore::connect(&url, &options(Migrations::Require)).unwrap_err(),
        newer
    );
    assert_eq!(PgStore::connect(&url, &options(Migrations::Apply)).unwrap_err(), newer);
    assert_eq!(PgStore::migrate(&url).unwrap_err(), newer);
}

#[test]
fn an_empty_database_gives_the_ids_the_files_give_and_a_reimport_keeps_them() {
    // tests/data/manifest: b.example.com has the fixed id 100.
    let memory = common::store("manifest");
    let (store, _) = new_store();
    let report = import(&store, &memory);
    assert_eq!(
        (report.added, report.already_stored, report.renumbered, report.keys),
        (5, 0, 0, 3)
    );
    let expected = ids_of(&memory);
    assert!(expected.values().any(|id| *id == CertId(100)));
    for (thumbprint, id) in &expected {
        assert_eq!(id_in(&store, thumbprint), *id);
    }

    let again = import(&store, &memory);
    assert_eq!(
        (again.added, again.already_stored, again.renumbered, again.keys),
        (0, 5, 0, 0)
    );
    for (thumbprint, id) in &expected {
        assert_eq!(id_in(&store, thumbprint), *id);
    }
}

#[test]
fn new_certificates_never_take_an_id_the_database_used() {
    // manifest uses ids 1–4 and 100; pki's files number theirs 1–8.
    let (store, url) = new_store();
    import(&store, &common::store("manifest"));
    let pki = common::store("pki");
    let report = import(&store, &pki);
    assert_eq!((report.added, report.renumbered), (8, 8));
    // Fresh ids above every id used, in the files' order.
    let mut in_order: Vec<(CertId, Thumbprint)> =
        pki.iter().map(|(c, _)| (c.id, Thumbprint::sha1_of(&c.der))).collect();
    in_order.sort_by_key(|(id, _)| *id);
    for (n, (_, thumbprint)) in in_order.iter().enumerate() {
        assert_eq!(id_in(&store, thumbprint), CertId(101 + n as u64));
    }

    // A deleted certificate's id is not given again, even to the same
    // certificate coming back.
    let b = common::by_cn(&common::store("manifest"), "b.example.com");
    sql(&url, "DELETE FROM certificates WHERE id = 100");
    assert!(store.certificate(CertId(100)).unwrap().is_none());
    let report = import(&store, &common::store("manifest"));
    assert_eq!((report.added, report.already_stored), (1, 4));
    assert_eq!(id_in(&store, &b), CertId(109));

    // Files whose ids are above everything used keep them.
    let missing = common::store("missing");
    let mut shifted = MemoryStore::new();
    for (certificate, _) in missing.iter() {
        shifted
            .insert_with_id(&certificate.der, CertId(certificate.id.0 + 500))
            .unwrap();
    }
    let report = import(&store, &shifted);
    assert_eq!((report.added, report.renumbered), (3, 0));
    for (thumbprint, id) in ids_of(&shifted) {
        assert_eq!(id_in(&store, &thumbprint), id);
    }
}

#[test]
fn ids_beyond_a_bigint_are_refused() {
    let (store, _) = new_store();
    let root = common::store("pki").get(CertId(1)).unwrap().der.into_owned();
    let mut memory = MemoryStore::new();
    memory.insert_with_id(root, CertId(u64::MAX)).unwrap();
    assert_eq!(
        store.import(&memory, &mut |_, _| {}).unwrap_err(),
        ExportError::IdOutOfRange {
            what: "CertID",
            id: u64::MAX,
            max: i64::MAX as u64
        }
    );
}

#[test]
fn metadata_is_added_and_never_taken_away() {
    let (store, _) = new_store();
    let mut memory = common::store("pki");
    {
        let metadata = memory.metadata_mut(CertId(3)).unwrap();
        metadata.collections = vec![5];
        metadata.containers = vec![2];
    }
    memory.set_uuid(CertId(3), "rsa-leaf".parse().unwrap()).unwrap();
    import(&store, &memory);

    let mut more = common::store("pki");
    {
        let metadata = more.metadata_mut(CertId(3)).unwrap();
        metadata.collections = vec![6];
        metadata.key_policy = Some(certexport::store::KeyPolicy::new("Production", KeyAccess::Restricted));
    }
    import(&store, &more);
    import(&store, &common::store("pki"));

    let stored = store.certificate(CertId(3)).unwrap().unwrap();
    assert_eq!(stored.metadata.collections, [5, 6]);
    assert_eq!(stored.metadata.containers, [2]);
    assert_eq!(
        stored
            .metadata
            .key_policy
            .as_ref()
            .map(|p| (p.name.as_str(), p.private_key_access)),
        Some(("Production", KeyAccess::Restricted))
    );
    let by_uuid = store.certificate_by_uuid(&"rsa-leaf".parse().unwrap()).unwrap();
    assert_eq!(by_uuid.map(|c| c.id), Some(CertId(3)));
}

#[test]
fn a_uuid_held_by_another_certificate_fails_the_whole_import() {
    let (store, _) = new_store();
    let mut memory = common::store("pki");
    memory.set_uuid(CertId(3), "shared-uuid".parse().unwrap()).unwrap();
    import(&store, &memory);

    let mut other = common::store("missing");
    other.set_uuid(CertId(3), "shared-uuid".parse().unwrap()).unwrap();
    assert_eq!(
        store.import(&other, &mut |_, _| {}).unwrap_err(),
        ExportError::UuidTaken {
            uuid: "shared-uuid".into(),
            by: 3
        }
    );
    let leaf = common::by_cn(&other, "gap-leaf.example.com");
    assert!(
        store.certificate_by_thumbprint(&leaf).unwrap().is_none(),
        "nothing of the failed import stays"
    );
}

#[test]
fn chain_steps_are_cached_until_the_database_changes() {
    // tests/data/pki: a chain export fills the cache; the intermediate is
    // then deleted behind the store's back (with triggers off, so the
    // change counter stays), and the cached step still serves it. Once the counter moves,
    // the next export sees the database as it is.
    let (store, url) = new_store();
    let memory = common::store("pki");
    import(&store, &memory);
    let leaf = common::by_cn(&memory, "rsa.example.com");
    let intermediate = common::by_cn(&memory, "Test Intermediate CA");
    let exporter = Exporter::with_settings(&store, common::settings());
    let admin = common::admin();
    assert_eq!(
        exporter
            .export(&admin, &chain_request(leaf))
            .unwrap()
            .certificate_count(),
        3
    );

    sql(
        &url,
        &format!(
            "SET session_replication_role = replica; -- no triggers
             DELETE FROM certificates WHERE sha1 = '\\x{intermediate}';"
        ),
    );
    assert_eq!(
        exporter
            .export(&admin, &chain_request(leaf))
            .unwrap()
            .certificate_count(),
        3,
        "served from the cache"
    );
    sql(&url, "UPDATE certexport_state SET generation = generation + 1");
    assert!(matches!(
        exporter.export(&admin, &chain_request(leaf)),
        Err(ExportError::IncompleteChain { .. })
    ));
}

#[test]
fn what_one_store_imports_the_other_exports_without_a_restart() {
    // Two stores over one database, as two processes would have them: the
    // first has exported a chain that lacked its intermediate (and cached
    // the step); the second imports the intermediate and a new leaf.
    let (first, url) = new_store();
    let pki = common::data("pki");
    let mut partial = MemoryStore::new();
    partial
        .load_paths(
            [pki.join("01-root.pem"), pki.join("03-rsa.example.com.pem")],
            &Default::default(),
        )
        .unwrap();
    import(&first, &partial);
    let leaf = common::by_cn(&partial, "rsa.example.com");
    let exporter = Exporter::with_settings(&first, common::settings());
    let admin = common::admin();
    assert!(matches!(
        exporter.export(&admin, &chain_request(leaf)),
        Err(ExportError::IncompleteChain { .. })
    ));

    let second = PgStore::connect(&url, &options(Migrations::Require))
        .unwrap()
        .with_kek(Kek::generate().unwrap());
    import(&second, &common::store("pki"));

    assert_eq!(
        exporter
            .export(&admin, &chain_request(leaf))
            .unwrap()
            .certificate_count(),
        3
    );
    let new_leaf = common::by_cn(&common::store("pki"), "p256.example.com");
    assert_eq!(
        exporter
            .export(&admin, &chain_request(new_leaf))
            .unwrap()
            .certificate_count(),
        3
    );
}

#[test]
fn more_exports_than_connections_wait_their_turn() {
    let url = pg::database();
    PgStore::migrate(&url).unwrap();
    let store = PgStore::connect(&url, &PgOptions::default().with_connections(2))
        .unwrap()
        .with_kek(Kek::generate().unwrap());
    let memory = common::store("pki");
    import(&store, &memory);
    let exporter = Exporter::with_settings(&store, common::settings());
    let leaves: Vec<Thumbprint> = [
        "rsa.example.com",
        "p256.example.com",
        "p384.example.com",
        "ed25519.example.com",
    ]
    .iter()
    .map(|cn| common::by_cn(&memory, cn))
    .collect();
    std::thread::scope(|s| {
        for thread in 0..8 {
            let (exporter, leaves) = (&exporter, &leaves);
            s.spawn(move || {
                for n in 0..20 {
                    let leaf = leaves[(thread + n) % leaves.len()];
                    let artifact = exporter.export(&common::admin(), &chain_request(leaf)).unwrap();
                    assert_eq!(artifact.certificate_count(), 3);
                }
            });
        }
    });
}

#[test]
fn a_pool_that_stays_busy_fails_after_the_wait() {
    let url = pg::database();
    PgStore::migrate(&url).unwrap();
    let store = PgStore::connect(
        &url,
        &PgOptions::default()
            .with_connections(1)
            .with_connection_wait(Duration::from_millis(200)),
    )
    .unwrap()
    .with_kek(Kek::generate().unwrap());
    import(&store, &common::store("pki"));
    // Listing holds the one connection while a lookup asks for another.
    let mut inner = None;
    store
        .for_each_certificate(|_, _, _| {
            inner.get_or_insert_with(|| store.certificate(CertId(1)));
            Ok::<(), ExportError>(())
        })
        .unwrap();
    let error = inner.unwrap().unwrap_err();
    let ExportError::Backend(backend) = &error else {
        panic!("{error:?}")
    };
    assert!(matches!(
        backend.get_ref().downcast_ref::<PgStoreError>(),
        Some(PgStoreError::PoolTimeout { size: 1, .. })
    ));
    assert!(store.certificate(CertId(1)).unwrap().is_some(), "free again afterwards");
}

#[test]
fn connections_the_server_dropped_are_replaced() {
    let (store, url) = new_store();
    import(&store, &common::store("pki"));
    assert!(store.certificate(CertId(1)).unwrap().is_some());
    sql(
        &url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = 'certexport' AND datname = current_database() AND pid <> pg_backend_pid()",
    );
    assert!(store.certificate(CertId(1)).unwrap().is_some());
}

#[test]
fn listing_walks_every_certificate_in_id_order() {
    let (store, _) = new_store();
    let memory = common::store("manifest");
    import(&store, &memory);
    let mut listed = Vec::new();
    store
        .for_each_certificate(|id, der, has_key| {
            listed.push((id, Thumbprint::sha1_of(der), has_key));
            Ok::<(), ExportError>(())
        })
        .unwrap();
    let mut expected: Vec<_> = memory
        .iter()
        .map(|(c, has_key)| (c.id, Thumbprint::sha1_of(&c.der), has_key))
        .collect();
    expected.sort_by_key(|(id, _, _)| *id);
    assert_eq!(listed, expected);
}
