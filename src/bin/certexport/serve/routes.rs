//! The routes and their handlers. Every request body and answer goes
//! through `certexport::wire`; this module only carries them
//! between HTTP and the exporter.
//!
//! | route | call |
//! | --- | --- |
//! | `POST /KeyfactorAPI/Certificates/Download`, `POST /Certificates/Download` | Keyfactor Download: `x-certificateformat` header, `collectionId`/`containerId` query |
//! | `POST /KeyfactorAPI/Certificates/Recover`, `POST /Certificates/Recover` | Keyfactor Recover: the certificate with its key (PFX, PEM or ZIP) |
//! | `GET /KeyfactorAPI/Certificates`, `GET /Certificates` | Keyfactor search: `pq.queryString`, paging, sort, scope; total in `x-total-count` |
//! | `GET /KeyfactorAPI/Certificates/{id}`, `GET /Certificates/{id}` | Keyfactor certificate detail |
//! | `POST /avxapi/certificate/privatekey/download`, `POST /certificate/privatekey/download` | AppViewX key download (`gwsource` query accepted and ignored) |
//! | `GET /healthz` | 200 when the store answers, 503 when it does not |
//! | `GET /metrics` | Prometheus text |
//!
//! Every call authenticates from its headers before a byte of its body is
//! read: without credentials that prove a caller the answer is 401 with
//! `WWW-Authenticate` (429 with `Retry-After` while the peer or the name
//! backs off after failures), the body is never read, buffered or
//! acknowledged (`Expect: 100-continue` gets no `100 Continue`), and
//! nothing else of the request is looked at. A caller's body must then
//! arrive within `--body-timeout` (408) and hold at most
//! `--max-body-bytes` (413).
//!
//! Before any route: an HTTP/1.1 request without exactly one `Host`
//! header is 400, as RFC 9112 requires.

mod query;
mod respond;
mod search;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{CONTENT_LENGTH, HOST};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Version};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use certexport::ids::{CertId, Thumbprint};
use certexport::store::CertificateStore;
use certexport::wire::{self, AvxKeyRequest, Casing, DownloadRequest, RecoverRequest};
use certexport::{ExportArtifact, ExportError, ExportRequest, Exporter};

use super::Settings;
use super::audit::KeyExportRecord;
use super::auth::{self, Authenticator, Credentials, Identity, Refused};
use super::connections::Connections;
use super::deadlines::Peer;
use super::lanes::{Lane, Lanes, WorkFailed};
use super::metrics::{KeyOutcome, Metrics, Route};
use respond::{ErrorKind, Respond};

/// Everything a request needs, shared by all of them.
pub(crate) struct App {
    /// The exporter over the opened store.
    pub(crate) exporter: Exporter<Box<dyn CertificateStore>>,
    /// Where exports run.
    pub(crate) lanes: Lanes,
    /// Who may call.
    pub(crate) auth: Authenticator,
    /// The counters of `/metrics`.
    pub(crate) metrics: Metrics,
    /// The open connections (a gauge of `/metrics`).
    pub(crate) connections: Arc<Connections>,
    /// The fixed settings.
    pub(crate) settings: Settings,
}

/// The router of every route, with the request timeout and the metrics
/// around them.
pub(crate) fn router(app: Arc<App>) -> Router {
    let keyfactor = Router::new()
        .route("/Certificates/Download", post(download))
        .route("/Certificates/Recover", post(recover))
        .route("/Certificates", get(search::search))
        .route("/Certificates/{id}", get(search::detail));
    Router::new()
        .merge(keyfactor.clone())
        .nest("/KeyfactorAPI", keyfactor)
        .route("/avxapi/certificate/privatekey/download", post(avx_key_download))
        .route("/certificate/privatekey/download", post(avx_key_download))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .layer(middleware::from_fn_with_state(Arc::clone(&app), track))
        .with_state(app)
}

/// Times every request, answers 503 when it takes longer than the request
/// timeout, and counts it.
async fn track(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let route = Route::of_path(request.extensions().get::<MatchedPath>().map(MatchedPath::as_str));
    let started = Instant::now();
    let in_flight = app.metrics.started();
    let response = if let Some(refusal) = check_host(&request) {
        refusal
    } else {
        match tokio::time::timeout(app.settings.request_timeout, next.run(request)).await {
            Ok(response) => response,
            Err(_) => respond::timed_out(),
        }
    };
    let status = response.status();
    let kind = response.extensions().get::<ErrorKind>().map(|k| k.0).or_else(|| {
        // Answers made outside the handlers: axum's own refusals.
        match status.as_u16() {
            413 => Some("BodyTooLarge"),
            404 => Some("NoRoute"),
            405 => Some("MethodNotAllowed"),
            400..=599 => Some("Rejected"),
            _ => None,
        }
    });
    drop(in_flight);
    app.metrics.finished(route, status.as_u16(), started.elapsed(), kind);
    response
}

/// Which call a request is, for its credentials and its error answers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Api {
    Keyfactor,
    AppViewX,
}

