//! End-to-end tests of the control plane: the real `wasp run --web` serving
//! its UI and API on a loopback port, the otel-demo plugin's shoppers against
//! the stand-in shop. A run is started, watched, resized, paused, resumed,
//! reset and stopped through the API, as the page does; the API refuses
//! what it must; the page works in a real browser behind a `/loadgen/` proxy.

mod common;

use common::demo::*;
use common::*;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

/// A `wasp run --web` session on a free loopback port.
struct Ui {
    port: u16,
    child: tokio::process::Child,
    http: reqwest::Client,
}

impl Ui {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
    }

    async fn get(&self, path: &str) -> Value {
        let r = self.http.get(self.url(path)).send().await.unwrap();
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.unwrap()
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self.http.post(self.url(path)).json(&body).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn state(&self) -> Value {
        self.get("api/state").await
    }

    /// The run's total requests as the API reports them.
    async fn requests(&self) -> u64 {
        let s = self.get("api/stats").await;
        s["total"]["num_requests"].as_u64().unwrap()
    }

    /// Waits until `api/state` answers (the plugin is loaded).
    async fn ready(&self) -> Value {
        eventually("the API to answer", Duration::from_secs(30), || async {
            let r = self.http.get(self.url("api/state")).send().await.ok()?;
            r.json::<Value>().await.ok()
        })
        .await
    }
}

async fn start_ui(plugin: &Path, args: &[&str], envs: &[(&str, &str)], dir: &Path) -> Ui {
    let port = free_port();
    let child = wasp()
        .envs(envs.iter().copied())
        .arg("run")
        .arg(plugin)
        .args(["--web-port", &port.to_string()])
        .args(args)
        // Logs to a file: nobody reads the pipe while the session goes on.
        .stderr(std::fs::File::create(dir.join("stderr")).unwrap())
        .spawn()
        .unwrap();
    Ui { port, child, http: reqwest::Client::new() }
}

