//! Who is calling: credentials as the reference clients send them, checked
//! against the callers file.
//!
//! - `Authorization: Basic` — user `alice`, or `DOMAIN\alice` as Windows
//!   clients send it (the domain is ignored) — against the caller's
//!   argon2id hash; verified pairs are remembered briefly
//!   ([`CredentialCache`]).
//! - `Authorization: Bearer <token>` — the token's SHA-256 against each
//!   caller's `token_sha256`, compared in constant time.
//! - AppViewX's own headers on its route: `username` + `password` as a
//!   password, `sessionId` as a token.
//!
//! An unknown name costs the same argon2 work as a wrong password, so
//! timing does not tell which names exist. argon2 runs in the fixed memory
//! of an [`Argon2Pool`], and failures back off per peer and per name
//! ([`Backoff`]). A request with two `Authorization` headers (or two of
//! AppViewX's) is refused: which one a proxy in front read is unknowable.
//! Nothing here logs a credential.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use argon2::PasswordHash;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use base64ct::Encoding as _;
use certexport::Caller;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use super::argon2_pool::Argon2Pool;
use super::backoff::Backoff;
use super::callers::Callers;
use super::credential_cache::CredentialCache;
use crate::failure::Failure;

/// An argon2id hash (default parameters, as `hash-password` makes) of a
/// random password nobody knows: unknown names are verified against it so
/// that they take as long as known ones.
const UNKNOWN_NAME_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$el7Nf5qdhS+ycXoJhgpL0Q$Pkai8l0/t2/HBxVDyhEh+y4ibWr7u9NH0fjTxxsXlJs";

/// Credentials as a request presents them.
pub(crate) enum Credentials {
    /// A name and a password (Basic, or AppViewX's `username`/`password`).
    Password { name: String, password: Zeroizing<Vec<u8>> },
    /// A token (Bearer, or AppViewX's `sessionId`).
    Token(Zeroizing<Vec<u8>>),
}

/// Why credentials prove no caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// None given, or wrong: 401.
    Unauthorized,
    /// A header that carries credentials is given twice: 400.
    Ambiguous(&'static str),
    /// The peer or the name is backing off after failures: 429, and how
    /// long it must wait.
    BackOff(Duration),
}

/// The header `name` once, or [`Refused::Ambiguous`] when it is given twice.
pub(crate) fn single<'h>(
    headers: &'h HeaderMap,
    name: &'static str,
) -> Result<Option<&'h axum::http::HeaderValue>, Refused> {
    let mut values = headers.get_all(name).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(Refused::Ambiguous(name));
    }
    Ok(first)
}

impl Credentials {
    /// The credentials of the `Authorization` header, if it has usable ones.
    pub(crate) fn from_authorization(headers: &HeaderMap) -> Option<Self> {
        let value = headers.get(AUTHORIZATION)?.as_bytes();
        let split = value.iter().position(|&b| b == b' ')?;
        let (scheme, rest) = value.split_at(split);
        let rest = rest.trim_ascii();
        if scheme.eq_ignore_ascii_case(b"basic") {
            // The password is a secret: decoded by the constant-time codec.
            let decoded = Zeroizing::new(base64ct::Base64::decode_vec(std::str::from_utf8(rest).ok()?).ok()?);
            let colon = decoded.iter().position(|&b| b == b':')?;
            let user = std::str::from_utf8(&decoded[..colon]).ok()?;
            // `DOMAIN\alice`: Windows clients name the domain; the callers file does not.
            let name = user.rsplit('\\').next().unwrap_or(user);
            Some(Credentials::Password {
                name: name.to_owned(),
                password: Zeroizing::new(decoded[colon + 1..].to_vec()),
            })
        } else if scheme.eq_ignore_ascii_case(b"bearer") && !rest.is_empty() {
            Some(Credentials::Token(Zeroizing::new(rest.to_vec())))
        } else {
            None
        }
    }

