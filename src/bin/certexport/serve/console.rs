//! The console: the pages a person uses in a browser beside the API.
//!
//! | page | what |
//! | --- | --- |
//! | `GET /` | search ([`search`]), or open a certificate by id; without a session, to the sign-in |
//! | `GET`, `POST /console/signin` | sign in with a callers-file name and password |
//! | `POST /console/signout` | end the session |
//! | `GET /console/certificates/{id}` | the certificate: facts, chain, validity |
//! | `GET`, `POST /console/certificates/{id}/download` | the download dialog, and the file |
//! | `GET /console/assets/{file}` | the stylesheet and the script |
//!
//! Every page but the sign-in needs a session ([`session`]); without one
//! it sends the browser to the sign-in. Every POST needs the CSRF token of
//! its form; without it the answer is 403 and nothing is done. A caller
//! sees and downloads exactly what the API would give them: each page asks
//! the exporter, with its access checks, for the certificate in any of its
//! collections the caller holds claims for, or in a store container the
//! caller may read ([`certificate::Reach`]). Key exports go through the
//! same key lane, audit line and counters as the API's.
//!
//! Assets are compiled into the binary: the stylesheet and the script,
//! under 12 KiB together (a test holds them to it), no third-party code.

mod certificate;
mod download;
mod page;
mod search;
mod session;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Extension, Form, Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::get;
use certexport::ExportError;
use serde::Deserialize;

use super::auth::{Credentials, Identity, Refused};
use super::deadlines::Peer;
use super::lanes::{Lane, WorkFailed};
use super::metrics::Route;
use super::routes::{App, KeyExportFailed, key_export};
use page::{SignedIn, esc, html, layout, redirect, with_cookie};
pub(crate) use page::{asset, guard};
pub(crate) use session::Sessions;
use session::{SESSION_COOKIE, SIGNIN_COOKIE, Session, clear_cookie, cookie, random_token, same_token, set_cookie};

const CSS: &[u8] = include_bytes!("console/assets/console.css");
const JS: &[u8] = include_bytes!("console/assets/console.js");

/// The console's routes.
pub(crate) fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(home))
        .route("/console/signin", get(signin_page).post(signin))
        .route("/console/signout", axum::routing::post(signout))
        .route("/console/certificates/{id}", get(certificate_page))
        .route("/console/certificates/{id}/download", get(download_page).post(download))
        .route(
            "/console/assets/console.css",
            get(|| async { asset("text/css; charset=utf-8", CSS) }),
        )
        .route(
            "/console/assets/console.js",
            get(|| async { asset("text/javascript; charset=utf-8", JS) }),
        )
}

/// The signed-in caller of a request: the session and the caller's
/// current entry in the callers file (a caller removed from it, or whose
/// password was taken away, is signed out).
struct Visitor {
    session: Session,
    identity: Identity,
}

impl Visitor {
    fn of(app: &App, headers: &HeaderMap) -> Option<Self> {
        let session = app.console.current(headers)?;
        let identity = app.auth.password_caller(&session.caller)?;
        Some(Self { session, identity })
    }

    fn signed_in(&self) -> SignedIn<'_> {
        SignedIn {
            caller: self.identity.name(),
            csrf: &self.session.csrf,
        }
    }

    fn page(&self, status: StatusCode, title: &str, main: &str) -> Response {
        html(status, layout(title, Some(&self.signed_in()), main))
    }
}

/// `GET /?id=N`: open a certificate by id.
#[derive(Deserialize)]
struct Open {
    id: Option<String>,
}

/// `GET /`: the search page, and its results when the form was sent.
async fn home(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(open): Query<Open>,
    Query(form): Query<search::SearchForm>,
) -> Response {
    let Some(visitor) = Visitor::of(&app, &headers) else {
        return redirect("/console/signin");
    };
    let caller = visitor.identity.caller().clone();
    if let Some(id) = open.id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        return match id.parse::<u64>() {
            Ok(id) => redirect(&format!("/console/certificates/{id}")),
            Err(_) => {
                let error = ExportError::InvalidRequest {
                    reason: "a certificate id is a whole number".into(),
                };
                let main = search::render(&form, &caller, Some(Err(error)), certificate::now());
                visitor.page(StatusCode::BAD_REQUEST, "Certificates", &main)
            }
        };
    }
    let outcome = if form.asked() {
        Some(match form.plan(&caller) {
            Ok(planned) => {
                let searching = Arc::clone(&app);
                let who = caller.clone();
                app.lanes
                    .run(Lane::Certificate, move || {
                        searching.exporter.search(&who, planned.scope, &planned.query)
                    })
                    .await
                    .unwrap_or(Err(ExportError::Random))
            }
            Err(e) => Err(e),
        })
    } else {
        None
    };
    let status = match &outcome {
        Some(Err(e)) => StatusCode::from_u16(certexport::wire::keyfactor_code(e).0).unwrap_or(StatusCode::BAD_REQUEST),
        _ => StatusCode::OK,
    };
    let main = search::render(&form, &caller, outcome, certificate::now());
    visitor.page(status, "Certificates", &main)
}

