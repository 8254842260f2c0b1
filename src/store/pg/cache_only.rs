//! Answering from the answer cache alone, never waiting on a database:
//! for a caller on an async runtime's own thread, which must not block.
//!
//! [`cached_answers_only`] runs its work with a flag set on the calling
//! thread. While it is set, a [`PgStore`](super::PgStore) answers a lookup
//! only from an answer it may trust without a round trip; anything else
//! (an answer not cached, a cache due for its check of the change counter,
//! a private key) ends the work's store calls with an error and marks the
//! run as missed, and the work's result is dropped. The caller then runs
//! the same work where it may block (`spawn_blocking`). So a warm lookup
//! costs no hand-over to another thread, and a cold one costs one
//! attempt more, which stops at the first store call.

use std::cell::Cell;

use super::PgStoreError;
use crate::error::ExportError;

thread_local! {
    /// Whether the thread is in [`cached_answers_only`], and whether a
    /// store call of it missed.
    static MODE: Cell<Mode> = const { Cell::new(Mode::MayBlock) };
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    MayBlock,
    CacheOnly { missed: bool },
}

/// Runs `work` with every [`PgStore`](super::PgStore) call on this thread
/// answered from its answer cache alone; `None` if any call would have had
/// to ask a database (the work's result is then dropped: run it again
/// where it may block). Calls of other stores are not affected.
///
/// ```no_run
/// # use certexport::store::{cached_answers_only, CertificateStore, PgStore};
/// # fn lookup(store: &PgStore) -> Result<(), certexport::ExportError> {
/// let found = match cached_answers_only(|| store.certificate(certexport::ids::CertId(3))) {
///     Some(found) => found,
///     // In an async server: inside spawn_blocking.
///     None => store.certificate(certexport::ids::CertId(3)),
/// }?;
/// # Ok(()) }
/// ```
pub fn cached_answers_only<T>(work: impl FnOnce() -> T) -> Option<T> {
    let outer = MODE.replace(Mode::CacheOnly { missed: false });
    // Restored even if `work` panics.
    struct Restore(Mode);
    impl Drop for Restore {
        fn drop(&mut self) {
            MODE.set(self.0);
        }
    }
    let restore = Restore(outer);
    let result = work();
    let missed = MODE.get() == Mode::CacheOnly { missed: true };
    drop(restore);
    (!missed).then_some(result)
}

/// Whether the thread may not wait on a database now.
pub(super) fn active() -> bool {
    MODE.get() != Mode::MayBlock
}

/// Marks the run as missed; the error that ends the store call.
pub(super) fn miss() -> ExportError {
    MODE.set(Mode::CacheOnly { missed: true });
    ExportError::backend(PgStoreError::NotCached)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_miss_drops_the_result_and_the_flag_is_only_set_inside() {
        assert!(!active());
        assert_eq!(cached_answers_only(active), Some(true));
        assert_eq!(cached_answers_only(|| miss().to_string()), None);
        assert!(!active());
        let nested = cached_answers_only(|| cached_answers_only(|| 1));
        assert_eq!(nested, Some(Some(1)));
        let caught = std::panic::catch_unwind(|| cached_answers_only(|| panic!("work failed")));
        assert!(caught.is_err());
        assert!(!active(), "restored after a panic");
    }
}