    /// AppViewX's headers: `sessionId`, or `username` and `password`.
    pub(crate) fn from_appviewx_headers(headers: &HeaderMap) -> Option<Self> {
        if let Some(session) = headers.get("sessionid").filter(|v| !v.is_empty()) {
            return Some(Credentials::Token(Zeroizing::new(session.as_bytes().to_vec())));
        }
        let name = headers.get("username")?.to_str().ok()?;
        let password = headers.get("password")?;
        Some(Credentials::Password {
            name: name.rsplit('\\').next().unwrap_or(name).to_owned(),
            password: Zeroizing::new(password.as_bytes().to_vec()),
        })
    }
}

/// One reading of the callers file, with the cache of passwords verified
/// against it.
struct Snapshot {
    callers: Callers,
    cache: CredentialCache,
}

/// A caller whose credentials were verified.
#[derive(Clone)]
pub(crate) struct Identity {
    snapshot: Arc<Snapshot>,
    index: usize,
}

impl Identity {
    /// The caller's name.
    pub(crate) fn name(&self) -> &str {
        &self.snapshot.callers.entries()[self.index].name
    }

    /// The caller's claims.
    pub(crate) fn caller(&self) -> &Caller {
        &self.snapshot.callers.entries()[self.index].caller
    }
}

/// Checks credentials against the current callers file.
pub(crate) struct Authenticator {
    path: PathBuf,
    current: RwLock<Arc<Snapshot>>,
    /// Bounds the argon2 verifications running at once (each takes 19 MiB).
    verifications: Semaphore,
    /// Their memory: one buffer per permit of `verifications`.
    pool: Arc<Argon2Pool>,
    backoff: Backoff,
    unknown_name: PasswordHash,
}

impl Authenticator {
    /// An authenticator over `callers`, read from `path` (and re-read from
    /// it by [`reload`](Self::reload)), verifying at most `parallel`
    /// passwords at once.
    pub(crate) fn new(path: PathBuf, callers: Callers, parallel: usize) -> Result<Self, Failure> {
        let unknown_name = PasswordHash::new(UNKNOWN_NAME_HASH)
            .map_err(|e| Failure::Service(format!("the built-in argon2 hash does not parse: {e}")))?;
        Ok(Self {
            path,
            current: RwLock::new(Arc::new(snapshot(callers)?)),
            verifications: Semaphore::new(parallel.max(1)),
            pool: Arc::new(Argon2Pool::new(parallel.max(1))),
            backoff: Backoff::default(),
            unknown_name,
        })
    }

    /// Re-reads the callers file; on any error the callers in force stay.
    /// Gives how many callers the new file has.
    pub(crate) fn reload(&self) -> Result<usize, Failure> {
        let callers = Callers::load(&self.path)?;
        let count = callers.entries().len();
        let fresh = Arc::new(snapshot(callers)?);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = fresh;
        Ok(count)
    }

    /// The caller these credentials, given from `peer`, prove.
    pub(crate) async fn verify(&self, credentials: Credentials, peer: IpAddr) -> Result<Identity, Refused> {
        let snapshot = Arc::clone(&self.current.read().unwrap_or_else(|e| e.into_inner()));
        let name = match &credentials {
            Credentials::Password { name, .. } => Some(name.clone()),
            Credentials::Token(_) => None,
        };
        let name = name.as_deref();
        if let Some(wait) = self.backoff.wait(peer, name) {
            return Err(Refused::BackOff(wait));
        }
        let identity = match credentials {
            Credentials::Token(token) => {
                let digest: [u8; 32] = Sha256::digest(&*token).into();
                let mut found = None;
                for (index, entry) in snapshot.callers.entries().iter().enumerate() {
                    if let Some(expected) = &entry.token_sha256
                        && bool::from(expected.ct_eq(&digest))
                    {
                        found = Some(index);
                    }
                }
                found.map(|index| Identity { snapshot, index })
            }
            Credentials::Password { name, password } => self.verify_password(snapshot, &name, password).await,
        };
        match identity {
            Some(identity) => {
                if let Some(name) = name {
                    self.backoff.succeeded(name);
                }
                Ok(identity)
            }
            None => {
                self.backoff.failed(peer, name);
                Err(Refused::Unauthorized)
            }
        }
    }

