//! `--start-at`: when the load begins — an instant in UTC (RFC 3339,
//! `2026-12-02T10:00:00Z`) or a delay from now (`30s`).

use std::time::{Duration, SystemTime};

/// The most a start may lie ahead.
pub const MAX_AHEAD: Duration = Duration::from_secs(7 * 24 * 3600);

/// The instant `text` names, from `now`.
pub fn parse(text: &str, now: SystemTime) -> Result<SystemTime, String> {
    let t = text.trim();
    let at = match humantime::parse_rfc3339_weak(t) {
        Ok(at) => {
            if !t.ends_with('Z') && !t.ends_with('z') {
                return Err(format!("--start-at '{t}': give the time in UTC, ending in Z (e.g. 2026-12-02T10:00:00Z), or a delay such as 30s"));
            }
            at
        }
        Err(_) => match humantime::parse_duration(t) {
            Ok(d) if d <= MAX_AHEAD => now + d,
            Ok(_) => return Err(format!("--start-at '{t}' is more than a week ahead")),
            Err(_) => return Err(format!("--start-at '{t}' is neither a UTC time (2026-12-02T10:00:00Z) nor a delay (30s)")),
        },
    };
    if at.duration_since(now).is_ok_and(|d| d > MAX_AHEAD) {
        return Err(format!("--start-at '{t}' is more than a week ahead"));
    }
    Ok(at)
}

/// Sleeps until the wall clock reads `at` (at once if it has passed).
pub async fn until(at: SystemTime) {
    if let Ok(d) = at.duration_since(SystemTime::now()) {
        tokio::time::sleep(d).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_and_delays() {
        let now = humantime::parse_rfc3339("2026-12-02T10:00:00Z").unwrap();
        assert_eq!(parse("30s", now).unwrap(), now + Duration::from_secs(30));
        assert_eq!(parse("2026-12-02T10:01:00Z", now).unwrap(), now + Duration::from_secs(60));
        // A time already past starts at once (no error: shards may be late to read it).
        assert!(parse("2026-12-02T09:00:00Z", now).unwrap() < now);
        for (bad, why) in [
            ("soon", "neither"),
            ("2026-12-02T10:00:00+01:00", "neither"),
            ("2026-12-02T10:00:00", "UTC"),
            ("30d", "a week"),
            ("2027-01-01T00:00:00Z", "a week"),
        ] {
            let e = parse(bad, now).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
