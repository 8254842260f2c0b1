//! The API reference: `GET /openapi.json`, the OpenAPI 3.1 document of
//! every API route, made from the routes' own registrations and the wire
//! types' schemas ([`certexport::wire::openapi`]); and `GET /docs`, a page
//! that reads it, lists every call with its fields, and sends a call with
//! the credentials typed into it (the "API utility").
//!
//! Both are public, as the reference product's are: they describe the
//! API, not any certificate. The page is this server's own (no CDN, no
//! third-party UI): under 10 KiB of HTML and script (a test holds them to
//! it), with the console's stylesheet, under the
//! console's Content-Security-Policy; credentials typed into it stay in
//! the page's memory and go only into the calls it sends.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::get;
use std::collections::BTreeMap;

use certexport::wire::openapi::KeyfactorErrorAnswer;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, InfoBuilder, OpenApi, Ref, RefOr};
use utoipa::{IntoResponses, PartialSchema, ToSchema};

use super::console::{asset, guard};
use super::routes::App;

const PAGE: &[u8] = include_bytes!("console/assets/docs.html");
const SCRIPT: &[u8] = include_bytes!("console/assets/docs.js");

/// `/openapi.json` and `/docs`, for the API described by `paths` (the
/// API router's own description).
pub(crate) fn router(paths: &OpenApi) -> Router<Arc<App>> {
    let json = Bytes::from(document(paths));
    Router::new()
        .route("/openapi.json", get(move || async move { json_answer(json) }))
        .route("/docs", get(|| async { asset("text/html; charset=utf-8", PAGE) }))
        .route(
            "/docs/docs.js",
            get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }),
        )
}

/// The whole document: the routes' paths and schemas, the service's
/// description and its security schemes.
pub(crate) fn document(paths: &OpenApi) -> String {
    let mut doc = paths.clone();
    doc.info = InfoBuilder::new()
        .title("certexport")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Certificates, chains and private keys from the store this server owns, on the reference APIs' \
             wire: Keyfactor Command's Download and Recover, and AppViewX's private-key download. Request field \
             names are matched case-insensitively and answers follow the request's casing. Keyfactor calls \
             authenticate with Basic (a callers-file name and password) or Bearer (a token); the AppViewX call \
             also with its username and password headers, or sessionId.",
        ))
        .build();
    let components = doc.components.get_or_insert_with(Default::default);
    // Named by the error answers ([`KeyfactorErrors`]) rather than by a body.
    components.schemas.insert(
        KeyfactorErrorAnswer::name().into_owned(),
        KeyfactorErrorAnswer::schema(),
    );
    components.add_security_scheme(
        "basic",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
    );
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    components.add_security_scheme(
        "avx_username",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "username",
            "AppViewX: the caller's name, with the password header",
        ))),
    );
    components.add_security_scheme(
        "avx_password",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "password",
            "AppViewX: the caller's password, with the username header",
        ))),
    );
    components.add_security_scheme(
        "avx_session",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "sessionId",
            "AppViewX: a token",
        ))),
    );
    doc.to_pretty_json()
        .unwrap_or_else(|e| unreachable!("an OpenAPI document always serializes: {e}"))
}

/// The error answers every Keyfactor call may give, each a
/// `KeyfactorErrorAnswer`: the exporter's (`certexport::wire::keyfactor_status`)
/// and the server's own (credentials, back-off, body limits, time).
pub(crate) struct KeyfactorErrors;

impl IntoResponses for KeyfactorErrors {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::response::Response>> {
        [
            (
                "400",
                "A malformed request, a query the grammar refuses, options that do not go together, no password",
            ),
            ("401", "No credentials that prove a caller (ErrorCode Unauthorized)"),
            (
                "403",
                "The caller may not have the certificate or its key (AccessDenied, KeyExportRestricted)",
            ),
            (
                "404",
                "No such certificate (callers with system-wide rights only), or no key in the store",
            ),
            ("408", "The body did not arrive within --body-timeout (Timeout)"),
            ("409", "The lookup names more than one certificate (Ambiguous)"),
            ("413", "The body is over --max-body-bytes (BodyTooLarge)"),
            ("422", "The chain cannot be completed from the store (IncompleteChain)"),
            (
                "429",
                "Too many failed sign-ins from this peer or for this name (TooManyFailures); see Retry-After",
            ),
            ("500", "The server failed (InternalError)"),
            ("503", "The request took longer than --request-timeout (Timeout)"),
        ]
        .into_iter()
        .map(|(status, about)| {
            let answer = ResponseBuilder::new()
                .description(about)
                .content(
                    "application/json",
                    Content::new(Some(Ref::from_schema_name(KeyfactorErrorAnswer::name()))),
                )
                .build();
            (status.to_owned(), RefOr::T(answer))
        })
        .collect()
    }
}

fn json_answer(json: Bytes) -> Response {
    let mut response = Response::new(Body::from(json));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    guard(response)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn doc() -> Value {
        let (_, paths) = super::super::routes::api().split_for_parts();
        serde_json::from_str(&document(&paths)).unwrap()
    }

    #[test]
    fn the_page_stays_small() {
        assert!(
            PAGE.len() + SCRIPT.len() <= 10 * 1024,
            "{} bytes",
            PAGE.len() + SCRIPT.len()
        );
    }

    /// Every route the service answers (SPEC: the reference calls, the
    /// service's own), with the schema of its body: a route or a body
    /// missing from the document fails here.
    #[test]
    fn the_document_lists_every_route_with_its_body() {
        let doc = doc();
        assert_eq!(doc["openapi"], "3.1.0");
        let routes = [
            ("/KeyfactorAPI/Certificates/Download", "post", Some("DownloadRequest")),
            ("/KeyfactorAPI/Certificates/Recover", "post", Some("RecoverRequest")),
            ("/KeyfactorAPI/Certificates", "get", None),
            ("/KeyfactorAPI/Certificates/{id}", "get", None),
            ("/avxapi/certificate/privatekey/download", "post", Some("AvxKeyRequest")),
            ("/healthz", "get", None),
            ("/metrics", "get", None),
        ];
        let paths = doc["paths"].as_object().unwrap();
        assert_eq!(paths.len(), routes.len(), "{:?}", paths.keys().collect::<Vec<_>>());
        for (path, method, body) in routes {
            let operation = &doc["paths"][path][method];
            assert!(operation.is_object(), "{method} {path} is missing");
            if let Some(body) = body {
                let reference = &operation["requestBody"]["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(reference, &format!("#/components/schemas/{body}"));
                assert!(doc["components"]["schemas"][body]["properties"].is_object(), "{body}");
            }
            assert!(operation["responses"]["200"].is_object(), "{path}");
        }
        for scheme in ["basic", "bearer", "avx_username", "avx_password", "avx_session"] {
            assert!(doc["components"]["securitySchemes"][scheme].is_object(), "{scheme}");
        }
    }
}
