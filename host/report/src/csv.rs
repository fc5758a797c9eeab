//! `--csv PREFIX`: Locust 2.x's CSV files, same headers, times in milliseconds.
//!
//! - `PREFIX_stats.csv`: one row per (method, name), then `,Aggregated,...`
//! - `PREFIX_stats_history.csv`: appended while running, one `Aggregated` row
//!   per interval (and one per name with `--csv-full-history`); its percentiles
//!   and rates cover the last 10 s, as Locust's "current" ones do (exactly: the
//!   cumulative HDR histogram now minus the one 10 s ago)
//! - `PREFIX_failures.csv`, `PREFIX_exceptions.csv`

use hdrhistogram::Histogram;
use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use wasp_runner::stats::{Entry, Snapshot};

pub const STATS_HEADER: &[&str] = &[
    "Type",
    "Name",
    "Request Count",
    "Failure Count",
    "Median Response Time",
    "Average Response Time",
    "Min Response Time",
    "Max Response Time",
    "Average Content Size",
    "Requests/s",
    "Failures/s",
    "50%",
    "66%",
    "75%",
    "80%",
    "90%",
    "95%",
    "98%",
    "99%",
    "99.9%",
    "99.99%",
    "100%",
];

pub const HISTORY_HEADER: &[&str] = &[
    "Timestamp",
    "User Count",
    "Type",
    "Name",
    "Requests/s",
    "Failures/s",
    "50%",
    "66%",
    "75%",
    "80%",
    "90%",
    "95%",
    "98%",
    "99%",
    "99.9%",
    "99.99%",
    "100%",
    "Total Request Count",
    "Total Failure Count",
    "Total Median Response Time",
    "Total Average Response Time",
    "Total Min Response Time",
    "Total Max Response Time",
    "Total Average Content Size",
];

pub const FAILURES_HEADER: &[&str] = &["Method", "Name", "Error", "Occurrences", "First Seen", "Last Seen"];
pub const EXCEPTIONS_HEADER: &[&str] = &["Count", "Message", "Traceback", "Nodes"];

const QUANTILES: [f64; 11] = [0.5, 0.66, 0.75, 0.8, 0.9, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0];
/// Seconds covered by the history's "current" values.
const WINDOW: usize = 10;

pub fn path(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(format!("_{suffix}.csv"));
    PathBuf::from(s)
}

/// A time in ms, as Locust rounds response times for percentiles (whole ms).
fn ms_round(us: u64) -> String {
    format!("{}", (us as f64 / 1000.0).round() as u64)
}

fn ms(us: f64) -> String {
    format!("{}", us / 1000.0)
}

fn percentiles(e: &Entry) -> Vec<String> {
    QUANTILES.iter().map(|&q| if e.count == 0 { "N/A".to_string() } else { ms_round(e.quantile_us(q)) }).collect()
}

/// Count, failures, median, average, min, max, average size: the columns
/// both the stats file and the history's "Total" columns carry.
fn totals(e: &Entry) -> [String; 7] {
    let avg_size = if e.count == 0 { 0.0 } else { e.bytes as f64 / e.count as f64 };
    [e.count.to_string(), e.failures.to_string(), ms_round(e.quantile_us(0.5)), ms(e.avg_us()), ms(e.min() as f64), ms(e.max_us as f64), format!("{avg_size}")]
}

fn stats_row(kind: &str, e: &Entry, snap: &Snapshot) -> Vec<String> {
    let mut row = vec![kind.to_string(), crate::console::shown_name(e, snap.several_scenarios())];
    row.extend(totals(e));
    row.push(format!("{}", snap.rps(e.count)));
    row.push(format!("{}", snap.rps(e.failures)));
    row.extend(percentiles(e));
    row
}

fn writer(path: &Path) -> io::Result<csv::Writer<File>> {
    Ok(csv::WriterBuilder::new().from_writer(File::create(path)?))
}

/// Rows as CSV text.
fn text(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let _ = w.write_record(header);
    for r in rows {
        let _ = w.write_record(r);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// `PREFIX_stats.csv`'s content: a row per request name, then the total.
pub fn stats_csv(snap: &Snapshot) -> String {
    let rows = snap.entries.iter().map(|e| stats_row(&e.method, e, snap)).chain([stats_row("", &snap.total, snap)]);
    text(STATS_HEADER, rows)
}

fn scoped(snap: &Snapshot, scenario: &str, name: &str) -> String {
    if snap.several_scenarios() {
        format!("{scenario}: {name}")
    } else {
        name.to_string()
    }
}

/// `PREFIX_failures.csv`'s content.
pub fn failures_csv(snap: &Snapshot) -> String {
    let rows = snap.failures.iter().map(|f| {
        vec![
            f.method.clone(),
            scoped(snap, &f.scenario, &f.name),
            f.error.clone(),
            f.occurrences.to_string(),
            utc(f.first_seen_unix_ms),
            utc(f.last_seen_unix_ms),
        ]
    });
    text(FAILURES_HEADER, rows)
}

/// A Unix time in ms as Locust writes it, to the second in UTC (`2026-12-02T10:00:00Z`); empty if unknown.
fn utc(ms: u64) -> String {
    if ms == 0 {
        return String::new();
    }
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms)).to_string()
}

