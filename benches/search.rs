//! Certificate search at scale: `CN -contains` and `NotAfter -le
//! %TODAY+30%` over N generated leaves (benches/support/generate.rs; the
//! README's figures are N = 1,000,000), a page of 50 by `CertId`, with the
//! total — over `MemoryStore` and over `PgStore`, the latter beside a bare
//! SQL anchor doing the same work in the same run: the count and the
//! page's ids and DER by two prepared statements on the same columns and
//! indexes, through the same driver over the same loopback.
//!
//! The clock is 2035-12-15, so every leaf (notAfter 2035-12-31) is due
//! within 30 days: the date query counts all N, the worst case for a
//! count. `CN -contains "host-00421"` matches 100 leaves.
//!
//! Latencies are taken one by one (p50, p99) in alternating blocks of
//! ours and the anchor's. Targets: `PgStore` within 2× of the anchor;
//! `MemoryStore` within 50 ms for the page of 50. `MemoryStore`'s index is
//! built by the first search (its time is printed too).
//!
//! Run: `CERTEXPORT_SEARCH_BENCH_CERTIFICATES=1000000 cargo bench --features postgres --bench search`
#![allow(clippy::unwrap_used)]

#[path = "support/common.rs"]
mod common;
#[path = "support/generate.rs"]
mod generate;
#[path = "../tests/common/pg.rs"]
mod pg;

use std::time::{Duration, Instant};

use certexport::options::{ExportTime, Scope};
use certexport::search::CertificateQuery;
use certexport::store::{PgOptions, PgStore};
use certexport::{Caller, ExportSettings, Exporter};

use common::human;
use generate::BenchPki;

/// 2035-12-15T00:00:00Z.
const CLOCK: i64 = 2_081_376_000;
/// Searches timed per query and store.
const SAMPLES: usize = 200;
/// Searches in a row before the other side's turn.
const BLOCK: usize = 20;

const QUERIES: [(&str, &str, &str); 2] = [
    (
        r#"CN -contains "host-00421""#,
        "SELECT count(*) FROM certificates WHERE search_cn LIKE $1",
        "SELECT id, der FROM certificates WHERE search_cn LIKE $1 ORDER BY id LIMIT 50",
    ),
    (
        r#"NotAfter -le "%TODAY+30%""#,
        "SELECT count(*) FROM certificates WHERE not_after < $1",
        "SELECT id, der FROM certificates WHERE not_after < $1 ORDER BY id LIMIT 50",
    ),
];

fn main() {
    let leaves: u64 = std::env::var("CERTEXPORT_SEARCH_BENCH_CERTIFICATES")
        .ok()
        .map(|n| n.parse().expect("CERTEXPORT_SEARCH_BENCH_CERTIFICATES is a number"))
        .unwrap_or(100_000);
    let pki = BenchPki::new();
    let (memory, _) = common::leaf_store(&pki, leaves);
    let settings = ExportSettings::default().with_time(ExportTime::UnixSeconds(CLOCK));
    let admin = Caller::single_tenant_full_access();
    println!("search over {leaves} leaves (+ root and intermediate), a page of 50, with the total");

    // ---- PgStore: import first (the memory store is its source).
    let url = pg::cluster().database();
    PgStore::migrate(&url).unwrap();
    let started = Instant::now();
    let pg_store = PgStore::connect(&url, &PgOptions::default()).unwrap();
    pg_store.import(&memory, &mut |_, _| {}).unwrap();
    println!(
        "PgStore import with the search columns: {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let memory = Exporter::with_settings(memory, settings.clone());
    let started = Instant::now();
    let first = memory
        .search(&admin, Scope::default(), &CertificateQuery::all())
        .unwrap();
    assert_eq!(first.total, leaves + 2);
    println!(
        "MemoryStore index built by the first search: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let pg_exporter = Exporter::with_settings(pg_store, settings);
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();

    println!();
    println!("{:<58} {:>12} {:>12}", "", "p50", "p99");
    for (text, count_sql, page_sql) in QUERIES {
        let query = CertificateQuery::parse(text).unwrap();
        // The anchor's parameter, as the store binds it.
        let pattern = "%host-00421%".to_owned();
        let day = CLOCK.div_euclid(86_400) + 31;
        let bound = std::time::UNIX_EPOCH + Duration::from_secs((day * 86_400) as u64);
        let count = client.prepare(count_sql).unwrap();
        let page = client.prepare(page_sql).unwrap();
        let mut anchor_once = || {
            let (total, rows) = if text.starts_with("CN") {
                (
                    client.query_one(&count, &[&pattern]).unwrap(),
                    client.query(&page, &[&pattern]).unwrap(),
                )
            } else {
                (
                    client.query_one(&count, &[&bound]).unwrap(),
                    client.query(&page, &[&bound]).unwrap(),
                )
            };
            (total.get::<_, i64>(0) as u64, rows.len())
        };

        let ours = memory.search(&admin, Scope::default(), &query).unwrap();
        let theirs = pg_exporter.search(&admin, Scope::default(), &query).unwrap();
        let anchor = anchor_once();
        assert_eq!(ours.total, theirs.total, "{text}");
        assert_eq!((ours.total, ours.certificates.len()), (anchor.0, anchor.1), "{text}");
        let ids = |r: &certexport::search::SearchResults| r.certificates.iter().map(|c| c.id).collect::<Vec<_>>();
        assert_eq!(ids(&ours), ids(&theirs), "{text}");

        let mut times = [Vec::new(), Vec::new(), Vec::new()];
        while times[0].len() < SAMPLES {
            for _ in 0..BLOCK {
                let t = Instant::now();
                std::hint::black_box(memory.search(&admin, Scope::default(), &query).unwrap());
                times[0].push(t.elapsed());
            }
            for _ in 0..BLOCK {
                let t = Instant::now();
                std::hint::black_box(pg_exporter.search(&admin, Scope::default(), &query).unwrap());
                times[1].push(t.elapsed());
            }
            for _ in 0..BLOCK {
                let t = Instant::now();
                std::hint::black_box(anchor_once());
                times[2].push(t.elapsed());
            }
        }
        let [m, p, a] = times.map(|mut t| percentiles(&mut t));
        println!("{text} ({} match)", ours.total);
        row("  MemoryStore (Exporter::search)", m);
        row("  PgStore (Exporter::search)", p);
        row("  bare SQL: count + page of id, der", a);
        println!(
            "{:<58} {:>11.2}x {:>11.2}x",
            "  ratio PgStore / bare SQL",
            p.0 / a.0,
            p.1 / a.1
        );
    }
}

/// p50 and p99, in nanoseconds.
fn percentiles(times: &mut [Duration]) -> (f64, f64) {
    times.sort_unstable();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize].as_nanos() as f64;
    (at(0.50), at(0.99))
}

fn row(label: &str, (p50, p99): (f64, f64)) {
    println!("{label:<58} {:>12} {:>12}", human(p50), human(p99));
}
