//! `--json FILE`: the run's results as one JSON document.

use crate::stats::{Entry, Snapshot};
use serde::Serialize;

#[derive(Serialize)]
pub struct RequestStats {
    pub method: String,
    pub name: String,
    pub count: u64,
    pub failures: u64,
    pub bytes: u64,
    pub rps: f64,
    pub avg_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
}

#[derive(Serialize)]
pub struct Failure {
    pub method: String,
    pub name: String,
    pub error: String,
    pub occurrences: u64,
}

#[derive(Serialize)]
pub struct TaskStats {
    pub name: String,
    pub runs: u64,
    pub errors: u64,
}

#[derive(Serialize)]
pub struct ErrorStats {
    pub r#where: String,
    pub message: String,
    pub occurrences: u64,
}

#[derive(Serialize)]
pub struct Second {
    pub second: usize,
    pub requests: u64,
    pub failures: u64,
    pub users: u64,
}

#[derive(Serialize)]
pub struct Report {
    pub wasp_version: &'static str,
    pub plugin: String,
    pub behaviour: String,
    pub stop_reason: String,
    pub duration_s: f64,
    pub peak_users: u64,
    /// Seconds until every planned user was running (absent if that never happened).
    pub ramp_up_s: Option<f64>,
    pub exit_code: i32,
    pub total: RequestStats,
    pub requests: Vec<RequestStats>,
    pub failures: Vec<Failure>,
    pub tasks: Vec<TaskStats>,
    pub errors: Vec<ErrorStats>,
    pub timeline: Vec<Second>,
    pub telemetry: crate::otel::Delivery,
    pub thresholds: Vec<crate::thresholds::Outcome>,
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn request(e: &Entry, snap: &Snapshot) -> RequestStats {
    RequestStats {
        method: e.method.clone(),
        name: e.name.clone(),
        count: e.count,
        failures: e.failures,
        bytes: e.bytes,
        rps: snap.rps(e.count),
        avg_ms: e.avg_us() / 1000.0,
        min_ms: ms(e.min()),
        max_ms: ms(e.max_us),
        p50_ms: ms(e.quantile_us(0.5)),
        p90_ms: ms(e.quantile_us(0.9)),
        p95_ms: ms(e.quantile_us(0.95)),
        p99_ms: ms(e.quantile_us(0.99)),
        p999_ms: ms(e.quantile_us(0.999)),
    }
}

pub struct RunInfo<'a> {
    pub plugin: &'a str,
    pub behaviour: &'a str,
    pub stop_reason: &'a str,
    pub exit_code: i32,
    pub telemetry: &'a crate::otel::Delivery,
    pub thresholds: &'a [crate::thresholds::Outcome],
}

pub fn report(snap: &Snapshot, info: &RunInfo) -> Report {
    Report {
        wasp_version: env!("CARGO_PKG_VERSION"),
        plugin: info.plugin.to_string(),
        behaviour: info.behaviour.to_string(),
        stop_reason: info.stop_reason.to_string(),
        duration_s: snap.elapsed.as_secs_f64(),
        peak_users: snap.timeline.iter().map(|s| s.users).max().unwrap_or(snap.users),
        ramp_up_s: snap.ramp_up.map(|d| d.as_secs_f64()),
        exit_code: info.exit_code,
        total: request(&snap.total, snap),
        requests: snap.entries.iter().map(|e| request(e, snap)).collect(),
        failures: snap
            .failures
            .iter()
            .map(|(m, n, e, c)| Failure { method: m.clone(), name: n.clone(), error: e.clone(), occurrences: *c })
            .collect(),
        tasks: snap.tasks.iter().map(|t| TaskStats { name: t.name.clone(), runs: t.runs, errors: t.errors }).collect(),
        errors: snap
            .errors
            .iter()
            .map(|(w, m, c)| ErrorStats { r#where: w.clone(), message: m.clone(), occurrences: *c })
            .collect(),
        timeline: snap
            .timeline
            .iter()
            .enumerate()
            .map(|(i, s)| Second { second: i, requests: s.requests, failures: s.failures, users: s.users })
            .collect(),
        telemetry: info.telemetry.clone(),
        thresholds: info.thresholds.to_vec(),
    }
}

/// Writes the report next to its final place, then renames it, so a reader
/// never sees half a file.
pub fn write(path: &std::path::Path, report: &Report) -> std::io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(report).map_err(std::io::Error::other)?)?;
    std::fs::rename(tmp, path)
}
