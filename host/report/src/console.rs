//! The console: a live table while running and a Locust-like summary at the end.

use std::fmt::Write;
use wasp_runner::stats::{Entry, Snapshot};

use wasp_runner::units::ms;

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

const NAME_WIDTH: usize = 36;

/// A request's name as the tables show it: with its scenario when the run has several.
pub fn shown_name(e: &Entry, several: bool) -> String {
    if several && !e.scenario.is_empty() {
        format!("{}: {}", e.scenario, e.name)
    } else {
        e.name.clone()
    }
}

fn name_cell(e: &Entry, several: bool) -> String {
    let mut name = shown_name(e, several);
    if name.chars().count() > NAME_WIDTH {
        name = name.chars().take(NAME_WIDTH - 1).collect::<String>() + "…";
    }
    format!("{:<8} {:<w$}", e.method, name, w = NAME_WIDTH)
}

fn row(out: &mut String, e: &Entry, snap: &Snapshot) {
    let _ = writeln!(
        out,
        "{} {:>8} {:>8}({:>5.2}%) | {:>7} {:>7} {:>7} {:>7} | {:>7} {:>7} {:>7} {:>7} | {:>8.2} {:>8.2}",
        name_cell(e, snap.several_scenarios()),
        e.count,
        e.failures,
        pct(e.failures, e.count),
        ms(e.avg_us()),
        ms(e.min() as f64),
        ms(e.max_us as f64),
        ms(e.quantile_us(0.5) as f64),
        ms(e.quantile_us(0.90) as f64),
        ms(e.quantile_us(0.95) as f64),
        ms(e.quantile_us(0.99) as f64),
        ms(e.quantile_us(0.999) as f64),
        snap.rps(e.count),
        snap.rps(e.failures),
    );
}

/// The per-name table with the aggregated row (times in ms).
pub fn table(snap: &Snapshot) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<8} {:<w$} {:>8} {:>17} | {:>7} {:>7} {:>7} {:>7} | {:>7} {:>7} {:>7} {:>7} | {:>8} {:>8}",
        "Type",
        "Name",
        "# reqs",
        "# fails",
        "Avg",
        "Min",
        "Max",
        "Med",
        "p90",
        "p95",
        "p99",
        "p99.9",
        "req/s",
        "fail/s",
        w = NAME_WIDTH
    );
    let rule = "-".repeat(8 + 1 + NAME_WIDTH + 1 + 8 + 1 + 17 + 3 + 31 + 3 + 31 + 3 + 17);
    let _ = writeln!(out, "{rule}");
    for e in &snap.entries {
        row(&mut out, e, snap);
    }
    let _ = writeln!(out, "{rule}");
    row(&mut out, &snap.total, snap);
    out
}

/// One status line: elapsed, users, current and total RPS, failures.
pub fn status_line(snap: &Snapshot) -> String {
    format!(
        "{:>6.1}s  users {:>6}  current {:>9.1} req/s  total {:>9} req  fails {:>6.2}%",
        snap.elapsed.as_secs_f64(),
        snap.users,
        snap.current_rps(),
        snap.total.count,
        pct(snap.total.failures, snap.total.count)
    )
}

/// Cuts `line` to `width` characters (a live view must not wrap, or it could
/// not be redrawn in place).
fn fit(line: &str, width: usize) -> String {
    if line.chars().count() <= width {
        line.to_string()
    } else {
        line.chars().take(width.saturating_sub(1)).collect::<String>() + "…"
    }
}

