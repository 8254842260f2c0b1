//! `certexport serve --database` as a fleet meets it: what the database
//! changes stops being served within the answer cache's bound on every
//! server, reads go to a streaming replica that the test makes with
//! `pg_basebackup`, a database stopped and started under a running server
//! gives 503s and then answers again by itself, and a scoped caller
//! cannot tell by timing an absent certificate from one of another
//! collection.
//!
//! Real PostgreSQL servers the tests start (tests/common/pg.rs), the real
//! binary on loopback, called with reqwest.
//!
//! Fixtures: tests/data/manifest — CertID 1 root, 2 intermediate, 3
//! a.example.com (collection 5), 100 b.example.com (collection 6,
//! thumbprint e1e02dc9…), 4 c.example.com (collection 5); tests/data/pki
//! for a later import.
#![cfg(all(feature = "server", feature = "postgres"))]
#![allow(clippy::unwrap_used)]

mod common;
#[path = "common/pg.rs"]
mod pg;
#[path = "common/serve.rs"]
mod serve_common;

use std::sync::RwLock;
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serve_common::{Credential, Server, callers_json, path};

const ADMIN: &str = "fleet-admin-token";
const SCOPED: &str = "collection-5-token";
const B_SHA1: &str = "e1e02dc94be7aa0c6e36dda37ac2c88a3bb5f870";
/// The answer cache's default TTL, the bound the servers promise.
const TTL: Duration = Duration::from_secs(1);
/// What the tests allow beyond the bound: a loaded machine may be slow to
/// run the request that sees the change.
const SLACK: Duration = Duration::from_secs(4);

/// The timing test measures differences of a microsecond or two: it runs
/// alone (write), the other tests of this file beside each other (read),
/// so that a database restart or a replica's start-up in the next test
/// does not land in one side of its pairs.
static QUIET: RwLock<()> = RwLock::new(());

fn callers() -> String {
    callers_json(&[
        (
            "fleet-admin",
            Credential::Token(ADMIN),
            &[
                "/certificates/collections/read/",
                "/certificates/collections/private_key/read/",
            ],
        ),
        (
            "collection-5",
            Credential::Token(SCOPED),
            &["/certificates/collections/read/5/"],
        ),
    ])
}

/// A callers file, a KEK file and the directory that holds them.
struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Self {
        let dir = common::tempdir();
        common::write(dir.path(), "callers.json", callers().as_bytes());
        common::write(dir.path(), "kek.hex", format!("{}\n", "3c".repeat(32)).as_bytes());
        Files { dir }
    }

    fn callers(&self) -> String {
        path(&self.dir.path().join("callers.json"))
    }

    fn kek(&self) -> String {
        path(&self.dir.path().join("kek.hex"))
    }

    /// `certexport db import --store tests/data/CASE` into `url`.
    fn import(&self, url: &str, case: &str) {
        let out = std::process::Command::new(serve_common::binary())
            .args(["db", "import", "--store", &path(&common::data(case))])
            .args(["--database", url, "--kek-file", &self.kek()])
            .env_remove("DATABASE_URL")
            .env_remove("CERTEXPORT_KEK_FILE")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }

    /// A plain-HTTP server on loopback over `url` (and `extra` flags).
    fn serve(&self, url: &str, extra: &[&str]) -> Server {
        let mut flags = vec![
            "--database".to_owned(),
            url.to_owned(),
            "--kek-file".to_owned(),
            self.kek(),
            "--callers".to_owned(),
            self.callers(),
        ];
        flags.extend(extra.iter().map(|s| (*s).to_owned()));
        Server::start(&flags, &Client::new())
    }
}

/// Status and body of a Download of `body` (JSON) as `token`, with `query`.
fn download(client: &Client, server: &Server, token: &str, query: &str, body: &str) -> (u16, String) {
    let response = client
        .post(server.url(&format!("/KeyfactorAPI/Certificates/Download{query}")))
        .bearer_auth(token)
        .header("x-certificateformat", "PEM")
        .body(body.to_owned())
        .send()
        .unwrap();
    (response.status().as_u16(), response.text().unwrap())
}

