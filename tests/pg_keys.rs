//! Private keys at rest in `PgStore`: a dump of the database yields no
//! key, a wrong key-encryption key and a moved or altered key row fail
//! with errors that say which, and rotating the KEK keeps every key
//! readable with the new KEK only — against a live PostgreSQL server that
//! the tests start (tests/common/pg.rs).
//!
//! Fixtures: tests/data/pki (five leaves with their keys: RSA, P-256,
//! P-384, Ed25519, P-521; 08-nokey without).

#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used)]

mod common;
#[path = "common/pg.rs"]
mod pg;

use certexport::formats::KeyEncryption;
use certexport::ids::CertId;
use certexport::options::{KeyExport, KeyPlacement};
use certexport::store::{CertificateStore, MemoryStore};
use certexport::store::{Kek, Migrations, PgOptions, PgStore};
use certexport::{ExportError, ExportRequest, Exporter, Password};

/// A migrated database with tests/data/pki imported under `kek`.
fn imported(kek: Kek) -> (PgStore, String, MemoryStore) {
    let url = pg::database();
    let store = PgStore::connect(&url, &PgOptions::default().with_migrations(Migrations::Apply))
        .unwrap()
        .with_kek(kek);
    let memory = common::store("pki");
    let report = store.import(&memory, &mut |_, _| {}).unwrap();
    assert_eq!(report.keys, 5);
    (store, url, memory)
}

fn reopen(url: &str) -> PgStore {
    PgStore::connect(url, &PgOptions::default()).unwrap()
}

/// A KEK and the file that holds it as 64 hex digits.
fn kek_file(dir: &std::path::Path, name: &str, byte: u8) -> (Kek, std::path::PathBuf) {
    let path = common::write(dir, name, format!("{}\n", format!("{byte:02x}").repeat(32)).as_bytes());
    (Kek::from_file(&path).unwrap(), path)
}

fn sql(url: &str, statements: &str) {
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    client.batch_execute(statements).unwrap();
}

