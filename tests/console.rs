//! The console (`/`) as people meet it: headless Chromium from Debian's
//! packages, driven by Selenium (`tests/python/console_browser.py`; `.ci/run`
//! installs `chromium`, `chromium-driver` and `selenium`), signs in,
//! searches, opens a certificate and downloads it; OpenSSL then reads what
//! the browser saved. Beside it, the security rules at the HTTP level:
//! pages need a session, POSTs need their CSRF token, forged and expired
//! cookies are refused, and the key password appears in no log line.
//!
//! Fixtures: tests/data/manifest — CertID 1 root, 2 intermediate,
//! 3 a.example.com (collection 5, keys allowed), 100 b.example.com
//! (collection 6), 4 c.example.com (collection 5, policy Production
//! restricts keys).
//!
//! Set `CERTEXPORT_SCREENSHOTS=DIR` to keep the browser's screenshots in
//! DIR (docs/screenshots holds the committed ones).
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used)]

mod common;
#[path = "common/serve.rs"]
mod serve_common;

use std::process::Command;
use std::time::Duration;

use reqwest::blocking::Client;
use serve_common::{Credential, TestPki, callers_json, path, pem_subject_cns, serve_manifest};

const ALICE_PASSWORD: &str = "alice console pass";
const BOB_PASSWORD: &str = "bob console pass";
const CAROL_PASSWORD: &str = "carol console pass";
const PFX_PASSWORD: &str = "Pfx-Secret-7c1e93";

type Fixture = serve_common::Manifest;

/// alice reads collection 5 and its keys; bob reads collection 5 without
/// keys; carol reads store container 2 (a.example.com's).
fn start(extra: &[&str]) -> Fixture {
    let callers = callers_json(&[
        (
            "alice",
            Credential::Password(ALICE_PASSWORD),
            &[
                "/certificates/collections/read/5/",
                "/certificates/collections/private_key/read/5/",
            ],
        ),
        (
            "bob",
            Credential::Password(BOB_PASSWORD),
            &["/certificates/collections/read/5/"],
        ),
        (
            "carol",
            Credential::Password(CAROL_PASSWORD),
            &["/certificate_stores/read/2/"],
        ),
    ]);
    let mut flags = vec!["--log-format", "json"];
    flags.extend_from_slice(extra);
    serve_manifest(&callers, &flags)
}

#[test]
fn a_person_signs_in_searches_and_downloads_in_chromium() {
    let f = start(&[]);
    let work = common::tempdir();
    let downloads = work.path().join("downloads");
    std::fs::create_dir(&downloads).unwrap();
    let shots = std::env::var("CERTEXPORT_SCREENSHOTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| work.path().join("screenshots"));
    std::fs::create_dir_all(&shots).unwrap();
    let config = serde_json::json!({
        "base": f.server.base,
        "downloads": path(&downloads),
        "screenshots": path(&shots),
        "alice": "alice",
        "alice_password": ALICE_PASSWORD,
        "bob": "bob",
        "bob_password": BOB_PASSWORD,
        "pfx_password": PFX_PASSWORD,
    });
    let config = common::write(work.path(), "config.json", config.to_string().as_bytes());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/console_browser.py");
    let run = Command::new("python3")
        .args([script, &path(&config)])
        .env("SE_OFFLINE", "true")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "the browser checks failed (.ci/run installs chromium, chromium-driver and selenium):\n{}\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr),
        f.server.log()
    );

    // The PEM the browser saved: the chain, root first, as OpenSSL reads it.
    let pem = downloads.join("a.example.com.pem");
    assert_eq!(
        pem_subject_cns(&pem),
        ["Manifest Root", "Manifest Intermediate", "a.example.com"]
    );
    // The PFX opens with the password typed in the dialog, and its key is
    // the certificate's.
    let pfx = downloads.join("a.example.com.pfx");
    let opened = Command::new("openssl")
        .args(["pkcs12", "-in", &path(&pfx), "-nodes", "-passin"])
        .arg(format!("pass:{PFX_PASSWORD}"))
        .output()
        .unwrap();
    assert!(opened.status.success(), "{}", String::from_utf8_lossy(&opened.stderr));
    let text = String::from_utf8(opened.stdout).unwrap();
    let key_start = text.find("-----BEGIN PRIVATE KEY-----").expect("the PFX holds a key");
    let key_end = text.find("-----END PRIVATE KEY-----").unwrap() + "-----END PRIVATE KEY-----".len();
    let key_public = common::run("openssl", &["pkey", "-pubout"], &text.as_bytes()[key_start..key_end]);
    assert!(key_public.status.success());
    let cert_public = Command::new("openssl")
        .args([
            "x509",
            "-pubkey",
            "-noout",
            "-in",
            &path(&common::data("manifest").join("a.example.com.pem")),
        ])
        .output()
        .unwrap();
    assert_eq!(
        key_public.stdout, cert_public.stdout,
        "the key is not the certificate's"
    );
    assert!(
        text.contains("subject=C = US, O = certexport tests, CN = a.example.com"),
        "{text}"
    );

    // The server logged the key export, and no password, anywhere.
    let log = f.server.log();
    assert!(
        log.contains("\"route\":\"console\""),
        "no audit line for the console's key export:\n{log}"
    );
    for secret in [PFX_PASSWORD, ALICE_PASSWORD, BOB_PASSWORD, "by-hand-1"] {
        assert!(!log.contains(secret), "the log holds a password:\n{log}");
    }
}

