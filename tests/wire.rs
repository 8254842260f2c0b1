//! The reference APIs on the wire (SPEC §10): Keyfactor's Download and
//! Recover in both generations of client casing, and AppViewX's key
//! download with its envelope and status codes — judged by the artifacts
//! OpenSSL and Python `cryptography` read back from the JSON answers.
//!
//! Fixtures: tests/data/manifest (a: collection 5, policy Standard, uuId
//! 60b8d6c4e5c7a920d4f4f1f4; b: id 100, collection 6, uuId b-0001; c:
//! collection 5, policy Production (keys restricted), uuId c-0001) and
//! tests/data/pki.
#![cfg(feature = "serde")]
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use certexport::formats::KeyEncryption;
use certexport::options::Scope;
use certexport::random::RandomSource;
use certexport::store::MemoryStore;
use certexport::wire::{self, AvxKeyRequest, Casing, DownloadRequest, RecoverRequest};
use certexport::{Caller, CertificateFormat, ExportError, Exporter};
use serde_json::Value;

/// Counts up from zero: the same salts and IVs for every export.
struct Counter(AtomicU8);

impl RandomSource for Counter {
    fn fill(&self, buf: &mut [u8]) -> Result<(), ExportError> {
        for b in buf {
            *b = self.0.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

fn fixed_exporter(case: &str) -> Exporter<MemoryStore> {
    Exporter::with_settings(common::store(case), common::settings()).with_random_source(Arc::new(Counter(0.into())))
}

fn b64(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).unwrap()
}

#[test]
fn the_same_download_in_every_casing_gives_the_same_artifact() {
    let store = common::store("pki");
    let thumbprint = common::by_cn(&store, "rsa.example.com").to_string();
    let bodies = [
        (
            serde_json::json!({"Thumbprint": thumbprint, "IncludeChain": true, "ChainOrder": "RootFirst",
                               "FileExtension": "crt", "IncludeSubjectHeader": false}),
            Casing::Pascal,
            "Content",
        ),
        (
            serde_json::json!({"thumbprint": thumbprint, "includeChain": true, "chainOrder": "RootFirst",
                               "fileExtension": "crt", "includeSubjectHeader": false}),
            Casing::Camel,
            "content",
        ),
        (
            // Mixed: most names upper-case first, so the answer is PascalCase.
            serde_json::json!({"THUMBPRINT": thumbprint, "includechain": true, "ChainOrder": "RootFirst",
                               "fileextension": "crt", "IncludeSubjectHeader": false, "CertID": null}),
            Casing::Pascal,
            "Content",
        ),
    ];
    let exporter = fixed_exporter("pki");
    let mut artifacts = Vec::new();
    for (body, casing, field) in bodies {
        let request = DownloadRequest::from_json(body.to_string().as_bytes()).unwrap();
        assert_eq!(request.casing(), casing, "{body}");
        let export = request
            .to_export_request(
                wire::download_format(None).unwrap(),
                wire::query_scope(Some(0), Some(0)),
            )
            .unwrap();
        let artifact = exporter.export(&common::admin(), &export).unwrap();
        let answer: Value = serde_json::from_str(&wire::download_response(&artifact, casing)).unwrap();
        assert_eq!(answer.as_object().unwrap().len(), 1, "{answer}");
        assert_eq!(b64(answer[field].as_str().unwrap()), artifact.bytes(), "{body}");
        assert_eq!(artifact.file_name(), "rsa.example.com.crt");
        artifacts.push(artifact.bytes().to_vec());
    }
    assert!(artifacts.windows(2).all(|w| w[0] == w[1]));
    // The chain, root first, read back by OpenSSL.
    let p7 = common::openssl(&["crl2pkcs7", "-nocrl", "-certfile", "/dev/stdin"], &artifacts[0]);
    let subjects = common::openssl_subjects(&["pkcs7", "-print_certs", "-noout"], p7.as_bytes());
    assert_eq!(subjects.len(), 3);
    assert!(subjects[0].contains("Root"), "{subjects:?}");
}

#[test]
fn the_same_recover_in_every_casing_gives_the_same_pfx() {
    let pascal = br#"{"CertID": 3, "Password": "pw", "IncludeChain": true, "UseLegacyEncryption": false}"#;
    let camel = br#"{"certID": 3, "password": "pw", "includeChain": true, "useLegacyEncryption": false}"#;
    let mut answers = Vec::new();
    for (body, casing, pfx_field, name_field) in [
        (&pascal[..], Casing::Pascal, "PFX", "FileName"),
        (&camel[..], Casing::Camel, "pfx", "fileName"),
    ] {
        let request = RecoverRequest::from_json(body).unwrap();
        assert_eq!(request.casing(), casing);
        let export = request
            .into_export_request(wire::recover_format(None).unwrap(), Scope::default())
            .unwrap();
        let artifact = fixed_exporter("pki").export(&common::admin(), &export).unwrap();
        let answer: Value = serde_json::from_str(&wire::recover_response(&artifact, casing)).unwrap();
        assert_eq!(answer[name_field], "rsa.example.com.pfx");
        assert_eq!(answer.as_object().unwrap().len(), 2);
        answers.push(b64(answer[pfx_field].as_str().unwrap()));
    }
    assert_eq!(answers[0], answers[1]);
}

#[test]
fn the_command_line_shape_follows_the_casing_too() {
    let artifact = fixed_exporter("pki")
        .export(
            &common::admin(),
            &certexport::ExportRequest::new(certexport::ids::CertId(3)),
        )
        .unwrap();
    for (casing, keys) in [
        (Casing::Pascal, ["Certificates", "Content", "ContentType", "FileName"]),
        (Casing::Camel, ["certificates", "content", "contentType", "fileName"]),
    ] {
        let json: Value = serde_json::from_str(&wire::artifact_json(&artifact, casing)).unwrap();
        let mut found: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        found.sort_unstable();
        assert_eq!(found, keys);
    }
}

#[test]
fn headers_and_query_resolve_as_the_seed_says() {
    assert_eq!(wire::download_format(None).unwrap(), CertificateFormat::Pem);
    assert_eq!(wire::download_format(Some("der")).unwrap(), CertificateFormat::Der);
    assert_eq!(wire::download_format(Some("P7B")).unwrap(), CertificateFormat::P7b);
    assert!(matches!(
        wire::download_format(Some("PFX")),
        Err(ExportError::IncompatibleOptions { .. })
    ));
    assert!(matches!(
        wire::download_format(Some("XML")),
        Err(ExportError::UnknownChoice { .. })
    ));
    assert_eq!(wire::recover_format(None).unwrap(), CertificateFormat::Pfx);
    assert_eq!(wire::recover_format(Some("zip")).unwrap(), CertificateFormat::Zip);
    assert!(wire::recover_format(Some("DER")).is_err());
    let scope = wire::query_scope(Some(0), Some(7));
    assert_eq!((scope.collection_id, scope.container_id), (None, Some(7)));
}

/// The seed's answer for `body` from `caller`: status, appStatusCode, message,
/// and the whole envelope.
fn avx(body: &str, caller: &Caller, encryption: KeyEncryption) -> (u16, Value) {
    let exporter = fixed_exporter("manifest");
    let result = AvxKeyRequest::from_json(body.as_bytes())
        .and_then(|request| exporter.export(caller, &request.into_export_request(encryption)));
    match result {
        Ok(artifact) => {
            let (status, text) = wire::avx_success(&artifact);
            (status, serde_json::from_str(&text).unwrap())
        }
        Err(error) => {
            let (status, text) = wire::avx_failure(&error);
            let status_line = wire::avx_status(&error);
            assert_eq!(status, status_line.http);
            (status, serde_json::from_str(&text).unwrap())
        }
    }
}

const KEYS_5: &str = "/certificates/collections/read/5/\n/certificates/collections/private_key/read/5/";
const EVERY: &str = "/certificates/collections/read/\n/certificates/collections/private_key/read/";

fn caller(claims: &str) -> Caller {
    Caller::from_claim_lines(claims).unwrap()
}

#[test]
fn the_appviewx_error_table_row_by_row() {
    let cheap = KeyEncryption::default().with_iterations(1_000);
    struct Row {
        why: &'static str,
        body: &'static str,
        claims: &'static str,
        http: u16,
        code: Option<&'static str>,
        message: &'static str,
    }
    let rows = [
        Row {
            why: "no password",
            body: r#"{"uuId": "60b8d6c4e5c7a920d4f4f1f4"}"#,
            claims: EVERY,
            http: 417,
            code: Some("CERT-GEN-0015"),
            message: "Field cannot be null/empty.",
        },
        Row {
            why: "empty password",
            body: r#"{"uuId": "60b8d6c4e5c7a920d4f4f1f4", "password": ""}"#,
            claims: EVERY,
            http: 417,
            code: Some("CERT-GEN-0015"),
            message: "Field cannot be null/empty.",
        },
        Row {
            why: "no uuId",
            body: r#"{"password": "pw12345678"}"#,
            claims: EVERY,
            http: 400,
            code: Some("MANDATORY_FIELD_MISSING"),
            message: "Mandatory field is missing or invalid.",
        },
        Row {
            why: "a uuId that is a path",
            body: r#"{"uuId": "../etc", "password": "pw12345678"}"#,
            claims: EVERY,
            http: 400,
            code: Some("MANDATORY_FIELD_MISSING"),
            message: "Mandatory field is missing or invalid.",
        },
        Row {
            why: "a uuId that is a number",
            body: r#"{"uuId": 7, "password": "pw12345678"}"#,
            claims: EVERY,
            http: 400,
            code: Some("MANDATORY_FIELD_MISSING"),
            message: "Mandatory field is missing or invalid.",
        },
        Row {
            why: "a body that is not JSON",
            body: r#"{"uuId": "#,
            claims: EVERY,
            http: 400,
            code: Some("MANDATORY_FIELD_MISSING"),
            message: "Mandatory field is missing or invalid.",
        },
        Row {
            why: "policy Production restricts c's key",
            body: r#"{"uuId": "c-0001", "password": "pw12345678"}"#,
            claims: EVERY,
            http: 417,
            code: Some("CERT-KEY-0006"),
            message: "Private key access is restricted in Production policy.",
        },
        Row {
            why: "an unknown uuId",
            body: r#"{"uuId": "no-such-id", "password": "pw12345678"}"#,
            claims: EVERY,
            http: 500,
            code: Some("CERT-GEN-0027"),
            message: "Certificate private key download failed.",
        },
        Row {
            why: "b is not in collection 5",
            body: r#"{"uuId": "b-0001", "password": "pw12345678"}"#,
            claims: KEYS_5,
            http: 500,
            code: Some("CERT-GEN-0027"),
            message: "Certificate private key download failed.",
        },
        Row {
            why: "read of 5 and keys of 6 are not both of one collection",
            body: r#"{"uuId": "60b8d6c4e5c7a920d4f4f1f4", "password": "pw12345678"}"#,
            claims: "/certificates/collections/read/5/\n/certificates/collections/private_key/read/6/",
            http: 500,
            code: Some("CERT-GEN-0027"),
            message: "Certificate private key download failed.",
        },
        Row {
            why: "a collection's read claim alone gives no key",
            body: r#"{"uuId": "60b8d6c4e5c7a920d4f4f1f4", "password": "pw12345678"}"#,
            claims: "/certificates/collections/read/5/",
            http: 500,
            code: Some("CERT-GEN-0027"),
            message: "Certificate private key download failed.",
        },
        Row {
            why: "both claims of a's collection 5",
            body: r#"{"uuId": "60b8d6c4e5c7a920d4f4f1f4", "password": "pw12345678"}"#,
            claims: KEYS_5,
            http: 200,
            code: None,
            message: "private key downloaded successfully",
        },
        Row {
            why: "system-wide claims reach b",
            body: r#"{"uuId": "b-0001", "password": "pw12345678"}"#,
            claims: EVERY,
            http: 200,
            code: None,
            message: "private key downloaded successfully",
        },
        Row {
            why: "system-wide keys with the read claim of 6 reach b",
            body: r#"{"uuId": "b-0001", "password": "pw12345678"}"#,
            claims: "/certificates/collections/read/6/\n/certificates/collections/private_key/read/",
            http: 200,
            code: None,
            message: "private key downloaded successfully",
        },
    ];
    for row in rows {
        let (http, envelope) = avx(row.body, &caller(row.claims), cheap);
        assert_eq!(http, row.http, "{}: {envelope}", row.why);
        assert_eq!(envelope["appStatusCode"].as_str(), row.code, "{}", row.why);
        assert_eq!(envelope["message"], row.message, "{}", row.why);
        assert_eq!(envelope["response"]["success"], row.http == 200, "{}", row.why);
        let key = &envelope["response"]["privateKeyPemEncoded"];
        assert_eq!(key.is_string(), row.http == 200, "{}", row.why);
        for field in ["response", "message", "appStatusCode", "tags", "headers"] {
            assert!(envelope.get(field).is_some(), "{}: no {field}", row.why);
        }
    }
    // A denial and an unknown uuId are the same answer, byte for byte.
    let unknown = avx(
        r#"{"uuId": "no-such-id", "password": "pw12345678"}"#,
        &caller(KEYS_5),
        cheap,
    );
    let denied = avx(
        r#"{"uuId": "b-0001", "password": "pw12345678"}"#,
        &caller(KEYS_5),
        cheap,
    );
    assert_eq!(unknown, denied);
}

#[test]
fn an_appviewx_key_download_opens_in_openssl_and_python() {
    for (encryption, scheme) in [
        (KeyEncryption::default().with_iterations(2_000), "PBES2"),
        (
            KeyEncryption::legacy_pkcs12_triple_des(),
            "pbeWithSHA1And3-KeyTripleDES-CBC",
        ),
    ] {
        let (http, envelope) = avx(
            r#"{"uuId": "60b8d6c4e5c7a920d4f4f1f4", "password": "testPassword123"}"#,
            &caller(KEYS_5),
            encryption,
        );
        assert_eq!(http, 200);
        assert_eq!(envelope["response"]["status"], "Success");
        assert!(envelope["response"]["zipFileName"].is_null());
        let key = envelope["response"]["privateKeyPemEncoded"].as_str().unwrap();
        assert!(key.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        assert!(common::openssl(&["asn1parse"], key.as_bytes()).contains(scheme));
        let public = common::openssl(&["pkey", "-passin", "pass:testPassword123", "-pubout"], key.as_bytes());
        assert_eq!(public, common::certificate_public_key("manifest", "a.example.com"));
        let cert_pem = common::certificate_pem("manifest", "a.example.com");
        assert_eq!(
            common::python_key_matches(key.as_bytes(), cert_pem.as_bytes(), b"testPassword123"),
            "True"
        );
    }
}

const PY_ZIP: &str = "import io, sys, zipfile
archive = zipfile.ZipFile(io.BytesIO(sys.stdin.buffer.read()))
for info in archive.infolist():
    print(info.filename, info.compress_type == zipfile.ZIP_DEFLATED, len(archive.read(info)))";

#[test]
fn a_recover_in_every_format_opens_in_openssl_and_python() {
    let exporter = fixed_exporter("pki");
    let store = exporter.store();
    let cert = common::der_of(store, &common::by_cn(store, "rsa.example.com"));
    let cert_pem = common::openssl(&["x509", "-inform", "DER"], &cert);
    let public = common::openssl(&["x509", "-inform", "DER", "-noout", "-pubkey"], &cert);
    let body = br#"{"certID": 3, "password": "recover pw", "includeChain": true}"#;
    for format in ["PFX", "PEM", "ZIP"] {
        let request = RecoverRequest::from_json(body).unwrap();
        let casing = request.casing();
        let mut export = request
            .into_export_request(wire::recover_format(Some(format)).unwrap(), Scope::default())
            .unwrap();
        if let certexport::options::KeyExport::Encrypted { encryption, .. } = &mut export.private_key {
            *encryption = encryption.with_iterations(2_000);
        }
        let artifact = exporter.export(&common::admin(), &export).unwrap();
        let answer: Value = serde_json::from_str(&wire::recover_response(&artifact, casing)).unwrap();
        let bytes = b64(answer["pfx"].as_str().unwrap());
        match format {
            "PFX" => {
                assert_eq!(answer["fileName"], "rsa.example.com.pfx");
                let out = common::openssl(&["pkcs12", "-passin", "pass:recover pw", "-nodes", "-nocerts"], &bytes);
                let key_public = common::openssl(&["pkey", "-pubout"], out.as_bytes());
                assert_eq!(key_public, public);
            }
            "PEM" => {
                assert_eq!(answer["fileName"], "rsa.example.com.pem");
                let text = String::from_utf8(bytes.clone()).unwrap();
                assert_eq!(text.matches("BEGIN CERTIFICATE").count(), 3);
                let key_public = common::openssl(&["pkey", "-passin", "pass:recover pw", "-pubout"], &bytes);
                assert_eq!(key_public, public);
                assert_eq!(
                    common::python_key_matches(&bytes, cert_pem.as_bytes(), b"recover pw"),
                    "True"
                );
            }
            _ => {
                assert_eq!(answer["fileName"], "rsa.example.com.zip");
                let listing = common::python(PY_ZIP, &bytes);
                let names: Vec<&str> = listing.lines().map(|l| l.split(' ').next().unwrap()).collect();
                assert_eq!(
                    names,
                    [
                        "rsa.example.com.pem",
                        "rsa.example.com-chain.pem",
                        "rsa.example.com.key"
                    ]
                );
                assert!(listing.lines().all(|l| l.contains(" True ")), "{listing}");
                let member = |name: &str| {
                    common::python(
                        &format!(
                            "import io, sys, zipfile\nsys.stdout.buffer.write(zipfile.ZipFile(io.BytesIO(sys.stdin.buffer.read())).read('{name}'))"
                        ),
                        &bytes,
                    )
                };
                let key = member("rsa.example.com.key");
                let key_public = common::openssl(&["pkey", "-passin", "pass:recover pw", "-pubout"], key.as_bytes());
                assert_eq!(key_public, public);
                let leaf = member("rsa.example.com.pem");
                assert_eq!(
                    common::openssl_subjects(&["x509", "-noout", "-subject"], leaf.as_bytes()),
                    ["CN=rsa.example.com,O=certexport tests,C=US"]
                );
                let chain = member("rsa.example.com-chain.pem");
                assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2);
            }
        }
    }
}

#[test]
fn unknown_fields_are_listed_and_errors_never_quote_a_value() {
    let request = DownloadRequest::from_json(br#"{"CertID": 3, "IncludeChian": true}"#).unwrap();
    assert_eq!(request.unknown_fields(), ["IncludeChian"]);
    for body in [
        &br#"{"CertID": 3, "Password": 31415926535}"#[..],
        br#"{"CertID": 3, "Password": ["hunter2-secret"]}"#,
        br#"{"certID": "hunter2-secret"}"#,
    ] {
        let error = RecoverRequest::from_json(body).unwrap_err().to_string();
        assert!(!error.contains("31415926535") && !error.contains("hunter2"), "{error}");
    }
    let debug = format!(
        "{:?}",
        RecoverRequest::from_json(br#"{"CertID": 3, "Password": "hunter2-secret"}"#).unwrap()
    );
    assert!(!debug.contains("hunter2"), "{debug}");
}
