//! The callers file: who may call, how they prove it, and their claims.
//!
//! ```json
//! { "callers": [
//!     { "name": "alice", "password": "$argon2id$v=19$m=19456,t=2,p=1$...",
//!       "claims": ["/certificates/collections/read/5/"] },
//!     { "name": "deploy-bot", "token_sha256": "<hex of SHA-256 of the token>",
//!       "claims": ["/certificates/collections/read/", "/certificates/collections/private_key/read/"] } ] }
//! ```
//!
//! Each caller has a unique `name` and at least one credential: an
//! argon2id PHC string (`certexport hash-password` makes one) for Basic
//! auth and AppViewX's `username`/`password` headers, and/or the SHA-256
//! of a token for `Bearer` and AppViewX's `sessionId`. Claims are the access model's
//! strings; a malformed one, an unknown field, a second caller of the same
//! name, a hash that is not argon2id or asks for more than 256 MiB
//! refuses the whole file, so a typo
//! never silently locks a caller out or lets one in.

use std::collections::HashMap;
use std::path::Path;

use argon2::PasswordHash;
use certexport::{Caller, Claim};
use serde::Deserialize;

use super::argon2_pool::MAX_M_COST;
use crate::failure::Failure;

/// The largest callers file read: 4 MiB.
const MAX_FILE: u64 = 4 << 20;

/// The parsed callers file.
pub(crate) struct Callers {
    entries: Vec<CallerEntry>,
    by_name: HashMap<String, usize>,
}

/// One caller.
pub(crate) struct CallerEntry {
    /// The caller's name (audit lines and logs show it).
    pub(crate) name: String,
    /// The claims the exporter checks.
    pub(crate) caller: Caller,
    /// The argon2id hash of the password, if the caller has one.
    pub(crate) password: Option<PasswordHash>,
    /// The SHA-256 of the token, if the caller has one.
    pub(crate) token_sha256: Option<[u8; 32]>,
}

impl std::fmt::Debug for CallerEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallerEntry")
            .field("name", &self.name)
            .field("claims", &self.caller.claims())
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    callers: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    token_sha256: Option<String>,
    #[serde(default)]
    claims: Vec<String>,
}

impl Callers {
    /// Reads and checks the callers file at `path`.
    pub(crate) fn load(path: &Path) -> Result<Self, Failure> {
        let bytes = certexport::store::read_regular_file(path, MAX_FILE, "a callers file")?;
        warn_if_world_readable(path);
        Self::parse(&bytes).map_err(|why| Failure::Usage(format!("callers file {}: {why}", path.display())))
    }

    fn parse(bytes: &[u8]) -> Result<Self, String> {
        let file: File = serde_json::from_slice(bytes).map_err(|e| {
            // serde's message names the field; the line and column say where.
            format!("not a callers file ({e})")
        })?;
        let mut entries = Vec::with_capacity(file.callers.len());
        let mut by_name = HashMap::new();
        for entry in file.callers {
            let checked = check(entry)?;
            if by_name.insert(checked.name.clone(), entries.len()).is_some() {
                return Err(format!("caller {:?} is given twice", checked.name));
            }
            entries.push(checked);
        }
        Ok(Self { entries, by_name })
    }

