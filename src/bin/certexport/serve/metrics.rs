//! `GET /metrics` in the Prometheus text format (version 0.0.4): requests
//! by route and status, latency histograms by route, errors by kind, key
//! exports by outcome, what is in flight, callers-file reloads, open,
//! refused and timed-out connections, and log lines left out. Nothing in it
//! names a caller, a certificate or a peer: counts by route, status and
//! kind only.
//!
//! Counters are atomics and two small maps behind mutexes held for one
//! increment; a request costs a few dozen nanoseconds of bookkeeping.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The routes, as metrics label them (both base paths of a call are one route).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Route {
    Download,
    Recover,
    Search,
    Detail,
    AvxKeyDownload,
    Healthz,
    Metrics,
    /// The console's pages, assets and downloads, and the API reference.
    Console,
    /// No route matched (404), or the method was wrong (405).
    Other,
}

impl Route {
    const ALL: [Route; 9] = [
        Route::Download,
        Route::Recover,
        Route::Search,
        Route::Detail,
        Route::AvxKeyDownload,
        Route::Healthz,
        Route::Metrics,
        Route::Console,
        Route::Other,
    ];

    /// The route of a matched path such as `/KeyfactorAPI/Certificates/Download`.
    pub(crate) fn of_path(path: Option<&str>) -> Self {
        match path {
            Some(p) if p.ends_with("/Certificates/Download") => Route::Download,
            Some(p) if p.ends_with("/Certificates/Recover") => Route::Recover,
            Some(p) if p.ends_with("/Certificates") => Route::Search,
            Some(p) if p.ends_with("/Certificates/{id}") => Route::Detail,
            Some(p) if p.ends_with("/certificate/privatekey/download") => Route::AvxKeyDownload,
            Some("/healthz") => Route::Healthz,
            Some("/metrics") => Route::Metrics,
            Some(p)
                if p == "/"
                    || p.starts_with("/console/")
                    || p == "/docs"
                    || p.starts_with("/docs/")
                    || p == "/openapi.json" =>
            {
                Route::Console
            }
            _ => Route::Other,
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            Route::Download => "download",
            Route::Recover => "recover",
            Route::Search => "search",
            Route::Detail => "detail",
            Route::AvxKeyDownload => "avx_key_download",
            Route::Healthz => "healthz",
            Route::Metrics => "metrics",
            Route::Console => "console",
            Route::Other => "other",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// How a key export ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyOutcome {
    Exported,
    Refused,
}

#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

/// The server's counters.
#[derive(Default)]
pub(crate) struct Metrics {
    requests: Mutex<BTreeMap<(Route, u16), u64>>,
    latency: [Histogram; Route::ALL.len()],
    errors: Mutex<BTreeMap<&'static str, u64>>,
    keys_exported: AtomicU64,
    keys_refused: AtomicU64,
    in_flight: AtomicI64,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
    connections_refused: Mutex<BTreeMap<&'static str, u64>>,
    connections_timed_out: Mutex<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    /// A request started; it counts as in flight until the guard is
    /// dropped (also when the client goes away and the request with it).
    pub(crate) fn started(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(&self.in_flight)
    }

    /// A request on `route` ended with `status` after `elapsed`; `error`
    /// is its kind when it failed.
    pub(crate) fn finished(&self, route: Route, status: u16, elapsed: Duration, error: Option<&'static str>) {
        *lock(&self.requests).entry((route, status)).or_default() += 1;
        if let Some(kind) = error {
            *lock(&self.errors).entry(kind).or_default() += 1;
        }
        let histogram = &self.latency[route.index()];
        let seconds = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|&le| seconds <= le) {
            histogram.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        histogram.count.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        histogram.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// A key export ended.
    pub(crate) fn key_export(&self, outcome: KeyOutcome) {
        match outcome {
            KeyOutcome::Exported => &self.keys_exported,
            KeyOutcome::Refused => &self.keys_refused,
        }
        .fetch_add(1, Ordering::Relaxed);
    }

    /// The callers file was re-read (or failed to be).
    pub(crate) fn reload(&self, ok: bool) {
        if ok { &self.reloads_ok } else { &self.reloads_failed }.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection was closed at accept, over a cap (`reason`).
    pub(crate) fn connection_refused(&self, reason: &'static str) {
        *lock(&self.connections_refused).entry(reason).or_default() += 1;
    }

    /// A connection was closed at the deadline of `phase`.
    pub(crate) fn connection_timed_out(&self, phase: &'static str) {
        *lock(&self.connections_timed_out).entry(phase).or_default() += 1;
    }

    /// The text of `GET /metrics`; `keys_running` and `key_slots` come
    /// from the key lane, `connections` from the listener.
    pub(crate) fn render(&self, keys_running: usize, key_slots: usize, connections: usize) -> String {
        let mut out = String::with_capacity(4096);
        header(
            &mut out,
            "certexport_requests_total",
            "counter",
            "Requests answered, by route and HTTP status.",
        );
        for ((route, status), n) in lock(&self.requests).iter() {
            let _ = writeln!(
                out,
                "certexport_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                route.label()
            );
        }
        header(
            &mut out,
            "certexport_request_duration_seconds",
            "histogram",
            "Time from request to answer, by route.",
        );
        for route in Route::ALL {
            histogram(&mut out, route.label(), &self.latency[route.index()]);
        }
        header(
            &mut out,
            "certexport_errors_total",
            "counter",
            "Failed requests, by kind of error.",
        );
        for (kind, n) in lock(&self.errors).iter() {
            let _ = writeln!(out, "certexport_errors_total{{kind=\"{kind}\"}} {n}");
        }
        header(
            &mut out,
            "certexport_key_exports_total",
            "counter",
            "Private-key exports, by outcome.",
        );
        for (outcome, counter) in [("exported", &self.keys_exported), ("refused", &self.keys_refused)] {
            let _ = writeln!(
                out,
                "certexport_key_exports_total{{outcome=\"{outcome}\"}} {}",
                counter.load(Ordering::Relaxed)
            );
        }
        header(
            &mut out,
            "certexport_requests_in_flight",
            "gauge",
            "Requests being answered now.",
        );
        let _ = writeln!(
            out,
            "certexport_requests_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        header(
            &mut out,
            "certexport_key_exports_running",
            "gauge",
            "Key exports running now.",
        );
        let _ = writeln!(out, "certexport_key_exports_running {keys_running}");
        header(
            &mut out,
            "certexport_key_export_slots",
            "gauge",
            "Key exports that may run at once.",
        );
        let _ = writeln!(out, "certexport_key_export_slots {key_slots}");
        header(
            &mut out,
            "certexport_callers_reloads_total",
            "counter",
            "Re-readings of the callers file (SIGHUP), by outcome.",
        );
        for (outcome, counter) in [("ok", &self.reloads_ok), ("failed", &self.reloads_failed)] {
            let _ = writeln!(
                out,
                "certexport_callers_reloads_total{{outcome=\"{outcome}\"}} {}",
                counter.load(Ordering::Relaxed)
            );
        }
        header(
            &mut out,
            "certexport_connections_open",
            "gauge",
            "Client connections open now.",
        );
        let _ = writeln!(out, "certexport_connections_open {connections}");
        header(
            &mut out,
            "certexport_connections_refused_total",
            "counter",
            "Connections closed at accept, by the cap they were over.",
        );
        for (reason, n) in lock(&self.connections_refused).iter() {
            let _ = writeln!(out, "certexport_connections_refused_total{{reason=\"{reason}\"}} {n}");
        }
        header(
            &mut out,
            "certexport_connections_timed_out_total",
            "counter",
            "Connections closed at a deadline, by phase.",
        );
        for (phase, n) in lock(&self.connections_timed_out).iter() {
            let _ = writeln!(out, "certexport_connections_timed_out_total{{phase=\"{phase}\"}} {n}");
        }
        header(
            &mut out,
            "certexport_log_lines_suppressed_total",
            "counter",
            "Log lines left out by the rate limit of repeated lines.",
        );
        let _ = writeln!(
            out,
            "certexport_log_lines_suppressed_total {}",
            super::log_limit::suppressed_total()
        );
        out
    }
}

/// A request in flight (see [`Metrics::started`]).
pub(crate) struct InFlight<'a>(&'a AtomicI64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn histogram(out: &mut String, route: &str, h: &Histogram) {
    let mut cumulative = 0;
    for (le, bucket) in BUCKETS.iter().zip(&h.buckets) {
        cumulative += bucket.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "certexport_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {cumulative}"
        );
    }
    let count = h.count.load(Ordering::Relaxed);
    let _ = writeln!(
        out,
        "certexport_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {count}"
    );
    let sum = h.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
    let _ = writeln!(
        out,
        "certexport_request_duration_seconds_sum{{route=\"{route}\"}} {sum}"
    );
    let _ = writeln!(
        out,
        "certexport_request_duration_seconds_count{{route=\"{route}\"}} {count}"
    );
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let m = Metrics::default();
        drop(m.started());
        m.finished(Route::Download, 200, Duration::from_micros(700), None);
        let in_flight = m.started();
        assert!(m.render(0, 1, 0).contains("certexport_requests_in_flight 1"));
        drop(in_flight);
        m.finished(Route::Download, 403, Duration::from_millis(3), Some("AccessDenied"));
        m.key_export(KeyOutcome::Exported);
        m.connection_refused("peer_full");
        m.connection_timed_out("idle");
        let text = m.render(1, 2, 7);
        for line in [
            "certexport_requests_total{route=\"download\",status=\"200\"} 1",
            "certexport_requests_total{route=\"download\",status=\"403\"} 1",
            "certexport_request_duration_seconds_bucket{route=\"download\",le=\"0.0005\"} 0",
            "certexport_request_duration_seconds_bucket{route=\"download\",le=\"0.001\"} 1",
            "certexport_request_duration_seconds_bucket{route=\"download\",le=\"0.005\"} 2",
            "certexport_request_duration_seconds_bucket{route=\"download\",le=\"+Inf\"} 2",
            "certexport_request_duration_seconds_count{route=\"download\"} 2",
            "certexport_errors_total{kind=\"AccessDenied\"} 1",
            "certexport_key_exports_total{outcome=\"exported\"} 1",
            "certexport_requests_in_flight 0",
            "certexport_key_exports_running 1",
            "certexport_connections_open 7",
            "certexport_connections_refused_total{reason=\"peer_full\"} 1",
            "certexport_connections_timed_out_total{phase=\"idle\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
    }

    #[test]
    fn both_base_paths_are_one_route() {
        assert_eq!(
            Route::of_path(Some("/KeyfactorAPI/Certificates/Download")),
            Route::Download
        );
        assert_eq!(Route::of_path(Some("/Certificates/Download")), Route::Download);
        assert_eq!(
            Route::of_path(Some("/avxapi/certificate/privatekey/download")),
            Route::AvxKeyDownload
        );
        assert_eq!(Route::of_path(None), Route::Other);
    }
}