    /// The caller `name` of the callers file in force, if it has a
    /// password (the console's sessions hold a name, and re-check it on
    /// every request: a caller removed or without a password is signed out).
    pub(crate) fn password_caller(&self, name: &str) -> Option<Identity> {
        let snapshot = Arc::clone(&self.current.read().unwrap_or_else(|e| e.into_inner()));
        let index = snapshot.callers.index_of(name)?;
        snapshot.callers.entries()[index].password.as_ref()?;
        Some(Identity { snapshot, index })
    }

    async fn verify_password(
        &self,
        snapshot: Arc<Snapshot>,
        name: &str,
        password: Zeroizing<Vec<u8>>,
    ) -> Option<Identity> {
        let index = snapshot
            .callers
            .index_of(name)
            .filter(|&index| snapshot.callers.entries()[index].password.is_some());
        let tag = snapshot.cache.tag(name, &password);
        let remembered = |snapshot: &Snapshot| index.is_some() && snapshot.cache.contains(&tag);
        if remembered(&snapshot) {
            return index.map(|index| Identity { snapshot, index });
        }
        let _permit = self.verifications.acquire().await.ok()?;
        // Requests with the same credentials that arrived together waited
        // here while the first verified them: argon2 runs once for them all.
        if remembered(&snapshot) {
            return index.map(|index| Identity { snapshot, index });
        }
        let checked = Arc::clone(&snapshot);
        let unknown_name = self.unknown_name.clone();
        let pool = Arc::clone(&self.pool);
        let verified = tokio::task::spawn_blocking(move || {
            let hash = match index {
                Some(index) => checked.callers.entries()[index].password.as_ref(),
                None => None,
            };
            let ok = pool.verify(&password, hash.unwrap_or(&unknown_name));
            ok && hash.is_some()
        })
        .await
        .unwrap_or(false);
        if !verified {
            return None;
        }
        snapshot.cache.insert(tag);
        index.map(|index| Identity { snapshot, index })
    }
}

fn snapshot(callers: Callers) -> Result<Snapshot, Failure> {
    let cache =
        CredentialCache::new().map_err(|e| Failure::Service(format!("the random number source failed: {e}")))?;
    Ok(Snapshot { callers, cache })
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn basic(user_and_password: &str) -> String {
        format!(
            "Basic {}",
            base64ct::Base64::encode_string(user_and_password.as_bytes())
        )
    }

    #[test]
    fn basic_takes_the_user_without_its_domain_and_keeps_colons_in_passwords() {
        for (header, want) in [
            (basic("alice:pw"), "alice"),
            (basic("CORP\\alice:pw:with:colons"), "alice"),
        ] {
            let Some(Credentials::Password { name, password }) =
                Credentials::from_authorization(&headers(&[("authorization", &header)]))
            else {
                panic!("{header}: no password credentials");
            };
            assert_eq!(name, want);
            assert!(password.starts_with(b"pw"));
        }
        assert!(matches!(
            Credentials::from_authorization(&headers(&[("authorization", "bearer abc")])),
            Some(Credentials::Token(t)) if *t == b"abc"
        ));
        for bad in ["Basic !!!", "Basic", "Digest x", "Bearer ", &basic("no-colon")] {
            assert!(
                Credentials::from_authorization(&headers(&[("authorization", bad)])).is_none(),
                "{bad}"
            );
        }
    }

    #[test]
    fn appviewx_headers_prefer_the_session() {
        let h = headers(&[("sessionId", "tok"), ("username", "a"), ("password", "b")]);
        assert!(matches!(
            Credentials::from_appviewx_headers(&h),
            Some(Credentials::Token(_))
        ));
        let h = headers(&[("username", "a"), ("password", "b")]);
        assert!(matches!(
            Credentials::from_appviewx_headers(&h),
            Some(Credentials::Password { .. })
        ));
        assert!(Credentials::from_appviewx_headers(&headers(&[("username", "a")])).is_none());
    }

    #[test]
    fn the_unknown_name_hash_parses() {
        assert!(PasswordHash::new(UNKNOWN_NAME_HASH).is_ok());
    }
}