/// A client that keeps no cookies and follows no redirects: each request
/// carries exactly the cookie a test gives it.
fn bare_client(pki: &TestPki) -> Client {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(pki.ca()).unwrap()).unwrap();
    Client::builder()
        .use_rustls_tls()
        .add_root_certificate(ca)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

/// The value of `name` among the `Set-Cookie` headers.
fn set_cookie(response: &reqwest::blocking::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.strip_prefix(&format!("{name}="))
                .map(|rest| rest.split(';').next().unwrap().to_owned())
        })
}

/// The `value` of the hidden `csrf` field of a page.
fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    html[at..].split('"').next().unwrap().to_owned()
}

/// Signs `name` in over plain HTTP requests; gives the session cookie
/// and the session's CSRF token.
fn sign_in(f: &Fixture, client: &Client, name: &str, password: &str) -> (String, String) {
    let form = client.get(f.server.url("/console/signin")).send().unwrap();
    let signin_cookie = set_cookie(&form, "__Host-certexport-signin").unwrap();
    let token = csrf_of(&form.text().unwrap());
    let signed = client
        .post(f.server.url("/console/signin"))
        .header("cookie", format!("__Host-certexport-signin={signin_cookie}"))
        .form(&[("csrf", token.as_str()), ("name", name), ("password", password)])
        .send()
        .unwrap();
    assert_eq!(signed.status(), 303);
    let session = set_cookie(&signed, "__Host-certexport-session").unwrap();
    let page = client
        .get(f.server.url("/"))
        .header("cookie", format!("__Host-certexport-session={session}"))
        .send()
        .unwrap();
    assert_eq!(page.status(), 200);
    let csrf = csrf_of(&page.text().unwrap());
    (session, csrf)
}

#[test]
fn pages_need_a_session_posts_need_their_token_and_forged_cookies_are_refused() {
    let f = start(&[]);
    let client = bare_client(&f.pki);
    let pages = [
        "/",
        "/console/certificates/3",
        "/console/certificates/3/download",
        "/?cn=a",
    ];
    for page in pages {
        let response = client.get(f.server.url(page)).send().unwrap();
        assert_eq!(response.status(), 303, "{page}");
        assert_eq!(response.headers()["location"], "/console/signin", "{page}");
    }
    let post = client
        .post(f.server.url("/console/certificates/3/download"))
        .form(&[("csrf", "x"), ("format", "PEM")])
        .send()
        .unwrap();
    assert_eq!(post.status(), 303, "a POST without a session did something");

    // Signing in needs the token of the sign-in cookie, so another site
    // cannot sign a browser in either.
    let form = client.get(f.server.url("/console/signin")).send().unwrap();
    let signin_cookie = set_cookie(&form, "__Host-certexport-signin").unwrap();
    let refused = client
        .post(f.server.url("/console/signin"))
        .header("cookie", format!("__Host-certexport-signin={signin_cookie}"))
        .form(&[("csrf", "forged"), ("name", "alice"), ("password", ALICE_PASSWORD)])
        .send()
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert!(set_cookie(&refused, "__Host-certexport-session").is_none());

    let (session, csrf) = sign_in(&f, &client, "alice", ALICE_PASSWORD);
    let with_session = |request: reqwest::blocking::RequestBuilder, cookie: &str| {
        request.header("cookie", format!("__Host-certexport-session={cookie}"))
    };
    // A download without the token, or with another, is refused and gives no file.
    for token in [None, Some("not-the-token"), Some("")] {
        let mut fields = vec![("format", "PEM")];
        if let Some(token) = token {
            fields.push(("csrf", token));
        }
        let response = with_session(client.post(f.server.url("/console/certificates/3/download")), &session)
            .form(&fields)
            .send()
            .unwrap();
        assert_eq!(response.status(), 403, "{token:?}");
        assert!(response.headers().get("content-disposition").is_none());
    }
    // Open by id: to the certificate's page; a non-number is refused.
    let response = with_session(client.get(f.server.url("/?id=3")), &session)
        .send()
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/console/certificates/3");
    let response = with_session(client.get(f.server.url("/?id=3%0d%0aX:1")), &session)
        .send()
        .unwrap();
    assert_eq!(response.status(), 400);

    // Sign-out without the token is refused: the session lives on.
    let response = with_session(client.post(f.server.url("/console/signout")), &session)
        .form(&[("csrf", "nope")])
        .send()
        .unwrap();
    assert_eq!(response.status(), 403);
    // With it, the file comes, under its name.
    let response = with_session(client.post(f.server.url("/console/certificates/3/download")), &session)
        .form(&[("csrf", csrf.as_str()), ("format", "PEM")])
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-certificatefile"], "a.example.com.pem");
    assert_eq!(
        response.headers()["content-disposition"],
        "attachment; filename=\"a.example.com.pem\"; filename*=UTF-8''a.example.com.pem"
    );

    // Another collection's certificate (100, collection 6): no file, and
    // the same answer as for one that does not exist.
    for id in ["100", "999"] {
        let response = with_session(
            client.post(f.server.url(&format!("/console/certificates/{id}/download"))),
            &session,
        )
        .form(&[("csrf", csrf.as_str()), ("format", "PEM")])
        .send()
        .unwrap();
        assert_eq!(response.status(), 404, "{id}");
        assert!(response.headers().get("content-disposition").is_none());
        assert!(!response.text().unwrap().contains("b.example.com"));
    }

    // A forged cookie (the real one with one character changed) is no session.
    let mut forged = session.clone().into_bytes();
    forged[5] = if forged[5] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    let response = with_session(client.get(f.server.url("/")), &forged).send().unwrap();
    assert_eq!(response.status(), 303);

    // Every page carries the policy: own scripts and styles only, no framing.
    let page = with_session(client.get(f.server.url("/console/certificates/3")), &session)
        .send()
        .unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    for rule in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(rule), "{csp}");
    }
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().unwrap();
    assert!(
        !html.contains("<script>") && !html.contains(" style=") && !html.contains("onclick"),
        "{html}"
    );

    // Signing out ends the session on the server: the old cookie opens nothing.
    let response = with_session(client.post(f.server.url("/console/signout")), &session)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(response.status(), 303);
    let response = with_session(client.get(f.server.url("/")), &session).send().unwrap();
    assert_eq!(response.status(), 303);
}

