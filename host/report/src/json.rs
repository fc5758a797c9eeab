//! `--json FILE`: the whole result of a run as one JSON document, complete
//! enough to merge exactly (`wasp merge`) and to draw the HTML report from:
//! every histogram is in it, in HdrHistogram's compressed form, base64.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;
use wasp_runner::stats::{self, Entry, Snapshot, DEFAULT_SCENARIO};

/// The document's format; `wasp merge` refuses others.
pub const FORMAT: &str = "wasp-result/1";

/// The largest result file read (a day at one histogram a second is far less).
const MAX_FILE: u64 = 512 << 20;
/// 9999-12-31T23:59:59.999Z: RFC 3339 has four-digit years.
pub const LAST_START_MS: u64 = 253_402_300_799_999;

/// The percentiles every request entry lists (Locust's set).
pub const PERCENTILES: [(&str, f64); 11] = [
    ("50", 0.5),
    ("66", 0.66),
    ("75", 0.75),
    ("80", 0.8),
    ("90", 0.9),
    ("95", 0.95),
    ("98", 0.98),
    ("99", 0.99),
    ("99.9", 0.999),
    ("99.99", 0.9999),
    ("100", 1.0),
];

fn default_scenario() -> String {
    DEFAULT_SCENARIO.to_string()
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct RequestStats {
    /// The scenario (empty for totals over scenarios).
    #[serde(default = "default_scenario")]
    pub scenario: String,
    pub method: String,
    pub name: String,
    pub count: u64,
    pub failures: u64,
    /// Requests still in flight when the run stopped (not in `count`).
    #[serde(default)]
    pub interrupted: u64,
    pub bytes: u64,
    pub rps: f64,
    pub sum_us: u64,
    pub min_us: u64,
    pub max_us: u64,
    pub avg_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    /// "50" … "100" → µs, from the histogram.
    pub percentiles_us: BTreeMap<String, u64>,
    /// Response times in µs: HdrHistogram V2 + deflate, base64 ("HISTFAAA…").
    pub histogram: String,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Failure {
    #[serde(default = "default_scenario")]
    pub scenario: String,
    pub method: String,
    pub name: String,
    pub error: String,
    pub occurrences: u64,
    /// When it happened first and last, ms since the Unix epoch (absent in older results).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub first_seen_unix_ms: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub last_seen_unix_ms: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct TaskStats {
    #[serde(default = "default_scenario")]
    pub scenario: String,
    pub name: String,
    pub runs: u64,
    pub errors: u64,
    /// Runs cut short at the stop (not in `runs`).
    #[serde(default)]
    pub interrupted: u64,
    /// Arrival-rate scenarios: iteration latency from each iteration's
    /// intended start to its end (`count` iterations, `failures` that errored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<RequestStats>,
}

/// What a scenario did besides its requests.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct ScenarioStats {
    pub name: String,
    /// The executor and its settings, as text.
    #[serde(default)]
    pub executor: String,
    /// Iterations that could not start at their time (no free user).
    pub dropped_iterations: u64,
    /// Users that started in it (a user made afresh after a failure counts again).
    #[serde(default)]
    pub users_started: u64,
    /// The most users it had at once (in a merge: the sum of the inputs' peaks).
    #[serde(default)]
    pub peak_users: u64,
    /// Iteration latency over its tasks (arrival-rate scenarios).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<RequestStats>,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct ErrorStats {
    #[serde(default = "default_scenario")]
    pub scenario: String,
    pub r#where: String,
    pub message: String,
    pub occurrences: u64,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Second {
    pub second: usize,
    pub requests: u64,
    pub failures: u64,
    pub users: u64,
    /// Iterations dropped in that second.
    #[serde(default)]
    pub dropped: u64,
    /// That second's response times, encoded as above; absent without requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<String>,
}

/// What was run, with what, when.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct Meta {
    pub wasp_version: String,
    pub wasmtime_version: String,
    pub plugin: String,
    pub plugin_sha256: String,
    pub behaviour: String,
    pub host: String,
    /// Wall-clock start, ms since the Unix epoch: merges align timelines on it.
    pub started_at_unix_ms: u64,
    pub hostname: String,
    /// The run's effective options, as text.
    pub options: BTreeMap<String, String>,
    /// For a merged result: the files it was made from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<String>,
    /// A shard of a distributed run: `I/N` (`--segment`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// For a merged result: each input's own figures, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<Part>,
}

/// One input of a merge, as it was by itself.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Part {
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    pub hostname: String,
    pub started_at_unix_ms: u64,
    pub duration_s: f64,
    pub peak_users: u64,
    pub requests: u64,
    pub failures: u64,
    pub p95_ms: f64,
    pub stop_reason: String,
    pub exit_code: i32,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Report {
    pub format: String,
    pub meta: Meta,
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
    #[serde(default)]
    pub scenarios: Vec<ScenarioStats>,
    /// Iteration latency over all arrival-rate scenarios.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterations: Option<RequestStats>,
    #[serde(default)]
    pub dropped_iterations: u64,
    pub timeline: Vec<Second>,
    pub telemetry: crate::Delivery,
    pub thresholds: Vec<crate::thresholds::Outcome>,
}

pub fn encode(h: &Histogram<u64>) -> String {
    B64.encode(stats::encode(h))
}

pub fn decode(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = B64.decode(text.trim()).map_err(|e| format!("histogram is not base64: {e}"))?;
    stats::decode(&bytes)
}

use wasp_runner::units::ms_of as ms;

/// An entry as the document holds it (`pub` for the latency tables and merges).
pub fn request(e: &Entry, snap: &Snapshot) -> RequestStats {
    RequestStats {
        scenario: e.scenario.clone(),
        method: e.method.clone(),
        name: e.name.clone(),
        count: e.count,
        failures: e.failures,
        interrupted: e.interrupted,
        bytes: e.bytes,
        rps: snap.rps(e.count),
        sum_us: e.sum_us,
        min_us: e.min(),
        max_us: e.max_us,
        avg_ms: e.avg_us() / 1000.0,
        p50_ms: ms(e.quantile_us(0.5)),
        p90_ms: ms(e.quantile_us(0.9)),
        p95_ms: ms(e.quantile_us(0.95)),
        p99_ms: ms(e.quantile_us(0.99)),
        p999_ms: ms(e.quantile_us(0.999)),
        percentiles_us: PERCENTILES.iter().map(|(k, q)| (k.to_string(), e.quantile_us(*q))).collect(),
        histogram: encode(&e.hist),
    }
}

fn latency(e: &Entry, snap: &Snapshot) -> Option<RequestStats> {
    (e.count > 0).then(|| request(e, snap))
}

/// What the stats do not know about a run.
pub struct RunInfo<'a> {
    pub meta: Meta,
    /// Per scenario: its executor, as text (may be shorter than the scenarios).
    pub executors: Vec<String>,
    pub stop_reason: &'a str,
    pub exit_code: i32,
    pub telemetry: &'a crate::Delivery,
    pub thresholds: &'a [crate::thresholds::Outcome],
}

