//! Arbitrary input into the threshold parser and the result-file reader
//! (`wasp merge` reads files from anywhere): never a panic, never an
//! allocation the input does not justify.

use proptest::prelude::*;
use std::time::Instant;
use wasp_report::json::{self, Meta, Report, RunInfo};
use wasp_report::thresholds::Threshold;
use wasp_runner::Stats;

fn real_report() -> Report {
    let s = Stats::new(&["t".into()]);
    let now = Instant::now();
    for v in 1..=300u64 {
        s.request(0, "GET", "/a", v * 97, 3, (v % 30 == 0).then_some("HTTP 500"), now);
        s.task(0, 0, None);
    }
    let meta = Meta { started_at_unix_ms: 1_764_000_000_000, ..Meta::default() };
    let info = RunInfo { meta, executors: vec![], stop_reason: "run-time", exit_code: 0, telemetry: &Default::default(), thresholds: &[] };
    json::report(&s.snapshot(), &s.second_histograms(), info)
}

/// A JSON value of any shape, to put in place of a field.
fn any_json() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(Into::into),
        any::<i64>().prop_map(Into::into),
        any::<u64>().prop_map(Into::into),
        any::<f64>().prop_filter("JSON numbers are finite", |f| f.is_finite()).prop_map(Into::into),
        ".{0,20}".prop_map(Into::into),
        Just(serde_json::json!([])),
        Just(serde_json::json!({})),
    ]
}

const FIELDS: &[&[&str]] = &[
    &["duration_s"],
    &["meta", "started_at_unix_ms"],
    &["ramp_up_s"],
    &["peak_users"],
    &["total", "count"],
    &["total", "histogram"],
    &["total", "min_us"],
    &["requests"],
    &["timeline"],
    &["tasks"],
    &["failures"],
    &["format"],
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn thresholds_never_panic(s in prop_oneof!["[a-z0-9 ./:_-]{0,12}[<>=]{0,2}[0-9.eE+-]{0,12}(ms|s|us|m)?", ".{0,40}"]) {
        if let Ok(t) = s.parse::<Threshold>() {
            prop_assert!(t.value.is_finite());
            let _ = t.evaluate(&Stats::new(&[]).snapshot());
        }
    }

    #[test]
    fn arbitrary_bytes_are_not_a_result(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        prop_assert!(Report::parse(&bytes).is_err() || serde_json::from_slice::<serde_json::Value>(&bytes).is_ok());
    }

    #[test]
    fn a_result_with_a_field_replaced_is_read_merged_and_drawn_or_refused(field in 0..FIELDS.len(), value in any_json()) {
        let mut v = serde_json::to_value(real_report()).unwrap();
        let path = FIELDS[field];
        let mut slot = &mut v;
        for k in path {
            slot = &mut slot[*k];
        }
        *slot = value;
        let bytes = serde_json::to_vec(&v).unwrap();
        if let Ok(r) = Report::parse(&bytes) {
            if let Ok(m) = wasp_report::merge::merge(&[("a".into(), r.clone()), ("b".into(), r)]) {
                let info = RunInfo { meta: m.meta.clone(), executors: m.executors.clone(), stop_reason: "run-time", exit_code: 0, telemetry: &m.telemetry, thresholds: &[] };
                let doc = json::report(&m.snapshot, &m.seconds, info);
                let _ = wasp_report::html::render(&doc);
            }
        }
    }
}
