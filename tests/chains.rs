//! Chain building (SPEC §5) in the cases real and hostile stores contain.
//! Every exported chain is judged by `openssl verify`, with the chain's
//! last certificate as the trust anchor, at the tests' fixed time.
//!
//! Fixtures (tests/data/make_fixtures.py): algorithms, pki, rollover,
//! renewed, cross, cross-both, loop, deep, missing, crowded.

#![allow(clippy::unwrap_used)]

mod common;

use certexport::options::{ChainPolicy, IncompleteChains, RootCertificate};
use certexport::store::MemoryStore;
use certexport::{CertificateSummary, ExportError, ExportRequest, ExportSettings, Exporter};
use common::{TEST_TIME, by_cn, export, settings, tempdir, write};

/// The chain of the certificate named `cn`, end-entity first, as DER.
fn chain(case: &str, cn: &str, settings: ExportSettings) -> Result<Vec<Vec<u8>>, ExportError> {
    let exporter = Exporter::with_settings(common::store(case), settings);
    let mut request = ExportRequest::new(by_cn(exporter.store(), cn));
    request.include_chain = true;
    request.include_subject_header = false;
    let pem = export(&exporter, &request)?;
    let text = std::str::from_utf8(pem.bytes()).unwrap();
    let store = MemoryStore::from_path(write(tempdir().path(), "chain.pem", text.as_bytes())).unwrap();
    let mut ders: Vec<(u64, Vec<u8>)> = store.iter().map(|(c, _)| (c.id.0, c.der.into_owned())).collect();
    ders.sort();
    Ok(ders.into_iter().map(|(_, d)| d).collect())
}

fn cns(chain: &[Vec<u8>]) -> Vec<String> {
    chain
        .iter()
        .map(|der| {
            let subject = CertificateSummary::from_der(der).unwrap().subject;
            subject.split(',').next().unwrap().trim_start_matches("CN=").to_owned()
        })
        .collect()
}

fn pem(ders: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for der in ders {
        out.extend(common::openssl(&["x509", "-inform", "DER"], der).into_bytes());
    }
    out
}

/// `openssl verify` of `chain[0]` with `chain[last]` as the only trust
/// anchor and the others as untrusted intermediates.
fn openssl_verifies(chain: &[Vec<u8>], partial: bool) {
    let dir = tempdir();
    let leaf = write(dir.path(), "leaf.pem", &pem(&chain[..1]));
    let anchor = write(dir.path(), "anchor.pem", &pem(&chain[chain.len() - 1..]));
    let time = TEST_TIME.to_string();
    let mut args = vec![
        "verify",
        "-attime",
        &time,
        "-auth_level",
        "0",
        "-CAfile",
        anchor.to_str().unwrap(),
    ];
    let untrusted;
    if chain.len() > 2 {
        untrusted = write(dir.path(), "untrusted.pem", &pem(&chain[1..chain.len() - 1]));
        args.extend(["-untrusted", untrusted.to_str().unwrap()]);
    }
    if partial {
        args.push("-partial_chain");
    }
    args.push(leaf.to_str().unwrap());
    let out = common::openssl(&args, b"");
    assert!(out.trim_end().ends_with(": OK"), "{out}");
}

#[test]
fn every_signature_algorithm_verifies() {
    for alg in [
        "rsa-sha256",
        "rsa-sha384",
        "rsa-sha512",
        "rsa-pss-sha256",
        "rsa-pss-sha512",
        "p256-sha256",
        "p384-sha384",
        "p521-sha512",
        "p256-sha384",
        "ed25519",
        "rsa-sha1",
    ] {
        let chain =
            chain("algorithms", &format!("{alg}.leaf.example"), settings()).unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(
            cns(&chain),
            [format!("{alg}.leaf.example"), format!("{alg} Root")],
            "{alg}"
        );
        openssl_verifies(&chain, false);
    }
}

#[test]
fn a_three_level_chain_with_and_without_its_root() {
    let full = chain("pki", "p521.example.com", settings()).unwrap();
    assert_eq!(cns(&full), ["p521.example.com", "Test Intermediate CA", "Test Root CA"]);
    openssl_verifies(&full, false);

    let mut s = settings();
    s.chain.root = RootCertificate::Exclude;
    let served = chain("pki", "p521.example.com", s).unwrap();
    assert_eq!(cns(&served), ["p521.example.com", "Test Intermediate CA"]);
    // Verifies against the root the export left out.
    let mut with_anchor = served.clone();
    with_anchor.push(full[2].clone());
    openssl_verifies(&with_anchor, false);
}

#[test]
fn ca_key_rollover_picks_the_ca_that_signed() {
    // Two "Rollover CA"s; the old key's copy lives longer, so only the
    // signature tells them apart — with and without an AKI in the leaf.
    for leaf in ["with-aki.example.com", "no-aki.example.com"] {
        let chain = chain("rollover", leaf, settings()).unwrap();
        assert_eq!(cns(&chain), [leaf, "Rollover CA"]);
        openssl_verifies(&chain, false);
        let ca = CertificateSummary::from_der(&chain[1]).unwrap();
        assert_eq!(
            ca.not_after, 3_786_912_000,
            "{leaf}: the new CA (notAfter 2090) signed it"
        );
    }
}

#[test]
fn a_renewed_ca_prefers_the_valid_copy() {
    let chain = chain("renewed", "renewed-leaf.example.com", settings()).unwrap();
    let ca = CertificateSummary::from_der(&chain[1]).unwrap();
    assert!(
        ca.not_before <= TEST_TIME && TEST_TIME <= ca.not_after,
        "the copy valid at the export time"
    );
    openssl_verifies(&chain, false);
}

