//! Pass/fail criteria on a run's results: `p95<300ms`, `avg<100ms`,
//! `fail_ratio<0.01`, `rps>100`; for arrival-rate scenarios `iteration.p99<2s`
//! (latency from the intended start), `dropped_iterations<1`, and
//! `iterations>1000` for any executor; optionally for one request name
//! (`"GET /api/cart: p95<200ms"`, `"/api/cart: p99<1s"`), one scenario
//! (`"scenario=checkout: p95<300ms"`), or both (`"scenario=checkout GET /api/cart: p95<300ms"`).
//! With a name, `iteration.*` looks at that task's iterations.

use std::fmt;
use wasp_runner::stats::{Entry, Snapshot};
use wasp_runner::units;

/// What a malformed threshold is told, with the accepted forms.
pub const FORMS: &str = "accepted: [scenario=S ][NAME: ]METRIC OP VALUE, METRIC one of p50 p90 p95 p99 p99.9 (any pNN), \
med avg min max (durations with a unit: 250ms, 1.5s, 500us), the same after iteration. (latency of arrival-rate \
iterations from their intended start), or fail_ratio, rps, fail_rps, iterations, dropped_iterations (numbers); \
OP one of < <= > >=; e.g. p95<300ms, fail_ratio<0.01, iteration.p99<2s, dropped_iterations<1, \"GET /api/cart: p99<1s\", \
\"scenario=checkout: p95<300ms\"";

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    /// A quantile in 0..=1.
    Quantile(f64),
    Avg,
    Min,
    Max,
    FailRatio,
    Rps,
    FailRps,
    /// Completed task runs (iterations).
    Iterations,
    DroppedIterations,
}

/// What a time metric is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Of {
    /// Requests' service times.
    Requests,
    /// Arrival-rate iterations' latency from their intended start.
    Iterations,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub text: String,
    /// `None`: all scenarios.
    pub scenario: Option<String>,
    /// `None`: all requests. Otherwise a name, with or without a method
    /// (a task's name for iteration metrics).
    pub name: Option<(Option<String>, String)>,
    pub of: Of,
    pub metric: Metric,
    pub op: Op,
    /// In microseconds for time metrics, else the number itself.
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Outcome {
    pub threshold: String,
    /// The measured value, in the threshold's unit (ms for times); None if nothing matched.
    pub measured: Option<f64>,
    pub unit: String,
    pub passed: bool,
}

impl Metric {
    fn is_time(self) -> bool {
        matches!(self, Metric::Quantile(_) | Metric::Avg | Metric::Min | Metric::Max)
    }
}

const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

fn parse_metric(m: &str) -> Option<Metric> {
    Some(match m {
        "avg" => Metric::Avg,
        "min" => Metric::Min,
        "max" => Metric::Max,
        "med" | "median" => Metric::Quantile(0.5),
        "fail_ratio" => Metric::FailRatio,
        "rps" => Metric::Rps,
        "fail_rps" => Metric::FailRps,
        "iterations" => Metric::Iterations,
        "dropped_iterations" => Metric::DroppedIterations,
        _ => {
            let q: f64 = m.strip_prefix('p')?.parse().ok()?;
            if !(0.0..=100.0).contains(&q) {
                return None;
            }
            Metric::Quantile(q / 100.0)
        }
    })
}

/// A time limit in µs, read by the same parser as the command line's
/// durations. A bare number is refused: the command line reads it as seconds,
/// Locust's tables as milliseconds, so a threshold must say which.
fn parse_time_us(v: &str) -> Result<f64, String> {
    let v = v.trim();
    if units::is_bare_number(v) {
        return Err(format!("'{v}' needs a unit, e.g. {v}ms or {v}s"));
    }
    units::parse_duration(v).map(|d| d.as_secs_f64() * 1e6).map_err(|_| format!("'{v}' is not a duration"))
}

