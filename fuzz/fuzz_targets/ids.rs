//! The identifiers that name a certificate (SPEC §2, §10): `Thumbprint`,
//! `SerialNumber` and `Uuid` from text.
//!
//! Oracles:
//! - never a panic; every error's text is bounded;
//! - whatever parses prints (`Display`) as text that parses to the same
//!   value, and prints the same way again;
//! - hex is case-insensitive: a thumbprint or serial in upper case is the
//!   same value; a thumbprint prints as 40 or 64 lower-case hex digits;
//! - a `uuId` is compared exactly: it prints as given.
#![no_main]

use std::fmt::Display;
use std::str::FromStr;

use certexport::ExportError;
use certexport::ids::{SerialNumber, Thumbprint, Uuid};
use certexport_fuzz::checked_text;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);

    if let Some(thumbprint) = round_trip::<Thumbprint>(&text) {
        let printed = thumbprint.to_string();
        assert!(
            matches!(printed.len(), 40 | 64) && printed.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
            "thumbprint printed as {printed:?}"
        );
        assert_eq!(
            text.to_ascii_uppercase().parse::<Thumbprint>().ok(),
            Some(thumbprint),
            "case matters in {text:?}"
        );
    }
    if let Some(serial) = round_trip::<SerialNumber>(&text) {
        assert_eq!(
            text.to_ascii_uppercase().parse::<SerialNumber>().ok(),
            Some(serial),
            "case matters in {text:?}"
        );
    }
    if let Some(uuid) = round_trip::<Uuid>(&text) {
        assert_eq!(uuid.as_str(), text, "a uuId is not kept as given");
    }
});

/// `text` parsed as `T`, checked to print as text that parses back to the
/// same value; `None` (its error checked) if it does not parse.
fn round_trip<T>(text: &str) -> Option<T>
where
    T: FromStr<Err = ExportError> + Display + PartialEq + std::fmt::Debug,
{
    match text.parse::<T>() {
        Ok(value) => {
            let printed = value.to_string();
            match printed.parse::<T>() {
                Ok(again) => {
                    assert_eq!(again, value, "{text:?} prints as {printed:?}, which is another value");
                    assert_eq!(
                        again.to_string(),
                        printed,
                        "{printed:?} prints differently the second time"
                    );
                }
                Err(e) => panic!("{text:?} prints as {printed:?}, which does not parse: {e}"),
            }
            Some(value)
        }
        Err(e) => {
            checked_text(&e);
            None
        }
    }
}
