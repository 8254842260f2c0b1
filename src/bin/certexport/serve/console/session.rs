//! Console sessions: a random token in a cookie, the caller's name and a
//! CSRF token on the server.
//!
//! - The cookie `__Host-certexport-session` is `HttpOnly; Secure;
//!   SameSite=Strict; Path=/` with a `Max-Age` of the session's lifetime
//!   (the `__Host-` prefix makes browsers refuse it from anywhere but this
//!   origin over HTTPS). Its value is 32 random bytes; the server keeps only
//!   their SHA-256, so its memory holds nothing a cookie could be made from.
//! - A session ends 15 minutes after its last request (`--session-idle-seconds`
//!   sets another), [`LIFETIME`] after sign-in whatever happens, at sign-out,
//!   and when the caller leaves the callers file or loses its password.
//! - Every POST carries the session's CSRF token (a hidden form field),
//!   compared in constant time; the sign-in form, before there is a
//!   session, carries the token of a short-lived sign-in cookie instead
//!   (the double-submit pattern), so a foreign page cannot sign a browser in
//!   under its own name either.
//! - At most [`CAPACITY`] sessions: when full, expired ones go, then the one
//!   idle longest.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use base64ct::{Base64UrlUnpadded, Encoding as _};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "__Host-certexport-session";
/// The sign-in form's cookie (its CSRF token before there is a session).
pub(crate) const SIGNIN_COOKIE: &str = "__Host-certexport-signin";
/// How long a session lives at most: 8 hours.
pub(crate) const LIFETIME: Duration = Duration::from_secs(8 * 3600);
/// How long a sign-in form stays usable: 10 minutes.
pub(crate) const SIGNIN_FORM: Duration = Duration::from_secs(600);
/// The most sessions kept.
pub(crate) const CAPACITY: usize = 10_000;

/// The sessions of the console.
pub(crate) struct Sessions {
    by_token: Mutex<HashMap<[u8; 32], Session>>,
    idle: Duration,
}

/// One signed-in browser.
#[derive(Clone)]
pub(crate) struct Session {
    /// The caller's name in the callers file.
    pub(crate) caller: String,
    /// The token every POST of this session carries.
    pub(crate) csrf: String,
    started: Instant,
    last_used: Instant,
}

/// A new session: the cookie's value, given to the browser once.
pub(crate) struct Started {
    /// The cookie's value.
    pub(crate) token: String,
}

impl Sessions {
    /// No sessions; each ends `idle` after its last request.
    pub(crate) fn new(idle: Duration) -> Self {
        Self {
            by_token: Mutex::new(HashMap::new()),
            idle: idle.min(LIFETIME),
        }
    }

    /// Starts a session for `caller`.
    pub(crate) fn start(&self, caller: &str) -> Result<Started, getrandom::Error> {
        let token = random_token()?;
        let csrf = random_token()?;
        let now = Instant::now();
        let mut sessions = self.by_token.lock().unwrap_or_else(|e| e.into_inner());
        if sessions.len() >= CAPACITY {
            sessions.retain(|_, s| self.alive(s, now));
        }
        if sessions.len() >= CAPACITY
            && let Some(oldest) = sessions.iter().min_by_key(|(_, s)| s.last_used).map(|(k, _)| *k)
        {
            sessions.remove(&oldest);
        }
        sessions.insert(
            digest(&token),
            Session {
                caller: caller.to_owned(),
                csrf,
                started: now,
                last_used: now,
            },
        );
        Ok(Started { token })
    }

    /// The live session whose cookie `headers` carry, marked as used now.
    /// An expired one is forgotten; an unknown (forged) one is none.
    pub(crate) fn current(&self, headers: &HeaderMap) -> Option<Session> {
        let token = cookie(headers, SESSION_COOKIE)?;
        let key = digest(token);
        let now = Instant::now();
        let mut sessions = self.by_token.lock().unwrap_or_else(|e| e.into_inner());
        let session = sessions.get_mut(&key)?;
        if !self.alive(session, now) {
            sessions.remove(&key);
            return None;
        }
        session.last_used = now;
        Some(session.clone())
    }

    /// Ends the session whose cookie `headers` carry.
    pub(crate) fn end(&self, headers: &HeaderMap) {
        if let Some(token) = cookie(headers, SESSION_COOKIE) {
            self.by_token
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&digest(token));
        }
    }

    fn alive(&self, session: &Session, now: Instant) -> bool {
        now.duration_since(session.last_used) < self.idle && now.duration_since(session.started) < LIFETIME
    }
}

/// Whether `given` (a form's token) is `expected`, in constant time.
pub(crate) fn same_token(given: &str, expected: &str) -> bool {
    !expected.is_empty() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

/// A fresh random token: 32 bytes, base64url.
pub(crate) fn random_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(Base64UrlUnpadded::encode_string(&bytes))
}

/// The `Set-Cookie` value of a cookie that lives `max_age`.
pub(crate) fn set_cookie(name: &str, value: &str, max_age: Duration) -> String {
    format!(
        "{name}={value}; Path=/; Max-Age={}; HttpOnly; Secure; SameSite=Strict",
        max_age.as_secs()
    )
}

/// The `Set-Cookie` value that makes a browser forget the cookie `name`.
pub(crate) fn clear_cookie(name: &str) -> String {
    format!("{name}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict")
}

/// The value of the cookie `name` among the request's `Cookie` headers.
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn with_cookie(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn a_session_is_found_by_its_cookie_only() {
        let sessions = Sessions::new(Duration::from_secs(900));
        let started = sessions.start("alice").unwrap();
        let headers = with_cookie(&format!("other=1; {SESSION_COOKIE}={}", started.token));
        assert_eq!(sessions.current(&headers).unwrap().caller, "alice");
        // A forged token, one byte off.
        let mut forged = started.token.clone().into_bytes();
        forged[0] = if forged[0] == b'A' { b'B' } else { b'A' };
        let forged = String::from_utf8(forged).unwrap();
        assert!(
            sessions
                .current(&with_cookie(&format!("{SESSION_COOKIE}={forged}")))
                .is_none()
        );
        sessions.end(&headers);
        assert!(sessions.current(&headers).is_none());
    }

    #[test]
    fn an_idle_session_expires() {
        let sessions = Sessions::new(Duration::from_millis(30));
        let started = sessions.start("alice").unwrap();
        let headers = with_cookie(&format!("{SESSION_COOKIE}={}", started.token));
        std::thread::sleep(Duration::from_millis(60));
        assert!(sessions.current(&headers).is_none());
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("ab", "abc"));
        assert!(!same_token("", ""));
    }

    #[test]
    fn cookies_are_host_only_secure_http_only_and_strict() {
        let c = set_cookie(SESSION_COOKIE, "v", LIFETIME);
        for part in ["Path=/", "Max-Age=28800", "HttpOnly", "Secure", "SameSite=Strict"] {
            assert!(c.contains(part), "{c}");
        }
        assert!(!c.contains("Domain"));
    }
}
