//! Our exports beside OpenSSL doing the same work in process (issue 7,
//! items 1–4), with the ratio ours/OpenSSL printed after criterion's
//! output.
//!
//! The store: the generated root, intermediate and 100,000 leaves, plus
//! the fixture PKI of `tests/data/pki/` (RSA root and intermediate,
//! `rsa.example.com` with its RSA-2048 key) for the key exports.
//!
//! 1. `pem`: one leaf as PEM by SHA-1 thumbprint (lookup included), without
//!    and with the `subject=` header line (our default), vs
//!    `X509::to_pem` of a certificate OpenSSL already holds.
//! 2. `p7b`: a leaf's 3-certificate chain (leaf, intermediate, root; found
//!    and verified by our chain builder) as a DER P7B, three ways: `p7b_ours`
//!    through one long-lived exporter over random leaves (the exporter
//!    remembers signature checks, so the two CA checks are usually
//!    remembered and the leaf's is done); `p7b_ours_cold` through a new
//!    exporter each time (all three checks done); `p7b_ours_cached` of the
//!    same leaf again and again (no check done). Against OpenSSL writing a
//!    certificates-only SignedData of the 3 certificates it holds
//!    (`CMS_sign` with no signer), and against the same after
//!    `X509_verify_cert`, which is the chain finding and signature checks
//!    we do and the first twin does not.
//! 3. `pkcs8`: `rsa.example.com`'s key as an encrypted PKCS#8 PEM with our
//!    default (PBES2, PBKDF2-HMAC-SHA256 600,000 iterations, AES-256-CBC),
//!    vs OpenSSL's PBKDF2 + AES-256-CBC + DER + base64 with the same
//!    parameters (see `twins::encrypted_pkcs8_pem` for why not
//!    `private_key_to_pem_pkcs8_passphrase`: it runs 2,048 iterations).
//! 4. `pfx`: `rsa.example.com` with key and chain as a modern PFX (AES-256-CBC
//!    PBES2 for key and certificates, HMAC-SHA256 MAC, 2,048 iterations) vs
//!    `Pkcs12::builder()` set to the same.
//!
//! Run: `cargo bench --all-features --bench export_vs_openssl`
#![allow(clippy::unwrap_used)]

#[path = "support/common.rs"]
mod common;
#[path = "support/generate.rs"]
mod generate;
#[path = "support/twins.rs"]
mod twins;

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use certexport::formats::{KeyEncryption, PfxOptions};
use certexport::ids::Thumbprint;
use certexport::options::{KeyExport, KeyPlacement};
use certexport::store::{CertificateStore, MemoryStore};
use certexport::{Caller, CertificateFormat, ExportRequest, Exporter, Password};
use criterion::SamplingMode;
use openssl::pkey::PKey;
use openssl::x509::X509;

use common::Ratios;
use generate::BenchPki;

const LEAVES: u64 = 100_000;
const PASSWORD: &str = "correct horse battery staple";

