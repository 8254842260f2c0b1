//! What a denial costs a caller scoped to one collection (issue 11): an
//! export of a certificate that does not exist against one that exists but
//! is not theirs. Both answer `AccessDenied`; neither may tell the other
//! apart by time, so the reason for a miss is never even formatted.
//!
//! Run: `cargo bench --bench denial`
#![allow(clippy::unwrap_used)]

#[path = "support/common.rs"]
mod common;
#[path = "support/generate.rs"]
mod generate;

use std::hint::black_box;
use std::time::Duration;

use certexport::ids::Thumbprint;
use certexport::{Caller, Claim, ExportError, ExportRequest, Exporter};
use common::Ratios;
use generate::BenchPki;

fn main() {
    let mut ratios = Ratios::new();
    let mut criterion = common::criterion();
    let pki = BenchPki::new();
    let (store, thumbprints) = common::leaf_store(&pki, 10_000);
    let exporter = Exporter::with_settings(&store, common::settings());
    let caller = Caller::with_claims([Claim::ReadCollection(5)]);
    let scoped = |thumbprint: Thumbprint| {
        let mut request = ExportRequest::new(thumbprint);
        request.scope.collection_id = Some(5);
        exporter.export(&caller, &request)
    };
    let absent: Vec<Thumbprint> = (0..1_000u32).map(|i| Thumbprint::sha1_of(&i.to_be_bytes())).collect();
    assert_eq!(scoped(absent[0]).unwrap_err(), ExportError::AccessDenied);
    assert_eq!(scoped(thumbprints[0]).unwrap_err(), ExportError::AccessDenied);

    let mut group = criterion.benchmark_group("denial");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let mut next = absent.iter().cycle();
    group.bench_function("absent", |b| b.iter(|| black_box(scoped(*next.next().unwrap()))));
    let mut next = thumbprints.iter().take(1_000).cycle();
    group.bench_function("not_theirs", |b| b.iter(|| black_box(scoped(*next.next().unwrap()))));
    group.finish();
    ratios.pair(
        "scoped denial: absent / exists but not theirs",
        "denial/absent",
        "denial/not_theirs",
    );
    ratios.print("denial");
}
