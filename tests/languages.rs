//! Plugins in other languages, built from source here (Python with
//! componentize-py, by scripts/build-python-plugins; JavaScript with
//! componentize-js and, for wasp:plugin@0.2, componentize-qjs, by
//! scripts/build-js-plugins) and run by the real binary:
//! the same host contract as the Rust ones, the same demo traffic, and the
//! compiled-plugin cache that makes their start fast.

mod common;

use common::demo::check_traffic_follows_the_table;
use common::otlp::{receiver, text};
use common::*;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use std::collections::HashSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_quickstart_sends_traced_requests_logs_and_spans() {
    check_quickstart(&python_plugin("quickstart")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_javascript_quickstart_sends_traced_requests_logs_and_spans() {
    check_quickstart(&js_plugin("quickstart")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_javascript_otel_demo_makes_the_same_traffic_as_the_rust_one() {
    check_traffic_follows_the_table(&js_plugin("otel-demo"), 5, 4).await;
}

/// The 0.2 JavaScript plugins (users sharing instances, async tasks, built
/// with componentize-qjs): the same contract and the same demo traffic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_javascript_0_2_quickstart_sends_traced_requests_logs_and_spans() {
    check_quickstart(&js_plugin("quickstart-async")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_javascript_0_2_otel_demo_makes_the_same_traffic() {
    check_traffic_follows_the_table(&js_plugin("otel-demo-async"), 5, 4).await;
}

/// The quickstart's contract, in any language: `index` (3) is a logged GET /,
/// `create_item` (1, tag write) a POST /items; every request traced, with
/// baggage; task spans, CLIENT spans and logs exported and tied together.
async fn check_quickstart(qs: &std::path::Path) {
    let t = target().await;
    let rx = receiver(false).await;
    let endpoint = rx.grpc_url();
    let f = run_env(
        qs,
        &["-H", &t.url(), "-u", "3", "-r", "100", "-t", "2s", "--wait", "20ms", "--stop-timeout", "5s"],
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint), ("OTEL_BSP_SCHEDULE_DELAY", "200")],
    )
    .await;
    assert_eq!(f.code, 0, "{}", f.stderr);
    let (index, _) = task_runs(&f.json, "index");
    let (items, _) = task_runs(&f.json, "create_item");
    assert!(index > 0 && items > 0);
    assert_eq!(t.count("/"), index, "one GET / per index task");
    assert_eq!(t.count("/items"), items, "one POST /items per create_item task");
    assert_eq!(reported(&f.json, "/") + reported(&f.json, "/items"), t.total());
    {
        let seen = t.seen.lock().unwrap();
        for (path, h) in &seen.headers {
            assert!(h.contains_key("traceparent"), "{path} without traceparent");
            let b = h.get("baggage").and_then(|v| v.to_str().ok()).unwrap_or("");
            assert!(b.contains("synthetic_request=true"), "{path}: baggage {b:?}");
        }
    }
    t.stop().await;

    let got = rx.store.lock().unwrap();
    let tasks: Vec<_> = got.spans.iter().map(|(_, s)| s).filter(|s| s.name == "index" && s.kind == SpanKind::Internal as i32).collect();
    assert_eq!(tasks.len() as u64, index, "a span per index task");
    let clients = got.spans.iter().filter(|(_, s)| s.kind == SpanKind::Client as i32).count() as u64;
    assert_eq!(clients, t_total(&f.json));
    let task_ids: HashSet<&Vec<u8>> = tasks.iter().map(|s| &s.span_id).collect();
    let logs: Vec<_> = got.logs.iter().filter(|(_, l)| format!("{:?}", l.body).contains("browsing the home page")).collect();
    assert_eq!(logs.len() as u64, index, "one log per index task");
    assert!(logs.iter().all(|(_, l)| task_ids.contains(&l.span_id) && text(&l.attributes).contains_key("user")));
    // The quickstart's on-start does something (its span is there, one per
    // user); its on-stop is the SDK's default, which exports no span.
    assert_eq!(got.spans.iter().filter(|(_, s)| s.name == "on_start").count(), 3, "one on_start span per user");
    assert!(got.spans.iter().all(|(_, s)| s.name != "on_stop"), "the default on_stop exported a span");
}

fn t_total(json: &serde_json::Value) -> u64 {
    json["total"]["count"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_otel_demo_makes_the_same_traffic_as_the_rust_one() {
    check_traffic_follows_the_table(&python_plugin("otel-demo"), 5, 4).await;
}

/// The 0.2 Python shopper (users sharing instances, `async def` tasks).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_0_2_otel_demo_makes_the_same_traffic() {
    check_traffic_follows_the_table(&python_plugin("otel-demo-async"), 5, 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_plugin_compiles_once_and_a_truncated_cache_entry_is_recompiled() {
    let qs = python_plugin("quickstart");
    let cache = tempfile::tempdir().unwrap();
    let start = || async { inspect_json(&qs, cache.path()).await["cache"].as_str().unwrap().to_string() };
    assert_eq!(start().await, "miss");
    assert_eq!(start().await, "hit", "the second start skips compilation");
    let entry = std::fs::read_dir(cache.path()).unwrap().next().unwrap().unwrap().path();
    let len = std::fs::metadata(&entry).unwrap().len();
    std::fs::File::options().write(true).open(&entry).unwrap().set_len(len / 3).unwrap();
    assert_eq!(start().await, "replaced a damaged entry");
    assert_eq!(std::fs::metadata(&entry).unwrap().len(), len);
    assert_eq!(start().await, "hit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_instance_pool_fits_many_python_users() {
    // A Python component instantiates ~14 core modules per user (Rust: 3): the
    // pool is sized from the component, so 40 users all start.
    let qs = python_plugin("quickstart");
    let t = target().await;
    let f = run(&qs, &["-H", &t.url(), "-u", "40", "-r", "400", "-t", "3s", "--wait", "100ms", "-E", "write"]).await;
    t.stop().await;
    assert_eq!(f.code, 0, "{}", f.stderr);
    assert_eq!(f.json["peak_users"], 40);
    assert!(errors(&f.json).is_empty(), "{:?}", errors(&f.json));
}

/// The Python SDK's own logic (headers, the task guard, default on-start/on-stop), outside a component:
/// its unit tests, with the generated bindings stood in for.
#[test]
fn the_python_sdk_passes_its_unit_tests() {
    let sdk = workspace().join("guest-sdk/python");
    let out =
        std::process::Command::new("python3").args(["-B", "-m", "unittest", "discover", "-s", "tests", "-v"]).current_dir(&sdk).output().expect("python3 runs");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Ran 3 tests"), "{text}");
}

/// The Python SDK as a package: `pip install` into a fresh venv gives the
/// `wasp` and `wasp_async` modules and `wasp-build`, which builds the
/// quickstart (and the 0.2 quickstart) into a plugin that runs (the SDK is installed from a copy, so that the build leaves
/// nothing in the repository).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_installs_as_a_package_whose_wasp_build_makes_a_plugin() {
    let tmp = tempfile::tempdir().unwrap();
    let sdk = tmp.path().join("sdk");
    let copy = std::process::Command::new("cp").arg("-r").arg(workspace().join("guest-sdk/python")).arg(&sdk).status().unwrap();
    assert!(copy.success());
    // A build folder left by an earlier `pip install` in the repository would
    // be taken as up to date (cp gives every file the same new time).
    let _ = std::fs::remove_dir_all(sdk.join("build"));
    let venv = tmp.path().join("venv");
    let sh = |cmd: &mut std::process::Command, what: &str| {
        let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(out.status.success(), "{what}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    sh(std::process::Command::new("python3").args(["-m", "venv"]).arg(&venv), "python3 -m venv");
    sh(std::process::Command::new(venv.join("bin/pip")).args(["install", "--quiet", "--disable-pip-version-check"]).arg(&sdk), "pip install the SDK");
    let wasm = tmp.path().join("quickstart.wasm");
    let printed = sh(
        std::process::Command::new(venv.join("bin/wasp-build")).arg(workspace().join("plugins/python/quickstart/app.py")).arg("-o").arg(&wasm),
        "wasp-build",
    );
    assert_eq!(printed.trim(), wasm.display().to_string());
    let t = target().await;
    let r = run(&wasm, &["-H", &t.url(), "-u", "2", "-t", "3s"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(t.count("/") > 0, "the built plugin sent its requests");
    assert_accounted(&r.json, t.total());
    t.stop().await;
    // An app importing wasp_async is built for wasp:plugin@0.2, and its users share instances.
    let shared = tmp.path().join("quickstart-async.wasm");
    sh(
        std::process::Command::new(venv.join("bin/wasp-build")).arg(workspace().join("plugins/python/quickstart-async/app.py")).arg("-o").arg(&shared),
        "wasp-build (0.2)",
    );
    let t = target().await;
    let r = run(&shared, &["-H", &t.url(), "-u", "4", "-t", "2s", "--users-per-instance", "2"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json["meta"]["options"]["users-per-instance"], "2");
    assert!(t.count("/") > 0, "the 0.2 plugin sent its requests");
    assert_accounted(&r.json, t.total());
    // A file that is not Python: one line, a usage error.
    let out = std::process::Command::new(venv.join("bin/wasp-build")).arg(tmp.path().join("nope.txt")).args(["-o", "x.wasm"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a Python file"));
}

/// The JavaScript SDK as an npm package: installed into a project outside
/// the repository, a plugin there imports it as `wasp-sdk` and its
/// `wasp-build` makes a component that runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_javascript_sdk_installs_as_a_package_whose_wasp_build_makes_a_plugin() {
    js_plugin("quickstart"); // the SDK's own dependencies are installed by the JS build
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("my-plugin");
    std::fs::create_dir(&project).unwrap();
    std::fs::write(project.join("package.json"), r#"{ "name": "my-plugin", "version": "1.0.0", "type": "module" }"#).unwrap();
    let app = std::fs::read_to_string(workspace().join("plugins/js/quickstart/app.js")).unwrap();
    assert!(app.contains(r#"from "wasp-sdk""#), "the repository's plugins import the package too");
    std::fs::write(project.join("app.js"), app).unwrap();
    let sh = |cmd: &mut std::process::Command, what: &str| {
        let out = cmd.current_dir(&project).output().unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(out.status.success(), "{what}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    sh(
        std::process::Command::new("npm").args(["install", "--no-audit", "--no-fund", "--loglevel=error"]).arg(workspace().join("guest-sdk/js")),
        "npm install the SDK",
    );
    let wasm = project.join("plugin.wasm");
    let printed = sh(std::process::Command::new(project.join("node_modules/.bin/wasp-build")).args(["app.js", "-o"]).arg(&wasm), "wasp-build");
    assert_eq!(printed.trim(), wasm.display().to_string());
    let t = target().await;
    let r = run(&wasm, &["-H", &t.url(), "-u", "2", "-t", "3s"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(t.count("/") > 0, "the built plugin sent its requests");
    assert_accounted(&r.json, t.total());
    let out =
        std::process::Command::new(project.join("node_modules/.bin/wasp-build")).args(["nope.txt", "-o", "x.wasm"]).current_dir(&project).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a JavaScript file"));

    // An app of `wasp-sdk/async` is built for wasp:plugin@0.2 (componentize-qjs).
    let app = std::fs::read_to_string(workspace().join("plugins/js/quickstart-async/app.js")).unwrap();
    assert!(app.contains(r#"from "wasp-sdk/async""#));
    std::fs::write(project.join("shared.js"), app).unwrap();
    let qjs = sh(&mut std::process::Command::new(workspace().join("scripts/install-componentize-qjs")), "componentize-qjs");
    let shared = project.join("shared.wasm");
    sh(
        std::process::Command::new(project.join("node_modules/.bin/wasp-build"))
            .args(["shared.js", "-o"])
            .arg(&shared)
            .env("WASP_COMPONENTIZE_QJS", qjs.trim()),
        "wasp-build (0.2)",
    );
    let info = inspect_json(&shared, "").await;
    assert_eq!(info["wit"], "wasp:plugin@0.2.1", "{info}");
    let r = run(&shared, &["-H", &t.url(), "-u", "4", "-t", "2s", "--users-per-instance", "2"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(reported(&r.json, "/") > 0, "{}", r.json["requests"]);
    // Without the tool, one clear line and the usage exit code.
    let out = std::process::Command::new(project.join("node_modules/.bin/wasp-build"))
        .args(["shared.js", "-o", "x.wasm"])
        .env("WASP_COMPONENTIZE_QJS", project.join("no-such-tool"))
        .current_dir(&project)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot run") && err.contains("componentize-qjs-cli@0.5.0"), "{err}");
    assert!(!project.join("x.wasm").exists());
}

/// Mappings of a compiled plugin file that a process has writable (`rw-p`):
/// one per memory image mapped copy-on-write into a user's memory.
#[cfg(target_os = "linux")]
fn image_views(pid: u32) -> usize {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
    maps.lines().filter(|l| l.contains(" rw-p ") && l.contains(".cwasm")).count()
}

/// Runs `plugin` with `users` users (and `envs`) and gives the most image
/// views seen while it ran.
#[cfg(target_os = "linux")]
async fn views_while_running(plugin: &std::path::Path, cache: &std::ffi::OsStr, users: usize, envs: &[(&str, &str)]) -> usize {
    let t = target().await;
    let n = users.to_string();
    let child = wasp()
        .env("WASP_CACHE_DIR", cache)
        .envs(envs.iter().copied())
        .arg("run")
        .arg(plugin)
        .args(["-H", &t.url(), "-u", &n, "-r", "1000", "-t", "4s", "--wait", "100ms", "--only-summary", "-E", "write"])
        .spawn()
        .unwrap();
    let mut child = child;
    let pid = child.id().unwrap();
    let mut most = 0;
    // Until every user has mapped its image, or the run has ended (it
    // compiles the plugin first when it is not cached, then runs 4 s).
    while most < users && child.try_wait().unwrap().is_none() {
        most = most.max(image_views(pid));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let r = finish(child, None).await;
    t.stop().await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    most
}

/// A Python plugin's memory starts with the interpreter's pre-initialised
/// heap (megabytes): each user maps it copy-on-write from the compiled file
/// (the cache entry, or a private temporary file without a cache) instead of
/// copying it. A Rust plugin's small image is mapped too while the users fit
/// with the two mappings more that costs each, and copied when they would not
/// (here: 200 users under a budget of 3,180 mappings, where 2,048 are kept for
/// the rest of the process: 200 × 6 do not fit, 200 × 4 do).
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_images_are_mapped_copy_on_write_unless_the_mappings_are_short() {
    let cache = tempfile::tempdir().unwrap();
    let c = cache.path().as_os_str();
    let python = python_plugin("quickstart");
    assert!(views_while_running(&python, c, 8, &[]).await >= 8, "each Python user maps the heap image from the cache entry");
    assert!(views_while_running(&python, "".as_ref(), 8, &[]).await >= 8, "without a cache, from a private temporary file");
    let rust = plugin("quickstart");
    assert!(views_while_running(&rust, c, 200, &[]).await >= 200, "the Rust quickstart's users map its image while they fit");
    assert_eq!(views_while_running(&rust, c, 200, &[("WASP_MAX_MAP_COUNT", "3180")]).await, 0, "and copy it when the mappings are short");
}
