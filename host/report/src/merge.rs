//! Merging results of several runs (several machines, or several slices of
//! one test) into one, exactly: histograms add bucket by bucket, so merged
//! percentiles are those of one histogram of every sample.

use crate::json::{Meta, Part, Report};
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::time::Duration;
use wasp_runner::stats::{Entry, ErrorEntry, Failure, ScenarioSnapshot, Second, Snapshot, TaskEntry};

pub struct Merged {
    pub snapshot: Snapshot,
    pub seconds: Vec<Option<Histogram<u64>>>,
    pub meta: Meta,
    /// Per scenario, its executor as the first input says it.
    pub executors: Vec<String>,
    pub stop_reason: String,
    pub telemetry: crate::Delivery,
    /// Every threshold any input had, once each, to evaluate on the merge.
    pub thresholds: Vec<String>,
}

fn add_hist(into: &mut Option<Histogram<u64>>, h: &Histogram<u64>) -> Result<(), String> {
    match into {
        None => *into = Some(h.clone()),
        Some(acc) => acc.add(h).map_err(|e| format!("cannot add histograms: {e:?}"))?,
    }
    Ok(())
}

/// Merges named reports. Timelines are aligned on their wall-clock starts;
/// entries, tasks and failures are kept apart by scenario.
pub fn merge(inputs: &[(String, Report)]) -> Result<Merged, String> {
    let first = inputs.first().ok_or("nothing to merge")?;
    let start = inputs.iter().map(|(_, r)| r.meta.started_at_unix_ms).min().unwrap_or(0);
    // Timelines are aligned on wall-clock starts: parts of one test lie within a year.
    let end_ms = inputs.iter().map(|(_, r)| r.meta.started_at_unix_ms as f64 + r.duration_s * 1000.0).fold(0.0, f64::max);
    let span_s = (end_ms - start as f64) / 1000.0;
    if span_s > wasp_runner::units::MAX_DURATION.as_secs_f64() {
        return Err(format!(
            "the inputs span {:.0} days from the first start to the last end: they are not parts of one test (at most a year)",
            span_s / 86400.0
        ));
    }
    let mut entries: BTreeMap<(String, String, String), Entry> = BTreeMap::new();
    // (occurrences, first seen, last seen).
    let mut failures: BTreeMap<(String, String, String, String), (u64, u64, u64)> = BTreeMap::new();
    let mut tasks: Vec<TaskEntry> = Vec::new();
    let mut errors: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    let mut scenarios: Vec<ScenarioSnapshot> = Vec::new();
    let mut timeline: Vec<Second> = Vec::new();
    let mut seconds: Vec<Option<Histogram<u64>>> = Vec::new();
    let mut elapsed = Duration::ZERO;
    let mut ramp_up: Option<Duration> = Some(Duration::ZERO);
    let mut users = 0;
    let mut telemetry = crate::Delivery::default();
    let mut thresholds: Vec<String> = Vec::new();
    for (name, r) in inputs {
        let snap = r.snapshot().map_err(|e| format!("{name}: {e}"))?;
        let hists = r.second_histograms().map_err(|e| format!("{name}: {e}"))?;
        let offset_ms = r.meta.started_at_unix_ms.saturating_sub(start);
        let offset = (offset_ms as f64 / 1000.0).round() as usize;
        elapsed = elapsed.max(Duration::from_millis(offset_ms) + snap.elapsed);
        ramp_up = match (ramp_up, snap.ramp_up) {
            (Some(a), Some(b)) => Some(a.max(Duration::from_millis(offset_ms) + b)),
            _ => None,
        };
        users += snap.users;
        for e in snap.entries {
            let key = (e.scenario.clone(), e.method.clone(), e.name.clone());
            match entries.get_mut(&key) {
                Some(acc) => acc.merge(&e),
                None => {
                    entries.insert(key, e);
                }
            }
        }
        for f in snap.failures {
            let e = failures.entry((f.scenario, f.method, f.name, f.error)).or_insert((0, 0, 0));
            e.0 += f.occurrences;
            e.1 = match (e.1, f.first_seen_unix_ms) {
                (0, x) | (x, 0) => x,
                (a, b) => a.min(b),
            };
            e.2 = e.2.max(f.last_seen_unix_ms);
        }
        for t in snap.tasks {
            match tasks.iter_mut().find(|x| x.name == t.name && x.scenario == t.scenario) {
                Some(x) => {
                    x.runs += t.runs;
                    x.errors += t.errors;
                    x.interrupted += t.interrupted;
                    x.latency.merge(&t.latency);
                }
                None => tasks.push(t),
            }
        }
        for e in snap.errors {
            *errors.entry((e.scenario, e.place, e.message)).or_insert(0) += e.occurrences;
        }
        for s in snap.scenarios {
            match scenarios.iter_mut().find(|x| x.name == s.name) {
                Some(x) => {
                    x.dropped += s.dropped;
                    x.users_started += s.users_started;
                    x.peak_users += s.peak_users;
                    x.latency.merge(&s.latency);
                }
                None => scenarios.push(s),
            }
        }
        let len = offset + snap.timeline.len();
        if timeline.len() < len {
            timeline.resize(len, Second::default());
            seconds.resize(len, None);
        }
        for (i, s) in snap.timeline.iter().enumerate() {
            let t = &mut timeline[offset + i];
            t.requests += s.requests;
            t.failures += s.failures;
            t.users += s.users;
            t.dropped += s.dropped;
            if let Some(Some(h)) = hists.get(i) {
                add_hist(&mut seconds[offset + i], h)?;
            }
        }
        let d = &r.telemetry;
        telemetry.spans_exported += d.spans_exported;
        telemetry.spans_dropped += d.spans_dropped;
        telemetry.logs_exported += d.logs_exported;
        telemetry.logs_dropped += d.logs_dropped;
        telemetry.metric_exports_ok += d.metric_exports_ok;
        telemetry.metric_exports_failed += d.metric_exports_failed;
        for t in &r.thresholds {
            if !thresholds.contains(&t.threshold) {
                thresholds.push(t.threshold.clone());
            }
        }
    }
    for (field, pick) in [
        (&mut telemetry.traces, (|r: &Report| r.telemetry.traces.clone()) as fn(&Report) -> String),
        (&mut telemetry.metrics, |r: &Report| r.telemetry.metrics.clone()),
        (&mut telemetry.logs, |r: &Report| r.telemetry.logs.clone()),
    ] {
        *field = same_or(inputs, pick, "mixed");
    }
    let mut entries: Vec<Entry> = entries.into_values().collect();
    entries.sort_by(|a, b| (&a.scenario, &a.name, &a.method).cmp(&(&b.scenario, &b.name, &b.method)));
    let mut total = Entry::new("", "Aggregated");
    for e in &entries {
        total.merge(e);
    }
    let mut failures: Vec<Failure> = failures
        .into_iter()
        .map(|((scenario, method, name, error), (occurrences, first_seen_unix_ms, last_seen_unix_ms))| Failure {
            scenario,
            method,
            name,
            error,
            occurrences,
            first_seen_unix_ms,
            last_seen_unix_ms,
        })
        .collect();
    failures.sort_by(|a, b| b.occurrences.cmp(&a.occurrences));
    let mut errors: Vec<ErrorEntry> =
        errors.into_iter().map(|((scenario, place, message), occurrences)| ErrorEntry { scenario, place, message, occurrences }).collect();
    errors.sort_by(|a, b| b.occurrences.cmp(&a.occurrences));
    let mut latency = Entry::new("", "Iterations");
    for s in &scenarios {
        latency.merge(&s.latency);
    }
    let dropped_iterations = scenarios.iter().map(|s| s.dropped).sum();
    let meta = Meta {
        wasp_version: env!("CARGO_PKG_VERSION").to_string(),
        wasmtime_version: first.1.meta.wasmtime_version.clone(),
        plugin: same_or(inputs, |r| r.meta.plugin.clone(), "(several)"),
        plugin_sha256: same_or(inputs, |r| r.meta.plugin_sha256.clone(), "(several)"),
        behaviour: same_or(inputs, |r| r.meta.behaviour.clone(), "(several)"),
        host: same_or(inputs, |r| r.meta.host.clone(), "(several)"),
        started_at_unix_ms: start,
        hostname: same_or(inputs, |r| r.meta.hostname.clone(), "(several)"),
        options: first.1.meta.options.clone(),
        merged_from: inputs.iter().map(|(n, _)| n.clone()).collect(),
        segment: None,
        parts: inputs
            .iter()
            .map(|(n, r)| Part {
                file: n.clone(),
                segment: r.meta.segment.clone(),
                hostname: r.meta.hostname.clone(),
                started_at_unix_ms: r.meta.started_at_unix_ms,
                duration_s: r.duration_s,
                peak_users: r.peak_users,
                requests: r.total.count,
                failures: r.total.failures,
                p95_ms: r.total.p95_ms,
                stop_reason: r.stop_reason.clone(),
                exit_code: r.exit_code,
            })
            .collect(),
    };
    let executors = first.1.scenarios.iter().map(|s| s.executor.clone()).collect();
    Ok(Merged {
        snapshot: Snapshot { elapsed, users, scenarios, entries, total, failures, tasks, errors, timeline, ramp_up, latency, dropped_iterations },
        seconds,
        meta,
        executors,
        stop_reason: same_or(inputs, |r| r.stop_reason.clone(), "mixed"),
        telemetry,
        thresholds,
    })
}