    /// Where the caller named `name` is in [`entries`](Self::entries).
    pub(crate) fn index_of(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// Every caller.
    pub(crate) fn entries(&self) -> &[CallerEntry] {
        &self.entries
    }
}

fn check(entry: Entry) -> Result<CallerEntry, String> {
    let name = entry.name;
    if name.is_empty() || name.len() > 256 || name.chars().any(|c| c.is_control() || c == ':') {
        return Err(format!(
            "caller name {:?} must be 1-256 characters without ':' or control characters",
            name.chars().take(64).collect::<String>()
        ));
    }
    let password = entry
        .password
        .map(|phc| {
            let hash =
                PasswordHash::new(&phc).map_err(|e| format!("caller {name:?}: password is not a PHC string ({e})"))?;
            if hash.algorithm.as_str() != "argon2id" {
                return Err(format!(
                    "caller {name:?}: password must be an argon2id hash (certexport hash-password makes one)"
                ));
            }
            let params = argon2::Params::try_from(&hash)
                .map_err(|e| format!("caller {name:?}: the argon2id parameters do not read ({e})"))?;
            if params.m_cost() > MAX_M_COST {
                return Err(format!(
                    "caller {name:?}: the argon2id memory cost m={} is over the {} KiB the server allows",
                    params.m_cost(),
                    MAX_M_COST
                ));
            }
            Ok(hash)
        })
        .transpose()?;
    let token_sha256 = entry
        .token_sha256
        .map(|hex| parse_sha256(&hex).ok_or_else(|| format!("caller {name:?}: token_sha256 must be 64 hex digits")))
        .transpose()?;
    if password.is_none() && token_sha256.is_none() {
        return Err(format!("caller {name:?} has neither a password nor a token_sha256"));
    }
    let claims = entry
        .claims
        .iter()
        .map(|c| c.parse::<Claim>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("caller {name:?}: {e}"))?;
    Ok(CallerEntry {
        name,
        caller: Caller::with_claims(claims),
        password,
        token_sha256,
    })
}

fn parse_sha256(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.trim().as_bytes();
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let text = std::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(text, 16).ok()?;
    }
    Some(out)
}

/// The file holds no secret (hashes only), but whoever can write it can let
/// anyone in: warn when others may even read it.
fn warn_if_world_readable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(metadata) = std::fs::metadata(path)
        && metadata.permissions().mode() & 0o006 != 0
    {
        tracing::warn!(
            "callers file {} is readable or writable by every user; chmod o-rw it",
            path.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHC: &str =
        "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$oYc8Z6l6Fz5Ny9c9sAPbQdsLJ9f0u0W9l3UNqfrI0Ls";

    #[test]
    fn reads_both_kinds_of_caller() {
        let text = format!(
            r#"{{"callers": [
                {{"name": "alice", "password": "{PHC}", "claims": ["/certificates/collections/read/5/"]}},
                {{"name": "bot", "token_sha256": "{}", "claims": []}}]}}"#,
            "ab".repeat(32)
        );
        let callers = Callers::parse(text.as_bytes()).unwrap();
        let alice = &callers.entries()[callers.index_of("alice").unwrap()];
        assert_eq!(alice.caller.claims(), [Claim::ReadCollection(5)]);
        assert!(alice.password.is_some() && alice.token_sha256.is_none());
        assert_eq!(callers.entries()[1].token_sha256, Some([0xab; 32]));
        assert!(!format!("{alice:?}").contains("argon2"));
    }

    #[test]
    fn refuses_what_would_silently_change_who_gets_in() {
        let cases = [
            r#"{"callers": [{"name": "a", "claims": []}]}"#.to_owned(),
            r#"{"callers": [{"name": "a", "token_sha256": "abc"}]}"#.to_owned(),
            format!(
                r#"{{"callers": [{{"name": "a", "password": "{}"}}]}}"#,
                PHC.replace("argon2id", "argon2i")
            ),
            format!(
                r#"{{"callers": [{{"name": "a", "token_sha256": "{}", "claims": ["/nope/"]}}]}}"#,
                "00".repeat(32)
            ),
            format!(
                r#"{{"callers": [{{"name": "a", "token_sha256": "{0}"}}, {{"name": "a", "token_sha256": "{0}"}}]}}"#,
                "00".repeat(32)
            ),
            format!(
                r#"{{"callers": [{{"name": "a", "token_sha256": "{}", "role": "admin"}}]}}"#,
                "00".repeat(32)
            ),
            format!(
                r#"{{"callers": [{{"name": "a:b", "token_sha256": "{}"}}]}}"#,
                "00".repeat(32)
            ),
        ];
        for case in cases {
            assert!(Callers::parse(case.as_bytes()).is_err(), "{case}");
        }
    }
}
