//! The store manifest, `certexport-store.json` (SPEC §8, §10): the input
//! is the manifest of a directory holding the certificates of
//! tests/data/manifest (root, intermediate, a., b. and c.example.com), one
//! per file, loaded with `MemoryStore::from_path`.
//!
//! Oracles:
//! - never a panic; every error's text is bounded;
//! - when the store loads, it holds what the manifest says, read from the
//!   JSON here independently of the crate: every fixed `id` is the
//!   certificate its entry names (by `file` or `thumbprint`), every `uuid`
//!   finds the certificate of the last entry that gives it one, and each
//!   certificate's collections, containers and key policy are those its
//!   entries give (collections and containers merged, the last key policy
//!   winning) — nothing more, and nothing on a certificate no entry names.
#![no_main]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::OnceLock;

use certexport::ids::{CertId, Thumbprint, Uuid};
use certexport::store::{CertificateStore, KeyAccess, KeyPolicy, MANIFEST_FILE, MemoryStore};
use certexport_fuzz::{checked_text, fixture, scratch_dir};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// The certificate files of tests/data/manifest.
const FILES: [&str; 5] = [
    "01-root.pem",
    "02-intermediate.pem",
    "a.example.com.pem",
    "b.example.com.pem",
    "c.example.com.pem",
];

struct Fixture {
    dir: PathBuf,
    /// The DER of each of [`FILES`].
    ders: Vec<Vec<u8>>,
}

fn fixture_dir() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = scratch_dir("manifest");
        let mut ders = Vec::new();
        for file in FILES {
            let pem = std::fs::read(fixture("manifest").join(file)).expect("the manifest fixtures");
            std::fs::write(dir.join(file), &pem).expect("a scratch copy of the fixtures");
            let mut certificates = certexport::formats::read_certificates(&pem).expect("a fixture certificate");
            ders.push(certificates.remove(0));
        }
        Fixture { dir, ders }
    })
}

fuzz_target!(|data: &[u8]| {
    let fixture = fixture_dir();
    if let Err(e) = std::fs::write(fixture.dir.join(MANIFEST_FILE), data) {
        panic!("cannot write the manifest: {e}");
    }
    match MemoryStore::from_path(&fixture.dir) {
        Ok(store) => holds_what_the_manifest_says(&store, fixture, data),
        Err(e) => {
            checked_text(&e);
        }
    }
});

/// What the manifest gives one certificate.
#[derive(Default)]
struct Expected {
    collections: BTreeSet<u64>,
    containers: BTreeSet<u64>,
    key_policy: Option<KeyPolicy>,
    uuid: Option<String>,
}

fn holds_what_the_manifest_says(store: &MemoryStore, fixture: &Fixture, manifest: &[u8]) {
    let json: Value = match serde_json::from_slice(manifest) {
        Ok(json) => json,
        Err(e) => panic!("a manifest the store took is not JSON: {e}"),
    };
    assert_eq!(
        store.len(),
        FILES.len(),
        "the store holds other certificates than the directory's"
    );
    let id_of = |der: &[u8]| {
        store
            .iter()
            .find(|(c, _)| c.der.as_ref() == der)
            .map(|(c, _)| c.id)
            .expect("every file's certificate is stored")
    };
    let mut expected: Vec<Expected> = FILES.iter().map(|_| Expected::default()).collect();
    let entries = json["certificates"].as_array().map(Vec::as_slice).unwrap_or_default();
    for (i, entry) in entries.iter().enumerate() {
        // The certificate the entry names: a file holds one, a thumbprint one.
        let named = match (entry["file"].as_str(), entry["thumbprint"].as_str()) {
            (Some(file), None) => FILES.iter().position(|f| *f == file),
            (None, Some(thumbprint)) => thumbprint.parse::<Thumbprint>().ok().and_then(|t| {
                fixture
                    .ders
                    .iter()
                    .position(|der| t == Thumbprint::sha1_of(der) || t == Thumbprint::sha256_of(der))
            }),
            _ => None,
        };
        let Some(named) = named else {
            panic!("certificates[{i}] names no certificate of the directory, and the store loaded: {entry}");
        };
        let der = &fixture.ders[named];
        // `null` is an absent field, as serde reads an `Option`.
        let field = |name: &str| entry.get(name).filter(|v| !v.is_null());
        if let Some(id) = field("id") {
            let id = id.as_u64().map(CertId);
            let holder = id.and_then(|id| store.get(id)).map(|c| c.der.into_owned());
            assert_eq!(
                holder.as_ref(),
                Some(der),
                "certificates[{i}]: id {id:?} is not {}",
                FILES[named]
            );
        }
        let expected = &mut expected[named];
        let numbers = |field: &str| entry[field].as_array().into_iter().flatten().filter_map(Value::as_u64);
        expected.collections.extend(numbers("collections"));
        expected.containers.extend(numbers("containers"));
        if let Some(policy) = field("key_policy") {
            expected.key_policy = Some(KeyPolicy::new(
                policy["name"].as_str().unwrap_or_default().to_owned(),
                if policy["private_key_access"].as_bool() == Some(true) {
                    KeyAccess::Allowed
                } else {
                    KeyAccess::Restricted
                },
            ));
        }
        if let Some(uuid) = field("uuid") {
            expected.uuid = uuid.as_str().map(str::to_owned);
        }
    }
    for (file, (der, expected)) in FILES.iter().zip(fixture.ders.iter().zip(&expected)) {
        let id = id_of(der);
        let metadata = store.metadata(id).cloned().unwrap_or_default();
        let collections: BTreeSet<u64> = metadata.collections.iter().copied().collect();
        let containers: BTreeSet<u64> = metadata.containers.iter().copied().collect();
        assert_eq!(collections, expected.collections, "{file}: collections");
        assert_eq!(containers, expected.containers, "{file}: containers");
        assert_eq!(
            metadata.collections.len(),
            collections.len(),
            "{file}: a collection listed twice"
        );
        assert_eq!(
            metadata.containers.len(),
            containers.len(),
            "{file}: a container listed twice"
        );
        assert_eq!(metadata.key_policy, expected.key_policy, "{file}: key policy");
        let uuid = store.uuid(id).map(Uuid::to_string);
        assert_eq!(uuid, expected.uuid, "{file}: uuId");
        if let Some(uuid) = expected.uuid.as_deref().and_then(|u| u.parse::<Uuid>().ok()) {
            let found = store.certificate_by_uuid(&uuid).ok().flatten().map(|c| c.id);
            assert_eq!(found, Some(id), "{file}: its uuId finds another certificate");
        }
    }
}
