//! Private-key export (SPEC §6): encrypted PKCS#8 in both schemes, PEM
//! with certificates and key, key safety. Judged by `openssl pkey`,
//! `openssl asn1parse` and Python `cryptography`.
//!
//! Fixtures: tests/data/pki (RSA, P-256, P-384, P-521, Ed25519 leaves with
//! keys; nokey.example.com without), tests/data/keys-mismatch.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use certexport::formats::KeyEncryption;
use certexport::options::{ChainOrder, KeyExport, KeyPlacement};
use certexport::random::RandomSource;
use certexport::store::MemoryStore;
use certexport::store::{BadFiles, LoadOptions};
use certexport::{CertificateFormat, ExportError, ExportRequest, Exporter, Password};
use common::{by_cn, der_of, export, exporter, openssl, python, settings};

const LEAVES: [&str; 5] = [
    "rsa.example.com",
    "p256.example.com",
    "p384.example.com",
    "ed25519.example.com",
    "p521.example.com",
];
const PASSWORD: &str = "correct horse battery";

fn key_request(
    cn: &str,
    placement: KeyPlacement,
    encryption: KeyEncryption,
    password: &str,
) -> (Exporter<MemoryStore>, ExportRequest) {
    let exporter = exporter("pki");
    let mut request = ExportRequest::new(by_cn(exporter.store(), cn));
    request.private_key = KeyExport::Encrypted {
        placement,
        password: Password::new(password).unwrap(),
        encryption,
    };
    (exporter, request)
}

/// The certificate's public key, as OpenSSL prints it.
fn cert_public_key(exporter: &Exporter<MemoryStore>, cn: &str) -> String {
    let der = der_of(exporter.store(), &by_cn(exporter.store(), cn));
    openssl(&["x509", "-inform", "DER", "-noout", "-pubkey"], &der)
}

fn schemes() -> [KeyEncryption; 2] {
    // Few PBES2 iterations keep the suite fast; the default count is checked below.
    [
        KeyEncryption::Pbes2Aes256Cbc { iterations: 2_000 },
        KeyEncryption::legacy_pkcs12_triple_des(),
    ]
}

const PY_LOAD: &str = "import sys
from cryptography.hazmat.primitives import serialization
data = sys.stdin.buffer.read()
password, pem = data.split(b'\\n', 1)
key = serialization.load_pem_private_key(pem, password=password)
print(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(), end='')";

