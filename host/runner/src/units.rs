//! The one way wasp reads durations and sizes from people: the command line,
//! the environment and the thresholds all go through here, so `30s` or a
//! bare number means the same thing everywhere.

use std::time::Duration;

/// `30s`, `5m`, `1h30m`, `250ms` (humantime's forms), one decimal number
/// with a unit (`1.5s`, `0.25ms`, `500us`), or a bare number of seconds
/// (`20`, `0.5`), as Locust's `--run-time 20` means 20 s.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<f64>() {
        return seconds(secs).ok_or_else(|| format!("'{s}' is not a duration"));
    }
    if let Some(d) = decimal_with_unit(s) {
        return d;
    }
    humantime::parse_duration(s).map_err(|e| format!("'{s}' is not a duration like 30s, 5m or 1h30m ({e})"))
}

/// True when `s` is a number without a unit (which [`parse_duration`] reads
/// as seconds): places where seconds would surprise can refuse it.
pub fn is_bare_number(s: &str) -> bool {
    s.trim().parse::<f64>().is_ok()
}

fn seconds(secs: f64) -> Option<Duration> {
    (secs.is_finite() && secs >= 0.0).then(|| Duration::try_from_secs_f64(secs).ok()).flatten()
}

/// `1.5s`, `0.25ms`, `2.5m`: humantime takes whole numbers only.
fn decimal_with_unit(s: &str) -> Option<Result<Duration, String>> {
    const UNITS: [(&str, f64); 6] = [("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1.0), ("m", 60.0), ("h", 3600.0)];
    for (unit, scale) in UNITS {
        if let Some(num) = s.strip_suffix(unit) {
            let num = num.trim();
            if num.contains('.') {
                let v: f64 = num.parse().ok()?;
                return Some(seconds(v * scale).ok_or_else(|| format!("'{s}' is not a duration")));
            }
        }
    }
    None
}

/// `64MiB`, `1MB`, `4096` (bytes).
pub fn parse_size(s: &str) -> Result<u64, String> {
    s.trim()
        .parse::<bytesize::ByteSize>()
        .map(|b| b.as_u64())
        .map_err(|e| format!("'{s}' is not a size like 64MiB ({e})"))
}

/// Milliseconds from microseconds, for people: as many decimals as mean
/// something (`1.50`, `12.3`, `120`).
pub fn ms(us: f64) -> String {
    let v = us / 1000.0;
    if v < 10.0 {
        format!("{v:.2}")
    } else if v < 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_locust_forms() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("20").unwrap(), Duration::from_secs(20));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("0.5ms").unwrap(), Duration::from_micros(500));
        assert_eq!(parse_duration("500us").unwrap(), Duration::from_micros(500));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-3").is_err());
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("64MiB").unwrap(), 64 << 20);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn milliseconds_keep_meaningful_decimals() {
        assert_eq!(ms(1500.0), "1.50");
        assert_eq!(ms(12_340.0), "12.3");
        assert_eq!(ms(120_000.0), "120");
    }
}
