//! Distinguished names (SPEC §2): the RFC 4514 parser
//! (`DistinguishedName: FromStr`) on the input as text, and the comparison
//! key of a DER `Name` (`NameKey::from_der`) on the input as bytes.
//!
//! Oracles:
//! - never a panic; every error's text is bounded;
//! - parsing is deterministic: the same keys twice, and the string kept as given;
//! - attribute types and values compare case-insensitively (RFC 4514,
//!   RFC 5280 §7.1): the ASCII upper-case spelling of a DN that parses
//!   parses to the same keys (hex digits, escapes and OIDs mean the same
//!   in either case);
//! - a DER name the store can index prints (as `certexport list` and PEM
//!   subject headers print it) as a string that parses back to the same
//!   key: a user can copy an issuer DN the crate printed into a lookup
//!   (the empty name aside: no issuer is empty).
#![no_main]

use certexport::__internals::name_to_rfc4514;
use certexport::name::{DistinguishedName, NameKey};
use certexport_fuzz::checked_text;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match text.parse::<DistinguishedName>() {
        Ok(dn) => {
            assert_eq!(dn.as_str(), text, "the DN string is not kept as given");
            let again = parse(&text);
            assert_eq!(
                (dn.key(), dn.reversed_key()),
                (again.key(), again.reversed_key()),
                "parsing twice differs"
            );
            let upper = parse(&text.to_ascii_uppercase());
            assert_eq!(
                (dn.key(), dn.reversed_key()),
                (upper.key(), upper.reversed_key()),
                "the upper-case spelling of {text:?} names another DN"
            );
        }
        Err(e) => {
            checked_text(&e);
        }
    }

    match NameKey::from_der(data) {
        Ok(key) => {
            assert_eq!(
                NameKey::from_der(data).ok().as_ref(),
                Some(&key),
                "the key of a DER name differs twice"
            );
            // A name the crate cannot print (an OID it cannot read, say) is
            // an error where it would be printed; one it prints must parse.
            // Except the empty name (a subject may be empty; an issuer, which
            // is what lookups name, may not: RFC 5280 §4.1.2.4), which the
            // parser refuses as naming nothing.
            if let Some(printed) = name_to_rfc4514(data).ok().filter(|p| !p.is_empty()) {
                let dn = parse(&printed);
                assert_eq!(dn.key(), &key, "the printed name {printed:?} names another DN");
            }
        }
        Err(_) => {
            // No text to bound: `der::Error`'s Display is the crate's own
            // fixed wording with positions.
        }
    }
});

/// The DN of a string that must parse.
fn parse(text: &str) -> DistinguishedName {
    match text.parse() {
        Ok(dn) => dn,
        Err(e) => panic!("{text:?} does not parse: {e}"),
    }
}
