//! `certexport serve` as its clients meet it: the real binary on a free
//! loopback port, called over HTTPS (a test CA made by `openssl`) with
//! reqwest (rustls) and curl; what comes over the wire is judged by OpenSSL
//! and Python `cryptography`.
//!
//! Fixtures: tests/data/manifest — CertID 1 root, 2 intermediate,
//! 3 a.example.com (collection 5, container 2, policy Standard allows keys,
//! uuId 60b8d6c4e5c7a920d4f4f1f4), 100 b.example.com (collection 6,
//! uuId b-0001), 4 c.example.com (collection 5, policy Production
//! restricts keys, uuId c-0001). Every key export here but two (the AppViewX
//! call over curl and the one SIGTERM waits for) uses a 2,048-iteration
//! scheme (PFX, or `UseLegacyEncryption`), so the suite stays quick in a
//! debug build while 600,000-iteration PBES2 is still checked end to end.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used)]

mod common;
#[path = "common/serve.rs"]
mod serve_common;

use base64::Engine;
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::Value;
use serve_common::{
    ADMIN_TOKEN, ALICE_PASSWORD, Credential, READER_TOKEN, Server, TestPki, callers, callers_json, curl, path,
};

const A_UUID: &str = "60b8d6c4e5c7a920d4f4f1f4";

/// A server over the manifest store with the test [`callers`], and what talks to it.
struct Fixture {
    pki: TestPki,
    client: Client,
    dir: tempfile::TempDir,
    server: Server,
}

impl Fixture {
    fn start(extra: &[&str]) -> Self {
        let pki = TestPki::new();
        let client = pki.client();
        let dir = common::tempdir();
        let callers = common::write(dir.path(), "callers.json", callers().as_bytes());
        let mut args = vec![
            "--store".to_owned(),
            path(&common::data("manifest")),
            "--callers".to_owned(),
            path(&callers),
        ];
        args.extend(pki.flags());
        args.extend(extra.iter().map(|s| s.to_string()));
        let server = Server::start(&args, &client);
        Self {
            pki,
            client,
            dir,
            server,
        }
    }

    fn post(&self, path: &str) -> RequestBuilder {
        self.client.post(self.server.url(path))
    }
}

fn admin(request: RequestBuilder) -> RequestBuilder {
    request.bearer_auth(ADMIN_TOKEN)
}

fn alice(request: RequestBuilder) -> RequestBuilder {
    request.basic_auth("alice", Some(ALICE_PASSWORD))
}

/// Status, `X-CertificateFile`, JSON body.
fn reply_of(response: Response) -> (u16, Option<String>, Value) {
    let status = response.status().as_u16();
    let file = response
        .headers()
        .get("x-certificatefile")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = response.text().unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {text}"));
    (status, file, body)
}

fn b64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(text).unwrap()
}

