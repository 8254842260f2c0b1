//! Does a bigger store make lookups and chain building slower? It must not
//! (SPEC §8: every lookup and chain step is an index hit), so the same
//! operations run against a `MemoryStore` of 100 and of 100,000 generated
//! certificates and the table after the criterion output divides one by
//! the other. 1,000 vs 1,000,000 is left to `examples/scale.rs`, which
//! reports percentiles as well.
//!
//! Each iteration takes the next leaf of a shuffled list, so at 100,000 the
//! indexes are hit where the CPU caches do not already hold them.
//!
//! - `lookup`: `certificate_by_thumbprint` (SHA-1) on the store, as exports use it,
//!   each iteration the next of all the store's leaves (at 100,000 the
//!   indexes no longer fit the CPU caches, so this measures memory latency
//!   as much as the index).
//! - `lookup_same_100`: the same, over the same 100 leaves in both stores:
//!   the index's own cost.
//! - `export_pem`: `Exporter::export` of one certificate as PEM by
//!   thumbprint (lookup, access check, encoding, file name).
//! - `chain_cold`: the same with `include_chain`, through a new `Exporter`
//!   each time, so its signature cache is empty: a 3-level chain built and
//!   its three signatures (leaf, intermediate, self-signed root) verified.
//!   This is the work a first export does, the same at either size.
//! - `chain_cached`: the same through one long-lived `Exporter`, cycling
//!   over 100 leaves whose checks it remembers: what is left is index
//!   lookups and encoding, so the store's size shows most here.
//! - `openssl_verify` (feature `bench-openssl`): OpenSSL's
//!   `X509_verify_cert` of the same leaves against the same root and
//!   intermediate, for scale.
//!
//! Run: `cargo bench --all-features --bench store_scale`
#![allow(clippy::unwrap_used)]

#[path = "support/common.rs"]
mod common;
#[path = "support/generate.rs"]
mod generate;
#[cfg(feature = "bench-openssl")]
#[path = "support/twins.rs"]
mod twins;

use std::hint::black_box;
use std::time::Duration;

use certexport::store::CertificateStore;
use certexport::{Caller, ExportRequest, Exporter};
use criterion::BenchmarkId;

use common::Ratios;
use generate::BenchPki;

const SIZES: [u64; 2] = [100, 100_000];

fn main() {
    let mut ratios = Ratios::new();
    let mut criterion = common::criterion();
    let pki = BenchPki::new();
    let caller = Caller::single_tenant_full_access();
    let mut group = criterion.benchmark_group("store_scale");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));

    for size in SIZES {
        let (store, thumbprints) = common::leaf_store(&pki, size);
        let exporter = Exporter::with_settings(&store, common::settings());
        let mut next = thumbprints.iter().copied().cycle();
        let chain_request = |thumbprint| {
            let mut request = ExportRequest::new(thumbprint);
            request.include_chain = true;
            request
        };

        // The same 100 certificates asked of both stores: what the index
        // costs, with the memory hierarchy held equal.
        let mut next_hot = thumbprints.iter().take(100).copied().cycle();
        group.bench_function(BenchmarkId::new("lookup_same_100", size), |b| {
            b.iter(|| {
                let store = exporter.store();
                let t = next_hot.next().unwrap();
                black_box(store.certificate_by_thumbprint(&t).unwrap().unwrap().der.len())
            })
        });
        group.bench_function(BenchmarkId::new("lookup", size), |b| {
            b.iter(|| {
                let store = exporter.store();
                let t = next.next().unwrap();
                black_box(store.certificate_by_thumbprint(&t).unwrap().unwrap().der.len())
            })
        });
        group.bench_function(BenchmarkId::new("export_pem", size), |b| {
            b.iter(|| {
                let request = ExportRequest::new(next.next().unwrap());
                black_box(exporter.export(&caller, &request).unwrap())
            })
        });
        group.bench_function(BenchmarkId::new("chain_cold", size), |b| {
            b.iter(|| {
                let fresh = Exporter::with_settings(&store, common::settings());
                let artifact = fresh.export(&caller, &chain_request(next.next().unwrap())).unwrap();
                assert_eq!(artifact.certificate_count(), 3);
                black_box(artifact)
            })
        });
        let mut next_cached = thumbprints.iter().take(100).copied().cycle();
        group.bench_function(BenchmarkId::new("chain_cached", size), |b| {
            b.iter(|| {
                black_box(
                    exporter
                        .export(&caller, &chain_request(next_cached.next().unwrap()))
                        .unwrap(),
                )
            })
        });
        #[cfg(feature = "bench-openssl")]
        {
            let leaves: Vec<openssl::x509::X509> = thumbprints
                .iter()
                .take(1_000)
                .map(|t| {
                    let certificate = exporter.store().certificate_by_thumbprint(t).unwrap().unwrap();
                    openssl::x509::X509::from_der(&certificate.der).unwrap()
                })
                .collect();
            let mut verifier = twins::Verifier::new(&pki.root, &[&pki.intermediate], generate::EXPORT_TIME);
            let mut next_leaf = leaves.iter().cycle();
            group.bench_function(BenchmarkId::new("openssl_verify", size), |b| {
                b.iter(|| black_box(verifier.chain_len(next_leaf.next().unwrap())))
            });
        }
    }
    group.finish();
    criterion.final_summary();

    for (what, label) in [
        ("lookup_same_100", "thumbprint lookup, the same 100 certificates"),
        ("lookup", "thumbprint lookup"),
        ("export_pem", "PEM export by thumbprint"),
        ("chain_cold", "3-level chain, new exporter (3 signature checks)"),
        ("chain_cached", "3-level chain, checks remembered"),
    ] {
        ratios.pair(
            &format!("{label}: 100,000 vs 100 certificates"),
            &format!("store_scale/{what}/100000"),
            &format!("store_scale/{what}/100"),
        );
    }
    for size in SIZES {
        ratios.pair(
            &format!("chain, new exporter / OpenSSL X509_verify_cert ({size})"),
            &format!("store_scale/chain_cold/{size}"),
            &format!("store_scale/openssl_verify/{size}"),
        );
    }
    ratios.print("store_scale");
}
