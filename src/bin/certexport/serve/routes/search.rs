//! `GET /Certificates` (search) and `GET /Certificates/{id}` (detail),
//! under `/KeyfactorAPI/` and at the root: the same authentication as the
//! other Keyfactor calls, the work in the certificate lane, the answer
//! through `certexport::wire`. Nothing secret is in either answer (no key,
//! no password), and nothing is audited: the audit log is for key exports.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::HeaderValue;
use axum::response::Response;
use certexport::Lookup;
use certexport::ids::CertId;
use certexport::wire::{self, Casing, SearchParams};

use super::respond::{self, Respond};
use super::{Api, App, admit, query};
use crate::serve::lanes::{Lane, WorkFailed};

/// `GET /Certificates`: a JSON array, the total in `x-total-count`.
#[utoipa::path(
    get,
    path = "/KeyfactorAPI/Certificates",
    tag = "Keyfactor",
    operation_id = "search",
    summary = "Find certificates with the Keyfactor query language",
    description = "Also at /Certificates. Only certificates the caller could download at the same \
                   collectionId / containerId are listed and counted. Parameter names in any casing; \
                   unknown ones are ignored.",
    params(
        ("pq.queryString" = Option<String>, Query, description = "FIELD -op \"value\" terms joined by AND / OR with parentheses, e.g. CN -contains \"example\" AND NotAfter -lt \"%TODAY+30%\""),
        ("pq.pageReturned" = Option<u32>, Query, description = "The page, from 1"),
        ("pq.returnLimit" = Option<u32>, Query, description = "The page size"),
        ("SortField" = Option<String>, Query, description = "CertId, IssuedCN, IssuedDate, NotAfter or IssuerDN"),
        ("SortAscending" = Option<u8>, Query, description = "0 ascending, 1 descending"),
        ("collectionId" = Option<u64>, Query, description = "Search in this collection (0: none)"),
        ("containerId" = Option<u64>, Query, description = "Search in this store container, without collectionId (0: none)"),
    ),
    responses(
        (status = 200, description = "One page of certificates", body = [certexport::wire::openapi::CertificateAnswer],
         headers(("x-total-count" = u64, description = "How many certificates match, on every page"))),
        crate::serve::openapi::KeyfactorErrors,
    ),
    security(("basic" = []), ("bearer" = []))
)]
pub(super) async fn search(State(app): State<Arc<App>>, request: Request) -> Response {
    let (parts, identity, _) = match admit(&app, request, Api::Keyfactor).await {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    let params = match SearchParams::from_query(parts.uri.query()) {
        Ok(params) => params,
        Err(e) => return Respond::Keyfactor(Casing::Pascal).error(&e),
    };
    let respond = Respond::Keyfactor(params.casing);
    let searching = Arc::clone(&app);
    let (query, scope, casing) = (params.query, params.scope, params.casing);
    let result = app
        .lanes
        .run(Lane::Certificate, move || {
            searching.exporter.search(identity.caller(), scope, &query)
        })
        .await;
    match result {
        Ok(Ok(results)) => {
            let body = wire::search_json(&results, casing);
            let mut response = respond::exported(body.into(), None);
            response
                .headers_mut()
                .insert("x-total-count", HeaderValue::from(results.total));
            response
        }
        Ok(Err(e)) => respond.error(&e),
        Err(WorkFailed) => respond.internal(),
    }
}

/// `GET /Certificates/{id}`: one certificate's facts.
#[utoipa::path(
    get,
    path = "/KeyfactorAPI/Certificates/{id}",
    tag = "Keyfactor",
    operation_id = "detail",
    summary = "One certificate's facts, with its chain",
    description = "Also at /Certificates/{id}.",
    params(
        ("id" = u64, Path, description = "The certificate's id"),
        ("collectionId" = Option<u64>, Query, description = "Check rights in this collection (0: none)"),
        ("containerId" = Option<u64>, Query, description = "Check rights in this store container, without collectionId (0: none)"),
    ),
    responses(
        (status = 200, description = "The certificate", body = certexport::wire::openapi::CertificateDetailAnswer),
        crate::serve::openapi::KeyfactorErrors,
    ),
    security(("basic" = []), ("bearer" = []))
)]
pub(super) async fn detail(State(app): State<Arc<App>>, Path(id): Path<String>, request: Request) -> Response {
    let (parts, identity, _) = match admit(&app, request, Api::Keyfactor).await {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    let raw = parts.uri.query();
    let params = match SearchParams::from_query(raw) {
        Ok(params) => params,
        Err(e) => return Respond::Keyfactor(Casing::Pascal).error(&e),
    };
    let respond = Respond::Keyfactor(params.casing);
    let scope = match query::scope(raw) {
        Ok(scope) => scope,
        Err(e) => return respond.error(&e),
    };
    let Some(id) = id
        .parse::<u64>()
        .ok()
        .filter(|_| id.bytes().all(|b| b.is_ascii_digit()))
    else {
        return respond.error(&certexport::ExportError::InvalidRequest {
            reason: "the certificate id in the path must be a whole number".into(),
        });
    };
    let casing = params.casing;
    let looking = Arc::clone(&app);
    let result = app
        .lanes
        .run(Lane::Certificate, move || {
            looking
                .exporter
                .detail(identity.caller(), scope, &Lookup::CertId(CertId(id)))
        })
        .await;
    match result {
        Ok(Ok(detail)) => respond::exported(wire::certificate_json(&detail, casing).into(), None),
        Ok(Err(e)) => respond.error(&e),
        Err(WorkFailed) => respond.internal(),
    }
}
