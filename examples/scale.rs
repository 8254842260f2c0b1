//! How `MemoryStore` and the exporter behave at a million certificates,
//! next to a thousand: load time, memory per certificate, and latency
//! percentiles of lookups, chain builds (through a new exporter, and with
//! the signature checks remembered) and PEM exports, plus what
//! `export_batch` gains on every core.
//!
//! The certificates are generated (see `benches/support/generate.rs`) and
//! cached as PEM bundles in `target/bench-cache/`; the first run at a size
//! writes its bundle and reports how long that took.
//!
//! Run: `cargo run --release --all-features --example scale [-- --count N] [--regenerate]`
//! (`--count` defaults to 1,000,000; the small store is 1,000. The batch
//! speed-up needs feature `parallel`, which `--all-features` turns on.)
#![allow(clippy::unwrap_used)]

#[path = "../benches/support/common.rs"]
mod common;
#[path = "../benches/support/generate.rs"]
mod generate;

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use certexport::formats::KeyEncryption;
use certexport::ids::Thumbprint;
use certexport::options::{KeyExport, KeyPlacement};
use certexport::store::{CertificateStore, MemoryStore};
use certexport::{Caller, CertificateFormat, ExportRequest, Exporter, Password};

use generate::BenchPki;

const SMALL: u64 = 1_000;
const MIDDLE: u64 = 100_000;
const LOOKUP_SAMPLES: usize = 200_000;
const PEM_SAMPLES: usize = 100_000;
const CHAIN_SAMPLES: usize = 5_000;
/// Fewer leaves than the exporter remembers checks for.
const CACHED_LEAVES: usize = 1_000;
const BATCH_CHAINS: usize = 10_000;
const BATCH_PFX: usize = 200;

fn main() {
    let (count, regenerate) = arguments();
    let pki = BenchPki::new();
    let caller = Caller::single_tenant_full_access();
    // 100,000 as well: past the CPU caches but far below the big store,
    // it tells cache misses (a step) from growth with size (a slope).
    let sizes: Vec<u64> = [SMALL, MIDDLE, count]
        .into_iter()
        .filter(|&n| n < count)
        .chain([count])
        .collect();

    let mut reports = Vec::new();
    for &size in &sizes {
        let (store, thumbprints, load) = load_store(&pki, size, regenerate);
        let report = measure(&store, &caller, &thumbprints, load);
        report.print(size);
        reports.push((size, report));
        if size == count {
            batch_speedup(&store, &caller, &thumbprints);
        }
    }
    if reports.len() > 1 {
        compare(&reports);
    }
}

/// A line of the side-by-side table: its label and the figure it shows.
type Row = (&'static str, fn(&Report) -> f64);

/// The figures side by side, with the largest store over the smallest
/// and over the one before it.
fn compare(reports: &[(u64, Report)]) {
    let rows: [Row; 11] = [
        ("load, µs per certificate", |r| r.load_per_cert_us),
        ("resident bytes per certificate", |r| r.resident_per_cert),
        ("lookup p50, µs", |r| r.lookup.0),
        ("lookup p99, µs", |r| r.lookup.1),
        ("lookup mean (no per-call timer), µs", |r| r.lookup_mean),
        ("chain, new exporter p50, µs", |r| r.chain.0),
        ("chain, new exporter p99, µs", |r| r.chain.1),
        ("chain, checks remembered p50, µs", |r| r.chain_cached.0),
        ("chain, checks remembered p99, µs", |r| r.chain_cached.1),
        ("PEM export p50, µs", |r| r.pem.0),
        ("PEM export p99, µs", |r| r.pem.1),
    ];
    let last = reports.len() - 1;
    print!("\n== side by side ==\n{:<38}", "");
    for (size, _) in reports {
        print!(" {size:>10}");
    }
    println!(
        " {:>9} {:>9}",
        format!("{}/{}", short(reports[last].0), short(reports[0].0)),
        format!("{}/{}", short(reports[last].0), short(reports[last - 1].0))
    );
    for (label, field) in rows {
        print!("{label:<38}");
        for (_, report) in reports {
            print!(" {:>10.3}", field(report));
        }
        let ratio = |a: usize| field(&reports[last].1) / field(&reports[a].1);
        println!(" {:>8.2}x {:>8.2}x", ratio(0), ratio(last - 1));
    }
}

/// 1000 → "1k", 1000000 → "1M".
fn short(n: u64) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

fn arguments() -> (u64, bool) {
    let mut count = 1_000_000;
    let mut regenerate = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--count" => {
                count = args
                    .next()
                    .and_then(|n| n.replace(['_', ','], "").parse().ok())
                    .expect("--count N");
            }
            "--regenerate" => regenerate = true,
            other => panic!("unknown argument {other:?}; use --count N and --regenerate"),
        }
    }
    (count, regenerate)
}

