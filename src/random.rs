//! Where salts and IVs come from.
//!
//! The exporter takes its randomness from a [`RandomSource`] the caller can
//! replace, so tests can fix salts and IVs and compare bytes exactly with
//! OpenSSL's output for the same inputs.

use crate::ExportError;

/// A source of random bytes for salts and IVs.
pub trait RandomSource: Send + Sync {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]) -> Result<(), ExportError>;
}

/// The operating system's generator (`getrandom`): the default.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), ExportError> {
        getrandom::fill(buf).map_err(|_| ExportError::Random)
    }
}

/// `N` random bytes from `rng`.
pub(crate) fn bytes<const N: usize>(rng: &dyn RandomSource) -> Result<[u8; N], ExportError> {
    let mut out = [0u8; N];
    rng.fill(&mut out)?;
    Ok(out)
}
