//! Chain order and subject headers in PEM and P7B (SPEC §3), as OpenSSL
//! and Python `cryptography` read them.
//!
//! Fixtures: tests/data/pki (root → intermediate → p256.example.com).

#![allow(clippy::unwrap_used)]

mod common;

use certexport::formats::P7bEncoding;
use certexport::options::ChainOrder;
use certexport::{CertificateFormat, ExportRequest};
use common::{by_cn, export, exporter, openssl_subjects, python};

const LEAF: &str = "CN=p256.example.com,O=certexport tests,C=US";
const INTERMEDIATE: &str = "CN=Test Intermediate CA,O=certexport tests,C=US";
const ROOT: &str = "CN=Test Root CA,O=certexport tests,C=US";

fn chain_request(
    format: CertificateFormat,
    order: ChainOrder,
) -> (certexport::Exporter<certexport::store::MemoryStore>, ExportRequest) {
    let exporter = exporter("pki");
    let mut request = ExportRequest::new(by_cn(exporter.store(), "p256.example.com"));
    request.format = format;
    request.include_chain = true;
    request.chain_order = order;
    (exporter, request)
}

fn expected(order: ChainOrder) -> Vec<&'static str> {
    match order {
        ChainOrder::EndEntityFirst => vec![LEAF, INTERMEDIATE, ROOT],
        ChainOrder::RootFirst => vec![ROOT, INTERMEDIATE, LEAF],
        other => panic!("no expectation for {other:?}"),
    }
}

#[test]
fn p7b_keeps_both_orders_as_openssl_reads_them() {
    for order in [ChainOrder::RootFirst, ChainOrder::EndEntityFirst] {
        let (exporter, request) = chain_request(CertificateFormat::P7b, order);
        let p7b = export(&exporter, &request).unwrap();
        let read = openssl_subjects(&["pkcs7", "-inform", "DER", "-print_certs", "-noout"], p7b.bytes());
        assert_eq!(read, expected(order), "openssl, {order}");
        let py = common::python_subjects(common::PY_SUBJECTS_DER_P7B, p7b.bytes());
        assert_eq!(py, expected(order), "python, {order}");
    }
}

#[test]
fn pem_p7b_keeps_both_orders() {
    for order in [ChainOrder::RootFirst, ChainOrder::EndEntityFirst] {
        let (exporter, mut request) = chain_request(CertificateFormat::P7b, order);
        request.p7b_encoding = P7bEncoding::Pem;
        let p7b = export(&exporter, &request).unwrap();
        assert_eq!(
            openssl_subjects(&["pkcs7", "-print_certs", "-noout"], p7b.bytes()),
            expected(order)
        );
        let py = common::python_subjects(common::PY_SUBJECTS_PEM_P7B, p7b.bytes());
        assert_eq!(py, expected(order));
    }
}

#[test]
fn pem_keeps_both_orders() {
    for order in [ChainOrder::RootFirst, ChainOrder::EndEntityFirst] {
        let (exporter, request) = chain_request(CertificateFormat::Pem, order);
        let pem = export(&exporter, &request).unwrap();
        let py = common::python_subjects(common::PY_SUBJECTS_PEM, pem.bytes());
        assert_eq!(py, expected(order), "{order}");
    }
}

#[test]
fn subject_headers_precede_every_block_and_match_python() {
    let (exporter, request) = chain_request(CertificateFormat::Pem, ChainOrder::EndEntityFirst);
    let pem = export(&exporter, &request).unwrap();
    let text = std::str::from_utf8(pem.bytes()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let headers: Vec<&str> = lines
        .windows(2)
        .filter(|w| w[1] == "-----BEGIN CERTIFICATE-----")
        .map(|w| {
            w[0].strip_prefix("subject=")
                .expect("a subject= line directly before each block")
        })
        .collect();
    assert_eq!(headers, expected(ChainOrder::EndEntityFirst));
    // The header is the RFC 4514 form that Python prints for the same certificate.
    let py = common::python_subjects(common::PY_SUBJECTS_PEM, pem.bytes());
    assert_eq!(headers, py);
}

#[test]
fn subject_headers_can_be_left_out() {
    for format in [CertificateFormat::Pem, CertificateFormat::Cer, CertificateFormat::Crt] {
        let (exporter, mut request) = chain_request(format, ChainOrder::EndEntityFirst);
        request.include_subject_header = false;
        let pem = export(&exporter, &request).unwrap();
        let text = std::str::from_utf8(pem.bytes()).unwrap();
        assert!(text.starts_with("-----BEGIN CERTIFICATE-----\n"), "{format}");
        assert!(!text.contains("subject="), "{format}");
        assert_eq!(python(common::PY_SUBJECTS_PEM, pem.bytes()).lines().next(), Some(LEAF));
    }
}

#[test]
fn subject_header_setting_is_ignored_for_der_and_p7b() {
    for header in [true, false] {
        let (exporter, mut request) = chain_request(CertificateFormat::P7b, ChainOrder::EndEntityFirst);
        request.include_subject_header = header;
        let p7b = export(&exporter, &request).unwrap();
        assert_eq!(p7b.bytes()[0], 0x30, "P7B stays DER");
        let (exporter, mut request) = chain_request(CertificateFormat::Der, ChainOrder::EndEntityFirst);
        request.include_chain = false;
        request.include_subject_header = header;
        let der = export(&exporter, &request).unwrap();
        assert_eq!(
            der.bytes(),
            common::der_of(exporter.store(), &by_cn(exporter.store(), "p256.example.com"))
        );
    }
}
