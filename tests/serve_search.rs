//! The search calls over HTTPS (`certexport serve`): search → detail →
//! Download of the certificate found, at both base paths, in both
//! casings, with reqwest (rustls) and with curl; the answer fields; the
//! scope rules; hostile parameters as 400 naming the byte; metrics per
//! route.
//!
//! Fixtures: tests/data/manifest (a.example.com and c.example.com in
//! collection 5, b.example.com with id 100 in collection 6), a test PKI
//! for localhost (tests/common/serve.rs).

#![cfg(feature = "server")]
#![allow(clippy::unwrap_used)]

mod common;
#[path = "common/serve.rs"]
mod serve_common;

use base64::Engine;
use reqwest::blocking::{Client, RequestBuilder};
use serde_json::Value;
use serve_common::{ADMIN_TOKEN, ALICE_PASSWORD, Credential, Server, TestPki, callers_json, curl, path};

struct Fixture {
    pki: TestPki,
    client: Client,
    dir: tempfile::TempDir,
    server: Server,
}

impl Fixture {
    fn start() -> Self {
        let pki = TestPki::new();
        let client = pki.client();
        let dir = common::tempdir();
        let callers = callers_json(&[
            (
                "alice",
                Credential::Password(ALICE_PASSWORD),
                &["/certificates/collections/read/5/"],
            ),
            (
                "admin-bot",
                Credential::Token(ADMIN_TOKEN),
                &[
                    "/certificates/collections/read/",
                    "/certificate_stores/read/",
                    "/certificates/collections/private_key/read/",
                ],
            ),
        ]);
        let callers = common::write(dir.path(), "callers.json", callers.as_bytes());
        let mut args = vec![
            "--store".to_owned(),
            path(&common::data("manifest")),
            "--callers".to_owned(),
            path(&callers),
        ];
        args.extend(pki.flags());
        let server = Server::start(&args, &client);
        Self {
            pki,
            client,
            dir,
            server,
        }
    }

    fn get(&self, path: &str, query: &[(&str, &str)]) -> RequestBuilder {
        self.client.get(self.server.url(path)).query(query)
    }
}

/// Status, `x-total-count`, JSON body.
fn reply(request: RequestBuilder) -> (u16, Option<u64>, Value) {
    let response = request.send().unwrap();
    let status = response.status().as_u16();
    let total = response
        .headers()
        .get("x-total-count")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    let text = response.text().unwrap();
    (
        status,
        total,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status} {e}: {text}")),
    )
}

fn pem_of_content(content: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(content.as_str().unwrap())
        .unwrap()
}

/// openssl's SHA-1 fingerprint of a PEM, upper-case hex without colons.
fn fingerprint(pem: &[u8]) -> String {
    common::openssl_sha1_hex(pem).to_uppercase()
}

