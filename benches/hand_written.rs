//! The hand-written code the crate keeps, beside the crates it stands in
//! for, on the same generated certificates in the same run, with the
//! user-visible operations they sit in:
//!
//! - `fields`: the certificate-field walk of `src/fast_der.rs` vs the same
//!   walk with the `der` crate's reader (`src/certificate/der_twin.rs`).
//!   An export reads its certificate once; a load, each certificate once.
//! - `load_bundle`: loading a PEM bundle of 1,000 of those certificates
//!   into a new store (per certificate): the user-visible operation that
//!   reads every field of every certificate. (An export reads a
//!   certificate's fields only when it builds a chain; a PEM export walks
//!   to the subject alone.)
//! - `pbkdf2_loop` / `pbkdf2_crate`: PBKDF2-HMAC-SHA256 at 600,000
//!   iterations (the encrypted PKCS#8 default) through the crate's loop
//!   (`src/formats/pbkdf2.rs`) and through the `pbkdf2` crate. The
//!   derivation is all but the whole of an encrypted-key export (and most
//!   of a PFX export).
//!
//! The lines at the end give the crate's extra cost as a share of the
//! operation it sits in: (crate − ours) / operation. The rule (issue 12):
//! ours stays only where that share is above 20%: the field reader
//! (load) and PBKDF2 (encrypted-key and PFX exports) do. The PEM encoder and the
//! PEM body decoder were measured the same way — the `base64` crate cost
//! +3.9% of an export, and +15.5%, +15.9% and +20.8% of a bundle load in
//! three runs — and both gave way to the crate (since its SIMD engine, in
//! 0.23, it is faster than they were).
//!
//! Run: `cargo bench --features bench-internals --bench hand_written`
#![allow(clippy::unwrap_used)]

#[path = "support/common.rs"]
mod common;
#[path = "support/generate.rs"]
mod generate;

use std::hint::black_box;
use std::time::Duration;

use certexport::__internals::{der_certificate_fields, fast_certificate_fields, pbkdf2_hmac_sha256};
use certexport::formats::KeyEncryption;
use certexport::store::{LoadOptions, MemoryStore};
use certexport::{Caller, ExportRequest, Exporter};
use common::Ratios;
use criterion::SamplingMode;
use generate::BenchPki;

const LEAVES: u64 = 10_000;

fn main() {
    let mut ratios = Ratios::new();
    let mut criterion = common::criterion();
    let pki = BenchPki::new();
    let (store, thumbprints) = common::leaf_store(&pki, LEAVES);
    let leaves: Vec<Vec<u8>> = thumbprints
        .iter()
        .take(1_000)
        .map(|t| {
            use certexport::store::CertificateStore;
            store.certificate_by_thumbprint(t).unwrap().unwrap().der.into_owned()
        })
        .collect();

    let mut group = criterion.benchmark_group("hand_written");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));

    let mut next = leaves.iter().cycle();
    group.bench_function("fields_fast_der", |b| {
        b.iter(|| black_box(fast_certificate_fields(black_box(next.next().unwrap())).unwrap()))
    });
    let mut next = leaves.iter().cycle();
    group.bench_function("fields_der_crate", |b| {
        b.iter(|| black_box(der_certificate_fields(black_box(next.next().unwrap())).unwrap()))
    });

    let exporter = Exporter::with_settings(&store, common::settings());
    let caller = Caller::single_tenant_full_access();
    let mut next = thumbprints.iter().cycle();
    group.bench_function("export_pem", |b| {
        b.iter(|| {
            let mut request = ExportRequest::new(*next.next().unwrap());
            request.include_subject_header = false;
            black_box(exporter.export(&caller, &request).unwrap())
        })
    });

    let bundle = pem_bundle(&leaves);
    group.bench_function("load_bundle", |b| {
        b.iter(|| {
            let mut store = MemoryStore::new();
            let report = store
                .load_bytes("bundle.pem", black_box(&bundle), &LoadOptions::default())
                .unwrap();
            black_box(report.certificates)
        })
    });
    group.finish();

    let mut group = criterion.benchmark_group("hand_written_pbkdf2");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let (password, salt) = (b"correct horse battery staple", [7u8; 16]);
    let mut key = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, &salt, 1_000, &mut key);
    let mut ours = [0u8; 32];
    pbkdf2_hmac_sha256(password, &salt, 1_000, &mut ours);
    assert_eq!(key, ours, "both derive the same key");
    group.bench_function("pbkdf2_crate", |b| {
        b.iter(|| {
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
                password,
                black_box(&salt),
                KeyEncryption::DEFAULT_PBES2_ITERATIONS,
                &mut key,
            )
        })
    });
    group.bench_function("pbkdf2_loop", |b| {
        b.iter(|| {
            pbkdf2_hmac_sha256(
                password,
                black_box(&salt),
                KeyEncryption::DEFAULT_PBES2_ITERATIONS,
                &mut key,
            )
        })
    });
    group.finish();

    ratios.pair(
        "certificate fields: der crate / fast reader",
        "hand_written/fields_der_crate",
        "hand_written/fields_fast_der",
    );
    ratios.pair(
        "PBKDF2 600,000 iterations: pbkdf2 crate / ours",
        "hand_written_pbkdf2/pbkdf2_crate",
        "hand_written_pbkdf2/pbkdf2_loop",
    );
    ratios.print("hand_written");
    let estimate = |id: &str| ratios.estimate(id);
    let share = |theirs: Option<f64>, ours: Option<f64>, whole: Option<f64>| match (theirs, ours, whole) {
        (Some(theirs), Some(ours), Some(whole)) => {
            format!("{:+.1}% of {}", (theirs - ours) / whole * 100.0, common::human(whole))
        }
        _ => "not run".to_owned(),
    };
    let fields = (
        estimate("hand_written/fields_der_crate"),
        estimate("hand_written/fields_fast_der"),
    );
    println!(
        "the der crate's walk would cost {} a certificate loaded (bundle of {})",
        share(
            fields.0,
            fields.1,
            estimate("hand_written/load_bundle").map(|t| t / leaves.len() as f64)
        ),
        leaves.len()
    );
    println!(
        "the der crate's walk would cost {} a PEM export by thumbprint if it read every field",
        share(fields.0, fields.1, estimate("hand_written/export_pem"))
    );
    println!(
        "the pbkdf2 crate would cost {} an encrypted PKCS#8 export (the derivation is nearly all of it)",
        share(
            estimate("hand_written_pbkdf2/pbkdf2_crate"),
            estimate("hand_written_pbkdf2/pbkdf2_loop"),
            estimate("hand_written_pbkdf2/pbkdf2_loop"),
        )
    );
}

/// The certificates as one PEM bundle.
fn pem_bundle(ders: &[Vec<u8>]) -> Vec<u8> {
    use base64::Engine;
    let mut out = Vec::new();
    for der in ders {
        out.extend_from_slice(b"-----BEGIN CERTIFICATE-----\n");
        let text = base64::engine::general_purpose::STANDARD.encode(der);
        for line in text.as_bytes().chunks(64) {
            out.extend_from_slice(line);
            out.push(b'\n');
        }
        out.extend_from_slice(b"-----END CERTIFICATE-----\n");
    }
    out
}
