//! The routes and their handlers. Every request body and answer goes
//! through `certexport::wire` (SPEC §10); this module only carries them
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
//! | `GET /openapi.json`, `GET /docs` | the API document and its reference page ([`super::openapi`]) |
//! | `GET /`, `/console/…` | the console ([`super::console`]) |
//!
//! The API's routes are registered with their OpenAPI description
//! (`utoipa`), under the `/KeyfactorAPI/` and `/avxapi/` paths the
//! document names; the aliases at the root, for clients that call them
//! there, answer the same and are not listed twice.
//! Every call authenticates before its body is read; without credentials
//! that prove a caller the answer is 401 with `WWW-Authenticate`, and
//! nothing of the request is looked at.

mod query;
mod respond;
mod search;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, MatchedPath, RawQuery, Request, State};
use axum::http::HeaderMap;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use certexport::ids::{CertId, Thumbprint};
use certexport::store::CertificateStore;
use certexport::wire::{self, AvxKeyRequest, Casing, DownloadRequest, RecoverRequest};
use certexport::{ExportArtifact, ExportError, ExportRequest, Exporter};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Settings;
use super::audit::KeyExportRecord;
use super::auth::{Authenticator, Credentials, Identity};
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
    /// The fixed settings.
    pub(crate) settings: Settings,
    /// The console's sessions.
    pub(crate) console: super::console::Sessions,
}

/// The router of every route, with the body limit, the request timeout
/// and the metrics around them.
pub(crate) fn router(app: Arc<App>) -> Router {
    let (api, document) = api().split_for_parts();
    api.route("/Certificates/Download", post(download))
        .route("/Certificates/Recover", post(recover))
        .route("/Certificates", get(search::search))
        .route("/Certificates/{id}", get(search::detail))
        .route("/certificate/privatekey/download", post(avx_key_download))
        .merge(super::openapi::router(&document))
        .merge(super::console::router())
        .layer(DefaultBodyLimit::max(app.settings.max_body_bytes))
        .layer(middleware::from_fn_with_state(Arc::clone(&app), track))
        .with_state(app)
}

/// The API's routes with their OpenAPI descriptions.
pub(crate) fn api() -> OpenApiRouter<Arc<App>> {
    OpenApiRouter::new()
        .routes(routes!(download))
        .routes(routes!(recover))
        .routes(routes!(search::search))
        .routes(routes!(search::detail))
        .routes(routes!(avx_key_download))
        .routes(routes!(healthz))
        .routes(routes!(metrics))
}

