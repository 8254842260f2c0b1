//! `/openapi.json` judged by its consumers: `openapi-spec-validator` (it
//! must be valid OpenAPI 3.1), `openapi-python-client` (a client generated
//! from it performs a Download, which OpenSSL then reads), and the server
//! itself (every documented route answers, and every answer has exactly
//! the fields the document names). `tests/python/openapi_client.py` does
//! the Python part; `.ci/run` installs both packages.
//!
//! Fixtures: tests/data/manifest — CertID 3 a.example.com under
//! "Manifest Intermediate" under "Manifest Root", uuId
//! 60b8d6c4e5c7a920d4f4f1f4.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used)]

mod common;
#[path = "common/serve.rs"]
mod serve_common;

use std::collections::BTreeSet;
use std::process::Command;

use reqwest::blocking::Client;
use serde_json::{Value, json};
use serve_common::{Credential, callers_json, path, pem_subject_cns, serve_manifest};

const TOKEN: &str = "openapi-admin-token";

struct Fixture {
    manifest: serve_common::Manifest,
    client: Client,
}

fn start() -> Fixture {
    let callers = callers_json(&[(
        "admin-bot",
        Credential::Token(TOKEN),
        &[
            "/certificates/collections/read/",
            "/certificates/collections/private_key/read/",
        ],
    )]);
    let manifest = serve_manifest(&callers, &["--avx-legacy-key-encryption"]);
    let client = manifest.pki.client();
    Fixture { manifest, client }
}

fn document(f: &Fixture) -> Value {
    let response = f.client.get(f.manifest.server.url("/openapi.json")).send().unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    serde_json::from_str(&response.text().unwrap()).unwrap()
}

#[test]
fn the_document_validates_and_a_client_generated_from_it_downloads() {
    let f = start();
    let work = common::tempdir();
    let doc = common::write(
        work.path(),
        "openapi.json",
        f.client
            .get(f.manifest.server.url("/openapi.json"))
            .send()
            .unwrap()
            .text()
            .unwrap()
            .as_bytes(),
    );
    let out = work.path().join("downloaded.pem");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/openapi_client.py");
    let run = Command::new("python3")
        .args([
            script,
            &path(&doc),
            &path(work.path()),
            &f.manifest.server.base,
            &path(&f.manifest.pki.ca()),
            TOKEN,
            "3",
            &path(&out),
        ])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "the generated client failed (pip install openapi-spec-validator openapi-python-client):\n{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&run.stdout).trim(), "a.example.com.pem");
    // OpenSSL reads the chain the client saved, root first as it asked.
    let subjects = pem_subject_cns(&out);
    assert_eq!(
        subjects,
        ["Manifest Root", "Manifest Intermediate", "a.example.com"],
        "{subjects:?}"
    );
}

