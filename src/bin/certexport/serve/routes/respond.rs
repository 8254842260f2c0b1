//! The answers: JSON with the wire module's bodies, the file-name header,
//! the 401 challenge, and the kind of each error for `/metrics`.

use axum::body::Body;
use std::time::Duration;

use axum::http::header::{CONNECTION, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use certexport::ExportError;
use certexport::wire::{self, Casing};
use zeroize::Zeroizing;

const JSON: &str = "application/json; charset=utf-8";

/// The kind of error an answer reports (`ErrorCode`), read by the metrics.
#[derive(Debug, Clone, Copy)]
pub(super) struct ErrorKind(pub(super) &'static str);

/// How a call answers errors.
#[derive(Debug, Clone, Copy)]
pub(super) enum Respond {
    /// Keyfactor's `{"ErrorCode", "Message"}`, in the request's casing.
    Keyfactor(Casing),
    /// AppViewX's envelope with the seed's status codes.
    AppViewX,
}

impl Respond {
    /// The answer to `error` ([`wire::keyfactor_status`] or
    /// [`wire::avx_status`] decide its status). Server-side failures (by
    /// Keyfactor's table: AppViewX answers a denial 500 too, and a denial
    /// is no failure of the server) are logged at ERROR, at most
    /// [`ERROR_LINES_PER_SECOND`](super::super::log_limit::ERROR_LINES_PER_SECOND)
    /// lines a second; the caller's answer says only that the request failed.
    pub(super) fn error(self, error: &ExportError) -> Response {
        let (server_status, kind) = wire::keyfactor_code(error);
        let (status, body) = match self {
            Respond::Keyfactor(casing) => wire::keyfactor_error(error, casing),
            Respond::AppViewX => wire::avx_failure(error),
        };
        if server_status >= 500
            && let Some(suppressed) = super::super::log_limit::ERRORS.allow()
        {
            tracing::error!(error = %error, source = ?std::error::Error::source(error).map(ToString::to_string), suppressed, "request failed");
        }
        json(status, body, Some(kind))
    }

    /// The answer when the work itself failed (it panicked): the generic
    /// server-side failure of either API, which any server-side error
    /// gets (`InternalError`, or AppViewX's 500 `CERT-GEN-0027`).
    pub(super) fn internal(self) -> Response {
        tracing::error!("request failed: the export panicked");
        let (status, body) = match self {
            Respond::Keyfactor(casing) => wire::keyfactor_error(&ExportError::Random, casing),
            Respond::AppViewX => wire::avx_failure(&ExportError::Random),
        };
        json(status, body, Some("InternalError"))
    }
}

/// 200 with `body`, and the file name in `X-CertificateFile` when given.
/// (The body moves out of its zeroizing buffer into the response: what it
/// carries is a certificate or an encrypted key.)
pub(super) fn exported(mut body: Zeroizing<String>, file_name: Option<&str>) -> Response {
    let mut response = json(200, std::mem::take(&mut *body), None);
    if let Some(value) = file_name.and_then(|name| HeaderValue::from_bytes(name.as_bytes()).ok()) {
        response.headers_mut().insert("X-CertificateFile", value);
    }
    response
}

/// 401 for a Keyfactor call, with the challenges of both schemes.
pub(super) fn unauthorized_keyfactor() -> Response {
    let body =
        r#"{"ErrorCode":"Unauthorized","Message":"Authentication required: Basic or Bearer credentials of a caller."}"#;
    challenge(json(401, body.to_owned(), Some("Unauthorized")))
}

/// 401 for the AppViewX call, in its envelope (`appStatusCode`
/// `AUTHENTICATION_REQUIRED`: the seed names no code for it).
pub(super) fn unauthorized_appviewx() -> Response {
    let body = appviewx_failure(
        "Authentication required: username and password, or sessionId.",
        "AUTHENTICATION_REQUIRED",
    );
    challenge(json(401, body, Some("Unauthorized")))
}

/// AppViewX's failure envelope for an answer the seed names no code for
/// (`message` and `code` are fixed texts, never a request's).
fn appviewx_failure(message: &str, code: &str) -> String {
    format!(
        r#"{{"response":{{"status":"Failure","zipFileName":null,"certContents":null,"privateKeyPemEncoded":null,"success":false,"log":false}},"message":"{message}","appStatusCode":"{code}","tags":{{}},"headers":null}}"#
    )
}

/// 429 while the peer or the name backs off after failed logins, with
/// `Retry-After` in whole seconds (rounded up).
pub(super) fn backing_off(appviewx: bool, wait: Duration) -> Response {
    let message = "Too many failed logins: try again after the time Retry-After gives.";
    let body = if appviewx {
        appviewx_failure(message, "TOO_MANY_REQUESTS")
    } else {
        format!(r#"{{"ErrorCode":"TooManyFailures","Message":"{message}"}}"#)
    };
    let mut response = json(429, body, Some("TooManyFailures"));
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    response
}

/// 400 for a header that carries credentials given twice (AppViewX: its
/// seed's code for a missing or invalid field).
pub(super) fn ambiguous_credentials(appviewx: bool, header: &'static str) -> Response {
    let message = format!("The {header} header is given twice.");
    let body = if appviewx {
        appviewx_failure(&message, "MANDATORY_FIELD_MISSING")
    } else {
        format!(r#"{{"ErrorCode":"InvalidRequest","Message":"{message}"}}"#)
    };
    closing(json(400, body, Some("InvalidRequest")))
}

/// 400 for a request whose head breaks HTTP's rules (`why`, a fixed text).
pub(super) fn bad_head(why: &'static str) -> Response {
    let body = format!(r#"{{"ErrorCode":"InvalidRequest","Message":"Bad request: {why}."}}"#);
    closing(json(400, body, Some("InvalidRequest")))
}

/// 413 for a body over `--max-body-bytes`.
pub(super) fn body_too_large(limit: usize) -> Response {
    let body = format!(
        r#"{{"ErrorCode":"BodyTooLarge","Message":"The request body is over the {limit} bytes the server accepts."}}"#
    );
    closing(json(413, body, Some("BodyTooLarge")))
}

/// 408 for a body that did not arrive within `--body-timeout`.
pub(super) fn body_timed_out() -> Response {
    let body = r#"{"ErrorCode":"Timeout","Message":"The request body did not arrive in time."}"#;
    closing(json(408, body.to_owned(), Some("BodyTimeout")))
}

/// 400 for a body the connection broke off.
pub(super) fn body_unreadable() -> Response {
    let body = r#"{"ErrorCode":"InvalidRequest","Message":"The request body could not be read."}"#;
    closing(json(400, body.to_owned(), Some("InvalidRequest")))
}

/// 503 for a request that took longer than the request timeout.
pub(super) fn timed_out() -> Response {
    let body = r#"{"ErrorCode":"Timeout","Message":"The request took longer than the server allows."}"#;
    let mut response = json(503, body.to_owned(), Some("Timeout"));
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// `GET /healthz`: 200 `ok`, or 503 when the store does not answer.
pub(super) fn health(store_answers: bool) -> Response {
    let (status, text) = if store_answers {
        (200, "ok\n")
    } else {
        (503, "store unreachable\n")
    };
    let mut response = plain(status, text.to_owned(), "text/plain; charset=utf-8");
    if !store_answers {
        response.extensions_mut().insert(ErrorKind("StoreUnreachable"));
    }
    response
}

/// `GET /metrics`.
pub(super) fn metrics(text: String) -> Response {
    plain(200, text, "text/plain; version=0.0.4; charset=utf-8")
}

/// The answer, and the connection closed after it (HTTP/1.1: a body left
/// unread cannot be skipped safely).
fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

fn challenge(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.append(
        WWW_AUTHENTICATE,
        HeaderValue::from_static(r#"Basic realm="certexport", charset="UTF-8""#),
    );
    headers.append(
        WWW_AUTHENTICATE,
        HeaderValue::from_static(r#"Bearer realm="certexport""#),
    );
    response
}

fn json(status: u16, body: String, kind: Option<&'static str>) -> Response {
    let mut response = plain(status, body, JSON);
    if let Some(kind) = kind {
        response.extensions_mut().insert(ErrorKind(kind));
    }
    response
}

fn plain(status: u16, body: String, content_type: &'static str) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
