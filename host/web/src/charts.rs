//! Live charts, drawn on the server into SVG by the same code as the HTML
//! report (plotters): no chart library in the page, nothing fetched from
//! elsewhere, the same look in both.

use wasp_report::html::{lines, Series, FAILURES, P50, P95, P99, REQUESTS, USERS};
use wasp_runner::Stats;

/// The chart `which` (`requests`, `latency`, `users`) of the run so far;
/// None for another name.
pub fn render(stats: &Stats, which: &str) -> Option<Result<String, crate::api::ApiError>> {
    let snap = stats.snapshot();
    let xs = |i: usize| i as f64 + 0.5;
    // The last second is still running: its rate covers the time it had.
    let elapsed = snap.elapsed.as_secs_f64();
    let span = |i: usize| (elapsed - i as f64).clamp(0.25, 1.0);
    let drawn = match which {
        "requests" => {
            let rps: Vec<(f64, f64)> = snap.timeline.iter().enumerate().map(|(i, s)| (xs(i), s.requests as f64 / span(i))).collect();
            let fps: Vec<(f64, f64)> = snap.timeline.iter().enumerate().map(|(i, s)| (xs(i), s.failures as f64 / span(i))).collect();
            lines("Requests and failures per second", "per second", &[("requests/s", REQUESTS, rps), ("failures/s", FAILURES, fps)], false)
        }
        "latency" => {
            let q = stats.second_quantiles(0);
            let pick = |k: usize| -> Vec<(f64, f64)> { q.iter().filter_map(|(i, q)| q.map(|q| (xs(*i), q[k] as f64 / 1000.0))).collect() };
            let series: [Series; 3] = [("p50", P50, pick(0)), ("p95", P95, pick(1)), ("p99", P99, pick(2))];
            lines("Response time percentiles", "ms", &series, false)
        }
        "users" => {
            let users: Vec<(f64, f64)> = snap.timeline.iter().enumerate().map(|(i, s)| (xs(i), s.users as f64)).collect();
            lines("Users", "users", &[("users", USERS, users)], true)
        }
        _ => return None,
    };
    // Served as an image of its own: it needs the namespace inline SVG may drop.
    Some(drawn.map(|svg| svg.replacen("<svg ", "<svg xmlns=\"http://www.w3.org/2000/svg\" ", 1)).map_err(|e| crate::api::ApiError::new(500, "chart", e)))
}
