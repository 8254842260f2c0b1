//! Two `certexport serve` processes over one store behind the same
//! clients: they give the same answers, and one keeps serving while the
//! other is restarted (a rolling restart) — over the same store files, and
//! over one PostgreSQL database (SPEC §11, a live server the test starts:
//! tests/common/pg.rs), where what `certexport db import` adds while both
//! run is served by both within the answer cache's bound, no restart.
//!
//! Fixtures: tests/data/manifest (see tests/serve.rs), tests/data/pki.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used)]

mod common;
#[cfg(feature = "postgres")]
#[path = "common/pg.rs"]
mod pg;
#[path = "common/serve.rs"]
mod serve_common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use reqwest::blocking::Client;
use serve_common::{Credential, Server, TestPki, callers_json, path};

const TOKEN: &str = "pair-token-93b1";

/// Both servers' flags: the shared store (`store_flags`), callers file and
/// TLS identity.
fn server_flags(store_flags: &[String], pki: &TestPki, callers: &std::path::Path) -> Vec<String> {
    let mut flags = store_flags.to_vec();
    flags.extend(["--callers".to_owned(), path(callers)]);
    flags.extend(pki.flags());
    flags
}

fn callers() -> String {
    callers_json(&[
        (
            "pair-bot",
            Credential::Token(TOKEN),
            &[
                "/certificates/collections/read/",
                "/certificates/collections/private_key/read/",
            ],
        ),
        (
            "collection-5",
            Credential::Token("collection-5-token"),
            &["/certificates/collections/read/5/"],
        ),
    ])
}

