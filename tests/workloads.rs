//! Workload models end to end: the executors and scenarios of the real
//! binary against a loopback target, checked against what the target saw.

mod common;

use common::otlp::receiver;
use common::*;
use std::time::{Duration, Instant};

fn chaos() -> std::path::PathBuf {
    plugin("chaos")
}

/// Arrival times of `path` at the target.
fn arrivals(t: &Target, path: &str) -> Vec<Instant> {
    t.seen.lock().unwrap().times.iter().filter(|(p, _)| p == path).map(|(_, at)| *at).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn constant_arrival_rate_keeps_its_rate_evenly() {
    let t = target().await;
    let r = run(&chaos(), &["-H", &t.url(), "-T", "hello", "--rate", "200/s", "--pre-allocated", "20", "-t", "20s", "--stop-timeout", "5s"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let at = arrivals(&t, "/hello");
    let n = at.len() as f64;
    assert!((n - 4000.0).abs() <= 80.0, "{n} iterations at the server, 4000 ± 2 % expected");
    assert_eq!(r.json["total"]["count"].as_u64().unwrap() as usize, at.len() + t.count("/start") as usize);
    // Evenly spread: counts per 100 ms after the first second vary little.
    let first = at[0];
    let mut windows = vec![0u32; 200];
    for a in &at {
        let w = (a.duration_since(first).as_millis() / 100) as usize;
        if w < windows.len() {
            windows[w] += 1;
        }
    }
    let steady = &windows[10..190];
    let mean = steady.iter().sum::<u32>() as f64 / steady.len() as f64;
    let sd = (steady.iter().map(|c| (*c as f64 - mean).powi(2)).sum::<f64>() / steady.len() as f64).sqrt();
    assert!(sd / mean < 0.2, "per-100 ms counts: mean {mean:.1}, coefficient of variation {:.3}", sd / mean);
    assert_eq!(r.json["dropped_iterations"], 0);
    let it = &r.json["iterations"];
    assert_eq!(it["count"].as_u64().unwrap() as usize, at.len(), "every iteration's latency from its intended start is recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_target_makes_an_open_model_drop_iterations_and_say_so() {
    let t = target().await;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("run");
    let html = dir.path().join("run.html");
    let r = run(
        &chaos(),
        &[
            "-H",
            &t.url(),
            "-T",
            "delay200",
            "--rate",
            "100/s",
            "--pre-allocated",
            "10",
            "--max-users",
            "10",
            "-t",
            "10s",
            "--threshold",
            "dropped_iterations<1",
            "--csv",
            csv.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(r.code, 1, "the drops fail the threshold: {}", r.stderr);
    let served = t.count("/delay") as f64;
    // 10 users, 200 ms each: about 50 a second.
    assert!((served / 10.0 - 50.0).abs() <= 5.0, "served {served} in 10 s");
    let dropped = r.json["dropped_iterations"].as_u64().unwrap() as f64;
    let expected = 100.0 * 10.0 - served;
    assert!((dropped - expected).abs() <= expected * 0.1, "dropped {dropped}, expected {expected} ± 10 %");
    assert!((r.json["duration_s"].as_f64().unwrap() - 10.0).abs() < 1.0, "the run still ends on time");
    assert!(r.stderr.contains("dropped in the last"), "a warning while it happens: {}", r.stderr);
    assert!(r.stdout.contains("iteration(s) were dropped"), "{}", r.stdout);
    let iterations = std::fs::read_to_string(dir.path().join("run_iterations.csv")).unwrap();
    assert!(iterations.starts_with("Scenario,Task,Iterations,Errors,Dropped,"), "{iterations}");
    let agg = iterations.lines().find(|l| l.starts_with("default,Aggregated,")).expect("the scenario's row");
    assert_eq!(agg.split(',').nth(4).unwrap().parse::<f64>().unwrap(), dropped);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("Iterations (arrival rate)") && page.contains("dropped iterations"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_model_sees_a_stall_that_a_closed_model_hides() {
    // The target answers in 1 ms, but from 5 s to 7 s after it starts, every request waits for 7 s.
    let t = target().await;
    let open =
        run(&chaos(), &["-H", &t.url(), "-T", "stall", "--rate", "50/s", "--pre-allocated", "20", "--max-users", "300", "-t", "9s", "--stop-timeout", "5s"])
            .await;
    assert_eq!(open.code, 0, "{}", open.stderr);
    let it = &open.json["iterations"]["percentiles_us"];
    let p99 = it["99"].as_u64().unwrap();
    assert!(p99 >= 1_500_000, "iteration latency from the intended start shows the stall: p99 {p99} µs");
    t.stop().await;

    let t = target().await;
    let closed = run(&chaos(), &["-H", &t.url(), "-T", "stall", "-u", "10", "-r", "100", "--wait", "5ms", "-t", "9s", "--stop-timeout", "5s"]).await;
    assert_eq!(closed.code, 0, "{}", closed.stderr);
    let stall = closed.json["requests"].as_array().unwrap().iter().find(|e| e["name"] == "/stall").unwrap().clone();
    let (p99, max, count) = (stall["percentiles_us"]["99"].as_u64().unwrap(), stall["max_us"].as_u64().unwrap(), stall["count"].as_u64().unwrap());
    assert!(max >= 1_000_000, "the stalled requests are there: max {max} µs");
    assert!(p99 < 100_000, "but the closed model waited with them: service-time p99 {p99} µs over {count} requests");
    assert!(closed.json["iterations"].is_null(), "a closed model has no intended starts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ramping_users_and_rates_follow_their_stages() {
    let t = target().await;
    let r = run(&chaos(), &["-H", &t.url(), "-T", "hello", "--stages", "4s:20,4s:20,4s:0", "--wait", "100ms", "-t", "30s"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json["stop_reason"], "completed", "the stages end the run");
    let users: Vec<u64> = r.json["timeline"].as_array().unwrap().iter().map(|s| s["users"].as_u64().unwrap()).collect();
    // Plan: 5 users/s up to 20 at 4 s, 20 until 8 s, down to 0 at 12 s; each second shows its peak.
    for (second, plan) in [(1usize, 10u64), (3, 20), (5, 20), (7, 20), (9, 15), (11, 5)] {
        let near = users[second.saturating_sub(1)..=(second + 1).min(users.len() - 1)].iter().any(|u| u.abs_diff(plan) <= plan / 20 + 1);
        assert!(near, "second {second}: users {users:?}, planned {plan}");
    }
    assert!(r.json["duration_s"].as_f64().unwrap() < 14.0);
    t.stop().await;

    let t = target().await;
    let r = run(&chaos(), &["-H", &t.url(), "-T", "hello", "--rate-stages", "4s:100/s,4s:100/s,4s:0/s", "--pre-allocated", "10", "-t", "30s"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let n = t.count("/hello") as f64;
    assert!((n - 800.0).abs() <= 16.0, "{n} iterations: 200 + 400 + 200 ± 2 % planned");
    let at = arrivals(&t, "/hello");
    // The ramp starts at 0/s: the first arrival is due when 12.5·t² = 1, at 0.283 s.
    let start = at[0] - Duration::from_secs_f64((1.0f64 / 12.5).sqrt());
    let per_second = |s: u64| at.iter().filter(|a| a.duration_since(start).as_secs() == s).count() as f64;
    for (second, plan) in [(1u64, 37.5), (5, 100.0), (6, 100.0), (10, 37.5)] {
        assert!((per_second(second) - plan).abs() <= plan * 0.1 + 2.0, "second {second}: {} arrivals, {plan} planned", per_second(second));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iterations_executors_run_exactly_their_count() {
    let t = target().await;
    let r = run(&chaos(), &["-H", &t.url(), "-T", "hello", "-u", "7", "--iterations", "1000", "--wait", "none", "-t", "60s"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(t.count("/hello"), 1000);
    assert_eq!(task_runs(&r.json, "hello").0, 1000);
    assert_eq!(r.json["stop_reason"], "completed");
    t.stop().await;

    let t = target().await;
    let r =
        run(&chaos(), &["-H", &t.url(), "-T", "hello", "-u", "20", "--executor", "per-user-iterations", "--iterations", "10", "--wait", "5ms", "-t", "60s"])
            .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(t.count("/hello"), 200);
    let seen = t.seen.lock().unwrap();
    assert_eq!(seen.hello_by_user.len(), 20);
    assert!(seen.hello_by_user.values().all(|n| *n == 10), "{:?}", seen.hello_by_user);
}

const TWO_SCENARIOS: &str = r#"
[scenarios.browse]
executor = "constant-users"
users = 3
spawn-rate = 100
tags = ["hello"]
wait = "20ms"

[scenarios.buy]
executor = "constant-arrival-rate"
rate = "20/s"
pre-allocated-users = 3
tags = ["buy"]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_scenarios_run_together_each_with_its_own_stats_and_spans() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scenarios.toml");
    std::fs::write(&file, TWO_SCENARIOS).unwrap();
    let t = target().await;
    let rx = receiver(false).await;
    let endpoint = rx.grpc_url();
    let r = run_env(
        &chaos(),
        &["-H", &t.url(), "--scenarios", file.to_str().unwrap(), "-t", "3s", "--stop-timeout", "5s"],
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint), ("OTEL_BSP_SCHEDULE_DELAY", "200")],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let by = |scenario: &str, name: &str| {
        r.json["requests"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["scenario"] == scenario && e["name"] == name)
            .map(|e| e["count"].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(by("browse", "/hello"), t.count("/hello"), "browse's requests are the target's /hello");
    assert_eq!(by("buy", "/buy"), t.count("/buy"), "buy's requests are the target's /buy");
    assert_eq!(by("browse", "/buy") + by("buy", "/hello"), 0, "each scenario ran its own tasks");
    assert!((t.count("/buy") as f64 - 60.0).abs() <= 3.0, "buy: 20/s for 3 s, got {}", t.count("/buy"));
    assert_eq!(r.json["scenarios"].as_array().unwrap().len(), 2);
    assert!(r.stdout.contains("browse: /hello") && r.stdout.contains("buy: /buy"), "{}", r.stdout);
    let got = rx.store.lock().unwrap();
    let scenario_of = |name: &str| {
        got.spans
            .iter()
            .filter(|(_, s)| s.name == name)
            .map(|(_, s)| common::otlp::text(&s.attributes).get("wasp.scenario").cloned())
            .collect::<std::collections::HashSet<_>>()
    };
    assert_eq!(scenario_of("hello"), [Some("browse".to_string())].into_iter().collect());
    assert_eq!(scenario_of("buy"), [Some("buy".to_string())].into_iter().collect());
    drop(got);

    // Two such runs merged keep the scenarios apart.
    let a = dir.path().join("a.json");
    let b = dir.path().join("b.json");
    std::fs::write(&a, serde_json::to_vec(&r.json).unwrap()).unwrap();
    let r2 = run(&chaos(), &["-H", &t.url(), "--scenarios", file.to_str().unwrap(), "-t", "2s"]).await;
    std::fs::write(&b, serde_json::to_vec(&r2.json).unwrap()).unwrap();
    let merged = dir.path().join("m.json");
    let m = finish(wasp().arg("merge").arg(&a).arg(&b).arg("--json").arg(&merged).spawn().unwrap(), Some(&merged)).await;
    assert_eq!(m.code, 0, "{}", m.stderr);
    let count = |j: &serde_json::Value, s: &str| {
        j["requests"].as_array().unwrap().iter().filter(|e| e["scenario"] == s).map(|e| e["count"].as_u64().unwrap()).sum::<u64>()
    };
    for s in ["browse", "buy"] {
        assert_eq!(count(&m.json, s), count(&r.json, s) + count(&r2.json, s), "{s}");
    }
    assert_eq!(m.json["scenarios"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_scenarios_file_is_one_line_with_the_line_and_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "[scenarios.buy]\nexecutor = \"constant-arrival-rate\"\nrate = \"fast\"\n").unwrap();
    let r = finish(wasp().arg("run").arg(chaos()).args(["-H", "http://127.0.0.1:9", "--scenarios"]).arg(&file).spawn().unwrap(), None).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("bad.toml:3: scenario 'buy': rate:"), "{}", r.stderr);
    let r = finish(wasp().args(["scenarios", "--example"]).spawn().unwrap(), None).await;
    assert_eq!(r.code, 0);
    let example = dir.path().join("example.toml");
    std::fs::write(&example, &r.stdout).unwrap();
    let r = finish(wasp().args(["scenarios", "--check"]).arg(&example).spawn().unwrap(), None).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("checkout: constant-arrival-rate"), "{}", r.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executor_options_that_do_not_fit_are_usage_errors() {
    let h = "http://127.0.0.1:9";
    let c = chaos();
    for (args, says) in [
        (vec!["--rate", "10/s", "--stages", "1s:1"], "each choose an executor"),
        (vec!["--executor", "ramping-users"], "ramping-users needs --stages"),
        (vec!["--executor", "constant-users", "--rate", "5"], "--rate does not apply to constant-users"),
        (vec!["--rate", "5", "--pre-allocated", "20", "--max-users", "10"], "below the 20 pre-allocated"),
        (vec!["--stages", "1s:ten"], "--stages"),
        (vec!["--rate", "0/s"], "--rate"),
        (vec!["--scenarios", "/nonexistent.toml", "--rate", "5"], "does not go with --scenarios"),
    ] {
        let r = finish(wasp().arg("run").arg(&c).args(["-H", h]).args(&args).spawn().unwrap(), None).await;
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
    }
}
