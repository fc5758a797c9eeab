//! End-to-end tests of what a run leaves behind: measured percentiles against
//! a target with known delays, thresholds and exit codes.

mod common;

use common::*;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The nearest-rank percentile of the target's own delays, in ms.
fn truth(delays: &mut [u64], q: f64) -> f64 {
    delays.sort_unstable();
    let rank = ((q * delays.len() as f64).ceil() as usize).clamp(1, delays.len());
    delays[rank - 1] as f64 / 1000.0
}

/// The latency tests measure time: every test here takes this lock, so they
/// never share the machine with another run of this file.
static ALONE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs on a shared machine may be slowed by load that is not ours: then the
/// client's own delays grow, and the upper bound below fails for no fault of
/// wasp's. A fault of wasp's (a wrong percentile, coordinated omission, a lost
/// sample) is there in every run, so a run is tried up to this many times.
const ATTEMPTS: usize = 3;

/// wasp's p50/p95/p99 for `name` are within 1 ms + 2 % of the target's delays.
/// Measured times include the client's own overhead, so they never sit below
/// the truth (checked in every attempt) and sit above it by at most that much
/// (in at least one of [`ATTEMPTS`] runs).
async fn percentiles_match(tag: &str, name: &str) {
    let _alone = ALONE.lock().await;
    let mut slow = Vec::new();
    for attempt in 1..=ATTEMPTS {
        let t = target().await;
        let r = run(&plugin("chaos"), &["-H", &t.url(), "-T", tag, "-u", "200", "-r", "100", "-t", "5s", "--wait", "50ms", "--stop-timeout", "5s"]).await;
        assert_eq!(r.code, 0, "{}", r.stderr);
        let entry = r.json["requests"].as_array().unwrap().iter().find(|e| e["name"] == name).expect("entry").clone();
        let mut delays = t.seen.lock().unwrap().delays.clone();
        assert_eq!(entry["count"].as_u64().unwrap(), delays.len() as u64, "every delayed request is counted");
        assert!(delays.len() > 1000, "{} samples", delays.len());
        let mut over = Vec::new();
        for (q, key) in [(0.5, "p50_ms"), (0.95, "p95_ms"), (0.99, "p99_ms")] {
            let want = truth(&mut delays, q);
            let got = entry[key].as_f64().unwrap();
            assert!(got >= want - 0.05, "{name} {key}: measured {got} ms, below the truth {want} ms");
            if got > want + 1.0 + want * 0.02 {
                over.push(format!("{key}: measured {got} ms, truth {want} ms"));
            }
        }
        if over.is_empty() {
            if !slow.is_empty() {
                eprintln!("{name}: held in attempt {attempt}, after slow ones: {slow:?}");
            }
            return;
        }
        eprintln!("{name}: attempt {attempt} of {ATTEMPTS} above 1 ms + 2 %: {over:?}");
        slow.push(over);
    }
    panic!("{name}: above the truth by more than 1 ms + 2 % in all {ATTEMPTS} runs: {slow:?}");
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
    let _alone = ALONE.lock().await;
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
    let _alone = ALONE.lock().await;
    let t = target().await;
    let t0 = Instant::now();
    let r = run(&plugin("chaos"), &["-H", &t.url(), "-T", "hello", "-u", "2", "-t", "60s", "--wait", "20ms", "--threshold", "max<1us", "--abort-on-threshold"])
        .await;
    assert_eq!(r.code, 7, "stopped by a threshold: its own exit code");
    assert_eq!(r.json["stop_reason"], "threshold");
    assert!(t0.elapsed() < Duration::from_secs(15), "stopped after {:?}", t0.elapsed());
    assert!(r.json["total"]["count"].as_u64().unwrap() > 0, "what was measured is reported");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_thresholds_are_usage_errors() {
    let _alone = ALONE.lock().await;
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

/// The Locust release whose CSV files wasp writes (the newest on PyPI when this was written).
const LOCUST: &str = "2.47.0";

/// The four CSV files' headers (and a failure row) as the real Locust writes
/// them: Locust run once, headless, against a loopback target.
async fn locust_csv() -> &'static HashMap<String, Vec<Vec<String>>> {
    static FILES: tokio::sync::OnceCell<HashMap<String, Vec<Vec<String>>>> = tokio::sync::OnceCell::const_new();
    FILES
        .get_or_init(|| async {
            let t = target().await;
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("locustfile.py");
            std::fs::write(
                &file,
                "from locust import HttpUser, task, constant\n\nclass U(HttpUser):\n    wait_time = constant(0.05)\n\n    @task\n    def ok(self):\n        self.client.get('/')\n\n    @task\n    def broken(self):\n        self.client.get('/status/500')\n",
            )
            .unwrap();
            let prefix = dir.path().join("locust");
            let tool = std::env::var("WASP_LOCUST").unwrap_or_else(|_| "locust".into());
            let mut c = tokio::process::Command::new(&tool);
            for (k, _) in std::env::vars() {
                if k.starts_with("LOCUST_") {
                    c.env_remove(k);
                }
            }
            let version = c.arg("--version").output().await.unwrap_or_else(|e| panic!("{tool} runs (pip install locust=={LOCUST}; .ci/run does): {e}"));
            let version = String::from_utf8_lossy(&version.stdout).to_string();
            assert!(version.contains(&format!("locust {LOCUST} ")), "Locust {LOCUST} is the one compared with: {version}");
            let mut c = tokio::process::Command::new(&tool);
            for (k, _) in std::env::vars() {
                if k.starts_with("LOCUST_") {
                    c.env_remove(k);
                }
            }
            let out = c
                .arg("-f")
                .arg(&file)
                .args(["--headless", "-u", "2", "-r", "2", "-t", "3s", "--only-summary", "-H", &t.url(), "--csv"])
                .arg(&prefix)
                .stdin(std::process::Stdio::null())
                .output();
            let out = tokio::time::timeout(Duration::from_secs(60), out).await.expect("Locust ended").expect("Locust ran");
            let mut files = HashMap::new();
            for name in ["stats", "stats_history", "failures", "exceptions"] {
                let path = std::path::PathBuf::from(format!("{}_{name}.csv", prefix.display()));
                assert!(path.is_file(), "Locust wrote {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
                files.insert(name.to_string(), python_rows(&path));
            }
            t.stop().await;
            files
        })
        .await
}

/// Parses a CSV file with Python's csv module; returns its rows as JSON.
fn python_rows(path: &std::path::Path) -> Vec<Vec<String>> {
    let out = std::process::Command::new("python3")
        .args(["-c", "import csv, json, sys; print(json.dumps(list(csv.reader(open(sys.argv[1], newline='')))))"])
        .arg(path)
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "{}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every CSV file exists, has Locust's header byte for byte, and parses; the
/// numbers agree with the JSON report.
async fn check_csv(prefix: &std::path::Path, json: &serde_json::Value) {
    let file = |s: &str| std::path::PathBuf::from(format!("{}_{s}.csv", prefix.display()));
    let locust = locust_csv().await;
    for name in ["stats", "stats_history", "failures", "exceptions"] {
        let header = locust[name][0].join(",");
        let text = std::fs::read_to_string(file(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(text.lines().next(), Some(header.as_str()), "{name} header, as Locust {LOCUST} writes it");
        let rows = python_rows(&file(name));
        let width = locust[name][0].len();
        assert!(rows.iter().all(|r| r.len() == width), "{name}: every row has {width} fields");
    }
    // Failures: first and last seen as Locust writes them (UTC, to the second).
    let utc = |s: &str| s.len() == 20 && s.ends_with('Z') && humantime::parse_rfc3339(s).is_ok();
    let theirs = &locust["failures"];
    assert!(theirs.len() > 1 && utc(&theirs[1][4]) && utc(&theirs[1][5]), "Locust's own failure row: {theirs:?}");
    for row in python_rows(&file("failures")).iter().skip(1) {
        assert!(utc(&row[4]) && utc(&row[5]) && row[4] <= row[5], "first and last seen: {row:?}");
    }
    let stats = python_rows(&file("stats"));
    let agg = stats.last().unwrap();
    assert_eq!((agg[0].as_str(), agg[1].as_str()), ("", "Aggregated"));
    assert_eq!(agg[2], json["total"]["count"].to_string());
    assert_eq!(agg[3], json["total"]["failures"].to_string());
    let p50: f64 = agg[11].parse().unwrap();
    assert!((p50 - json["total"]["p50_ms"].as_f64().unwrap()).abs() <= 0.5, "ms, rounded as Locust does");
    let history = python_rows(&file("stats_history"));
    let aggregated: Vec<_> = history[1..].iter().filter(|r| r[3] == "Aggregated").collect();
    assert!(aggregated.len() >= 2, "an Aggregated row per second: {}", aggregated.len());
    let last_total: u64 = aggregated.last().unwrap()[17].parse().unwrap();
    assert_eq!(last_total, json["total"]["count"].as_u64().unwrap(), "the last history row is the final total");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_files_are_locusts() {
    let _alone = ALONE.lock().await;
    let t = target().await;
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("run");
    let r = run(&plugin("chaos"), &["-H", &t.url(), "-T", "errors,hello", "-u", "3", "-t", "3s", "--wait", "20ms", "--csv", prefix.to_str().unwrap()]).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    check_csv(&prefix, &r.json).await;
    let failures = python_rows(&std::path::PathBuf::from(format!("{}_failures.csv", prefix.display())));
    assert!(failures.iter().any(|f| f[0] == "GET" && f[1] == "/status/500" && f[2] == "HTTP 500 Internal Server Error"), "{failures:?}");
    let exceptions = python_rows(&std::path::PathBuf::from(format!("{}_exceptions.csv", prefix.display())));
    assert!(exceptions.iter().skip(1).any(|e| e[1].starts_with("refused: ")), "{exceptions:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_files_are_complete_after_sigint() {
    let _alone = ALONE.lock().await;
    let t = target().await;
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("run");
    let json = dir.path().join("out.json");
    let child = wasp()
        .arg("run")
        .arg(plugin("chaos"))
        .args(["-H", &t.url(), "-T", "hello", "-u", "3", "--wait", "20ms", "--only-summary", "--csv-full-history"])
        .arg("--csv")
        .arg(&prefix)
        .arg("--json")
        .arg(&json)
        .arg("--html")
        .arg(dir.path().join("out.html"))
        .spawn()
        .unwrap();
    // Wait for at least two history rows (they are flushed every second).
    let history = std::path::PathBuf::from(format!("{}_stats_history.csv", prefix.display()));
    let t0 = Instant::now();
    while std::fs::read_to_string(&history).map(|s| s.lines().count()).unwrap_or(0) < 4 {
        assert!(t0.elapsed() < Duration::from_secs(30), "no history rows");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    std::process::Command::new("kill").args(["-INT", &child.id().unwrap().to_string()]).status().unwrap();
    let r = finish(child, Some(&json)).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json["stop_reason"], "signal");
    check_csv(&prefix, &r.json).await;
    let rows = python_rows(&history);
    assert!(rows.iter().any(|r| r[2] == "GET" && r[3] == "/hello"), "full history has per-name rows");
    let page = std::fs::read_to_string(dir.path().join("out.html")).unwrap();
    assert!(page.ends_with("</html>\n") && page.contains("/hello"), "the HTML report is whole");
}

/// `wasp merge` of three runs equals one histogram of all their samples, per
/// name and in total, to the microsecond; its CSV and HTML come out too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_of_three_runs_is_one_histogram_of_all_samples() {
    let _alone = ALONE.lock().await;
    let t = target().await;
    let dir = tempfile::tempdir().unwrap();
    let mut inputs = vec![];
    for i in 0..3 {
        let json = dir.path().join(format!("run{i}.json"));
        let child = wasp()
            .arg("run")
            .arg(plugin("chaos"))
            .args(["-H", &t.url(), "-T", "hello,bimodal", "-u", "4", "-r", "50", "-t", "2s", "--wait", "5ms", "--stop-timeout", "5s", "--only-summary"])
            .args(["--seed", &i.to_string(), "--threshold", "p99<5s"])
            .arg("--json")
            .arg(&json)
            .spawn()
            .unwrap();
        let r = finish(child, Some(&json)).await;
        assert_eq!(r.code, 0, "{}", r.stderr);
        inputs.push((json, r.json));
    }
    let merged = dir.path().join("merged.json");
    let html = dir.path().join("merged.html");
    let prefix = dir.path().join("merged");
    let child =
        wasp().arg("merge").args(inputs.iter().map(|i| &i.0)).arg("--json").arg(&merged).arg("--html").arg(&html).arg("--csv").arg(&prefix).spawn().unwrap();
    let m = finish(child, Some(&merged)).await;
    assert_eq!(m.code, 0, "{}", m.stderr);
    assert_eq!(m.json["total"]["count"], t.total(), "the merge holds every request the target saw");
    assert_eq!(m.json["thresholds"][0]["threshold"], "p99<5s", "the inputs' thresholds are judged on the merge");

    // One histogram of every sample, built from the inputs' own histograms.
    let quantiles: Vec<(String, f64)> =
        m.json["total"]["percentiles_us"].as_object().unwrap().keys().map(|k| (k.clone(), k.parse::<f64>().unwrap() / 100.0)).collect();
    for name in [None, Some("/hello"), Some("/bimodal")] {
        let pick = |doc: &serde_json::Value| -> serde_json::Value {
            match name {
                None => doc["total"].clone(),
                Some(n) => doc["requests"].as_array().unwrap().iter().find(|e| e["name"] == n).unwrap().clone(),
            }
        };
        let mut all = hdrhistogram::Histogram::<u64>::new(3).unwrap();
        let (mut min, mut max, mut sum) = (u64::MAX, 0, 0);
        for (_, doc) in &inputs {
            let e = pick(doc);
            let h = wasp_report::json::decode(e["histogram"].as_str().unwrap()).unwrap();
            for v in h.iter_recorded() {
                all.record_n(v.value_iterated_to(), v.count_at_value()).unwrap();
            }
            min = min.min(e["min_us"].as_u64().unwrap());
            max = max.max(e["max_us"].as_u64().unwrap());
            sum += e["sum_us"].as_u64().unwrap();
        }
        let got = pick(&m.json);
        assert_eq!(got["count"].as_u64().unwrap(), all.len(), "{name:?}");
        assert!(all.len() > 100, "{name:?}: {} samples", all.len());
        for (key, q) in &quantiles {
            assert_eq!(got["percentiles_us"][key].as_u64().unwrap(), all.value_at_quantile(*q), "{name:?} p{key}");
        }
        assert_eq!((got["min_us"].as_u64().unwrap(), got["max_us"].as_u64().unwrap(), got["sum_us"].as_u64().unwrap()), (min, max, sum));
    }
    check_csv(&prefix, &m.json).await;
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("merged from") && page.ends_with("</html>\n"));
}

/// The HTML report refers to nothing outside itself and renders, charts and
/// all, in headless Chromium.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_report_is_self_contained_and_renders() {
    let _alone = ALONE.lock().await;
    let t = target().await;
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    let r = run(
        &plugin("chaos"),
        &["-H", &t.url(), "-T", "hello,errors", "-u", "6", "-r", "6", "-t", "4s", "--wait", "20ms", "--threshold", "p95<2s", "--html", html.to_str().unwrap()],
    )
    .await;
    assert_eq!(r.code, 0, "thresholds decide: {}", r.stderr);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>") && page.ends_with("</html>\n"));
    for external in ["<script", "<link", "<img", "<iframe", "<object", "<embed", " src=", " href="] {
        assert!(!page.contains(external), "the page holds {external}");
    }
    let style = &page[page.find("<style>").unwrap()..page.find("</style>").unwrap()];
    assert!(!style.contains("url(") && !style.contains("@import"), "the CSS fetches nothing");
    // Addresses appear only as text (the target, error messages), never inside
    // a tag: nothing is fetched.
    let mut shown = 0;
    for scheme in ["http://", "https://"] {
        for (i, _) in page.match_indices(scheme) {
            let in_tag = page[..i].rfind('<') > page[..i].rfind('>');
            assert!(!in_tag, "an address inside a tag: {}", &page[i.saturating_sub(30)..(i + 30).min(page.len())]);
            shown += 1;
        }
    }
    assert!(shown >= 1 && page.contains(&format!("http://{}", t.addr)), "the target's address is shown as text");
    assert_eq!(page.matches("<svg").count(), 4, "four charts");
    for text in ["/status/500", "HTTP 500 Internal Server Error", "p95&lt;2s"] {
        assert!(page.contains(text), "the page shows {text}");
    }

    let png = dir.path().join("shot.png");
    screenshot(&html, &png, dir.path()).await;
    let (w, h, pixels) = decode_png(&png);
    assert!(w >= 1200 && h >= 1500, "{w}x{h}");
    let distinct: std::collections::HashSet<[u8; 3]> = pixels.iter().copied().collect();
    assert!(distinct.len() > 50, "the screenshot is not blank: {} colours", distinct.len());
    // Each chart's series colour is drawn (lines are 2 px wide, so anti-aliased
    // edges aside, plenty of pixels carry the exact colour).
    for (name, rgb) in [
        ("requests", [37, 99, 235]),
        ("failures", [220, 38, 38]),
        ("p50", [22, 163, 74]),
        ("p95", [217, 119, 6]),
        ("p99", [147, 51, 234]),
        ("users", [8, 145, 178]),
    ] {
        let n = pixels.iter().filter(|p| p.iter().zip(rgb).all(|(a, b)| a.abs_diff(b) <= 10)).count();
        assert!(n >= 30, "{name} series: {n} pixels of its colour");
    }
}

/// Debian's Chromium: WASP_CHROMIUM, else `chromium` on the PATH (.ci/run installs it).
async fn screenshot(html: &std::path::Path, png: &std::path::Path, profile: &std::path::Path) {
    let exe = std::env::var("WASP_CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let mut cmd = tokio::process::Command::new(&exe);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--window-size=1400,2200",
    ])
    .arg(format!("--user-data-dir={}", profile.join("chromium").display()))
    .arg(format!("--screenshot={}", png.display()))
    .arg(format!("file://{}", html.display()))
    .stdin(std::process::Stdio::null())
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .kill_on_drop(true);
    let status = tokio::time::timeout(Duration::from_secs(60), cmd.status())
        .await
        .expect("chromium finished within 60 s")
        .unwrap_or_else(|e| panic!("cannot start {exe} ({e}): install Debian's chromium, as .ci/run does"));
    assert!(status.success() && png.exists(), "chromium made no screenshot");
}

/// When the target goes away mid-run, the run goes on (counting the refusals)
/// and every report file is still whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_are_whole_when_the_target_goes_away() {
    let _alone = ALONE.lock().await;
    let t = target().await;
    let url = t.url();
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("run");
    let json = dir.path().join("out.json");
    let html = dir.path().join("out.html");
    let child = wasp()
        .arg("run")
        .arg(plugin("chaos"))
        .args(["-H", &url, "-T", "hello", "-u", "3", "-r", "10", "-t", "4s", "--wait", "20ms", "--only-summary"])
        .arg("--csv")
        .arg(&prefix)
        .arg("--json")
        .arg(&json)
        .arg("--html")
        .arg(&html)
        .spawn()
        .unwrap();
    t.wait_for_requests(50, Duration::from_secs(20)).await;
    let served = {
        let seen = t.seen.clone();
        tokio::time::timeout(Duration::from_secs(10), t.stop()).await.expect("the target stops");
        let n = seen.lock().unwrap().total;
        n
    };
    let r = finish(child, Some(&json)).await;
    assert_eq!(r.code, 1, "refused requests are failures: {}", r.stderr);
    let ok = r.json["total"]["count"].as_u64().unwrap() - r.json["total"]["failures"].as_u64().unwrap();
    assert_eq!(ok, served, "every request the target answered is counted as a success");
    assert!(failures(&r.json).iter().any(|(_, e, _)| e.starts_with("connect")), "{:?}", failures(&r.json));
    check_csv(&prefix, &r.json).await;
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.ends_with("</html>\n") && page.contains("connect"));
}
