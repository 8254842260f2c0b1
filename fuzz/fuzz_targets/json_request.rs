//! The JSON requests that carry a password (SPEC §9 `--request`, §10):
//! Keyfactor's Recover body (`wire::RecoverRequest`) and AppViewX's key
//! download (`wire::AvxKeyRequest`), read and turned into an
//! `ExportRequest` as a service does, with a fuzzed password in them.
//! `outputs` is the one place that calls the wire module, so the target
//! follows a new entry point by changing it.
//!
//! Input: a flags byte (bit 0: the password is written into the JSON as it
//! is, not as a JSON string — a client sending `"Password": 12345678`; bit
//! 1: the AppViewX call, `{"password":…`, else Recover, `{"Password":…`),
//! a length byte, the password, and the rest of the JSON after the
//! password.
//!
//! Oracles:
//! - never a panic; every error's text is bounded;
//! - the password (8 characters or more) shows in no error's `Display` or
//!   `Debug`, nor in the `Debug` of the parsed request or of the export
//!   request built from it. It counts only when a run with another
//!   password of the same length does not show it (then it is not a field
//!   name or a fixed word), which is also what keeps the oracle from false
//!   alarms. A raw password counts only when it is a JSON number.
#![no_main]

use certexport::formats::KeyEncryption;
use certexport::ids::CertId;
use certexport::wire::{AvxKeyRequest, RecoverRequest, query_scope, recover_format};
use certexport::{ExportError, ExportRequest};
use certexport_fuzz::{Shown, assert_secret_hidden, checked_text, other_secret};
use libfuzzer_sys::fuzz_target;

/// Shorter passwords are too likely to occur in any text by chance.
const MIN_SECRET_CHARS: usize = 8;

fuzz_target!(|data: &[u8]| {
    let [flags, len, rest @ ..] = data else { return };
    let raw = flags & 1 == 1;
    let avx = flags & 2 == 2;
    let (password, tail) = rest.split_at(usize::from(*len).min(rest.len()));
    let password = String::from_utf8_lossy(password);

    let texts = outputs(&json(&password, raw, avx, tail), avx);
    let checked = password.chars().count() >= MIN_SECRET_CHARS
        && (!raw || serde_json::from_str::<serde_json::Number>(&password).is_ok());
    if checked {
        let other = if raw {
            other_number(&password)
        } else {
            other_secret(&password)
        };
        assert_secret_hidden(&password, &texts, || {
            outputs(&json(&other, raw, avx, tail), avx)
                .into_iter()
                .map(|(_, text)| text)
                .collect()
        });
    }
});

/// `{"Password":` (`{"password":` for AppViewX) and the password, as a
/// JSON string or as it is, then the tail.
fn json(password: &str, raw: bool, avx: bool, tail: &[u8]) -> Vec<u8> {
    let value = if raw {
        password.to_owned()
    } else {
        serde_json::Value::from(password).to_string()
    };
    let field: &[u8] = if avx { b"{\"password\":" } else { b"{\"Password\":" };
    [field, value.as_bytes(), tail].concat()
}

/// Every text the request's path shows a person: its errors and the
/// `Debug` of what it parses to.
fn outputs(json: &[u8], avx: bool) -> Vec<Shown<'static>> {
    let mut shown = Vec::new();
    let error = |what: &'static str, e: &ExportError, shown: &mut Vec<Shown<'static>>| {
        shown.push((what, checked_text(e)));
        shown.push((what, format!("{e:?}")));
    };
    if avx {
        match AvxKeyRequest::from_json(json) {
            Ok(parsed) => {
                shown.push(("the parsed request", format!("{parsed:?}")));
                let request = parsed.into_export_request(KeyEncryption::default());
                shown.push(("the export request", format!("{request:?}")));
            }
            Err(e) => error("the parse error", &e, &mut shown),
        }
        return shown;
    }
    let parsed = match RecoverRequest::from_json(json) {
        Ok(parsed) => parsed,
        Err(e) => {
            error("the parse error", &e, &mut shown);
            return shown;
        }
    };
    shown.push(("the parsed request", format!("{parsed:?}")));
    shown.push(("the unknown fields", format!("{:?}", parsed.unknown_fields())));
    // As the command line does: the body's options onto a request of its own.
    let mut applied = ExportRequest::new(CertId(1));
    parsed.apply_to(&mut applied);
    shown.push(("the request it was applied to", format!("{applied:?}")));
    // As a service does: the format from the header, the scope from the query.
    let export = recover_format(None).and_then(|format| parsed.into_export_request(format, query_scope(Some(5), None)));
    match export {
        Ok(request) => shown.push(("the export request", format!("{request:?}"))),
        Err(e) => error("the export request error", &e, &mut shown),
    }
    shown
}

/// A JSON number of the same shape as `number` with other digits (no
/// leading zero, so it stays a number).
fn other_number(number: &str) -> String {
    number
        .chars()
        .map(|c| match c {
            '0'..='8' => char::from(c as u8 + 1),
            '9' => '1',
            c => c,
        })
        .collect()
}