/// RFC 9112: an HTTP/1.1 request carries exactly one `Host` header
/// (HTTP/2 names its authority in the request itself; HTTP/1.0 may omit it).
fn check_host(request: &Request) -> Option<Response> {
    let hosts = request.headers().get_all(HOST).iter().count();
    match (request.version(), hosts) {
        (_, 2..) => Some(respond::bad_head("the Host header is given twice")),
        (Version::HTTP_11, 0) => Some(respond::bad_head("an HTTP/1.1 request must carry a Host header")),
        _ => None,
    }
}

/// The caller the request's headers prove, or the answer that refuses it:
/// 400 for a credential header given twice, 429 while backing off, 401.
async fn authenticate(app: &App, parts: &Parts, api: Api) -> Result<Identity, Response> {
    let refuse = |refused: Refused| match refused {
        Refused::Ambiguous(header) => respond::ambiguous_credentials(api == Api::AppViewX, header),
        Refused::BackOff(wait) => respond::backing_off(api == Api::AppViewX, wait),
        Refused::Unauthorized => match api {
            Api::Keyfactor => respond::unauthorized_keyfactor(),
            Api::AppViewX => respond::unauthorized_appviewx(),
        },
    };
    let headers = &parts.headers;
    let credential_headers: &[&'static str] = match api {
        Api::Keyfactor => &["authorization"],
        Api::AppViewX => &["authorization", "sessionid", "username", "password"],
    };
    for name in credential_headers {
        auth::single(headers, name).map_err(refuse)?;
    }
    let credentials = match api {
        Api::AppViewX => {
            Credentials::from_appviewx_headers(headers).or_else(|| Credentials::from_authorization(headers))
        }
        Api::Keyfactor => Credentials::from_authorization(headers),
    }
    .ok_or_else(|| refuse(Refused::Unauthorized))?;
    let peer = parts
        .extensions
        .get::<Peer>()
        .map_or(std::net::Ipv4Addr::UNSPECIFIED.into(), |p| p.0);
    app.auth.verify(credentials, peer).await.map_err(refuse)
}

/// The body of an authenticated request: at most `--max-body-bytes`
/// (413; a `Content-Length` over it is refused unread), arrived within
/// `--body-timeout` (408).
async fn read_body(app: &App, headers: &HeaderMap, body: Body) -> Result<Bytes, Response> {
    use http_body_util::BodyExt as _;
    let limit = app.settings.max_body_bytes;
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(respond::body_too_large(limit));
    }
    let reading = http_body_util::Limited::new(body, limit).collect();
    match tokio::time::timeout(app.settings.body_timeout, reading).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
            Err(respond::body_too_large(limit))
        }
        Ok(Err(_)) => Err(respond::body_unreadable()),
        Err(_) => Err(respond::body_timed_out()),
    }
}

/// The caller of `request`, proved from its headers, and only then its
/// body ([`read_body`]); or the answer that refuses it.
async fn admit(app: &App, request: Request, api: Api) -> Result<(Parts, Identity, Bytes), Response> {
    let (parts, body) = request.into_parts();
    let identity = authenticate(app, &parts, api).await?;
    let body = read_body(app, &parts.headers, body).await?;
    Ok((parts, identity, body))
}