/// Times every request, answers 503 when it takes longer than the request
/// timeout, and counts it.
async fn track(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let route = Route::of_path(request.extensions().get::<MatchedPath>().map(MatchedPath::as_str));
    let started = Instant::now();
    let in_flight = app.metrics.started();
    let response = match tokio::time::timeout(app.settings.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => respond::timed_out(),
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

async fn authenticate(app: &App, headers: &HeaderMap, api: Api) -> Option<Identity> {
    let credentials = match api {
        Api::AppViewX => {
            Credentials::from_appviewx_headers(headers).or_else(|| Credentials::from_authorization(headers))
        }
        Api::Keyfactor => Credentials::from_authorization(headers),
    }?;
    app.auth.verify(credentials).await
}

/// `POST /Certificates/Download`.
#[utoipa::path(
    post,
    path = "/KeyfactorAPI/Certificates/Download",
    tag = "Keyfactor",
    operation_id = "download",
    summary = "Download a certificate, and its chain, without its key",
    description = "Also at /Certificates/Download. The format is the x-certificateformat header's; \
                   the answer's file name is in the X-CertificateFile header.",
    params(
        ("x-certificateformat" = Option<String>, Header, description = "CER, CRT, DER, PEM (the default) or P7B"),
        ("collectionId" = Option<u64>, Query, description = "Check rights in this collection (0: none)"),
        ("containerId" = Option<u64>, Query, description = "Check rights in this store container, without collectionId (0: none)"),
    ),
    request_body = DownloadRequest,
    responses(
        (status = 200, description = "The file", body = wire::openapi::DownloadAnswer,
         headers(("X-CertificateFile" = String, description = "The file's name"))),
        (status = 400, description = "A malformed request or options that do not go together", body = wire::openapi::KeyfactorErrorAnswer),
        (status = 401, description = "No credentials that prove a caller", body = wire::openapi::KeyfactorErrorAnswer),
        (status = 403, description = "The caller may not have the certificate", body = wire::openapi::KeyfactorErrorAnswer),
        (status = 404, description = "No certificate matches (system-wide callers only)", body = wire::openapi::KeyfactorErrorAnswer),
        (status = 409, description = "The lookup names more than one certificate", body = wire::openapi::KeyfactorErrorAnswer),
        (status = 422, description = "The chain cannot be completed from the store", body = wire::openapi::KeyfactorErrorAnswer),
        (status = 500, description = "The server failed", body = wire::openapi::KeyfactorErrorAnswer),
    ),
    security(("basic" = []), ("bearer" = []))
)]
async fn download(State(app): State<Arc<App>>, headers: HeaderMap, RawQuery(query): RawQuery, body: Bytes) -> Response {
    let Some(identity) = authenticate(&app, &headers, Api::Keyfactor).await else {
        return respond::unauthorized_keyfactor();
    };
    let respond = Respond::Keyfactor(Casing::Pascal);
    let request = match DownloadRequest::from_json(&body) {
        Ok(request) => request,
        Err(e) => return respond.error(&e),
    };
    let respond = Respond::Keyfactor(request.casing());
    note_unknown_fields(request.unknown_fields());
    let export = query::format_header(&headers)
        .and_then(|format| wire::download_format(format))
        .and_then(|format| Ok((format, query::scope(query.as_deref())?)))
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
#[utoipa::path(
    post,
    path = "/KeyfactorAPI/Certificates/Recover",
    tag = "Keyfactor",
    operation_id = "recover",
    summary = "Recover a certificate, and its chain, with its private key",
    description = "Also at /Certificates/Recover. The format is the x-certificateformat header's; \
                   the key is encrypted under Password.",
    params(
        ("x-certificateformat" = Option<String>, Header, description = "PFX (the default), PEM or ZIP"),
        ("collectionId" = Option<u64>, Query, description = "Check rights in this collection (0: none)"),
        ("containerId" = Option<u64>, Query, description = "Check rights in this store container, without collectionId (0: none)"),
    ),
    request_body = RecoverRequest,
    responses(
        (status = 200, description = "The file with the key", body = wire::openapi::RecoverAnswer,
         headers(("X-CertificateFile" = String, description = "The file's name"))),
        (status = 400, description = "A malformed request, no password, or options that do not go together", body = wire::openapi::KeyfactorErrorAnswer),
        (status = 401, description = "No credentials that prove a caller", body = wire::openapi::KeyfactorErrorAnswer),
        (status = 403, description = "The caller may not have the certificate or its key", body = wire::openapi::KeyfactorErrorAnswer),
        (status = 404, description = "No such certificate (system-wide callers only), or no key in the store", body = wire::openapi::KeyfactorErrorAnswer),
        (status = 409, description = "The lookup names more than one certificate", body = wire::openapi::KeyfactorErrorAnswer),
        (status = 422, description = "The chain cannot be completed from the store", body = wire::openapi::KeyfactorErrorAnswer),
        (status = 500, description = "The server failed", body = wire::openapi::KeyfactorErrorAnswer),
    ),
    security(("basic" = []), ("bearer" = []))
)]
async fn recover(State(app): State<Arc<App>>, headers: HeaderMap, RawQuery(query): RawQuery, body: Bytes) -> Response {
    let Some(identity) = authenticate(&app, &headers, Api::Keyfactor).await else {
        return respond::unauthorized_keyfactor();
    };
    let request = match RecoverRequest::from_json(&body) {
        Ok(request) => request,
        Err(e) => return Respond::Keyfactor(Casing::Pascal).error(&e),
    };
    let casing = request.casing();
    let respond = Respond::Keyfactor(casing);
    note_unknown_fields(request.unknown_fields());
    let export = query::format_header(&headers)
        .and_then(|format| wire::recover_format(format))
        .and_then(|format| Ok((format, query::scope(query.as_deref())?)))
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
#[utoipa::path(
    post,
    path = "/avxapi/certificate/privatekey/download",
    tag = "AppViewX",
    operation_id = "avx_key_download",
    summary = "Download a certificate's private key, encrypted under a password",
    description = "Also at /certificate/privatekey/download; a gwsource query is accepted and ignored.",
    request_body = AvxKeyRequest,
    responses(
        (status = 200, description = "The encrypted key", body = wire::openapi::AvxAnswer),
        (status = 400, description = "MANDATORY_FIELD_MISSING", body = wire::openapi::AvxAnswer),
        (status = 401, description = "No credentials that prove a caller", body = wire::openapi::AvxAnswer),
        (status = 417, description = "CERT-GEN-0015 (no password) or CERT-KEY-0006 (a key policy forbids it)", body = wire::openapi::AvxAnswer),
        (status = 500, description = "CERT-GEN-0027: any other failure, an unknown uuId and a denial alike", body = wire::openapi::AvxAnswer),
    ),
    security(("avx_password" = []), ("avx_session" = []), ("basic" = []), ("bearer" = []))
)]
async fn avx_key_download(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(identity) = authenticate(&app, &headers, Api::AppViewX).await else {
        return respond::unauthorized_appviewx();
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
pub(super) enum KeyExportFailed {
    /// The exporter refused or failed.
    Refused(ExportError),
    /// The export panicked (a bug): answered 500, logged.
    Panicked,
}

/// Runs a key export in the key lane, and writes its audit line and counts.
pub(super) async fn key_export(
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
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "Service",
    operation_id = "healthz",
    summary = "Whether the store answers",
    responses(
        (status = 200, description = "The store answers", body = String, content_type = "text/plain"),
        (status = 503, description = "The store does not answer", body = String, content_type = "text/plain"),
    )
)]
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

/// `GET /metrics`.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "Service",
    operation_id = "metrics",
    summary = "Prometheus counters and histograms",
    responses((status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain; version=0.0.4"))
)]
async fn metrics(State(app): State<Arc<App>>) -> Response {
    respond::metrics(app.metrics.render(app.lanes.keys_running(), app.lanes.key_slots()))
}

/// Unknown body fields are ignored, as the reference servers ignore them;
/// their names (never values) go to the debug log.
fn note_unknown_fields(fields: &[String]) {
    if !fields.is_empty() {
        tracing::debug!(?fields, "unknown request fields ignored");
    }
}