fn shop_total(stats: &Value) -> u64 {
    stats["routes"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum()
}

fn nix_kill(pid: u32, sig: &str) {
    let status = std::process::Command::new("kill").arg(format!("-{sig}")).arg(pid.to_string()).status().unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_is_started_steered_and_stopped_from_the_api() {
    let s = shop(None).await;
    let dir = tempfile::tempdir().unwrap();
    let (json_out, html_out) = (dir.path().join("out.json"), dir.path().join("out.html"));
    let host = format!("http://{}", s.shop);
    let ofrep = s.ofrep.port().to_string();
    let ui = start_ui(
        &plugin("otel_demo"),
        &["-H", &host, "--wait", "20ms..60ms", "--stop-timeout", "5s", "--json", json_out.to_str().unwrap(), "--html", html_out.to_str().unwrap()],
        &[("FLAGD_HOST", "127.0.0.1"), ("FLAGD_OFREP_PORT", &ofrep)],
        dir.path(),
    )
    .await;

    // No -u and no --autostart: the session waits for the form.
    let st = ui.ready().await;
    assert_eq!(st["phase"], "ready", "{st}");
    assert_eq!(st["has_run"], false, "no stats to ask for before a start: {st}");
    assert_eq!(st["defaults"]["host"], format!("{host}/"));
    assert_eq!(shop_total(&shop_stats(&s).await), 0, "nothing is sent before a start");
    assert!(!json_out.exists());

    let (code, body) = ui.post("api/start", json!({"users": 5, "spawn_rate": 50})).await;
    assert_eq!(code, 202, "{body}");
    eventually("5 users running", Duration::from_secs(20), || async {
        let st = ui.state().await;
        (st["phase"] == "running" && st["users"] == 5 && st["has_run"] == true).then_some(())
    })
    .await;
    eventually("requests in the stats", Duration::from_secs(10), || async { (ui.requests().await > 20).then_some(()) }).await;
    let (code, _) = ui.post("api/start", json!({})).await;
    assert_eq!(code, 409, "one run at a time");

    // Resized to 25 users: 25 shoppers, each under its own session.
    let (code, body) = ui.post("api/resize", json!({"users": 25, "spawn_rate": 100})).await;
    assert_eq!(code, 200, "{body}");
    eventually("25 sessions at the shop", Duration::from_secs(15), || async {
        (shop_stats(&s).await["sessions"].as_array().unwrap().len() == 25).then_some(())
    })
    .await;
    assert_eq!(ui.state().await["users"], 25);
    // Past the instance pool (1,000 in UI mode), absurd, or the wrong kind: refused, nothing changes.
    for (body, says) in [
        (json!({"users": 5000}), "--max-users"),
        (json!({"users": -3}), "users"),
        (json!({"users": 30, "spawn_rate": 1e300}), "spawn_rate"),
        (json!({"users": 30, "ramp_time": "forever"}), "forever"),
        (json!({"rate": 50}), "arrival-rate"),
        (json!({}), "users or rate"),
    ] {
        let (code, err) = ui.post("api/resize", body.clone()).await;
        assert_eq!(code, 400, "{body}: {err}");
        assert!(err["detail"].as_str().unwrap().contains(says), "{body}: {err}");
    }
    assert_eq!(ui.state().await["target_users"], 25);

    // Paused: tasks in flight end, then nothing reaches the shop.
    let (code, _) = ui.post("api/pause", json!({})).await;
    assert_eq!(code, 200);
    assert_eq!(ui.state().await["paused"], true);
    let settled = eventually("the tasks in flight to end", Duration::from_secs(10), || async {
        let a = shop_total(&shop_stats(&s).await);
        tokio::time::sleep(Duration::from_millis(700)).await;
        let b = shop_total(&shop_stats(&s).await);
        (a == b).then_some(b)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(shop_total(&shop_stats(&s).await), settled, "requests went on while paused");
    let (code, _) = ui.post("api/resume", json!({})).await;
    assert_eq!(code, 200);
    eventually("traffic to resume", Duration::from_secs(10), || async { (shop_total(&shop_stats(&s).await) > settled + 25).then_some(()) }).await;

    // The live history has a point per second, with users.
    let h = ui.get("api/history").await;
    let points = h["points"].as_array().unwrap();
    assert!(points.len() >= 3, "{h}");
    assert!(points.iter().any(|p| p["users"] == 25), "{h}");
    let chart = ui.http.get(ui.url("api/chart/requests.svg")).send().await.unwrap();
    assert_eq!(chart.headers()["content-type"], "image/svg+xml");
    let svg = chart.text().await.unwrap();
    assert!(svg.contains("<svg") && svg.contains("<polyline"), "a chart with a series:\n{svg}");

    // Stopped: the run ends by itself, its files are written, the UI stays up.
    let (code, _) = ui.post("api/stop", json!({})).await;
    assert_eq!(code, 202);
    let st = eventually("the run to end", Duration::from_secs(20), || async {
        let st = ui.state().await;
        (st["phase"] == "stopped").then_some(st)
    })
    .await;
    assert_eq!(st["exit_code"], 0, "{st}");
    assert_eq!(st["stop_reason"], "api");
    // Every request is in the file (the shop also counts redirects wasp
    // follows: compare a route without them).
    let file: Value = serde_json::from_slice(&std::fs::read(&json_out).unwrap()).unwrap();
    assert_eq!(reported_as(&file, "GET", "/"), route(&shop_stats(&s).await, "GET /"));
    assert_eq!(file["total"]["interrupted"], 0, "the stop let tasks finish (--stop-timeout)");
    assert_eq!(file["peak_users"], 25);
    assert_eq!(file["stop_reason"], "api");
    let served = ui.get("api/report.json").await;
    assert_eq!(served["total"]["count"], file["total"]["count"], "the API's report is the file's");
    let html = std::fs::read_to_string(&html_out).unwrap();
    assert!(html.contains("<svg") && html.contains("Aggregated"));
    let events = st["events"].as_array().unwrap().iter().map(|e| e["what"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    for what in ["users → 25", "paused", "resumed", "stop"] {
        assert!(events.iter().any(|e| e.contains(what)), "{what} in the event log: {events:?}");
    }

    // A new run from the same session; reset zeroes its stats, the users go on.
    std::fs::remove_file(&json_out).unwrap();
    let (code, body) = ui.post("api/start", json!({"users": 3, "spawn_rate": 100})).await;
    assert_eq!(code, 202, "{body}");
    eventually("the second run", Duration::from_secs(20), || async {
        let st = ui.state().await;
        (st["phase"] == "running" && st["users"] == 3 && ui.requests().await > 30).then_some(())
    })
    .await;
    let before = shop_total(&shop_stats(&s).await);
    let (code, _) = ui.post("api/reset", json!({})).await;
    assert_eq!(code, 200);
    let counted = ui.requests().await;
    let after = shop_total(&shop_stats(&s).await);
    assert!(counted <= after - before + 3, "{counted} counted after a reset; {} were sent meanwhile", after - before);
    eventually("counting again", Duration::from_secs(10), || async { (ui.requests().await > counted + 10).then_some(()) }).await;

    // A signal stops the run (files written) and ends the session with its code.
    nix_kill(ui.child.id().unwrap(), "TERM");
    let f = finish(ui.child, Some(&json_out)).await;
    s.stop();
    let stderr = std::fs::read_to_string(dir.path().join("stderr")).unwrap();
    assert_eq!(f.code, 0, "{stderr}");
    assert_eq!(f.json["stop_reason"], "signal");
    assert_eq!(f.json["peak_users"], 3);
    assert!(f.json["total"]["count"].as_u64().unwrap() > counted, "the reset run's file counts from the reset");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_answers_bad_requests_with_json_errors() {
    let t = target().await;
    let dir = tempfile::tempdir().unwrap();
    let ui = start_ui(&plugin("quickstart"), &["-H", &t.url(), "--wait", "50ms"], &[], dir.path()).await;
    ui.ready().await;
    let c = &ui.http;
    let error = |r: reqwest::Response| async move {
        let status = r.status().as_u16();
        let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        let v: Value = r.json().await.expect("a JSON error");
        assert!(ct.starts_with("application/json") && v["error"].is_string() && v["detail"].is_string(), "{v}");
        (status, v["detail"].as_str().unwrap().to_string())
    };
    assert_eq!(error(c.get(ui.url("api/nothing-here")).send().await.unwrap()).await.0, 404);
    assert_eq!(error(c.put(ui.url("api/start")).json(&json!({})).send().await.unwrap()).await.0, 405);
    assert_eq!(error(c.post(ui.url("api/stop")).json(&json!({})).send().await.unwrap()).await.0, 409, "no run to stop");
    assert_eq!(error(c.post(ui.url("api/resize")).json(&json!({"users": 3})).send().await.unwrap()).await.0, 409);
    // A form from another site cannot post here: not JSON, or not this origin.
    let form = c.post(ui.url("api/start")).header("content-type", "application/x-www-form-urlencoded").body("users=5").send().await.unwrap();
    assert_eq!(error(form).await.0, 415);
    let text = c.post(ui.url("api/start")).header("content-type", "text/plain").body("{}").send().await.unwrap();
    assert_eq!(error(text).await.0, 415);
    let foreign = c.post(ui.url("api/start")).header("origin", "http://evil.example").json(&json!({})).send().await.unwrap();
    assert_eq!(error(foreign).await.0, 403);
    // A name that resolves to loopback is not this server's (DNS rebinding).
    let rebound = c.get(ui.url("api/state")).header("host", format!("evil.example:{}", ui.port)).send().await.unwrap();
    assert_eq!(error(rebound).await.0, 400);
    let ok = c.get(ui.url("api/state")).header("host", format!("localhost:{}", ui.port)).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    // Bad settings: one line saying which.
    for (body, says) in [
        (json!({"users": 0}), "users"),
        (json!({"users": 5, "spawn_rate": -1}), "spawn_rate"),
        (json!({"run_time": "soon"}), "run_time"),
        (json!({"host": "http://192.0.2.1:9"}), "not allowed"),
        (json!({"host": "ftp://127.0.0.1"}), "http"),
        (json!({"surprise": 1}), "surprise"),
    ] {
        let (status, detail) = error(c.post(ui.url("api/start")).json(&body).send().await.unwrap()).await;
        assert_eq!(status, 400, "{body}: {detail}");
        assert!(detail.contains(says) && !detail.contains('\n'), "{body}: {detail}");
    }
    let broken = c.post(ui.url("api/start")).header("content-type", "application/json").body("{\"users\":").send().await.unwrap();
    assert_eq!(error(broken).await.0, 400);
    assert_eq!(t.total(), 0, "no refused start sent anything");
    // The page carries its own security policy.
    let page = c.get(ui.url("")).send().await.unwrap();
    assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    // `curl -X POST` with no body is `{}`; a run starts, with the command line's settings.
    let bare = c.post(ui.url("api/start")).send().await.unwrap();
    assert_eq!(bare.status(), 202);
    t.wait_for_requests(5, Duration::from_secs(20)).await;
    let bare = c.post(ui.url("api/stop")).send().await.unwrap();
    assert_eq!(bare.status(), 202);
    let pid = ui.child.id().unwrap();
    eventually("the run to end", Duration::from_secs(20), || async { (ui.state().await["phase"] == "stopped").then_some(()) }).await;
    nix_kill(pid, "INT");
    let f = finish(ui.child, None).await;
    assert_eq!(f.code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_guards_everything_and_read_only_changes_nothing() {
    let t = target().await;
    let dir = tempfile::tempdir().unwrap();
    let ui = start_ui(
        &plugin("quickstart"),
        &["-H", &t.url(), "-u", "2", "-r", "100", "--wait", "50ms", "--web-auth", "ops:s3cret:with:colons", "--web-read-only"],
        &[],
        dir.path(),
    )
    .await;
    let c = &ui.http;
    let denied = eventually("the UI to answer", Duration::from_secs(30), || async { c.get(ui.url("")).send().await.ok() }).await;
    assert_eq!(denied.status(), 401);
    assert!(denied.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    for path in ["api/state", "api/stats", "stats.json", "api/report.json", "app.js"] {
        assert_eq!(c.get(ui.url(path)).send().await.unwrap().status(), 401, "{path}");
        assert_eq!(c.get(ui.url(path)).basic_auth("ops", Some("wrong")).send().await.unwrap().status(), 401, "{path}");
    }
    // -u on the command line started the run; the right password reads it.
    t.wait_for_requests(5, Duration::from_secs(20)).await;
    let st: Value = c.get(ui.url("api/state")).basic_auth("ops", Some("s3cret:with:colons")).send().await.unwrap().json().await.unwrap();
    assert_eq!(st["read_only"], true);
    assert_eq!(st["phase"], "running");
    for (path, body) in [("api/stop", json!({})), ("api/resize", json!({"users": 9})), ("api/pause", json!({})), ("api/reset", json!({}))] {
        let r = c.post(ui.url(path)).basic_auth("ops", Some("s3cret:with:colons")).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 403, "{path} in read-only mode");
    }
    let st: Value = c.get(ui.url("api/state")).basic_auth("ops", Some("s3cret:with:colons")).send().await.unwrap().json().await.unwrap();
    assert_eq!((st["phase"].as_str(), st["users"].as_u64(), st["paused"].as_bool()), (Some("running"), Some(2), Some(false)));
    nix_kill(ui.child.id().unwrap(), "TERM");
    let f = finish(ui.child, None).await;
    assert_eq!(f.code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn autostart_and_autoquit_run_once_and_leave() {
    let t = target().await;
    let dir = tempfile::tempdir().unwrap();
    let json_out = dir.path().join("out.json");
    // The demo's container: users from a variable, LOCUST_AUTOSTART=true.
    let ui = start_ui(
        &plugin("quickstart"),
        &["-H", &t.url(), "-t", "2s", "--wait", "20ms", "--autoquit", "1s", "--json", json_out.to_str().unwrap()],
        &[("LOCUST_USERS", "4"), ("LOCUST_SPAWN_RATE", "100"), ("LOCUST_AUTOSTART", "true")],
        dir.path(),
    )
    .await;
    let f = finish(ui.child, Some(&json_out)).await;
    let stderr = std::fs::read_to_string(dir.path().join("stderr")).unwrap();
    assert_eq!(f.code, 0, "{stderr}");
    assert_eq!(f.json["peak_users"], 4);
    assert_eq!(f.json["stop_reason"], "run-time");
    assert_accounted(&f.json, t.total());
    assert!(stderr.contains("--autoquit"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signal_before_any_run_ends_the_session_cleanly() {
    let t = target().await;
    let dir = tempfile::tempdir().unwrap();
    // LOCUST_USERS from a variable does not start the run: the form does.
    let ui = start_ui(&plugin("quickstart"), &["-H", &t.url()], &[("LOCUST_USERS", "4")], dir.path()).await;
    let st = ui.ready().await;
    assert_eq!(st["phase"], "ready");
    assert_eq!(st["defaults"]["users"], 4, "the form is filled with the variable's users");
    nix_kill(ui.child.id().unwrap(), "INT");
    let f = finish(ui.child, None).await;
    assert_eq!(f.code, 0);
    assert_eq!(t.total(), 0);
}

/// The browser tests' node modules (playwright-core, pinned by the lock
/// file), installed on first use as .ci/run does.
fn browser_dir() -> std::path::PathBuf {
    let dir = workspace().join("tests/browser");
    if !dir.join("node_modules/playwright-core").exists() {
        let status = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .status()
            .expect("npm runs (install Node.js, as .ci/run does)");
        assert!(status.success(), "npm ci in tests/browser failed");
    }
    dir
}

/// How many pixels are (nearly) this colour.
fn pixels_of(pixels: &[[u8; 3]], rgb: [u8; 3]) -> usize {
    pixels.iter().filter(|p| p.iter().zip(rgb).all(|(a, b)| a.abs_diff(b) <= 10)).count()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_runs_a_test_in_a_browser_behind_a_proxy_prefix() {
    let t = target().await;
    let dir = tempfile::tempdir().unwrap();
    let ui = start_ui(&plugin("quickstart"), &["-H", &t.url(), "--wait", "20ms", "--stop-timeout", "5s"], &[], dir.path()).await;
    ui.ready().await;
    let shots = workspace().join("target/ui-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let script = browser_dir().join("ui.mjs");
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new("node").arg(&script).arg(ui.port.to_string()).arg(&shots).kill_on_drop(true).output(),
    )
    .await
    .expect("the browser test ended within 120 s")
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_str(stdout.lines().last().unwrap_or("")).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(v["problems"], json!([]), "no console error, failed request or failed step: {v:#}");
    let seen = &v["seen"];
    assert_eq!(seen["readyPhase"], "ready");
    assert_eq!(seen["hostDefault"], format!("{}/", t.url()));
    let rows = seen["rows"].as_array().unwrap();
    assert!(rows.iter().any(|r| r[0] == "GET" && r[1] == "/"), "{rows:?}");
    assert!(rows.iter().any(|r| r[0] == "POST" && r[1] == "/items"), "{rows:?}");
    assert_eq!(seen["total"][1], "Aggregated");
    for c in seen["charts"].as_array().unwrap() {
        assert!(c["src"].as_str().unwrap().starts_with("api/chart/") && c["width"].as_u64() > Some(100), "{c}");
    }
    let events = seen["events"].as_array().unwrap().iter().map(|e| e.as_str().unwrap()).collect::<Vec<_>>();
    assert!(events.iter().any(|e| e.contains("users → 7")), "{events:?}");
    assert!(seen["stoppedPhase"] == "stopped" && seen["summary"].as_str().unwrap().contains("Exit code 0"), "{seen}");
    // Every link and call stayed under the proxy's prefix.
    let base = v["base"].as_str().unwrap();
    assert!(seen["downloads"].as_array().unwrap().iter().all(|h| h.as_str().unwrap().starts_with(base)), "{seen}");
    assert!(v["proxied"].as_array().unwrap().iter().all(|p| p["outside"].is_null()), "a request left /loadgen/: {}", v["proxied"]);
    assert_eq!(seen["reportStatus"], 200);
    let report = std::fs::read_to_string(seen["htmlReport"]["file"].as_str().unwrap()).unwrap();
    assert!(report.ends_with("</html>\n") && report.contains("<svg") && report.contains("/items"), "the downloaded HTML report is whole");
    assert_eq!(seen["htmlReport"]["name"], "wasp-report.html");
    assert_accounted(&json!({"total": {"count": seen["reportCount"], "interrupted": 0}}), t.total());
    // The screenshots show a page, and the charts their series.
    let (w, h, pixels) = decode_png(&shots.join("running.png"));
    assert!(w >= 1200 && h >= 600, "{w}x{h}");
    let distinct: std::collections::HashSet<[u8; 3]> = pixels.iter().copied().collect();
    assert!(distinct.len() > 50, "the page is not blank: {} colours", distinct.len());
    let (_, _, charts) = decode_png(&shots.join("charts.png"));
    assert!(pixels_of(&charts, [37, 99, 235]) >= 30, "the requests series is drawn");
    assert!(pixels_of(&charts, [8, 145, 178]) >= 30, "the users series is drawn");
    let pid = ui.child.id().unwrap();
    nix_kill(pid, "TERM");
    assert_eq!(finish(ui.child, None).await.code, 0);
}

/// Schemathesis (PyPI) derives requests from `api/openapi.json`, valid and
/// not, and checks that none gets a server error or an answer outside the
/// document. Bounded: a few examples per operation, loopback only, the plugin's
/// traffic going to a local target.
#[tokio::test(flavor = "multi_thread")]
async fn the_api_holds_to_its_openapi_document_under_schemathesis() {
    let st = std::env::var("WASP_SCHEMATHESIS").unwrap_or_else(|_| "schemathesis".into());
    let t = target().await;
    let dir = tempfile::tempdir().unwrap();
    let ui = start_ui(&plugin("quickstart"), &["-H", &t.url(), "--wait", "100ms", "--max-users", "50"], &[], dir.path()).await;
    ui.ready().await;
    let doc: Value = ui.get("api/openapi.json").await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{}", doc["openapi"]);
    assert!(doc["paths"]["/api/start"]["post"].is_object() && doc["paths"]["/api/state"]["get"].is_object());
    let out = tokio::time::timeout(
        Duration::from_secs(300),
        tokio::process::Command::new(&st)
            .args(["run", &ui.url("api/openapi.json"), "--url", &format!("http://127.0.0.1:{}", ui.port)])
            .args(["--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"])
            .args(["--max-examples", "15", "--phases", "examples,coverage,fuzzing", "--workers", "1", "--seed", "1", "--no-color"])
            .args(["--generation-database", "none"])
            .current_dir(dir.path())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("schemathesis ended within 300 s")
    .unwrap_or_else(|e| panic!("cannot run {st} ({e}): pip install schemathesis, as .ci/run does"));
    let report = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{report}");
    assert!(report.contains("passed") || report.contains("PASSED"), "{report}");
    let pid = ui.child.id().unwrap();
    nix_kill(pid, "TERM");
    let f = finish(ui.child, None).await;
    assert!(f.code >= 0, "wasp ended by itself");
}

#[tokio::test(flavor = "multi_thread")]
async fn each_run_started_from_the_ui_has_the_run_time_limit() {
    let t = target().await;
    let dir = tempfile::tempdir().unwrap();
    let ui = start_ui(&plugin("quickstart"), &["-H", &t.url(), "-t", "1s", "--wait", "20ms"], &[], dir.path()).await;
    ui.ready().await;
    for run in 1..=2 {
        let (code, body) = ui.post("api/start", json!({"users": 2, "spawn_rate": 100})).await;
        assert_eq!(code, 202, "run {run}: {body}");
        let st = eventually("the run to end by itself", Duration::from_secs(20), || async {
            let st = ui.state().await;
            (st["phase"] == "stopped").then_some(st)
        })
        .await;
        assert_eq!(st["stop_reason"], "run-time", "run {run}: {st}");
        assert_eq!(st["run_time_s"], 1.0);
    }
    // Not autostarted: the session outlives its runs until told to stop.
    assert!(ui.http.get(ui.url("api/state")).send().await.is_ok());
    nix_kill(ui.child.id().unwrap(), "TERM");
    assert_eq!(finish(ui.child, None).await.code, 0);
}
