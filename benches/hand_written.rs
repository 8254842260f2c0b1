//! The hand-written code the crate keeps, beside the crates it stands in
//! for, on the same generated certificates in the same run, with the
//! user-visible operations they sit in:
//!
//! - `fields`: the certificate-field walk of `src/fast_der.rs` vs the same
//!   walk with the `der` crate's reader (`src/certificate/der_twin.rs`).
//!   An export reads its certificate once; a load, each certificate once.
//! - `base64_decode`: the PEM body decoder of `src/base64.rs` vs the
//!   `base64` crate decoding the same body (which needs the line breaks
//!   taken out first) — decoding is most of loading a PEM bundle.
//! - `export_pem` and `load_bundle_1000`: a PEM export by thumbprint
//!   without the subject header, from a store of 10,000 certificates, and
//!   loading a bundle of 1,000: the user-visible operations those are part
//!   of.
//!
//! The lines at the end give each crate's extra cost as a share of the
//! operation it sits in, per certificate: (crate − ours) / operation. The
//! rule (issue 12): ours stays only where that share is above 20%. (The
//! PEM *encoder* was measured the same way — the `base64` crate cost +3.9%
//! of an export — and was replaced by the crate.)
//!
//! Run: `cargo bench --features bench-internals --bench hand_written`
#![allow(clippy::unwrap_used)]

#[path = "support/common.rs"]
mod common;
#[path = "support/generate.rs"]
mod generate;

use std::hint::black_box;
use std::time::Duration;

use base64::Engine;
use certexport::__internals::{
    base64_decode_pem_body, base64_pem_body, der_certificate_fields, fast_certificate_fields,
};
use certexport::{Caller, ExportRequest, Exporter};
use common::Ratios;
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
    let engine = base64::engine::general_purpose::STANDARD;
    let pem_bodies: Vec<Vec<u8>> = leaves
        .iter()
        .map(|der| {
            let mut body = Vec::new();
            base64_pem_body(&mut body, der);
            body
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

    let mut next = pem_bodies.iter().cycle();
    let mut out = Vec::with_capacity(4096);
    group.bench_function("base64_decode_ours", |b| {
        b.iter(|| black_box(base64_decode_pem_body(black_box(next.next().unwrap()), &mut out).unwrap()))
    });
    let mut next = pem_bodies.iter().cycle();
    let mut out = Vec::with_capacity(4096);
    let mut text = Vec::with_capacity(4096);
    group.bench_function("base64_decode_crate", |b| {
        b.iter(|| {
            text.clear();
            text.extend(
                black_box(next.next().unwrap())
                    .iter()
                    .filter(|b| !b.is_ascii_whitespace()),
            );
            out.clear();
            engine.decode_vec(&text, &mut out).unwrap();
            black_box(out.len())
        })
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
    let bundle = generate::leaves_bundle(&pki, 1_000);
    group.bench_function("load_bundle_1000", |b| {
        b.iter(|| black_box(certexport::store::MemoryStore::from_path(&bundle).unwrap().len()))
    });
    group.finish();

    ratios.pair(
        "certificate fields: der crate / fast reader",
        "hand_written/fields_der_crate",
        "hand_written/fields_fast_der",
    );
    ratios.pair(
        "PEM base64 decode: base64 crate / ours",
        "hand_written/base64_decode_crate",
        "hand_written/base64_decode_ours",
    );
    ratios.print("hand_written");
    let share = |crate_id: &str, ours_id: &str, operation: &str, per: f64| {
        let (Some(theirs), Some(ours), Some(whole)) = (
            ratios.estimate(crate_id),
            ratios.estimate(ours_id),
            ratios.estimate(operation),
        ) else {
            return "not run".to_owned();
        };
        let whole = whole / per;
        format!(
            "{:+.1}% of {} per certificate",
            (theirs - ours) / whole * 100.0,
            common::human(whole)
        )
    };
    println!(
        "the der crate's walk would cost {} exported (PEM, by thumbprint)",
        share(
            "hand_written/fields_der_crate",
            "hand_written/fields_fast_der",
            "hand_written/export_pem",
            1.0
        )
    );
    println!(
        "the base64 crate's decoder would cost {} loaded (PEM bundle)",
        share(
            "hand_written/base64_decode_crate",
            "hand_written/base64_decode_ours",
            "hand_written/load_bundle_1000",
            1_000.0
        )
    );
}