#[test]
fn every_documented_route_answers_and_answers_have_the_documented_fields() {
    let f = start();
    let doc = document(&f);
    // Every path and method of the document is served (without
    // credentials: 401 for the API, 200 for the service's own).
    for (route, methods) in doc["paths"].as_object().unwrap() {
        for method in methods.as_object().unwrap().keys() {
            let route = route.replace("{id}", "3");
            let route = route.as_str();
            let request = match method.as_str() {
                "get" => f.client.get(f.manifest.server.url(route)),
                "post" => f.client.post(f.manifest.server.url(route)).body("{}"),
                other => panic!("{other} {route}"),
            };
            let status = request.send().unwrap().status().as_u16();
            let want = if route.starts_with("/KeyfactorAPI/") || route.starts_with("/avxapi/") {
                401
            } else {
                200
            };
            assert_eq!(status, want, "{method} {route}");
        }
    }
    let properties = |schema: &str| -> BTreeSet<String> {
        doc["components"]["schemas"][schema]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{schema} has no properties"))
            .keys()
            .cloned()
            .collect()
    };
    let keys = |v: &Value| -> BTreeSet<String> { v.as_object().unwrap().keys().cloned().collect() };
    let call = |route: &str, format: &str, body: Value| -> (u16, Value) {
        let response = f
            .client
            .post(f.manifest.server.url(route))
            .bearer_auth(TOKEN)
            .header("x-certificateformat", format)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .unwrap();
        let status = response.status().as_u16();
        (status, serde_json::from_str(&response.text().unwrap()).unwrap())
    };

    let (status, answer) = call("/KeyfactorAPI/Certificates/Download", "PEM", json!({"CertID": 3}));
    assert_eq!(status, 200);
    assert_eq!(keys(&answer), properties("DownloadAnswer"));

    let (status, answer) = call(
        "/KeyfactorAPI/Certificates/Recover",
        "PFX",
        json!({"CertID": 3, "Password": "pw-1", "UseLegacyEncryption": true}),
    );
    assert_eq!(status, 200);
    assert_eq!(keys(&answer), properties("RecoverAnswer"));

    let (status, answer) = call(
        "/KeyfactorAPI/Certificates/Download",
        "DER",
        json!({"CertID": 3, "IncludeChain": true}),
    );
    assert_eq!(status, 400);
    assert_eq!(keys(&answer), properties("KeyfactorErrorAnswer"));
    let codes = doc["components"]["schemas"]["KeyfactorErrorAnswer"]["properties"]["ErrorCode"]["description"]
        .as_str()
        .unwrap();
    assert!(codes.contains(answer["ErrorCode"].as_str().unwrap()), "{answer}");
    // Without credentials: an error the document lists, with a body of its schema.
    let response = f
        .client
        .post(f.manifest.server.url("/KeyfactorAPI/Certificates/Download"))
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(doc["paths"]["/KeyfactorAPI/Certificates/Download"]["post"]["responses"]["401"].is_object());
    let answer: Value = serde_json::from_str(&response.text().unwrap()).unwrap();
    assert_eq!(keys(&answer), properties("KeyfactorErrorAnswer"));
    assert!(codes.contains(answer["ErrorCode"].as_str().unwrap()), "{answer}");

    let get = |route: &str| -> Value {
        let response = f
            .client
            .get(f.manifest.server.url(route))
            .bearer_auth(TOKEN)
            .send()
            .unwrap();
        assert_eq!(response.status(), 200, "{route}");
        serde_json::from_str(&response.text().unwrap()).unwrap()
    };
    let found = get("/KeyfactorAPI/Certificates?pq.QueryString=CN%20-eq%20%22a.example.com%22");
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(keys(&found[0]), properties("CertificateAnswer"));
    let detail = get("/KeyfactorAPI/Certificates/3");
    let documented = properties("CertificateDetailAnswer");
    assert!(keys(&detail).is_subset(&documented), "{detail}");
    assert!(properties("CertificateAnswer").is_subset(&keys(&detail)), "{detail}");
    assert!(
        keys(&detail["Chain"][0])
            .iter()
            .all(|k| ["Id", "Thumbprint", "IssuedDN"].contains(&k.as_str()))
    );

    for body in [
        json!({"uuId": "60b8d6c4e5c7a920d4f4f1f4", "password": "pw-1"}),
        json!({"uuId": "60b8d6c4e5c7a920d4f4f1f4"}),
    ] {
        let (_, answer) = call("/avxapi/certificate/privatekey/download", "", body);
        assert_eq!(keys(&answer), properties("AvxAnswer"), "{answer}");
        let response_schema: BTreeSet<String> =
            doc["components"]["schemas"]["AvxAnswer"]["properties"]["response"]["properties"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect();
        assert_eq!(keys(&answer["response"]), response_schema, "{answer}");
    }
}

#[test]
fn the_reference_page_is_served_with_its_assets_under_a_strict_policy() {
    let f = start();
    let page = f.client.get(f.manifest.server.url("/docs")).send().unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    let html = page.text().unwrap();
    assert!(html.contains("<script src=\"/docs/docs.js\""), "{html}");
    assert!(!html.contains("<script>") && !html.contains("http://") && !html.contains("https://"));
    let script = f.client.get(f.manifest.server.url("/docs/docs.js")).send().unwrap();
    assert_eq!(script.status(), 200);
    assert!(script.text().unwrap().contains("/openapi.json"));
}
