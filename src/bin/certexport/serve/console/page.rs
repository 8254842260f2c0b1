//! The console's pages: one layout, HTML escaping, and the headers every
//! page and asset goes out with.
//!
//! Pages are written on the server; the two small scripts only improve
//! them (the download dialog's choices), so every page works without
//! JavaScript. No inline script or style: the Content-Security-Policy
//! allows only this server's own files.

use std::fmt::Write as _;

use axum::body::Body;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;

/// The console's and the API reference's Content-Security-Policy: only
/// this server's scripts, styles, images and fetches; forms post only
/// here; no framing, no plugins, no `<base>`.
pub(crate) const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                              connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Text made safe for HTML content and quoted attribute values.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Who is signed in, for the page header: the name and the CSRF token of
/// the sign-out form.
pub(crate) struct SignedIn<'a> {
    pub(crate) caller: &'a str,
    pub(crate) csrf: &'a str,
}

/// A whole page: `title`, the header (with the caller and sign-out when
/// signed in), and `main` (HTML, already escaped).
pub(crate) fn layout(title: &str, signed_in: Option<&SignedIn<'_>>, main: &str) -> String {
    let mut page = String::with_capacity(main.len() + 1024);
    let _ = write!(
        page,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · certexport</title><link rel=\"stylesheet\" href=\"/console/assets/console.css\">\
         <script src=\"/console/assets/console.js\" defer></script></head><body>\
         <header><a class=\"brand\" href=\"/\">certexport</a><nav aria-label=\"Main\">",
        esc(title)
    );
    if let Some(who) = signed_in {
        let _ = write!(
            page,
            "<a href=\"/\">Certificates</a><a href=\"/docs\">API</a>\
             <form method=\"post\" action=\"/console/signout\" class=\"signout\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <span class=\"who\">{}</span> <button type=\"submit\">Sign out</button></form>",
            esc(who.csrf),
            esc(who.caller)
        );
    } else {
        page.push_str("<a href=\"/docs\">API</a>");
    }
    let _ = write!(page, "</nav></header><main id=\"main\">{main}</main></body></html>");
    page
}

/// An HTML page answer with `status`.
pub(crate) fn html(status: StatusCode, page: String) -> Response {
    let mut response = Response::new(Body::from(page));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    guard(response)
}

/// 303 to `to`, a path of this server made here (never from input but
/// numbers); one that is no header value goes to `/`.
pub(crate) fn redirect(to: &str) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SEE_OTHER;
    let location = HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/"));
    response.headers_mut().insert(LOCATION, location);
    guard(response)
}

/// Adds a `Set-Cookie` header.
pub(crate) fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

/// The headers of every console and reference answer: the CSP, no
/// sniffing, no referrer, no framing, and no caching (pages show
/// certificates a caller may see; a shared cache must not keep them).
pub(crate) fn guard(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let fixed: [(&str, &str); 5] = [
        ("content-security-policy", CSP),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
        ("cross-origin-opener-policy", "same-origin"),
    ];
    for (name, value) in fixed {
        headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    }
    headers
        .entry(CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// A static asset with its MIME type, cached for a day (assets carry no
/// caller's data).
pub(crate) fn asset(content_type: &'static str, bytes: &'static [u8]) -> Response {
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    guard(response)
}

/// The value of the first `CN` of an RFC 4514 name (escapes kept as
/// written), or the whole name when it has none: a heading people read.
pub(crate) fn common_name(dn: &str) -> &str {
    let bytes = dn.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i <= bytes.len() {
        let end = i == bytes.len() || bytes[i] == b',' || bytes[i] == b'+';
        if end {
            let rdn = &dn[start..i];
            if rdn.len() > 3 && rdn[..3].eq_ignore_ascii_case("CN=") {
                return &rdn[3..];
            }
            start = i + 1;
        } else if bytes[i] == b'\\' {
            i += 1;
        }
        i += 1;
    }
    dn
}

/// `YYYY-MM-DD HH:MM UTC` of seconds since the Unix epoch (any year a
/// certificate can carry, before 1970 too), from the ISO 8601 form search
/// answers use.
pub(crate) fn utc(seconds: i64) -> String {
    let iso = certexport::search::iso8601(seconds);
    match iso.split_once('T') {
        Some((date, time)) => format!("{date} {} UTC", time.get(..5).unwrap_or(time)),
        None => iso,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn headings_take_the_common_name() {
        assert_eq!(common_name("CN=a.example.com,O=x,C=US"), "a.example.com");
        assert_eq!(common_name("O=x\\,CN=y,CN=z\\,w"), "z\\,w");
        assert_eq!(common_name("O=no name"), "O=no name");
    }

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(1_800_000_000), "2027-01-15 08:00 UTC");
        assert_eq!(utc(-86_400), "1969-12-31 00:00 UTC");
        assert_eq!(utc(253_402_300_799), "9999-12-31 23:59 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00 UTC");
    }
}