/// The live view drawn in place on a terminal: the status line, the `rows`
/// busiest request names (by count) with the aggregated row, and the last
/// warnings; every line cut to `width`.
pub fn live_view(snap: &Snapshot, rows: usize, width: usize, warnings: &[String]) -> String {
    let several = snap.several_scenarios();
    let mut lines = vec![status_line(snap)];
    lines.push(format!(
        "{:<8} {:<w$} {:>9} {:>17} | {:>7} {:>7} {:>7} | {:>8}",
        "Type",
        "Name",
        "# reqs",
        "# fails",
        "Med",
        "p95",
        "p99",
        "req/s",
        w = NAME_WIDTH
    ));
    let line = |e: &Entry| {
        format!(
            "{} {:>9} {:>8}({:>6.2}%) | {:>7} {:>7} {:>7} | {:>8.1}",
            name_cell(e, several),
            e.count,
            e.failures,
            pct(e.failures, e.count),
            ms(e.quantile_us(0.5) as f64),
            ms(e.quantile_us(0.95) as f64),
            ms(e.quantile_us(0.99) as f64),
            snap.rps(e.count),
        )
    };
    let mut busiest: Vec<&Entry> = snap.entries.iter().collect();
    busiest.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    let shown = busiest.len().min(rows.max(1));
    for e in &busiest[..shown] {
        lines.push(line(e));
    }
    if busiest.len() > shown {
        lines.push(format!("{:<8} … {} more name(s) (all in the summary)", "", busiest.len() - shown));
    }
    lines.push(line(&snap.total));
    if !snap.failures.is_empty() {
        let top = snap.failures.iter().max_by_key(|f| f.occurrences);
        if let Some(f) = top {
            lines.push(format!("failures: {} kind(s); most: {}× {} {}: {}", snap.failures.len(), f.occurrences, f.method, f.name, f.error));
        }
    }
    for w in warnings {
        lines.push(format!("! {w}"));
    }
    lines.iter().map(|l| fit(l, width)).collect::<Vec<_>>().join("\n")
}

/// The end-of-run report: the table, failures, tasks, errors and, for
/// arrival-rate scenarios, iteration latency and dropped iterations.
pub fn summary(snap: &Snapshot, plugin: &str) -> String {
    let mut out = String::new();
    let several = snap.several_scenarios();
    let _ = writeln!(
        out,
        "\n=== wasp summary: {plugin}, {:.1}s, peak {} users ===",
        snap.elapsed.as_secs_f64(),
        snap.timeline.iter().map(|s| s.users).max().unwrap_or(snap.users)
    );
    out.push_str(&table(snap));
    if !snap.failures.is_empty() {
        let _ = writeln!(out, "\nFailures");
        let _ = writeln!(out, "{:>10}  {:<8} {:<w$} Error", "# occur.", "Type", "Name", w = NAME_WIDTH);
        for f in &snap.failures {
            let name = if several { format!("{}: {}", f.scenario, f.name) } else { f.name.clone() };
            let _ = writeln!(out, "{:>10}  {:<8} {name:<w$} {}", f.occurrences, f.method, f.error, w = NAME_WIDTH);
        }
    }
    if snap.total.interrupted > 0 {
        let _ =
            writeln!(out, "\n{} request(s) were still in flight when the run stopped: listed as interrupted, not in the counts above", snap.total.interrupted);
    }
    let _ = writeln!(out, "\nTasks");
    let _ = writeln!(out, "{:<w$} {:>10} {:>10} {:>12}", "Task", "# runs", "# errors", "# cut short", w = NAME_WIDTH + 9);
    for t in &snap.tasks {
        let name = if several { format!("{}: {}", t.scenario, t.name) } else { t.name.clone() };
        let _ = writeln!(out, "{name:<w$} {:>10} {:>10} {:>12}", t.runs, t.errors, t.interrupted, w = NAME_WIDTH + 9);
    }
    if snap.latency.count > 0 || snap.dropped_iterations > 0 {
        let _ = writeln!(out, "\nIterations (arrival rate): latency from each iteration's intended start to its end, ms");
        let _ = writeln!(
            out,
            "{:<w$} {:>8} {:>8} {:>9} | {:>7} {:>7} {:>7} {:>7} {:>7}",
            "Task",
            "# iter.",
            "# errors",
            "# dropped",
            "Med",
            "p90",
            "p95",
            "p99",
            "Max",
            w = NAME_WIDTH + 9
        );
        let line = |out: &mut String, name: &str, e: &Entry, dropped: Option<u64>| {
            let dropped = dropped.map(|d| d.to_string()).unwrap_or_default();
            let _ = writeln!(
                out,
                "{name:<w$} {:>8} {:>8} {dropped:>9} | {:>7} {:>7} {:>7} {:>7} {:>7}",
                e.count,
                e.failures,
                ms(e.quantile_us(0.5) as f64),
                ms(e.quantile_us(0.9) as f64),
                ms(e.quantile_us(0.95) as f64),
                ms(e.quantile_us(0.99) as f64),
                ms(e.max_us as f64),
                w = NAME_WIDTH + 9
            );
        };
        for t in snap.tasks.iter().filter(|t| t.latency.count > 0) {
            let name = if several { format!("{}: {}", t.scenario, t.name) } else { t.name.clone() };
            line(&mut out, &name, &t.latency, None);
        }
        for sc in snap.scenarios.iter().filter(|s| s.latency.count > 0 || s.dropped > 0) {
            line(&mut out, &format!("{} (all tasks)", sc.name), &sc.latency, Some(sc.dropped));
        }
        if snap.dropped_iterations > 0 {
            let _ = writeln!(out, "{} iteration(s) were dropped: no user was free at their time (see --max-users)", snap.dropped_iterations);
        }
    }
    if !snap.errors.is_empty() {
        let _ = writeln!(out, "\nErrors");
        let _ = writeln!(out, "{:>10}  {:<24} Message", "# occur.", "Where");
        for e in &snap.errors {
            let place = if several { format!("{}: {}", e.scenario, e.place) } else { e.place.clone() };
            let _ = writeln!(out, "{:>10}  {place:<24} {}", e.occurrences, e.message);
        }
    }
    out
}