struct Load {
    seconds: f64,
    certificates: usize,
    resident_added: u64,
    der_bytes: usize,
}

/// The store of the chain and `size` leaves, loaded from the cached
/// bundle (generated first if missing or `regenerate`).
fn load_store(pki: &BenchPki, size: u64, regenerate: bool) -> (MemoryStore, Vec<Thumbprint>, Load) {
    let cached = generate::cache_dir().join(format!("leaves-{size}.pem"));
    if regenerate && cached.is_file() {
        std::fs::remove_file(&cached).unwrap();
    }
    if !cached.is_file() {
        let start = Instant::now();
        let bundle = generate::leaves_bundle(pki, size);
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "generated {size} signed leaves into {} in {seconds:.1} s ({:.1} µs/cert, {} threads)",
            bundle.display(),
            seconds * 1e6 / size as f64,
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
    }
    let chain = generate::chain_pem(pki);
    let bundle = generate::leaves_bundle(pki, size);

    let before = common::resident_bytes();
    let start = Instant::now();
    let mut store = MemoryStore::from_path(chain).unwrap();
    store.load_paths([&bundle], &Default::default()).unwrap();
    let seconds = start.elapsed().as_secs_f64();
    let resident_added = common::resident_bytes().saturating_sub(before);
    let der_bytes = store.iter().map(|(c, _)| c.der.len()).sum();
    let load = Load {
        seconds,
        certificates: store.len(),
        resident_added,
        der_bytes,
    };
    let mut thumbprints: Vec<Thumbprint> = store.iter().skip(2).map(|(c, _)| Thumbprint::sha1_of(&c.der)).collect();
    common::shuffle(&mut thumbprints, 0x5ca1e);
    (store, thumbprints, load)
}

struct Report {
    load: Load,
    load_per_cert_us: f64,
    resident_per_cert: f64,
    timer_overhead_ns: f64,
    /// (p50, p99) in µs.
    lookup: (f64, f64),
    lookup_mean: f64,
    /// Through a new exporter each time: three signature checks.
    chain: (f64, f64),
    /// Through one exporter, over leaves whose checks it remembers.
    chain_cached: (f64, f64),
    pem: (f64, f64),
}

fn measure(store: &MemoryStore, caller: &Caller, thumbprints: &[Thumbprint], load: Load) -> Report {
    let exporter = Exporter::with_settings(store, common::settings());
    let timer_overhead_ns = percentiles(&mut sample(LOOKUP_SAMPLES, |_| ())).0 * 1e3;
    let lookup_one = |t: &Thumbprint| {
        black_box(store.certificate_by_thumbprint(t).unwrap().unwrap().der.len());
    };
    let lookup = percentiles(&mut sample(LOOKUP_SAMPLES, |i| {
        lookup_one(&thumbprints[i % thumbprints.len()])
    }));
    let start = Instant::now();
    for i in 0..LOOKUP_SAMPLES {
        lookup_one(&thumbprints[(i + 7) % thumbprints.len()]);
    }
    let lookup_mean = start.elapsed().as_secs_f64() * 1e6 / LOOKUP_SAMPLES as f64;

    let pem = percentiles(&mut sample(PEM_SAMPLES, |i| {
        let request = ExportRequest::new(thumbprints[i % thumbprints.len()]);
        black_box(exporter.export(caller, &request).unwrap());
    }));
    let chain_request = |i: usize| {
        let mut request = ExportRequest::new(thumbprints[(i * 13) % thumbprints.len()]);
        request.include_chain = true;
        request
    };
    let chain = percentiles(&mut sample(CHAIN_SAMPLES, |i| {
        let fresh = Exporter::with_settings(store, common::settings());
        assert_eq!(fresh.export(caller, &chain_request(i)).unwrap().certificate_count(), 3);
    }));
    // The same 1,000 leaves over and over: one pass to fill the cache,
    // then timed passes.
    let cached_request = |i: usize| chain_request(i % CACHED_LEAVES);
    for i in 0..CACHED_LEAVES {
        exporter.export(caller, &cached_request(i)).unwrap();
    }
    let chain_cached = percentiles(&mut sample(PEM_SAMPLES, |i| {
        black_box(exporter.export(caller, &cached_request(i)).unwrap());
    }));
    Report {
        load_per_cert_us: load.seconds * 1e6 / load.certificates as f64,
        resident_per_cert: load.resident_added as f64 / load.certificates as f64,
        load,
        timer_overhead_ns,
        lookup,
        lookup_mean,
        chain,
        chain_cached,
        pem,
    }
}

