//! `--html FILE`: one self-contained page (inline CSS and SVG, nothing
//! fetched) with the run's charts, tables, thresholds and metadata. Charts
//! are drawn by plotters into SVG from the result document, so a merged
//! result gets the same report as a single run.

use crate::json::{Report, RequestStats};
use hdrhistogram::Histogram;
use html_escape::encode_text as esc;
use plotters::backend::SVGBackend;
use plotters::prelude::*;
use std::fmt::Write;
use wasp_runner::units::ms;

/// Series colours (also what the browser test looks for in the screenshot).
pub const REQUESTS: RGBColor = RGBColor(37, 99, 235);
pub const FAILURES: RGBColor = RGBColor(220, 38, 38);
pub const P50: RGBColor = RGBColor(22, 163, 74);
pub const P95: RGBColor = RGBColor(217, 119, 6);
pub const P99: RGBColor = RGBColor(147, 51, 234);
pub const USERS: RGBColor = RGBColor(8, 145, 178);

const SIZE: (u32, u32) = (620, 300);

/// One line of a chart: its legend, its colour, its (second, value) points.
pub type Series<'a> = (&'a str, RGBColor, Vec<(f64, f64)>);

/// A line chart (SVG, for inlining in HTML) of several series over the
/// run's seconds; `area` fills under the lines.
pub fn lines(title: &str, y_desc: &str, series: &[Series], area: bool) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let x_max = series.iter().flat_map(|s| s.2.iter().map(|p| p.0)).fold(1.0, f64::max);
        let y_max = series.iter().flat_map(|s| s.2.iter().map(|p| p.1)).fold(0.0, f64::max);
        let y_max = if y_max <= 0.0 { 1.0 } else { y_max * 1.1 };
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 17))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("seconds")
            .y_desc(y_desc)
            .light_line_style(RGBColor(240, 240, 240))
            .bold_line_style(RGBColor(220, 220, 220))
            .label_style(("sans-serif", 12))
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .draw()
            .map_err(|e| e.to_string())?;
        for (name, color, points) in series {
            let color = *color;
            if area {
                chart
                    .draw_series(AreaSeries::new(points.iter().copied(), 0.0, color.mix(0.18)).border_style(color.stroke_width(2)))
                    .map_err(|e| e.to_string())?
                    .label(*name)
                    .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], color.filled()));
            } else {
                chart
                    .draw_series(LineSeries::new(points.iter().copied(), color.stroke_width(2)))
                    .map_err(|e| e.to_string())?
                    .label(*name)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(3)));
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .label_font(("sans-serif", 12))
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(inline(svg))
}

/// The latency distribution: request counts per response-time bin, up to p99.9.
fn distribution(h: &Histogram<u64>) -> Result<String, String> {
    let top = h.value_at_quantile(0.999).max(1);
    let step = (top / 60).max(1);
    let mut bins: Vec<(f64, f64, u64)> = Vec::new();
    let mut from = 0u64;
    for v in h.iter_linear(step) {
        let to = v.value_iterated_to();
        if from > top {
            break;
        }
        bins.push((from as f64 / 1000.0, to as f64 / 1000.0, v.count_since_last_iteration()));
        from = to;
    }
    let y_max = bins.iter().map(|b| b.2).max().unwrap_or(1).max(1) as f64 * 1.1;
    let x_max = bins.last().map(|b| b.1).unwrap_or(1.0).max(0.001);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Response time distribution (to p99.9)", ("sans-serif", 17))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("ms")
            .y_desc("requests")
            .light_line_style(RGBColor(240, 240, 240))
            .bold_line_style(RGBColor(220, 220, 220))
            .label_style(("sans-serif", 12))
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .draw()
            .map_err(|e| e.to_string())?;
        chart.draw_series(bins.iter().map(|&(a, b, c)| Rectangle::new([(a, 0.0), (b, c as f64)], REQUESTS.filled()))).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(inline(svg))
}

/// An axis label: no needless decimals.
fn tick(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else if v.abs() >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}").trim_end_matches('0').to_string()
    }
}

/// SVG inline in HTML needs no namespace declaration: drop it, so the page
/// holds no address at all.
fn inline(svg: String) -> String {
    svg.replace(" xmlns=\"http://www.w3.org/2000/svg\"", "").replace(" xmlns:xlink=\"http://www.w3.org/1999/xlink\"", "")
}

