//! `certexport search` and `certexport show` over store files: the lines
//! and JSON scripts read, the scope flags, and a refused query as exit 2
//! naming the byte.
//!
//! Fixtures: tests/data/manifest (a.example.com and c.example.com in
//! collection 5, b.example.com with id 100 in collection 6).

#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used)]

mod common;

use common::{cli, exit_code, path_str, stderr};

fn manifest() -> String {
    path_str(&common::data("manifest")).to_owned()
}

#[test]
fn search_prints_lines_and_json_and_show_prints_the_facts() {
    let store = manifest();
    let out = cli(&[
        "search",
        "--store",
        &store,
        "--query",
        r#"CN -endswith "example.com""#,
        "--sort",
        "IssuedCN",
        "--descending",
    ]);
    assert_eq!(exit_code(&out), 0, "{}", stderr(&out));
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let subjects: Vec<&str> = text.lines().map(|l| l.split('\t').nth(3).unwrap()).collect();
    assert_eq!(
        subjects,
        [
            "CN=c.example.com,O=certexport tests,C=US",
            "CN=b.example.com,O=certexport tests,C=US",
            "CN=a.example.com,O=certexport tests,C=US"
        ]
    );
    assert!(stderr(&out).contains("3 certificates match"));

    let out = cli(&[
        "search",
        "--store",
        &store,
        "--query",
        "HasPrivateKey -eq true",
        "--page-size",
        "1",
        "--page",
        "2",
        "--json",
    ]);
    assert_eq!(exit_code(&out), 0, "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["Total"], 3);
    assert_eq!(json["Certificates"].as_array().unwrap().len(), 1);
    // By CertId: a, c, then b (fixed id 100).
    assert_eq!(json["Certificates"][0]["IssuedCN"], "c.example.com");

    let sha1 = common::openssl_sha1_hex(common::certificate_pem("manifest", "b.example.com").as_bytes());
    let out = cli(&["show", "--store", &store, "--thumbprint", &sha1]);
    assert_eq!(exit_code(&out), 0, "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("id: 100\n"), "{text}");
    assert!(text.contains("uuid: b-0001\n"), "{text}");
    assert!(text.contains("private key exportable by this caller: yes\n"), "{text}");
}

#[test]
fn scope_flags_and_refused_queries() {
    let store = manifest();
    let dir = common::tempdir();
    let claims = common::write(dir.path(), "claims", b"/certificates/collections/read/5/\n");
    let claims = path_str(&claims).to_owned();
    let out = cli(&[
        "search",
        "--store",
        &store,
        "--claims",
        &claims,
        "--collection-id",
        "5",
        "--tsv",
    ]);
    assert_eq!(exit_code(&out), 0, "{}", stderr(&out));
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 2);
    let out = cli(&["search", "--store", &store, "--claims", &claims, "--collection-id", "6"]);
    assert_eq!((exit_code(&out), stderr(&out).trim()), (5, "error: access denied"));
    let out = cli(&[
        "show",
        "--store",
        &store,
        "--claims",
        &claims,
        "--collection-id",
        "5",
        "--id",
        "100",
    ]);
    assert_eq!((exit_code(&out), stderr(&out).trim()), (5, "error: access denied"));

    let out = cli(&["search", "--store", &store, "--query", "CN -eq \"a\" OR Colour -eq red"]);
    assert_eq!(exit_code(&out), 2);
    assert!(
        stderr(&out).starts_with("error: invalid query at byte 14: unknown field \"Colour\""),
        "{}",
        stderr(&out)
    );
    let out = cli(&["search", "--store", &store, "--page-size", "1001"]);
    assert_eq!(exit_code(&out), 2, "{}", stderr(&out));
    let out = cli(&["search", "--store", &store, "--sort", "Colour"]);
    assert_eq!(exit_code(&out), 2, "{}", stderr(&out));
}
