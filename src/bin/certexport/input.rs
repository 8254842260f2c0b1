//! Small input files of the command line (claims, passwords, requests):
//! regular files only, of bounded size.

use std::path::Path;

use certexport::{Caller, ExportError};
use zeroize::Zeroizing;

/// The largest claims, password or request file read: 1 MiB.
const MAX_INPUT: u64 = 1 << 20;

/// The bytes of the small input file `path`.
pub(crate) fn read_small_file(path: &Path, what: &'static str) -> Result<Zeroizing<Vec<u8>>, ExportError> {
    certexport::store::read_regular_file(path, MAX_INPUT, what)
}

/// The caller of `--claims FILE` (one claim per line), or without it the
/// local operator, with full rights.
pub(crate) fn caller(claims: Option<&Path>) -> Result<Caller, ExportError> {
    Ok(match claims {
        Some(path) => Caller::from_claim_lines(&String::from_utf8_lossy(&read_small_file(path, "a claims file")?))?,
        None => Caller::single_tenant_full_access(),
    })
}
