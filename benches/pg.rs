//! `PgStore` against what any program reading or loading the same table
//! pays, measured in one run on one throw-away PostgreSQL cluster (the
//! tests' helper, tests/common/pg.rs: loopback TCP, durability off for
//! both sides alike).
//!
//! - **Import** of the generated root, intermediate and N leaves:
//!   `MemoryStore::load_paths` of the PEM files and `PgStore::import` into
//!   a new database (what `certexport db import` does), against `psql
//!   \copy ... FROM ... (FORMAT binary)` of the very rows that import
//!   wrote (DER, every index column and the search columns, dumped from it) into a new
//!   database of the same schema. One timed run each. Target: ours ≤ 2×.
//! - **Export by thumbprint** (`Exporter::export`, PEM, a random leaf each
//!   time) against the anchor, a bare prepared `SELECT der FROM
//!   certificates WHERE sha1 = $1` of a random leaf through the same
//!   driver (`postgres`) over the same loopback. Latencies are taken one
//!   by one for p50 and p99, in blocks of back-to-back calls that take
//!   turns with the other operations' blocks. Target: both within 2×.
//! - **Chain export, CAs cached**: the same with `include_chain` (root →
//!   intermediate → leaf), over 1,000 leaves the exporter has seen (its
//!   signature checks remembered, the chain steps in the CA cache), against
//!   the leaf-only export of the same leaves. Target: within 1.5×. Also
//!   shown: the chain export of leaves never seen, which verifies each
//!   leaf's Ed25519 signature.
//!
//! For the latencies, this process and the server are pinned to one core
//! (see `pin_to_one_core`). criterion's estimates of the latency benches
//! and their ratios follow the table.
//!
//! Run (N defaults to 100,000; the README's figures are N = 1,000,000):
//! `CERTEXPORT_PG_BENCH_CERTIFICATES=1000000 cargo bench --features postgres --bench pg`
#![allow(clippy::unwrap_used)]

#[path = "support/common.rs"]
mod common;
#[path = "support/generate.rs"]
mod generate;
#[path = "../tests/common/pg.rs"]
mod pg;

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use certexport::ids::Thumbprint;
use certexport::store::MemoryStore;
use certexport::store::{LoadOptions, PgOptions, PgStore};
use certexport::{Caller, ExportRequest, Exporter};

use common::{Ratios, human};
use generate::BenchPki;

/// The columns import writes and the anchor loads.
const COLUMNS: &str = "id, der, sha1, sha256, subject_key, issuer_key, serial, subject_key_id, \
     authority_key_id, not_before, not_after, public_key, uuid, key_policy_id, search_cn, search_dn, \
     search_issuer, search_serial, search_sha1, search_dns, key_type, key_bits";
/// Latencies taken one by one for the percentiles, per operation.
const SAMPLES: usize = 20_000;
/// Calls of one operation in a row before the next operation's turn.
const BLOCK: usize = 1_000;
/// Leaves whose chain checks the exporter has remembered.
const SEEN: usize = 1_000;