#[test]
fn search_detail_download_with_reqwest_at_both_bases_and_casings() {
    let f = Fixture::start();
    let a_pem = common::certificate_pem("manifest", "a.example.com");
    for base in ["/KeyfactorAPI", ""] {
        // camelCase parameters (the reference's generated clients): camelCase answer.
        let (status, total, body) = reply(
            f.get(
                &format!("{base}/Certificates"),
                &[
                    (
                        "pq.queryString",
                        r#"CN -contains "A.EXAMPLE" AND HasPrivateKey -eq true"#,
                    ),
                    ("pq.pageReturned", "1"),
                    ("pq.returnLimit", "50"),
                    ("includeMetadata", "true"),
                ],
            )
            .bearer_auth(ADMIN_TOKEN),
        );
        assert_eq!((status, total), (200, Some(1)), "{body}");
        let found = &body[0];
        assert_eq!(found["issuedCN"], "a.example.com");
        assert_eq!(found["issuedDN"], "CN=a.example.com,O=certexport tests,C=US");
        assert_eq!(found["thumbprint"], fingerprint(a_pem.as_bytes()));
        assert_eq!(found["hasPrivateKey"], true);
        assert_eq!(found["collections"], serde_json::json!([5]));
        assert_eq!(found["uuid"], "60b8d6c4e5c7a920d4f4f1f4");
        assert_eq!(found["subjectAltNameElements"][0]["value"], "a.example.com");
        assert_eq!(found["subjectAltNameElements"][0]["type"], 2);
        for field in [
            "id",
            "serialNumber",
            "issuerDN",
            "notBefore",
            "notAfter",
            "keyType",
            "keySizeInBits",
            "signingAlgorithm",
        ] {
            assert!(!found[field].is_null(), "{field} missing: {found}");
        }
        let id = found["id"].as_u64().unwrap();

        // Detail, PascalCase parameters: PascalCase answer, with the chain.
        let (status, _, detail) = reply(
            f.get(&format!("{base}/Certificates/{id}"), &[("CollectionId", "0")])
                .bearer_auth(ADMIN_TOKEN),
        );
        assert_eq!(status, 200, "{detail}");
        assert_eq!(detail["Thumbprint"], fingerprint(a_pem.as_bytes()));
        assert_eq!(detail["PrivateKeyExportable"], true);
        let chain: Vec<&str> = detail["Chain"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["IssuedDN"].as_str().unwrap())
            .collect();
        assert_eq!(
            chain,
            [
                "CN=a.example.com,O=certexport tests,C=US",
                "CN=Manifest Intermediate,O=certexport tests,C=US",
                "CN=Manifest Root,O=certexport tests,C=US"
            ]
        );

        // Download the certificate found, by the id the search gave.
        let response = f
            .client
            .post(f.server.url(&format!("{base}/Certificates/Download")))
            .bearer_auth(ADMIN_TOKEN)
            .body(format!(r#"{{"CertID": {id}}}"#))
            .send()
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = serde_json::from_str(&response.text().unwrap()).unwrap();
        assert_eq!(
            fingerprint(&pem_of_content(&body["Content"])),
            fingerprint(a_pem.as_bytes())
        );
    }
    let searches = f.server.metric(
        &f.client,
        "certexport_requests_total",
        "route=\"search\",status=\"200\"",
    );
    let details = f.server.metric(
        &f.client,
        "certexport_requests_total",
        "route=\"detail\",status=\"200\"",
    );
    assert_eq!((searches, details), (2.0, 2.0));
}

#[test]
fn search_detail_download_with_curl() {
    let f = Fixture::start();
    let token = format!("Authorization: Bearer {ADMIN_TOKEN}");
    let url = f.server.url("/KeyfactorAPI/Certificates");
    let (status, headers, body) = curl(
        &f.pki,
        &[
            "--get",
            "-H",
            &token,
            "--data-urlencode",
            "pq.queryString=DNSName -endswith \".example.com\" AND CollectionId -eq 6",
            "--data-urlencode",
            "SortField=NotAfter",
            "--data-urlencode",
            "SortAscending=1",
            &url,
        ],
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(headers.to_ascii_lowercase().contains("x-total-count: 1"), "{headers}");
    let found: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(found[0]["IssuedCN"], "b.example.com");
    assert_eq!(found[0]["Id"], 100);

    let (status, _, detail) = curl(&f.pki, &["-H", &token, &f.server.url("/Certificates/100")]);
    assert_eq!(status, 200);
    let detail: Value = serde_json::from_slice(&detail).unwrap();
    let b_pem = common::certificate_pem("manifest", "b.example.com");
    assert_eq!(detail["Thumbprint"], fingerprint(b_pem.as_bytes()));

    let (status, _, download) = curl(
        &f.pki,
        &[
            "-H",
            &token,
            "-H",
            "Content-Type: application/json",
            "--data",
            r#"{"certID": 100}"#,
            &f.server.url("/Certificates/Download"),
        ],
    );
    assert_eq!(status, 200);
    let download: Value = serde_json::from_slice(&download).unwrap();
    assert_eq!(
        fingerprint(&pem_of_content(&download["content"])),
        fingerprint(b_pem.as_bytes())
    );
    let _ = &f.dir;
}

/// `ErrorCode` (or `errorCode` for a camelCase caller).
fn error_code(body: &Value) -> &str {
    body["ErrorCode"].as_str().or(body["errorCode"].as_str()).unwrap()
}

#[test]
fn scopes_bad_queries_and_missing_credentials() {
    let f = Fixture::start();
    let alice = |r: RequestBuilder| r.basic_auth("alice", Some(ALICE_PASSWORD));
    // Alice reads collection 5: a and c, and nothing of collection 6, counts included.
    let (status, total, body) = reply(alice(f.get("/KeyfactorAPI/Certificates", &[("collectionId", "5")])));
    assert_eq!(status, 200, "{body}");
    let names: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["issuedCN"].as_str().unwrap())
        .collect();
    assert_eq!((total, names), (Some(2), vec!["a.example.com", "c.example.com"]));
    let (status, total, body) = reply(alice(f.get(
        "/KeyfactorAPI/Certificates",
        &[("collectionId", "5"), ("pq.queryString", "CollectionId -eq 6")],
    )));
    assert_eq!((status, total, body), (200, Some(0), serde_json::json!([])));
    // No scope, or a scope that is not hers: denied, as a Download is.
    for query in [vec![], vec![("collectionId", "6")]] {
        let (status, _, body) = reply(alice(f.get("/KeyfactorAPI/Certificates", &query)));
        assert_eq!((status, error_code(&body)), (403, "AccessDenied"));
    }
    // b.example.com's detail: the same denial as an id that does not exist.
    for id in ["100", "4242"] {
        let (status, _, body) = reply(alice(f.get(&format!("/Certificates/{id}"), &[("collectionId", "5")])));
        assert_eq!((status, error_code(&body)), (403, "AccessDenied"));
    }
    // Hostile parameters: 400 naming what is wrong.
    let admin = |r: RequestBuilder| r.bearer_auth(ADMIN_TOKEN);
    let (status, _, body) = reply(admin(
        f.get("/Certificates", &[("pq.queryString", "CN -eq \"a\" AND (")]),
    ));
    assert_eq!(status, 400);
    assert_eq!(
        body["Message"],
        "invalid query at byte 16: the query ends where a term or '(' was expected"
    );
    let deep = format!("{}CN -eq a{}", "(".repeat(17), ")".repeat(17));
    let (status, _, body) = reply(admin(f.get("/Certificates", &[("pq.queryString", deep.as_str())])));
    assert_eq!(status, 400, "{body}");
    assert!(body["Message"].as_str().unwrap().contains("nest deeper than 16"));
    let (status, _, body) = reply(admin(f.get("/Certificates", &[("pq.returnLimit", "5000")])));
    assert_eq!(status, 400);
    assert!(body["Message"].as_str().unwrap().contains("between 1 and 1000"));
    let (status, _, _) = reply(admin(f.get("/Certificates/abc", &[])));
    assert_eq!(status, 400);
    // No credentials: 401, nothing looked at.
    let response = f.get("/KeyfactorAPI/Certificates", &[]).send().unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers().get("www-authenticate").is_some());
}