#[test]
fn a_container_scoped_caller_finds_and_opens_its_containers_certificates_only() {
    let f = start(&[]);
    let client = bare_client(&f.pki);
    let (session, csrf) = sign_in(&f, &client, "carol", CAROL_PASSWORD);
    let get = |page: &str| {
        client
            .get(f.server.url(page))
            .header("cookie", format!("__Host-certexport-session={session}"))
            .send()
            .unwrap()
    };
    let found = get("/?cn=example.com&scope=container-2").text().unwrap();
    assert!(
        found.contains("1–1 of 1 certificates") && found.contains(">a.example.com<"),
        "{found}"
    );
    assert_eq!(get("/console/certificates/3").status(), 200);
    assert_eq!(get("/console/certificates/100").status(), 404);
    let response = client
        .post(f.server.url("/console/certificates/3/download"))
        .header("cookie", format!("__Host-certexport-session={session}"))
        .form(&[("csrf", csrf.as_str()), ("format", "P7B"), ("include_chain", "1")])
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-certificatefile"], "a.example.com.p7b");
}

/// Sign-in takes the API's password check with its back-off: after the
/// free failures of a name (10), the page answers 429 without checking,
/// the right password included.
#[test]
fn sign_in_backs_off_after_failed_passwords() {
    let f = start(&[]);
    let client = bare_client(&f.pki);
    let form = client.get(f.server.url("/console/signin")).send().unwrap();
    let cookie = format!(
        "__Host-certexport-signin={}",
        set_cookie(&form, "__Host-certexport-signin").unwrap()
    );
    let token = csrf_of(&form.text().unwrap());
    let attempt = |password: &str| {
        client
            .post(f.server.url("/console/signin"))
            .header("cookie", &cookie)
            .form(&[("csrf", token.as_str()), ("name", "bob"), ("password", password)])
            .send()
            .unwrap()
    };
    let mut statuses = Vec::new();
    for n in 0..12 {
        statuses.push(attempt(&format!("wrong-{n}")).status().as_u16());
        if statuses.last() == Some(&429) {
            break;
        }
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    assert!(statuses[..statuses.len() - 1].iter().all(|&s| s == 401), "{statuses:?}");
    let refused = attempt(BOB_PASSWORD);
    assert_eq!(refused.status(), 429);
    assert!(set_cookie(&refused, "__Host-certexport-session").is_none());
    assert!(refused.text().unwrap().contains("Too many failed sign-ins"));
}

#[test]
fn an_idle_session_expires() {
    let f = start(&["--session-idle-seconds", "1"]);
    let client = bare_client(&f.pki);
    let (session, _) = sign_in(&f, &client, "bob", BOB_PASSWORD);
    std::thread::sleep(Duration::from_millis(2_200));
    let response = client
        .get(f.server.url("/"))
        .header("cookie", format!("__Host-certexport-session={session}"))
        .send()
        .unwrap();
    assert_eq!(response.status(), 303, "an expired session still opens pages");
    assert_eq!(response.headers()["location"], "/console/signin");
}
