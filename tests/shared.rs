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

/// `users` users of `plugin` (the shared-users plugin in some language),
/// `k` per instance, 5 tasks each: every user's counts are exact, and its
/// cookie, baggage and traces stayed its own.
async fn users_keep_their_own_state(plugin: &std::path::Path, users: u64, k: u32) {
    let t = target().await;
    let (u, k) = (users.to_string(), k.to_string());
    let args = ["-H", &t.url(), "-T", "hello", "-u", &u, "-r", "5000", "--executor", "per-user-iterations", "--iterations", "5", "--wait", "10ms", "-t", "50s"];
    let r = run(plugin, &[&args[..], &["--users-per-instance", &k]].concat()).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json["meta"]["options"]["users-per-instance"], k.as_str(), "{}", r.json["meta"]);
    let seen = t.seen.lock().unwrap();
    // Exact counts, per user.
    assert_eq!(seen.hello_by_user.len() as u64, users);
    assert!(seen.hello_by_user.values().all(|n| *n == 5), "{:?}", seen.hello_by_user.iter().filter(|(_, n)| **n != 5).collect::<Vec<_>>());
    assert_eq!(seen.starts.len() as u64, users, "each user started once");
    assert_eq!(reported(&r.json, "/hello"), 5 * users);
    assert_eq!(reported(&r.json, "/whoami"), 5 * users);
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
    assert_eq!(checked, 10 * users);
    assert_eq!(traces.len() as u64, 5 * users, "one group per user and task");
    assert!(traces.values().all(|t| t.len() == 1), "a task's two requests are in one trace");
    let distinct: HashSet<_> = traces.values().flatten().collect();
    assert_eq!(distinct.len() as u64, 5 * users, "every task has a trace of its own");
    drop(seen);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_rust_users_in_instances_of_64_keep_their_own_cookies_baggage_and_traces() {
    users_keep_their_own_state(&shared(), 1000, 64).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_users_sharing_instances_keep_their_own_cookies_baggage_and_traces() {
    users_keep_their_own_state(&python_plugin("shared-users-async"), 500, 250).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn javascript_users_sharing_instances_keep_their_own_cookies_baggage_and_traces() {
    users_keep_their_own_state(&js_plugin("shared-users-async"), 500, 250).await;
}

/// The JavaScript SDK writes and reads UTF-8 itself (QuickJS has no
/// TextEncoder): text of 1 to 4 bytes a character goes to the target as
/// UTF-8 and comes back the same, as text and as JSON; bytes that are not
/// UTF-8 read as Rust's lossy decoding (and the WHATWG decoder) read them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn javascript_users_send_and_read_utf8_text() {
    let t = target().await;
    let r = run(
        &js_plugin("shared-users-async"),
        &["-H", &t.url(), "-T", "utf8", "-u", "3", "--executor", "per-user-iterations", "--iterations", "4", "--wait", "1ms"],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(task_runs(&r.json, "utf8"), (12, 0), "{}", r.json["errors"]);
    assert_eq!(t.count("/echo"), 24, "two round trips a task");
    assert_eq!(t.count("/bad-utf8"), 24, "the bad bytes fetched and checked in each task");
    assert_eq!(r.json["total"]["failures"], 0, "{}", r.json["failures"]);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_javascript_0_2_quickstart_runs_against_a_target() {
    quickstart_runs(&js_plugin("quickstart-async")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_0_2_quickstart_runs_against_a_target() {
    quickstart_runs(&python_plugin("quickstart-async")).await;
}

/// 100 users of a 0.2 quickstart (in some language) browse and post, with no failure.
async fn quickstart_runs(plugin: &std::path::Path) {
    let t = target().await;
    let r = run(plugin, &["-H", &t.url(), "-u", "100", "-r", "1000", "-t", "3s", "--wait", "20ms"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(reported(&r.json, "/items") > 0 && reported(&r.json, "/") > reported(&r.json, "/items"), "{}", r.json["requests"]);
    assert_eq!(r.json["total"]["failures"], 0, "{}", r.json["failures"]);
    assert_accounted(&r.json, t.total());
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
    // The guest's panic message is the instance's output, tagged with it.
    let line = r.stderr.lines().find(|l| l.contains("user 2 traps, once")).unwrap_or_else(|| panic!("no guest line in {}", r.stderr));
    assert!(line.contains("instance=") && !line.contains("user="), "{line}");
    // Exactly the trapping user's instance (4 users) started again.
    assert_eq!(seen.paths.get("/start").copied().unwrap_or(0), 16, "{:?}", seen.paths);
    assert_eq!(r.code, 1, "a trap is an error of the run");
    drop(seen);
    t.stop().await;
}

/// `--max-instance-memory` caps an instance: the user that grows past it
/// traps with the option named, and only its instance's users restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_past_its_memory_cap_restarts_its_users_only() {
    let t = target().await;
    let args =
        ["-H", &t.url(), "-T", "grow", "-u", "12", "-r", "100", "-t", "3s", "--wait", "20ms", "--users-per-instance", "4", "--max-instance-memory", "16MiB"];
    let r = run(&shared(), &args).await;
    assert_eq!(r.code, 1, "a trap is an error of the run: {}", r.stderr);
    let messages = r.json["errors"].to_string();
    // The users' baggage is held by the host in the same account, and the message says how much.
    assert!(messages.contains("memory limit exceeded: the guest's memory") && messages.contains("would pass 16 MiB (--max-instance-memory)"), "{messages}");
    assert_eq!(r.json["meta"]["options"]["max-instance-memory"], (16u64 << 20).to_string(), "{}", r.json["meta"]);
    let seen = t.seen.lock().unwrap();
    assert_eq!(seen.paths.get("/start").copied().unwrap_or(0), 16, "{:?}", seen.paths);
    let (runs, _) = task_runs(&r.json, "grow");
    assert!(runs > 12 * 20, "{runs} task runs");
    drop(seen);
    t.stop().await;
}

/// `users` users of the shared plugin running the tasks tagged `tag` for 2 s,
/// all in one instance whose memory cap is `cap` bytes.
async fn capped(url: &str, tag: &str, users: u32, cap: u64) -> Finished {
    let (users, cap) = (users.to_string(), cap.to_string());
    let args = ["-H", url, "-T", tag, "-u", &users, "-r", "1000", "-t", "2s", "--wait", "50ms", "--users-per-instance", &users, "--max-instance-memory", &cap];
    run(&shared(), &args).await
}

/// What users hand the host (baggage here) counts against their instance's
/// memory with the guest's own: 100 users of 8,000 bytes each pass a cap
/// 512 KiB above the plugin's start, which their guest memory alone does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_users_make_the_host_hold_counts_against_their_instance() {
    let t = target().await;
    let cache = tempfile::tempdir().unwrap();
    let info = inspect_json(&shared(), cache.path()).await;
    let start = info["scale"]["initial_memory_bytes"].as_u64().expect("inspect shows the initial memory");
    let (url, cap) = (t.url(), start + (512 << 10));
    let calm = capped(&url, "hello", 100, cap).await;
    assert_eq!(calm.code, 0, "without hoarding the users fit: {}", calm.json["errors"]);
    let hoard = capped(&url, "hoard", 100, cap).await;
    let messages = hoard.json["errors"].to_string();
    assert!(messages.contains("memory limit exceeded: the guest's memory and the") && messages.contains("it made the host hold would pass"), "{messages}");
    assert_eq!(hoard.code, 1, "{}", hoard.stderr);
    t.stop().await;
}

/// The cookies servers give a shared instance's users take their bytes from
/// the instance's memory account: past it new cookies are refused, with a
/// warning naming the option, and the run goes on. With room, each jar fills
/// up to its own bound (64 KiB) instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookies_servers_give_count_against_the_instance() {
    let cache = tempfile::tempdir().unwrap();
    let info = inspect_json(&shared(), cache.path()).await;
    let start = info["scale"]["initial_memory_bytes"].as_u64().expect("inspect shows the initial memory");
    let room = 128u64 << 10;
    // The Cookie headers the users sent, in the order they came: each user's
    // latest is its jar, and the most all jars held at once is the largest
    // sum of those. (Not the sum of each user's fullest: the instance may
    // trap when its guest cannot grow, and its users start again with empty
    // jars, which a sum over the whole run would add to the old ones.)
    async fn jars(cap: u64) -> (Vec<usize>, usize, u64, Finished) {
        let t = target().await;
        let r = capped(&t.url(), "crumbs", 20, cap).await;
        let mut latest: HashMap<String, usize> = HashMap::new();
        let mut at_once = 0;
        let given = {
            let seen = t.seen.lock().unwrap();
            for (_, h) in seen.headers.iter().filter(|(p, _)| p == "/crumbs") {
                let (Some(u), Some(c)) = (h.get("x-user"), h.get("cookie")) else { continue };
                latest.insert(u.to_str().unwrap().to_string(), c.len());
                at_once = at_once.max(latest.values().sum());
            }
            seen.crumbs
        };
        t.stop().await;
        (latest.into_values().collect(), at_once, given, r)
    }
    let (_, held, given, r) = jars(start + room).await;
    assert!(r.json["total"]["count"].as_u64().unwrap() > 100, "the run measured its requests: {}", r.json["total"]);
    assert!(given > 100, "the server gave {given} cookies");
    // (A Cookie header has a few bytes more than the names and values: `=`, `; `.)
    assert!(held > 0 && held as u64 <= room + 4096, "the users' jars held {held} bytes at once, within the {room} bytes of room? errors: {}", r.json["errors"]);
    assert!(r.stderr.contains("cookies would pass the memory") && r.stderr.contains("--max-instance-memory"), "{}", r.stderr);

    let (roomy, _, _, r) = jars(start + (64 << 20)).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let held: usize = roomy.iter().sum();
    assert!(held as u64 > 8 * room, "with room, the jars fill to their own bound: {held} bytes");
    assert!(roomy.iter().all(|&b| b <= 64 << 10), "{roomy:?}");
}

/// Responses awaiting the guest's verdict take their bytes from the
/// instance's memory account too: without room the older ones are counted as
/// they are (a later verdict on them is ignored, with a warning naming the
/// option), and every request is still counted; with room every verdict holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_awaiting_a_verdict_count_against_the_instance() {
    let cache = tempfile::tempdir().unwrap();
    let info = inspect_json(&shared(), cache.path()).await;
    let start = info["scale"]["initial_memory_bytes"].as_u64().expect("inspect shows the initial memory");
    // (runs of the task, its requests, the late verdicts counted)
    async fn verdicts(cap: u64) -> (u64, u64, u64, Finished) {
        let t = target().await;
        let r = capped(&t.url(), "verdicts", 20, cap).await;
        t.stop().await;
        let (runs, requests, late) = verdicts_counted(&r);
        (runs, requests, late, r)
    }
    let (runs, requests, late, r) = verdicts(start + (96 << 10)).await;
    assert!(runs > 10, "{} {}", r.json["tasks"], r.json["errors"]);
    assert!(requests >= 40 * runs, "every request is counted: {requests} for {runs} runs; errors: {}", r.json["errors"]);
    assert!(late < runs, "without room some verdicts come too late: {late} of {runs}; errors: {}", r.json["errors"]);
    assert!(r.stderr.contains("awaiting a verdict would pass the memory") && r.stderr.contains("--max-instance-memory"), "{}", r.stderr);

    let (runs, requests, late, r) = verdicts(start + (64 << 20)).await;
    assert!(runs > 10 && requests >= 40 * runs, "{}", r.json["tasks"]);
    assert_eq!(late, runs, "with room every verdict holds");
    assert!(!r.stderr.contains("awaiting a verdict"), "{}", r.stderr);
}

/// With `--seed`, each user of a shared instance draws the same random
/// numbers in every run, whatever its instance's other users do meanwhile;
/// another seed gives other numbers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seed_gives_each_user_of_a_shared_instance_its_own_numbers() {
    seeded_users_draw_their_own_numbers(&shared()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seed_gives_each_python_user_of_a_shared_instance_its_own_numbers() {
    seeded_users_draw_their_own_numbers(&python_plugin("shared-users-async")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seed_gives_each_javascript_user_of_a_shared_instance_its_own_numbers() {
    seeded_users_draw_their_own_numbers(&js_plugin("shared-users-async")).await;
}

async fn seeded_users_draw_their_own_numbers(plugin: &std::path::Path) {
    async fn draws(plugin: &std::path::Path, seed: &str) -> std::collections::HashMap<String, Vec<String>> {
        let t = target().await;
        let args = ["-H", &t.url(), "-T", "dice", "-u", "16", "-r", "1000", "-t", "2s", "--wait", "1ms..30ms", "--users-per-instance", "4", "--seed", seed];
        let r = run(plugin, &args).await;
        assert_eq!(r.code, 0, "{}", r.stderr);
        let mut by_user: std::collections::HashMap<String, Vec<String>> = Default::default();
        for (_, h) in t.seen.lock().unwrap().headers.iter() {
            if let (Some(u), Some(x)) = (h.get("x-user"), h.get("x-r")) {
                by_user.entry(u.to_str().unwrap().to_string()).or_default().push(x.to_str().unwrap().to_string());
            }
        }
        t.stop().await;
        by_user
    }
    let (a, b, other) = (draws(plugin, "7").await, draws(plugin, "7").await, draws(plugin, "8").await);
    // Ids are 1..=16: each slot's user took one id (a new slot's user once
    // saw the old user count, left and was replaced under a new id).
    let ids = |m: &std::collections::HashMap<String, Vec<String>>| {
        let mut v: Vec<u64> = m.keys().map(|k| k.parse().unwrap()).collect();
        v.sort();
        v
    };
    assert_eq!(ids(&a), (1..=16).collect::<Vec<u64>>(), "every user drew, with ids 1 to 16");
    assert_eq!(ids(&b), ids(&a));
    for (user, seq) in &a {
        let again =
            b.get(user).unwrap_or_else(|| panic!("user {user} drew in one run only: {:?} vs {:?}", a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>()));
        let n = seq.len().min(again.len());
        assert!(n >= 4, "user {user}: {n} draws");
        assert_eq!(seq[..n], again[..n], "user {user}: the same numbers with the same seed");
        assert_ne!(seq[..n.min(other[user].len())], other[user][..n.min(other[user].len())], "user {user}: another seed, other numbers");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_past_its_budget_stops_its_instance_and_the_others_go_on() {
    past_its_budget(&shared()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_task_past_its_budget_stops_its_instance_and_the_others_go_on() {
    past_its_budget(&python_plugin("shared-users-async")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_javascript_task_past_its_budget_stops_its_instance_and_the_others_go_on() {
    past_its_budget(&js_plugin("shared-users-async")).await;
}

/// User 3 of `plugin` computes without end once: the budget kills the task
/// (a trap of its instance), that instance's 4 users start again, and the
/// other 8 users keep their rate.
async fn past_its_budget(plugin: &std::path::Path) {
    let t = target().await;
    let args = ["-H", &t.url(), "-T", "spin", "-u", "12", "-r", "100", "-t", "3s", "--wait", "20ms", "--users-per-instance", "4", "--task-budget", "300ms"];
    let r = run(plugin, &args).await;
    assert_eq!(r.code, 1, "a killed task is an error of the run: {}", r.stderr);
    let messages = r.json["errors"].to_string();
    assert!(messages.contains("killed: used more than 300ms of guest time"), "{messages}");
    let seen = t.seen.lock().unwrap();
    // The spinning user's instance started again (4 users), nobody else.
    assert_eq!(seen.paths.get("/start").copied().unwrap_or(0), 16, "{:?}", seen.paths);
    // The other users kept their rate while it spun: 8 users (20 ms waits)
    // in the 3 s of the run did far more than 8 × 3 s / 300 ms.
    let (runs, _) = task_runs(&r.json, "spin");
    assert!(runs > 12 * 20, "{runs} task runs");
    drop(seen);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_per_instance_needs_a_0_2_plugin() {
    let r = run(&plugin("quickstart"), &["-H", "http://127.0.0.1:9", "-u", "1", "-t", "1s", "--users-per-instance", "4"]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--users-per-instance needs a wasp:plugin@0.2 plugin"), "{}", r.stderr);
}

/// Users sharing instances get a response's headers packed as well
/// (`send-packed` of 0.2.1) and read them as sent: the checks of the 0.1
/// test (`check_headers` in the plugin), from several users of an instance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_sharing_an_instance_read_response_headers_as_sent() {
    let t = target().await;
    let args =
        ["-H", &t.url(), "-T", "headers", "-u", "4", "--users-per-instance", "2", "--executor", "per-user-iterations", "--iterations", "3", "--wait", "1ms"];
    let r = run(&shared(), &args).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(task_runs(&r.json, "headers"), (12, 0), "{}", r.json["errors"]);
    assert_eq!(t.count("/headers"), 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_shows_the_world_version_and_the_users_per_instance() {
    let cache = tempfile::tempdir().unwrap();
    let v2 = inspect_json(&shared(), cache.path()).await;
    assert_eq!(v2["wit"], "wasp:plugin@0.2.1");
    assert_eq!(v2["scale"]["users_per_instance"], 64);
    let v1 = inspect_json(&plugin("quickstart"), cache.path()).await;
    assert_eq!(v1["wit"], "wasp:plugin@0.1.2");
    assert_eq!(v1["scale"]["users_per_instance"], 1);
    // With a mapping limit, the users per process count K per instance.
    if let (Some(a), Some(b)) = (v2["scale"]["users_per_process"]["copied"].as_u64(), v1["scale"]["users_per_process"]["copied"].as_u64()) {
        assert!(a > b * 10, "64 users per instance fit far more users: {a} against {b}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_of_users_sharing_an_instance_nest_under_their_own_task_spans() {
    use common::otlp::{receiver, text};
    use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
    let t = target().await;
    let rx = receiver(false).await;
    let endpoint = rx.grpc_url();
    let args = ["-H", &t.url(), "-T", "hello", "-u", "40", "-r", "1000", "--executor", "per-user-iterations", "--iterations", "3", "--wait", "5ms"];
    let r = run_env(&shared(), &[&args[..], &["--users-per-instance", "8", "-t", "30s"]].concat(), &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let got = rx.store.lock().unwrap();
    let by_id: HashMap<Vec<u8>, &opentelemetry_proto::tonic::trace::v1::Span> = got.spans.iter().map(|(_, s)| (s.span_id.clone(), s)).collect();
    let clients: Vec<_> = got.spans.iter().map(|(_, s)| s).filter(|s| s.kind == SpanKind::Client as i32).collect();
    // on-start's /start and /login, 3 tasks of 2 requests, on-stop's bye, for each of 40 users.
    assert_eq!(clients.len(), 40 * 9, "{} CLIENT spans", clients.len());
    for c in &clients {
        let parent = by_id.get(&c.parent_span_id).unwrap_or_else(|| panic!("the parent of {} was exported", c.name));
        assert!(["hello", "on_start", "on_stop"].contains(&parent.name.as_str()), "parent {}", parent.name);
        assert_eq!(text(&c.attributes)["wasp.user.id"], text(&parent.attributes)["wasp.user.id"], "a request under another user's span");
        assert_eq!(c.trace_id, parent.trace_id);
    }
    // Every call's span ended normally: none marked as interrupted or failed.
    let failed: Vec<_> = got.spans.iter().filter(|(_, s)| s.status.as_ref().is_some_and(|st| st.code == 2)).map(|(_, s)| s.name.clone()).collect();
    assert!(failed.is_empty(), "failed spans: {failed:?}");
    let tasks = got.spans.iter().filter(|(_, s)| s.name == "hello").count();
    assert_eq!(tasks, 120);
    assert_eq!(got.spans.iter().filter(|(_, s)| s.name == "on_stop").count(), 40, "every user's on-stop span, ended as it returned");
    drop(got);
    t.stop().await;
}
