//! What the fuzz targets share: the bound on error text, a fixed source of
//! salts and IVs, the fixture paths, a scratch directory per process, and
//! the check that a secret never shows in text meant for people.
//!
//! A failed check is a panic: libFuzzer reports it as a crash and keeps
//! the input (README.md says how to replay it).
#![forbid(unsafe_code)]

use std::error::Error as _;
use std::path::{Path, PathBuf};

use certexport::ExportError;
use certexport::random::RandomSource;

/// The longest error text (`Display`, and each `source()`'s) accepted,
/// whatever the size of the input: errors quote a bounded part of it.
pub const MAX_ERROR_TEXT: usize = 2_000;

/// Validity is judged at 2030-01-01T00:00:00Z, as in the integration
/// tests (tests/common/mod.rs): never the clock, so runs repeat exactly.
pub const FIXED_TIME: i64 = 1_893_456_000;

/// Checks that `error`'s text, and the text of every error under it, is
/// bounded, and returns the `Display` text.
pub fn checked_text(error: &ExportError) -> String {
    let text = error.to_string();
    assert!(
        text.len() < MAX_ERROR_TEXT,
        "error text of {} bytes: {}…",
        text.len(),
        text.chars().take(200).collect::<String>()
    );
    let mut source = error.source();
    while let Some(inner) = source {
        let len = inner.to_string().len();
        assert!(len < MAX_ERROR_TEXT, "source error text of {len} bytes under {text}");
        source = inner.source();
    }
    text
}

/// Salts and IVs from a fixed pattern, so that every run of an input
/// produces the same bytes (the crate's default is the OS generator).
#[derive(Debug, Clone, Copy, Default)]
pub struct FixedRandom;

impl RandomSource for FixedRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), ExportError> {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(151).wrapping_add(7);
        }
        Ok(())
    }
}

/// `tests/data/<case>` of the certexport checkout this crate sits in.
pub fn fixture(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data").join(case)
}

/// A fresh, empty directory for this process (`$TMPDIR/certexport-fuzz-<what>-<pid>`):
/// libFuzzer's `-fork`/`-jobs` workers each get their own. It is left
/// behind when the process ends (libFuzzer exits without unwinding);
/// `run-all` points `TMPDIR` into `fuzz/target/` and empties it.
pub fn scratch_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("certexport-fuzz-{what}-{}", std::process::id()));
    // A directory left by an earlier process with the same id is stale.
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        panic!("cannot create the scratch directory {}: {e}", dir.display());
    }
    dir
}

/// A text meant for people (an error, a `Debug` dump), under a name for
/// the report.
pub type Shown<'a> = (&'a str, String);

/// Checks that `secret` shows in none of `texts`, the outputs of one run.
///
/// `again` gives the same outputs for a run that differs only in the
/// secret (another text of the same length). A secret seen in the first
/// run's outputs only counts when that run shows it and the other does
/// not: then it came from the secret, not from a field name, a fixed
/// message or another input that happens to hold the same text. The
/// second run is made only then, so the check costs nothing in the common
/// case.
pub fn assert_secret_hidden(secret: &str, texts: &[Shown<'_>], again: impl FnOnce() -> Vec<String>) {
    let Some((name, _)) = texts.iter().find(|(_, text)| text.contains(secret)) else {
        return;
    };
    if again().iter().all(|text| !text.contains(secret)) {
        let shown = texts
            .iter()
            .find(|(_, text)| text.contains(secret))
            .map_or("", |(_, t)| t);
        panic!("the secret {secret:?} shows in {name}: {shown}");
    }
}

/// A text of the same length as `secret` with none of its characters (the
/// other run of [`assert_secret_hidden`]).
pub fn other_secret(secret: &str) -> String {
    let filler = ['#', '%', '~', 'Q', 'z', '\u{2603}']
        .into_iter()
        .find(|c| !secret.contains(*c))
        .unwrap_or('\u{2604}');
    std::iter::repeat_n(filler, secret.chars().count()).collect()
}
