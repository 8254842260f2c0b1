//! Loading and indexing 100,000 certificates (SPEC §8), beside OpenSSL
//! and Python `cryptography` reading the same bundle.
//!
//! - `ours_bundle`: `MemoryStore::from_path` of one PEM bundle of 100,000
//!   generated leaves: read, PEM-decoded, each certificate's fields read
//!   and indexed (id, SHA-1, SHA-256, issuer+serial, subject, SKI).
//! - `ours_directory`: the same leaves as 100,000 one-certificate files.
//! - `openssl_bundle`: the file read, `X509::stack_from_pem` (every
//!   certificate fully decoded) and a SHA-1 digest of each into a
//!   `HashMap`, the minimum index a thumbprint lookup needs.
//! - Python: `benches/python_load.py` over the same bundle
//!   (`load_pem_x509_certificates` + a SHA-1 dict), run as a child
//!   process if `python3` with `cryptography` is installed.
//!
//! Figures are per certificate. Before criterion runs, the resident
//! memory a loaded store adds (`VmRSS` after − before) is printed beside
//! the DER bytes it holds.
//!
//! Run: `cargo bench --all-features --bench load`
#![allow(clippy::unwrap_used)]

#[path = "support/common.rs"]
mod common;
#[path = "support/generate.rs"]
mod generate;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use certexport::store::MemoryStore;
use criterion::SamplingMode;
use openssl::hash::MessageDigest;
use openssl::x509::X509;

use common::Ratios;
use generate::BenchPki;

const LEAVES: u64 = 100_000;

fn main() {
    let ratios = Ratios::new();
    let mut criterion = common::criterion();
    let pki = BenchPki::new();
    let bundle = generate::leaves_bundle(&pki, LEAVES);
    let directory = generate::leaves_directory(&pki, LEAVES);

    report_memory(&bundle);
    let python = python_us_per_certificate(&bundle);

    let mut group = criterion.benchmark_group("load");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));
    group.bench_function("ours_bundle", |b| {
        b.iter_with_large_drop(|| MemoryStore::from_path(&bundle).unwrap())
    });
    group.bench_function("ours_directory", |b| {
        b.iter_with_large_drop(|| MemoryStore::from_path(&directory).unwrap())
    });
    group.bench_function("openssl_bundle", |b| b.iter_with_large_drop(|| openssl_index(&bundle)));
    group.finish();
    criterion.final_summary();

    println!("\n== load: 100,000 certificates (criterion's estimates of this run) ==");
    let per_certificate = |id: &str| {
        ratios
            .estimate(&format!("load/{id}"))
            .map(|ns| ns / 1e3 / LEAVES as f64)
    };
    let openssl = per_certificate("openssl_bundle");
    for (label, id) in [
        ("ours, one PEM bundle", "ours_bundle"),
        ("ours, directory of one-certificate files", "ours_directory"),
        ("OpenSSL stack_from_pem + SHA-1 HashMap", "openssl_bundle"),
    ] {
        match per_certificate(id) {
            Some(us) => println!(
                "{label:<44} {us:>7.2} µs/cert   vs OpenSSL {:>6}   vs Python {:>6}",
                ratio(Some(us), openssl),
                ratio(Some(us), python)
            ),
            None => println!("{label:<44} not run"),
        }
    }
    match python {
        Some(us) => println!("{:<44} {us:>7.2} µs/cert", "Python cryptography + SHA-1 dict"),
        None => println!("Python cryptography: not available (python3 -m pip install cryptography)"),
    }
}

/// OpenSSL's equivalent of our load: decode every certificate and index
/// it by SHA-1.
fn openssl_index(bundle: &Path) -> HashMap<[u8; 20], X509> {
    let pem = std::fs::read(bundle).unwrap();
    X509::stack_from_pem(&pem)
        .unwrap()
        .into_iter()
        .map(|cert| {
            let digest = cert.digest(MessageDigest::sha1()).unwrap();
            (<[u8; 20]>::try_from(&digest[..]).unwrap(), cert)
        })
        .collect()
}

/// Prints what a loaded store adds to the resident set, against the DER
/// bytes it holds.
fn report_memory(bundle: &Path) {
    let before = common::resident_bytes();
    let store = MemoryStore::from_path(bundle).unwrap();
    let after = common::resident_bytes();
    let der: usize = store.iter().map(|(c, _)| c.der.len()).sum();
    let added = after.saturating_sub(before);
    println!(
        "memory: {} certificates, {:.1} MiB DER held, resident set +{:.1} MiB ({:.0} bytes/cert, {:.2}x the DER)",
        store.len(),
        der as f64 / 1048576.0,
        added as f64 / 1048576.0,
        added as f64 / store.len() as f64,
        added as f64 / der as f64
    );
}

/// Runs `benches/python_load.py` on the bundle; its µs per certificate.
fn python_us_per_certificate(bundle: &Path) -> Option<f64> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/python_load.py");
    let output = Command::new("python3").arg(script).arg(bundle).output().ok()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    print!("{stdout}");
    if !output.status.success() {
        eprint!("{}", String::from_utf8_lossy(&output.stderr));
        return None;
    }
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("us_per_certificate="))
        .and_then(|v| v.trim().parse().ok())
}

fn ratio(ours: Option<f64>, reference: Option<f64>) -> String {
    match (ours, reference) {
        (Some(a), Some(b)) => format!("{:.2}x", a / b),
        _ => "-".into(),
    }
}
