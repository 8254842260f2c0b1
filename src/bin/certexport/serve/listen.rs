//! Connections: the listening socket, TLS handshakes, HTTP/1.1 and HTTP/2,
//! signals, and the graceful shutdown.
//!
//! `SIGTERM` (or `SIGINT`) closes the listening socket at once, lets every
//! request in flight finish — a key export under way completes and is
//! answered — closes idle connections, and exits when all are done (or
//! after the request timeout and a margin, whatever is left). `SIGHUP`
//! re-reads the callers file; a file that does not read leaves the callers
//! in force, and says why in the log.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

use super::connections::Admitted;
use super::deadlines::{Activity, CLOSE_GRACE, H2_PING_INTERVAL, H2_PING_TIMEOUT, Timeouts, Tracked};
use super::log_limit::ACCEPT_FAILURES;
use super::routes::{self, App};
use crate::failure::Failure;

/// What the shutdown waits beyond the request timeout.
const DRAIN_MARGIN: Duration = Duration::from_secs(5);

/// HTTP/1.1: the largest request head (request line and headers), in bytes;
/// over it, 431.
pub(crate) const H1_MAX_HEAD: usize = 64 * 1024;

/// HTTP/2: streams a connection may have open at once.
pub(crate) const H2_MAX_STREAMS: u32 = 100;

/// HTTP/2: the flow-control window of a stream, in bytes (the protocol's default).
pub(crate) const H2_STREAM_WINDOW: u32 = 65_535;

/// HTTP/2: the flow-control window of a connection, in bytes: what a
/// connection may have sent and the server not read, all streams together.
pub(crate) const H2_CONNECTION_WINDOW: u32 = 256 * 1024;

/// HTTP/2: the largest header list of a request, in bytes.
pub(crate) const H2_MAX_HEADER_LIST: u32 = 16 * 1024;

