//! Log lines that a flood could repeat thousands of times a second (a
//! failed request during a database outage, a failed `accept`) are
//! written at most [`ERROR_LINES_PER_SECOND`] a second; the next line
//! written says how many were left out (`suppressed`), and `/metrics`
//! counts them (`certexport_log_lines_suppressed_total`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

/// The most lines of one kind a second.
pub(crate) const ERROR_LINES_PER_SECOND: u64 = 5;

/// Failed requests (`request failed`).
pub(crate) static ERRORS: LogLimit = LogLimit::new();

/// Failed `accept` calls.
pub(crate) static ACCEPT_FAILURES: LogLimit = LogLimit::new();

/// Lines left out by every limit, for `/metrics`.
pub(crate) fn suppressed_total() -> u64 {
    ERRORS.suppressed_total.load(Ordering::Relaxed) + ACCEPT_FAILURES.suppressed_total.load(Ordering::Relaxed)
}

/// A limit of [`ERROR_LINES_PER_SECOND`] lines a second.
pub(crate) struct LogLimit {
    window: Mutex<Window>,
    suppressed_total: AtomicU64,
}

struct Window {
    /// Seconds since [`epoch`] of the current window.
    second: u64,
    written: u64,
    suppressed: u64,
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

impl LogLimit {
    const fn new() -> Self {
        Self {
            window: Mutex::new(Window {
                second: 0,
                written: 0,
                suppressed: 0,
            }),
            suppressed_total: AtomicU64::new(0),
        }
    }

    /// Whether a line may be written now; if so, how many lines were
    /// left out since the last one written.
    pub(crate) fn allow(&self) -> Option<u64> {
        let second = epoch().elapsed().as_secs();
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        if window.second != second {
            window.second = second;
            window.written = 0;
        }
        if window.written >= ERROR_LINES_PER_SECOND {
            window.suppressed += 1;
            self.suppressed_total.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        window.written += 1;
        Some(std::mem::take(&mut window.suppressed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_few_lines_a_second_and_counts_the_rest() {
        let limit = LogLimit::new();
        let allowed: Vec<Option<u64>> = (0..1_000).map(|_| limit.allow()).collect();
        let written = allowed.iter().filter(|a| a.is_some()).count() as u64;
        // The loop may straddle one second boundary.
        assert!((ERROR_LINES_PER_SECOND..=2 * ERROR_LINES_PER_SECOND).contains(&written));
        assert_eq!(limit.suppressed_total.load(Ordering::Relaxed), 1_000 - written);
    }
}
