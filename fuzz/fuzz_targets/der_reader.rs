//! The hand-written certificate-field reader (`src/fast_der.rs`, behind
//! every load and export) against the same walk written with the `der`
//! crate (`src/certificate/der_twin.rs`), on arbitrary bytes: the
//! differential of `tests/der_reader.rs`, beyond the one-byte changes of
//! fixtures that test tries.
//!
//! Oracle: both refuse, or both accept with equal fields.
#![no_main]

use certexport::__internals::{der_certificate_fields, fast_certificate_fields};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match (fast_certificate_fields(data), der_certificate_fields(data)) {
        (Ok(fast), Ok(twin)) => assert_eq!(fast, twin, "the readers read different fields"),
        (Err(_), Err(_)) => {}
        (fast, twin) => panic!(
            "the fast reader {} where the der walk {}: fast {:?}, der {:?}",
            if fast.is_ok() { "accepts" } else { "refuses" },
            if twin.is_ok() { "accepts" } else { "refuses" },
            fast.err(),
            twin.err()
        ),
    }
});
