//! `certexport hash-password`: reads a password on stdin (its first line,
//! without the line ending) and prints its argon2id PHC string for a
//! callers file (`"password": "$argon2id$v=19$m=19456,t=2,p=1$…"`).
//!
//! Parameters are argon2's defaults (OWASP's minimum: 19 MiB, 2 passes,
//! one lane) and a random 16-byte salt. The password never comes from
//! argv, where other users of the machine could read it.

use std::io::Read;

use argon2::{Argon2, PasswordHasher};
use zeroize::Zeroizing;

use crate::failure::Failure;

/// The most bytes read from stdin: a password is a line, not a file.
const MAX_INPUT: u64 = 64 * 1024;

pub(crate) fn hash_password() -> Result<(), Failure> {
    let mut input = Zeroizing::new(Vec::new());
    std::io::stdin()
        .take(MAX_INPUT + 1)
        .read_to_end(&mut input)
        .map_err(|e| Failure::Usage(format!("cannot read the password from stdin: {e}")))?;
    if input.len() as u64 > MAX_INPUT {
        return Err(Failure::Usage(format!(
            "stdin holds more than {MAX_INPUT} bytes: give one line, the password"
        )));
    }
    let line = input.split(|&b| b == b'\n').next().unwrap_or_default();
    let password = line.strip_suffix(b"\r").unwrap_or(line);
    if password.is_empty() {
        return Err(Failure::Usage("no password on stdin (its first line is empty)".into()));
    }
    let hash = Argon2::default()
        .hash_password(password)
        .map_err(|e| Failure::Service(format!("cannot hash the password: {e}")))?;
    crate::output::to_stdout(format!("{hash}\n").as_bytes())
}
