#![cfg(feature = "cli")]
//! Who may export (SPEC §7) and the store manifest (SPEC §8), through the
//! `certexport` command line (SPEC §9).
//!
//! Fixtures: tests/data/manifest/ — 01-root.pem and 02-intermediate.pem
//! (ids 1, 2), a.example.com (id 3: collection 5, container 2, key policy
//! "Standard" allowing keys), b.example.com (fixed id 100 by thumbprint:
//! collection 6, container 3), c.example.com (id 4: collection 5, key
//! policy "Production" restricting keys), each with its key, and
//! certexport-store.json. Broken manifests are written to temporary copies
//! of a few of those files.

// A failed unwrap in a test is a failed test (STYLE.md: unwrap allowed in tests).
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::stderr;

const COLL_5: &str = "/certificates/collections/read/5/";
const KEYS_5: &str = "/certificates/collections/private_key/read/5/";
/// Every claim there is.
const EVERY: &str = "/certificates/collections/read/\n/certificates/collections/read/5/\n\
                     /certificate_stores/read/\n/certificate_stores/read/2/\n\
                     /certificates/collections/private_key/read/\n\
                     /certificates/collections/private_key/read/5/\n";
const RESTRICTED: &str = "error: Private key access is restricted in Production policy\n";
const DENIED: &str = "error: access denied\n";

fn manifest_store() -> String {
    common::data("manifest").to_str().unwrap().to_owned()
}

/// A temporary directory holding `claims` as `claims.txt` and the password
/// `pw` as `password.txt`.
struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new(claims: &str) -> Self {
        let dir = common::tempdir();
        common::write(dir.path(), "claims.txt", claims.as_bytes());
        common::write(dir.path(), "password.txt", b"pw\n");
        Self { dir }
    }

    fn claims(&self) -> String {
        path_str(&self.dir.path().join("claims.txt"))
    }

    fn password(&self) -> String {
        path_str(&self.dir.path().join("password.txt"))
    }
}

fn path_str(path: &Path) -> String {
    path.to_str().unwrap().to_owned()
}

/// `certexport export --store tests/data/manifest --id ID` with `extra`.
fn export(id: &str, extra: &[&str]) -> Output {
    let store = manifest_store();
    let mut args = vec!["export", "--store", &store, "--id", id];
    args.extend_from_slice(extra);
    common::cli(&args)
}

fn assert_exit(out: &Output, code: i32) {
    assert_eq!(out.status.code(), Some(code), "stderr: {}", stderr(out));
}

#[test]
fn a_collection_caller_exports_a_certificate_of_its_collection() {
    let files = Files::new(&format!("{COLL_5}\n"));
    let out = export("3", &["--claims", &files.claims(), "--collection-id", "5"]);
    assert_exit(&out, 0);
    assert_eq!(
        common::openssl_subjects(&["x509", "-noout", "-subject"], &out.stdout),
        ["CN=a.example.com,O=certexport tests,C=US"]
    );
    let fixture = std::fs::read(common::data("manifest").join("a.example.com.pem")).unwrap();
    assert_eq!(
        common::openssl_sha1_hex(&out.stdout),
        common::openssl_sha1_hex(&fixture)
    );
}

#[test]
fn a_collection_caller_is_refused_outside_its_collection() {
    let files = Files::new(&format!("{COLL_5}\n"));
    // b.example.com (100) is in collection 6 only; the root (1) in none.
    for id in ["100", "1"] {
        let out = export(id, &["--claims", &files.claims(), "--collection-id", "5"]);
        assert_exit(&out, 5);
        assert_eq!(stderr(&out), DENIED, "--id {id}");
        assert!(out.stdout.is_empty(), "--id {id}: nothing is written");
    }
    // Naming b's own collection does not help without the claim for it.
    let out = export("100", &["--claims", &files.claims(), "--collection-id", "6"]);
    assert_exit(&out, 5);
    assert_eq!(stderr(&out), DENIED);
}

#[test]
fn a_collection_caller_is_refused_without_collection_id() {
    let files = Files::new(&format!("{COLL_5}\n"));
    let out = export("3", &["--claims", &files.claims()]);
    assert_exit(&out, 5);
    // Refused, and told what to add (the claims alone decide it, so it
    // tells nothing about certificate 3).
    let err = stderr(&out);
    assert!(
        err.starts_with("error: access denied: this caller's rights are scoped to collection(s) 5"),
        "{err}"
    );
    assert!(err.contains("--collection-id id"), "{err}");
    assert_eq!(stderr(&export("999", &["--claims", &files.claims()])), err);
    // A container id does not stand in for the collection either (a sits in container 2).
    let out = export("3", &["--claims", &files.claims(), "--container-id", "2"]);
    assert_exit(&out, 5);
    assert_eq!(stderr(&out), DENIED);
}

