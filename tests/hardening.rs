//! Hardening, end to end: what a hostile plugin (tests/plugins/hostile), a
//! broken target (tests/common/faults.rs) or a careless user can do to wasp —
//! and what wasp does instead: refuse, bound, cut short, and say so in one
//! line. Each test here failed on the code before it was written.

mod common;

use common::faults::{self, Fault};
use common::*;
use std::time::{Duration, Instant};

fn hostile() -> std::path::PathBuf {
    plugin("hostile")
}

/// Runs the hostile plugin's tasks of `tag` against `host` and samples the
/// process's resident memory while it runs: (result, peak RSS in MiB).
async fn run_hostile(tag: &str, host: &str, extra: &[&str]) -> (Finished, u64) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.json");
    let child = wasp().arg("run").arg(hostile()).args(["-H", host, "-T", tag, "-r", "100", "--only-summary", "--json"]).arg(&json).args(extra).spawn().unwrap();
    let pid = child.id().unwrap();
    let sampler = tokio::spawn(async move {
        let mut peak = 0u64;
        while let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            if let Some(kb) = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok()) {
                peak = peak.max(kb / 1024);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        peak
    });
    let f = finish(child, Some(&json)).await;
    (f, sampler.await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_cannot_set_host_framing_or_trace_headers() {
    let t = target().await;
    let (f, _) = run_hostile("host-headers", &t.url(), &["-u", "2", "-t", "2s"]).await;
    let seen = t.seen.lock().unwrap();
    assert_eq!(seen.total, 0, "no request with a guest-set host-owned header went out");
    let errs = errors(&f.json);
    for header in ["Host", "Content-Length", "Transfer-Encoding", "Connection", "traceparent", "tracestate", "baggage"] {
        assert!(
            errs.iter().any(|(w, m, n)| w == "http" && m.contains(&format!("header '{header}' is the host's to set")) && *n > 0),
            "{header} was not refused: {errs:?}"
        );
    }
    assert!(errors(&f.json).iter().all(|(w, m, _)| w != "host_headers" || !m.contains("the host sent")), "{errs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_header_with_control_bytes_is_refused_counted_and_escaped() {
    let t = target().await;
    let (f, _) = run_hostile("control-header", &t.url(), &["-u", "1", "-t", "1s", "--allow-empty"]).await;
    assert_eq!(t.total(), 0);
    let errs = errors(&f.json);
    let (_, msg, n) = errs.iter().find(|(w, _, _)| w == "http").expect("the refused requests are counted");
    assert!(*n >= 5, "{errs:?}");
    assert!(msg.contains("control characters") && msg.contains("a\\u{1}b\\nwasp: error: forged"), "{msg}");
    assert!(!f.stderr.lines().any(|l| l.starts_with("wasp: error: forged")), "{}", f.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_side_state_is_bounded_whatever_the_plugin_adds() {
    let t = target().await;
    for (tag, says) in [("baggage-flood", "trap: baggage limit exceeded"), ("span-flood", "trap: telemetry limit exceeded")] {
        let (f, peak) = run_hostile(tag, &t.url(), &["-u", "4", "-t", "3s", "--max-user-memory", "16MiB", "--allow-empty"]).await;
        let errs = errors(&f.json);
        assert!(errs.iter().any(|(_, m, _)| m.starts_with(says)), "{tag}: {errs:?}");
        // Before the bounds: 329 MB (baggage) and 844 MB (spans) with a 16 MiB cap.
        assert!(peak < 150, "{tag}: peak RSS {peak} MiB");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_text_cannot_forge_log_lines_or_summary_rows() {
    let t = target().await;
    let (f, _) = run_hostile("forge", &t.url(), &["-u", "2", "-t", "1s", "-L", "info"]).await;
    assert!(t.count("/hello") > 0);
    for line in f.stderr.lines().chain(f.stdout.lines()) {
        assert!(!line.starts_with("wasp: error: forged") && !line.starts_with("=== wasp summary: forged"), "forged line: {line}");
        assert!(!line.contains('\u{1b}'), "raw escape sequence: {line}");
    }
    assert!(f.stderr.contains("fine\\nwasp: error: forged log line"), "the log line is kept, escaped");
    assert!(errors(&f.json).iter().any(|(_, m, _)| m == "bad\\n=== wasp summary: forged ==="));
    assert!(f.json["requests"].as_array().unwrap().iter().any(|r| r["name"] == "/forged\\n=== wasp summary: forged ==="));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_measured_nothing_does_not_pass() {
    // A target that accepts and never answers: every request is in flight at the stop.
    let hole = faults::serve(Fault::Blackhole).await;
    let (f, _) = run_hostile("hang", &hole.url(), &["-u", "3", "-t", "2s"]).await;
    assert_eq!(f.code, 5, "{}", f.stderr);
    assert_eq!(f.json["exit_code"], 5);
    assert_eq!(f.json["total"]["count"], 0);
    assert_eq!(f.json["total"]["interrupted"], 3, "the three requests in flight are counted as interrupted");
    let interrupted: u64 = failures(&f.json).iter().filter(|(_, e, _)| e.starts_with("interrupted")).map(|x| x.2).sum();
    assert_eq!(interrupted, 3);
    assert!(f.stdout.contains("3 request(s) were still in flight when the run stopped"), "{}", f.stdout);
    assert!(f.stderr.contains("measured nothing"), "{}", f.stderr);
    // Said to be fine, it is.
    let (f, _) = run_hostile("hang", &hole.url(), &["-u", "1", "-t", "1s", "--allow-empty"]).await;
    assert_eq!(f.code, 0, "{}", f.stderr);
    // A guest asleep for an hour measured nothing either.
    let t = target().await;
    let (f, _) = run_hostile("sleep", &t.url(), &["-u", "2", "-t", "1s"]).await;
    assert_eq!(f.code, 5, "{}", f.stderr);
    assert_eq!(task_runs(&f.json, "sleep"), (0, 0));
    assert_eq!(f.json["tasks"].as_array().unwrap().iter().find(|x| x["name"] == "sleep").unwrap()["interrupted"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_task_budget_bounds_a_wasi_sleep() {
    let t = target().await;
    let t0 = Instant::now();
    let (f, _) = run_hostile("sleep", &t.url(), &["-u", "1", "-t", "4s", "--task-budget", "500ms", "--allow-empty"]).await;
    let killed: u64 = errors(&f.json).iter().filter(|(w, m, _)| w == "sleep" && m.starts_with("killed: used more than 500ms of guest time")).map(|e| e.2).sum();
    assert!(killed >= 3, "{:?}", errors(&f.json));
    assert!(t0.elapsed() < Duration::from_secs(30));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_prints_never_block_the_run_when_nobody_reads_stderr() {
    let t = target().await;
    let mut child =
        wasp().arg("run").arg(hostile()).args(["-H", &t.url(), "-T", "print", "-u", "2", "-r", "100", "-t", "3s", "--only-summary"]).spawn().unwrap();
    let _unread = child.stderr.take();
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait()).await.expect("wasp ended on time").unwrap();
    // Each task prints 2 MiB before its request: the pipe (64 KiB) is full at once.
    assert!(t.count("/hello") >= 20, "only {} requests: users stalled on their prints", t.count("/hello"));
    assert!(status.code().is_some(), "ended by itself, not killed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_names_are_bounded_and_nothing_is_lost() {
    let t = target().await;
    let (f, peak) = run_hostile("unique-names", &t.url(), &["-u", "20", "-t", "3s", "--wait", "none"]).await;
    assert_eq!(f.code, 0, "{}", f.stderr);
    let requests = f.json["requests"].as_array().unwrap();
    assert!(requests.len() <= 1001, "{} names kept", requests.len());
    let other = requests.iter().find(|r| r["name"] == "(other names)").expect("the names past the cap are counted together");
    assert!(other["count"].as_u64().unwrap() > 0);
    assert_accounted(&f.json, t.total());
    assert_eq!(f.stderr.matches("more than 1000 request names").count(), 1, "warned once");
    assert!(peak < 400, "peak RSS {peak} MiB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weights_past_u32_max_are_fine() {
    let t = target().await;
    let (f, _) = run_hostile("weights", &t.url(), &["-u", "4", "-t", "2s", "--wait", "10ms", "--stop-timeout", "5s"]).await;
    assert_eq!(f.code, 0, "{}", f.stderr);
    let (a, b) = (task_runs(&f.json, "heavy_a").0, task_runs(&f.json, "heavy_b").0);
    assert!(a > 20 && b > 20, "{a} {b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traps_say_which_limit_or_fault_they_were() {
    let t = target().await;
    let (f, _) = run_hostile("recurse", &t.url(), &["-u", "1", "-t", "1s", "--allow-empty"]).await;
    let errs = errors(&f.json);
    assert!(errs.iter().any(|(w, m, _)| w == "recurse" && (m.contains("stack overflow") || m.contains("stack overflowing"))), "{errs:?}");
    let r = run(&plugin("chaos"), &["-H", &t.url(), "-T", "grow", "-u", "1", "-t", "1s", "--max-user-memory", "16MiB", "--allow-empty"]).await;
    let errs = errors(&r.json);
    assert!(errs.iter().any(|(w, m, _)| w == "grow" && m.starts_with("trap: memory limit exceeded") && m.contains("16 MiB")), "{errs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_import_is_named() {
    plugin("chaos");
    let dir = plugin("bad_other_world").parent().unwrap().to_path_buf();
    let r = finish(wasp().arg("run").arg(dir.join("bad_unknown_import.wasm")).args(["-t", "1s"]).spawn().unwrap(), None).await;
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("wasp:plugin/context@0.1.0") && r.stderr.contains("frob"), "{}", r.stderr);
}

/// Every absurd or careless input: exit code 2 (3 for a plugin that is not
/// one), one line on stderr that says what is wrong, never the internal error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_one_clear_line_and_a_usage_exit_code() {
    let qs = plugin("quickstart");
    let qs = qs.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let missing_dir = dir.path().join("no/such/dir/out.json");
    let (fifo, missing_dir, d) = (fifo.to_str().unwrap(), missing_dir.to_str().unwrap(), dir.path().to_str().unwrap());
    let h = "http://127.0.0.1:9";
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, i32, &'a str);
    let cases: Vec<Case> = vec![
        (vec!["run", qs, "-H", h, "-t", "1e20"], vec![], 2, "longer than a year"),
        (vec!["run", qs, "-H", h, "-t", "1e19"], vec![], 2, "longer than a year"),
        (vec!["run", qs, "-H", h, "-t", "0"], vec![], 2, "must be more than zero"),
        (vec!["run", qs, "-H", h, "--stop-timeout", "1e19"], vec![], 2, "longer than a year"),
        (vec!["run", qs, "-H", h, "--request-timeout", "0"], vec![], 2, "must be more than zero"),
        (vec!["run", qs, "-H", h, "--task-budget", "0s"], vec![], 2, "must be more than zero"),
        (vec!["run", qs, "-H", h, "-r", "1e-300"], vec![], 2, "below 0.001/s"),
        (vec!["run", qs, "-H", h, "-r", "0"], vec![], 2, "below 0.001/s"),
        (vec!["run", qs, "-H", h, "-u", "0"], vec![], 2, "--users"),
        (vec!["run", qs, "-H", h, "-u", "99999999999"], vec![], 2, "--users"),
        (vec!["run", qs, "-H", h, "--wait", "1e20s..1e21s"], vec![], 2, "--wait"),
        (vec!["run", qs, "-H", " "], vec![], 2, "--host is empty"),
        (vec!["run", qs, "-H", h, "--exit-code-on-error=-1"], vec![], 2, "not in 0..=255"),
        (vec!["run", qs, "-H", h, "--max-user-memory", "20EiB"], vec![], 2, "--max-user-memory"),
        (vec!["run", qs, "-H", h, "--users-per-instance", "0"], vec![], 2, "--users-per-instance"),
        (vec!["run", qs, "-H", h, "--users-per-instance", "99999999999"], vec![], 2, "--users-per-instance"),
        (vec!["run", qs, "-H", h, "--users-per-instance=-3"], vec![], 2, "--users-per-instance"),
        (vec!["run", qs, "-H", h], vec![("WASP_USERS_PER_INSTANCE", "lots")], 2, "--users-per-instance"),
        (vec!["run", qs, "-H", h, "--max-instance-memory", "1KiB"], vec![], 2, "--max-instance-memory must be at least 64KiB"),
        (vec!["run", qs, "-H", h, "--max-instance-memory", "5GiB"], vec![], 2, "--max-instance-memory must be at most 4GiB"),
        (vec!["run", qs, "-H", h, "--max-instance-memory", "64MiB"], vec![], 2, "--max-instance-memory needs a wasp:plugin@0.2 plugin"),
        (vec!["run", qs, "-H", h, "--users-per-instance", "8"], vec![], 2, "--users-per-instance needs a wasp:plugin@0.2 plugin"),
        (vec!["run", qs, "-H", h, "--max-user-memory", "99999TB"], vec![], 2, "more than this machine's memory"),
        (vec!["run", qs, "-H", h, "--max-user-memory", "1MiB"], vec![], 2, "below the 1.1 MiB this plugin's memory starts with"),
        (vec!["run", qs, "-H", h, "--threshold", "p95<300"], vec![], 2, "needs a unit"),
        (vec!["run", qs, "-H", h, "--json", missing_dir], vec![], 2, "does not exist"),
        (vec!["run", qs, "-H", h, "--html", d], vec![], 2, "is a folder"),
        (vec!["run", qs, "-H", h, "--csv", missing_dir], vec![], 2, "does not exist"),
        (vec!["run", qs, "-H", h, "--frobnicate"], vec![], 2, "unexpected argument '--frobnicate'"),
        (vec!["run", qs, "-H", h, "--web-auth", "nocolon"], vec![], 2, "give USER:PASSWORD"),
        (vec!["run", qs, "-H", h, "--web-auth", ":pw"], vec![], 2, "give USER:PASSWORD"),
        (vec!["run", qs, "-H", h, "--web-port", "70000"], vec![], 2, "not in 0..=65535"),
        (vec!["run", qs, "-H", h, "--web", "--web-port", "0", "--web-host", "not an address"], vec![], 2, "is not an IP address"),
        (vec!["run", qs, "-H", h, "--web", "--autoquit", "soon"], vec![], 2, "--autoquit"),
        (vec!["run", qs, "-H", h, "--web"], vec![("LOCUST_AUTOQUIT", "1e20")], 2, "LOCUST_AUTOQUIT=1e20"),
        (vec!["completions", "tcsh"], vec![], 2, "tcsh"),
        (vec!["run", qs, "-H", h], vec![("WASP_USERS", "lots")], 2, "WASP_USERS=lots"),
        (vec!["run", qs, "-H", h], vec![("LOCUST_RUN_TIME", "1e20")], 2, "LOCUST_RUN_TIME=1e20"),
        (vec!["run", qs, "-H", h], vec![("WASP_SPAWN_RATE", "-1")], 2, "WASP_SPAWN_RATE=-1"),
        (vec!["run", qs, "-H", h], vec![("WASP_MAX_MAP_COUNT", "lots")], 2, "WASP_MAX_MAP_COUNT=lots: not a whole number"),
        (vec!["run", qs, "-H", h], vec![("WASP_MAX_MAP_COUNT", "0")], 2, "WASP_MAX_MAP_COUNT=0: not a whole number"),
        (vec!["run", qs, "-H", h], vec![("WASP_MAX_MAP_COUNT", "-5")], 2, "WASP_MAX_MAP_COUNT=-5"),
        (
            vec!["run", qs, "-H", h, "-t", "1s"],
            vec![("OTEL_EXPORTER_OTLP_ENDPOINT", h), ("OTEL_EXPORTER_OTLP_PROTOCOL", "htp/protobuf")],
            2,
            "OTEL_EXPORTER_OTLP_PROTOCOL=htp/protobuf",
        ),
        (vec!["run", fifo, "-H", h], vec![], 3, "is not a regular file"),
        (vec!["run", "/dev/zero", "-H", h], vec![], 3, "is not a regular file"),
        (vec!["merge", "/dev/zero"], vec![], 2, "is not a regular file"),
    ];
    for (args, envs, code, says) in cases {
        let t0 = Instant::now();
        let r = finish(wasp().args(&args).envs(envs.iter().copied()).spawn().unwrap(), None).await;
        let shown = format!("{args:?} {envs:?}");
        assert_ne!(r.code, 70, "{shown}: internal error: {}", r.stderr);
        assert_eq!(r.code, code, "{shown}: {}", r.stderr);
        let lines: Vec<&str> = r.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{shown}: one line, got {lines:?}");
        assert!(lines[0].starts_with("wasp: error: ") && lines[0].contains(says), "{shown}: {}", lines[0]);
        assert!(t0.elapsed() < Duration::from_secs(20), "{shown} took {:?}", t0.elapsed());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crafted_result_files_are_refused_by_merge() {
    let t = target().await;
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.json");
    let r = finish(
        wasp().arg("run").arg(plugin("chaos")).args(["-H", &t.url(), "-T", "hello", "-t", "1s", "--only-summary", "--json"]).arg(&real).spawn().unwrap(),
        None,
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&real).unwrap()).unwrap();
    let crafted = |name: &str, edit: &dyn Fn(&mut serde_json::Value)| {
        let mut v = doc.clone();
        edit(&mut v);
        let p = dir.path().join(name);
        std::fs::write(&p, serde_json::to_vec(&v).unwrap()).unwrap();
        p
    };
    let epoch = crafted("epoch.json", &|v| v["meta"]["started_at_unix_ms"] = 0.into());
    let long = crafted("long.json", &|v| v["duration_s"] = 1e15.into());
    let future = crafted("future.json", &|v| v["meta"]["started_at_unix_ms"] = 300_000_000_000_000u64.into());
    // Five significant digits over the whole range: decoding would allocate ~50 MB a histogram.
    let mut h = hdrhistogram::Histogram::<u64>::new_with_bounds(1, u64::MAX / 2, 5).unwrap();
    h.record(1000).unwrap();
    let wide_text = wasp_report::json::encode(&h);
    let wide = crafted("wide.json", &|v| v["total"]["histogram"] = wide_text.clone().into());
    for (inputs, says) in
        [(vec![real.clone(), epoch], "not parts of one test"), (vec![long], "duration_s"), (vec![future], "after the year 9999"), (vec![wide], "histogram")]
    {
        let html = dir.path().join("m.html");
        let r = finish(wasp().arg("merge").args(&inputs).arg("--html").arg(&html).spawn().unwrap(), None).await;
        assert_eq!(r.code, 2, "{inputs:?}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(r.stderr.contains(says), "{inputs:?}: {}", r.stderr);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_still_writes_the_summary_and_the_files() {
    let t = target().await;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.json");
    let child = wasp()
        .arg("run")
        .arg(plugin("chaos"))
        .args(["-H", &t.url(), "-T", "hello", "-u", "3", "-r", "100", "--wait", "20ms", "--only-summary", "--json"])
        .arg(&json)
        .spawn()
        .unwrap();
    t.wait_for_requests(20, Duration::from_secs(30)).await;
    assert!(std::process::Command::new("kill").args(["-HUP", &child.id().unwrap().to_string()]).status().unwrap().success());
    let r = finish(child, Some(&json)).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Aggregated"));
    assert_eq!(r.json["stop_reason"], "signal");
    assert_accounted(&r.json, t.total());
}

/// A component that takes cranelift seconds to compile: many large functions.
fn slow_component() -> Vec<u8> {
    use wasm_encoder::{CodeSection, Component, Function, FunctionSection, Instruction, Module, ModuleSection, TypeSection, ValType};
    let mut types = TypeSection::new();
    types.ty().function([ValType::I64], [ValType::I64]);
    let mut funcs = FunctionSection::new();
    let mut code = CodeSection::new();
    for _ in 0..6000 {
        funcs.function(0);
        let mut f = Function::new([]);
        for k in 0..400i64 {
            f.instruction(&Instruction::LocalGet(0));
            f.instruction(&Instruction::I64Const(k * 7 + 1));
            f.instruction(&Instruction::I64Mul);
            f.instruction(&Instruction::I64Const(k));
            f.instruction(&Instruction::I64Xor);
            f.instruction(&Instruction::LocalSet(0));
        }
        f.instruction(&Instruction::LocalGet(0));
        f.instruction(&Instruction::End);
        code.function(&f);
    }
    let mut module = Module::new();
    module.section(&types).section(&funcs).section(&code);
    let mut component = Component::new();
    component.section(&ModuleSection(&module));
    component.finish()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_the_plugin_loads_is_a_clean_abort() {
    let dir = tempfile::tempdir().unwrap();
    let slow = dir.path().join("slow.wasm");
    std::fs::write(&slow, slow_component()).unwrap();
    let child = wasp().env("WASP_CACHE_DIR", "").arg("run").arg(&slow).args(["-H", "http://127.0.0.1:9", "-t", "1s"]).spawn().unwrap();
    let pid = child.id().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let t0 = Instant::now();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let r = finish(child, None).await;
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains("stopped by a signal while loading the plugin"), "{}", r.stderr);
    assert!(t0.elapsed() < Duration::from_secs(5), "answered the signal after {:?}", t0.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_cuts_the_final_flush_to_a_stalled_collector() {
    let t = target().await;
    let collector = faults::serve(Fault::Blackhole).await;
    let endpoint = collector.url();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.json");
    let child = wasp()
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
        .arg("run")
        .arg(plugin("chaos"))
        .args(["-H", &t.url(), "-T", "hello", "-u", "2", "-r", "100", "-t", "2s", "--wait", "20ms", "--telemetry-timeout", "30s", "--only-summary", "--json"])
        .arg(&json)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap().to_string();
    // The run ends at 2 s; the flush then waits on the collector that never answers.
    tokio::time::sleep(Duration::from_millis(4000)).await;
    let t0 = Instant::now();
    assert!(std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let r = finish(child, Some(&json)).await;
    assert!(t0.elapsed() < Duration::from_secs(5), "still flushing {:?} after the signal", t0.elapsed());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("telemetry flush abandoned"), "{}", r.stderr);
    assert!(r.json["telemetry"]["spans_dropped"].as_u64().unwrap() > 0, "what did not get out is counted as dropped");
    assert!(!r.stderr.contains("AfterShutdown"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_file_lost_after_the_run_fails_the_run() {
    let t = target().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gone");
    std::fs::create_dir(&out).unwrap();
    let json = out.join("out.json");
    let child = wasp()
        .arg("run")
        .arg(plugin("chaos"))
        .args(["-H", &t.url(), "-T", "hello", "-u", "2", "-r", "100", "-t", "2s", "--wait", "20ms", "--only-summary", "--json"])
        .arg(&json)
        .spawn()
        .unwrap();
    t.wait_for_requests(10, Duration::from_secs(30)).await;
    std::fs::remove_dir_all(&out).unwrap();
    let r = finish(child, None).await;
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(r.stderr.contains("cannot write"), "{}", r.stderr);
}

/// A run asking for more users than the process's memory mappings allow
/// (here a budget of 3,000 set through WASP_MAX_MAP_COUNT; the kernel's
/// vm.max_map_count is a system-wide setting a test cannot lower) says so at
/// the start, runs the users that fit, reports each one it could not start
/// with the limit and the remedy, logs only the first few, and exits 1 with a
/// complete summary: never an abort when the mappings run out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_past_the_mapping_limit_runs_what_fits_and_says_why() {
    let t = target().await;
    let r = run_env(
        &plugin("quickstart"),
        &["-H", &t.url(), "-u", "400", "-r", "1000", "-t", "2s", "--wait", "100ms", "--stop-timeout", "10s"],
        &[("WASP_MAX_MAP_COUNT", "3000")],
    )
    .await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    let warning = r.stderr.lines().find(|l| l.contains("WASP_MAX_MAP_COUNT is 3000: one process holds about ")).expect("the limit is named at the start");
    let fits: u64 = warning.split("holds about ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(fits > 50 && fits < 400, "{warning}");
    assert!(warning.contains("fewer than the 400 asked"), "{warning}");
    assert_eq!(r.json["peak_users"].as_u64(), Some(fits), "the users that fit all ran");
    let not_started: u64 = errors(&r.json)
        .iter()
        .filter(|(w, m, _)| w == "create" && m.starts_with(&format!("not started: WASP_MAX_MAP_COUNT = 3000 fits {fits} users")))
        .map(|e| e.2)
        .sum();
    assert_eq!(not_started, 400 - fits, "{:?}", errors(&r.json));
    assert!(r.stderr.matches("user could not be created").count() <= 5, "a few are logged, the rest counted");
    let count = r.json["total"]["count"].as_u64().unwrap();
    assert!(count >= fits, "the users that fit made requests: {count}");
    assert_eq!(t.total(), count, "every request counted");
    t.stop().await;
}

/// Per-user connections need a descriptor per user: under an open-file limit
/// (set here with prlimit) below that, wasp says which limit, from which user
/// on connections fail, and how to raise it; the run still ends with its
/// summary, and the failures are counted as connection failures.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_file_limit_below_the_users_is_explained() {
    let t = target().await;
    let r = run_under(
        &["prlimit", "--nofile=128:128"],
        &plugin("quickstart"),
        &["-H", &t.url(), "-u", "150", "-r", "1000", "-t", "2s", "--wait", "100ms", "--stop-timeout", "10s"],
    )
    .await;
    assert!(
        r.stderr.contains(
            "the open-file limit is 128 (the hard limit): fewer than one connection per user for 150 users; users past about 64 will fail to connect"
        ),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--shared-connections"), "{}", r.stderr);
    assert_eq!(r.code, 1, "some users cannot connect: {}", r.stderr);
    let failures = failures(&r.json);
    assert!(failures.iter().any(|(_, e, _)| e.contains("Too many open files")), "{failures:?}");
    assert!(r.json["total"]["count"].as_u64().unwrap() > 0, "the users that could connect made requests");
    t.stop().await;
}
