//! `certexport serve` under hostile clients: connections that never finish
//! a request, connection floods, bodies sent before (or instead of)
//! credentials, failed-login floods, duplicated fields, parameters and
//! headers. The real binary on loopback; the hostile clients are raw TCP
//! and TLS (rustls through tokio-rustls, trusting the test CA) writing
//! HTTP/1.1 and HTTP/2 frames by hand, as an attacker's tools would, and
//! reqwest and curl where a well-behaved client is what is wanted.
//!
//! Floods come from several loopback addresses (127.0.0.0/8 is all this
//! machine's), so that the per-peer cap and the per-peer back-off can be
//! told from the server-wide ones. Every loop here is bounded in count and
//! every wait in time.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used)]

mod common;
#[path = "common/serve.rs"]
mod serve_common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use serve_common::{ADMIN_TOKEN, ALICE_PASSWORD, Server, TestPki, callers, path};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::TlsConnector;

/// A server over the manifest store (TLS unless `plain`) and its test CA.
struct Fixture {
    pki: TestPki,
    client: Client,
    server: Server,
    _dir: tempfile::TempDir,
}

impl Fixture {
    fn start(extra: &[&str]) -> Self {
        Self::start_with(&[], false, extra)
    }

    fn start_with(wrapper: &[&str], plain: bool, extra: &[&str]) -> Self {
        let pki = TestPki::new();
        let client = if plain { Client::new() } else { pki.client() };
        let dir = common::tempdir();
        let callers = common::write(dir.path(), "callers.json", callers().as_bytes());
        let mut args = vec![
            "--store".to_owned(),
            path(&common::data("manifest")),
            "--callers".to_owned(),
            path(&callers),
        ];
        if !plain {
            args.extend(pki.flags());
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let server = Server::start_under(wrapper, &args, &client);
        Self {
            pki,
            client,
            server,
            _dir: dir,
        }
    }

    fn post(&self, path: &str) -> RequestBuilder {
        self.client.post(self.server.url(path))
    }

    fn metric(&self, name: &str, labels: &str) -> f64 {
        self.server.metric(&self.client, name, labels)
    }

    /// A TLS client trusting the test CA, offering HTTP/2 and HTTP/1.1.
    fn connector(&self) -> TlsConnector {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(self.pki.ca()).unwrap() {
            roots.add(cert.unwrap()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        TlsConnector::from(Arc::new(config))
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn loopback(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, last)
}

/// A TCP connection to the server from `from`.
async fn connect(port: u16, from: Ipv4Addr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(from.into(), 0)).unwrap();
    socket
        .connect(SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port))
        .await
        .unwrap()
}

type Tls = tokio_rustls::client::TlsStream<TcpStream>;

async fn tls(connector: &TlsConnector, port: u16, from: Ipv4Addr) -> Tls {
    let tcp = connect(port, from).await;
    connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap()
}

/// Whether the server closes `stream` within `limit` (whatever it sends
/// before: HTTP/2 settings, a GOAWAY). A reset or a TLS stream cut without
/// `close_notify` is closed too.
async fn closed_within<S: AsyncRead + Unpin>(stream: &mut S, limit: Duration) -> bool {
    let mut buffer = [0u8; 4096];
    tokio::time::timeout(limit, async {
        while let Ok(n) = stream.read(&mut buffer).await {
            if n == 0 {
                return;
            }
        }
    })
    .await
    .is_ok()
}

/// Reads an HTTP/1.1 answer's head (and its body, when `Content-Length`
/// says how long it is), waiting at most `limit`; what came, as text.
async fn http1_answer<S: AsyncRead + Unpin>(stream: &mut S, limit: Duration) -> String {
    let mut got = Vec::new();
    let mut buffer = [0u8; 4096];
    let _ = tokio::time::timeout(limit, async {
        loop {
            let text = String::from_utf8_lossy(&got).into_owned();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length: ")
                            .map(str::to_owned)
                    })
                    .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                let interim = text.starts_with("HTTP/1.1 1");
                if interim || got.len() >= end + 4 + length {
                    return;
                }
            }
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    String::from_utf8_lossy(&got).into_owned()
}

/// `GET /healthz` over an open HTTP/1.1 connection; the status.
async fn healthz<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S) -> Option<u16> {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .ok()?;
    let answer = http1_answer(stream, Duration::from_secs(10)).await;
    answer.get(9..12)?.parse().ok()
}

// HTTP/2 frames, written by hand.

const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const SETTINGS: u8 = 0x4;
const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const ACK: u8 = 0x1;

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let length = u32::try_from(payload.len()).unwrap().to_be_bytes();
    let mut out = length[1..].to_vec();
    out.extend([kind, flags]);
    out.extend(stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// An HPACK literal header field without indexing, by static-table name index.
fn literal(name_index: u8, value: &str) -> Vec<u8> {
    let mut out = if name_index < 15 {
        vec![name_index]
    } else {
        vec![0x0f, name_index - 15]
    };
    out.push(u8::try_from(value.len()).unwrap());
    out.extend_from_slice(value.as_bytes());
    out
}

/// The header block of a request: `:method` POST (0x83) or GET (0x82),
/// `:scheme` https (0x87), `:path`, `:authority` localhost, and the
/// `content-length` when given.
fn request_block(post: bool, path: &str, content_length: Option<usize>) -> Vec<u8> {
    let mut block = vec![if post { 0x83 } else { 0x82 }, 0x87];
    block.extend(literal(4, path));
    block.extend(literal(1, "localhost"));
    if let Some(length) = content_length {
        block.extend(literal(28, &length.to_string()));
    }
    block
}

/// Reads frames until every one of `streams` has ended (or `limit`
/// passes), acknowledging the server's settings; gives each stream's DATA.
async fn h2_answers<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    streams: &[u32],
    limit: Duration,
) -> Vec<(u32, String)> {
    let mut bodies: Vec<(u32, String, bool)> = streams.iter().map(|&s| (s, String::new(), false)).collect();
    let _ = tokio::time::timeout(limit, async {
        loop {
            if bodies.iter().all(|(_, _, ended)| *ended) {
                return;
            }
            let mut head = [0u8; 9];
            if stream.read_exact(&mut head).await.is_err() {
                return;
            }
            let length = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
            let (kind, flags) = (head[3], head[4]);
            let id = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
            let mut payload = vec![0u8; length];
            if stream.read_exact(&mut payload).await.is_err() {
                return;
            }
            if kind == SETTINGS && flags & ACK == 0 {
                let _ = stream.write_all(&frame(SETTINGS, ACK, 0, &[])).await;
            }
            if let Some(entry) = bodies.iter_mut().find(|(s, _, _)| *s == id) {
                if kind == DATA {
                    entry.1.push_str(&String::from_utf8_lossy(&payload));
                }
                if (kind == DATA || kind == HEADERS) && flags & END_STREAM != 0 {
                    entry.2 = true;
                }
            }
        }
    })
    .await;
    bodies
        .into_iter()
        .filter(|(_, _, ended)| *ended)
        .map(|(s, body, _)| (s, body))
        .collect()
}

// 1. Connections that never finish a request.

#[test]
fn connections_that_never_finish_a_request_are_closed_at_their_deadline() {
    // The deadline is 2 s, and a connection asked to close is dropped 2 s
    // later at the latest; 8 s is ample, and far from "never".
    let limit = Duration::from_secs(8);
    let f = Fixture::start(&["--header-timeout", "2", "--handshake-timeout", "2"]);
    let plain = Fixture::start_with(&[], true, &["--header-timeout", "2"]);
    let (tls_port, plain_port) = (f.server.port, plain.server.port);
    let connector = f.connector();
    let rt = runtime();
    let results: Vec<(&str, bool)> = rt.block_on(async {
        let mut preface = H2_PREFACE.to_vec();
        preface.extend(frame(SETTINGS, 0, 0, &[]));
        // A HEADERS frame whose block goes on in a CONTINUATION never sent.
        let mut open_headers = preface.clone();
        open_headers.extend(frame(HEADERS, END_STREAM, 1, &[0x82, 0x87]));
        let tls_cases: Vec<(&'static str, Option<Vec<u8>>)> = vec![
            ("TLS: TCP only, no handshake", None),
            ("TLS: handshake, then nothing", Some(Vec::new())),
            ("TLS: handshake, then `P`", Some(b"P".to_vec())),
            ("TLS: HTTP/2 preface and SETTINGS, no stream", Some(preface.clone())),
            ("TLS: HTTP/2 HEADERS without END_HEADERS", Some(open_headers.clone())),
            (
                "TLS: HTTP/1.1 headers never finished",
                Some(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n".to_vec()),
            ),
        ];
        let plain_cases: Vec<(&'static str, Vec<u8>)> = vec![
            ("plain: nothing", Vec::new()),
            ("plain: `P`", b"P".to_vec()),
            ("plain: HTTP/2 preface and SETTINGS, no stream", preface.clone()),
            ("plain: HTTP/2 HEADERS without END_HEADERS", open_headers.clone()),
        ];
        let mut tasks = Vec::new();
        for (case, bytes) in tls_cases {
            let connector = connector.clone();
            tasks.push(tokio::spawn(async move {
                let closed = match bytes {
                    None => closed_within(&mut connect(tls_port, loopback(1)).await, limit).await,
                    Some(bytes) => {
                        let mut stream = tls(&connector, tls_port, loopback(1)).await;
                        stream.write_all(&bytes).await.unwrap();
                        stream.flush().await.unwrap();
                        closed_within(&mut stream, limit).await
                    }
                };
                (case, closed)
            }));
        }
        for (case, bytes) in plain_cases {
            tasks.push(tokio::spawn(async move {
                let mut stream = connect(plain_port, loopback(1)).await;
                stream.write_all(&bytes).await.unwrap();
                (case, closed_within(&mut stream, limit).await)
            }));
        }
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.unwrap());
        }
        results
    });
    for (case, closed) in &results {
        assert!(closed, "{case}: still open after {limit:?}");
    }
    assert!(f.metric("certexport_connections_timed_out_total", "phase=\"handshake\"") >= 1.0);
    assert!(f.metric("certexport_connections_timed_out_total", "phase=\"first_request\"") >= 4.0);
    assert!(plain.metric("certexport_connections_timed_out_total", "phase=\"first_request\"") >= 4.0);
}