fn main() {
    let leaves: u64 = std::env::var("CERTEXPORT_PG_BENCH_CERTIFICATES")
        .ok()
        .map(|n| n.parse().expect("CERTEXPORT_PG_BENCH_CERTIFICATES is a number"))
        .unwrap_or(100_000);
    let pki = BenchPki::new();
    let chain = generate::chain_pem(&pki);
    let bundle = generate::leaves_bundle(&pki, leaves);
    let cluster = pg::cluster();

    // ---- import
    let url = cluster.database();
    PgStore::migrate(&url).unwrap();
    let started = Instant::now();
    let mut files = MemoryStore::new();
    files.load_paths([&chain, &bundle], &LoadOptions::default()).unwrap();
    let store = PgStore::connect(&url, &PgOptions::default()).unwrap();
    let report = store.import(&files, &mut |_, _| {}).unwrap();
    let ours = started.elapsed();
    assert_eq!(report.added as u64, leaves + 2);
    let mut thumbprints: Vec<Thumbprint> = files.iter().skip(2).map(|(c, _)| Thumbprint::sha1_of(&c.der)).collect();
    drop(files);
    common::shuffle(&mut thumbprints, 0x5eed);

    let dir = tempfile::tempdir().unwrap();
    let rows = dir.path().join("certificates.copy");
    psql(
        &url,
        &format!(
            "\\copy certificates ({COLUMNS}) TO '{}' WITH (FORMAT binary)",
            rows.display()
        ),
    );
    let anchor_url = cluster.database();
    PgStore::migrate(&anchor_url).unwrap();
    let started = Instant::now();
    psql(
        &anchor_url,
        &format!(
            "\\copy certificates ({COLUMNS}) FROM '{}' WITH (FORMAT binary)",
            rows.display()
        ),
    );
    let anchor = started.elapsed();
    drop(dir);
    println!("\n== import of {} certificates ==", leaves + 2);
    println!(
        "{:<58} {:>12}",
        "ours (read the PEM files, PgStore::import)",
        seconds(ours)
    );
    println!(
        "{:<58} {:>12}",
        "psql \\copy of the same rows (binary)",
        seconds(anchor)
    );
    println!("{:<58} {:>11.2}x", "ratio", ours.as_secs_f64() / anchor.as_secs_f64());

    // ---- latency
    let core = pin_to_one_core();
    let exporter = Exporter::with_settings(&store, common::settings());
    let caller = Caller::single_tenant_full_access();
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let select = client.prepare("SELECT der FROM certificates WHERE sha1 = $1").unwrap();
    let mut anchor_select = |t: &Thumbprint| {
        let row = client.query_one(&select, &[&t.as_bytes()]).unwrap();
        black_box(row.get::<_, &[u8]>(0).len());
    };
    let leaf_export = |t: &Thumbprint| {
        black_box(exporter.export(&caller, &ExportRequest::new(*t)).unwrap().bytes().len());
    };
    let chain_export = |t: &Thumbprint| {
        let mut request = ExportRequest::new(*t);
        request.include_chain = true;
        let artifact = exporter.export(&caller, &request).unwrap();
        assert_eq!(artifact.certificate_count(), 3);
        black_box(artifact.bytes().len());
    };
    let seen = &thumbprints[..SEEN.min(thumbprints.len())];
    for t in seen {
        chain_export(t);
    }

    // Percentiles: each operation on its own shuffled order of leaves, in
    // blocks of back-to-back calls (as a program serving lookups makes
    // them), the blocks of the operations taking turns round after round
    // so that they share the machine's ups and downs.
    let mut anchor_order = thumbprints.clone();
    common::shuffle(&mut anchor_order, 1);
    let unseen = &thumbprints[seen.len()..];
    let mut operations: [&mut dyn FnMut(usize); 5] = [
        &mut |i| anchor_select(&anchor_order[i % anchor_order.len()]),
        &mut |i| leaf_export(&thumbprints[i % thumbprints.len()]),
        &mut |i| chain_export(&seen[i % seen.len()]),
        &mut |i| leaf_export(&seen[i % seen.len()]),
        &mut |i| {
            if !unseen.is_empty() {
                chain_export(&unseen[i % unseen.len()])
            }
        },
    ];
    let mut times: [Vec<Duration>; 5] = Default::default();
    for round in 0..SAMPLES / BLOCK {
        for (operation, times) in operations.iter_mut().zip(&mut times) {
            for j in 0..BLOCK {
                let started = Instant::now();
                operation(round * BLOCK + j);
                times.push(started.elapsed());
            }
        }
    }
    drop(operations);
    let [
        select_times,
        export_times,
        chain_times,
        seen_leaf_times,
        unseen_chain_times,
    ] = &mut times;
    println!(
        "\n== latency over {} certificates ({SAMPLES} samples each, in blocks of {BLOCK} taking turns; {core}) ==",
        leaves + 2
    );
    println!("{:<58} {:>12} {:>12}", "", "p50", "p99");
    let anchor_p = percentiles(select_times);
    let export_p = percentiles(export_times);
    let chain_p = percentiles(chain_times);
    let leaf_p = percentiles(seen_leaf_times);
    row("anchor: SELECT der ... WHERE sha1 = $1", anchor_p);
    row("export by thumbprint (PEM)", export_p);
    row(
        "  ratio to the anchor",
        (export_p.0 / anchor_p.0, export_p.1 / anchor_p.1),
    );
    row("leaf-only export, leaves seen before", leaf_p);
    row("3-level chain export, CAs cached, leaves seen before", chain_p);
    row(
        "  ratio to the leaf-only export",
        (chain_p.0 / leaf_p.0, chain_p.1 / leaf_p.1),
    );
    if !unseen.is_empty() {
        row(
            "3-level chain export, leaves never seen (1 signature)",
            percentiles(unseen_chain_times),
        );
    }

    // ---- criterion
    let ratios = {
        let mut ratios = Ratios::new();
        ratios.pair(
            "export by thumbprint / SELECT der",
            "pg/export_leaf",
            "pg/select_anchor",
        );
        ratios.pair(
            "chain export (CAs cached) / leaf-only export",
            "pg/export_chain_cached",
            "pg/export_leaf_seen",
        );
        ratios
    };
    let mut criterion = common::criterion();
    let mut group = criterion.benchmark_group("pg");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    let mut next = anchor_order.iter().cycle();
    group.bench_function("select_anchor", |b| b.iter(|| anchor_select(next.next().unwrap())));
    let mut next = thumbprints.iter().cycle();
    group.bench_function("export_leaf", |b| b.iter(|| leaf_export(next.next().unwrap())));
    let mut next = seen.iter().cycle();
    group.bench_function("export_leaf_seen", |b| b.iter(|| leaf_export(next.next().unwrap())));
    let mut next = seen.iter().cycle();
    group.bench_function("export_chain_cached", |b| b.iter(|| chain_export(next.next().unwrap())));
    group.finish();
    ratios.print("PgStore");
}