fn key_request(id: u64) -> ExportRequest {
    let mut request = ExportRequest::new(CertId(id));
    request.private_key = KeyExport::Encrypted {
        placement: KeyPlacement::KeyOnly,
        password: Password::new("pw").unwrap(),
        encryption: KeyEncryption::default().with_iterations(1_000),
    };
    request
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_database_dump_holds_no_private_key() {
    let dir = common::tempdir();
    let (kek, _) = kek_file(dir.path(), "kek.hex", 0x5a);
    let (store, url, memory) = imported(kek);
    let out = common::run(
        pg::cluster().program("pg_dump").to_str().unwrap(),
        &["--dbname", &url, "--no-owner"],
        b"",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dump = String::from_utf8(out.stdout).unwrap().to_lowercase();

    // The dump holds the certificates (bytea as hex), so the search below
    // would find key bytes if they were there.
    let (root, _) = memory.iter().next().unwrap();
    assert!(dump.contains(&hex(&root.der)));
    assert!(!dump.contains("private key"), "no PEM key");
    // Public key bytes sit in the PKCS#8 too (an RSA key's modulus, an EC
    // key's point): those are the certificates' and may be in the dump.
    let public: String = memory.iter().map(|(c, _)| hex(&c.der)).collect();
    let mut keys = 0;
    for (certificate, has_key) in memory.iter().filter(|(_, k)| *k) {
        assert!(has_key);
        let key = memory.private_key(certificate.id).unwrap().unwrap();
        let pkcs8 = key.secret_pkcs8_der();
        // No 16-byte run of the PKCS#8 outside its public part — which
        // covers the secret scalar or exponent and the RSA primes wherever
        // they sit — is in the dump.
        let secret: Vec<String> = pkcs8.windows(16).map(hex).filter(|w| !public.contains(w)).collect();
        assert!(
            secret.len() >= 16,
            "the key of {} has secret bytes to look for",
            certificate.id
        );
        for window in secret {
            assert!(!dump.contains(&window), "key bytes of {} in the dump", certificate.id);
        }
        // And the key stays readable through the store.
        let stored = store.private_key(certificate.id).unwrap().unwrap();
        assert_eq!(stored.secret_pkcs8_der(), pkcs8);
        keys += 1;
    }
    assert_eq!(keys, 5);
    assert!(!dump.contains(&"5a".repeat(16)), "no KEK in the dump");
}

#[test]
fn a_wrong_kek_names_the_certificate_and_says_why() {
    let dir = common::tempdir();
    let (right, _) = kek_file(dir.path(), "right.hex", 1);
    let (wrong, _) = kek_file(dir.path(), "wrong.hex", 2);
    let (_, url, _) = imported(right);
    let store = reopen(&url).with_kek(wrong);
    let error = store.private_key(CertId(3)).unwrap_err();
    assert_eq!(error, ExportError::WrongKek { id: 3 });
    assert_eq!(
        error.to_string(),
        "the private key of certificate 3 does not decrypt: it was encrypted under another key-encryption key than the one given"
    );
    let exporter = Exporter::with_settings(&store, common::settings());
    assert_eq!(
        exporter.export(&common::admin(), &key_request(3)).unwrap_err(),
        ExportError::WrongKek { id: 3 }
    );
    // Certificates need no KEK.
    assert!(
        exporter
            .export(&common::admin(), &ExportRequest::new(CertId(3)))
            .is_ok()
    );
}

#[test]
fn without_a_kek_certificates_export_and_keys_are_refused() {
    let (_, url, memory) = imported(Kek::generate().unwrap());
    let store = reopen(&url);
    let exporter = Exporter::with_settings(&store, common::settings());
    assert!(
        exporter
            .export(&common::admin(), &ExportRequest::new(CertId(3)))
            .is_ok()
    );
    assert_eq!(
        exporter.export(&common::admin(), &key_request(3)).unwrap_err(),
        ExportError::KekRequired
    );
    // A certificate without a stored key is "no key", KEK or not.
    assert!(matches!(
        exporter.export(&common::admin(), &key_request(8)),
        Err(ExportError::NoPrivateKey { .. })
    ));
    // Importing keys needs the KEK too, and writes nothing without it.
    let fresh = pg::database();
    PgStore::migrate(&fresh).unwrap();
    let empty = reopen(&fresh);
    assert_eq!(
        empty.import(&memory, &mut |_, _| {}).unwrap_err(),
        ExportError::KekRequired
    );
    assert!(empty.certificate(CertId(1)).unwrap().is_none());
}

#[test]
fn a_key_row_moved_to_another_certificate_does_not_decrypt() {
    let kek_bytes = [9; 32];
    let (_, url, _) = imported(Kek::from_bytes(kek_bytes));
    // rsa.example.com's (3) key row put in the place of p256.example.com's (4).
    sql(
        &url,
        "DELETE FROM private_keys WHERE certificate_id = 4;
         UPDATE private_keys SET certificate_id = 4 WHERE certificate_id = 3;",
    );
    let store = reopen(&url).with_kek(Kek::from_bytes(kek_bytes));
    let error = store.private_key(CertId(4)).unwrap_err();
    assert_eq!(error, ExportError::KeyRowMismatch { id: 4 });
    assert!(
        error
            .to_string()
            .contains("belongs to another certificate or was altered")
    );
    assert!(store.private_key(CertId(3)).unwrap().is_none());

    // An altered ciphertext fails the same way.
    sql(
        &url,
        "UPDATE private_keys SET ciphertext = overlay(ciphertext placing '\\x00' from 20 for 1) \
         WHERE certificate_id = 5",
    );
    assert_eq!(
        store.private_key(CertId(5)).unwrap_err(),
        ExportError::KeyRowMismatch { id: 5 }
    );
    // The other keys are untouched.
    assert!(store.private_key(CertId(6)).unwrap().is_some());
}

#[test]
fn rotating_the_kek_moves_every_key_to_the_new_one() {
    let dir = common::tempdir();
    let (old, _) = kek_file(dir.path(), "old.hex", 1);
    let (new, _) = kek_file(dir.path(), "new.hex", 2);
    let (third, _) = kek_file(dir.path(), "third.hex", 3);
    let (store, url, memory) = imported(old);
    let (old, _) = kek_file(dir.path(), "old.hex", 1);

    // A wrong "old" KEK changes nothing.
    assert_eq!(
        store.rotate_kek(&third, &new).unwrap_err(),
        ExportError::WrongKek { id: 3 }
    );
    assert!(store.private_key(CertId(3)).is_ok());

    assert_eq!(store.rotate_kek(&old, &new).unwrap(), 5);
    assert_eq!(store.rotate_kek(&old, &new).unwrap(), 0, "done already");
    let (new, _) = kek_file(dir.path(), "new.hex", 2);
    let rotated = reopen(&url).with_kek(new);
    for (certificate, _) in memory.iter().filter(|(_, k)| *k) {
        let expected = memory.private_key(certificate.id).unwrap().unwrap();
        let got = rotated.private_key(certificate.id).unwrap().unwrap();
        assert_eq!(got.secret_pkcs8_der(), expected.secret_pkcs8_der());
    }
    let (old, _) = kek_file(dir.path(), "old.hex", 1);
    assert_eq!(
        reopen(&url).with_kek(old).private_key(CertId(3)).unwrap_err(),
        ExportError::WrongKek { id: 3 }
    );
}

#[test]
fn kek_files_that_are_not_64_hex_digits_are_refused_without_quoting_them() {
    let dir = common::tempdir();
    for (name, content) in [
        ("short", "abcd\n".to_owned()),
        ("not-hex", format!("{}\n", "zz".repeat(32))),
        ("binary", String::from_utf8_lossy(&[0x41; 32]).into_owned()),
    ] {
        let path = common::write(dir.path(), name, content.as_bytes());
        let error = Kek::from_file(&path).unwrap_err();
        assert!(matches!(error, ExportError::BadKekFile { .. }), "{name}: {error:?}");
        assert!(!error.to_string().contains(content.trim()), "{error}");
    }
    assert!(matches!(
        Kek::from_file(&dir.path().join("absent")),
        Err(ExportError::Io { .. })
    ));
}

#[test]
fn no_secret_shows_in_debug_output() {
    let dir = common::tempdir();
    let (kek, _) = kek_file(dir.path(), "kek.hex", 0xab);
    let debug = format!("{kek:?}");
    assert!(debug.contains("[redacted]"));
    assert!(!debug.contains(&"ab".repeat(8)));
    let (store, _, _) = imported(kek);
    let debug = format!("{store:?}");
    assert!(debug.contains("[redacted]"));
    assert!(!debug.contains(&"ab".repeat(8)));
    let key = store.private_key(CertId(3)).unwrap().unwrap();
    assert!(format!("{key:?}").contains("[redacted]"));
}