fn request_row(out: &mut String, r: &RequestStats, total: bool, several: bool) {
    let fail_pct = if r.count == 0 { 0.0 } else { r.failures as f64 * 100.0 / r.count as f64 };
    let pct = |k: &str| ms(r.percentiles_us.get(k).copied().unwrap_or(0) as f64);
    let size = if r.count == 0 { 0 } else { r.bytes / r.count };
    let _ = write!(
        out,
        "<tr{}><td>{}</td><td class=name>{}</td><td>{}</td><td{}>{} ({fail_pct:.2}%)</td><td>{}</td><td>{}</td><td>{}</td>\
         <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{}</td></tr>",
        if total { " class=total" } else { "" },
        esc(&r.method),
        esc(&scoped(several && !total, &r.scenario, &r.name)),
        r.count,
        if r.failures > 0 { " class=bad" } else { "" },
        r.failures,
        ms(r.avg_ms * 1000.0),
        ms(r.min_us as f64),
        ms(r.max_us as f64),
        pct("50"),
        pct("90"),
        pct("95"),
        pct("99"),
        pct("99.9"),
        r.rps,
        size,
    );
}

/// A name with its scenario, when the run has several.
fn scoped(several: bool, scenario: &str, name: &str) -> String {
    if several && !scenario.is_empty() {
        format!("{scenario}: {name}")
    } else {
        name.to_string()
    }
}

/// A latency row: count, errors, then p50 … max (ms).
fn latency_row(out: &mut String, name: &str, e: &RequestStats, dropped: Option<u64>) {
    let pct = |k: &str| ms(e.percentiles_us.get(k).copied().unwrap_or(0) as f64);
    let _ = write!(
        out,
        "<tr><td class=name>{}</td><td>{}</td><td{}>{}</td><td{}>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        esc(name),
        e.count,
        if e.failures > 0 { " class=bad" } else { "" },
        e.failures,
        if dropped.unwrap_or(0) > 0 { " class=bad" } else { "" },
        dropped.map(|d| d.to_string()).unwrap_or_default(),
        pct("50"),
        pct("90"),
        pct("95"),
        pct("99"),
        ms(e.max_us as f64),
    );
}

fn card(out: &mut String, label: &str, value: &str) {
    let _ = write!(out, "<div class=card><div class=v>{}</div><div class=l>{}</div></div>", esc(value), esc(label));
}

