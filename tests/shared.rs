//! End-to-end tests of users sharing instances (`wasp:plugin@0.2`): the
//! real `wasp` binary, the 0.2 test plugin, a real local HTTP target.

mod common;

use common::*;
use std::collections::{HashMap, HashSet};

fn shared() -> std::path::PathBuf {
    plugin("shared_users")
}

/// A request's header as text.
fn header<'a>(h: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_users_in_instances_of_64_keep_their_own_cookies_baggage_and_traces() {
    let t = target().await;
    let args =
        ["-H", &t.url(), "-T", "hello", "-u", "1000", "-r", "5000", "--executor", "per-user-iterations", "--iterations", "5", "--wait", "10ms", "-t", "50s"];
    let r = run(&shared(), &[&args[..], &["--users-per-instance", "64"]].concat()).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json["meta"]["options"]["users-per-instance"], "64", "{}", r.json["meta"]);
    let seen = t.seen.lock().unwrap();
    // Exact counts, per user.
    assert_eq!(seen.hello_by_user.len(), 1000);
    assert!(seen.hello_by_user.values().all(|n| *n == 5), "{:?}", seen.hello_by_user.iter().filter(|(_, n)| **n != 5).collect::<Vec<_>>());
    assert_eq!(seen.starts.len(), 1000, "each user started once");
    assert_eq!(reported(&r.json, "/hello"), 5000);
    assert_eq!(reported(&r.json, "/whoami"), 5000);
    // Cookies: every /whoami carried its own user's session cookie only.
    assert_eq!(seen.cookie_mismatches, 0);
    assert_eq!(r.json["total"]["failures"], 0, "{}", r.json["failures"]);
    // Baggage and trace context: every task request names its own user in
    // its baggage, and both requests of one task (of one user) share one
    // trace, which no other task's requests are in.
    let mut traces: HashMap<(String, String), HashSet<String>> = HashMap::new();
    let mut checked = 0;
    for (path, h) in &seen.headers {
        if path != "/hello" && path != "/whoami" {
            continue;
        }
        let user = header(h, "x-user").expect("x-user");
        let baggage = header(h, "baggage").unwrap_or_default();
        assert!(baggage.split(',').any(|m| m.trim() == format!("wasp.test.user={user}")), "user {user}'s request had baggage '{baggage}'");
        let tp = header(h, "traceparent").expect("every request carries traceparent");
        let trace = tp.split('-').nth(1).expect("a W3C traceparent").to_string();
        traces.entry((user.to_string(), header(h, "x-seq").unwrap().to_string())).or_default().insert(trace);
        checked += 1;
    }
    assert_eq!(checked, 10_000);
    assert_eq!(traces.len(), 5000, "one group per user and task");
    assert!(traces.values().all(|t| t.len() == 1), "a task's two requests are in one trace");
    let distinct: HashSet<_> = traces.values().flatten().collect();
    assert_eq!(distinct.len(), 5000, "every task has a trace of its own");
    drop(seen);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trap_restarts_the_users_of_its_instance_only() {
    let t = target().await;
    let r = run(&shared(), &["-H", &t.url(), "-T", "trap", "-u", "12", "-r", "100", "-t", "3s", "--wait", "20ms", "--users-per-instance", "4"]).await;
    let seen = t.seen.lock().unwrap();
    let (runs, errors) = task_runs(&r.json, "trap");
    assert!(runs > 12 * 20, "the users kept running: {runs} task runs");
    // The trap is reported once, as a trap; the users of its instance that
    // were in a task then are reported as stopped by it.
    let failed = r.json["tasks"][0]["errors"].as_u64().unwrap_or(errors);
    let messages = r.json["errors"].to_string();
    assert!(r.stderr.contains("stopped: wasm trap") || messages.contains("unreachable"), "{messages}\n{}", r.stderr);
    assert!((1..=4).contains(&failed), "{failed} task errors: {messages}");
    // Exactly the trapping user's instance (4 users) started again.
    assert_eq!(seen.paths.get("/start").copied().unwrap_or(0), 16, "{:?}", seen.paths);
    assert_eq!(r.code, 1, "a trap is an error of the run");
    drop(seen);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_per_instance_needs_a_0_2_plugin() {
    let r = run(&plugin("quickstart"), &["-H", "http://127.0.0.1:9", "-u", "1", "-t", "1s", "--users-per-instance", "4"]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--users-per-instance needs a wasp:plugin@0.2 plugin"), "{}", r.stderr);
}
