//! What every bench shares: the criterion set-up, the generated stores,
//! and the ratio table printed after the criterion groups.
//!
//! Ratios are read back from criterion's own estimates
//! (`<criterion dir>/<id>/new/estimates.json`, the slope or mean criterion
//! prints as the middle `time:` figure), so the table agrees with what
//! criterion reported, and only estimates written by this run are used: a
//! filtered run prints "not run" rather than a stale figure.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use certexport::ExportSettings;
use certexport::ids::Thumbprint;
use certexport::options::ExportTime;
use certexport::store::MemoryStore;
use criterion::Criterion;

use super::generate::{self, BenchPki};

/// Where criterion writes its results: `$CRITERION_HOME`, or
/// `<target>/criterion`, as criterion itself decides.
pub(crate) fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("criterion")
}

/// A criterion that writes where [`criterion_dir`] says and takes the
/// command line's options (`--quick`, filters, ...).
pub(crate) fn criterion() -> Criterion {
    Criterion::default()
        .output_directory(&criterion_dir())
        .configure_from_args()
}

/// Exporter settings with validity judged at [`generate::EXPORT_TIME`].
pub(crate) fn settings() -> ExportSettings {
    ExportSettings::default().with_time(ExportTime::UnixSeconds(generate::EXPORT_TIME))
}

/// A store of the generated root, intermediate and `leaves` leaves (from
/// the cached bundle), and the leaves' SHA-1 thumbprints in a shuffled
/// order, so that consecutive lookups hit unrelated parts of the indexes.
pub(crate) fn leaf_store(pki: &BenchPki, leaves: u64) -> (MemoryStore, Vec<Thumbprint>) {
    let chain = generate::chain_pem(pki);
    let bundle = generate::leaves_bundle(pki, leaves);
    let mut store = MemoryStore::from_path(chain).unwrap();
    store.load_paths([bundle], &Default::default()).unwrap();
    assert_eq!(store.len() as u64, leaves + 2);
    let mut thumbprints: Vec<Thumbprint> = store.iter().skip(2).map(|(c, _)| Thumbprint::sha1_of(&c.der)).collect();
    shuffle(&mut thumbprints, 0x5eed);
    (store, thumbprints)
}

/// A deterministic Fisher–Yates shuffle.
pub(crate) fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed;
    for i in (1..items.len()).rev() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let j = ((state >> 33) % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

/// The process's resident set (`VmRSS`), in bytes.
pub(crate) fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

/// The ratio table: pairs of criterion ids (`group/function[/value]`).
pub(crate) struct Ratios {
    started: SystemTime,
    rows: Vec<(String, String, String)>,
}

impl Ratios {
    /// A table that only trusts estimates written from now on.
    pub(crate) fn new() -> Self {
        Self {
            started: SystemTime::now() - Duration::from_secs(1),
            rows: Vec::new(),
        }
    }

    /// Adds a row: `ours` divided by `reference`.
    pub(crate) fn pair(&mut self, label: &str, ours: &str, reference: &str) {
        self.rows.push((label.into(), ours.into(), reference.into()));
    }

    /// Prints the table.
    pub(crate) fn print(&self, title: &str) {
        println!("\n== {title} (criterion's estimates of this run) ==");
        println!("{:<58} {:>12} {:>12} {:>8}", "", "ours", "reference", "ratio");
        for (label, ours, reference) in &self.rows {
            match (self.estimate(ours), self.estimate(reference)) {
                (Some(a), Some(b)) => {
                    println!("{label:<58} {:>12} {:>12} {:>7.2}x", human(a), human(b), a / b)
                }
                _ => println!("{label:<58} {:>12} {:>12} {:>8}", "not run", "", ""),
            }
        }
    }

    /// Criterion's typical time (slope, else mean) of `id`, in
    /// nanoseconds, if this run wrote it.
    pub(crate) fn estimate(&self, id: &str) -> Option<f64> {
        let path = criterion_dir().join(id).join("new/estimates.json");
        let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
        if modified < self.started {
            return None;
        }
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
        let typical = if json["slope"].is_object() {
            &json["slope"]
        } else {
            &json["mean"]
        };
        typical["point_estimate"].as_f64()
    }
}

/// `ns` as ns, µs, ms or s.
pub(crate) fn human(ns: f64) -> String {
    match ns {
        n if n < 1e3 => format!("{n:.1} ns"),
        n if n < 1e6 => format!("{:.2} µs", n / 1e3),
        n if n < 1e9 => format!("{:.2} ms", n / 1e6),
        n => format!("{:.3} s", n / 1e9),
    }
}
