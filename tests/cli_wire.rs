//! The command line speaking the reference APIs (SPEC §9, §10): `--uuid`
//! and the manifest's `uuid`, `--request` bodies of each API (told apart by
//! their fields or by `--api`), and `--json` answers in their shapes.
//!
//! Fixtures: tests/data/manifest (uuIds 60b8d6c4e5c7a920d4f4f1f4 for
//! a.example.com, b-0001, c-0001), tests/data/pki.
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used)]

mod common;

use common::{cli, data, exit_code as code, openssl, openssl_subjects, stderr, tempdir, write};

fn manifest() -> String {
    data("manifest").display().to_string()
}

#[test]
fn a_uuid_names_the_certificate_the_manifest_gave_it() {
    let out = cli(&["export", "--store", &manifest(), "--uuid", "60b8d6c4e5c7a920d4f4f1f4"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        openssl_subjects(&["x509", "-noout", "-subject"], &out.stdout),
        ["CN=a.example.com,O=certexport tests,C=US"]
    );
    // With another lookup that agrees, and one that does not.
    let out = cli(&["export", "--store", &manifest(), "--uuid", "b-0001", "--id", "100"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = cli(&["export", "--store", &manifest(), "--uuid", "b-0001", "--id", "3"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("conflicting"), "{}", stderr(&out));
    // Unknown: not found.
    let out = cli(&["export", "--store", &manifest(), "--uuid", "no-such-id"]);
    assert_eq!(code(&out), 3);
}

#[test]
fn a_bad_uuid_is_bad_usage() {
    for bad in ["../etc", "a b", "", &"x".repeat(65), "é"] {
        let out = cli(&["export", "--store", &manifest(), "--uuid", bad]);
        assert_eq!(code(&out), 2, "{bad:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.starts_with("error: invalid uuId"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    let dir = tempdir();
    let body = write(
        dir.path(),
        "bad.json",
        br#"{"uuId": "../etc", "password": "pw12345678"}"#,
    );
    let out = cli(&["export", "--store", &manifest(), "--request", body.to_str().unwrap()]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
}

#[test]
fn an_appviewx_body_gets_the_envelope_and_a_key_openssl_opens() {
    let dir = tempdir();
    let body = write(
        dir.path(),
        "avx.json",
        br#"{"uuId": "60b8d6c4e5c7a920d4f4f1f4", "password": "testPassword123"}"#,
    );
    let claims = write(
        dir.path(),
        "claims",
        b"/certificates/collections/read/5/\n/certificates/collections/private_key/read/5/\n",
    );
    let args = [
        "export",
        "--store",
        &manifest(),
        "--request",
        body.to_str().unwrap(),
        "--claims",
        claims.to_str().unwrap(),
        "--iterations",
        "2000",
        "--json",
    ];
    let out = cli(&args);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let envelope: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(envelope["response"]["success"], true);
    assert_eq!(envelope["message"], "private key downloaded successfully");
    let key = envelope["response"]["privateKeyPemEncoded"].as_str().unwrap();
    let public = openssl(&["pkey", "-passin", "pass:testPassword123", "-pubout"], key.as_bytes());
    let cert = std::fs::read(data("manifest").join("a.example.com.pem")).unwrap();
    assert_eq!(public, openssl(&["x509", "-noout", "-pubkey"], &cert));

    // c's key is restricted by its Production policy: the seed's 417 envelope.
    let body = write(
        dir.path(),
        "c.json",
        br#"{"uuId": "c-0001", "password": "testPassword123"}"#,
    );
    let mut args = args;
    args[4] = body.to_str().unwrap();
    let out = cli(&args);
    assert_eq!(code(&out), 5);
    let envelope: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(envelope["appStatusCode"], "CERT-KEY-0006");
    assert_eq!(
        envelope["message"],
        "Private key access is restricted in Production policy."
    );
    assert_eq!(
        stderr(&out),
        "error: Private key access is restricted in Production policy\n"
    );
}

#[test]
fn a_recover_body_answers_in_its_casing() {
    let dir = tempdir();
    let body = write(
        dir.path(),
        "recover.json",
        br#"{"certID": 3, "password": "recover pw", "includeChain": true}"#,
    );
    let out = cli(&[
        "export",
        "--store",
        &data("pki").display().to_string(),
        "--api",
        "recover",
        "--request",
        body.to_str().unwrap(),
        "--format",
        "zip",
        "--iterations",
        "2000",
        "--json",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["fileName"], "rsa.example.com.zip");
    let zip = common::python(
        "import base64, io, sys, zipfile\nz = zipfile.ZipFile(io.BytesIO(base64.b64decode(sys.stdin.read())))\nprint(' '.join(z.namelist()))",
        answer["pfx"].as_str().unwrap().as_bytes(),
    );
    assert_eq!(
        zip.trim(),
        "rsa.example.com.pem rsa.example.com-chain.pem rsa.example.com.key"
    );
}