fn main() {
    let mut ratios = Ratios::new();
    let mut criterion = common::criterion();
    let pki = BenchPki::new();
    let caller = Caller::single_tenant_full_access();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pki");

    let (mut store, thumbprints) = common::leaf_store(&pki, LEAVES);
    store.load_paths([&fixtures], &Default::default()).unwrap();
    let rsa_pem = std::fs::read(fixtures.join("03-rsa.example.com.pem")).unwrap();
    let rsa_cert = X509::from_pem(&rsa_pem).unwrap();
    let rsa = Thumbprint::sha1_of(&rsa_cert.to_der().unwrap());
    let fixture_chain = [
        X509::from_pem(&std::fs::read(fixtures.join("02-intermediate.pem")).unwrap()).unwrap(),
        X509::from_pem(&std::fs::read(fixtures.join("01-root.pem")).unwrap()).unwrap(),
    ];
    let rsa_key = PKey::private_key_from_pem(&std::fs::read(fixtures.join("03-rsa.example.com.key")).unwrap()).unwrap();
    let rsa_pkcs8 = rsa_key.private_key_to_pkcs8().unwrap();

    // OpenSSL holds the same leaves, parsed once.
    let held: Vec<X509> = thumbprints
        .iter()
        .take(1_000)
        .map(|t| X509::from_der(&der_of(&store, t)).unwrap())
        .collect();
    let root = X509::from_der(&pki.root).unwrap();
    let intermediate = X509::from_der(&pki.intermediate).unwrap();
    let exporter = Exporter::with_settings(&store, common::settings());

    let pem_request = |thumbprint: Thumbprint, header: bool| {
        let mut request = ExportRequest::new(thumbprint);
        request.include_subject_header = header;
        request
    };
    let p7b_request = |thumbprint: Thumbprint| {
        let mut request = ExportRequest::new(thumbprint);
        request.format = CertificateFormat::P7b;
        request.include_chain = true;
        request
    };
    let key_request = || {
        let mut request = ExportRequest::new(rsa);
        request.private_key = KeyExport::Encrypted {
            placement: KeyPlacement::KeyOnly,
            password: Password::new(PASSWORD).unwrap(),
            encryption: KeyEncryption::default(),
        };
        request
    };
    let pfx_request = || {
        let mut request = ExportRequest::new(rsa);
        request.format = CertificateFormat::Pfx;
        request.include_chain = true;
        request.private_key = KeyExport::Encrypted {
            placement: KeyPlacement::WithCertificate,
            password: Password::new(PASSWORD).unwrap(),
            encryption: KeyEncryption::default(),
        };
        request
    };
    check_twins(
        &exporter,
        &caller,
        &held[0],
        &intermediate,
        &root,
        thumbprints[0],
        &rsa_pkcs8,
    );

    let mut group = criterion.benchmark_group("export_vs_openssl");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    // Both sides cycle over the same 1,000 certificates (of the 100,000 in
    // the store), so both meet the same caches.
    let mut next = thumbprints.iter().take(held.len()).copied().cycle();
    let mut next_held = held.iter().cycle();
    group.bench_function("pem_ours_no_header", |b| {
        b.iter(|| {
            black_box(
                exporter
                    .export(&caller, &pem_request(next.next().unwrap(), false))
                    .unwrap(),
            )
        })
    });
    group.bench_function("pem_ours_default", |b| {
        b.iter(|| {
            black_box(
                exporter
                    .export(&caller, &pem_request(next.next().unwrap(), true))
                    .unwrap(),
            )
        })
    });
    group.bench_function("pem_openssl", |b| {
        b.iter(|| black_box(next_held.next().unwrap().to_pem().unwrap()))
    });

    group.bench_function("p7b_ours", |b| {
        b.iter(|| black_box(exporter.export(&caller, &p7b_request(next.next().unwrap())).unwrap()))
    });
    group.bench_function("p7b_ours_cold", |b| {
        b.iter(|| {
            let fresh = Exporter::with_settings(&store, common::settings());
            black_box(fresh.export(&caller, &p7b_request(next.next().unwrap())).unwrap())
        })
    });
    group.bench_function("p7b_ours_cached", |b| {
        b.iter(|| black_box(exporter.export(&caller, &p7b_request(thumbprints[0])).unwrap()))
    });
    group.bench_function("p7b_openssl", |b| {
        b.iter(|| {
            black_box(twins::certs_only_p7b(&[
                next_held.next().unwrap(),
                &intermediate,
                &root,
            ]))
        })
    });
    let mut verifier = twins::Verifier::new(&pki.root, &[&pki.intermediate], generate::EXPORT_TIME);
    group.bench_function("p7b_openssl_verified", |b| {
        b.iter(|| {
            let leaf = next_held.next().unwrap();
            assert_eq!(verifier.chain_len(leaf), 3);
            black_box(twins::certs_only_p7b(&[leaf, &intermediate, &root]))
        })
    });
    group.finish();

    // Key derivation dominates: ~0.1–0.3 s per export, so few flat samples.
    let mut group = criterion.benchmark_group("export_vs_openssl_keys");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let iterations = KeyEncryption::DEFAULT_PBES2_ITERATIONS;
    group.bench_function("pkcs8_ours", |b| {
        b.iter(|| black_box(exporter.export(&caller, &key_request()).unwrap()))
    });
    group.bench_function("pkcs8_openssl", |b| {
        b.iter(|| black_box(twins::encrypted_pkcs8_pem(&rsa_pkcs8, PASSWORD.as_bytes(), iterations)))
    });
    let chain: Vec<&X509> = fixture_chain.iter().collect();
    let pfx_iterations = PfxOptions::DEFAULT_ITERATIONS;
    group.bench_function("pfx_ours", |b| {
        b.iter(|| black_box(exporter.export(&caller, &pfx_request()).unwrap()))
    });
    group.bench_function("pfx_openssl", |b| {
        b.iter(|| {
            black_box(twins::modern_pfx(
                &rsa_key,
                &rsa_cert,
                &chain,
                "rsa.example.com",
                PASSWORD,
                pfx_iterations,
            ))
        })
    });
    group.finish();
    criterion.final_summary();

    let id = |f: &str| match f.starts_with("pkcs8") || f.starts_with("pfx") {
        true => format!("export_vs_openssl_keys/{f}"),
        false => format!("export_vs_openssl/{f}"),
    };
    let rows = [
        (
            "1. PEM by thumbprint (no header) / X509::to_pem",
            "pem_ours_no_header",
            "pem_openssl",
        ),
        (
            "1. PEM by thumbprint (subject header) / X509::to_pem",
            "pem_ours_default",
            "pem_openssl",
        ),
        (
            "2. P7B, leaf checked, CA checks remembered / CMS",
            "p7b_ours",
            "p7b_openssl",
        ),
        (
            "2. P7B, all 3 checks remembered / CMS",
            "p7b_ours_cached",
            "p7b_openssl",
        ),
        ("2. P7B, new exporter, 3 checks / CMS", "p7b_ours_cold", "p7b_openssl"),
        (
            "2. P7B, new exporter, 3 checks / verify + CMS",
            "p7b_ours_cold",
            "p7b_openssl_verified",
        ),
        (
            "2. P7B, leaf checked / verify + CMS",
            "p7b_ours",
            "p7b_openssl_verified",
        ),
        ("3. PKCS#8 PBES2 600k AES-256-CBC PEM", "pkcs8_ours", "pkcs8_openssl"),
        ("4. PFX modern with chain (2,048 iterations)", "pfx_ours", "pfx_openssl"),
    ];
    for (label, ours, reference) in rows {
        ratios.pair(label, &id(ours), &id(reference));
    }
    ratios.print("export_vs_openssl");
}

