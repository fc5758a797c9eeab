//! End-to-end tests of what a run leaves behind: measured percentiles against
//! a target with known delays, thresholds and exit codes.

mod common;

use common::*;
use std::time::{Duration, Instant};

/// The nearest-rank percentile of the target's own delays, in ms.
fn truth(delays: &mut [u64], q: f64) -> f64 {
    delays.sort_unstable();
    let rank = ((q * delays.len() as f64).ceil() as usize).clamp(1, delays.len());
    delays[rank - 1] as f64 / 1000.0
}

/// The latency tests measure time: they never share the machine with each other.
static ALONE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// wasp's p50/p95/p99 for `name` are within 1 ms + 2 % of the target's delays.
async fn percentiles_match(tag: &str, name: &str) {
    let _alone = ALONE.lock().await;
    let t = target().await;
    let r = run(&plugin("chaos"), &["-H", &t.url(), "-T", tag, "-u", "200", "-r", "100", "-t", "5s", "--wait", "50ms", "--stop-timeout", "5s"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let entry = r.json["requests"].as_array().unwrap().iter().find(|e| e["name"] == name).expect("entry").clone();
    let mut delays = t.seen.lock().unwrap().delays.clone();
    assert_eq!(entry["count"].as_u64().unwrap(), delays.len() as u64, "every delayed request is counted");
    assert!(delays.len() > 1000, "{} samples", delays.len());
    for (q, key) in [(0.5, "p50_ms"), (0.95, "p95_ms"), (0.99, "p99_ms")] {
        let want = truth(&mut delays, q);
        let got = entry[key].as_f64().unwrap();
        // Measured times include the client's own overhead, so they sit at or above the truth.
        assert!(got >= want - 0.05 && got <= want + 1.0 + want * 0.02, "{name} {key}: measured {got} ms, truth {want} ms");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn percentiles_are_true_for_a_fixed_delay() {
    percentiles_match("delay", "/delay").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn percentiles_are_true_for_a_bimodal_delay() {
    percentiles_match("bimodal", "/bimodal").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thresholds_decide_the_exit_code() {
    let t = target().await;
    let base = ["-H", &t.url(), "-T", "hello", "-u", "2", "-t", "1s", "--wait", "20ms"];
    let pass = run(&plugin("chaos"), &[&base[..], &["--threshold", "p99<5s", "--threshold", "fail_ratio<0.01", "--threshold", "/hello: rps>1"]].concat()).await;
    assert_eq!(pass.code, 0, "{}", pass.stdout);
    assert!(pass.json["thresholds"].as_array().unwrap().iter().all(|v| v["passed"] == true));
    assert_eq!(pass.stdout.matches("PASS").count(), 3, "{}", pass.stdout);

    let fail = run(&plugin("chaos"), &[&base[..], &["--threshold", "p50<1us", "--threshold", "p99<5s"]].concat()).await;
    assert_eq!(fail.code, 1);
    let v = &fail.json["thresholds"][0];
    assert_eq!(v["passed"], false);
    assert!(v["measured"].as_f64().unwrap() > 0.001, "the measured value is reported");
    assert!(fail.stdout.contains("FAIL  p50<1us"), "{}", fail.stdout);

    // With failures and no thresholds, --exit-code-on-error decides.
    let errs = run(&plugin("chaos"), &["-H", &t.url(), "-T", "errors", "-u", "1", "-t", "1s", "--exit-code-on-error", "7"]).await;
    assert_eq!(errs.code, 7);
    // With thresholds, they alone decide.
    let gated = run(&plugin("chaos"), &["-H", &t.url(), "-T", "errors", "-u", "1", "-t", "1s", "--threshold", "rps>0"]).await;
    assert_eq!(gated.code, 0, "{}", gated.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_on_threshold_stops_early() {
    let t = target().await;
    let t0 = Instant::now();
    let r = run(
        &plugin("chaos"),
        &["-H", &t.url(), "-T", "hello", "-u", "2", "-t", "60s", "--wait", "20ms", "--threshold", "max<1us", "--abort-on-threshold"],
    )
    .await;
    assert_eq!(r.code, 1);
    assert_eq!(r.json["stop_reason"], "threshold");
    assert!(t0.elapsed() < Duration::from_secs(15), "stopped after {:?}", t0.elapsed());
    assert!(r.json["total"]["count"].as_u64().unwrap() > 0, "what was measured is reported");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_thresholds_are_usage_errors() {
    let qs = plugin("quickstart");
    for bad in ["p95", "p95<fast", "latency<1s", "GET /x: p95"] {
        let r = finish(wasp().arg("run").arg(&qs).args(["--threshold", bad]).spawn().unwrap(), None).await;
        assert_eq!(r.code, 2, "{bad}: {}", r.stderr);
        let line = r.stderr.lines().find(|l| l.starts_with("wasp: error:")).expect("one error line");
        assert!(line.contains("accepted:") && line.contains("p95<300ms"), "{line}");
    }
    let r = finish(wasp().arg("run").arg(&qs).arg("--abort-on-threshold").spawn().unwrap(), None).await;
    assert_eq!(r.code, 2);
}
