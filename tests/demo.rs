//! End-to-end tests of the OpenTelemetry demo: the otel-demo plugin run by the
//! real binary against the stand-in shop (on loopback), its flags, the live
//! flag-driven controls, the exported spans, `wasp demo`, `wasp shop` and the
//! container's environment contract.

mod common;

use common::demo::*;
use common::otlp::{receiver, text};
use common::*;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

fn demo_plugin() -> PathBuf {
    plugin("otel_demo")
}

#[tokio::test(flavor = "multi_thread")]
async fn task_mix_and_requests_follow_the_table() {
    check_traffic_follows_the_table(&demo_plugin(), 20, 3).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_flood_flag_over_ofrep_and_a_missing_flag_service() {
    let dir = tempfile::tempdir().unwrap();
    let flags = dir.path().join("flags.json");
    flag_file(&flags, &[("loadGeneratorFloodHomepage", "on")], &[("loadGeneratorFloodHomepage", "on", 3)]);
    let s = shop(Some(&flags)).await;
    let host = format!("http://{}", s.shop);
    let args = ["-H", host.as_str(), "-u", "5", "-r", "100", "-t", "2s", "--wait", "5ms", "--seed", "3", "--stop-timeout", "10s"];

    // flagd's contract: FLAGD_HOST + FLAGD_OFREP_PORT.
    let port = s.ofrep.port().to_string();
    let f = run_env(&demo_plugin(), &args, &[("FLAGD_HOST", "127.0.0.1"), ("FLAGD_OFREP_PORT", &port)]).await;
    assert_eq!(f.code, 0, "{}", f.stderr);
    let (flood, index) = (runs(&f.json, "flood_home"), runs(&f.json, "index"));
    assert!(flood > 0);
    assert_eq!(reported_as(&f.json, "GET", "/"), 5 + index + 3 * flood, "each flood is 3 x GET /");
    assert_eq!(route(&shop_stats(&s).await, "GET /"), 5 + index + 3 * flood);

    // The flag service is gone: defaults, one warning, no failed task.
    let gone = free_port().to_string();
    let f = run_env(&demo_plugin(), &args, &[("FLAGD_HOST", "127.0.0.1"), ("FLAGD_OFREP_PORT", &gone)]).await;
    s.stop();
    assert_eq!(f.code, 0, "{}", f.stderr);
    let (flood, index) = (runs(&f.json, "flood_home"), runs(&f.json, "index"));
    assert!(flood > 0);
    assert_eq!(task_runs(&f.json, "flood_home").1, 0);
    assert!(errors(&f.json).is_empty() && failures(&f.json).is_empty(), "{:?}", errors(&f.json));
    assert_eq!(reported_as(&f.json, "GET", "/"), 5 + index, "no flood without the flag");
    let warnings = f.stderr.lines().filter(|l| l.contains("WARN") && l.contains("loadGeneratorFloodHomepage")).count();
    assert_eq!(warnings, 1, "one warning for the flag:\n{}", f.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn users_and_traffic_follow_the_flags_live() {
    let dir = tempfile::tempdir().unwrap();
    let flags = dir.path().join("flags.json");
    flag_file(&flags, &[("loadGeneratorVUs", "5"), ("loadGeneratorTraffic", "on")], &[]);
    let s = shop(None).await;
    let web = free_port();
    let json_out = dir.path().join("out.json");
    let child = wasp()
        .arg("run")
        .arg(demo_plugin())
        .args(["-H", &format!("http://{}", s.shop), "-u", "5", "-r", "50", "-t", "40s", "--wait", "20ms..60ms", "--stop-timeout", "5s"])
        .args(["--flags-file", flags.to_str().unwrap(), "--users-flag", "loadGeneratorVUs", "--pause-flag", "loadGeneratorTraffic"])
        .args(["--flag-poll-interval", "1s", "--web-port", &web.to_string(), "--only-summary", "--json", json_out.to_str().unwrap()])
        // A long run's logs go to a file: nobody reads the pipe until the end.
        .stderr(std::fs::File::create(dir.path().join("stderr")).unwrap())
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();

    let users = |n: u64| async move { web_json(web).await.filter(|j| j["user_count"] == n).map(|_| ()) };
    eventually("5 users", Duration::from_secs(15), || users(5)).await;
    flag_file(&flags, &[("loadGeneratorVUs", "25")], &[]);
    eventually("25 users", Duration::from_secs(10), || users(25)).await;
    // Every one of them shops under its own session.
    eventually("25 sessions at the shop", Duration::from_secs(10), || async {
        (shop_stats(&s).await["sessions"].as_array().unwrap().len() == 25).then_some(())
    })
    .await;

    // Traffic 0: requests stop within a poll interval (1 s; 2.5 s allowed for
    // the read and tasks in flight), and stay stopped.
    flag_file(&flags, &[("loadGeneratorTraffic", "off")], &[]);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(web_json(web).await.unwrap()["state"], "paused");
    let total = |st: Value| st["routes"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum::<u64>();
    let paused_at = total(shop_stats(&s).await);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(total(shop_stats(&s).await), paused_at, "requests went on while paused");
    // Traffic 1: they resume.
    flag_file(&flags, &[("loadGeneratorTraffic", "on")], &[]);
    eventually("traffic to resume", Duration::from_secs(5), || async { (total(shop_stats(&s).await) > paused_at + 25).then_some(()) }).await;

    // Stop by SIGINT: the run ends normally, nothing was restarted.
    nix_kill(pid, "INT");
    let f = finish(child, Some(&json_out)).await;
    s.stop();
    assert_eq!(f.code, 0, "{}", f.stderr);
    assert_eq!(f.json["peak_users"], 25);
    assert!(errors(&f.json).is_empty(), "{:?}", errors(&f.json));
    let sessions = f.json["timeline"].as_array().unwrap().iter().map(|s| s["users"].as_u64().unwrap()).collect::<Vec<_>>();
    assert!(sessions.contains(&5) && sessions.contains(&25), "users over time: {sessions:?}");
}

fn nix_kill(pid: u32, sig: &str) {
    let status = std::process::Command::new("kill").arg(format!("-{sig}")).arg(pid.to_string()).status().unwrap();
    assert!(status.success());
}

/// The otel-demo plugin for 2 s against the shop, 5 users, the flood flag at
/// `flood`; what a real OTLP receiver got.
async fn shopper_run(flood: i64) -> (Finished, common::otlp::Receiver) {
    shopper_run_of(&demo_plugin(), flood).await
}

async fn shopper_run_of(plugin: &std::path::Path, flood: i64) -> (Finished, common::otlp::Receiver) {
    let dir = tempfile::tempdir().unwrap();
    let flags = dir.path().join("flags.json");
    flag_file(&flags, &[("loadGeneratorFloodHomepage", "on")], &[("loadGeneratorFloodHomepage", "on", flood)]);
    let s = shop(None).await;
    let rx = receiver(false).await;
    let endpoint = rx.grpc_url();
    let f = run_env(
        plugin,
        &[
            "-H",
            &format!("http://{}", s.shop),
            "-u",
            "5",
            "-r",
            "100",
            "-t",
            "2s",
            "--wait",
            "10ms",
            "--seed",
            "11",
            "--stop-timeout",
            "10s",
            "--flags-file",
            flags.to_str().unwrap(),
        ],
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint), ("OTEL_BSP_SCHEDULE_DELAY", "200"), ("OTEL_SERVICE_NAME", "load-generator")],
    )
    .await;
    s.stop();
    assert_eq!(f.code, 0, "{}", f.stderr);
    (f, rx)
}

#[tokio::test(flavor = "multi_thread")]
async fn spans_and_logs_of_the_shopper_are_exported() {
    check_spans_and_logs(&demo_plugin()).await;
}

/// The 0.2 shopper (users sharing instances): the same traffic, spans and logs.
#[tokio::test(flavor = "multi_thread")]
async fn the_0_2_shopper_makes_the_same_traffic_spans_and_logs() {
    let shared = plugin("otel_demo_async");
    check_traffic_follows_the_table(&shared, 20, 3).await;
    check_spans_and_logs(&shared).await;
}

async fn check_spans_and_logs(plugin: &std::path::Path) {
    let (f, rx) = shopper_run_of(plugin, 2).await;
    let got = rx.store.lock().unwrap();
    // The SDK's default on-stop does nothing, and exports no span for it.
    assert!(got.spans.iter().all(|(_, s)| s.name != "on_stop"), "an on_stop span was exported");
    let by_id: HashMap<Vec<u8>, &opentelemetry_proto::tonic::trace::v1::Span> = got.spans.iter().map(|(_, s)| (s.span_id.clone(), s)).collect();
    let named = |n: &str| got.spans.iter().map(|(_, s)| s).filter(|s| s.name == n).collect::<Vec<_>>();
    let parent = |s: &opentelemetry_proto::tonic::trace::v1::Span| by_id.get(&s.parent_span_id).copied();
    assert!(got.spans.iter().all(|(res, _)| res.get("service.name").map(String::as_str) == Some("load-generator")));

    // The table's attributes on INTERNAL user_* spans.
    let expect: [(&str, &[&str]); 8] = [
        ("user_browse_product", &["product.id"]),
        ("user_get_recommendations", &["product.id"]),
        ("user_get_ads", &["category"]),
        ("user_view_cart", &[]),
        ("user_add_to_cart", &["product.id", "user.id", "quantity"]),
        ("user_checkout_single", &["user.id"]),
        ("user_checkout_multi", &["user.id", "item.count"]),
        ("user_flood_home", &["flood.count"]),
    ];
    for (name, attrs) in expect {
        let spans = named(name);
        assert!(!spans.is_empty(), "no {name} span");
        for sp in spans {
            assert_eq!(sp.kind, SpanKind::Internal as i32, "{name}");
            let a = text(&sp.attributes);
            for k in attrs {
                assert!(a.contains_key(*k), "{name} lacks {k}: {a:?}");
            }
            if name == "user_flood_home" {
                assert_eq!(a["flood.count"], "2");
            }
        }
    }
    // Nesting: user_index inside user_session_start; add_to_cart inside checkouts.
    let starts = named("user_session_start");
    assert_eq!(starts.len(), 5, "one session start per user");
    for st in &starts {
        assert!(named("user_index").iter().any(|i| i.parent_span_id == st.span_id), "no user_index under a session start");
    }
    let nested_adds = named("user_add_to_cart").into_iter().filter_map(|a| parent(a)).filter(|p| p.name.starts_with("user_checkout")).count() as u64;
    assert!(nested_adds >= runs(&f.json, "checkout") + 2 * runs(&f.json, "checkout_multi"));
    // Every request is a CLIENT span directly under a user_* span.
    let clients: Vec<_> = got.spans.iter().map(|(_, s)| s).filter(|s| s.kind == SpanKind::Client as i32).collect();
    assert_eq!(clients.len() as u64, f.json["total"]["count"].as_u64().unwrap());
    for c in &clients {
        let p = parent(c).unwrap_or_else(|| panic!("CLIENT span {} has no exported parent", c.name));
        assert!(p.name.starts_with("user_"), "CLIENT span under {}", p.name);
        assert_eq!(p.trace_id, c.trace_id);
    }
    // Flag evaluations are spans with the flag's key.
    let evals = named("feature_flag.evaluate");
    assert!(!evals.is_empty());
    assert!(evals.iter().all(|e| text(&e.attributes).get("feature_flag.key").map(String::as_str) == Some("loadGeneratorFloodHomepage")));
    // One INFO log per task run (and on-start's), tied to a user_* span.
    let span_ids: HashSet<&Vec<u8>> = got.spans.iter().map(|(_, s)| &s.span_id).collect();
    let guest_logs: Vec<_> = got.logs.iter().map(|(_, l)| l).filter(|l| text(&l.attributes).contains_key("user")).collect();
    assert!(guest_logs.iter().all(|l| l.severity_text.eq_ignore_ascii_case("info")));
    assert!(guest_logs.iter().all(|l| span_ids.contains(&l.span_id)), "every log is tied to an exported span");
    // Nested add_to_cart runs log too: at least one per task run and session start.
    let task_total: u64 = TASKS.iter().map(|(t, _)| runs(&f.json, t)).sum();
    assert!(guest_logs.len() as u64 >= task_total + 5, "{} logs for {task_total} task runs", guest_logs.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flood_of_zero_exports_no_span_as_the_demo_does() {
    let (f, rx) = shopper_run(0).await;
    let got = rx.store.lock().unwrap();
    assert!(runs(&f.json, "flood_home") > 0, "the flood task ran");
    let names: HashSet<&str> = got.spans.iter().map(|(_, s)| s.name.as_str()).collect();
    for absent in ["flood_home", "user_flood_home", "on_stop"] {
        assert!(!names.contains(absent), "{absent} exported: {names:?}");
    }
    // The rest is there: the flag was evaluated (its span), and the other tasks' spans.
    for present in ["feature_flag.evaluate", "user_index", "user_session_start"] {
        assert!(names.contains(present), "no {present} span: {names:?}");
    }
    // Discarded spans are neither exported nor counted as dropped.
    assert_eq!(f.json["telemetry"]["spans_dropped"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn wasp_demo_runs_the_shop_and_names_every_route() {
    demo_plugin();
    let child = wasp().args(["demo", "-t", "10s", "--seed", "5", "--stop-timeout", "5s"]).spawn().unwrap();
    let f = finish(child, None).await;
    assert_eq!(f.code, 0, "{}", f.stderr);
    for (method, name) in [
        ("GET", "/"),
        ("GET", "/api/products/{id}"),
        ("GET", "/api/recommendations"),
        ("GET", "/api/data/"),
        ("GET", "/api/cart"),
        ("POST", "/api/cart"),
        ("POST", "/api/checkout"),
    ] {
        let line = f.stdout.lines().find(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.len() > 3 && w[0] == method && w[1] == name
        });
        let line = line.unwrap_or_else(|| panic!("the summary lacks {method} {name}:\n{}", f.stdout));
        let fails: u64 = line.split_whitespace().nth(3).unwrap().split('(').next().unwrap().parse().unwrap();
        assert_eq!(fails, 0, "{line}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn wasp_shop_serves_the_routes_and_validates_bodies() {
    let mut child = wasp().args(["shop", "--port", "0", "--ofrep-port", "0"]).spawn().unwrap();
    let pid = child.id().unwrap();
    let mut out = tokio::io::BufReader::new(child.stdout.take().unwrap());
    let (mut shop, mut ofrep) = (String::new(), String::new());
    use tokio::io::AsyncBufReadExt;
    tokio::time::timeout(Duration::from_secs(10), async {
        out.read_line(&mut shop).await.unwrap();
        out.read_line(&mut ofrep).await.unwrap();
    })
    .await
    .expect("the shop prints its addresses");
    let shop = shop.trim().strip_prefix("shop: ").expect("shop: URL").to_string();
    let ofrep = ofrep.trim().strip_prefix("ofrep: ").expect("ofrep: URL").to_string();
    let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    let home = c.get(&shop).send().await.unwrap();
    assert_eq!(home.status(), 200);
    assert!(home.text().await.unwrap().contains("<html"));
    let p: Value = c.get(format!("{shop}/api/products/OLJCESPC7Z")).send().await.unwrap().json().await.unwrap();
    assert_eq!(p["id"], "OLJCESPC7Z");
    assert!(p["priceUsd"]["units"].as_u64().is_some());
    assert_eq!(c.get(format!("{shop}/api/products/NOPE")).send().await.unwrap().status(), 404);
    let recs: Vec<Value> = c.get(format!("{shop}/api/recommendations?productIds=OLJCESPC7Z")).send().await.unwrap().json().await.unwrap();
    assert!(!recs.is_empty() && recs.len() <= 4 && recs.iter().all(|r| r["id"] != "OLJCESPC7Z"));
    let redirect = c.get(format!("{shop}/api/data/?contextKeys=telescopes")).send().await.unwrap();
    assert_eq!(redirect.status(), 308);
    assert_eq!(redirect.headers()["location"], "/api/data?contextKeys=telescopes");
    let ads: Vec<Value> = c.get(format!("{shop}/api/data?contextKeys=telescopes")).send().await.unwrap().json().await.unwrap();
    assert!(ads[0]["redirectUrl"].as_str().unwrap().starts_with("/product/"));

    // A cart and its checkout.
    let add = json!({"item": {"productId": "66VCHSJNUP", "quantity": 3}, "userId": "u1"});
    let cart: Value = c.post(format!("{shop}/api/cart")).json(&add).send().await.unwrap().json().await.unwrap();
    assert_eq!(cart["items"][0]["quantity"], 3);
    let cart: Value = c.get(format!("{shop}/api/cart?sessionId=u1")).send().await.unwrap().json().await.unwrap();
    assert_eq!(cart["items"].as_array().unwrap().len(), 1);
    let mut person: Value = serde_json::from_str::<Vec<Value>>(include_str!("../plugins/otel-demo/data/people.json")).unwrap()[0].clone();
    person["userId"] = json!("u1");
    let order: Value = c.post(format!("{shop}/api/checkout")).json(&person).send().await.unwrap().json().await.unwrap();
    assert!(order["orderId"].as_str().is_some_and(|o| !o.is_empty()));
    assert_eq!(order["items"][0]["item"]["productId"], "66VCHSJNUP");
    let cart: Value = c.get(format!("{shop}/api/cart?sessionId=u1")).send().await.unwrap().json().await.unwrap();
    assert!(cart["items"].as_array().unwrap().is_empty(), "checkout empties the cart");

    // Bad bodies are 400s.
    for (path, body) in
        [("/api/cart", "{not json"), ("/api/cart", r#"{"item":{"productId":"NOPE","quantity":1},"userId":"u"}"#), ("/api/checkout", r#"{"userId":"u"}"#)]
    {
        let r = c.post(format!("{shop}{path}")).header("content-type", "application/json").body(body).send().await.unwrap();
        assert_eq!(r.status(), 400, "{path} {body}");
    }

    // The OFREP service answers with the demo's flags.
    let flag: Value =
        c.post(format!("{ofrep}/ofrep/v1/evaluate/flags/loadGeneratorVUs")).json(&json!({"context": {}})).send().await.unwrap().json().await.unwrap();
    assert_eq!(flag["value"], 5);
    assert_eq!(flag["variant"], "5");
    let missing = c.post(format!("{ofrep}/ofrep/v1/evaluate/flags/noSuchFlag")).json(&json!({"context": {}})).send().await.unwrap();
    assert_eq!(missing.status(), 404);

    nix_kill(pid, "TERM");
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait()).await.unwrap().unwrap();
    assert_eq!(status.code(), Some(0));
}

/// `ENV` pairs and the `ENTRYPOINT` of the Dockerfile's `runtime` stage (which
/// both images are built on).
fn dockerfile() -> (Vec<(String, String)>, Vec<String>) {
    let text = std::fs::read_to_string(workspace().join("Dockerfile")).unwrap();
    let joined = text.replace("\\\n", " ");
    let stage = joined.split("\nFROM ").find(|s| s.lines().next().is_some_and(|l| l.ends_with(" AS runtime"))).expect("a runtime stage");
    let mut env = vec![];
    let mut entry = vec![];
    for line in stage.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("ENV ") {
            for pair in rest.split_whitespace() {
                let (k, v) = pair.split_once('=').expect("ENV k=v");
                env.push((k.to_string(), v.to_string()));
            }
        } else if let Some(rest) = line.strip_prefix("ENTRYPOINT ") {
            entry = serde_json::from_str(rest).expect("ENTRYPOINT is a JSON array");
        }
    }
    (env, entry)
}

/// The container's command: the Dockerfile's `ENV` and `ENTRYPOINT`, the
/// demo's docker-compose values, and `LOCUST_AUTOSTART` as given.
fn container_command(s: &wasp_shop::Running, otlp: &str, web: u16, autostart: &str) -> (tokio::process::Command, Vec<String>) {
    let (image_env, entry) = dockerfile();
    assert_eq!(entry.first().map(String::as_str), Some("wasp"));
    let mut cmd = wasp();
    // The image's cache directory is baked at build time; here the tests' cache serves.
    for (k, v) in image_env.iter().filter(|(k, _)| k != "WASP_CACHE_DIR") {
        cmd.env(k, v);
    }
    // The image's plugin path, as built here.
    cmd.env("WASP_PLUGIN", demo_plugin());
    let (host, web_s, ofrep_port) = (format!("http://{}", s.shop), web.to_string(), s.ofrep.port().to_string());
    // The demo's docker-compose values.
    for (k, v) in [
        ("LOCUST_USERS", "5"),
        ("LOCUST_SPAWN_RATE", "5"),
        ("LOCUST_HOST", host.as_str()),
        ("LOCUST_HEADLESS", "false"),
        ("LOCUST_AUTOSTART", autostart),
        ("LOCUST_WEB_PORT", web_s.as_str()),
        ("LOCUST_BROWSER_TRAFFIC_ENABLED", "false"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", otlp),
        ("OTEL_RESOURCE_ATTRIBUTES", "service.namespace=opentelemetry-demo,service.version=2.0"),
        ("OTEL_BSP_SCHEDULE_DELAY", "200"),
        ("FLAGD_HOST", "127.0.0.1"),
        ("FLAGD_OFREP_PORT", ofrep_port.as_str()),
    ] {
        cmd.env(k, v);
    }
    (cmd, entry)
}

/// The container's process, started; its logs go to a file in the returned
/// folder (nobody reads a pipe while the run goes on).
fn container(s: &wasp_shop::Running, otlp: &str, web: u16, autostart: &str) -> (tokio::process::Child, tempfile::TempDir) {
    let (mut cmd, entry) = container_command(s, otlp, web, autostart);
    let dir = tempfile::tempdir().unwrap();
    let child = cmd.args(&entry[1..]).stderr(std::fs::File::create(dir.path().join("stderr")).unwrap()).spawn().unwrap();
    (child, dir)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_container_entrypoint_honours_the_demos_environment() {
    let s = shop(None).await;
    let rx = receiver(false).await;
    let web = free_port();
    let (child, dir) = container(&s, &rx.grpc_url(), web, "true");
    let log = dir.path().join("stderr");
    let pid = child.id().unwrap();

    // The stats page and its JSON answer while the run goes on (relative links).
    let j = eventually("5 users on the web page", Duration::from_secs(20), || async {
        web_json(web).await.filter(|j| j["user_count"] == 5 && j["total"]["num_requests"].as_u64() > Some(5))
    })
    .await;
    assert_eq!(j["state"], "running");
    // The UI's page, its script and API links are relative: behind the demo's
    // proxy at /loadgen/ they stay under it.
    let page = reqwest::get(format!("http://127.0.0.1:{web}/")).await.unwrap().text().await.unwrap();
    assert!(page.contains("src=\"app.js\"") && page.contains("href=\"app.css\""), "{page}");
    let script = reqwest::get(format!("http://127.0.0.1:{web}/app.js")).await.unwrap().text().await.unwrap();
    assert!(script.contains("\"api/state\"") && script.contains("\"api/stats\""));
    for text in [&page, &script] {
        assert!(!text.contains("href=\"/") && !text.contains("src=\"/") && !text.contains("\"/api/"), "links must be relative");
    }
    let stats: Value = reqwest::get(format!("http://127.0.0.1:{web}/api/stats")).await.unwrap().json().await.unwrap();
    assert!(stats["rows"].as_array().unwrap().iter().any(|r| r["name"] == "/" && r["num_requests"].as_u64() > Some(0)), "{stats}");

    nix_kill(pid, "TERM");
    let f = finish(child, None).await;
    s.stop();
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert_eq!(f.code, 0, "{stderr}");
    assert!(f.stdout.contains("Aggregated"), "a summary at the end");
    assert!(!stderr.contains("not supported"), "the demo's own variables are all understood:\n{stderr}");
    let got = rx.store.lock().unwrap();
    let (res, _) = got.spans.first().expect("spans exported");
    assert_eq!(res["service.name"], "load-generator");
    assert_eq!(res["service.namespace"], "opentelemetry-demo");
    assert!(got.spans.iter().any(|(_, s)| s.name == "feature_flag.evaluate" && text(&s.attributes)["feature_flag.key"] == "loadGeneratorVUs"));
}

/// `LOCUST_AUTOSTART=false`: the container serves the UI and waits for its
/// form; a start through the API runs the demo's users.
#[tokio::test(flavor = "multi_thread")]
async fn the_container_without_autostart_waits_for_the_form() {
    let s = shop(None).await;
    let rx = receiver(false).await;
    let web = free_port();
    let (child, dir) = container(&s, &rx.grpc_url(), web, "false");
    let log = dir.path().join("stderr");
    let pid = child.id().unwrap();
    let api = |path: &str| format!("http://127.0.0.1:{web}/{path}");
    let st: Value = eventually("the UI to answer", Duration::from_secs(20), || async { reqwest::get(api("api/state")).await.ok()?.json().await.ok() }).await;
    assert_eq!(st["phase"], "ready", "{st}");
    assert_eq!(st["defaults"]["users"], 5, "the form holds LOCUST_USERS");
    let total = |st: Value| st["routes"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum::<u64>();
    assert_eq!(total(shop_stats(&s).await), 0, "nothing runs before the start");
    let started = reqwest::Client::new().post(api("api/start")).json(&serde_json::json!({})).send().await.unwrap();
    assert_eq!(started.status(), 202);
    // The shoppers think 1–10 s between tasks: about 2 requests a second from 5 users.
    eventually("5 users shopping", Duration::from_secs(60), || async {
        let j = web_json(web).await?;
        (j["user_count"] == 5 && total(shop_stats(&s).await) > 20).then_some(())
    })
    .await;
    nix_kill(pid, "TERM");
    let f = finish(child, None).await;
    s.stop();
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert_eq!(f.code, 0, "{stderr}");
    assert!(f.stdout.contains("Aggregated"), "a summary at the end");
    assert!(!stderr.contains("LOCUST_AUTOSTART"), "understood, not warned about:\n{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn unsupported_locust_settings_warn_and_the_run_goes_on() {
    let s = shop(None).await;
    let host = format!("http://{}", s.shop);
    let f = run_env(
        &demo_plugin(),
        &["-t", "1s", "--wait", "50ms"],
        &[
            ("LOCUST_HOST", &host),
            ("LOCUST_USERS", "2"),
            ("LOCUST_SPAWN_RATE", "10"),
            ("LOCUST_AUTOSTART", "false"),
            ("LOCUST_BROWSER_TRAFFIC_ENABLED", "true"),
            ("LOCUST_MASTER_NODE_HOST", "x"),
        ],
    )
    .await;
    s.stop();
    assert_eq!(f.code, 0, "{}", f.stderr);
    assert_eq!(f.json["peak_users"], 2);
    for w in ["LOCUST_BROWSER_TRAFFIC_ENABLED", "LOCUST_MASTER_NODE_HOST"] {
        assert_eq!(f.stderr.lines().filter(|l| l.contains("WARN") && l.contains(w)).count(), 1, "{w}:\n{}", f.stderr);
    }
    // Headless, LOCUST_AUTOSTART has nothing to say (the UI reads it).
    assert!(!f.stderr.contains("LOCUST_AUTOSTART"), "{}", f.stderr);
}

/// The image itself: built from the Dockerfile (`--target prebuilt`, the
/// binaries under test, a debootstrapped base, no CA certificates) and run by
/// podman with the demo's environment, once with LOCUST_AUTOSTART=true and
/// once without (the form starts it, through the API).
#[tokio::test(flavor = "multi_thread")]
async fn the_image_builds_and_serves_the_demo_in_both_autostart_modes() {
    use common::podman::{Cleanup, Podman, BASE};
    let work = tempfile::tempdir().unwrap();
    let podman = Podman::new(work.path());
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace().join("target"));
    podman.base(&target);

    // The build context: the Dockerfile and dist/ (a stripped copy of the binary under test).
    let ctx = work.path().join("ctx");
    std::fs::create_dir_all(ctx.join("dist")).unwrap();
    std::fs::copy(workspace().join("Dockerfile"), ctx.join("Dockerfile")).unwrap();
    let strip = std::process::Command::new("strip").arg("-o").arg(ctx.join("dist/wasp")).arg(env!("CARGO_BIN_EXE_wasp")).status().unwrap();
    assert!(strip.success());
    std::fs::copy(demo_plugin(), ctx.join("dist/otel-demo.wasm")).unwrap();
    let image = format!("localhost/wasp-test:{}", std::process::id());
    let mut cleanup = Cleanup { podman: &podman, containers: vec![], image: image.clone() };
    let ctx_s = ctx.to_str().unwrap();
    let runtime = format!("RUNTIME={BASE}");
    podman.ok(&["build", "-q", "--target", "prebuilt", "--build-arg", &runtime, "--build-arg", "CA_CERTIFICATES=0", "-t", &image, ctx_s]);
    let over = podman.size(&image).saturating_sub(podman.size(BASE));
    println!("image size: {:.1} MB over the base (target: at most 40 MB)", over as f64 / 1e6);
    assert!(over < 80_000_000, "the image adds {over} bytes: an unstripped binary?");

    for autostart in ["true", "false"] {
        let s = shop(None).await;
        let rx = receiver(false).await;
        let web = free_port();
        let name = format!("wasp-test-{}-{autostart}", std::process::id());
        cleanup.containers.push(name.clone());
        let env = [
            ("LOCUST_USERS", "5".to_string()),
            ("LOCUST_SPAWN_RATE", "5".into()),
            ("LOCUST_HOST", format!("http://{}", s.shop)),
            ("LOCUST_HEADLESS", "false".into()),
            ("LOCUST_AUTOSTART", autostart.into()),
            ("LOCUST_WEB_PORT", web.to_string()),
            ("LOCUST_WEB_HOST", "127.0.0.1".into()),
            ("LOCUST_BROWSER_TRAFFIC_ENABLED", "false".into()),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", rx.grpc_url()),
            ("OTEL_BSP_SCHEDULE_DELAY", "200".into()),
            ("FLAGD_HOST", "127.0.0.1".into()),
            ("FLAGD_OFREP_PORT", s.ofrep.port().to_string()),
        ];
        let mut args: Vec<String> = ["run", "-d", "--network", "host", "--name", &name].iter().map(|a| a.to_string()).collect();
        for (k, v) in &env {
            args.push("-e".into());
            args.push(format!("{k}={v}"));
        }
        args.push(image.clone());
        podman.ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let api = |path: &str| format!("http://127.0.0.1:{web}/{path}");
        let total = |st: Value| st["routes"].as_object().map(|r| r.values().map(|v| v.as_u64().unwrap()).sum::<u64>()).unwrap_or(0);
        if autostart == "false" {
            let st: Value =
                eventually("the UI to answer", Duration::from_secs(30), || async { reqwest::get(api("api/state")).await.ok()?.json().await.ok() }).await;
            assert_eq!(st["phase"], "ready", "{st}");
            assert_eq!(total(shop_stats(&s).await), 0, "nothing runs before the start");
            let started = reqwest::Client::new().post(api("api/start")).json(&json!({})).send().await.unwrap();
            assert_eq!(started.status(), 202);
        }
        // What is checked below, waited for: the shoppers think 1–10 s between tasks.
        let routes = ["GET /", "GET /api/products/{id}", "POST /api/cart"];
        eventually("the demo's traffic at the shop", Duration::from_secs(90), || async {
            let stats = shop_stats(&s).await;
            routes.iter().all(|r| route(&stats, r) > 0).then_some(())
        })
        .await;
        podman.ok(&["stop", "-t", "20", &name]);
        let code = podman.ok(&["inspect", "--format", "{{.State.ExitCode}}", &name]);
        let logs = podman.output(&["logs", &name]);
        let (stdout, stderr) = (String::from_utf8_lossy(&logs.stdout).to_string(), String::from_utf8_lossy(&logs.stderr).to_string());
        assert_eq!(code, "0", "{stderr}");
        assert!(stdout.contains("Aggregated"), "a summary at the end:\n{stdout}");
        // The plugin was compiled into the image: no start recompiles it.
        assert!(stderr.contains("compiled-plugin cache: hit") && !stderr.contains("cache: miss"), "{stderr}");
        // No CA store in this image: a warning, and the plain-http run goes on.
        assert!(stderr.contains("Mozilla roots built into wasp"), "{stderr}");
        let stats = shop_stats(&s).await;
        s.stop();
        assert!(total(stats.clone()) > 0 && routes.iter().all(|r| route(&stats, r) > 0), "{stats}");
        assert_eq!(stats["without_synthetic_request"], 0, "{stats}");
        assert_eq!(stats["without_traceparent"], 0, "{stats}");
        let got = rx.store.lock().unwrap();
        let (res, _) = got.spans.first().expect("spans exported from the container");
        assert_eq!(res["service.name"], "load-generator");
    }
}