fn der_of(store: &MemoryStore, thumbprint: &Thumbprint) -> Vec<u8> {
    store
        .certificate_by_thumbprint(thumbprint)
        .unwrap()
        .unwrap()
        .der
        .into_owned()
}

/// Shows once that each twin makes what ours makes: the same PEM bytes,
/// the same certificates in the same order, a key OpenSSL decrypts.
fn check_twins(
    exporter: &Exporter<&MemoryStore>,
    caller: &Caller,
    leaf: &X509,
    intermediate: &X509,
    root: &X509,
    thumbprint: Thumbprint,
    pkcs8: &[u8],
) {
    let mut request = ExportRequest::new(Thumbprint::sha1_of(&leaf.to_der().unwrap()));
    request.include_subject_header = false;
    let ours = exporter.export(caller, &request).unwrap();
    assert_eq!(ours.bytes(), &leaf.to_pem().unwrap()[..], "PEM twins differ");

    let mut request = ExportRequest::new(thumbprint);
    request.format = CertificateFormat::P7b;
    request.include_chain = true;
    let ours = exporter.export(caller, &request).unwrap();
    let leaf = X509::from_der(&der_of(exporter.store(), &thumbprint)).unwrap();
    let theirs = twins::certs_only_p7b(&[&leaf, intermediate, root]);
    let order = |der: &[u8]| -> Vec<Vec<u8>> {
        let p7 = openssl::pkcs7::Pkcs7::from_der(der).unwrap();
        let certs = p7.signed().unwrap().certificates().unwrap();
        certs.iter().map(|c| c.to_der().unwrap()).collect()
    };
    let expected = vec![
        leaf.to_der().unwrap(),
        intermediate.to_der().unwrap(),
        root.to_der().unwrap(),
    ];
    assert_eq!(order(ours.bytes()), expected, "our P7B order");
    println!(
        "P7B: ours {} bytes, OpenSSL CMS {} bytes; OpenSSL keeps the chain order: {}",
        ours.bytes().len(),
        theirs.len(),
        order(&theirs) == expected
    );

    let pem = twins::encrypted_pkcs8_pem(pkcs8, PASSWORD.as_bytes(), 1_000);
    let key = PKey::private_key_from_pkcs8_passphrase(&pem_body(&pem), PASSWORD.as_bytes()).unwrap();
    assert_eq!(
        key.private_key_to_pkcs8().unwrap(),
        pkcs8,
        "OpenSSL's PKCS#8 twin does not decrypt"
    );
}

fn pem_body(pem: &str) -> Vec<u8> {
    let base64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    openssl::base64::decode_block(&base64).unwrap()
}
