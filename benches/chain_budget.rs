//! What a store crowded with same-named CAs costs a chain build (SPEC §5:
//! a budget of signature checks bounds it).
//!
//! The store: the generated root and intermediate, 100,000 leaves, and
//! 999 impostor CAs with the intermediate's exact subject DN, their own
//! keys and subject key identifiers, valid longer than the real one (so a
//! builder that cannot tell them apart by key identifier prefers them) —
//! 1,000 CAs of that name in all.
//!
//! - `with_aki`: a leaf whose authority key identifier names the real
//!   intermediate; the subject+SKI index finds it at once and the chain
//!   (3 certificates) is built.
//! - `without_aki_cold`: a leaf without AKI, through a new exporter each
//!   time; every same-named CA is a candidate, each costs a signature
//!   check, and the budget (100 checks, as rustls-webpki) ends the build
//!   with `ExportError::ChainBudgetExceeded`.
//! - `without_aki_cached`: the same through one exporter, which remembers
//!   the 100 answers; remembered answers still count against the budget,
//!   so the build still fails, only sooner.
//!
//! Run: `cargo bench --all-features --bench chain_budget`
#![allow(clippy::unwrap_used)]

#[path = "support/common.rs"]
mod common;
#[path = "support/generate.rs"]
mod generate;

use std::hint::black_box;
use std::time::Duration;

use certexport::ids::Thumbprint;
use certexport::{Caller, ExportError, ExportRequest, Exporter};

use common::Ratios;
use generate::BenchPki;

const LEAVES: u64 = 100_000;

fn main() {
    let mut ratios = Ratios::new();
    let mut criterion = common::criterion();
    let pki = BenchPki::new();
    let caller = Caller::single_tenant_full_access();

    let (mut store, thumbprints) = common::leaf_store(&pki, LEAVES);
    store
        .load_paths([generate::same_named_cas_pem(&pki)], &Default::default())
        .unwrap();
    let without_aki = pki.leaf_without_aki(LEAVES + 1);
    let lone = Thumbprint::sha1_of(&without_aki);
    store.insert(without_aki).unwrap();
    println!(
        "store: {} certificates, {} of them CAs named like the intermediate",
        store.len(),
        generate::SAME_NAMED_CAS
    );
    let exporter = Exporter::with_settings(&store, common::settings());

    let request = |thumbprint: Thumbprint| {
        let mut request = ExportRequest::new(thumbprint);
        request.include_chain = true;
        request
    };
    let chain_of = |thumbprint: Thumbprint| exporter.export(&caller, &request(thumbprint));
    let cold_chain_of = |thumbprint: Thumbprint| {
        Exporter::with_settings(&store, common::settings()).export(&caller, &request(thumbprint))
    };
    assert_eq!(chain_of(thumbprints[0]).unwrap().certificate_count(), 3);
    for _ in 0..2 {
        match chain_of(lone) {
            Err(e @ ExportError::ChainBudgetExceeded { .. }) => println!("leaf without AKI: {e}"),
            other => panic!("the budget should end this build, got {other:?}"),
        }
    }

    let mut group = criterion.benchmark_group("chain_budget");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    let mut next = thumbprints.iter().copied().cycle();
    group.bench_function("with_aki", |b| {
        b.iter(|| black_box(chain_of(next.next().unwrap()).unwrap()))
    });
    group.bench_function("without_aki_cold", |b| {
        b.iter(|| black_box(cold_chain_of(lone).unwrap_err()))
    });
    group.bench_function("without_aki_cached", |b| {
        b.iter(|| black_box(chain_of(lone).unwrap_err()))
    });
    group.finish();
    criterion.final_summary();

    ratios.pair(
        "without AKI, new exporter (budget exceeded) / with AKI",
        "chain_budget/without_aki_cold",
        "chain_budget/with_aki",
    );
    ratios.pair(
        "without AKI, answers remembered (budget exceeded) / with AKI",
        "chain_budget/without_aki_cached",
        "chain_budget/with_aki",
    );
    ratios.print("chain_budget");
}