/// `PREFIX_exceptions.csv`'s content: task errors, traps, kills.
pub fn exceptions_csv(snap: &Snapshot) -> String {
    let rows = snap
        .errors
        .iter()
        .map(|e| vec![e.occurrences.to_string(), format!("{}: {}", scoped(snap, &e.scenario, &e.place), e.message), String::new(), "local".to_string()]);
    text(EXCEPTIONS_HEADER, rows)
}

/// Writes the end-of-run files: stats, failures, exceptions (and iterations
/// for arrival-rate scenarios).
pub fn write_final(prefix: &Path, snap: &Snapshot) -> io::Result<()> {
    std::fs::write(path(prefix, "stats"), stats_csv(snap))?;
    std::fs::write(path(prefix, "failures"), failures_csv(snap))?;
    std::fs::write(path(prefix, "exceptions"), exceptions_csv(snap))?;
    if snap.latency.count > 0 || snap.dropped_iterations > 0 {
        write_iterations(prefix, snap)?;
    }
    Ok(())
}

/// `PREFIX_iterations.csv` (not a Locust file: wasp's arrival-rate
/// scenarios): per scenario and task, iterations, errors, drops, and the
/// latency from each iteration's intended start, in ms.
pub const ITERATIONS_HEADER: &[&str] = &[
    "Scenario",
    "Task",
    "Iterations",
    "Errors",
    "Dropped",
    "Median",
    "Average",
    "Min",
    "Max",
    "50%",
    "66%",
    "75%",
    "80%",
    "90%",
    "95%",
    "98%",
    "99%",
    "99.9%",
    "99.99%",
    "100%",
];

fn write_iterations(prefix: &Path, snap: &Snapshot) -> io::Result<()> {
    let mut w = writer(&path(prefix, "iterations"))?;
    w.write_record(ITERATIONS_HEADER)?;
    let row = |scenario: &str, task: &str, e: &Entry, dropped: String| {
        let mut r = vec![scenario.to_string(), task.to_string(), e.count.to_string(), e.failures.to_string(), dropped];
        r.extend([ms_round(e.quantile_us(0.5)), ms(e.avg_us()), ms(e.min() as f64), ms(e.max_us as f64)]);
        r.extend(percentiles(e));
        r
    };
    for t in snap.tasks.iter().filter(|t| t.latency.count > 0) {
        w.write_record(row(&t.scenario, &t.name, &t.latency, String::new()))?;
    }
    for s in snap.scenarios.iter().filter(|s| s.latency.count > 0 || s.dropped > 0) {
        w.write_record(row(&s.name, "Aggregated", &s.latency, s.dropped.to_string()))?;
    }
    w.flush()
}

/// Appends rows to `PREFIX_stats_history.csv` as the run goes.
pub struct History {
    out: csv::Writer<File>,
    full: bool,
    /// Cumulative entries of the last seconds, oldest first, keyed "METHOD name" ("" for the total).
    past: VecDeque<HashMap<String, Entry>>,
}

impl History {
    pub fn create(prefix: &Path, full: bool) -> io::Result<History> {
        let mut out = writer(&path(prefix, "stats_history"))?;
        out.write_record(HISTORY_HEADER)?;
        out.flush()?;
        Ok(History { out, full, past: VecDeque::new() })
    }

    fn row(&mut self, ts: u64, users: u64, kind: &str, now: &Entry, then: Option<&Entry>, window_s: f64) -> io::Result<()> {
        // The window: everything since `then` (an exact histogram difference).
        let mut recent = now.clone();
        if let Some(t) = then {
            recent.hist.subtract(&t.hist).map_err(|e| io::Error::other(format!("{e:?}")))?;
            recent.count = now.count - t.count;
            recent.failures = now.failures - t.failures;
        }
        let mut row = vec![ts.to_string(), users.to_string(), kind.to_string(), now.name.clone()];
        row.push(format!("{}", recent.count as f64 / window_s.max(1.0)));
        row.push(format!("{}", recent.failures as f64 / window_s.max(1.0)));
        row.extend(QUANTILES.iter().map(|&q| if recent.count == 0 { "N/A".to_string() } else { ms_round(recent.hist.value_at_quantile(q)) }));
        row.extend(totals(now));
        self.out.write_record(row)?;
        Ok(())
    }