#[test]
fn a_missing_certificate_looks_like_a_forbidden_one() {
    let files = Files::new(&format!("{COLL_5}\n"));
    let missing = export("999", &["--claims", &files.claims(), "--collection-id", "5"]);
    let forbidden = export("100", &["--claims", &files.claims(), "--collection-id", "5"]);
    assert_eq!(missing.status.code(), forbidden.status.code());
    assert_eq!(missing.stderr, forbidden.stderr);
    assert_exit(&missing, 5);
    assert_eq!(stderr(&missing), DENIED);

    // Without --claims (full rights) the operator is told it does not exist.
    let out = export("999", &[]);
    assert_exit(&out, 3);
}

#[test]
fn restricted_key_policy_refuses_every_caller() {
    let files = Files::new(EVERY);
    let key = [
        "--key-only",
        "--password-file",
        &files.password(),
        "--iterations",
        "1000",
    ];
    // c.example.com (4) is under "Production": refused with every claim, with
    // or without a collection, and for the operator running without --claims.
    for extra in [
        &["--claims", &files.claims(), "--collection-id", "5"][..],
        &["--claims", &files.claims()],
        &[],
    ] {
        let out = export("4", &[&key[..], extra].concat());
        assert_exit(&out, 5);
        assert_eq!(stderr(&out), RESTRICTED, "{extra:?}");
        assert!(out.stdout.is_empty());
    }
    // The certificate itself is not restricted.
    let out = export("4", &["--claims", &files.claims(), "--collection-id", "5"]);
    assert_exit(&out, 0);
    assert_eq!(
        common::openssl_subjects(&["x509", "-noout", "-subject"], &out.stdout),
        ["CN=c.example.com,O=certexport tests,C=US"]
    );
}

#[test]
fn allowed_key_policy_gives_the_key_to_a_collection_key_caller() {
    let files = Files::new(&format!("{COLL_5}\n{KEYS_5}\n"));
    let password = files.password();
    let key = ["--key-only", "--password-file", &password, "--iterations", "1000"];
    let out = export(
        "3",
        &[&key[..], &["--claims", &files.claims(), "--collection-id", "5"]].concat(),
    );
    assert_exit(&out, 0);
    // openssl decrypts it with the password, and it is a.example.com's key.
    let key_public = common::openssl(&["pkey", "-pubout", "-passin", "pass:pw"], &out.stdout);
    let fixture = std::fs::read(common::data("manifest").join("a.example.com.pem")).unwrap();
    assert_eq!(key_public, common::openssl(&["x509", "-noout", "-pubkey"], &fixture));

    // Without the key claim the same request is refused.
    let read_only = Files::new(&format!("{COLL_5}\n"));
    let out = export(
        "3",
        &[&key[..], &["--claims", &read_only.claims(), "--collection-id", "5"]].concat(),
    );
    assert_exit(&out, 5);
    assert_eq!(stderr(&out), DENIED);
}

