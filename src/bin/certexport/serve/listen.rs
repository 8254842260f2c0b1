//! Connections: the listening socket, TLS handshakes, HTTP/1.1 and HTTP/2,
//! signals, and the graceful shutdown.
//!
//! `SIGTERM` (or `SIGINT`) closes the listening socket at once, lets every
//! request in flight finish — a key export under way completes and is
//! answered — closes idle connections, and exits when all are done (or
//! after the request timeout and a margin, whatever is left). `SIGHUP`
//! re-reads the callers file; a file that does not read leaves the callers
//! in force, and says why in the log.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{SignalKind, signal};
use tokio_rustls::TlsAcceptor;

use super::routes::{self, App};
use crate::failure::Failure;

/// How long a client may take to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a client may take to send a request's headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// What the shutdown waits beyond the request timeout.
const DRAIN_MARGIN: Duration = Duration::from_secs(5);

/// Serves `app` on `address` until `SIGTERM` or `SIGINT`.
pub(crate) async fn run(
    app: Arc<App>,
    address: SocketAddr,
    tls: Option<TlsAcceptor>,
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
    let router = routes::router(app);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let connection = Connection {
                        builder: builder.clone(),
                        service: TowerToHyperService::new(router.clone()),
                        watcher: graceful.watcher(),
                    };
                    tokio::spawn(connection.serve(stream, tls.clone()));
                }
                Err(e) => {
                    // Out of file descriptors, say: wait a little rather than spin.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        }
    }
    drop(listener);
    tracing::info!(
        connections = graceful.count(),
        "shutting down: finishing requests in flight"
    );
    match tokio::time::timeout(drain, graceful.shutdown()).await {
        Ok(()) => tracing::info!("shut down"),
        Err(_) => tracing::warn!("shut down with connections still open after {drain:?}"),
    }
    Ok(())
}

/// One accepted connection.
struct Connection {
    builder: auto::Builder<TokioExecutor>,
    service: TowerToHyperService<axum::Router>,
    watcher: Watcher,
}

impl Connection {
    async fn serve(self, stream: TcpStream, tls: Option<TlsAcceptor>) {
        // Answers are small and written whole: send them without waiting.
        let _ = stream.set_nodelay(true);
        match tls {
            None => self.serve_http(stream).await,
            Some(acceptor) => match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(stream)) => self.serve_http(stream).await,
                // A failed or slow handshake is the client's problem, and common
                // (scanners, clients that do not trust the certificate).
                Ok(Err(e)) => tracing::debug!("TLS handshake failed: {e}"),
                Err(_) => tracing::debug!("TLS handshake timed out"),
            },
        }
    }

    async fn serve_http<S>(self, stream: S)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let connection = self.builder.serve_connection(TokioIo::new(stream), self.service);
        if let Err(e) = self.watcher.watch(connection.into_owned()).await {
            tracing::debug!("connection closed with an error: {e}");
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
