//! Claims (SPEC §7): `Claim: FromStr` on each line of the input, and
//! `Caller::from_claim_lines` on the whole of it.
//!
//! Oracles:
//! - never a panic; every error's text is bounded;
//! - a claim prints (`Display`) as a claim string that parses to the same
//!   claim;
//! - a caller's claims, printed one per line, read back as the same caller;
//! - strictness: a caller read from lines holds exactly one claim per
//!   line that is neither blank nor a `#` comment, each the claim that
//!   line parses to alone (a malformed line is an error, never skipped).
#![no_main]

use certexport::{Caller, Claim};
use certexport_fuzz::checked_text;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);

    for line in text.lines() {
        match line.parse::<Claim>() {
            Ok(claim) => {
                let printed = claim.to_string();
                match printed.parse::<Claim>() {
                    Ok(again) => assert_eq!(again, claim, "{line:?} prints as {printed:?}, another claim"),
                    Err(e) => panic!("{line:?} prints as {printed:?}, which does not parse: {e}"),
                }
            }
            Err(e) => {
                checked_text(&e);
            }
        }
    }

    match Caller::from_claim_lines(&text) {
        Ok(caller) => {
            let meant: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .collect();
            assert_eq!(
                caller.claims().len(),
                meant.len(),
                "claims lost or invented from {text:?}"
            );
            for (claim, line) in caller.claims().iter().zip(&meant) {
                assert_eq!(
                    line.parse::<Claim>().ok().as_ref(),
                    Some(claim),
                    "{line:?} read as {claim}"
                );
            }
            let printed: Vec<String> = caller.claims().iter().map(Claim::to_string).collect();
            match Caller::from_claim_lines(&printed.join("\n")) {
                Ok(again) => assert_eq!(again, caller, "the printed claims {printed:?} read as another caller"),
                Err(e) => panic!("the printed claims {printed:?} do not read back: {e}"),
            }
        }
        Err(e) => {
            checked_text(&e);
        }
    }
});
