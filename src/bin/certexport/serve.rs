//! `certexport serve` (feature `server`): the reference
//! endpoints over HTTPS for the clients that already call them.
//!
//! - Routes ([`routes`]): Keyfactor's `POST /Certificates/Download` and
//!   `POST /Certificates/Recover`, under `/KeyfactorAPI/` and at the root;
//!   AppViewX's `POST /avxapi/certificate/privatekey/download` (and
//!   `/certificate/privatekey/download`); `GET /healthz`; `GET /metrics`.
//! - Callers ([`callers`], [`auth`]): a JSON file of names, argon2id
//!   password hashes, SHA-256s of tokens and claims, re-read on `SIGHUP`.
//! - Work ([`lanes`]): certificate downloads from memory run on the
//!   request's own task; key exports (and any store that blocks) run on
//!   the blocking pool behind semaphores, so a burst of key exports cannot
//!   starve downloads.
//! - Connections ([`listen`], [`tls`], [`deadlines`], [`connections`]):
//!   rustls, HTTP/1.1 and HTTP/2, a deadline for every phase of a
//!   connection, caps on connections in all and per peer, graceful
//!   shutdown on `SIGTERM`.
//! - Failed logins ([`backoff`], [`argon2_pool`]): back-off per peer and
//!   per name, argon2 in fixed memory.
//! - Records ([`metrics`], [`audit`]): Prometheus counters, and one audit
//!   line per key export that never holds a secret.

mod argon2_pool;
mod audit;
mod auth;
mod backoff;
mod callers;
mod connections;
mod credential_cache;
mod deadlines;
mod lanes;
mod listen;
mod log_limit;
mod metrics;
mod routes;
mod store;
mod tls;

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use certexport::formats::KeyEncryption;
use certexport::options::CspPolicy;
use certexport::{ExportSettings, Exporter};
use clap::Args;

use crate::failure::Failure;

/// The flags of `certexport serve`.
#[derive(Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (`127.0.0.1:8443`, `[::1]:8443`, `localhost:8443`;
    /// port 0 picks a free one). Without --tls-cert only a loopback address.
    #[arg(long, value_name = "ADDR")]
    listen: String,
    #[command(flatten)]
    store: crate::StoreArgs,
    /// The callers file (JSON: names, argon2id password hashes, token SHA-256s, claims); re-read on SIGHUP.
    #[arg(long, value_name = "FILE")]
    callers: PathBuf,
    /// The server's certificate chain (PEM, leaf first). Without it, plain HTTP on loopback only.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The server's private key (PEM: PKCS#8, SEC1 or PKCS#1).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// A CSP name requests may use (repeatable); allows CSPs.
    #[arg(long = "allow-csp", value_name = "NAME")]
    allow_csp: Vec<String>,
    /// Replace every '.' of the CN with '_' in file names.
    #[arg(long)]
    no_periods_in_filename: bool,
    /// Encrypt AppViewX key downloads with the seed sample's legacy scheme
    /// (pbeWithSHAAnd3-KeyTripleDES-CBC) instead of PBES2 AES-256-CBC, for old consumers.
    #[arg(long)]
    avx_legacy_key_encryption: bool,
    /// Key exports that run at once (default: the number of cores less one, at least one).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    key_export_workers: Option<u16>,
    /// The largest request body accepted, in bytes (larger: 413).
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024)]
    max_body_bytes: usize,
    /// Seconds a request may take before it is answered 503.
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    request_timeout: u64,
    /// Seconds a client may take to finish its TLS handshake.
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    handshake_timeout: u64,
    /// Seconds from a connection's start (its TLS handshake done) to its
    /// first request's headers: protocol detection, HTTP/2 preface, headers.
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    header_timeout: u64,
    /// Seconds a connection may stay without a request after an answer
    /// (HTTP/1.1 keep-alive and HTTP/2 alike), the next request's headers included.
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout: u64,
    /// Seconds an authenticated request's body may take to arrive (longer: 408).
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    body_timeout: u64,
    /// Connections held at once; more are closed right after accept
    /// (lowered to what the descriptor limit allows).
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
    /// Connections held at once from one peer (an IPv4 address, an IPv6 /64).
    #[arg(long, value_name = "N", default_value_t = 128, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections_per_peer: u32,
    /// Answer /metrics only to callers of the callers file (Basic or Bearer).
    #[arg(long)]
    protect_metrics: bool,
    /// Log lines as text or as JSON objects (one per line).
    #[arg(long, value_enum, default_value = "text")]
    log_format: audit::LogFormat,
}