#[test]
fn idle_keep_alive_connections_are_closed_over_http1_and_http2() {
    let limit = Duration::from_secs(9);
    let f = Fixture::start(&["--idle-timeout", "3"]);
    let port = f.server.port;
    let connector = f.connector();
    let rt = runtime();
    rt.block_on(async {
        // HTTP/1.1: one answer, then silence. (The server tells the
        // protocol from the bytes, whatever ALPN chose.)
        let mut http1 = tls(&connector, port, loopback(1)).await;
        assert_eq!(healthz(&mut http1).await, Some(200));
        assert!(closed_within(&mut http1, limit).await, "HTTP/1.1 still open");

        // HTTP/2: one stream answered, then silence.
        let mut http2 = tls(&connector, port, loopback(1)).await;
        let mut opening = H2_PREFACE.to_vec();
        opening.extend(frame(SETTINGS, 0, 0, &[]));
        opening.extend(frame(
            HEADERS,
            END_HEADERS | END_STREAM,
            1,
            &request_block(false, "/healthz", None),
        ));
        http2.write_all(&opening).await.unwrap();
        let answers = h2_answers(&mut http2, &[1], Duration::from_secs(10)).await;
        assert_eq!(answers, [(1, "ok\n".to_owned())]);
        assert!(closed_within(&mut http2, limit).await, "HTTP/2 still open");
    });
    assert!(f.metric("certexport_connections_timed_out_total", "phase=\"idle\"") >= 2.0);
}

