//! Helpers of the server tests: a test PKI for `localhost` made with the
//! `openssl` CLI, callers files, a `certexport serve` process on a free
//! loopback port (killed when dropped), and HTTPS clients (reqwest with
//! rustls, and curl) that trust only the test CA.
//!
//! The server is the real binary (`CARGO_BIN_EXE_certexport`, built with
//! feature `server`), started with `--listen 127.0.0.1:0`: it prints the
//! port it got on stdout, so no two tests race for a port.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use crate::common::{run, tempdir};

pub const ALICE_PASSWORD: &str = "alice's pass phrase";
pub const ADMIN_TOKEN: &str = "admin-token-4f1c9a";
pub const READER_TOKEN: &str = "reader-token-77d2e0";

/// The server tests' callers file: alice (a password): collection 5 with
/// its keys; admin-bot (a token): everything; reader-bot (a token):
/// collection 5 without keys.
pub fn callers() -> String {
    callers_json(&[
        (
            "alice",
            Credential::Password(ALICE_PASSWORD),
            &[
                "/certificates/collections/read/5/",
                "/certificates/collections/private_key/read/5/",
            ],
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
        (
            "reader-bot",
            Credential::Token(READER_TOKEN),
            &["/certificates/collections/read/5/"],
        ),
    ])
}

/// A CA and a server certificate for `localhost`, 127.0.0.1 and ::1.
pub struct TestPki {
    dir: tempfile::TempDir,
}

impl TestPki {
    /// Makes the CA (P-256) and the server's certificate and key.
    pub fn new() -> Self {
        let dir = tempdir();
        let d = dir.path();
        let sh = |args: &[&str]| {
            let out = Command::new("openssl").args(args).current_dir(d).output().unwrap();
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        std::fs::write(
            d.join("ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\n\
             keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        sh(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "3650",
            "-subj",
            "/CN=certexport test CA",
        ]);
        sh(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ]);
        sh(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "3650",
            "-extfile",
            "ext",
        ]);
        Self { dir }
    }

    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    pub fn cert(&self) -> PathBuf {
        self.dir.path().join("server.pem")
    }

    pub fn key(&self) -> PathBuf {
        self.dir.path().join("server.key")
    }

    /// The `--tls-cert` and `--tls-key` flags.
    pub fn flags(&self) -> Vec<String> {
        vec![
            "--tls-cert".into(),
            path(&self.cert()),
            "--tls-key".into(),
            path(&self.key()),
        ]
    }

    /// A reqwest client that trusts the test CA only.
    pub fn client(&self) -> reqwest::blocking::Client {
        let ca = reqwest::Certificate::from_pem(&std::fs::read(self.ca()).unwrap()).unwrap();
        reqwest::blocking::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(ca)
            .timeout(Duration::from_secs(300))
            .build()
            .unwrap()
    }
}