impl Report {
    fn print(&self, size: u64) {
        let load = &self.load;
        println!("\n== store of {size} leaves (+ root and intermediate) ==");
        println!(
            "load: {:.2} s for {} certificates = {:.2} µs/cert",
            load.seconds, load.certificates, self.load_per_cert_us
        );
        println!(
            "memory: resident +{:.1} MiB = {:.0} bytes/cert; DER held {:.1} MiB ({:.0} bytes/cert); ratio {:.2}x",
            load.resident_added as f64 / 1048576.0,
            self.resident_per_cert,
            load.der_bytes as f64 / 1048576.0,
            load.der_bytes as f64 / load.certificates as f64,
            load.resident_added as f64 / load.der_bytes as f64
        );
        println!(
            "(per-call timer overhead p50: {:.0} ns, included below)",
            self.timer_overhead_ns
        );
        println!(
            "thumbprint lookup:     p50 {:>8.3} µs   p99 {:>8.3} µs   mean without timer {:.3} µs  ({LOOKUP_SAMPLES} random)",
            self.lookup.0, self.lookup.1, self.lookup_mean
        );
        println!(
            "PEM export:            p50 {:>8.3} µs   p99 {:>8.3} µs  ({PEM_SAMPLES} random)",
            self.pem.0, self.pem.1
        );
        println!(
            "chain, new exporter:   p50 {:>8.1} µs   p99 {:>8.1} µs  ({CHAIN_SAMPLES} random; 3 signature checks each)",
            self.chain.0, self.chain.1
        );
        println!(
            "chain, checks remembered: p50 {:>5.1} µs   p99 {:>8.1} µs  ({PEM_SAMPLES} over {CACHED_LEAVES} leaves)",
            self.chain_cached.0, self.chain_cached.1
        );
    }
}

/// `count` timings (one per call of `op` with the call's index).
fn sample(count: usize, mut op: impl FnMut(usize)) -> Vec<Duration> {
    (0..count)
        .map(|i| {
            let start = Instant::now();
            op(i);
            start.elapsed()
        })
        .collect()
}

/// (p50, p99) in µs.
fn percentiles(times: &mut [Duration]) -> (f64, f64) {
    times.sort_unstable();
    let at = |p: usize| times[(times.len() * p / 100).min(times.len() - 1)].as_secs_f64() * 1e6;
    (at(50), at(99))
}

/// `export_batch` against a plain loop of `export`, on chain exports from
/// the big store and on PFX exports (key derivation bound).
fn batch_speedup(store: &MemoryStore, caller: &Caller, thumbprints: &[Thumbprint]) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "\n== export_batch vs a sequential loop ({cores} cores, feature parallel: {}) ==",
        cfg!(feature = "parallel")
    );
    let chains: Vec<ExportRequest> = (0..BATCH_CHAINS)
        .map(|i| {
            let mut request = ExportRequest::new(thumbprints[(i * 31) % thumbprints.len()]);
            request.include_chain = true;
            request
        })
        .collect();
    compare_batch("PEM with chain", store, caller, &chains);

    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pki");
    let keyed = MemoryStore::from_path(&fixtures).unwrap();
    let rsa = Thumbprint::sha1_of(
        &pem_rfc7468::decode_vec(&std::fs::read(fixtures.join("03-rsa.example.com.pem")).unwrap())
            .unwrap()
            .1,
    );
    let pfx: Vec<ExportRequest> = (0..BATCH_PFX)
        .map(|_| {
            let mut request = ExportRequest::new(rsa);
            request.format = CertificateFormat::Pfx;
            request.include_chain = true;
            request.private_key = KeyExport::Encrypted {
                placement: KeyPlacement::WithCertificate,
                password: Password::new("batch password").unwrap(),
                encryption: KeyEncryption::default(),
            };
            request
        })
        .collect();
    compare_batch("PFX with chain (2,048 iterations)", &keyed, caller, &pfx);
}

/// Each side through a new exporter, so neither finds the other's
/// signature checks remembered.
fn compare_batch(label: &str, store: &MemoryStore, caller: &Caller, requests: &[ExportRequest]) {
    let exporter = Exporter::with_settings(store, common::settings());
    let start = Instant::now();
    for request in requests {
        black_box(exporter.export(caller, request).unwrap());
    }
    let sequential = start.elapsed().as_secs_f64();
    let exporter = Exporter::with_settings(store, common::settings());
    let start = Instant::now();
    let results = exporter.export_batch(caller, requests);
    let batch = start.elapsed().as_secs_f64();
    assert!(results.iter().all(Result::is_ok));
    println!(
        "{label:<36} {} exports: loop {sequential:.3} s, export_batch {batch:.3} s, speed-up {:.2}x",
        requests.len(),
        sequential / batch
    );
}
