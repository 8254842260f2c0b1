//! The hand-written code the crate keeps, beside the crates it stands in
//! for, on the same generated certificates in the same run, with the
//! user-visible operations they sit in:
//!
//! - `fields`: the certificate-field walk of `src/fast_der.rs` vs the same
//!   walk with the `der` crate's reader (`src/certificate/der_twin.rs`).
//!   An export reads its certificate once; a load, each certificate once.
//! - `export_pem`: a PEM export by thumbprint without the subject header,
//!   from a store of 10,000 certificates: the user-visible operation the
//!   walk is part of.
//!
//! The line at the end gives the crate's extra cost as a share of the
//! operation it sits in: (crate − ours) / operation. The rule (issue 12):
//! ours stays only where that share is above 20%. The PEM encoder and the
//! PEM body decoder were measured the same way — the `base64` crate cost
//! +3.9% of an export, and +15.5%, +15.9% and +20.8% of a bundle load in
//! three runs — and both gave way to the crate.
//!
//! Run: `cargo bench --features bench-internals --bench hand_written`
#![allow(clippy::unwrap_used)]

#[path = "support/common.rs"]
mod common;
#[path = "support/generate.rs"]
mod generate;

use std::hint::black_box;
use std::time::Duration;

use certexport::__internals::{der_certificate_fields, fast_certificate_fields};
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
    group.finish();

    ratios.pair(
        "certificate fields: der crate / fast reader",
        "hand_written/fields_der_crate",
        "hand_written/fields_fast_der",
    );
    ratios.print("hand_written");
    let share = match (
        ratios.estimate("hand_written/fields_der_crate"),
        ratios.estimate("hand_written/fields_fast_der"),
        ratios.estimate("hand_written/export_pem"),
    ) {
        (Some(theirs), Some(ours), Some(whole)) => format!(
            "{:+.1}% of {} per certificate",
            (theirs - ours) / whole * 100.0,
            common::human(whole)
        ),
        _ => "not run".to_owned(),
    };
    println!("the der crate's walk would cost {share} exported (PEM, by thumbprint)");
}