pub fn report(snap: &Snapshot, seconds: &[Option<Histogram<u64>>], info: RunInfo) -> Report {
    Report {
        format: FORMAT.to_string(),
        meta: info.meta,
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
            .map(|f| Failure {
                scenario: f.scenario.clone(),
                method: f.method.clone(),
                name: f.name.clone(),
                error: f.error.clone(),
                occurrences: f.occurrences,
                first_seen_unix_ms: f.first_seen_unix_ms,
                last_seen_unix_ms: f.last_seen_unix_ms,
            })
            .collect(),
        tasks: snap
            .tasks
            .iter()
            .map(|t| TaskStats {
                scenario: t.scenario.clone(),
                name: t.name.clone(),
                runs: t.runs,
                errors: t.errors,
                interrupted: t.interrupted,
                latency: latency(&t.latency, snap),
            })
            .collect(),
        errors: snap
            .errors
            .iter()
            .map(|e| ErrorStats { scenario: e.scenario.clone(), r#where: e.place.clone(), message: e.message.clone(), occurrences: e.occurrences })
            .collect(),
        scenarios: snap
            .scenarios
            .iter()
            .enumerate()
            .map(|(i, s)| ScenarioStats {
                name: s.name.clone(),
                executor: info.executors.get(i).cloned().unwrap_or_default(),
                dropped_iterations: s.dropped,
                users_started: s.users_started,
                peak_users: s.peak_users,
                latency: latency(&s.latency, snap),
            })
            .collect(),
        iterations: latency(&snap.latency, snap),
        dropped_iterations: snap.dropped_iterations,
        timeline: snap
            .timeline
            .iter()
            .enumerate()
            .map(|(i, s)| Second {
                second: i,
                requests: s.requests,
                failures: s.failures,
                users: s.users,
                dropped: s.dropped,
                histogram: seconds.get(i).and_then(|h| h.as_ref()).filter(|h| h.len() > 0).map(encode),
            })
            .collect(),
        telemetry: info.telemetry.clone(),
        thresholds: info.thresholds.to_vec(),
    }
}

fn entry(r: &RequestStats) -> Result<Entry, String> {
    let hist = decode(&r.histogram).map_err(|e| format!("{} {}: {e}", r.method, r.name))?;
    if hist.len() != r.count {
        return Err(format!("{} {}: histogram holds {} samples, count says {}", r.method, r.name, hist.len(), r.count));
    }
    let mut e = Entry::new(&r.method, &r.name);
    e.scenario = r.scenario.clone();
    e.count = r.count;
    e.failures = r.failures;
    e.interrupted = r.interrupted;
    e.bytes = r.bytes;
    e.sum_us = r.sum_us;
    e.min_us = if r.count == 0 { u64::MAX } else { r.min_us };
    e.max_us = r.max_us;
    e.hist = hist;
    Ok(e)
}

impl Report {
    /// Reads a result file, checking it is one and that its histograms decode.
    pub fn read(path: &std::path::Path) -> Result<Report, String> {
        let shown = path.display();
        let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
        if !meta.is_file() {
            return Err(format!("{shown} is not a regular file"));
        }
        if meta.len() > MAX_FILE {
            return Err(format!("{shown} is {} bytes, more than a result file can be ({MAX_FILE})", meta.len()));
        }
        let text = std::fs::read(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
        Self::parse(&text).map_err(|e| format!("{shown}: {e}"))
    }

    /// A result document from its JSON text, checked: the format, and values
    /// a real run can have (times within a year, a start before the year 10000).
    pub fn parse(text: &[u8]) -> Result<Report, String> {
        let r: Report = serde_json::from_slice(text).map_err(|e| format!("not a wasp result: {e}"))?;
        if r.format != FORMAT {
            return Err(format!("format '{}', this wasp reads '{FORMAT}'", r.format));
        }
        let year = wasp_runner::units::MAX_DURATION.as_secs_f64();
        if !(r.duration_s.is_finite() && (0.0..=year).contains(&r.duration_s)) {
            return Err(format!("duration_s {} is not a run's length (0 to a year)", r.duration_s));
        }
        if r.ramp_up_s.is_some_and(|s| !(s.is_finite() && (0.0..=year).contains(&s))) {
            return Err("ramp_up_s is not a time within the run".into());
        }
        if r.meta.started_at_unix_ms > LAST_START_MS {
            return Err(format!("started_at_unix_ms {} is after the year 9999", r.meta.started_at_unix_ms));
        }
        if r.timeline.len() as f64 > r.duration_s + 2.0 {
            return Err(format!("{} timeline seconds for a {:.0} s run", r.timeline.len(), r.duration_s));
        }
        Ok(r)
    }

    /// The per-second histograms (None for seconds without requests).
    pub fn second_histograms(&self) -> Result<Vec<Option<Histogram<u64>>>, String> {
        self.timeline.iter().map(|s| s.histogram.as_deref().map(decode).transpose()).collect()
    }

    /// The stats this report was made from, histograms included.
    pub fn snapshot(&self) -> Result<Snapshot, String> {
        let entries = self.requests.iter().map(entry).collect::<Result<Vec<_>, _>>()?;
        let total = entry(&self.total)?;
        let latency = |l: &Option<RequestStats>, scenario: &str, name: &str| -> Result<Entry, String> {
            let mut e = match l {
                Some(r) => entry(r)?,
                None => Entry::new("", name),
            };
            e.scenario = scenario.to_string();
            Ok(e)
        };
        let tasks = self
            .tasks
            .iter()
            .map(|t| {
                Ok(stats::TaskEntry {
                    scenario: t.scenario.clone(),
                    name: t.name.clone(),
                    runs: t.runs,
                    errors: t.errors,
                    interrupted: t.interrupted,
                    latency: latency(&t.latency, &t.scenario, &t.name)?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let mut scenarios = self
            .scenarios
            .iter()
            .map(|s| {
                Ok(stats::ScenarioSnapshot {
                    name: s.name.clone(),
                    users: 0,
                    dropped: s.dropped_iterations,
                    latency: latency(&s.latency, &s.name, "Iterations")?,
                    users_started: s.users_started,
                    peak_users: s.peak_users,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        if scenarios.is_empty() {
            // A result from before scenarios: one, the default.
            scenarios.push(stats::ScenarioSnapshot {
                name: DEFAULT_SCENARIO.into(),
                users: 0,
                dropped: 0,
                latency: Entry::new("", "Iterations"),
                users_started: 0,
                peak_users: 0,
            });
        }
        Ok(Snapshot {
            elapsed: Duration::from_secs_f64(self.duration_s.max(0.0)),
            users: self.timeline.last().map(|s| s.users).unwrap_or(0),
            scenarios,
            entries,
            total,
            failures: self
                .failures
                .iter()
                .map(|f| stats::Failure {
                    scenario: f.scenario.clone(),
                    method: f.method.clone(),
                    name: f.name.clone(),
                    error: f.error.clone(),
                    occurrences: f.occurrences,
                    first_seen_unix_ms: f.first_seen_unix_ms,
                    last_seen_unix_ms: f.last_seen_unix_ms,
                })
                .collect(),
            tasks,
            errors: self
                .errors
                .iter()
                .map(|e| stats::ErrorEntry { scenario: e.scenario.clone(), place: e.r#where.clone(), message: e.message.clone(), occurrences: e.occurrences })
                .collect(),
            timeline: self.timeline.iter().map(|s| stats::Second { requests: s.requests, failures: s.failures, users: s.users, dropped: s.dropped }).collect(),
            ramp_up: self.ramp_up_s.map(|s| Duration::from_secs_f64(s.max(0.0))),
            latency: latency(&self.iterations, "", "Iterations")?,
            dropped_iterations: self.dropped_iterations,
        })
    }
}

/// Writes the report next to its final place, then renames it, so a reader
/// never sees half a file.
pub fn write(path: &std::path::Path, report: &Report) -> std::io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(report).map_err(std::io::Error::other)?)?;
    std::fs::rename(tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;
    use wasp_runner::stats::Stats;

    #[test]
    fn a_report_reads_back_into_the_same_stats() {
        let s = Stats::new(&["t".into()]);
        let now = Instant::now();
        for v in 1..=2000u64 {
            s.request(0, "GET", "/a", v * 37, 5, (v % 100 == 0).then_some("HTTP 500"), now);
        }
        s.task(0, 0, None);
        let snap = s.snapshot();
        let info = RunInfo { meta: Meta::default(), executors: vec![], stop_reason: "run-time", exit_code: 0, telemetry: &Default::default(), thresholds: &[] };
        let r = report(&snap, &s.second_histograms(), info);
        let back: Report = serde_json::from_slice(&serde_json::to_vec(&r).unwrap()).unwrap();
        let again = back.snapshot().unwrap();
        assert_eq!(again.total.count, 2000);
        assert_eq!(again.total.failures, 20);
        for q in [0.5, 0.9, 0.99, 0.999, 1.0] {
            assert_eq!(again.total.quantile_us(q), snap.total.quantile_us(q));
        }
        assert_eq!((again.total.min_us, again.total.max_us, again.total.sum_us), (snap.total.min_us, snap.total.max_us, snap.total.sum_us));
        let seconds = back.second_histograms().unwrap();
        assert_eq!(seconds[0].as_ref().map(|h| h.len()), Some(2000), "the second holds every request");
    }

    #[test]
    fn a_damaged_histogram_is_an_error() {
        assert!(decode("HISTFAAAnotreally").is_err());
        assert!(decode("%%%").is_err());
    }
}