pub fn path(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

/// The argon2id hash of `password`, as `certexport hash-password` prints it
/// (remembered per password: argon2 is slow in a debug build).
pub fn hash_password(password: &str) -> String {
    static HASHES: OnceLock<std::sync::Mutex<Vec<(String, String)>>> = OnceLock::new();
    let hashes = HASHES.get_or_init(Default::default);
    if let Some((_, hash)) = hashes.lock().unwrap().iter().find(|(p, _)| p == password) {
        return hash.clone();
    }
    let out = run(binary(), &["hash-password"], format!("{password}\n").as_bytes());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let hash = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    hashes.lock().unwrap().push((password.to_owned(), hash.clone()));
    hash
}

/// The hex SHA-256 of a token, as a callers file holds it.
pub fn token_sha256(token: &str) -> String {
    let out = run("sha256sum", &[], token.as_bytes());
    String::from_utf8(out.stdout).unwrap()[..64].to_owned()
}

/// One caller of a callers file.
pub enum Credential<'a> {
    Password(&'a str),
    Token(&'a str),
}

/// The text of a callers file.
pub fn callers_json(callers: &[(&str, Credential<'_>, &[&str])]) -> String {
    let entries: Vec<serde_json::Value> = callers
        .iter()
        .map(|(name, credential, claims)| {
            let mut entry = serde_json::json!({ "name": name, "claims": claims });
            match credential {
                Credential::Password(p) => entry["password"] = hash_password(p).into(),
                Credential::Token(t) => entry["token_sha256"] = token_sha256(t).into(),
            }
            entry
        })
        .collect();
    serde_json::json!({ "callers": entries }).to_string()
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_certexport")
}

/// A running `certexport serve`, killed when dropped.
pub struct Server {
    child: Option<Child>,
    /// The port it listens on.
    pub port: u16,
    /// `https://localhost:PORT` (or `http://` without TLS).
    pub base: String,
    log: PathBuf,
    _log_dir: tempfile::TempDir,
}

impl Server {
    /// Starts `certexport serve --listen 127.0.0.1:0 ARGS` and waits until
    /// `/healthz` answers (through `client`).
    pub fn start(args: &[String], client: &reqwest::blocking::Client) -> Server {
        Self::start_under(&[], args, client)
    }

    /// [`start`](Self::start) through `wrapper` (`["prlimit", "--nofile=128"]`
    /// runs the server under that limit); none when empty.
    pub fn start_under(wrapper: &[&str], args: &[String], client: &reqwest::blocking::Client) -> Server {
        let log_dir = tempdir();
        let log = log_dir.path().join("stderr.log");
        let mut command = match wrapper.split_first() {
            Some((program, wrapper_args)) => {
                let mut command = Command::new(program);
                command.args(wrapper_args).arg(binary());
                command
            }
            None => Command::new(binary()),
        };
        let mut child = command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let Some(url) = line.trim().strip_prefix("certexport serve: listening on ") else {
            let _ = child.wait();
            panic!(
                "serve did not start: {line:?}\n{}",
                std::fs::read_to_string(&log).unwrap()
            );
        };
        let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
        let scheme = url.split("://").next().unwrap();
        let server = Server {
            child: Some(child),
            port,
            base: format!("{scheme}://localhost:{port}"),
            log,
            _log_dir: log_dir,
        };
        let health = client.get(server.url("/healthz")).send().unwrap();
        assert_eq!(health.status(), 200);
        assert_eq!(health.text().unwrap(), "ok\n");
        server
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// What the server wrote to stderr so far (its log).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }

    /// Sends `signal` (`TERM`, `HUP`) to the server.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().unwrap().id().to_string();
        let out = Command::new("kill").args(["-s", signal, &pid]).output().unwrap();
        assert!(
            out.status.success(),
            "kill -s {signal}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Waits for the server to exit.
    pub fn wait(mut self) -> ExitStatus {
        self.child.take().unwrap().wait().unwrap()
    }

    /// The value of `name` (no labels, or with `labels` such as
    /// `outcome="ok"`) in `/metrics`.
    pub fn metric(&self, client: &reqwest::blocking::Client, name: &str, labels: &str) -> f64 {
        let text = client.get(self.url("/metrics")).send().unwrap().text().unwrap();
        let wanted = if labels.is_empty() {
            format!("{name} ")
        } else {
            format!("{name}{{{labels}}} ")
        };
        text.lines()
            .find_map(|l| l.strip_prefix(&wanted))
            .map_or(0.0, |v| v.parse().unwrap())
    }

    /// Polls `/metrics` until `name{labels}` reaches `value` (each poll
    /// is bounded; the count of polls too).
    pub fn wait_for_metric(&self, client: &reqwest::blocking::Client, name: &str, labels: &str, value: f64) {
        for _ in 0..3_000 {
            if self.metric(client, name, labels) >= value {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("{name}{{{labels}}} never reached {value}\n{}", self.log());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `curl -s` with the test CA and `args`; gives (status, headers, body).
pub fn curl(pki: &TestPki, args: &[&str]) -> (u16, String, Vec<u8>) {
    let dir = tempdir();
    let headers = dir.path().join("headers");
    let out: Output = Command::new("curl")
        .args(["-sS", "--cacert", &path(&pki.ca()), "-D", &path(&headers), "-o", "-"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("curl must be installed (.ci/run installs it): {e}"));
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let headers = std::fs::read_to_string(headers).unwrap();
    let status = headers
        .lines()
        .rev()
        .find(|l| l.starts_with("HTTP/"))
        .and_then(|l| l.split(' ').nth(1))
        .unwrap()
        .parse()
        .unwrap();
    (status, headers, out.stdout)
}

/// A server over the manifest store (tests/data/manifest) with the callers
/// file `callers` (see [`callers_json`]), over TLS, and its test PKI.
pub struct Manifest {
    pub pki: TestPki,
    pub server: Server,
    _dir: tempfile::TempDir,
}

/// Starts [`Manifest`] with `extra` flags.
pub fn serve_manifest(callers: &str, extra: &[&str]) -> Manifest {
    let pki = TestPki::new();
    let dir = tempdir();
    let callers = crate::common::write(dir.path(), "callers.json", callers.as_bytes());
    let mut args = vec![
        "--store".to_owned(),
        path(&crate::common::data("manifest")),
        "--callers".to_owned(),
        path(&callers),
    ];
    args.extend(pki.flags());
    args.extend(extra.iter().map(|s| s.to_string()));
    let server = Server::start(&args, &pki.client());
    Manifest { pki, server, _dir: dir }
}

/// The CNs of a PEM file's certificates, in file order, as OpenSSL reads
/// them (`crl2pkcs7` then `pkcs7 -print_certs`).
pub fn pem_subject_cns(file: &Path) -> Vec<String> {
    let p7 = Command::new("openssl")
        .args(["crl2pkcs7", "-nocrl", "-certfile", &path(file)])
        .output()
        .unwrap();
    assert!(p7.status.success(), "{}", String::from_utf8_lossy(&p7.stderr));
    let printed = run("openssl", &["pkcs7", "-print_certs", "-noout"], &p7.stdout);
    assert!(printed.status.success());
    String::from_utf8(printed.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("subject="))
        .map(|s| s.rsplit("CN = ").next().unwrap().trim().to_owned())
        .collect()
}