impl std::str::FromStr for Threshold {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("threshold '{text}': {why}; {FORMS}");
        let (scenario, name, expr) = match text.rsplit_once(':') {
            Some((n, e)) => {
                let mut n = n.trim();
                if n.is_empty() {
                    return Err(bad("empty request name"));
                }
                let mut scenario = None;
                if let Some(rest) = n.strip_prefix("scenario=") {
                    let (sc, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
                    if sc.is_empty() {
                        return Err(bad("empty scenario name"));
                    }
                    scenario = Some(sc.to_string());
                    n = after.trim();
                }
                let named = (!n.is_empty()).then(|| match n.split_once(' ') {
                    Some((m, rest)) if METHODS.contains(&m) => (Some(m.to_string()), rest.trim().to_string()),
                    _ => (None, n.to_string()),
                });
                (scenario, named, e.trim())
            }
            None => (None, None, text.trim()),
        };
        let pos = expr.find(['<', '>']).ok_or_else(|| bad("no comparison (< <= > >=)"))?;
        let (metric, rest) = expr.split_at(pos);
        let (op, value) = if let Some(v) = rest.strip_prefix("<=") {
            (Op::Le, v)
        } else if let Some(v) = rest.strip_prefix(">=") {
            (Op::Ge, v)
        } else if let Some(v) = rest.strip_prefix('<') {
            (Op::Lt, v)
        } else {
            (Op::Gt, &rest[1..])
        };
        let metric = metric.trim();
        let (of, metric) = match metric.strip_prefix("iteration.") {
            Some(m) => (Of::Iterations, m),
            None => (Of::Requests, metric),
        };
        let metric = parse_metric(metric).ok_or_else(|| bad(&format!("unknown metric '{metric}'")))?;
        if of == Of::Iterations && matches!(metric, Metric::Iterations | Metric::DroppedIterations) {
            return Err(bad("iteration. goes with a time or ratio metric (iteration.p99, iteration.fail_ratio)"));
        }
        let value = if metric.is_time() {
            parse_time_us(value).map_err(|why| bad(&why))?
        } else {
            value.trim().parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| bad(&format!("'{}' is not a number", value.trim())))?
        };
        Ok(Threshold { text: text.trim().to_string(), scenario, name, of, metric, op, value })
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Threshold {
    fn in_scope(&self, scenario: &str) -> bool {
        self.scenario.as_deref().is_none_or(|s| s == scenario)
    }

    /// The entry this threshold looks at: the requests (or iterations) in its
    /// scope, merged; None when its scope matches nothing.
    fn entry(&self, snap: &Snapshot) -> Option<Entry> {
        let merged = |it: &mut dyn Iterator<Item = &Entry>| {
            let mut found: Option<Entry> = None;
            for e in it {
                match &mut found {
                    None => found = Some(e.clone()),
                    Some(f) => f.merge(e),
                }
            }
            found
        };
        match (self.of, &self.name) {
            (Of::Requests, None) if self.scenario.is_none() => Some(snap.total.clone()),
            (Of::Requests, None) => merged(&mut snap.entries.iter().filter(|e| self.in_scope(&e.scenario))),
            (Of::Requests, Some((method, name))) => {
                merged(&mut snap.entries.iter().filter(|e| self.in_scope(&e.scenario) && &e.name == name && method.as_ref().is_none_or(|m| m == &e.method)))
            }
            (Of::Iterations, None) if self.scenario.is_none() => Some(snap.latency.clone()),
            (Of::Iterations, None) => merged(&mut snap.scenarios.iter().filter(|s| self.in_scope(&s.name)).map(|s| &s.latency)),
            (Of::Iterations, Some((_, name))) => merged(&mut snap.tasks.iter().filter(|t| self.in_scope(&t.scenario) && &t.name == name).map(|t| &t.latency)),
        }
    }

    pub fn evaluate(&self, snap: &Snapshot) -> Outcome {
        let unit = if self.metric.is_time() { "ms" } else { "" }.to_string();
        let measured = match self.metric {
            Metric::Iterations => {
                let runs = snap.tasks.iter().filter(|t| self.in_scope(&t.scenario) && self.name.as_ref().is_none_or(|(_, n)| n == &t.name));
                Some(runs.map(|t| t.runs).sum::<u64>() as f64)
            }
            Metric::DroppedIterations => {
                let known = snap.scenarios.iter().any(|s| self.in_scope(&s.name));
                known.then(|| snap.scenarios.iter().filter(|s| self.in_scope(&s.name)).map(|s| s.dropped).sum::<u64>() as f64)
            }
            _ => self.entry(snap).filter(|e| e.count > 0).map(|e| match self.metric {
                Metric::Quantile(q) => e.quantile_us(q) as f64,
                Metric::Avg => e.avg_us(),
                Metric::Min => e.min() as f64,
                Metric::Max => e.max_us as f64,
                Metric::FailRatio => e.failures as f64 / e.count as f64,
                Metric::Rps => snap.rps(e.count),
                Metric::FailRps => snap.rps(e.failures),
                Metric::Iterations | Metric::DroppedIterations => unreachable!("counted above"),
            }),
        };
        let passed = measured.is_some_and(|m| match self.op {
            Op::Lt => m < self.value,
            Op::Le => m <= self.value,
            Op::Gt => m > self.value,
            Op::Ge => m >= self.value,
        });
        let scale = if self.metric.is_time() { 1e-3 } else { 1.0 };
        Outcome { threshold: self.text.clone(), measured: measured.map(|m| m * scale), unit, passed }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;
    use wasp_runner::stats::Stats;

    fn t(s: &str) -> Threshold {
        s.parse().unwrap()
    }

    fn t_err(s: &str) -> String {
        s.parse::<Threshold>().unwrap_err()
    }

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(t("p95<300ms").metric, Metric::Quantile(0.95));
        assert_eq!(t("p95<300ms").value, 300_000.0);
        assert_eq!(t("p99<1s").value, 1_000_000.0);
        assert_eq!(t("p99.9 <= 250ms").value, 250_000.0);
        assert_eq!(t("p99<1.5s").value, 1_500_000.0);
        assert!(t_err("p95<300").contains("needs a unit"), "a bare number is refused");
        assert_eq!(t("avg<100ms").metric, Metric::Avg);
        assert_eq!(t("fail_ratio<0.01").value, 0.01);
        assert_eq!(t("rps>100").op, Op::Gt);
        let named = t("GET /api/cart: p95<200ms");
        assert_eq!(named.name, Some((Some("GET".into()), "/api/cart".into())));
        assert_eq!(t("/api/cart: p95<200ms").name, Some((None, "/api/cart".into())));
        for bad in ["p95", "p95<", "p95<fast", "speed<3", "p101<1s", ": p95<1s", "rps>lots"] {
            let e = bad.parse::<Threshold>().unwrap_err();
            assert!(e.contains("accepted:"), "{bad}: {e}");
        }
    }

    #[test]
    fn evaluates_against_the_stats() {
        let s = Stats::new(&[]);
        let now = Instant::now();
        for i in 1..=100u64 {
            s.request(0, "GET", "/a", i * 1000, 0, None, now);
        }
        s.request(0, "POST", "/a", 500_000, 0, Some("HTTP 500"), now);
        let snap = s.snapshot();
        let o = t("p50<60ms").evaluate(&snap);
        assert!(o.passed, "{o:?}");
        assert!((o.measured.unwrap() - 51.0).abs() < 1.0, "{o:?}");
        assert!(!t("max<400ms").evaluate(&snap).passed);
        assert!(t("GET /a: max<400ms").evaluate(&snap).passed);
        assert!(!t("/a: max<400ms").evaluate(&snap).passed, "both methods merged");
        let fr = t("fail_ratio<0.005").evaluate(&snap);
        assert!(!fr.passed && (fr.measured.unwrap() - 1.0 / 101.0).abs() < 1e-9);
        let none = t("/missing: p95<1s").evaluate(&snap);
        assert_eq!((none.measured, none.passed), (None, false), "no data does not pass");
    }

    #[test]
    fn iterations_drops_and_scenarios_have_their_own_thresholds() {
        use wasp_runner::stats::ScenarioSpec;
        let names = ["browse".to_string(), "buy".to_string()];
        let s =
            Stats::with_scenarios(&names, &[ScenarioSpec { name: "shop".into(), tasks: vec![0] }, ScenarioSpec { name: "checkout".into(), tasks: vec![1] }]);
        let now = Instant::now();
        s.request(0, "GET", "/a", 1_000, 0, None, now);
        s.request(1, "GET", "/a", 900_000, 0, None, now);
        for l in [100_000u64, 200_000, 2_500_000] {
            s.task(1, 1, None);
            s.iteration(1, 1, l, false);
        }
        s.task(0, 0, None);
        s.dropped(1, 4);
        let snap = s.snapshot();
        let m = |x: &str| t(x).evaluate(&snap).measured;
        assert!((m("iteration.max<3s").unwrap() - 2500.0).abs() < 3.0, "ms from the intended start");
        assert!(!t("iteration.p99<2s").evaluate(&snap).passed);
        assert!(t("iteration.p50<300ms").evaluate(&snap).passed);
        assert!(t("buy: iteration.max<3s").evaluate(&snap).passed, "a task's iterations by its name");
        assert_eq!(m("dropped_iterations<1"), Some(4.0));
        assert!(!t("dropped_iterations<1").evaluate(&snap).passed);
        assert_eq!(m("scenario=shop: dropped_iterations<1"), Some(0.0));
        assert_eq!(m("iterations>1"), Some(4.0));
        assert_eq!(m("scenario=checkout: iterations>1"), Some(3.0));
        assert!(t("scenario=shop: p95<10ms").evaluate(&snap).passed, "the scenario's requests only");
        assert!(!t("scenario=checkout: p95<10ms").evaluate(&snap).passed);
        assert!(t("scenario=checkout GET /a: max>800ms").evaluate(&snap).passed);
        assert_eq!(t("scenario=nope: p95<1s").evaluate(&snap).measured, None, "no data does not pass");
        assert!(t_err("iteration.dropped_iterations<1").contains("iteration."));
        assert!(t_err("scenario=: p95<1s").contains("empty scenario"));
    }
}