/// The inputs' common value, or `other` when they differ.
fn same_or(inputs: &[(String, Report)], pick: impl Fn(&Report) -> String, other: &str) -> String {
    let mut values = inputs.iter().map(|(_, r)| pick(r));
    let first = values.next().unwrap_or_default();
    if values.all(|v| v == first) {
        first
    } else {
        other.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::{self, RunInfo};
    use std::time::Instant;
    use wasp_runner::stats::Stats;

    fn run(values: impl Iterator<Item = u64>, started: u64) -> Report {
        let s = Stats::new(&["t".into()]);
        let now = Instant::now();
        for v in values {
            s.request(0, "GET", "/", v, 1, None, now);
            s.task(0, 0, None);
        }
        let meta = Meta { started_at_unix_ms: started, plugin: "p.wasm".into(), ..Meta::default() };
        let info = RunInfo { meta, executors: vec![], stop_reason: "run-time", exit_code: 0, telemetry: &Default::default(), thresholds: &[] };
        json::report(&s.snapshot(), &s.second_histograms(), info)
    }

    #[test]
    fn merged_percentiles_are_those_of_all_samples() {
        let parts: Vec<Vec<u64>> = (0..3u64).map(|k| (0..3000u64).map(|i| (i * 7919 + k * 104_729) % 250_000 + 1).collect()).collect();
        let inputs: Vec<(String, Report)> = parts.iter().enumerate().map(|(k, p)| (format!("{k}.json"), run(p.iter().copied(), 1_000 * k as u64))).collect();
        let m = merge(&inputs).unwrap();
        let mut all = wasp_runner::stats::new_histogram();
        for v in parts.iter().flatten() {
            all.record(*v).unwrap();
        }
        assert_eq!(m.snapshot.total.count, 9000);
        for q in [0.5, 0.66, 0.9, 0.99, 0.999, 1.0] {
            assert_eq!(m.snapshot.total.quantile_us(q), all.value_at_quantile(q), "q {q}");
        }
        assert_eq!(m.snapshot.tasks[0].runs, 9000);
        assert_eq!(m.snapshot.timeline.len(), 3, "starts 0, 1 and 2 s apart");
        assert_eq!(m.seconds[2].as_ref().unwrap().len(), 3000);
        assert_eq!(m.meta.plugin, "p.wasm");
        assert_eq!(m.meta.merged_from.len(), 3);
        let parts: Vec<(u64, u64)> = m.meta.parts.iter().map(|p| (p.requests, p.started_at_unix_ms)).collect();
        assert_eq!(parts, [(3000, 0), (3000, 1000), (3000, 2000)], "each input's own figures");
    }

    #[test]
    fn crafted_inputs_are_refused_with_a_reason() {
        let real = run([1000u64, 2000].into_iter(), 1_764_000_000_000);
        // A run "started" in 1970 beside a real one: a timeline of 1.7 billion seconds.
        let epoch = run([1000u64].into_iter(), 0);
        let e = merge(&[("a".into(), real.clone()), ("b".into(), epoch)]).err().unwrap();
        assert!(e.contains("not parts of one test"), "{e}");
        let text = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v = serde_json::to_value(&real).unwrap();
            f(&mut v);
            serde_json::to_vec(&v).unwrap()
        };
        for (what, bad) in [
            ("duration", text(&|v| v["duration_s"] = 1e300.into())),
            ("negative duration", text(&|v| v["duration_s"] = (-5.0).into())),
            ("year 10000", text(&|v| v["meta"]["started_at_unix_ms"] = 253_402_300_800_000u64.into())),
            ("long timeline", text(&|v| v["timeline"] = serde_json::Value::Array(vec![v["timeline"][0].clone(); 50]))),
        ] {
            assert!(Report::parse(&bad).is_err(), "{what} accepted");
        }
        assert!(Report::parse(&text(&|_| {})).is_ok());
    }
}