#[test]
fn openssl_and_python_decrypt_every_key_type_in_both_schemes() {
    for cn in LEAVES {
        for encryption in schemes() {
            let (exporter, request) = key_request(cn, KeyPlacement::KeyOnly, encryption, PASSWORD);
            let key = export(&exporter, &request).unwrap();
            let text = std::str::from_utf8(key.bytes()).unwrap();
            assert!(text.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"), "{cn}");
            let expected = cert_public_key(&exporter, cn);
            let pass = format!("pass:{PASSWORD}");
            let public = openssl(&["pkey", "-passin", &pass, "-pubout"], key.bytes());
            assert_eq!(public, expected, "openssl: {cn} {encryption:?}");
            let mut input = format!("{PASSWORD}\n").into_bytes();
            input.extend_from_slice(key.bytes());
            assert_eq!(python(PY_LOAD, &input), expected, "python: {cn} {encryption:?}");
            // A wrong password does not open it.
            assert!(
                !common::run("openssl", &["pkey", "-passin", "pass:wrong", "-pubout"], key.bytes())
                    .status
                    .success()
            );
        }
    }
}

#[test]
fn der_keys_open_with_openssl() {
    for encryption in schemes() {
        let (exporter, mut request) = key_request("p384.example.com", KeyPlacement::KeyOnly, encryption, PASSWORD);
        request.format = CertificateFormat::Der;
        let key = export(&exporter, &request).unwrap();
        assert_eq!(key.bytes()[0], 0x30);
        let pass = format!("pass:{PASSWORD}");
        let public = openssl(&["pkey", "-inform", "DER", "-passin", &pass, "-pubout"], key.bytes());
        assert_eq!(public, cert_public_key(&exporter, "p384.example.com"));
    }
}

#[test]
fn the_default_scheme_as_asn1parse_shows_it() {
    let (exporter, request) = key_request(
        "p256.example.com",
        KeyPlacement::KeyOnly,
        KeyEncryption::default(),
        PASSWORD,
    );
    let key = export(&exporter, &request).unwrap();
    let dump = openssl(&["asn1parse"], key.bytes());
    for expected in ["PBES2", "PBKDF2", "hmacWithSHA256", "aes-256-cbc", ":0927C0"] {
        assert!(dump.contains(expected), "{expected} in\n{dump}");
    }
    // 0x0927C0 = 600,000 iterations; a chosen count shows as chosen.
    let (exporter, request) = key_request(
        "p256.example.com",
        KeyPlacement::KeyOnly,
        KeyEncryption::Pbes2Aes256Cbc { iterations: 310_000 },
        PASSWORD,
    );
    let dump = openssl(&["asn1parse"], export(&exporter, &request).unwrap().bytes());
    assert!(dump.contains(":04BAF0"), "310,000 = 0x04BAF0 in\n{dump}");
    // Salt 16 bytes, IV 16 bytes.
    let octets: Vec<&str> = dump
        .lines()
        .filter(|l| l.contains("OCTET STRING") && l.contains("HEX DUMP"))
        .collect();
    assert!(octets.iter().any(|l| l.contains("l=  16")), "{dump}");
}

#[test]
fn the_legacy_scheme_as_asn1parse_shows_it() {
    let (exporter, request) = key_request(
        "rsa.example.com",
        KeyPlacement::KeyOnly,
        KeyEncryption::legacy_pkcs12_triple_des(),
        PASSWORD,
    );
    let dump = openssl(&["asn1parse"], export(&exporter, &request).unwrap().bytes());
    assert!(dump.contains("pbeWithSHA1And3-KeyTripleDES-CBC"), "{dump}");
    assert!(dump.contains(":0800"), "2,048 iterations in\n{dump}");
    assert!(
        dump.lines().any(|l| l.contains("l=  20") && l.contains("OCTET STRING")),
        "20-byte salt in\n{dump}"
    );
}

#[test]
fn pem_with_chain_and_key_opens_in_openssl_and_python() {
    for order in [ChainOrder::EndEntityFirst, ChainOrder::RootFirst] {
        let (exporter, mut request) = key_request(
            "ed25519.example.com",
            KeyPlacement::WithCertificate,
            schemes()[0],
            PASSWORD,
        );
        request.include_chain = true;
        request.chain_order = order;
        let pem = export(&exporter, &request).unwrap();
        let text = std::str::from_utf8(pem.bytes()).unwrap();
        assert_eq!(text.matches("-----BEGIN CERTIFICATE-----").count(), 3);
        assert_eq!(text.matches("subject=").count(), 3);
        assert!(
            text.trim_end().ends_with("-----END ENCRYPTED PRIVATE KEY-----"),
            "the key comes last"
        );
        let pass = format!("pass:{PASSWORD}");
        assert_eq!(
            openssl(&["pkey", "-passin", &pass, "-pubout"], pem.bytes()),
            cert_public_key(&exporter, "ed25519.example.com")
        );
        let mut input = format!("{PASSWORD}\n").into_bytes();
        input.extend_from_slice(pem.bytes());
        assert_eq!(
            python(PY_LOAD, &input),
            cert_public_key(&exporter, "ed25519.example.com")
        );
        assert_eq!(pem.certificate_count(), 3);
        assert!(pem.contains_private_key());
    }
}

#[test]
fn non_ascii_passwords_work_in_both_schemes() {
    for encryption in schemes() {
        let (exporter, request) = key_request("p256.example.com", KeyPlacement::KeyOnly, encryption, "pässwörd € 🔑");
        let key = export(&exporter, &request).unwrap();
        assert_eq!(
            openssl(&["pkey", "-passin", "pass:pässwörd € 🔑", "-pubout"], key.bytes()),
            cert_public_key(&exporter, "p256.example.com"),
            "{encryption:?}"
        );
    }
}

#[test]
fn a_key_file_that_belongs_to_another_certificate_is_never_exported() {
    // keys-mismatch: alpha.key (beside alpha.pem) holds beta's key.
    let mut store = MemoryStore::new();
    store
        .load_paths(
            [common::data("keys-mismatch")],
            &LoadOptions::with_bad_files(BadFiles::SkipWithWarning),
        )
        .unwrap();
    let exporter = Exporter::with_settings(store, settings());
    for cn in ["alpha.example.com", "beta.example.com"] {
        let mut request = ExportRequest::new(by_cn(exporter.store(), cn));
        request.private_key = KeyExport::Encrypted {
            placement: KeyPlacement::KeyOnly,
            password: Password::new("pw").unwrap(),
            encryption: schemes()[0],
        };
        assert!(
            matches!(export(&exporter, &request), Err(ExportError::NoPrivateKey { .. })),
            "{cn}"
        );
    }
}

#[test]
fn errors_for_missing_password_and_missing_key() {
    assert_eq!(Password::new("").unwrap_err(), ExportError::PasswordRequired);
    assert_eq!(
        Password::new("").unwrap_err().to_string(),
        "a private key is exported only encrypted, and no password (or an empty one) was given to encrypt it"
    );
    let (exporter, request) = key_request("nokey.example.com", KeyPlacement::KeyOnly, schemes()[0], PASSWORD);
    match export(&exporter, &request) {
        Err(ExportError::NoPrivateKey { certificate }) => assert_eq!(certificate.len(), 40),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_unencrypted_export_exists_only_when_named() {
    let exporter = exporter("pki");
    let mut request = ExportRequest::new(by_cn(exporter.store(), "p256.example.com"));
    request.private_key = KeyExport::DangerUnencrypted {
        placement: KeyPlacement::KeyOnly,
    };
    let key = export(&exporter, &request).unwrap();
    let text = std::str::from_utf8(key.bytes()).unwrap();
    assert!(text.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert_eq!(
        openssl(&["pkey", "-pubout"], key.bytes()),
        cert_public_key(&exporter, "p256.example.com")
    );
    // The default is no key at all.
    assert!(matches!(
        ExportRequest::new(certexport::ids::CertId(4)).private_key,
        KeyExport::None
    ));
}

#[test]
fn no_secret_shows_in_debug_output() {
    let (exporter, request) = key_request("rsa.example.com", KeyPlacement::KeyOnly, schemes()[0], "topsecretpw");
    let debug = format!("{request:?} {:?}", exporter.store());
    assert!(!debug.contains("topsecretpw"), "{debug}");
    let key = certexport::store::CertificateStore::private_key(exporter.store(), certexport::ids::CertId(3)).unwrap();
    let key_debug = format!("{:?}", key.unwrap());
    assert!(
        key_debug.contains("[redacted]") && !key_debug.contains("MII"),
        "{key_debug}"
    );
    let artifact = export(&exporter, &request).unwrap();
    let artifact_debug = format!("{artifact:?}");
    assert!(!artifact_debug.contains("ENCRYPTED"), "{artifact_debug}");
}

/// A fixed source of salts and IVs.
struct Fixed;

impl RandomSource for Fixed {
    fn fill(&self, buf: &mut [u8]) -> Result<(), ExportError> {
        buf.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
        Ok(())
    }
}

#[test]
fn an_injected_random_source_makes_output_reproducible() {
    let make = || {
        let (exporter, request) = key_request("p256.example.com", KeyPlacement::KeyOnly, schemes()[0], PASSWORD);
        let exporter = exporter.with_random_source(Arc::new(Fixed));
        export(&exporter, &request).unwrap().bytes().to_vec()
    };
    assert_eq!(make(), make());
    let (exporter, request) = key_request("p256.example.com", KeyPlacement::KeyOnly, schemes()[0], PASSWORD);
    assert_ne!(
        export(&exporter, &request).unwrap().bytes(),
        make().as_slice(),
        "the OS source differs"
    );
}