/// The server's fixed settings, taken from the flags.
pub(crate) struct Settings {
    /// The key scheme of AppViewX key downloads.
    pub(crate) avx_encryption: KeyEncryption,
    /// The largest request body.
    pub(crate) max_body_bytes: usize,
    /// How long a request may take.
    pub(crate) request_timeout: Duration,
    /// How long an authenticated request's body may take to arrive.
    pub(crate) body_timeout: Duration,
    /// Whether `/metrics` needs a caller's credentials.
    pub(crate) protect_metrics: bool,
}

pub(crate) fn serve(args: &ServeArgs) -> Result<(), Failure> {
    audit::init_logging(args.log_format);
    let address = listen_address(&args.listen)?;
    if args.tls_cert.is_none() && !address.ip().is_loopback() {
        return Err(Failure::Usage(format!(
            "refusing to serve plain HTTP on {address}: without TLS only a loopback address \
             (127.0.0.1, [::1], localhost) is allowed, as plain HTTP is for local use only; \
             give --tls-cert and --tls-key to listen on {address}"
        )));
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(tls::acceptor(cert, key)?),
        _ => None,
    };
    let callers = callers::Callers::load(&args.callers)?;
    let settings = ExportSettings::default()
        .with_periods_in_filenames(!args.no_periods_in_filename)
        .with_csps(CspPolicy::allowing(args.allow_csp.iter().cloned()));
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    // One core stays free of key derivation for everything else (downloads,
    // TLS, health checks); on one core, key exports take turns with them.
    let key_workers = args
        .key_export_workers
        .map_or(cores.saturating_sub(1).max(1), usize::from);
    // Every export that may run at once, and a health check.
    let store_connections = key_workers + lanes::store_calls(cores) + 1;
    let opened = store::open(&args.store, store_connections)?;
    let max_connections = connections::descriptor_budget(args.max_connections as usize, store_connections);
    let connections = connections::Connections::new(max_connections, args.max_connections_per_peer as usize);
    let timeouts = deadlines::Timeouts {
        handshake: Duration::from_secs(args.handshake_timeout),
        first_request: Duration::from_secs(args.header_timeout),
        idle: Duration::from_secs(args.idle_timeout),
    };
    let app = Arc::new(routes::App {
        exporter: Exporter::with_settings(opened.store, settings),
        lanes: lanes::Lanes::new(opened.io, key_workers, cores),
        auth: auth::Authenticator::new(args.callers.clone(), callers, cores)?,
        metrics: metrics::Metrics::default(),
        connections,
        settings: Settings {
            avx_encryption: if args.avx_legacy_key_encryption {
                KeyEncryption::legacy_pkcs12_triple_des()
            } else {
                KeyEncryption::default()
            },
            max_body_bytes: args.max_body_bytes,
            request_timeout: Duration::from_secs(args.request_timeout),
            body_timeout: Duration::from_secs(args.body_timeout),
            protect_metrics: args.protect_metrics,
        },
    });
    // Blocking work is bounded by the lanes' and the password checks'
    // (`cores`) semaphores; the pool never needs more threads than those permits.
    let blocking_threads = key_workers + lanes::store_calls(cores) + cores + 2;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(blocking_threads)
        .thread_name("certexport-serve")
        .build()
        .map_err(|e| Failure::Service(format!("cannot start the runtime: {e}")))?;
    let served = runtime.block_on(listen::run(app, address, tls, timeouts, &opened.description));
    // Work still running after the drain (a request past its timeout) is not waited for.
    runtime.shutdown_timeout(Duration::from_secs(1));
    served
}

/// The one address `--listen` names (the first, if a name resolves to several).
fn listen_address(text: &str) -> Result<SocketAddr, Failure> {
    let bad = |why: String| Failure::Usage(format!("invalid --listen {text:?}: {why}"));
    let mut addresses = text
        .to_socket_addrs()
        .map_err(|e| bad(format!("{e} (give HOST:PORT)")))?;
    addresses.next().ok_or_else(|| bad("it resolves to no address".into()))
}