// 2. Connection floods.

/// Opens `count` silent connections from each of `peers`, all at once;
/// gives how many the server closed at once (over a cap) and those it keeps.
async fn flood(port: u16, peers: &[Ipv4Addr], count: usize) -> (usize, Vec<TcpStream>) {
    let mut streams = Vec::new();
    for &peer in peers {
        for _ in 0..count {
            streams.push(connect(port, peer).await);
        }
    }
    let total = streams.len();
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|mut stream| {
            tokio::spawn(async move {
                let mut byte = [0u8; 1];
                // Closed at accept: at once; 2 s leaves room for a loaded machine.
                match tokio::time::timeout(Duration::from_secs(2), stream.read(&mut byte)).await {
                    Err(_) => Some(stream),
                    Ok(_) => None,
                }
            })
        })
        .collect();
    let mut held = Vec::new();
    for task in tasks {
        if let Some(stream) = task.await.unwrap() {
            held.push(stream);
        }
    }
    (total - held.len(), held)
}

#[test]
fn a_connection_flood_at_the_caps_leaves_the_server_answering() {
    let f = Fixture::start(&[
        "--max-connections",
        "24",
        "--max-connections-per-peer",
        "8",
        "--header-timeout",
        "12",
    ]);
    let port = f.server.port;
    let connector = f.connector();
    let rt = runtime();
    rt.block_on(async {
        // A client that connected before the flood.
        let mut early = tls(&connector, port, loopback(2)).await;
        assert_eq!(healthz(&mut early).await, Some(200));

        // 100 silent connections from one peer: its cap holds 8, the rest
        // are closed at accept; another peer is still served.
        let (refused, held_one) = flood(port, &[loopback(11)], 100).await;
        assert_eq!((refused, held_one.len()), (92, 8));
        let mut other = tls(&connector, port, loopback(3)).await;
        assert_eq!(healthz(&mut other).await, Some(200));
        drop(other);

        // Three more peers fill the server: a new connection is closed at
        // once, and the connection it had keeps being served.
        let mut held = held_one;
        held.extend(flood(port, &[loopback(4), loopback(5), loopback(6)], 8).await.1);
        let mut late = connect(port, loopback(7)).await;
        assert!(
            closed_within(&mut late, Duration::from_secs(2)).await,
            "a full server must refuse"
        );
        assert_eq!(healthz(&mut early).await, Some(200));

        // The silent ones reach their deadline and go; new connections are served again.
        for mut stream in held {
            assert!(closed_within(&mut stream, Duration::from_secs(20)).await);
        }
        let mut after = tls(&connector, port, loopback(7)).await;
        assert_eq!(healthz(&mut after).await, Some(200));
    });
    assert!(f.metric("certexport_connections_refused_total", "reason=\"peer_full\"") >= 92.0);
    assert!(f.metric("certexport_connections_refused_total", "reason=\"server_full\"") >= 1.0);
    assert!(!f.server.log().contains("accept failed"), "{}", f.server.log());
}