/// Each threshold with its measured value and verdict.
pub fn thresholds(verdicts: &[crate::thresholds::Outcome]) -> String {
    let mut out = String::new();
    if verdicts.is_empty() {
        return out;
    }
    let _ = writeln!(out, "\nThresholds");
    for v in verdicts {
        let measured = match v.measured {
            Some(m) => format!("{m:.3}{}", v.unit),
            None => "no data".to_string(),
        };
        let _ = writeln!(out, "  {}  {:<40} measured {measured}", if v.passed { "PASS" } else { "FAIL" }, v.threshold);
    }
    out
}

/// What telemetry got out, for the end of the summary.
pub fn telemetry(d: &crate::Delivery) -> String {
    let mut out = String::new();
    if d.traces == "none" && d.metrics == "none" && d.logs == "none" {
        return out;
    }
    let _ = writeln!(out, "\nTelemetry (traces: {}, metrics: {}, logs: {})", d.traces, d.metrics, d.logs);
    let _ = writeln!(out, "  spans exported {:>10}   dropped {:>10}", d.spans_exported, d.spans_dropped);
    let _ = writeln!(out, "  logs  exported {:>10}   dropped {:>10}", d.logs_exported, d.logs_dropped);
    let _ = writeln!(out, "  metric exports ok {:>7}   failed  {:>10}", d.metric_exports_ok, d.metric_exports_failed);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;
    use wasp_runner::stats::Stats;

    #[test]
    fn summary_names_every_request_failure_and_task() {
        let s = Stats::new(&["index".into()]);
        let now = Instant::now();
        s.request(0, "GET", "/", 1500, 5, None, now);
        s.request(0, "GET", "/bad", 120_000, 0, Some("HTTP 500 Internal Server Error"), now);
        s.task(0, 0, None);
        s.task(0, 0, Some("trap: unreachable"));
        let text = summary(&s.snapshot(), "p.wasm");
        assert!(text.contains("GET      /  "));
        assert!(text.contains("/bad"));
        assert!(text.contains("Aggregated"));
        assert!(text.contains("HTTP 500 Internal Server Error"));
        assert!(text.contains("trap: unreachable"));
        let agg = text.lines().find(|l| l.contains("Aggregated")).unwrap();
        assert!(agg.contains("       2        1(50.00%)"), "{agg}");
    }

    #[test]
    fn live_view_shows_the_busiest_names_and_fits_the_width() {
        let s = Stats::new(&["index".into()]);
        let now = Instant::now();
        for i in 0..5u64 {
            for _ in 0..=i {
                s.request(0, "GET", &format!("/page/{i}"), 1000, 5, None, now);
            }
        }
        s.request(0, "GET", "/page/4", 1000, 0, Some("HTTP 503 Service Unavailable"), now);
        let text = live_view(&s.snapshot(), 2, 60, &["WARN guest: slow".into()]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.iter().all(|l| l.chars().count() <= 60), "{text}");
        // status, header, the two busiest, "3 more", aggregated, failures, warning.
        assert_eq!(lines.len(), 8, "{text}");
        assert!(lines[2].contains("/page/4") && lines[3].contains("/page/3"), "{text}");
        assert!(lines[4].contains("3 more"), "{text}");
        assert!(lines[5].contains("Aggregated"), "{text}");
        assert!(lines[6].contains("HTTP 503"), "{text}");
        assert!(lines[7].starts_with("! WARN guest: slow"), "{text}");
    }
}
