//! The format × extension × chain matrix of SPEC §3, judged by OpenSSL.
//!
//! Fixtures: tests/data/pki (root → intermediate → rsa.example.com).

#![allow(clippy::unwrap_used)]

mod common;

use certexport::formats::KeyEncryption;
use certexport::options::FileExtension as E;
use certexport::options::{KeyExport, KeyPlacement};
use certexport::{CertificateFormat as F, ExportError, ExportRequest, Password};
use common::{by_cn, export, exporter, openssl, openssl_subjects};

const LEAF: &str = "CN=rsa.example.com,O=certexport tests,C=US";
const INTERMEDIATE: &str = "CN=Test Intermediate CA,O=certexport tests,C=US";
const ROOT: &str = "CN=Test Root CA,O=certexport tests,C=US";

/// What a pair must produce.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// PEM text holding these certificates, in this file name.
    Pem(&'static str, &'static [&'static str]),
    /// One DER certificate.
    Der(&'static str),
    /// A DER P7B holding these certificates in this order.
    P7b(&'static str, &'static [&'static str]),
    /// `IncompatibleOptions` naming both sides.
    Refused,
}

use Expect::*;

/// Every format × extension pair: formats CER, CRT, DER, PEM, P7B against
/// extensions CER, CRT, PEM, P7B, PFX. IncludeChain is on for P7B (which
/// requires it) and for CER/CRT (which ignore it), off for DER (which
/// refuses it), and on for PEM (which honours it).
#[rustfmt::skip]
const PAIRS: [(F, E, bool, Expect); 25] = [
    (F::Cer, E::Cer, true, Pem("rsa.example.com.cer", &[LEAF])),
    (F::Cer, E::Crt, true, Refused),
    (F::Cer, E::Pem, true, Refused),
    (F::Cer, E::P7b, true, Refused),
    (F::Cer, E::Pfx, true, Refused),
    (F::Crt, E::Cer, true, Refused),
    (F::Crt, E::Crt, true, Pem("rsa.example.com.crt", &[LEAF])),
    (F::Crt, E::Pem, true, Refused),
    (F::Crt, E::P7b, true, Refused),
    (F::Crt, E::Pfx, true, Refused),
    (F::Der, E::Cer, false, Der("rsa.example.com.cer")),
    (F::Der, E::Crt, false, Der("rsa.example.com.crt")),
    (F::Der, E::Pem, false, Refused),
    (F::Der, E::P7b, false, Refused),
    (F::Der, E::Pfx, false, Refused),
    (F::Pem, E::Cer, true, Pem("rsa.example.com.cer", &[LEAF, INTERMEDIATE, ROOT])),
    (F::Pem, E::Crt, true, Pem("rsa.example.com.crt", &[LEAF, INTERMEDIATE, ROOT])),
    (F::Pem, E::Pem, true, Pem("rsa.example.com.pem", &[LEAF, INTERMEDIATE, ROOT])),
    (F::Pem, E::P7b, true, Refused),
    (F::Pem, E::Pfx, true, Refused),
    (F::P7b, E::Cer, true, Refused),
    (F::P7b, E::Crt, true, Refused),
    (F::P7b, E::Pem, true, Refused),
    (F::P7b, E::P7b, true, P7b("rsa.example.com.p7b", &[LEAF, INTERMEDIATE, ROOT])),
    (F::P7b, E::Pfx, true, Refused),
];

fn request(format: F, extension: Option<E>, include_chain: bool) -> ExportRequest {
    let exporter = exporter("pki");
    let mut request = ExportRequest::new(by_cn(exporter.store(), "rsa.example.com"));
    request.format = format;
    request.extension = extension;
    request.include_chain = include_chain;
    request
}

fn check(format: F, extension: Option<E>, include_chain: bool, expect: Expect) {
    let exporter = exporter("pki");
    let req = request(format, extension, include_chain);
    let case = format!("{format} {extension:?} chain={include_chain}");
    match (export(&exporter, &req), expect) {
        (Ok(a), Pem(name, subjects)) => {
            assert_eq!(a.file_name(), name, "{case}");
            assert_eq!(a.content_type(), "application/x-pem-file", "{case}");
            assert_eq!(a.certificate_count(), subjects.len(), "{case}");
            let pem = String::from_utf8(a.bytes().to_vec()).unwrap();
            assert_eq!(
                pem.matches("-----BEGIN CERTIFICATE-----").count(),
                subjects.len(),
                "{case}"
            );
            // openssl reads every block of the file, in file order.
            let p7 = openssl(&["crl2pkcs7", "-nocrl", "-certfile", "/dev/stdin"], a.bytes());
            assert_eq!(
                openssl_subjects(&["pkcs7", "-print_certs", "-noout"], p7.as_bytes()),
                subjects,
                "{case}"
            );
        }
        (Ok(a), Der(name)) => {
            assert_eq!(a.file_name(), name, "{case}");
            assert_eq!(a.content_type(), "application/pkix-cert", "{case}");
            assert_eq!(a.certificate_count(), 1);
            assert_eq!(
                openssl_subjects(&["x509", "-inform", "DER", "-noout", "-subject"], a.bytes()),
                [LEAF],
                "{case}"
            );
            assert_eq!(
                a.bytes(),
                common::der_of(exporter.store(), &by_cn(exporter.store(), "rsa.example.com"))
            );
        }
        (Ok(a), P7b(name, subjects)) => {
            assert_eq!(a.file_name(), name, "{case}");
            assert_eq!(a.content_type(), "application/pkcs7-mime", "{case}");
            assert_eq!(a.certificate_count(), subjects.len());
            let read = openssl_subjects(&["pkcs7", "-inform", "DER", "-print_certs", "-noout"], a.bytes());
            assert_eq!(read, subjects, "{case}");
        }
        (Err(ExportError::IncompatibleOptions { first, second }), Refused) => {
            let both = format!("{first} / {second}");
            assert!(both.contains(format.as_str()), "{case}: {both}");
            if let Some(ext) = extension {
                assert!(both.contains(&format!(".{}", ext.as_str())), "{case}: {both}");
            }
        }
        (got, expect) => panic!("{case}: expected {expect:?}, got {got:?}"),
    }
}

#[test]
fn all_25_format_extension_pairs_behave_as_spec_3() {
    for (format, extension, chain, expect) in PAIRS {
        check(format, Some(extension), chain, expect);
    }
}

#[test]
fn default_extensions_follow_the_format() {
    check(F::Cer, None, false, Pem("rsa.example.com.cer", &[LEAF]));
    check(F::Crt, None, false, Pem("rsa.example.com.crt", &[LEAF]));
    check(F::Der, None, false, Der("rsa.example.com.cer"));
    check(F::Pem, None, false, Pem("rsa.example.com.pem", &[LEAF]));
    check(
        F::P7b,
        None,
        true,
        P7b("rsa.example.com.p7b", &[LEAF, INTERMEDIATE, ROOT]),
    );
}

#[test]
fn include_chain_rules() {
    // DER holds one certificate: IncludeChain is an error.
    let err = export(&exporter("pki"), &request(F::Der, None, true)).unwrap_err();
    assert!(
        matches!(&err, ExportError::IncompatibleOptions { first, second } if first.contains("DER") && second.contains("IncludeChain")),
        "{err}"
    );
    // P7B requires the chain.
    let err = export(&exporter("pki"), &request(F::P7b, None, false)).unwrap_err();
    assert!(
        matches!(&err, ExportError::IncompatibleOptions { first, second } if first.contains("P7B") && second.contains("IncludeChain")),
        "{err}"
    );
    // CER and CRT ignore it: end-entity only either way.
    check(F::Cer, None, true, Pem("rsa.example.com.cer", &[LEAF]));
    check(F::Crt, None, false, Pem("rsa.example.com.crt", &[LEAF]));
    // PEM honours it both ways.
    check(F::Pem, None, false, Pem("rsa.example.com.pem", &[LEAF]));
    check(
        F::Pem,
        None,
        true,
        Pem("rsa.example.com.pem", &[LEAF, INTERMEDIATE, ROOT]),
    );
}

fn with_key(placement: KeyPlacement) -> KeyExport {
    KeyExport::Encrypted {
        placement,
        password: Password::new("pw").unwrap(),
        encryption: KeyEncryption::default().with_iterations(1_000),
    }
}

#[test]
fn key_outputs_and_their_refusals() {
    let exporter = exporter("pki");
    // Certificate + key: PEM (with its extensions) or PFX; nothing else.
    for (format, extension, ok) in [
        (F::Pem, None, Some("rsa.example.com.pem")),
        (F::Pem, Some(E::Crt), Some("rsa.example.com.crt")),
        (F::Pfx, None, Some("rsa.example.com.pfx")),
        (F::Pfx, Some(E::Pem), None),
        (F::Cer, None, None),
        (F::Crt, None, None),
        (F::Der, None, None),
        (F::P7b, None, None),
    ] {
        let mut req = request(format, extension, false);
        req.private_key = with_key(KeyPlacement::WithCertificate);
        match (export(&exporter, &req), ok) {
            (Ok(a), Some(name)) => {
                assert_eq!(a.file_name(), name);
                assert!(a.contains_private_key());
            }
            (Err(ExportError::IncompatibleOptions { .. }), None) => {}
            (got, _) => panic!("{format} {extension:?}: {got:?}"),
        }
    }
    // Key alone: PEM (.key or .pem) or DER (.p8).
    for (format, extension, ok) in [
        (F::Pem, None, Some(("rsa.example.com.key", "application/x-pem-file"))),
        (
            F::Pem,
            Some(E::Pem),
            Some(("rsa.example.com.pem", "application/x-pem-file")),
        ),
        (F::Der, None, Some(("rsa.example.com.p8", "application/pkcs8"))),
        (F::Der, Some(E::Cer), None),
        (F::Cer, None, None),
        (F::P7b, None, None),
        (F::Pfx, None, None),
    ] {
        let mut req = request(format, extension, false);
        req.private_key = with_key(KeyPlacement::KeyOnly);
        match (export(&exporter, &req), ok) {
            (Ok(a), Some((name, mime))) => {
                assert_eq!(
                    (a.file_name(), a.content_type(), a.certificate_count()),
                    (name, mime, 0)
                );
            }
            (Err(ExportError::IncompatibleOptions { .. }), None) => {}
            (got, _) => panic!("key only {format} {extension:?}: {got:?}"),
        }
    }
    // A key alone with the chain makes no sense.
    let mut req = request(F::Pem, None, true);
    req.private_key = with_key(KeyPlacement::KeyOnly);
    assert!(matches!(
        export(&exporter, &req),
        Err(ExportError::IncompatibleOptions { .. })
    ));
    // PFX needs a key.
    let req = request(F::Pfx, None, false);
    assert!(matches!(
        export(&exporter, &req),
        Err(ExportError::IncompatibleOptions { .. })
    ));
}

#[test]
fn p7b_can_be_pem_for_openssl() {
    let exporter = exporter("pki");
    let mut req = request(F::P7b, None, true);
    req.p7b_encoding = certexport::formats::P7bEncoding::Pem;
    let a = export(&exporter, &req).unwrap();
    let text = std::str::from_utf8(a.bytes()).unwrap();
    assert!(text.starts_with("-----BEGIN PKCS7-----\n"), "{text}");
    assert_eq!(a.file_name(), "rsa.example.com.p7b");
    assert_eq!(
        openssl_subjects(&["pkcs7", "-print_certs", "-noout"], a.bytes()),
        [LEAF, INTERMEDIATE, ROOT]
    );
}