/// `GET /console/signin`: the form, with a fresh sign-in cookie whose
/// value the form carries.
async fn signin_page(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    if Visitor::of(&app, &headers).is_some() {
        return redirect("/");
    }
    signin_form(StatusCode::OK, None)
}

fn signin_form(status: StatusCode, error: Option<&str>) -> Response {
    let Ok(token) = random_token() else {
        return html(
            StatusCode::SERVICE_UNAVAILABLE,
            layout("Sign in", None, "<p>Try again.</p>"),
        );
    };
    let error = error.map_or(String::new(), |e| {
        format!("<p class=\"badge bad\" role=\"alert\">{}</p>", esc(e))
    });
    let main = format!(
        "<h1>Sign in</h1>{error}<form method=\"post\" action=\"/console/signin\" class=\"dialog\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{token}\">\
         <label for=\"name\">Name</label><input id=\"name\" name=\"name\" autocomplete=\"username\" required autofocus>\
         <label for=\"password\">Password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <div class=\"actions\"><button type=\"submit\">Sign in</button></div></form>"
    );
    with_cookie(
        html(status, layout("Sign in", None, &main)),
        &set_cookie(SIGNIN_COOKIE, &token, session::SIGNIN_FORM),
    )
}

#[derive(Deserialize)]
struct SignIn {
    #[serde(default)]
    csrf: String,
    name: String,
    password: String,
}

/// `POST /console/signin`: checks the name and password with the API's
/// own password check, then starts a session.
async fn signin(
    State(app): State<Arc<App>>,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
    Form(form): Form<SignIn>,
) -> Response {
    let SignIn { csrf, name, password } = form;
    let password = zeroize::Zeroizing::new(password.into_bytes());
    if !cookie(&headers, SIGNIN_COOKIE).is_some_and(|expected| same_token(&csrf, expected)) {
        return forbidden();
    }
    // The API's password check, with its back-off per peer and per name.
    let peer = peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |Extension(peer)| peer.0);
    let identity = match app.auth.verify(Credentials::Password { name, password }, peer).await {
        Ok(identity) => identity,
        Err(Refused::BackOff(wait)) => {
            let wait = format!("Too many failed sign-ins: try again in {} s.", wait.as_secs().max(1));
            return signin_form(StatusCode::TOO_MANY_REQUESTS, Some(&wait));
        }
        Err(Refused::Unauthorized | Refused::Ambiguous(_)) => {
            return signin_form(StatusCode::UNAUTHORIZED, Some("The name or the password is wrong."));
        }
    };
    let Ok(started) = app.console.start(identity.name()) else {
        return html(
            StatusCode::SERVICE_UNAVAILABLE,
            layout("Sign in", None, "<p>Try again.</p>"),
        );
    };
    let response = with_cookie(
        redirect("/"),
        &set_cookie(SESSION_COOKIE, &started.token, session::LIFETIME),
    );
    with_cookie(response, &clear_cookie(SIGNIN_COOKIE))
}

#[derive(Deserialize)]
struct Csrf {
    #[serde(default)]
    csrf: String,
}

/// `POST /console/signout`.
async fn signout(State(app): State<Arc<App>>, headers: HeaderMap, Form(form): Form<Csrf>) -> Response {
    let Some(visitor) = Visitor::of(&app, &headers) else {
        return redirect("/console/signin");
    };
    if !same_token(&form.csrf, &visitor.session.csrf) {
        return forbidden();
    }
    app.console.end(&headers);
    with_cookie(redirect("/console/signin"), &clear_cookie(SESSION_COOKIE))
}

/// 403 for a POST without its form's token: nothing was done.
fn forbidden() -> Response {
    html(
        StatusCode::FORBIDDEN,
        layout(
            "Refused",
            None,
            "<h1>Refused</h1><p>This form is out of date or was not sent from this console. \
             <a href=\"/\">Start again</a>.</p>",
        ),
    )
}

/// The facts of a certificate for `visitor`, on the certificate lane.
async fn facts_for(app: &Arc<App>, visitor: &Visitor, id: u64) -> Result<certificate::Facts, Response> {
    let reading = Arc::clone(app);
    let caller = visitor.identity.caller().clone();
    match app
        .lanes
        .run(Lane::Certificate, move || {
            certificate::facts(&reading.exporter, &caller, id)
        })
        .await
    {
        Ok(Ok(facts)) => Ok(facts),
        Ok(Err(ExportError::AccessDenied | ExportError::NotFound { .. })) => Err(visitor.page(
            StatusCode::NOT_FOUND,
            "Not found",
            &format!("<h1>Not found</h1><p>No certificate you may see has the id {id}.</p>"),
        )),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "console: a certificate page failed");
            Err(visitor.page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Error",
                "<h1>Error</h1><p>The certificate could not be read.</p>",
            ))
        }
        Err(WorkFailed) => Err(visitor.page(StatusCode::INTERNAL_SERVER_ERROR, "Error", "<h1>Error</h1>")),
    }
}