/// Puts this process and the PostgreSQL server (the postmaster, so the
/// connections it forks later, and the backends already running) on the
/// last core, and says so. On a virtual machine a wake-up across cores
/// costs 20–80 µs, varying with where the scheduler happens to place the
/// two ends of a connection, which would decide the latencies more than
/// the code measured; on one core every round trip is the same two
/// context switches, for the anchor and for ours alike.
fn pin_to_one_core() -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 {
        return "one core".into();
    }
    let core = (cores - 1).to_string();
    let postmaster = std::fs::read_to_string(pg::cluster().data_dir().join("postmaster.pid"))
        .ok()
        .and_then(|pid| pid.lines().next().map(str::to_owned));
    let mut pids = vec![std::process::id().to_string()];
    if let Some(postmaster) = postmaster {
        pids.extend(children_of(&postmaster));
        pids.push(postmaster);
    }
    let pinned = pids.iter().all(|pid| {
        Command::new("taskset")
            .args(["--all-tasks", "--cpu-list", "--pid", &core, pid])
            .output()
            .is_ok_and(|out| out.status.success())
    });
    if pinned {
        format!("client and server pinned to core {core}")
    } else {
        "not pinned: `taskset` failed".into()
    }
}

/// The process ids whose parent is `parent`.
fn children_of(parent: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().into_string().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // pid (comm) state ppid ...: the fields after the last ')'.
            let ppid = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?;
            (ppid == parent).then_some(pid)
        })
        .collect()
}

/// Runs one `psql` command against `url`, failing loudly.
fn psql(url: &str, command: &str) {
    let out = Command::new(pg::cluster().program("psql"))
        .args([
            "--no-psqlrc",
            "--quiet",
            "--set",
            "ON_ERROR_STOP=1",
            "--dbname",
            url,
            "--command",
            command,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "psql {command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// p50 and p99, in nanoseconds.
fn percentiles(times: &mut [Duration]) -> (f64, f64) {
    times.sort_unstable();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize].as_nanos() as f64;
    (at(0.50), at(0.99))
}

fn row(label: &str, (p50, p99): (f64, f64)) {
    if label.trim_start().starts_with("ratio") {
        println!("{label:<58} {p50:>11.2}x {p99:>11.2}x");
    } else {
        println!("{label:<58} {:>12} {:>12}", human(p50), human(p99));
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}