#[test]
fn a_cross_signed_intermediate_reaches_a_root_deterministically() {
    // Root B is absent: the copy of the intermediate under B is preferred
    // (longer validity) but dead-ends, so the path goes through root A.
    let a = chain("cross", "cross-leaf.example.com", settings()).unwrap();
    assert_eq!(
        cns(&a),
        ["cross-leaf.example.com", "Cross Intermediate", "Cross Root A"]
    );
    openssl_verifies(&a, false);
    // Both roots present: the preferred copy, under root B, every time.
    for _ in 0..3 {
        let b = chain("cross-both", "cross-leaf.example.com", settings()).unwrap();
        assert_eq!(
            cns(&b),
            ["cross-leaf.example.com", "Cross Intermediate", "Cross Root B"]
        );
        openssl_verifies(&b, false);
    }
}

#[test]
fn a_loop_ends_with_incomplete_chain() {
    match chain("loop", "loop-leaf.example.com", settings()) {
        Err(ExportError::IncompleteChain { missing_issuer }) => {
            assert_eq!(missing_issuer, "CN=Loop X,O=certexport tests,C=US");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn deep_chains_within_and_past_the_depth_limit() {
    let nine = chain("deep", "leaf-9.example.com", settings()).unwrap();
    assert_eq!(
        nine.len(),
        11,
        "leaf, 9 intermediates, root: 10 issuers, the default limit"
    );
    openssl_verifies(&nine, false);
    assert_eq!(
        chain("deep", "leaf-12.example.com", settings()),
        Err(ExportError::ChainTooLong { limit: 10 })
    );
    let mut s = settings();
    s.chain.max_depth = 13;
    let twelve = chain("deep", "leaf-12.example.com", s).unwrap();
    assert_eq!(twelve.len(), 14);
    openssl_verifies(&twelve, false);
}

#[test]
fn a_missing_intermediate_is_named_and_a_partial_chain_is_optional() {
    match chain("missing", "gap-leaf.example.com", settings()) {
        Err(ExportError::IncompleteChain { missing_issuer }) => {
            assert_eq!(missing_issuer, "CN=Gap Intermediate 1,O=certexport tests,C=US");
        }
        other => panic!("{other:?}"),
    }
    let mut s = settings();
    s.chain.incomplete = IncompleteChains::AllowPartial;
    let partial = chain("missing", "gap-leaf.example.com", s).unwrap();
    assert_eq!(cns(&partial), ["gap-leaf.example.com", "Gap Intermediate 2"]);
    openssl_verifies(&partial, true);
}

#[test]
fn a_crowded_store_is_bounded_by_the_budget() {
    // 301 CAs named "Crowded CA". With an AKI the right one is found by key id.
    let found = chain("crowded", "crowded-aki.example.com", settings()).unwrap();
    assert_eq!(cns(&found), ["crowded-aki.example.com", "Crowded CA"]);
    openssl_verifies(&found, false);
    // Without one, finding it takes more signature checks than the budget allows.
    assert_eq!(
        chain("crowded", "crowded-no-aki.example.com", settings()),
        Err(ExportError::ChainBudgetExceeded {
            what: "signature checks",
            limit: 100
        })
    );
    // A larger budget finds it.
    let mut s = settings();
    s.chain.budget.signature_checks = 1_000;
    s.chain.budget.candidates = 1_000;
    let found = chain("crowded", "crowded-no-aki.example.com", s).unwrap();
    openssl_verifies(&found, false);
    // The candidate budget bounds the store reads too.
    let mut s = settings();
    s.chain.budget.signature_checks = 1_000;
    s.chain.budget.candidates = 50;
    assert_eq!(
        chain("crowded", "crowded-no-aki.example.com", s),
        Err(ExportError::ChainBudgetExceeded {
            what: "issuer candidates",
            limit: 50
        })
    );
}

#[test]
fn the_default_policy_is_documented_numbers() {
    let policy = ChainPolicy::default();
    assert_eq!((policy.max_depth, policy.budget.signature_checks), (10, 100));
    assert_eq!(
        (policy.incomplete, policy.root),
        (IncompleteChains::Refuse, RootCertificate::Include)
    );
}

#[test]
fn remembered_checks_never_vouch_for_a_forged_certificate() {
    // The same exporter builds the genuine chain (its checks are now
    // remembered), then meets a copy of the leaf with one byte of its
    // signed part changed and the genuine signature kept.
    let mut store = common::store("pki");
    let genuine = common::der_of(&store, &by_cn(&store, "rsa.example.com"));
    let at = genuine.windows(15).position(|w| w == b"rsa.example.com").unwrap();
    let mut forged = genuine.clone();
    forged[at] = b's';
    let forged_id = store.insert(forged).unwrap();
    let exporter = Exporter::with_settings(store, settings());
    let chain_of = |lookup: certexport::Lookup| {
        let mut request = ExportRequest::new(lookup);
        request.include_chain = true;
        export(&exporter, &request).map(|a| a.certificate_count())
    };
    for _ in 0..2 {
        assert_eq!(chain_of(by_cn(exporter.store(), "rsa.example.com").into()), Ok(3));
        match chain_of(forged_id.into()) {
            Err(ExportError::IncompleteChain { missing_issuer }) => {
                assert_eq!(missing_issuer, "CN=Test Intermediate CA,O=certexport tests,C=US");
            }
            other => panic!("{other:?}"),
        }
    }
}