#[test]
fn download_over_tls_at_both_base_paths_in_the_request_casing() {
    let f = Fixture::start(&[]);
    let chain = [
        "CN=a.example.com,O=certexport tests,C=US",
        "CN=Manifest Intermediate,O=certexport tests,C=US",
        "CN=Manifest Root,O=certexport tests,C=US",
    ];
    for base in ["/KeyfactorAPI", ""] {
        // PascalCase in, `Content` out; no format header: PEM.
        let response = admin(f.post(&format!("{base}/Certificates/Download")))
            .body(r#"{"CertID": 3, "IncludeChain": true}"#)
            .send()
            .unwrap();
        assert_eq!(response.version(), reqwest::Version::HTTP_11);
        let (status, file, body) = reply_of(response);
        assert_eq!(status, 200, "{body}");
        assert_eq!(file.as_deref(), Some("a.example.com.pem"));
        let pem = common::write(f.dir.path(), "chain.pem", &b64(body["Content"].as_str().unwrap()));
        let bundle = common::openssl(&["crl2pkcs7", "-nocrl", "-certfile", &path(&pem)], b"");
        assert_eq!(
            common::openssl_subjects(&["pkcs7", "-print_certs", "-noout"], bundle.as_bytes()),
            chain
        );
        // camelCase in, `content` out; P7B root first from the header and body.
        let response = admin(f.post(&format!("{base}/Certificates/Download?collectionId=0&containerId=0")))
            .header("x-certificateformat", "P7B")
            .body(r#"{"certID": 3, "includeChain": true, "chainOrder": "RootFirst"}"#)
            .send()
            .unwrap();
        let (status, file, body) = reply_of(response);
        assert_eq!(status, 200, "{body}");
        assert_eq!(file.as_deref(), Some("a.example.com.p7b"));
        assert!(body.get("Content").is_none());
        let p7b = b64(body["content"].as_str().unwrap());
        let mut root_first = chain;
        root_first.reverse();
        assert_eq!(
            common::openssl_subjects(&["pkcs7", "-inform", "DER", "-print_certs", "-noout"], &p7b),
            root_first
        );
    }
}

#[test]
fn basic_auth_with_and_without_a_domain_and_the_collection_scope() {
    let f = Fixture::start(&[]);
    for user in ["alice", "CORP\\alice"] {
        let response = f
            .post("/KeyfactorAPI/Certificates/Download?collectionId=5")
            .basic_auth(user, Some(ALICE_PASSWORD))
            .header("x-certificateformat", "DER")
            .body(r#"{"Thumbprint": "7b:2e:04:73:2b:97:03:95:9d:6b:79:5f:bf:38:2e:99:09:c2:41:a5"}"#)
            .send()
            .unwrap();
        let (status, file, body) = reply_of(response);
        assert_eq!(status, 200, "{user}: {body}");
        assert_eq!(file.as_deref(), Some("a.example.com.cer"));
        let der = b64(body["Content"].as_str().unwrap());
        assert_eq!(
            common::openssl_subjects(&["x509", "-inform", "DER", "-noout", "-subject"], &der),
            ["CN=a.example.com,O=certexport tests,C=US"]
        );
    }
    // Without the collection, alice (no system-wide claim) is denied.
    let (status, _, body) = reply_of(
        alice(f.post("/KeyfactorAPI/Certificates/Download"))
            .body(r#"{"CertID": 3}"#)
            .send()
            .unwrap(),
    );
    assert_eq!((status, body["ErrorCode"].as_str()), (403, Some("AccessDenied")));
}

#[test]
fn no_or_wrong_credentials_are_401_with_a_challenge() {
    let f = Fixture::start(&[]);
    let routes = [
        "/KeyfactorAPI/Certificates/Download",
        "/Certificates/Recover",
        "/avxapi/certificate/privatekey/download?gwsource=external",
    ];
    let body = format!(r#"{{"CertID": 3, "uuId": "{A_UUID}", "password": "pw"}}"#);
    for route in routes {
        let attempts: [(&str, RequestBuilder); 5] = [
            ("none", f.post(route)),
            ("wrong password", f.post(route).basic_auth("alice", Some("not it"))),
            (
                "unknown user",
                f.post(route).basic_auth("mallory", Some(ALICE_PASSWORD)),
            ),
            ("unknown token", f.post(route).bearer_auth("not-a-token")),
            (
                "other scheme",
                f.post(route).header("Authorization", "Digest username=alice"),
            ),
        ];
        for (why, request) in attempts {
            let response = request.body(body.clone()).send().unwrap();
            assert_eq!(response.status(), 401, "{route}, {why}");
            let challenges: Vec<&str> = response
                .headers()
                .get_all("www-authenticate")
                .iter()
                .map(|v| v.to_str().unwrap())
                .collect();
            assert!(
                challenges.iter().any(|c| c.starts_with("Basic realm=")),
                "{route}, {why}: {challenges:?}"
            );
            assert!(
                challenges.iter().any(|c| c.starts_with("Bearer realm=")),
                "{route}, {why}: {challenges:?}"
            );
        }
    }
    // The AppViewX headers count only on the AppViewX route.
    let response = f
        .post("/KeyfactorAPI/Certificates/Download")
        .header("sessionId", ADMIN_TOKEN)
        .body(r#"{"CertID": 3}"#)
        .send()
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[test]
fn a_denial_and_an_unknown_certificate_are_the_same_answer() {
    let f = Fixture::start(&[]);
    let ask = |auth: fn(RequestBuilder) -> RequestBuilder, body: &str| {
        let response = auth(f.post("/KeyfactorAPI/Certificates/Download?collectionId=5"))
            .body(body.to_owned())
            .send()
            .unwrap();
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .filter(|(name, _)| *name != "date")
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
            .collect();
        (status, headers, response.text().unwrap())
    };
    // b.example.com exists but is in collection 6; CertID 999 and the
    // thumbprint exist nowhere.
    let denied = ask(alice, r#"{"CertID": 100}"#);
    assert_eq!(denied.0, 403, "{denied:?}");
    for unknown in [
        r#"{"CertID": 999}"#,
        r#"{"Thumbprint": "0000000000000000000000000000000000000000"}"#,
    ] {
        assert_eq!(ask(alice, unknown), denied, "{unknown}");
    }
    // A caller with system-wide rights learns that it does not exist.
    let (status, _, body) = ask(admin, r#"{"CertID": 999}"#);
    assert_eq!(status, 404);
    assert!(body.contains(r#""ErrorCode":"NotFound""#), "{body}");
}

#[test]
fn keyfactor_errors_have_their_status_and_code() {
    let f = Fixture::start(&[]);
    // (why, call, x-certificateformat, body) → (status, ErrorCode)
    type Row<'a> = ((&'a str, &'a str, Option<&'a str>, &'a str), (u16, &'a str));
    let rows: [Row<'_>; 7] = [
        (
            (
                "DER holds one certificate",
                "Download",
                Some("DER"),
                r#"{"CertID": 3, "IncludeChain": true}"#,
            ),
            (400, "IncompatibleOptions"),
        ),
        (
            ("P7B needs the chain", "Download", Some("P7B"), r#"{"CertID": 3}"#),
            (400, "IncompatibleOptions"),
        ),
        (("not JSON", "Download", None, "{CertID: 3"), (400, "InvalidRequest")),
        (
            ("no lookup", "Download", None, r#"{"IncludeChain": true}"#),
            (400, "InvalidRequest"),
        ),
        (
            ("Recover without a password", "Recover", None, r#"{"CertID": 3}"#),
            (400, "PasswordRequired"),
        ),
        (
            ("a PFX is Recover's", "Download", Some("PFX"), r#"{"CertID": 3}"#),
            (400, "IncompatibleOptions"),
        ),
        (
            (
                "restricted key policy",
                "Recover",
                None,
                r#"{"CertID": 4, "Password": "pw123456"}"#,
            ),
            (403, "KeyExportRestricted"),
        ),
    ];
    for ((why, call, format, body), (status, code)) in rows {
        let mut request = admin(f.post(&format!("/KeyfactorAPI/Certificates/{call}")));
        if let Some(format) = format {
            request = request.header("x-certificateformat", format);
        }
        let (got, _, answer) = reply_of(request.body(body).send().unwrap());
        assert_eq!(
            (got, answer["ErrorCode"].as_str()),
            (status, Some(code)),
            "{why}: {answer}"
        );
    }
    let (_, _, answer) = reply_of(
        admin(f.post("/Certificates/Recover"))
            .body(r#"{"certID": 4, "password": "pw123456"}"#)
            .send()
            .unwrap(),
    );
    assert_eq!(
        answer["message"],
        "Private key access is restricted in Production policy."
    );
    // A caller with the read claim but no key claim is denied the key.
    let (status, _, reply) = reply_of(
        f.post("/Certificates/Recover?collectionId=5")
            .bearer_auth(READER_TOKEN)
            .body(r#"{"CertID": 3, "Password": "pw123456"}"#)
            .send()
            .unwrap(),
    );
    assert_eq!((status, reply["ErrorCode"].as_str()), (403, Some("AccessDenied")));
}

#[test]
fn recover_answers_open_in_openssl_and_python() {
    let f = Fixture::start(&[]);
    // PFX (2,048 iterations), camelCase: `pfx` and `fileName`.
    let (status, file, body) = reply_of(
        alice(f.post("/KeyfactorAPI/Certificates/Recover?collectionId=5"))
            .body(r#"{"certID": 3, "password": "recover pw", "includeChain": true}"#)
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(file.as_deref(), Some("a.example.com.pfx"));
    assert_eq!(body["fileName"], "a.example.com.pfx");
    let pfx = b64(body["pfx"].as_str().unwrap());
    let keys = common::openssl(&["pkcs12", "-passin", "pass:recover pw", "-nodes", "-nocerts"], &pfx);
    assert_eq!(
        common::openssl(&["pkey", "-pubout"], keys.as_bytes()),
        common::certificate_public_key("manifest", "a.example.com")
    );
    let certs = common::openssl(&["pkcs12", "-passin", "pass:recover pw", "-nokeys"], &pfx);
    assert_eq!(certs.matches("BEGIN CERTIFICATE").count(), 3);

    // PEM with the legacy key scheme, PascalCase: `PFX` and `FileName`.
    let (status, file, body) = reply_of(
        admin(f.post("/Certificates/Recover"))
            .header("x-certificateformat", "PEM")
            .body(r#"{"CertID": 3, "Password": "recover pw", "UseLegacyEncryption": true}"#)
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(file.as_deref(), Some("a.example.com.pem"));
    assert_eq!(body["FileName"], "a.example.com.pem");
    let text = String::from_utf8(b64(body["PFX"].as_str().unwrap())).unwrap();
    assert_eq!(
        text.matches("BEGIN CERTIFICATE").count(),
        1,
        "no IncludeChain: the certificate alone"
    );
    let key = &text[text.find("-----BEGIN ENCRYPTED PRIVATE KEY-----").unwrap()..];
    assert!(common::openssl(&["asn1parse"], key.as_bytes()).contains("pbeWithSHA1And3-KeyTripleDES-CBC"));
    assert_eq!(
        common::openssl(&["pkey", "-passin", "pass:recover pw", "-pubout"], key.as_bytes()),
        common::certificate_public_key("manifest", "a.example.com")
    );
    let cert_pem = common::certificate_pem("manifest", "a.example.com");
    assert_eq!(
        common::python_key_matches(key.as_bytes(), cert_pem.as_bytes(), b"recover pw"),
        "True"
    );
    assert!(f.server.log().contains("outcome=\"exported\""));
}

#[test]
fn curl_calls_every_endpoint() {
    let f = Fixture::start(&[]);
    let url = |p: &str| f.server.url(p);
    let bearer = format!("Authorization: Bearer {ADMIN_TOKEN}");

    let (status, headers, body) = curl(
        &f.pki,
        &[
            "-H",
            &bearer,
            "-H",
            "x-certificateformat: CRT",
            "--data",
            r#"{"certID": 3}"#,
            &url("/KeyfactorAPI/Certificates/Download"),
        ],
    );
    assert_eq!(status, 200);
    assert!(
        headers
            .to_ascii_lowercase()
            .contains("x-certificatefile: a.example.com.crt"),
        "{headers}"
    );
    let body: Value = serde_json::from_slice(&body).unwrap();
    let crt = b64(body["content"].as_str().unwrap());
    assert_eq!(
        common::openssl_subjects(&["x509", "-noout", "-subject"], &crt),
        ["CN=a.example.com,O=certexport tests,C=US"]
    );

    let (status, _, body) = curl(
        &f.pki,
        &[
            "-u",
            &format!("alice:{ALICE_PASSWORD}"),
            "--data",
            r#"{"CertID": 3, "Password": "curl pw"}"#,
            &url("/Certificates/Recover?collectionId=5"),
        ],
    );
    assert_eq!(status, 200);
    let body: Value = serde_json::from_slice(&body).unwrap();
    let pfx = b64(body["PFX"].as_str().unwrap());
    let keys = common::openssl(&["pkcs12", "-passin", "pass:curl pw", "-nodes", "-nocerts"], &pfx);
    assert_eq!(
        common::openssl(&["pkey", "-pubout"], keys.as_bytes()),
        common::certificate_public_key("manifest", "a.example.com")
    );

    // AppViewX with its own headers; the key under PBES2, 600,000 iterations.
    let (status, _, body) = curl(
        &f.pki,
        &[
            "-H",
            "username: alice",
            "-H",
            &format!("password: {ALICE_PASSWORD}"),
            "-H",
            "Content-Type: application/json",
            "--data",
            &format!(r#"{{"uuId": "{A_UUID}", "password": "testPassword123"}}"#),
            &url("/avxapi/certificate/privatekey/download?gwsource=external"),
        ],
    );
    assert_eq!(status, 200);
    let envelope: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(envelope["response"]["status"], "Success");
    assert_eq!(envelope["message"], "private key downloaded successfully");
    let key = envelope["response"]["privateKeyPemEncoded"].as_str().unwrap();
    let dump = common::openssl(&["asn1parse"], key.as_bytes());
    for expected in ["PBES2", "hmacWithSHA256", "aes-256-cbc", ":0927C0"] {
        assert!(dump.contains(expected), "{expected} in\n{dump}");
    }
    let cert_pem = common::certificate_pem("manifest", "a.example.com");
    assert_eq!(
        common::python_key_matches(key.as_bytes(), cert_pem.as_bytes(), b"testPassword123"),
        "True"
    );

    let (status, _, body) = curl(&f.pki, &[&url("/healthz")]);
    assert_eq!((status, body.as_slice()), (200, &b"ok\n"[..]));
    let (status, headers, body) = curl(&f.pki, &[&url("/metrics")]);
    assert_eq!(status, 200);
    assert!(headers.contains("text/plain; version=0.0.4"), "{headers}");
    let metrics = String::from_utf8(body).unwrap();
    for line in [
        "certexport_requests_total{route=\"download\",status=\"200\"} 1",
        "certexport_requests_total{route=\"recover\",status=\"200\"} 1",
        "certexport_requests_total{route=\"avx_key_download\",status=\"200\"} 1",
        "certexport_key_exports_total{outcome=\"exported\"} 2",
        "certexport_request_duration_seconds_count{route=\"download\"} 1",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
    }
}

#[test]
fn appviewx_answers_with_the_seed_codes() {
    let f = Fixture::start(&["--avx-legacy-key-encryption", "--log-format", "json"]);
    let call = |headers: &[(&str, &str)], body: &str| {
        let mut request = f.post("/avxapi/certificate/privatekey/download?gwsource=external");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.body(body.to_owned()).send().unwrap();
        (response.status().as_u16(), response.text().unwrap())
    };
    let session = [("sessionId", ADMIN_TOKEN)];
    let code = |text: &str| serde_json::from_str::<Value>(text).unwrap()["appStatusCode"].clone();
    let rows = [
        (
            "empty password",
            r#"{"uuId": "c-0001", "password": ""}"#,
            417,
            "CERT-GEN-0015",
        ),
        (
            "restricted by policy",
            r#"{"uuId": "c-0001", "password": "pw123456"}"#,
            417,
            "CERT-KEY-0006",
        ),
        ("no uuId", r#"{"password": "pw123456"}"#, 400, "MANDATORY_FIELD_MISSING"),
        (
            "malformed uuId",
            r#"{"uuId": "../etc", "password": "pw123456"}"#,
            400,
            "MANDATORY_FIELD_MISSING",
        ),
        (
            "unknown uuId",
            r#"{"uuId": "no-such-id", "password": "pw123456"}"#,
            500,
            "CERT-GEN-0027",
        ),
    ];
    for (why, body, status, app_code) in rows {
        let (got, text) = call(&session, body);
        assert_eq!((got, code(&text)), (status, Value::from(app_code)), "{why}: {text}");
    }
    // Denied (b-0001 is not in alice's collection) and unknown: one answer.
    let alice_headers = [("username", "alice"), ("password", ALICE_PASSWORD)];
    let denied = call(&alice_headers, r#"{"uuId": "b-0001", "password": "pw123456"}"#);
    let unknown = call(&alice_headers, r#"{"uuId": "no-such-id", "password": "pw123456"}"#);
    assert_eq!(denied, unknown);
    assert_eq!(denied.0, 500);

    // The legacy scheme the server is set to, as the seed's sample shows it.
    let (status, text) = call(
        &alice_headers,
        &format!(r#"{{"uuId": "{A_UUID}", "password": "testPassword123"}}"#),
    );
    assert_eq!(status, 200, "{text}");
    let envelope: Value = serde_json::from_str(&text).unwrap();
    let key = envelope["response"]["privateKeyPemEncoded"].as_str().unwrap();
    assert!(common::openssl(&["asn1parse"], key.as_bytes()).contains("pbeWithSHA1And3-KeyTripleDES-CBC"));
    assert_eq!(
        common::openssl(&["pkey", "-passin", "pass:testPassword123", "-pubout"], key.as_bytes()),
        common::certificate_public_key("manifest", "a.example.com")
    );

    // One JSON audit line per key export, and no secret anywhere in the log.
    let log = f.server.log();
    let audits: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["target"] == "certexport::audit")
        .collect();
    let exported: Vec<&Value> = audits.iter().filter(|a| a["outcome"] == "exported").collect();
    assert_eq!(exported.len(), 1, "{log}");
    assert_eq!(exported[0]["caller"], "alice");
    assert_eq!(exported[0]["certificate_id"], 3);
    assert_eq!(exported[0]["thumbprint"], "7b2e04732b9703959d6b795fbf382e9909c241a5");
    assert_eq!(exported[0]["route"], "avx_key_download");
    assert!(exported[0]["timestamp"].is_string());
    assert!(
        audits
            .iter()
            .any(|a| a["outcome"] == "refused" && a["error"] == "KeyExportRestricted")
    );
    for secret in [
        ALICE_PASSWORD,
        ADMIN_TOKEN,
        "testPassword123",
        "pw123456",
        "PRIVATE KEY",
        "sessionId",
    ] {
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
    }
}

#[test]
fn a_body_over_the_limit_is_413() {
    let f = Fixture::start(&["--max-body-bytes", "1024"]);
    let padding = "x".repeat(2_000);
    let response = admin(f.post("/KeyfactorAPI/Certificates/Download"))
        .body(format!(r#"{{"CertID": 3, "Padding": "{padding}"}}"#))
        .send()
        .unwrap();
    assert_eq!(response.status(), 413);
    let response = admin(f.post("/KeyfactorAPI/Certificates/Download"))
        .body(r#"{"CertID": 3}"#)
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        f.server
            .metric(&f.client, "certexport_errors_total", "kind=\"BodyTooLarge\""),
        1.0
    );
}

#[test]
fn sighup_rereads_the_callers_file_and_keeps_it_when_broken() {
    let f = Fixture::start(&[]);
    let callers_path = f.dir.path().join("callers.json");
    let ask = |token: &str| {
        f.post("/Certificates/Download")
            .bearer_auth(token)
            .body(r#"{"CertID": 3}"#)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(ask("new-token"), 401);
    let replaced = callers_json(&[(
        "new-bot",
        Credential::Token("new-token"),
        &["/certificates/collections/read/"],
    )]);
    std::fs::write(&callers_path, replaced).unwrap();
    f.server.signal("HUP");
    f.server
        .wait_for_metric(&f.client, "certexport_callers_reloads_total", "outcome=\"ok\"", 1.0);
    assert_eq!(ask("new-token"), 200);
    assert_eq!(ask(ADMIN_TOKEN), 401, "a caller gone from the file is gone");

    std::fs::write(&callers_path, b"{ not json").unwrap();
    f.server.signal("HUP");
    f.server
        .wait_for_metric(&f.client, "certexport_callers_reloads_total", "outcome=\"failed\"", 1.0);
    assert_eq!(ask("new-token"), 200, "a broken file leaves the callers in force");
}

#[test]
fn sigterm_lets_a_key_export_in_flight_finish() {
    let f = Fixture::start(&[]);
    let request = admin(f.post("/KeyfactorAPI/Certificates/Recover"))
        .header("x-certificateformat", "PEM")
        .body(r#"{"CertID": 3, "Password": "in flight"}"#);
    // PBES2 at 600,000 iterations: long enough to be caught in flight.
    let in_flight = std::thread::spawn(move || {
        let response = request.send().unwrap();
        (response.status().as_u16(), response.text().unwrap())
    });
    f.server
        .wait_for_metric(&f.client, "certexport_key_exports_running", "", 1.0);
    f.server.signal("TERM");
    let (status, text) = in_flight.join().unwrap();
    assert_eq!(status, 200, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    let pem = String::from_utf8(b64(body["PFX"].as_str().unwrap())).unwrap();
    let key = &pem[pem.find("-----BEGIN ENCRYPTED PRIVATE KEY-----").unwrap()..];
    assert_eq!(
        common::openssl(&["pkey", "-passin", "pass:in flight", "-pubout"], key.as_bytes()),
        common::certificate_public_key("manifest", "a.example.com")
    );
    let Fixture { server, client, .. } = f;
    let url = server.url("/healthz");
    let status = server.wait();
    assert!(status.success(), "{status}");
    assert!(client.get(url).send().is_err(), "nothing listens after the shutdown");
}

#[test]
fn plain_http_only_on_loopback() {
    let dir = common::tempdir();
    let callers = common::write(dir.path(), "callers.json", callers().as_bytes());
    let args = |listen: &str| {
        vec![
            "serve".to_owned(),
            "--listen".to_owned(),
            listen.to_owned(),
            "--store".to_owned(),
            path(&common::data("manifest")),
            "--callers".to_owned(),
            path(&callers),
        ]
    };
    for listen in ["0.0.0.0:0", "[::]:0"] {
        let out = common::run(
            serve_common::binary(),
            &args(listen).iter().map(String::as_str).collect::<Vec<_>>(),
            b"",
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{listen}: {stderr}");
        assert!(stderr.contains("loopback") && stderr.contains("--tls-cert"), "{stderr}");
    }
    // On loopback, plain HTTP serves.
    let client = Client::new();
    let server = Server::start(&args("127.0.0.1:0")[3..], &client);
    assert!(server.base.starts_with("http://"));
    let response = client
        .post(server.url("/KeyfactorAPI/Certificates/Download"))
        .bearer_auth(ADMIN_TOKEN)
        .body(r#"{"CertID": 3}"#)
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
}