/// `GET /console/certificates/{id}`.
async fn certificate_page(State(app): State<Arc<App>>, headers: HeaderMap, Path(id): Path<u64>) -> Response {
    let Some(visitor) = Visitor::of(&app, &headers) else {
        return redirect("/console/signin");
    };
    match facts_for(&app, &visitor, id).await {
        Ok(facts) => visitor.page(
            StatusCode::OK,
            page::common_name(&facts.chain[0].subject),
            &certificate::render(&facts, certificate::now()),
        ),
        Err(response) => response,
    }
}

/// `GET /console/certificates/{id}/download`: the dialog.
async fn download_page(State(app): State<Arc<App>>, headers: HeaderMap, Path(id): Path<u64>) -> Response {
    let Some(visitor) = Visitor::of(&app, &headers) else {
        return redirect("/console/signin");
    };
    match facts_for(&app, &visitor, id).await {
        Ok(facts) => {
            let form = download::render(
                id,
                &facts.chain[0].subject,
                &visitor.session.csrf,
                facts.key_export,
                &download::Shown::default(),
                None,
            );
            visitor.page(StatusCode::OK, "Download", &form)
        }
        Err(response) => response,
    }
}

/// `POST /console/certificates/{id}/download`: the file, saved by the
/// browser under its `X-CertificateFile` name; or the dialog again with
/// the reason (and empty password fields).
async fn download(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<u64>,
    Form(form): Form<download::DownloadForm>,
) -> Response {
    let Some(visitor) = Visitor::of(&app, &headers) else {
        return redirect("/console/signin");
    };
    if !same_token(&form.csrf, &visitor.session.csrf) {
        return forbidden();
    }
    let facts = match facts_for(&app, &visitor, id).await {
        Ok(facts) => facts,
        Err(response) => return response,
    };
    let shown = form.shown();
    let refused = |status: StatusCode, reason: &str| {
        let dialog = download::render(
            id,
            &facts.chain[0].subject,
            &visitor.session.csrf,
            facts.key_export,
            &shown,
            Some(reason),
        );
        visitor.page(status, "Download", &dialog)
    };
    let request = match form.into_request(facts.reach.request(id), facts.key_export) {
        Ok(request) => request,
        Err(refusal) => return refused(refusal.status(), &refusal.sentence()),
    };
    let wants_key = !matches!(request.private_key, certexport::options::KeyExport::None);
    let result = if wants_key {
        let identity = match app.auth.password_caller(visitor.identity.name()) {
            Some(identity) => identity,
            None => return redirect("/console/signin"),
        };
        key_export(&app, identity, request, Route::Console)
            .await
            .map_err(|failed| match failed {
                KeyExportFailed::Refused(e) => Some(e),
                KeyExportFailed::Panicked => None,
            })
    } else {
        let exporting = Arc::clone(&app);
        let caller = visitor.identity.caller().clone();
        match app
            .lanes
            .run(Lane::Certificate, move || exporting.exporter.export(&caller, &request))
            .await
        {
            Ok(result) => result.map_err(Some),
            Err(WorkFailed) => Err(None),
        }
    };
    match result {
        Ok(artifact) => {
            let name = artifact.file_name().to_owned();
            let content_type = artifact.content_type();
            attachment(artifact.into_bytes().to_vec(), &name, content_type)
        }
        Err(Some(e)) => {
            let refusal = download::Refusal::Export(e);
            refused(refusal.status(), &refusal.sentence())
        }
        Err(None) => refused(StatusCode::INTERNAL_SERVER_ERROR, "The export failed."),
    }
}

/// The file as a download: `Content-Disposition: attachment` under its
/// name (RFC 6266: an ASCII `filename` and the UTF-8 `filename*`), and
/// the name in `X-CertificateFile` as the API gives it.
fn attachment(bytes: Vec<u8>, name: &str, content_type: &'static str) -> Response {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    if let Ok(value) = HeaderValue::from_bytes(name.as_bytes()) {
        headers.insert("X-CertificateFile", value);
    }
    guard(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The console's assets stay small: 12 KiB for the stylesheet and
    /// the script together.
    #[test]
    fn assets_stay_small() {
        assert!(CSS.len() + JS.len() <= 12 * 1024, "{} bytes", CSS.len() + JS.len());
    }
}