    /// Writes this interval's rows and flushes them, so the file is valid at any time.
    pub fn append(&mut self, snap: &Snapshot, unix_ts: u64) -> io::Result<()> {
        let mut current: HashMap<String, Entry> = HashMap::new();
        current.insert(String::new(), snap.total.clone());
        if self.full {
            for e in &snap.entries {
                current.insert(format!("{} {}", e.method, e.name), e.clone());
            }
        }
        let window_s = self.past.len().max(1) as f64;
        if self.full {
            for e in &snap.entries {
                let key = format!("{} {}", e.method, e.name);
                let then = self.past.front().and_then(|p| p.get(&key)).cloned();
                self.row(unix_ts, snap.users, &e.method, e, then.as_ref(), window_s)?;
            }
        }
        let then = self.past.front().and_then(|p| p.get("")).cloned();
        self.row(unix_ts, snap.users, "", &snap.total, then.as_ref(), window_s)?;
        self.out.flush()?;
        self.past.push_back(current);
        if self.past.len() > WINDOW {
            self.past.pop_front();
        }
        Ok(())
    }
}

/// The history of a finished result (a merge): an `Aggregated` row per second,
/// rebuilt from the per-second histograms. Content sizes there are the run's average.
pub fn write_history(prefix: &Path, snap: &Snapshot, seconds: &[Option<Histogram<u64>>], start_unix_s: u64) -> io::Result<()> {
    let mut h = History::create(prefix, false)?;
    let avg_size = if snap.total.count == 0 { 0.0 } else { snap.total.bytes as f64 / snap.total.count as f64 };
    let mut cum = Entry::new("", "Aggregated");
    for (i, s) in snap.timeline.iter().enumerate() {
        if let Some(Some(x)) = seconds.get(i) {
            cum.hist.add(x).map_err(|e| io::Error::other(format!("{e:?}")))?;
            cum.sum_us += (x.mean() * x.len() as f64).round() as u64;
            cum.min_us = cum.min_us.min(x.min());
            cum.max_us = cum.max_us.max(x.max());
        }
        cum.count += s.requests;
        cum.failures += s.failures;
        cum.bytes = (avg_size * cum.count as f64).round() as u64;
        let view = Snapshot {
            elapsed: std::time::Duration::from_secs(i as u64 + 1),
            users: s.users,
            scenarios: vec![],
            entries: vec![],
            total: cum.clone(),
            failures: vec![],
            tasks: vec![],
            errors: vec![],
            timeline: vec![],
            ramp_up: None,
            latency: Entry::new("", "Iterations"),
            dropped_iterations: 0,
        };
        h.append(&view, start_unix_s + i as u64 + 1)?;
    }
    finish(&mut h)
}

/// Flushes the history file (the csv writer flushes the file under it).
pub fn finish(h: &mut History) -> io::Result<()> {
    h.out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;
    use wasp_runner::stats::Stats;

    #[test]
    fn headers_are_locusts() {
        assert_eq!(STATS_HEADER.join(","), "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%");
        assert_eq!(HISTORY_HEADER.join(","), "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,Total Average Content Size");
    }

    #[test]
    fn history_window_is_the_difference_of_cumulative_histograms() {
        let dir = tempfile_dir();
        let s = Stats::new(&[]);
        let now = Instant::now();
        let mut h = History::create(&dir.join("run"), false).unwrap();
        for _ in 0..100 {
            s.request(0, "GET", "/", 1_000, 0, None, now); // 1 ms
        }
        h.append(&s.snapshot(), 1).unwrap();
        for _ in 0..100 {
            s.request(0, "GET", "/", 100_000, 0, None, now); // 100 ms
        }
        h.append(&s.snapshot(), 2).unwrap();
        finish(&mut h).unwrap();
        let text = std::fs::read_to_string(path(&dir.join("run"), "stats_history")).unwrap();
        let rows: Vec<Vec<&str>> = text.lines().skip(1).map(|l| l.split(',').collect()).collect();
        assert_eq!(rows[0][6], "1", "first interval: p50 1 ms");
        assert_eq!(rows[1][6], "100", "second interval: only the new samples, p50 100 ms");
        assert_eq!(rows[1][17], "200", "total count is cumulative");
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("wasp-csv-{}-{:?}", std::process::id(), std::thread::current().id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
