//! The fast certificate-field reader (`src/fast_der.rs`, used by
//! `CertificateView::parse`) against the same walk written with the `der`
//! crate (`src/certificate/der_twin.rs`): the same fields for every input
//! the `der` walk accepts, and a refusal wherever it refuses — on every
//! fixture certificate and on every one-byte change and truncation of a
//! few of them. Also the PEM body writer and reader (`formats::pem`, on the
//! `base64` crate) against the crate's plain encoding and decoding.
//!
//! Fixtures: every certificate under tests/data/ (tests/data/make_fixtures.py).
#![cfg(feature = "bench-internals")]
#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine;
use certexport::__internals::{
    base64_decode_pem_body, base64_pem_body, der_certificate_fields, fast_certificate_fields,
};

/// Every certificate of every fixture file.
fn fixtures() -> Vec<Vec<u8>> {
    let mut all = Vec::new();
    let mut dirs = vec![common::data("")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "pem" || e == "der" || e == "p7b")
                && let Ok(certificates) = certexport::formats::read_certificates(&std::fs::read(&path).unwrap())
            {
                all.extend(certificates);
            }
        }
    }
    assert!(all.len() > 30, "{} fixture certificates", all.len());
    all
}

fn agree(input: &[u8]) {
    let fast = fast_certificate_fields(input);
    let twin = der_certificate_fields(input);
    match (&fast, &twin) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "fields differ"),
        (Err(_), Err(_)) => {}
        _ => panic!(
            "fast reader {} where the der walk {} ({:?}) {}",
            if fast.is_ok() { "accepts" } else { "refuses" },
            if twin.is_ok() { "accepts" } else { "refuses" },
            twin.as_ref().err(),
            input.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ),
    }
}

#[test]
fn every_fixture_reads_the_same_both_ways() {
    for der in fixtures() {
        assert!(fast_certificate_fields(&der).is_ok());
        agree(&der);
    }
}

#[test]
fn every_one_byte_change_and_truncation_is_judged_the_same() {
    // Three shapes: an RSA leaf with extensions, an EC leaf, a root.
    let all = fixtures();
    let samples: Vec<&Vec<u8>> = [0, all.len() / 2, all.len() - 1].iter().map(|&i| &all[i]).collect();
    let mut checked = 0;
    for der in samples {
        for at in 0..der.len() {
            for value in [
                0x00,
                0xff,
                der[at] ^ 0x80,
                der[at].wrapping_add(1),
                der[at].wrapping_sub(1),
            ] {
                let mut changed = der.clone();
                changed[at] = value;
                agree(&changed);
                checked += 1;
            }
            agree(&der[..at]);
        }
    }
    assert!(checked > 5_000, "{checked}");
}

#[test]
fn dates_are_accepted_exactly_where_der_accepts_them() {
    // A certificate whose notBefore is replaced by each date in turn.
    let der = fixtures().remove(0);
    let at = der.windows(2).position(|w| w == [0x17, 13]).expect("a UTCTime");
    for date in [
        "700101000000Z",
        "691231235959Z",
        "500101000000Z",
        "491231235959Z",
        "000229000000Z",
        "010229000000Z",
        "010431000000Z",
        "011231235960Z",
        "0112312359592",
        "99123123595Z0",
    ] {
        let mut changed = der.clone();
        changed[at + 2..at + 15].copy_from_slice(date.as_bytes());
        agree(&changed);
    }
}

#[test]
fn a_multi_byte_tag_in_an_authority_key_identifier_is_refused_both_ways() {
    // Found by the der_reader fuzz target: the der walk only peeked at the
    // AKI's first element and took a multi-byte tag there for "no key id",
    // where the fast reader refuses the tag. A minimal certificate shape
    // (the readers check structure, not signatures).
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        assert!(content.len() < 0x80);
        [&[tag, content.len() as u8][..], content].concat()
    }
    let certificate = |aki_content: &[u8]| {
        let time = tlv(0x17, b"200101000000Z");
        let aki = tlv(0x30, aki_content);
        let extension = tlv(0x30, &[tlv(0x06, &[0x55, 0x1d, 0x23]), tlv(0x04, &aki)].concat());
        let empty = tlv(0x30, &[]);
        let tbs = [
            tlv(0x02, &[1]),
            empty.clone(),
            empty.clone(),
            tlv(0x30, &[time.clone(), time].concat()),
            empty.clone(),
            empty.clone(),
            tlv(0xa3, &tlv(0x30, &extension)),
        ]
        .concat();
        tlv(0x30, &[tlv(0x30, &tbs), empty, tlv(0x03, &[0])].concat())
    };
    let with_key_id = certificate(&tlv(0x80, &[1, 2, 3]));
    agree(&with_key_id);
    assert!(fast_certificate_fields(&with_key_id).is_ok());
    // [31], primitive: the tag number takes a second octet.
    let multi_byte = certificate(&[0x9f, 0x1f, 0x00]);
    agree(&multi_byte);
    assert!(fast_certificate_fields(&multi_byte).is_err());
}

#[test]
fn base64_matches_the_base64_crate() {
    let engine = base64::engine::general_purpose::STANDARD;
    for der in fixtures().iter().take(10) {
        let mut ours = Vec::new();
        base64_pem_body(&mut ours, der);
        let crate_text: String = engine
            .encode(der)
            .as_bytes()
            .chunks(64)
            .map(|line| format!("{}\n", std::str::from_utf8(line).unwrap()))
            .collect();
        assert_eq!(String::from_utf8(ours.clone()).unwrap(), crate_text);
        let mut back = Vec::new();
        assert_eq!(base64_decode_pem_body(&ours, &mut back).unwrap(), ours.len());
        assert_eq!(&back, der);
    }
}

#[test]
fn base64_refuses_what_the_base64_crate_refuses() {
    // Non-canonical trailing bits (`Zh==` decodes to the same byte as
    // `Zg==` in a lax decoder), bad padding, stray characters.
    let engine = base64::engine::general_purpose::STANDARD;
    for text in [
        "Zg==", "Zh==", "Zm9=", "Zm9v", "Zm8=", "Zm9vYg=", "Z===", "Zg=a", "Zm9v!", "=Zm9",
    ] {
        let mut out = Vec::new();
        let ours = base64_decode_pem_body(text.as_bytes(), &mut out).map(|_| out.clone());
        let theirs = engine.decode(text);
        assert_eq!(ours.is_ok(), theirs.is_ok(), "{text}");
        if let (Ok(a), Ok(b)) = (ours, theirs) {
            assert_eq!(a, b, "{text}");
        }
    }
}