#[test]
fn under_a_low_descriptor_limit_the_cap_follows_it_and_accept_never_fails() {
    // 128 descriptors, soft and hard, as in the report: the server caps
    // its connections below what the limit allows and says so.
    let f = Fixture::start_with(&["prlimit", "--nofile=128:128", "--"], false, &[]);
    let port = f.server.port;
    let connector = f.connector();
    let log = f.server.log();
    assert!(log.contains("lowered to what the descriptor limit allows"), "{log}");
    let rt = runtime();
    rt.block_on(async {
        let mut early = tls(&connector, port, loopback(2)).await;
        // 150 silent connections from 30 peers: more than the descriptors.
        let peers: Vec<Ipv4Addr> = (10..40).map(loopback).collect();
        let (refused, held) = flood(port, &peers, 5).await;
        assert!(
            refused > 0 && !held.is_empty(),
            "refused {refused}, held {}\n{}",
            held.len(),
            f.server.log()
        );
        assert_eq!(healthz(&mut early).await, Some(200));
    });
    let log = f.server.log();
    assert!(!log.contains("Too many open files"), "{log}");
}

// 3. Bodies before authentication.

#[test]
fn a_request_without_credentials_is_refused_before_its_body_is_read() {
    let f = Fixture::start(&[]);
    let port = f.server.port;
    let connector = f.connector();
    let rt = runtime();
    rt.block_on(async {
        // HTTP/1.1, body announced, never sent: 401 at once, no 100 Continue.
        for expect in ["", "Expect: 100-continue\r\n"] {
            let mut stream = tls(&connector, port, loopback(1)).await;
            let head = format!(
                "POST /KeyfactorAPI/Certificates/Download HTTP/1.1\r\nHost: localhost\r\n\
                 Content-Type: application/json\r\nContent-Length: 1000\r\n{expect}\r\n"
            );
            stream.write_all(head.as_bytes()).await.unwrap();
            let answer = http1_answer(&mut stream, Duration::from_secs(10)).await;
            assert!(answer.starts_with("HTTP/1.1 401 "), "{expect:?}: {answer:?}");
            assert!(answer.contains("\"ErrorCode\":\"Unauthorized\""), "{answer}");
        }
        // A caller with credentials gets 100 Continue, then sends the body.
        let mut stream = tls(&connector, port, loopback(1)).await;
        let body = r#"{"CertID": 3}"#;
        let head = format!(
            "POST /KeyfactorAPI/Certificates/Download HTTP/1.1\r\nHost: localhost\r\n\
             Authorization: Bearer {ADMIN_TOKEN}\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let interim = http1_answer(&mut stream, Duration::from_secs(10)).await;
        assert!(interim.starts_with("HTTP/1.1 100 Continue"), "{interim:?}");
        stream.write_all(body.as_bytes()).await.unwrap();
        let answer = http1_answer(&mut stream, Duration::from_secs(10)).await;
        let answer = answer.trim_start_matches(&interim);
        assert!(answer.contains("HTTP/1.1 200 "), "{answer:?}");

        // HTTP/2: 20 streams, each with headers and 3,000 bytes of a 60 KiB
        // body (all within the connection's first flow-control window),
        // never ended: each is answered 401 at once, none waits for its body.
        let mut stream = tls(&connector, port, loopback(1)).await;
        let mut bytes = H2_PREFACE.to_vec();
        bytes.extend(frame(SETTINGS, 0, 0, &[]));
        let streams: Vec<u32> = (0..20).map(|i| 1 + 2 * i).collect();
        for &id in &streams {
            let block = request_block(true, "/KeyfactorAPI/Certificates/Download", Some(60 * 1024));
            bytes.extend(frame(HEADERS, END_HEADERS, id, &block));
            bytes.extend(frame(DATA, 0, id, &[b' '; 3_000]));
        }
        stream.write_all(&bytes).await.unwrap();
        let answers = h2_answers(&mut stream, &streams, Duration::from_secs(10)).await;
        assert_eq!(answers.len(), streams.len(), "{answers:?}");
        for (id, body) in answers {
            assert!(body.contains("\"ErrorCode\":\"Unauthorized\""), "stream {id}: {body}");
        }
    });
}

#[test]
fn a_slow_body_of_a_caller_is_408_at_the_body_deadline() {
    let f = Fixture::start(&["--body-timeout", "2"]);
    let port = f.server.port;
    let connector = f.connector();
    runtime().block_on(async {
        let mut stream = tls(&connector, port, loopback(1)).await;
        let head = format!(
            "POST /KeyfactorAPI/Certificates/Download HTTP/1.1\r\nHost: localhost\r\n\
             Authorization: Bearer {ADMIN_TOKEN}\r\nContent-Length: 100\r\n\r\n{{\"CertID\""
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let answer = http1_answer(&mut stream, Duration::from_secs(10)).await;
        assert!(answer.starts_with("HTTP/1.1 408 "), "{answer:?}");
    });
}

// 4. Failed logins: memory and back-off.

/// The server's resident memory, in KiB (`VmRSS` of /proc/PID/status).
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// The bound on the server's memory after the failed-login flood: the
/// argon2 buffers (one of 19 MiB per core) and everything else.
const RSS_BOUND_MIB: u64 = 128;

#[test]
fn memory_stays_flat_through_300_failed_logins() {
    let f = Fixture::start(&[]);
    let before = rss_kib(f.server.pid());
    // 300 Basic logins with random names and passwords over 32
    // connections from 32 peers (10 or fewer each, under the per-peer
    // back-off): every one costs a full argon2 check.
    let threads: Vec<_> = (0..32u8)
        .map(|i| {
            let ca = reqwest::Certificate::from_pem(&std::fs::read(f.pki.ca()).unwrap()).unwrap();
            let client = Client::builder()
                .use_rustls_tls()
                .add_root_certificate(ca)
                .local_address(IpAddr::V4(loopback(100 + i)))
                .timeout(Duration::from_secs(300))
                .build()
                .unwrap();
            let url = f.server.url("/KeyfactorAPI/Certificates/Download");
            std::thread::spawn(move || {
                let mut statuses = Vec::new();
                for j in 0..(300 / 32 + usize::from(usize::from(i) < 300 % 32)) {
                    let response = client
                        .post(&url)
                        .basic_auth(format!("guess-{i}-{j}"), Some(format!("password {i} {j}")))
                        .body(r#"{"CertID": 3}"#)
                        .send()
                        .unwrap();
                    statuses.push(response.status().as_u16());
                }
                statuses
            })
        })
        .collect();
    let statuses: Vec<u16> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    assert_eq!(statuses.len(), 300);
    assert!(statuses.iter().all(|&s| s == 401), "{statuses:?}");
    let after = rss_kib(f.server.pid());
    eprintln!("RSS before {before} KiB, after 300 failed logins {after} KiB");
    assert!(
        after < RSS_BOUND_MIB * 1024,
        "RSS {after} KiB after 300 failed logins, over {RSS_BOUND_MIB} MiB"
    );
}

#[test]
fn failed_logins_back_off_per_peer_and_per_name_with_429() {
    let f = Fixture::start(&[]);
    let client_from = |last: u8| {
        let ca = reqwest::Certificate::from_pem(&std::fs::read(f.pki.ca()).unwrap()).unwrap();
        Client::builder()
            .use_rustls_tls()
            .add_root_certificate(ca)
            .local_address(IpAddr::V4(loopback(last)))
            .build()
            .unwrap()
    };
    let url = f.server.url("/KeyfactorAPI/Certificates/Download");
    let ask = |client: &Client, auth: &dyn Fn(RequestBuilder) -> RequestBuilder| {
        let response = auth(client.post(&url)).body(r#"{"CertID": 3}"#).send().unwrap();
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
        (response.status().as_u16(), retry_after)
    };

    // Per peer: 20 failures are free, the 21st shuts the peer out.
    let peer = client_from(50);
    for _ in 0..21 {
        assert_eq!(ask(&peer, &|r| r.bearer_auth("not-a-token")), (401, None));
    }
    // Shut out: even the right token waits, without being checked.
    let (status, retry_after) = ask(&peer, &|r| r.bearer_auth(ADMIN_TOKEN));
    assert_eq!(status, 429);
    assert!(matches!(retry_after, Some(1..=2)), "{retry_after:?}");
    // Another peer is not.
    assert_eq!(ask(&client_from(51), &|r| r.bearer_auth(ADMIN_TOKEN)).0, 200);

    // Per name: 10 wrong passwords for alice from 10 peers are free, the
    // 11th shuts the name out, from any peer, her right password too.
    for i in 0..11 {
        let (status, _) = ask(&client_from(60 + i), &|r| r.basic_auth("alice", Some("wrong")));
        assert_eq!(status, 401);
    }
    let fresh = client_from(80);
    let (status, retry_after) = ask(&fresh, &|r| r.basic_auth("alice", Some(ALICE_PASSWORD)));
    assert_eq!(status, 429);
    let wait = retry_after.unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    std::thread::sleep(Duration::from_secs(wait) + Duration::from_millis(200));
    let (status, _) = ask(&fresh, &|r| {
        r.basic_auth("alice", Some(ALICE_PASSWORD))
            .query(&[("collectionId", "5")])
    });
    assert_eq!(status, 200);
    assert!(f.metric("certexport_errors_total", "kind=\"TooManyFailures\"") >= 2.0);
}

// 5. Duplicates: JSON fields, query parameters, credential and Host headers.

#[test]
fn a_json_field_given_twice_is_400_naming_it() {
    let f = Fixture::start(&[]);
    for (call, body, field) in [
        ("Download", r#"{"CertID": 100, "CertID": 3}"#, "CertID"),
        ("Download", r#"{"CertID": 3, "certID": 100}"#, "CertID"),
        (
            "Recover",
            r#"{"CertID": 3, "Password": "first one", "Password": "second one"}"#,
            "Password",
        ),
    ] {
        let response = f
            .post(&format!("/KeyfactorAPI/Certificates/{call}"))
            .bearer_auth(ADMIN_TOKEN)
            .body(body)
            .send()
            .unwrap();
        let status = response.status().as_u16();
        let answer: Value = serde_json::from_str(&response.text().unwrap()).unwrap();
        assert_eq!(
            (status, answer["ErrorCode"].as_str()),
            (400, Some("InvalidRequest")),
            "{body}"
        );
        let message = answer["Message"].as_str().unwrap();
        assert!(message.contains(&format!("{field} is given twice")), "{message}");
        assert!(!message.contains("one"), "no value is quoted: {message}");
    }
    // AppViewX answers with its seed's code for a bad field.
    let response = f
        .post("/avxapi/certificate/privatekey/download")
        .header("sessionId", ADMIN_TOKEN)
        .body(r#"{"uuId": "c-0001", "uuId": "60b8d6c4e5c7a920d4f4f1f4", "password": "pw123456"}"#)
        .send()
        .unwrap();
    assert_eq!(response.status(), 400);
    let answer: Value = serde_json::from_str(&response.text().unwrap()).unwrap();
    assert_eq!(answer["appStatusCode"], "MANDATORY_FIELD_MISSING");
}

#[test]
fn repeated_query_parameters_credential_headers_and_a_missing_host_are_400() {
    let f = Fixture::start(&[]);
    let code = |response: reqwest::blocking::Response| {
        let status = response.status().as_u16();
        let answer: Value = serde_json::from_str(&response.text().unwrap()).unwrap();
        (status, answer["ErrorCode"].as_str().map(str::to_owned))
    };
    let response = f
        .post("/KeyfactorAPI/Certificates/Download?collectionId=6&CollectionId=5")
        .basic_auth("alice", Some(ALICE_PASSWORD))
        .body(r#"{"CertID": 3}"#)
        .send()
        .unwrap();
    assert_eq!(code(response), (400, Some("InvalidRequest".into())));
    let response = f
        .post("/KeyfactorAPI/Certificates/Download")
        .header("Authorization", "Bearer not-a-token")
        .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
        .body(r#"{"CertID": 3}"#)
        .send()
        .unwrap();
    assert_eq!(code(response), (400, Some("InvalidRequest".into())));

    let response = f
        .post("/avxapi/certificate/privatekey/download")
        .header("sessionId", "not-a-token")
        .header("sessionId", ADMIN_TOKEN)
        .body(format!(
            r#"{{"uuId": "{}", "password": "pw123456"}}"#,
            "60b8d6c4e5c7a920d4f4f1f4"
        ))
        .send()
        .unwrap();
    assert_eq!(response.status(), 400);
    let answer: Value = serde_json::from_str(&response.text().unwrap()).unwrap();
    assert_eq!(answer["appStatusCode"], "MANDATORY_FIELD_MISSING");

    let port = f.server.port;
    let connector = f.connector();
    runtime().block_on(async {
        let body = r#"{"CertID": 3}"#;
        for (hosts, want) in [
            ("", "400"),
            ("Host: localhost\r\nHost: evil.example\r\n", "400"),
            ("Host: localhost\r\n", "200"),
        ] {
            let mut stream = tls(&connector, port, loopback(1)).await;
            let request = format!(
                "POST /KeyfactorAPI/Certificates/Download HTTP/1.1\r\n{hosts}\
                 Authorization: Bearer {ADMIN_TOKEN}\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(request.as_bytes()).await.unwrap();
            let answer = http1_answer(&mut stream, Duration::from_secs(10)).await;
            assert!(
                answer.starts_with(&format!("HTTP/1.1 {want} ")),
                "{hosts:?}: {answer:?}"
            );
        }
    });
}

// 6. /metrics, and what a denial writes to the log.

#[test]
fn metrics_can_be_kept_for_callers_and_a_denial_is_no_error_line() {
    let f = Fixture::start(&["--protect-metrics"]);
    let response = f.client.get(f.server.url("/metrics")).send().unwrap();
    assert_eq!(response.status(), 401);
    let response = f
        .client
        .get(f.server.url("/metrics"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().unwrap().contains("certexport_connections_open "));
    assert_eq!(f.client.get(f.server.url("/healthz")).send().unwrap().status(), 200);

    // alice may not have b-0001 (collection 6): AppViewX answers a denial
    // 500 CERT-GEN-0027, but the server did not fail: no ERROR line.
    for _ in 0..3 {
        let response = f
            .post("/avxapi/certificate/privatekey/download")
            .header("username", "alice")
            .header("password", ALICE_PASSWORD)
            .body(r#"{"uuId": "b-0001", "password": "pw123456"}"#)
            .send()
            .unwrap();
        assert_eq!(response.status(), 500);
    }
    let log = f.server.log();
    assert!(!log.contains("ERROR"), "{log}");
    assert!(log.contains("outcome=\"refused\""), "the audit line stays: {log}");
}

// 7. A key shared with a certificate of another collection.

#[test]
fn a_refusal_names_no_policy_of_a_certificate_outside_the_callers_scope() {
    // One key, two certificates: "renewed" in collection 7 (no policy),
    // "sibling" in collection 5 under the restricting policy Production.
    let store = common::tempdir();
    let d = store.path();
    let openssl = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(d)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        "renewed.key",
    ]);
    for (name, serial) in [("renewed", "1"), ("sibling", "2")] {
        openssl(&[
            "req",
            "-x509",
            "-new",
            "-key",
            "renewed.key",
            "-subj",
            "/CN=shared.example.com",
            "-set_serial",
            serial,
            "-days",
            "3650",
            "-out",
            &format!("{name}.pem"),
        ]);
    }
    common::write(
        d,
        "certexport-store.json",
        br#"{"certificates": [
            {"file": "renewed.pem", "id": 71, "collections": [7], "uuid": "renewed-1"},
            {"file": "sibling.pem", "id": 72, "collections": [5], "uuid": "sibling-1",
             "key_policy": {"name": "Production", "private_key_access": false}}]}"#,
    );
    let pki = TestPki::new();
    let client = pki.client();
    let dir = common::tempdir();
    let callers_file = common::write(
        dir.path(),
        "callers.json",
        serve_common::callers_json(&[
            (
                "carol",
                serve_common::Credential::Token("carol-token"),
                &[
                    "/certificates/collections/read/7/",
                    "/certificates/collections/private_key/read/7/",
                ],
            ),
            (
                "reader",
                serve_common::Credential::Token("reader-token"),
                &["/certificates/collections/read/7/"],
            ),
            (
                "admin",
                serve_common::Credential::Token("admin-token"),
                &[
                    "/certificates/collections/read/",
                    "/certificates/collections/private_key/read/",
                ],
            ),
        ])
        .as_bytes(),
    );
    let mut args = vec![
        "--store".to_owned(),
        path(d),
        "--callers".to_owned(),
        path(&callers_file),
    ];
    args.extend(pki.flags());
    let server = Server::start(&args, &client);
    let ask = |token: &str, route: &str, body: &str| {
        let response = client
            .post(server.url(route))
            .bearer_auth(token)
            .body(body.to_owned())
            .send()
            .unwrap();
        (response.status().as_u16(), response.text().unwrap())
    };
    let avx = "/avxapi/certificate/privatekey/download";
    let avx_body = r#"{"uuId": "renewed-1", "password": "pw123456"}"#;
    let recover = "/KeyfactorAPI/Certificates/Recover?collectionId=7";
    let recover_body = r#"{"CertID": 71, "Password": "pw123456"}"#;
    for (route, body) in [(avx, avx_body), (recover, recover_body)] {
        // carol may have the renewed certificate and its key's claim, but
        // not see the sibling: she gets what a caller without the key claim gets.
        let refused = ask("carol-token", route, body);
        assert_eq!(refused, ask("reader-token", route, body), "{route}");
        assert!(!refused.1.contains("Production"), "{route}: {refused:?}");
        // A caller who sees every certificate is told the policy.
        let told = ask("admin-token", route, body);
        assert!(told.1.contains("Production"), "{route}: {told:?}");
    }
    assert_eq!(ask("carol-token", avx, avx_body).0, 500);
    assert!(ask("carol-token", recover, recover_body).1.contains("AccessDenied"));
}
