//! Pass/fail criteria on a run's results: `p95<300ms`, `avg<100ms`,
//! `fail_ratio<0.01`, `rps>100`, optionally for one request name
//! (`"GET /api/cart: p95<200ms"` or `"/api/cart: p99<1s"`).

use wasp_runner::stats::{Entry, Snapshot};
use wasp_runner::units;
use std::fmt;

/// What a malformed threshold is told, with the accepted forms.
pub const FORMS: &str = "accepted: [NAME: ]METRIC OP VALUE, METRIC one of p50 p90 p95 p99 p99.9 (any pNN), \
med avg min max (durations with a unit: 250ms, 1.5s, 500us) or fail_ratio, rps, fail_rps (numbers); OP one of < <= > >=; \
e.g. p95<300ms, fail_ratio<0.01, \"GET /api/cart: p99<1s\"";

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
    /// `None`: all requests. Otherwise a name, with or without a method.
    pub name: Option<(Option<String>, String)>,
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
        let (name, expr) = match text.rsplit_once(':') {
            Some((n, e)) => {
                let n = n.trim();
                if n.is_empty() {
                    return Err(bad("empty request name"));
                }
                let named = match n.split_once(' ') {
                    Some((m, rest)) if METHODS.contains(&m) => (Some(m.to_string()), rest.trim().to_string()),
                    _ => (None, n.to_string()),
                };
                (Some(named), e.trim())
            }
            None => (None, text.trim()),
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
        let metric = parse_metric(metric.trim()).ok_or_else(|| bad(&format!("unknown metric '{}'", metric.trim())))?;
        let value = if metric.is_time() {
            parse_time_us(value).map_err(|why| bad(&why))?
        } else {
            value.trim().parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| bad(&format!("'{}' is not a number", value.trim())))?
        };
        Ok(Threshold { text: text.trim().to_string(), name, metric, op, value })
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Threshold {
    /// The entry this threshold looks at: the total, or the named requests merged.
    fn entry(&self, snap: &Snapshot) -> Option<Entry> {
        let Some((method, name)) = &self.name else {
            return Some(snap.total.clone());
        };
        let mut found: Option<Entry> = None;
        for e in snap.entries.iter().filter(|e| &e.name == name && method.as_ref().is_none_or(|m| m == &e.method)) {
            match &mut found {
                None => found = Some(e.clone()),
                Some(f) => f.merge(e),
            }
        }
        found
    }

    pub fn evaluate(&self, snap: &Snapshot) -> Outcome {
        let unit = if self.metric.is_time() { "ms" } else { "" }.to_string();
        let measured = self.entry(snap).filter(|e| e.count > 0).map(|e| match self.metric {
            Metric::Quantile(q) => e.quantile_us(q) as f64,
            Metric::Avg => e.avg_us(),
            Metric::Min => e.min() as f64,
            Metric::Max => e.max_us as f64,
            Metric::FailRatio => e.failures as f64 / e.count as f64,
            Metric::Rps => snap.rps(e.count),
            Metric::FailRps => snap.rps(e.failures),
        });
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
    use wasp_runner::stats::Stats;
    use std::time::Instant;

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
            s.request("GET", "/a", i * 1000, 0, None, now);
        }
        s.request("POST", "/a", 500_000, 0, Some("HTTP 500"), now);
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
}