/// `POST /Certificates/Download`.
async fn download(State(app): State<Arc<App>>, request: Request) -> Response {
    let (parts, identity, body) = match admit(&app, request, Api::Keyfactor).await {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    let (headers, query) = (&parts.headers, parts.uri.query());
    let respond = Respond::Keyfactor(Casing::Pascal);
    let request = match DownloadRequest::from_json(&body) {
        Ok(request) => request,
        Err(e) => return respond.error(&e),
    };
    let respond = Respond::Keyfactor(request.casing());
    note_unknown_fields(request.unknown_fields());
    let export = query::format_header(headers)
        .and_then(|format| wire::download_format(format))
        .and_then(|format| Ok((format, query::scope(query)?)))
        .and_then(|(format, scope)| request.to_export_request(format, scope));
    let export = match export {
        Ok(export) => export,
        Err(e) => return respond.error(&e),
    };
    let exporting = Arc::clone(&app);
    let result = app
        .lanes
        .run(Lane::Certificate, move || {
            exporting.exporter.export(identity.caller(), &export)
        })
        .await;
    match result {
        Ok(Ok(artifact)) => {
            let body = wire::download_response(&artifact, request.casing());
            respond::exported(body, Some(artifact.file_name()))
        }
        Ok(Err(e)) => respond.error(&e),
        Err(WorkFailed) => respond.internal(),
    }
}

/// `POST /Certificates/Recover`.
async fn recover(State(app): State<Arc<App>>, request: Request) -> Response {
    let (parts, identity, body) = match admit(&app, request, Api::Keyfactor).await {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    let (headers, query) = (&parts.headers, parts.uri.query());
    let request = match RecoverRequest::from_json(&body) {
        Ok(request) => request,
        Err(e) => return Respond::Keyfactor(Casing::Pascal).error(&e),
    };
    let casing = request.casing();
    let respond = Respond::Keyfactor(casing);
    note_unknown_fields(request.unknown_fields());
    let export = query::format_header(headers)
        .and_then(|format| wire::recover_format(format))
        .and_then(|format| Ok((format, query::scope(query)?)))
        .and_then(|(format, scope)| request.into_export_request(format, scope));
    let export = match export {
        Ok(export) => export,
        Err(e) => return respond.error(&e),
    };
    match key_export(&app, identity, export, Route::Recover).await {
        Ok(artifact) => {
            let body = wire::recover_response(&artifact, casing);
            respond::exported(body, Some(artifact.file_name()))
        }
        Err(KeyExportFailed::Refused(e)) => respond.error(&e),
        Err(KeyExportFailed::Panicked) => respond.internal(),
    }
}

/// `POST /avxapi/certificate/privatekey/download`.
async fn avx_key_download(State(app): State<Arc<App>>, request: Request) -> Response {
    let (_, identity, body) = match admit(&app, request, Api::AppViewX).await {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    let request = match AvxKeyRequest::from_json(&body) {
        Ok(request) => request,
        Err(e) => return Respond::AppViewX.error(&e),
    };
    note_unknown_fields(request.unknown_fields());
    let export = request.into_export_request(app.settings.avx_encryption);
    match key_export(&app, identity, export, Route::AvxKeyDownload).await {
        Ok(artifact) => {
            let (_, body) = wire::avx_success(&artifact);
            respond::exported(body, None)
        }
        Err(KeyExportFailed::Refused(e)) => Respond::AppViewX.error(&e),
        Err(KeyExportFailed::Panicked) => Respond::AppViewX.internal(),
    }
}

/// Why a key export gave no artifact.
enum KeyExportFailed {
    /// The exporter refused or failed.
    Refused(ExportError),
    /// The export panicked (a bug): answered 500, logged.
    Panicked,
}

/// Runs a key export in the key lane, and writes its audit line and counts.
async fn key_export(
    app: &Arc<App>,
    identity: Identity,
    export: ExportRequest,
    route: Route,
) -> Result<ExportArtifact, KeyExportFailed> {
    let lookup = export.lookup.clone();
    let format = export.format;
    let exporting = Arc::clone(app);
    let caller = identity.name().to_owned();
    let result = app
        .lanes
        .run(Lane::Key, move || {
            let artifact = exporting.exporter.export(identity.caller(), &export)?;
            let thumbprint = thumbprint_of(exporting.exporter.store(), artifact.certificate_id());
            Ok((artifact, thumbprint))
        })
        .await;
    let record = KeyExportRecord {
        caller: &caller,
        route: route.label(),
        lookup: &lookup,
        format,
    };
    match result {
        Ok(Ok((artifact, thumbprint))) => {
            app.metrics.key_export(KeyOutcome::Exported);
            record.exported(artifact.certificate_id().0, thumbprint.as_ref());
            Ok(artifact)
        }
        Ok(Err(error)) => {
            app.metrics.key_export(KeyOutcome::Refused);
            record.refused(&error, wire::keyfactor_code(&error).1);
            Err(KeyExportFailed::Refused(error))
        }
        Err(WorkFailed) => {
            app.metrics.key_export(KeyOutcome::Refused);
            record.panicked();
            Err(KeyExportFailed::Panicked)
        }
    }
}

/// The SHA-1 thumbprint of the certificate `id`, for the audit line.
fn thumbprint_of(store: &dyn CertificateStore, id: CertId) -> Option<Thumbprint> {
    match store.certificate(id) {
        Ok(Some(certificate)) => Some(Thumbprint::sha1_of(&certificate.der)),
        _ => None,
    }
}

/// `GET /healthz`: whether the store answers a lookup.
async fn healthz(State(app): State<Arc<App>>) -> Response {
    let probing = Arc::clone(&app);
    let answered = app
        .lanes
        .run(Lane::Certificate, move || {
            probing.exporter.store().certificate(CertId(0)).is_ok()
        })
        .await
        .unwrap_or(false);
    respond::health(answered)
}

/// `GET /metrics`; with `--protect-metrics`, for callers of the callers
/// file only (any of them, Basic or Bearer).
async fn metrics(State(app): State<Arc<App>>, request: Request) -> Response {
    if app.settings.protect_metrics {
        let (parts, _) = request.into_parts();
        if let Err(refused) = authenticate(&app, &parts, Api::Keyfactor).await {
            return refused;
        }
    }
    respond::metrics(
        app.metrics
            .render(app.lanes.keys_running(), app.lanes.key_slots(), app.connections.open()),
    )
}

/// Unknown body fields are ignored, as the reference servers ignore them;
/// their names (never values) go to the debug log.
fn note_unknown_fields(fields: &[String]) {
    if !fields.is_empty() {
        tracing::debug!(?fields, "unknown request fields ignored");
    }
}
