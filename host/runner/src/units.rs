//! The one way wasp reads durations, sizes and rates from people: the
//! command line, the environment, scenario files and the thresholds all go
//! through here, so `30s` or a bare number means the same thing everywhere,
//! and every value is range-checked once, where it is read.

use std::time::Duration;

/// The longest duration wasp accepts anywhere.
pub const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);
/// The slowest rate wasp accepts (per second): one event in about 17 minutes.
pub const MIN_RATE: f64 = 0.001;
/// The fastest rate wasp accepts (per second).
pub const MAX_RATE: f64 = 10_000_000.0;

/// `30s`, `5m`, `1h30m`, `250ms` (humantime's forms), one decimal number
/// with a unit (`1.5s`, `0.25ms`, `500us`), or a bare number of seconds
/// (`20`, `0.5`), as Locust's `--run-time 20` means 20 s.
///
/// At most [`MAX_DURATION`] (a year).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let d = if let Ok(secs) = s.parse::<f64>() {
        seconds(secs).ok_or_else(|| format!("'{s}' is not a duration"))?
    } else if let Some(d) = decimal_with_unit(s) {
        d?
    } else {
        humantime::parse_duration(s).map_err(|e| format!("'{s}' is not a duration like 30s, 5m or 1h30m ({e})"))?
    };
    if d > MAX_DURATION {
        return Err(format!("'{s}' is longer than a year, the most wasp accepts"));
    }
    Ok(d)
}

/// As [`parse_duration`], and more than zero.
pub fn parse_positive_duration(s: &str) -> Result<Duration, String> {
    match parse_duration(s)? {
        d if d.is_zero() => Err(format!("'{}' must be more than zero", s.trim())),
        d => Ok(d),
    }
}

/// A rate per second: a number, or `N/s`, `N/m`, `N/h`; between
/// [`MIN_RATE`] and [`MAX_RATE`] per second.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (num, per) = match t.rsplit_once('/') {
        Some((n, "s")) => (n, 1.0),
        Some((n, "m")) => (n, 60.0),
        Some((n, "h")) => (n, 3600.0),
        Some((_, unit)) => return Err(format!("'{t}': the unit '/{unit}' is not /s, /m or /h")),
        None => (t, 1.0),
    };
    let v: f64 = num.trim().parse().map_err(|_| format!("'{t}' is not a rate like 200/s, 30/m or 5"))?;
    let per_s = v / per;
    if !per_s.is_finite() || per_s < 0.0 {
        return Err(format!("'{t}' is not a rate like 200/s, 30/m or 5"));
    }
    if per_s > MAX_RATE {
        return Err(format!("'{t}' is over {MAX_RATE}/s, the most wasp accepts"));
    }
    Ok(per_s)
}

/// As [`parse_rate`], at least [`MIN_RATE`] per second (zero refused).
pub fn parse_positive_rate(s: &str) -> Result<f64, String> {
    match parse_rate(s)? {
        r if r < MIN_RATE => Err(format!("'{}' is below {MIN_RATE}/s, the least wasp accepts", s.trim())),
        r => Ok(r),
    }
}

/// True when `s` is a number without a unit (which [`parse_duration`] reads
/// as seconds): places where seconds would surprise can refuse it.
pub fn is_bare_number(s: &str) -> bool {
    s.trim().parse::<f64>().is_ok()
}

fn seconds(secs: f64) -> Option<Duration> {
    if !(secs.is_finite() && secs >= 0.0) {
        return None;
    }
    // Beyond a year is refused by the caller; do not overflow on the way.
    Some(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX))
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

/// `64MiB`, `1MB`, `4096` (bytes); at most the machine's memory.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let bytes = t.parse::<bytesize::ByteSize>().map(|b| b.as_u64()).map_err(|e| format!("'{t}' is not a size like 64MiB ({e})"))?;
    let total = machine_memory();
    if bytes > total {
        return Err(format!("'{t}' is more than this machine's memory ({})", bytesize::ByteSize(total)));
    }
    Ok(bytes)
}

/// This machine's memory in bytes (`MemTotal`), or 1 TiB where it cannot be read.
pub fn machine_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().find_map(|l| l.strip_prefix("MemTotal:").map(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())))
        .flatten()
        .map(|kib| kib.saturating_mul(1024))
        .unwrap_or(1 << 40)
}

/// Milliseconds from microseconds, as a number (JSON fields, charts).
pub fn ms_of(us: u64) -> f64 {
    us as f64 / 1000.0
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
    fn absurd_values_are_refused_not_panicked_on() {
        for s in ["1e20", "1e19", "1e400", "NaN", "inf", "9999999999999999999s", "400days", "1.5e300s"] {
            assert!(parse_duration(s).is_err(), "{s}");
        }
        assert_eq!(parse_duration("365days").unwrap(), Duration::from_secs(365 * 86400));
        assert!(parse_positive_duration("0").unwrap_err().contains("more than zero"));
        assert!(parse_positive_duration("0s").is_err());
        assert!(parse_size("99999TB").unwrap_err().contains("machine's memory"));
        assert!(parse_size("20EiB").is_err());
    }

    #[test]
    fn rates_take_units_and_bounds() {
        assert_eq!(parse_rate("200/s").unwrap(), 200.0);
        assert_eq!(parse_rate("120/m").unwrap(), 2.0);
        assert_eq!(parse_rate("36/h").unwrap(), 0.01);
        assert_eq!(parse_rate("2.5").unwrap(), 2.5);
        assert_eq!(parse_rate("0/s").unwrap(), 0.0);
        assert!(parse_positive_rate("0").is_err());
        assert!(parse_positive_rate("1e-300").unwrap_err().contains("below"));
        assert!(parse_rate("1e300").unwrap_err().contains("most"));
        assert!(parse_rate("5/d").unwrap_err().contains("/s, /m or /h"));
        assert!(parse_rate("-1").is_err());
        assert!(parse_rate("fast").is_err());
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
