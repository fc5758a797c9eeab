//! Arbitrary text into every parser people's input goes through: never a
//! panic, and whatever is accepted is within the documented bounds.
//! (Property tests: the fuzzing that this machine's stable toolchain runs.)

use proptest::prelude::*;
use std::time::Duration;
use wasp_runner::text::printable;
use wasp_runner::units::{self, parse_duration, parse_positive_duration, parse_positive_rate, parse_rate, parse_size};
use wasp_runner::Wait;

fn config() -> ProptestConfig {
    ProptestConfig { cases: 3000, ..ProptestConfig::default() }
}

/// Strings that look like what people type: digits, units, signs, exponents.
fn unitish() -> impl Strategy<Value = String> {
    prop_oneof!["[0-9.eE+-]{0,24}(ns|us|µs|ms|s|m|h|d|days|y|KiB|MiB|GiB|TB|EiB|/s|/m|/h)?", "[0-9]{1,30}[a-z]{0,3}[0-9]{0,5}[a-z]{0,3}", ".{0,40}",]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn durations_never_panic_and_stay_within_a_year(s in unitish()) {
        if let Ok(d) = parse_duration(&s) {
            prop_assert!(d <= units::MAX_DURATION);
        }
        if let Ok(d) = parse_positive_duration(&s) {
            prop_assert!(d > Duration::ZERO);
        }
        let _ = s.parse::<Wait>();
        let _ = format!("{s}..{s}").parse::<Wait>();
    }

    #[test]
    fn sizes_and_rates_never_panic_and_stay_in_range(s in unitish()) {
        if let Ok(b) = parse_size(&s) {
            prop_assert!(b <= units::machine_memory());
        }
        if let Ok(r) = parse_rate(&s) {
            prop_assert!((0.0..=units::MAX_RATE).contains(&r));
        }
        if let Ok(r) = parse_positive_rate(&s) {
            prop_assert!(r >= units::MIN_RATE);
        }
    }

    #[test]
    fn printable_text_has_no_control_characters(s in any::<String>(), max in 1usize..300) {
        let p = printable(&s, max);
        prop_assert!(!p.chars().any(|c| c.is_control()));
        prop_assert!(p.len() <= max + 16);
    }

    #[test]
    fn histograms_from_arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = wasp_runner::stats::decode(&bytes);
        let mut crafted = 0x1c84_9314u32.to_be_bytes().to_vec();
        crafted.extend_from_slice(&bytes);
        let _ = wasp_runner::stats::decode(&crafted);
    }
}
