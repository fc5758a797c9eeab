//! How long a user waits between two tasks.

use std::time::Duration;

/// How long a user waits between two tasks (the host keeps milliseconds).
/// Written as in the Python and JavaScript SDKs and in Locust, in seconds:
/// [`between`]`(0.5, 1.5)`, [`constant`]`(1.0)`, [`constant_pacing`]`(2.0)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// The next task starts at once.
    None,
    Constant(Duration),
    /// Uniformly random in [min, max].
    Between(Duration, Duration),
    /// A task starts every period (Locust's `constant_pacing`).
    Pacing(Duration),
}

fn seconds(s: f64) -> Duration {
    Duration::try_from_secs_f64(s.max(0.0)).unwrap_or(Duration::MAX)
}

/// A wait drawn uniformly between `min` and `max` seconds (Locust's `between`).
pub fn between(min: f64, max: f64) -> Wait {
    Wait::Between(seconds(min), seconds(max))
}

/// The same wait every time, in seconds (Locust's `constant`); 0 is no wait.
pub fn constant(wait: f64) -> Wait {
    if wait > 0.0 {
        Wait::Constant(seconds(wait))
    } else {
        Wait::None
    }
}

/// A task starts every `period` seconds (Locust's `constant_pacing`).
pub fn constant_pacing(period: f64) -> Wait {
    Wait::Pacing(seconds(period))
}

/// A wait as the WIT carries it: whole milliseconds, at most u32::MAX (49 days).
pub fn wit_ms(d: Duration) -> u32 {
    d.as_millis().min(u32::MAX as u128) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_written_in_seconds_as_in_the_other_sdks() {
        assert_eq!(between(0.5, 1.5), Wait::Between(Duration::from_millis(500), Duration::from_millis(1500)));
        assert_eq!(constant(0.05), Wait::Constant(Duration::from_millis(50)));
        assert_eq!(constant(0.0), Wait::None);
        assert_eq!(constant_pacing(2.0), Wait::Pacing(Duration::from_secs(2)));
        assert_eq!(between(-1.0, f64::INFINITY), Wait::Between(Duration::ZERO, Duration::MAX), "nonsense is clamped, never a panic");
        assert_eq!(wit_ms(Duration::MAX), u32::MAX);
    }
}
