//! The command line over a database (SPEC §9, §11): `certexport db
//! migrate|import|rotate-kek`, and `--database URL` (or `DATABASE_URL`)
//! wherever `--store PATH` goes, giving the same output — against a live
//! PostgreSQL server that the tests start (tests/common/pg.rs). Two
//! processes share one database: what one imports, the other exports
//! without a restart.
//!
//! Fixtures: tests/data/pki, tests/data/manifest.

#![cfg(all(feature = "postgres", feature = "cli"))]
#![allow(clippy::unwrap_used)]

mod common;
#[path = "common/pg.rs"]
mod pg;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use certexport::store::{Kek, PgOptions, PgStore};
use certexport::{Caller, ExportError, ExportRequest, Exporter};
use common::{data, openssl, path_str as path, tempdir, write};

/// Runs the binary with `args` and `env`, and without the environment's
/// own `DATABASE_URL` and `CERTEXPORT_KEK_FILE`.
fn certexport(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_certexport"));
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("CERTEXPORT_KEK_FILE");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

/// Stdout of a run that must succeed.
fn ok(args: &[&str], env: &[(&str, &str)]) -> Vec<u8> {
    let out = certexport(args, env);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The exit code and the one error line of a run that must fail.
fn fails(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let out = certexport(args, env);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    (out.status.code().unwrap(), stderr.trim_end().to_owned())
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap()
}

/// A KEK file of 64 hex digits.
fn kek_file(dir: &Path, name: &str, byte: u8) -> PathBuf {
    write(dir, name, format!("{}\n", format!("{byte:02x}").repeat(32)).as_bytes())
}

/// A new database with tests/data/pki imported through the CLI under the KEK file `kek`.
fn imported(kek: &Path) -> String {
    let url = pg::database();
    let pki = data("pki");
    ok(
        &[
            "db",
            "import",
            "--database",
            &url,
            "--kek-file",
            path(kek),
            "--store",
            path(&pki),
        ],
        &[],
    );
    url
}

#[test]
fn migrate_creates_the_schema_once() {
    let url = pg::database();
    let (code, error) = fails(&["list", "--database", &url], &[]);
    assert_eq!(code, 1);
    assert_eq!(
        error,
        "error: the database's certexport schema is version 0, this build needs version 2: run `certexport db migrate`"
    );
    assert_eq!(
        text(ok(&["db", "migrate", "--database", &url], &[])),
        "certexport schema at version 2 (2 migrations applied)\n"
    );
    assert_eq!(
        text(ok(&["db", "migrate"], &[("DATABASE_URL", &url)])),
        "certexport schema at version 2 (0 migrations applied)\n"
    );
    assert!(ok(&["list", "--database", &url], &[]).is_empty());
}

#[test]
fn import_reports_what_it_did_and_a_reimport_changes_nothing() {
    let dir = tempdir();
    let kek = kek_file(dir.path(), "kek.hex", 7);
    let url = pg::database();
    let pki = data("pki");
    let args = [
        "db",
        "import",
        "--database",
        &url,
        "--kek-file",
        path(&kek),
        "--store",
        path(&pki),
    ];
    assert_eq!(
        text(ok(&args, &[])),
        "8 certificates read: 8 added (0 with a new id), 0 already stored; 5 private keys stored\n"
    );
    assert_eq!(
        text(ok(&args, &[])),
        "8 certificates read: 0 added (0 with a new id), 8 already stored; 0 private keys stored\n"
    );
    // Keys cannot be imported without the KEK.
    let other = pg::database();
    let (code, error) = fails(&["db", "import", "--database", &other, "--store", path(&pki)], &[]);
    assert_eq!(code, 1);
    assert!(error.contains("give the key-encryption key"), "{error}");
}

#[test]
fn list_and_export_over_the_database_print_what_they_print_over_the_files() {
    let dir = tempdir();
    let kek = kek_file(dir.path(), "kek.hex", 7);
    let url = imported(&kek);
    let pki = data("pki");
    let store = ["--store", path(&pki)];
    let database = ["--database", url.as_str()];
    assert_eq!(
        ok(&[&["list"], &database[..]].concat(), &[]),
        ok(&[&["list"], &store[..]].concat(), &[])
    );

    let listing = text(ok(&[&["list"], &store[..]].concat(), &[]));
    let thumbprint = listing.lines().nth(2).unwrap().split('\t').nth(1).unwrap().to_owned();
    for request in [
        vec!["--id", "3"],
        vec!["--thumbprint", &thumbprint, "--include-chain"],
        vec![
            "--thumbprint",
            &thumbprint,
            "--format",
            "p7b",
            "--include-chain",
            "--chain-order",
            "root-first",
        ],
        vec!["--id", "4", "--format", "der"],
        vec!["--serial", "00", "--issuer", "CN=nobody"],
        vec!["--id", "999"],
    ] {
        let over_files = certexport(&[&["export"], &store[..], &request].concat(), &[]);
        let over_database = certexport(&[&["export"], &database[..], &request].concat(), &[]);
        assert_eq!(over_database.stdout, over_files.stdout, "{request:?}");
        assert_eq!(over_database.stderr, over_files.stderr, "{request:?}");
        assert_eq!(over_database.status.code(), over_files.status.code(), "{request:?}");
    }
}

#[test]
fn keys_come_out_with_the_kek_from_a_flag_or_the_environment() {
    let dir = tempdir();
    let kek = kek_file(dir.path(), "kek.hex", 7);
    let url = imported(&kek);
    let password = write(dir.path(), "password", b"s3cret\n");
    let export = [
        "export",
        "--database",
        &url,
        "--id",
        "3",
        "--key-only",
        "--password-file",
        path(&password),
    ];

    let with_flag = ok(&[&export[..], &["--kek-file", path(&kek)]].concat(), &[]);
    let with_env = ok(&export, &[("CERTEXPORT_KEK_FILE", path(&kek))]);
    for pem in [with_flag, with_env] {
        let key = openssl(&["pkey", "-passin", "pass:s3cret", "-pubout"], &pem);
        let certificate = ok(&["export", "--database", &url, "--id", "3"], &[]);
        assert_eq!(key, openssl(&["x509", "-pubkey", "-noout"], &certificate));
    }

    let (code, error) = fails(&export, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        error,
        "error: private keys in the database are encrypted: give the key-encryption key (--kek-file FILE or CERTEXPORT_KEK_FILE)"
    );
    let wrong = kek_file(dir.path(), "wrong.hex", 8);
    let (_, error) = fails(&[&export[..], &["--kek-file", path(&wrong)]].concat(), &[]);
    assert!(error.contains("encrypted under another key-encryption key"), "{error}");
    let bad = write(dir.path(), "bad.hex", b"not hex at all\n");
    let (_, error) = fails(&[&export[..], &["--kek-file", path(&bad)]].concat(), &[]);
    assert!(error.starts_with("error: bad key-encryption key file"), "{error}");
}

#[test]
fn database_url_is_the_fallback_and_store_wins_over_it() {
    let dir = tempdir();
    let url = imported(&kek_file(dir.path(), "kek.hex", 7));
    let pki = data("pki");
    let over_env = ok(&["list"], &[("DATABASE_URL", &url)]);
    assert_eq!(over_env, ok(&["list", "--store", path(&pki)], &[]));
    // With --store, an unreachable DATABASE_URL is never tried.
    let unreachable = "postgresql://nobody@127.0.0.1:1/none";
    assert_eq!(
        ok(&["list", "--store", path(&pki)], &[("DATABASE_URL", unreachable)]),
        over_env
    );
    let (code, error) = fails(&["list"], &[]);
    assert_eq!(code, 2);
    assert_eq!(
        error,
        "error: give --store PATH or --database URL (or set DATABASE_URL)"
    );
    let (code, _) = fails(&["list", "--store", path(&pki), "--database", &url], &[]);
    assert_eq!(code, 2);
    let (code, error) = fails(&["list", "--database", unreachable], &[]);
    assert_eq!(code, 1);
    assert!(error.contains("error connecting to server"), "{error}");
}

#[test]
fn rotate_kek_re_wraps_every_key() {
    let dir = tempdir();
    let old = kek_file(dir.path(), "old.hex", 1);
    let new = kek_file(dir.path(), "new.hex", 2);
    let url = imported(&old);
    let rotate = ["db", "rotate-kek", "--database", &url, "--new-kek-file", path(&new)];
    assert_eq!(
        text(ok(&[&rotate[..], &["--kek-file", path(&old)]].concat(), &[])),
        "re-wrapped 5 private keys\n"
    );
    let password = write(dir.path(), "password", b"pw\n");
    let export = [
        "export",
        "--database",
        &url,
        "--id",
        "4",
        "--key-only",
        "--password-file",
        path(&password),
    ];
    assert!(!ok(&[&export[..], &["--kek-file", path(&new)]].concat(), &[]).is_empty());
    let (_, error) = fails(&[&export[..], &["--kek-file", path(&old)]].concat(), &[]);
    assert!(error.contains("another key-encryption key"), "{error}");
    let (_, error) = fails(&rotate, &[]);
    assert!(error.contains("give the key-encryption key"), "{error}");
}

#[test]
fn a_running_exporter_exports_what_another_process_imports() {
    // This process keeps an exporter over the database (its CA cache warm
    // with a chain step that found nothing); `certexport db import`, another
    // process, adds the missing intermediate and more leaves.
    let dir = tempdir();
    let kek = kek_file(dir.path(), "kek.hex", 7);
    let url = pg::database();
    let pki = data("pki");
    let partial = tempdir();
    for file in ["01-root.pem", "03-rsa.example.com.pem"] {
        std::fs::copy(pki.join(file), partial.path().join(file)).unwrap();
    }
    ok(
        &["db", "import", "--database", &url, "--store", path(partial.path())],
        &[],
    );

    // A TTL of zero: every answer checks the change counter first, so the
    // other process's import is seen at once (with the default, within 1 s).
    let store = PgStore::connect(&url, &PgOptions::default().with_cache_ttl(std::time::Duration::ZERO))
        .unwrap()
        .with_kek(Kek::from_file(&kek).unwrap());
    let exporter = Exporter::with_settings(&store, common::settings());
    let files = common::store("pki");
    let leaf = common::by_cn(&files, "rsa.example.com");
    let mut chain = ExportRequest::new(leaf);
    chain.include_chain = true;
    let caller = Caller::single_tenant_full_access();
    assert!(matches!(
        exporter.export(&caller, &chain),
        Err(ExportError::IncompleteChain { .. })
    ));

    ok(
        &[
            "db",
            "import",
            "--database",
            &url,
            "--kek-file",
            path(&kek),
            "--store",
            path(&pki),
        ],
        &[],
    );
    let exported = exporter.export(&caller, &chain).unwrap();
    assert_eq!(exported.certificate_count(), 3);
    let mut ed25519 = ExportRequest::new(common::by_cn(&files, "ed25519.example.com"));
    ed25519.include_chain = true;
    let over_files = Exporter::with_settings(&files, common::settings())
        .export(&caller, &ed25519)
        .unwrap();
    assert_eq!(exporter.export(&caller, &ed25519).unwrap().bytes(), over_files.bytes());

    // And the other way: what this process imports, a new process exports.
    let manifest = common::store("manifest");
    store.import(&manifest, &mut |_, _| {}).unwrap();
    let a = common::by_cn(&manifest, "a.example.com").to_string();
    let pem = text(ok(&["export", "--database", &url, "--thumbprint", &a], &[]));
    assert!(pem.starts_with("subject=CN=a.example.com"), "{pem}");
}