fn sql(url: &str, statements: &str) {
    postgres::Client::connect(url, postgres::NoTls)
        .unwrap()
        .batch_execute(statements)
        .unwrap();
}

/// Calls `call` until it gives `wanted`, for at most `bound`; how long it
/// took. Once `wanted`, it must stay so: the next five calls give it too.
fn until(bound: Duration, what: &str, mut call: impl FnMut() -> (u16, String), wanted: u16) -> Duration {
    let started = Instant::now();
    loop {
        let (status, body) = call();
        if status == wanted {
            let took = started.elapsed();
            for _ in 0..5 {
                let (again, body) = call();
                assert_eq!(again, wanted, "{what}: {wanted} once, then {again}: {body}");
            }
            return took;
        }
        assert!(
            started.elapsed() < bound,
            "{what}: still {status} after {bound:?}, not {wanted}: {body}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_removed_claim_or_a_deleted_certificate_stops_being_served_within_the_bound_on_both_servers() {
    let _beside_others = QUIET.read().unwrap_or_else(|e| e.into_inner());
    let files = Files::new();
    let url = pg::database();
    files.import(&url, "manifest");
    let servers = [files.serve(&url, &[]), files.serve(&url, &[])];
    let client = Client::new();
    let a = r#"{"CertID": 3}"#;
    let c = r#"{"CertID": 4}"#;
    // Both served, then served again from each server's cache.
    for server in &servers {
        for _ in 0..3 {
            assert_eq!(download(&client, server, SCOPED, "?collectionId=5", a).0, 200);
            assert_eq!(download(&client, server, ADMIN, "", c).0, 200);
        }
    }

    // The collection claim of CertID 3 removed in the database, behind the servers' backs.
    sql(
        &url,
        "DELETE FROM certificate_collections WHERE certificate_id = 3 AND collection_id = 5",
    );
    let changed = Instant::now();
    for (i, server) in servers.iter().enumerate() {
        let call = || download(&client, server, SCOPED, "?collectionId=5", a);
        until(TTL + SLACK, &format!("server {i}, claim removed"), call, 403);
    }
    eprintln!(
        "claim removal seen by both servers {:?} after the change",
        changed.elapsed()
    );
    // The other caller's view of it is unchanged.
    assert_eq!(download(&client, &servers[0], ADMIN, "", a).0, 200);

    // CertID 4 deleted.
    sql(&url, "DELETE FROM certificates WHERE id = 4");
    let changed = Instant::now();
    for (i, server) in servers.iter().enumerate() {
        let call = || download(&client, server, ADMIN, "", c);
        until(TTL + SLACK, &format!("server {i}, certificate deleted"), call, 404);
    }
    eprintln!("deletion seen by both servers {:?} after the change", changed.elapsed());
}

/// The scans of `certificates` (sequential and by index: a table this
/// small may be read either way) as the server at `url` counts them
/// (statistics of its own backends: on a standby, the reads it served).
fn index_scans(url: &str) -> i64 {
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    client
        .query_one(
            "SELECT (coalesce(sum(seq_scan), 0) + coalesce(sum(idx_scan), 0))::bigint \
             FROM pg_stat_user_tables WHERE relname = 'certificates'",
            &[],
        )
        .unwrap()
        .get(0)
}

/// Waits (at most `bound`) until `index_scans(url)` passes `floor`.
fn scans_rise(url: &str, floor: i64, bound: Duration, what: &str) -> i64 {
    let started = Instant::now();
    loop {
        // Statistics reach the shared counters within about a second of the backend's work.
        let scans = index_scans(url);
        if scans > floor {
            return scans;
        }
        assert!(started.elapsed() < bound, "{what}: index scans stayed at {scans}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn reads_go_to_a_streaming_replica_and_to_the_primary_while_it_is_down() {
    let _beside_others = QUIET.read().unwrap_or_else(|e| e.into_inner());
    let files = Files::new();
    let primary = pg::OwnCluster::start();
    files.import(&primary.url(), "manifest");
    let replica = primary.replica();
    let server = files.serve(&primary.url(), &["--database-replica", &replica.url()]);
    let client = Client::new();
    let bound = Duration::from_secs(20);

    // Lookups the cache has never seen reach the replica.
    let before = index_scans(&replica.url());
    for id in [1, 2, 3, 4, 100] {
        let body = format!(r#"{{"CertID": {id}}}"#);
        assert_eq!(download(&client, &server, ADMIN, "", &body).0, 200, "CertID {id}");
    }
    let after = scans_rise(&replica.url(), before + 4, bound, "the replica");
    eprintln!("replica index scans {before} -> {after}");

    // What is imported on the primary is served once replicated.
    let pki = common::store("pki");
    let thumbprint = common::by_cn(&pki, "rsa.example.com").to_string();
    let body = format!(r#"{{"Thumbprint": "{thumbprint}"}}"#);
    assert_eq!(download(&client, &server, ADMIN, "", &body).0, 404);
    files.import(&primary.url(), "pki");
    until(
        bound,
        "imported on the primary",
        || download(&client, &server, ADMIN, "", &body),
        200,
    );

    // The replica stops: every call is still answered, by the primary.
    replica.stop_server();
    let primary_before = index_scans(&primary.url());
    for id in [1, 2, 3, 4, 100] {
        let body = format!(r#"{{"CertID": {id}, "IncludeChain": true}}"#);
        let (status, text) = download(&client, &server, ADMIN, "", &body);
        assert!(
            status == 200 || (id == 100 && status == 422),
            "CertID {id}: {status} {text}"
        );
    }
    scans_rise(&primary.url(), primary_before, bound, "the primary, replica down");

    // The replica comes back and takes reads again (it is retried after 2 s).
    replica.start_server();
    let before = index_scans(&replica.url());
    let deadline = Instant::now() + bound;
    let mut serial = 0;
    loop {
        // New lookups each time (the cache answers the old ones): absent thumbprints.
        serial += 1;
        let body = format!(r#"{{"Thumbprint": "{:040x}"}}"#, serial);
        assert_eq!(download(&client, &server, ADMIN, "", &body).0, 404);
        if index_scans(&replica.url()) > before {
            break;
        }
        assert!(Instant::now() < deadline, "the replica never took reads again");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(!server.log().contains("panicked"), "{}", server.log());
}

#[test]
fn a_database_stopped_and_started_under_a_running_server_gives_503s_then_answers_again() {
    let _beside_others = QUIET.read().unwrap_or_else(|e| e.into_inner());
    let files = Files::new();
    let cluster = pg::OwnCluster::start();
    files.import(&cluster.url(), "manifest");
    let server = files.serve(&cluster.url(), &[]);
    let client = Client::new();
    let body = r#"{"CertID": 3, "IncludeChain": true}"#;
    let (status, expected) = download(&client, &server, ADMIN, "", body);
    assert_eq!(status, 200);

    // Calls without pause (bounded: 60 s or 50,000 calls) while the database goes down and up.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let caller = {
        let (client, url, stop, expected) = (client.clone(), server.url(""), stop.clone(), expected.clone());
        std::thread::spawn(move || {
            let started = Instant::now();
            let (mut ok, mut unavailable) = (0, 0);
            for _ in 0..50_000 {
                if stop.load(std::sync::atomic::Ordering::Relaxed) || started.elapsed() > Duration::from_secs(60) {
                    break;
                }
                let response = client
                    .post(format!("{url}/KeyfactorAPI/Certificates/Download"))
                    .bearer_auth(ADMIN)
                    .header("x-certificateformat", "PEM")
                    .body(body)
                    .send()
                    .unwrap();
                let status = response.status().as_u16();
                let text = response.text().unwrap();
                match status {
                    200 => {
                        assert_eq!(text, expected, "a 200 with another answer");
                        ok += 1;
                    }
                    503 => {
                        assert!(text.contains("StoreUnavailable"), "{text}");
                        unavailable += 1;
                    }
                    other => panic!("{other} {text}"),
                }
            }
            (ok, unavailable)
        })
    };

    std::thread::sleep(Duration::from_millis(300));
    cluster.stop_server();
    let stopped = Instant::now();
    let health = || {
        let response = client.get(server.url("/healthz")).send().unwrap();
        (response.status().as_u16(), response.text().unwrap())
    };
    let down = until(TTL + SLACK, "/healthz with the database down", health, 503);
    until(
        TTL + SLACK,
        "Download with the database down",
        || download(&client, &server, ADMIN, "", body),
        503,
    );
    eprintln!("503 {down:?} after the stop (bound: the cache TTL, {TTL:?})");
    std::thread::sleep(Duration::from_millis(500));

    cluster.start_server();
    let up = until(Duration::from_secs(10), "/healthz with the database back", health, 200);
    until(
        Duration::from_secs(10),
        "Download with the database back",
        || download(&client, &server, ADMIN, "", body),
        200,
    );
    eprintln!("healthy {up:?} after the start (down {:?} in all)", stopped.elapsed());
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (ok, unavailable) = caller.join().unwrap();
    assert!(ok > 0 && unavailable > 0, "{ok} answers, {unavailable} 503s");
    assert_eq!(download(&client, &server, ADMIN, "", body), (200, expected));
    assert!(!server.log().contains("panicked"), "{}", server.log());
}

/// One keep-alive HTTP/1.1 connection, written and read by hand so that
/// the client adds as little time and noise as it can.
struct RawClient {
    stream: std::net::TcpStream,
    buffer: Vec<u8>,
}

impl RawClient {
    fn connect(server: &Server) -> Self {
        let stream = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        stream.set_nodelay(true).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        RawClient {
            stream,
            buffer: Vec::new(),
        }
    }

    /// The bytes of a Download of `body` by the scoped caller.
    fn request(body: &str) -> Vec<u8> {
        format!(
            "POST /KeyfactorAPI/Certificates/Download?collectionId=5 HTTP/1.1\r\nHost: localhost\r\n\
             Authorization: Bearer {SCOPED}\r\nx-certificateformat: PEM\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    /// Sends `request`; the time until the whole answer is read (µs) and the answer.
    fn call(&mut self, request: &[u8]) -> (f64, Vec<u8>) {
        use std::io::{Read, Write};
        let started = Instant::now();
        self.stream.write_all(request).unwrap();
        loop {
            if let Some(end) = self.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buffer[..end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .unwrap()
                    .trim()
                    .parse()
                    .unwrap();
                if self.buffer.len() >= end + 4 + length {
                    let took = started.elapsed().as_secs_f64() * 1e6;
                    let answer: Vec<u8> = self.buffer.drain(..end + 4 + length).collect();
                    return (took, answer);
                }
            }
            let mut chunk = [0u8; 16384];
            let read = match self.stream.read(&mut chunk) {
                // A signal (another test's child exiting) interrupted the wait.
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                read => read.unwrap(),
            };
            assert!(read > 0, "the server closed the connection");
            self.buffer.extend_from_slice(&chunk[..read]);
        }
    }
}

/// The statistics of `pairs` (first, second) of times in µs: the sign
/// test's z of the paired differences (how many pairs the second call
/// was slower in, against half; robust to the slow outliers of a shared
/// machine), their median, and the z of their mean after leaving out the
/// pairs in which either call is among the slowest tenth.
fn paired_statistics(pairs: &[(f64, f64)]) -> (f64, f64, f64) {
    let differences: Vec<f64> = pairs.iter().map(|&(a, b)| b - a).collect();
    let slower = differences.iter().filter(|&&d| d > 0.0).count() as f64;
    let faster = differences.iter().filter(|&&d| d < 0.0).count() as f64;
    let sign_z = (slower - faster) / (slower + faster).max(1.0).sqrt();
    let mut sorted = differences.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let mut slowest: Vec<f64> = pairs.iter().map(|&(a, b)| a.max(b)).collect();
    slowest.sort_by(f64::total_cmp);
    let cut = slowest[slowest.len() * 9 / 10];
    let kept: Vec<f64> = pairs
        .iter()
        .filter(|&&(a, b)| a.max(b) < cut)
        .map(|&(a, b)| b - a)
        .collect();
    let n = kept.len() as f64;
    let mean = kept.iter().sum::<f64>() / n;
    let variance = kept.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (sign_z, median, mean / (variance / n).sqrt())
}

/// Times `first` and `second` (Download bodies as the scoped caller, both
/// the same 403) in 400 interleaved pairs, in alternating order; each
/// time is the fastest of 3 calls in a row (as an attacker would take it,
/// to see through the scheduler's noise).
fn timed_pairs(client: &mut RawClient, first: &str, second: &str) -> Vec<(f64, f64)> {
    let (first, second) = (RawClient::request(first), RawClient::request(second));
    let (_, a) = client.call(&first);
    let (_, b) = client.call(&second);
    assert!(a.starts_with(b"HTTP/1.1 403"), "{}", String::from_utf8_lossy(&a));
    let body = |answer: &[u8]| answer.split(|&c| c == b'\n').next_back().unwrap().to_vec();
    assert_eq!(body(&a), body(&b), "the same refusal");
    for _ in 0..50 {
        client.call(&first);
        client.call(&second);
    }
    let mut fastest = |request: &[u8]| (0..3).map(|_| client.call(request).0).fold(f64::MAX, f64::min);
    (0..400)
        .map(|i| {
            if i % 2 == 0 {
                let a = fastest(&first);
                (a, fastest(&second))
            } else {
                let b = fastest(&second);
                (fastest(&first), b)
            }
        })
        .collect()
}

#[test]
fn a_scoped_caller_cannot_tell_by_timing_an_absent_certificate_from_another_collections() {
    let _alone = QUIET.write().unwrap_or_else(|e| e.into_inner());
    let files = Files::new();
    let url = pg::database();
    files.import(&url, "manifest");
    let server = files.serve(&url, &[]);
    let mut client = RawClient::connect(&server);
    let absent_sha1 = "0123456789abcdef0123456789abcdef01234567";
    let comparisons = [
        (
            "by CertID",
            r#"{"CertID": 999}"#.to_owned(),
            r#"{"CertID": 100}"#.to_owned(),
        ),
        (
            "by thumbprint",
            format!(r#"{{"Thumbprint": "{absent_sha1}"}}"#),
            format!(r#"{{"Thumbprint": "{B_SHA1}"}}"#),
        ),
        (
            "control, absent vs absent",
            r#"{"CertID": 999}"#.to_owned(),
            r#"{"CertID": 998}"#.to_owned(),
        ),
    ];
    let mut results = Vec::new();
    for (what, absent, other) in &comparisons {
        let (sign_z, median, mean_z) = paired_statistics(&timed_pairs(&mut client, absent, other));
        results.push((
            format!("{what}: median {median:+.1} µs, sign-test z = {sign_z:.2}, trimmed-mean z = {mean_z:.2}"),
            sign_z,
        ));
    }
    let report: Vec<&str> = results.iter().map(|(line, _)| line.as_str()).collect();
    eprintln!("{}", report.join("\n"));
    for (_, z) in &results {
        assert!(z.abs() < 3.0, "timing tells them apart: {}", report.join("; "));
    }
}