/// (route, token, format header, body) of calls whose answers are the same
/// bytes every time (no key derivation with a random salt).
const CALLS: &[(&str, &str, &str, &str)] = &[
    (
        "/KeyfactorAPI/Certificates/Download",
        TOKEN,
        "PEM",
        r#"{"CertID": 3, "IncludeChain": true}"#,
    ),
    (
        "/Certificates/Download",
        TOKEN,
        "P7B",
        r#"{"certID": 3, "includeChain": true, "chainOrder": "RootFirst"}"#,
    ),
    (
        "/Certificates/Download",
        TOKEN,
        "DER",
        r#"{"Thumbprint": "e1e02dc94be7aa0c6e36dda37ac2c88a3bb5f870"}"#,
    ),
    ("/Certificates/Download", TOKEN, "PEM", r#"{"CertID": 999}"#),
    (
        "/Certificates/Download",
        "collection-5-token",
        "PEM",
        r#"{"CertID": 100}"#,
    ),
    (
        "/Certificates/Download",
        "collection-5-token",
        "PEM",
        r#"{"CertID": 999}"#,
    ),
    (
        "/Certificates/Recover",
        TOKEN,
        "PFX",
        r#"{"CertID": 4, "Password": "pw123456"}"#,
    ),
    ("/Certificates/Recover", TOKEN, "PFX", r#"{"CertID": 3}"#),
    (
        "/avxapi/certificate/privatekey/download",
        TOKEN,
        "",
        r#"{"uuId": "c-0001", "password": "pw123456"}"#,
    ),
    (
        "/avxapi/certificate/privatekey/download",
        TOKEN,
        "",
        r#"{"uuId": "no-such-id", "password": "pw123456"}"#,
    ),
];

/// Status, file-name header and body of one call.
fn call(
    client: &Client,
    server: &Server,
    (route, token, format, body): (&str, &str, &str, &str),
) -> (u16, String, String) {
    let mut request = client.post(server.url(route)).bearer_auth(token).body(body.to_owned());
    if !format.is_empty() {
        request = request.header("x-certificateformat", format);
    }
    let response = request.send().unwrap();
    let status = response.status().as_u16();
    let file = response
        .headers()
        .get("x-certificatefile")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, file, response.text().unwrap())
}

#[test]
fn two_servers_over_the_same_store_files_answer_alike_through_a_rolling_restart() {
    let pki = TestPki::new();
    let dir = common::tempdir();
    let callers = common::write(dir.path(), "callers.json", callers().as_bytes());
    let flags = server_flags(&["--store".into(), path(&common::data("manifest"))], &pki, &callers);
    let (second, restarted) = rolling_restart(&pki, &flags);
    drop((second, restarted));
}

#[cfg(feature = "postgres")]
#[test]
fn two_servers_over_one_database_answer_alike_through_a_rolling_restart_and_an_import() {
    let pki = TestPki::new();
    let dir = common::tempdir();
    let callers = common::write(dir.path(), "callers.json", callers().as_bytes());
    let kek = common::write(dir.path(), "kek.hex", format!("{}\n", "5a".repeat(32)).as_bytes());
    let url = pg::database();
    let database = ["--database".to_owned(), url, "--kek-file".to_owned(), path(&kek)];
    let import = |store: &str| {
        let mut args = vec![
            "db".to_owned(),
            "import".to_owned(),
            "--store".to_owned(),
            path(&common::data(store)),
        ];
        args.extend(database.iter().cloned());
        let out = std::process::Command::new(serve_common::binary())
            .args(&args)
            .env_remove("DATABASE_URL")
            .env_remove("CERTEXPORT_KEK_FILE")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    // Into an empty database every certificate keeps the id the files give it.
    import("manifest");
    let flags = server_flags(&database, &pki, &callers);
    let (second, restarted) = rolling_restart(&pki, &flags);

    // A certificate imported while both run is served by both, no restart.
    let client = pki.client();
    let thumbprint = common::by_cn(&common::store("pki"), "rsa.example.com").to_string();
    let body = format!(r#"{{"Thumbprint": "{thumbprint}", "IncludeChain": true}}"#);
    let new_call = ("/Certificates/Download", TOKEN, "PEM", body.as_str());
    assert_eq!(call(&client, &second, new_call).0, 404);
    import("pki");
    // Served by both within the answer cache's bound (1 s; the wait allows 5 s).
    let imported = std::time::Instant::now();
    for server in [&*second, &restarted] {
        while call(&client, server, new_call).0 != 200 {
            assert!(
                imported.elapsed() < std::time::Duration::from_secs(5),
                "not served after 5 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    let (a, b) = (call(&client, &second, new_call), call(&client, &restarted, new_call));
    assert_eq!(a.0, 200, "{a:?}");
    assert_eq!(a, b);
    let pem = serde_json::from_str::<serde_json::Value>(&a.2).unwrap()["Content"]
        .as_str()
        .unwrap()
        .to_owned();
    let pem = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.decode(pem).unwrap()
    };
    assert_eq!(
        common::openssl_sha1_hex(&pem),
        thumbprint.replace(':', "").to_lowercase()
    );
}

/// Starts two servers with `flags`, checks they answer [`CALLS`] alike,
/// then restarts the first while the second is called without pause; the
/// second server and the restarted first.
fn rolling_restart(pki: &TestPki, flags: &[String]) -> (Arc<Server>, Server) {
    let client = pki.client();
    let first = Server::start(flags, &client);
    let second = Arc::new(Server::start(flags, &client));

    for &c in CALLS {
        let (a, b) = (call(&client, &first, c), call(&client, &second, c));
        assert_eq!(a, b, "{c:?}");
        assert_ne!(a.0, 0);
    }
    // The fixed calls cover successes and each kind of refusal.
    let statuses: Vec<u16> = CALLS.iter().map(|&c| call(&client, &first, c).0).collect();
    assert_eq!(statuses, [200, 200, 200, 404, 403, 403, 403, 400, 417, 500]);

    // The second server is called without pause while the first restarts.
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicUsize::new(0));
    let caller = {
        let (client, second, stop, served) = (
            client.clone(),
            Arc::clone(&second),
            Arc::clone(&stop),
            Arc::clone(&served),
        );
        std::thread::spawn(move || {
            let mut failures = Vec::new();
            // Bounded: at most 20,000 calls, whatever happens to the flag.
            for _ in 0..20_000 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let (status, _, body) = call(&client, &second, CALLS[0]);
                if status != 200 {
                    failures.push((status, body));
                }
                served.fetch_add(1, Ordering::Relaxed);
            }
            failures
        })
    };
    let before_restart = served.load(Ordering::Relaxed);
    first.signal("TERM");
    let exit = first.wait();
    assert!(exit.success(), "{exit}");
    let while_down = served.load(Ordering::Relaxed);
    let restarted = Server::start(flags, &client);
    let after_restart = served.load(Ordering::Relaxed);
    for &c in CALLS {
        assert_eq!(call(&client, &restarted, c), call(&client, &second, c), "{c:?}");
    }
    stop.store(true, Ordering::Relaxed);
    let failures = caller.join().unwrap();
    assert!(
        failures.is_empty(),
        "the second server failed while the first restarted: {failures:?}"
    );
    assert!(
        after_restart > before_restart && served.load(Ordering::Relaxed) > while_down,
        "the second server was called during the restart ({before_restart} → {while_down} → {after_restart})"
    );
    (second, restarted)
}