fn when(unix_ms: u64) -> String {
    if unix_ms > crate::json::LAST_START_MS {
        return "(not a date)".into();
    }
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(unix_ms);
    humantime::format_rfc3339_seconds(t).to_string()
}

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;background:#f4f6fa;color:#1f2933}
header{background:#111827;color:#f9fafb;padding:20px 32px}
header h1{margin:0 0 6px;font-size:22px}header .sub{color:#cbd5e1;font-size:14px}
.verdict{display:inline-block;padding:3px 10px;border-radius:4px;font-weight:600;margin-left:10px;font-size:14px}
.pass{background:#16a34a;color:#fff}.fail{background:#dc2626;color:#fff}
main{padding:20px 32px;max-width:1340px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin-bottom:18px}
.card{background:#fff;border-radius:8px;padding:12px 18px;min-width:120px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.card .v{font-size:22px;font-weight:600}.card .l{font-size:12px;color:#64748b;text-transform:uppercase;letter-spacing:.04em}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(620px,1fr));gap:14px;margin-bottom:18px}
.chart{background:#fff;border-radius:8px;padding:6px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
section{background:#fff;border-radius:8px;padding:12px 18px;margin-bottom:16px;box-shadow:0 1px 2px rgba(0,0,0,.08);overflow-x:auto}
h2{font-size:16px;margin:4px 0 10px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:5px 8px;text-align:right;border-bottom:1px solid #e5e7eb;white-space:nowrap}
th{background:#f8fafc;color:#475569;font-weight:600}
td.name,th.name,td.text{text-align:left;white-space:normal;word-break:break-all}
tr.total td{font-weight:600;background:#f8fafc}
.bad{color:#dc2626;font-weight:600}
.note{color:#64748b;font-size:13px;margin:0 0 8px}.good{color:#16a34a;font-weight:600}
";

/// The whole page.
pub fn render(r: &Report) -> Result<String, String> {
    let seconds = r.second_histograms()?;
    let total_hist = super::json::decode(&r.total.histogram)?;
    let xs = |i: usize| i as f64 + 0.5;
    // The last second is usually cut short by the stop: rates cover the time it had.
    let span = |i: usize| (r.duration_s - i as f64).clamp(0.25, 1.0);
    let rps: Vec<(f64, f64)> = r.timeline.iter().enumerate().map(|(i, s)| (xs(i), s.requests as f64 / span(i))).collect();
    let fps: Vec<(f64, f64)> = r.timeline.iter().enumerate().map(|(i, s)| (xs(i), s.failures as f64 / span(i))).collect();
    let users: Vec<(f64, f64)> = r.timeline.iter().enumerate().map(|(i, s)| (xs(i), s.users as f64)).collect();
    let pct = |q: f64| -> Vec<(f64, f64)> {
        seconds.iter().enumerate().filter_map(|(i, h)| h.as_ref().map(|h| (xs(i), h.value_at_quantile(q) as f64 / 1000.0))).collect()
    };
    let charts = [
        lines("Requests and failures per second", "per second", &[("requests/s", REQUESTS, rps), ("failures/s", FAILURES, fps)], false)?,
        lines("Response time percentiles", "ms", &[("p50", P50, pct(0.5)), ("p95", P95, pct(0.95)), ("p99", P99, pct(0.99))], false)?,
        lines("Users", "users", &[("users", USERS, users)], true)?,
        distribution(&total_hist)?,
    ];

    let passed = r.exit_code == 0;
    let m = &r.meta;
    let mut out = String::with_capacity(64 << 10);
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width,initial-scale=1\">\
         <title>wasp report: {}</title><style>{STYLE}</style></head><body><header><h1>wasp report: {}<span class=\"verdict {}\">{}</span></h1>\
         <div class=sub>{} · target {} · started {} · {:.1} s · peak {} users · stopped by {}</div></header><main>",
        esc(&m.behaviour),
        esc(&m.behaviour),
        if passed { "pass" } else { "fail" },
        if passed { "PASSED".to_string() } else { format!("FAILED (exit {})", r.exit_code) },
        esc(&m.plugin),
        esc(if m.host.is_empty() { "(none)" } else { &m.host }),
        when(m.started_at_unix_ms),
        r.duration_s,
        r.peak_users,
        esc(&r.stop_reason),
    );

    out.push_str("<div class=cards>");
    let t = &r.total;
    card(&mut out, "requests", &t.count.to_string());
    let fail_pct = if t.count == 0 { 0.0 } else { t.failures as f64 * 100.0 / t.count as f64 };
    card(&mut out, "failures", &format!("{} ({fail_pct:.2}%)", t.failures));
    card(&mut out, "requests/s", &format!("{:.1}", t.rps));
    for k in ["50", "95", "99"] {
        card(&mut out, &format!("p{k} ms"), &ms(t.percentiles_us.get(k).copied().unwrap_or(0) as f64));
    }
    card(&mut out, "max ms", &ms(t.max_us as f64));
    if let Some(it) = &r.iterations {
        card(&mut out, "iteration p99 ms", &ms(it.percentiles_us.get("99").copied().unwrap_or(0) as f64));
    }
    if r.dropped_iterations > 0 {
        card(&mut out, "dropped iterations", &r.dropped_iterations.to_string());
    }
    out.push_str("</div>");

    if !r.thresholds.is_empty() {
        out.push_str("<section><h2>Thresholds</h2><table><tr><th class=name>Threshold</th><th>Measured</th><th>Result</th></tr>");
        for v in &r.thresholds {
            let measured = v.measured.map(|x| format!("{x:.3} {}", v.unit)).unwrap_or_else(|| "no data".into());
            let _ = write!(
                out,
                "<tr><td class=name>{}</td><td>{}</td><td class={}>{}</td></tr>",
                esc(&v.threshold),
                esc(&measured),
                if v.passed { "good" } else { "bad" },
                if v.passed { "pass" } else { "FAIL" }
            );
        }
        out.push_str("</table></section>");
    }

    out.push_str("<div class=charts>");
    for c in &charts {
        let _ = write!(out, "<div class=chart>{c}</div>");
    }
    out.push_str("</div>");

    out.push_str(
        "<section><h2>Requests</h2><table><tr><th>Type</th><th class=name>Name</th><th># reqs</th><th># fails</th><th>Avg ms</th>\
         <th>Min</th><th>Max</th><th>p50</th><th>p90</th><th>p95</th><th>p99</th><th>p99.9</th><th>req/s</th><th>Avg size (B)</th></tr>",
    );
    let several = r.scenarios.len() > 1;
    for e in &r.requests {
        request_row(&mut out, e, false, several);
    }
    request_row(&mut out, &r.total, true, several);
    out.push_str("</table></section>");

    if r.iterations.is_some() || r.dropped_iterations > 0 {
        out.push_str(
            "<section><h2>Iterations (arrival rate)</h2><p class=note>Latency from each iteration's <em>intended</em> start to its end \
             (free of coordinated omission), beside the requests' service times above. Dropped: no user was free at the iteration's time.</p>\
             <table><tr><th class=name>Task</th><th># iterations</th><th># errors</th><th># dropped</th><th>p50 ms</th><th>p90</th><th>p95</th><th>p99</th><th>Max</th></tr>",
        );
        for t in &r.tasks {
            if let Some(l) = &t.latency {
                latency_row(&mut out, &scoped(several, &t.scenario, &t.name), l, None);
            }
        }
        for s in &r.scenarios {
            if let Some(l) = &s.latency {
                latency_row(&mut out, &format!("{} (all tasks)", s.name), l, Some(s.dropped_iterations));
            }
        }
        out.push_str("</table></section>");
    }

    if several || r.scenarios.iter().any(|s| !s.executor.is_empty()) {
        out.push_str("<section><h2>Scenarios</h2><table><tr><th class=name>Scenario</th><th class=name>Executor</th><th># requests</th><th># failures</th><th># task runs</th><th># dropped</th></tr>");
        for s in &r.scenarios {
            let (count, failures) = r.requests.iter().filter(|e| e.scenario == s.name).fold((0, 0), |(c, f), e| (c + e.count, f + e.failures));
            let runs: u64 = r.tasks.iter().filter(|t| t.scenario == s.name).map(|t| t.runs).sum();
            let _ = write!(
                out,
                "<tr><td class=name>{}</td><td class=text>{}</td><td>{count}</td><td{}>{failures}</td><td>{runs}</td><td{}>{}</td></tr>",
                esc(&s.name),
                esc(&s.executor),
                if failures > 0 { " class=bad" } else { "" },
                if s.dropped_iterations > 0 { " class=bad" } else { "" },
                s.dropped_iterations
            );
        }
        out.push_str("</table></section>");
    }

    if !r.failures.is_empty() {
        out.push_str("<section><h2>Failures</h2><table><tr><th># occurrences</th><th>Type</th><th class=name>Name</th><th class=name>Error</th></tr>");
        for f in &r.failures {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td class=name>{}</td><td class=text>{}</td></tr>",
                f.occurrences,
                esc(&f.method),
                esc(&scoped(several, &f.scenario, &f.name)),
                esc(&f.error)
            );
        }
        out.push_str("</table></section>");
    }

    out.push_str("<section><h2>Tasks</h2><table><tr><th class=name>Task</th><th># runs</th><th># errors</th><th># cut short</th></tr>");
    for t in &r.tasks {
        let _ = write!(
            out,
            "<tr><td class=name>{}</td><td>{}</td><td{}>{}</td><td>{}</td></tr>",
            esc(&scoped(several, &t.scenario, &t.name)),
            t.runs,
            if t.errors > 0 { " class=bad" } else { "" },
            t.errors,
            t.interrupted
        );
    }
    out.push_str("</table></section>");

    if !r.errors.is_empty() {
        out.push_str("<section><h2>Errors</h2><table><tr><th># occurrences</th><th class=name>Where</th><th class=name>Message</th></tr>");
        for e in &r.errors {
            let _ = write!(
                out,
                "<tr><td>{}</td><td class=name>{}</td><td class=text>{}</td></tr>",
                e.occurrences,
                esc(&scoped(several, &e.scenario, &e.r#where)),
                esc(&e.message)
            );
        }
        out.push_str("</table></section>");
    }

    if !m.parts.is_empty() {
        out.push_str("<section><h2>Parts</h2><table><tr><th class=name>File</th><th>Shard</th><th class=name>Machine</th><th>Started</th><th>Seconds</th><th>Peak users</th><th># Requests</th><th># Fails</th><th>95%ile (ms)</th><th class=name>Stop</th><th>Exit</th></tr>");
        for p in &m.parts {
            let _ = write!(
                out,
                "<tr><td class=name>{}</td><td>{}</td><td class=name>{}</td><td>{}</td><td>{:.1}</td><td>{}</td><td>{}</td><td{}>{}</td><td>{:.1}</td><td class=name>{}</td><td{}>{}</td></tr>",
                esc(&p.file),
                esc(p.segment.as_deref().unwrap_or("")),
                esc(&p.hostname),
                esc(&when(p.started_at_unix_ms)),
                p.duration_s,
                p.peak_users,
                p.requests,
                if p.failures > 0 { " class=bad" } else { "" },
                p.failures,
                p.p95_ms,
                esc(&p.stop_reason),
                if p.exit_code != 0 { " class=bad" } else { "" },
                p.exit_code
            );
        }
        out.push_str("</table></section>");
    }

    out.push_str("<section><h2>Run</h2><table>");
    let mut meta_row = |k: &str, v: &str| {
        let _ = write!(out, "<tr><th class=name>{}</th><td class=text>{}</td></tr>", esc(k), esc(v));
    };
    meta_row("wasp", &m.wasp_version);
    meta_row("wasmtime", &m.wasmtime_version);
    meta_row("plugin", &m.plugin);
    meta_row("plugin sha256", &m.plugin_sha256);
    meta_row("behaviour", &m.behaviour);
    meta_row("host", &m.host);
    meta_row("machine", &m.hostname);
    if let Some(seg) = &m.segment {
        meta_row("shard", &format!("{seg} (its share of the run; wasp merge gives the whole)"));
    }
    meta_row("started", &when(m.started_at_unix_ms));
    if let Some(ramp) = r.ramp_up_s {
        meta_row("all users running after", &format!("{ramp:.2} s"));
    }
    if !m.merged_from.is_empty() {
        meta_row("merged from", &m.merged_from.join(", "));
    }
    for (k, v) in &m.options {
        meta_row(&format!("--{k}"), v);
    }
    let d = &r.telemetry;
    meta_row(
        "telemetry",
        &format!(
            "traces {} · metrics {} · logs {} · spans exported {} dropped {} · logs exported {} dropped {}",
            d.traces, d.metrics, d.logs, d.spans_exported, d.spans_dropped, d.logs_exported, d.logs_dropped
        ),
    );
    out.push_str("</table></section></main></body></html>\n");
    Ok(out)
}

/// Renders and writes the page (through a temporary file, like the JSON).
pub fn write(path: &std::path::Path, r: &Report) -> Result<(), String> {
    let page = render(r)?;
    let tmp = path.with_extension("html.tmp");
    std::fs::write(&tmp, page).and_then(|_| std::fs::rename(&tmp, path)).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::{self, Meta, RunInfo};
    use std::time::Instant;
    use wasp_runner::stats::Stats;

    #[test]
    fn the_page_is_self_contained_and_escapes_names() {
        let s = Stats::new(&["t<1>".into()]);
        let now = Instant::now();
        for v in 1..=500u64 {
            s.request(0, "GET", "/a?<script>", v * 100, 10, (v % 50 == 0).then_some("HTTP 500 & more"), now);
        }
        s.set_users(0, 3);
        let meta = Meta { behaviour: "shop".into(), plugin: "p.wasm".into(), host: "http://127.0.0.1:1".into(), ..Meta::default() };
        let info = RunInfo { meta, executors: vec![], stop_reason: "run-time", exit_code: 1, telemetry: &Default::default(), thresholds: &[] };
        let r = json::report(&s.snapshot(), &s.second_histograms(), info);
        let page = render(&r).unwrap();
        assert_eq!(page.matches("<svg").count(), 4, "four charts");
        assert!(!page.contains("<script"), "names are escaped");
        assert!(page.contains("/a?&lt;script&gt;"));
        assert!(page.contains("HTTP 500 &amp; more"));
        assert!(page.contains("FAILED (exit 1)"));
        // The only address is the target's, shown as text.
        assert!(page.match_indices("http://").all(|(i, _)| page[i..].starts_with("http://127.0.0.1:1")));
        assert!(!page.contains("https://"));
        assert!(!page.contains("<h2>Parts</h2>"), "a single run has no parts");
    }

    #[test]
    fn a_merge_shows_a_row_per_part() {
        let s = Stats::new(&["t".into()]);
        s.request(0, "GET", "/", 1000, 10, None, Instant::now());
        let part =
            |i: u32, code: i32| crate::json::Part { file: format!("shard-{i}.json"), segment: Some(format!("{i}/2")), exit_code: code, ..Default::default() };
        let meta = Meta { parts: vec![part(0, 0), part(1, 7)], ..Meta::default() };
        let info = RunInfo { meta, executors: vec![], stop_reason: "run-time", exit_code: 1, telemetry: &Default::default(), thresholds: &[] };
        let page = render(&json::report(&s.snapshot(), &s.second_histograms(), info)).unwrap();
        let parts = &page[page.find("<h2>Parts</h2>").expect("a Parts table")..];
        let table = &parts[..parts.find("</table>").unwrap()];
        assert_eq!(table.matches("<tr>").count(), 3, "a header and a row per part");
        assert!(table.contains("shard-1.json") && table.contains("1/2") && table.contains("<td class=bad>7</td>"));
    }
}
