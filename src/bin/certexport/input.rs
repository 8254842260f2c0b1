//! Small input files of the command line (claims, passwords, requests):
//! regular files only, of bounded size.

use std::path::Path;

use certexport::ExportError;
use zeroize::Zeroizing;

/// The largest claims, password or request file read: 1 MiB.
const MAX_INPUT: u64 = 1 << 20;

/// The bytes of the small input file `path`.
pub(crate) fn read_small_file(path: &Path, what: &'static str) -> Result<Zeroizing<Vec<u8>>, ExportError> {
    certexport::store::read_regular_file(path, MAX_INPUT, what)
}