#[test]
fn malformed_claims_are_bad_usage_naming_the_claim() {
    for bad in [
        "/certificates/collections/read/five/",
        "/certificate_stores/write/",
        "certificates/collections/read/",
    ] {
        let files = Files::new(&format!("{COLL_5}\n{bad}\n"));
        let out = export("3", &["--claims", &files.claims(), "--collection-id", "5"]);
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(err.starts_with("error: ") && err.lines().count() == 1, "{err}");
        assert!(err.contains(&format!("{bad:?}")), "{err} should name {bad}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn claims_file_comments_and_blank_lines_are_skipped() {
    let files = Files::new(&format!("# operators of collection 5\n\n{COLL_5}\n   \n  # end\n"));
    let out = export("3", &["--claims", &files.claims(), "--collection-id", "5"]);
    assert_exit(&out, 0);
    assert_eq!(
        common::openssl_subjects(&["x509", "-noout", "-subject"], &out.stdout),
        ["CN=a.example.com,O=certexport tests,C=US"]
    );
    // A file of comments only holds no claims: nothing may be exported.
    let empty = Files::new("# nobody\n\n");
    let out = export("3", &["--claims", &empty.claims(), "--collection-id", "5"]);
    assert_exit(&out, 5);
}

#[test]
fn the_manifest_fixes_b_at_id_100() {
    let store = manifest_store();
    let out = common::cli(&["list", "--store", &store]);
    assert_exit(&out, 0);
    let listing = String::from_utf8(out.stdout).unwrap();
    let ids: Vec<(&str, &str)> = listing
        .lines()
        .map(|l| {
            let fields: Vec<&str> = l.split('\t').collect();
            (fields[0], fields[3])
        })
        .collect();
    assert!(
        ids.contains(&("100", "CN=b.example.com,O=certexport tests,C=US")),
        "{listing}"
    );
    assert!(
        ids.contains(&("3", "CN=a.example.com,O=certexport tests,C=US")),
        "{listing}"
    );
    assert!(
        ids.contains(&("4", "CN=c.example.com,O=certexport tests,C=US")),
        "{listing}"
    );

    // --id 100 exports b, for a caller of b's collection 6.
    let files = Files::new("/certificates/collections/read/6/\n");
    let out = export("100", &["--claims", &files.claims(), "--collection-id", "6"]);
    assert_exit(&out, 0);
    assert_eq!(
        common::openssl_subjects(&["x509", "-noout", "-subject"], &out.stdout),
        ["CN=b.example.com,O=certexport tests,C=US"]
    );
}

/// A store directory with the root, the intermediate and a.example.com
/// (not b or c), and `manifest` as its certexport-store.json.
fn store_with_manifest(manifest: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = common::tempdir();
    for name in [
        "01-root.pem",
        "02-intermediate.pem",
        "a.example.com.pem",
        "a.example.com.key",
    ] {
        let bytes = std::fs::read(common::data("manifest").join(name)).unwrap();
        common::write(dir.path(), name, &bytes);
    }
    let manifest = common::write(dir.path(), "certexport-store.json", manifest.as_bytes());
    (dir, manifest)
}

/// `certexport list` of a store whose manifest is bad: exit 1 with one line
/// naming the manifest and `what`.
fn assert_bad_manifest(manifest: &str, what: &str) {
    let (dir, manifest_path) = store_with_manifest(manifest);
    for args in [
        vec!["list", "--store", dir.path().to_str().unwrap()],
        vec!["export", "--store", dir.path().to_str().unwrap(), "--id", "1"],
    ] {
        let out = common::cli(&args);
        assert_exit(&out, 1);
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("error: bad store manifest "), "{err}");
        assert!(
            err.contains(manifest_path.to_str().unwrap()),
            "{err} should name the manifest"
        );
        assert!(err.contains(what), "{err} should say {what}");
        assert!(
            out.stdout.is_empty(),
            "nothing is listed or exported from a store that failed to load"
        );
    }
}

#[test]
fn a_manifest_naming_a_missing_file_is_a_load_error() {
    assert_bad_manifest(
        r#"{"certificates": [{"file": "b.example.com.pem", "collections": [6]}]}"#,
        "b.example.com.pem",
    );
}

#[test]
fn a_manifest_naming_a_missing_thumbprint_is_a_load_error() {
    // b.example.com's SHA-1 thumbprint, as the fixture manifest names it;
    // b is not in this copy of the store.
    let b = common::by_cn(&common::store("manifest"), "b.example.com").to_string();
    assert_bad_manifest(
        &format!(r#"{{"certificates": [{{"thumbprint": "{b}", "id": 100}}]}}"#),
        &b,
    );
}

#[test]
fn a_manifest_with_an_unknown_field_is_a_load_error() {
    assert_bad_manifest(
        r#"{"certificates": [{"file": "a.example.com.pem", "collection": [5]}]}"#,
        "\"collection\"",
    );
    assert_bad_manifest(r#"{"certificates": [], "version": 2}"#, "\"version\"");
    assert_bad_manifest(
        r#"{"certificates": [{"file": "a.example.com.pem", "key_policy": {"name": "P", "private_key_access": false, "owner": "x"}}]}"#,
        "\"owner\"",
    );
}

#[test]
fn a_good_manifest_in_a_copied_store_applies() {
    // The same copy with a valid manifest loads, and its metadata counts:
    // a is in collection 7 and its key is restricted by "Vault".
    let (dir, _) = store_with_manifest(
        r#"{"certificates": [{"file": "a.example.com.pem", "id": 50, "collections": [7],
            "key_policy": {"name": "Vault", "private_key_access": false}}]}"#,
    );
    let store = path_str(dir.path());
    let files = Files::new("/certificates/collections/read/7/\n/certificates/collections/private_key/read/7/\n");
    let out = common::cli(&[
        "export",
        "--store",
        &store,
        "--id",
        "50",
        "--claims",
        &files.claims(),
        "--collection-id",
        "7",
    ]);
    assert_exit(&out, 0);
    assert_eq!(
        common::openssl_subjects(&["x509", "-noout", "-subject"], &out.stdout),
        ["CN=a.example.com,O=certexport tests,C=US"]
    );
    let password = files.password();
    let out = common::cli(&[
        "export",
        "--store",
        &store,
        "--id",
        "50",
        "--claims",
        &files.claims(),
        "--collection-id",
        "7",
        "--key-only",
        "--password-file",
        &password,
        "--iterations",
        "1000",
    ]);
    assert_exit(&out, 5);
    assert_eq!(
        stderr(&out),
        "error: Private key access is restricted in Vault policy\n"
    );
}