/// Serves `app` on `address` until `SIGTERM` or `SIGINT`.
pub(crate) async fn run(
    app: Arc<App>,
    address: SocketAddr,
    tls: Option<TlsAcceptor>,
    timeouts: Timeouts,
    store: &str,
) -> Result<(), Failure> {
    let signal_failure = |e: std::io::Error| Failure::Service(format!("cannot watch signals: {e}"));
    let mut terminate = signal(SignalKind::terminate()).map_err(signal_failure)?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(signal_failure)?;
    let hangup = signal(SignalKind::hangup()).map_err(signal_failure)?;

    let listener = TcpListener::bind(address)
        .await
        .map_err(|e| Failure::Service(format!("cannot listen on {address}: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| Failure::Service(format!("cannot listen on {address}: {e}")))?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    // On stdout, once: scripts and tests that asked for port 0 read the port here.
    println!("certexport serve: listening on {scheme}://{local}");
    tracing::info!(address = %local, scheme, store, "listening");

    tokio::spawn(reload_on_hangup(hangup, Arc::clone(&app)));
    let drain = app.settings.request_timeout + DRAIN_MARGIN;
    let router = routes::router(Arc::clone(&app));
    let builder = Arc::new(builder(&timeouts));
    let (shutdown, shutting_down) = watch::channel(false);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => match app.connections.admit(peer.ip()) {
                    Ok(admitted) => {
                        let connection = Connection {
                            builder: Arc::clone(&builder),
                            service: TowerToHyperService::new(router.clone()),
                            app: Arc::clone(&app),
                            timeouts,
                            drain,
                            peer: peer.ip(),
                            shutdown: shutting_down.clone(),
                            _admitted: admitted,
                        };
                        tokio::spawn(connection.serve(stream, tls.clone()));
                    }
                    // Over a cap: closed at once, before any TLS work.
                    Err(refusal) => {
                        app.metrics.connection_refused(refusal.label());
                        drop(stream);
                    }
                },
                Err(e) => {
                    // Out of file descriptors, say: wait a little rather than spin.
                    if let Some(suppressed) = ACCEPT_FAILURES.allow() {
                        tracing::warn!(suppressed, "accept failed: {e}");
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        }
    }
    drop(listener);
    tracing::info!(
        connections = app.connections.open(),
        "shutting down: finishing requests in flight"
    );
    shutdown.send_replace(true);
    match tokio::time::timeout(drain, app.connections.all_closed()).await {
        Ok(()) => tracing::info!("shut down"),
        Err(_) => tracing::warn!("shut down with connections still open after {drain:?}"),
    }
    Ok(())
}

/// HTTP/1.1 and HTTP/2 with their limits. HTTP/1.1's header timer starts
/// when the connection waits for a request head, so it bounds the idle
/// keep-alive and the next head together.
fn builder(timeouts: &Timeouts) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.idle.max(timeouts.first_request))
        .max_buf_size(H1_MAX_HEAD);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(H2_PING_INTERVAL)
        .keep_alive_timeout(H2_PING_TIMEOUT)
        .max_concurrent_streams(H2_MAX_STREAMS)
        .initial_stream_window_size(H2_STREAM_WINDOW)
        .initial_connection_window_size(H2_CONNECTION_WINDOW)
        .max_header_list_size(H2_MAX_HEADER_LIST);
    builder
}

/// One accepted connection.
struct Connection {
    builder: Arc<auto::Builder<TokioExecutor>>,
    service: TowerToHyperService<axum::Router>,
    app: Arc<App>,
    timeouts: Timeouts,
    drain: Duration,
    peer: IpAddr,
    shutdown: watch::Receiver<bool>,
    /// Its place under the connection caps, freed when it ends.
    _admitted: Admitted,
}

impl Connection {
    async fn serve(self, stream: TcpStream, tls: Option<TlsAcceptor>) {
        // Answers are small and written whole: send them without waiting.
        let _ = stream.set_nodelay(true);
        match tls {
            None => self.serve_http(stream).await,
            Some(acceptor) => match tokio::time::timeout(self.timeouts.handshake, acceptor.accept(stream)).await {
                Ok(Ok(stream)) => self.serve_http(stream).await,
                // A failed or slow handshake is the client's problem, and common
                // (scanners, clients that do not trust the certificate).
                Ok(Err(e)) => tracing::debug!("TLS handshake failed: {e}"),
                Err(_) => {
                    self.app.metrics.connection_timed_out("handshake");
                    tracing::debug!("TLS handshake timed out");
                }
            },
        }
    }

    /// Serves HTTP until the connection ends, is past its deadline (asked
    /// to close, then dropped [`CLOSE_GRACE`] later), or the server shuts
    /// down (asked to close, dropped after the drain).
    async fn serve_http<S>(mut self, stream: S)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let activity = Activity::new();
        let service = Tracked {
            inner: self.service,
            activity: Arc::clone(&activity),
            peer: self.peer,
        };
        let connection = self.builder.serve_connection(TokioIo::new(stream), service);
        tokio::pin!(connection);
        let mut dropped_at: Option<Instant> = None;
        loop {
            let wake = dropped_at.unwrap_or_else(|| {
                activity
                    .deadline(&self.timeouts)
                    .map_or_else(|| Instant::now() + self.timeouts.idle, |(at, _)| at)
            });
            tokio::select! {
                ended = connection.as_mut() => {
                    if let Err(e) = ended {
                        tracing::debug!("connection closed with an error: {e}");
                    }
                    return;
                }
                () = tokio::time::sleep_until(wake) => {
                    if dropped_at.is_some() {
                        tracing::debug!("connection dropped: it did not close in time");
                        return;
                    }
                    if let Some((at, expired)) = activity.deadline(&self.timeouts)
                        && at <= Instant::now()
                    {
                        self.app.metrics.connection_timed_out(expired.label());
                        connection.as_mut().graceful_shutdown();
                        dropped_at = Some(Instant::now() + CLOSE_GRACE);
                    }
                }
                () = activity.changed(), if dropped_at.is_none() => {}
                _ = self.shutdown.changed(), if dropped_at.is_none() => {
                    connection.as_mut().graceful_shutdown();
                    dropped_at = Some(Instant::now() + self.drain);
                }
            }
        }
    }
}

async fn reload_on_hangup(mut hangup: tokio::signal::unix::Signal, app: Arc<App>) {
    while hangup.recv().await.is_some() {
        let reloading = Arc::clone(&app);
        let outcome = tokio::task::spawn_blocking(move || reloading.auth.reload()).await;
        match outcome {
            Ok(Ok(callers)) => {
                app.metrics.reload(true);
                tracing::info!(callers, "callers file re-read");
            }
            Ok(Err(failure)) => {
                app.metrics.reload(false);
                tracing::error!("callers file not re-read, the callers in force stay: {failure}");
            }
            Err(_) => app.metrics.reload(false),
        }
    }
}
