//! Distributed runs, end to end: shards as separate `wasp` processes — in
//! network namespaces of their own where the machine lets the test make
//! them — against one target; the start barrier; global verdicts by
//! `wasp merge`; the Kubernetes objects of `wasp k8s`.

mod common;

use axum::extract::{ConnectInfo, State};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine as _;
use common::{finish, plugin, wasp, Finished};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::process::Command;

/// What the target saw, per client address.
#[derive(Default)]
struct Seen {
    first: HashMap<IpAddr, Instant>,
    requests: HashMap<IpAddr, u64>,
    /// Distinct (address, port) pairs: each user holds its own connection.
    connections: HashSet<SocketAddr>,
}

#[derive(Clone)]
struct Ctx {
    seen: Arc<Mutex<Seen>>,
    delay: Duration,
    /// Only this client gets the delay (all, if none).
    slow: Option<IpAddr>,
}

async fn answer(State(c): State<Ctx>, ConnectInfo(peer): ConnectInfo<SocketAddr>) -> &'static str {
    {
        let mut s = c.seen.lock().unwrap();
        s.first.entry(peer.ip()).or_insert_with(Instant::now);
        *s.requests.entry(peer.ip()).or_default() += 1;
        s.connections.insert(peer);
    }
    if !c.delay.is_zero() && c.slow.is_none_or(|ip| ip == peer.ip()) {
        tokio::time::sleep(c.delay).await;
    }
    "ok"
}

struct Target {
    addr: SocketAddr,
    seen: Arc<Mutex<Seen>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Target {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn target(on: IpAddr, delay: Duration) -> Target {
    target_slow_for(on, delay, None).await
}

async fn target_slow_for(on: IpAddr, delay: Duration, slow: Option<IpAddr>) -> Target {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let ctx = Ctx { seen: seen.clone(), delay, slow };
    let app = Router::new().route("/", get(answer)).route("/items", post(answer)).with_state(ctx);
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(on, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
    Target { addr, seen, task }
}

/// Network namespaces on one bridge: shard i at 10.S.0.(10+i), the host side
/// at 10.S.0.1. Removed on drop.
struct Cluster {
    bridge: String,
    names: Vec<String>,
    net: u8,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = std::process::Command::new("ip").args(args).output().map_err(|e| format!("ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

impl Cluster {
    /// `tag` (0–9) tells apart the clusters of one test process.
    fn make(n: usize, tag: u8) -> Result<Cluster, String> {
        let pid = std::process::id();
        let net = 20 + (pid % 100) as u8 * 2 + tag % 2;
        let c = Cluster { bridge: format!("wb{pid}{tag}"), names: (0..n).map(|i| format!("wasp-{pid}-{tag}-{i}")).collect(), net };
        ip(&["link", "add", &c.bridge, "type", "bridge"])?;
        ip(&["addr", "add", &format!("{}/24", c.host()), "dev", &c.bridge])?;
        ip(&["link", "set", &c.bridge, "up"])?;
        for (i, ns) in c.names.iter().enumerate() {
            let (outside, inside) = (format!("wv{pid}{tag}h{i}"), format!("wv{pid}{tag}n{i}"));
            ip(&["netns", "add", ns])?;
            ip(&["link", "add", &outside, "type", "veth", "peer", "name", &inside])?;
            ip(&["link", "set", &inside, "netns", ns])?;
            ip(&["link", "set", &outside, "master", &c.bridge, "up"])?;
            ip(&["-n", ns, "addr", "add", &format!("{}/24", c.shard(i)), "dev", &inside])?;
            ip(&["-n", ns, "link", "set", &inside, "up"])?;
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
        }
        Ok(c)
    }

    fn host(&self) -> IpAddr {
        format!("10.{}.0.1", self.net).parse().unwrap()
    }

    fn shard(&self, i: usize) -> IpAddr {
        format!("10.{}.0.{}", self.net, 10 + i).parse().unwrap()
    }

    /// `wasp ARGS` inside shard i's namespace (`ip netns exec` replaces itself
    /// with wasp: the child's PID is wasp's).
    fn wasp(&self, i: usize) -> Command {
        let mut c = wasp();
        let exe = env!("CARGO_BIN_EXE_wasp");
        // The same environment as wasp() prepared, with `ip netns exec` in front.
        let std = c.as_std_mut();
        let mut outer = Command::new("ip");
        outer.args(["netns", "exec", &self.names[i], exe]);
        for (k, v) in std.get_envs() {
            match v {
                Some(v) => outer.env(k, v),
                None => outer.env_remove(k),
            };
        }
        outer.stdin(std::process::Stdio::null()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).kill_on_drop(true);
        outer
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for ns in &self.names {
            let _ = ip(&["netns", "del", ns]);
        }
        let _ = ip(&["link", "del", &self.bridge]);
    }
}

const PLAN: &str = r#"
[scenarios.browse]
executor = "constant-users"
users = 10
spawn-rate = 1000
wait = "100ms"
duration = "4s"

[scenarios.arrivals]
executor = "constant-arrival-rate"
rate = "40/s"
pre-allocated-users = 8
max-users = 8
duration = "4s"

[scenarios.batch]
executor = "shared-iterations"
users = 5
iterations = 37
wait = "none"
"#;

fn runs(json: &Value, scenario: &str) -> u64 {
    json["tasks"].as_array().unwrap().iter().filter(|t| t["scenario"] == scenario).map(|t| t["runs"].as_u64().unwrap()).sum()
}

fn histogram(text: &str) -> hdrhistogram::Histogram<u64> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(text).expect("base64");
    hdrhistogram::serialization::Deserializer::new().deserialize(&mut bytes.as_slice()).expect("an HDR histogram")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_simulated_cluster_runs_the_plan_exactly_once_starting_together() {
    let qs = plugin("quickstart");
    let cluster = match Cluster::make(4, 0) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("SKIPPED: network namespaces cannot be made here ({e}); the cluster test needs root and iproute2");
            return;
        }
    };
    let t = target(cluster.host(), Duration::ZERO).await;
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.toml");
    std::fs::write(&plan, PLAN).unwrap();
    let url = format!("http://{}", t.addr);
    let common_args = |c: &mut Command| {
        c.arg("run").arg(&qs).arg("--scenarios").arg(&plan).args(["-H", &url, "-t", "6s", "--seed", "11", "--only-summary"]);
    };

    // The whole plan once, from the host side.
    let whole_json = dir.path().join("whole.json");
    let mut c = wasp();
    common_args(&mut c);
    let whole = c.arg("--json").arg(&whole_json).spawn().unwrap();

    // The shards, started 5 s apart: the barrier holds the early ones.
    let peers = format!("10.{}.0.{{10..13}}:7357", cluster.net);
    let mut shards = vec![];
    for i in 0..4 {
        if i > 0 {
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        let mut c = cluster.wasp(i);
        common_args(&mut c);
        c.args(["--segments", "4", "--barrier", &peers, "--barrier-timeout", "60s"]).env("JOB_COMPLETION_INDEX", i.to_string());
        let out = dir.path().join(format!("shard-{i}.json"));
        shards.push((c.arg("--json").arg(&out).spawn().expect("ip netns exec wasp starts"), out));
    }
    let whole = finish(whole, Some(&whole_json)).await;
    assert_eq!(whole.code, 0, "{}", whole.stderr);
    let mut done: Vec<Finished> = vec![];
    for (child, out) in shards {
        let r = finish(child, Some(&out)).await;
        assert_eq!(r.code, 0, "{}", r.stderr);
        done.push(r);
    }

    let seen = t.seen.lock().unwrap();
    // Every shard sent its first request within 100 ms of the others, though started 15 s apart.
    let firsts: Vec<Instant> = (0..4).map(|i| seen.first[&cluster.shard(i)]).collect();
    let spread = *firsts.iter().max().unwrap() - *firsts.iter().min().unwrap();
    eprintln!("first requests of the 4 shards {spread:?} apart");
    assert!(spread <= Duration::from_millis(100), "first requests {spread:?} apart");
    // Users: the shards' sum is the whole run's, scenario by scenario.
    let users = |json: &Value, scenario: &str| {
        json["scenarios"].as_array().unwrap().iter().find(|s| s["name"] == scenario).map(|s| s["users_started"].as_u64().unwrap()).unwrap()
    };
    for (scenario, expect) in [("browse", 10), ("arrivals", 8), ("batch", 5)] {
        assert_eq!(users(&whole.json, scenario), expect, "the whole run's {scenario} users");
        let shares: Vec<u64> = done.iter().map(|r| users(&r.json, scenario)).collect();
        assert_eq!(shares.iter().sum::<u64>(), expect, "{scenario}: users sum exactly: {shares:?}");
        assert!(shares.iter().max().unwrap() - shares.iter().min().unwrap() <= 1, "{scenario}: evenly: {shares:?}");
    }
    for (i, r) in done.iter().enumerate() {
        assert_eq!(r.json["meta"]["segment"], format!("{i}/4"));
        let mine: u64 = r.json["total"]["count"].as_u64().unwrap();
        assert!(mine > 0 && seen.requests[&cluster.shard(i)] >= mine, "shard {i} measured what it sent");
    }
    drop(seen);
    // Shared iterations exactly; arrivals within 2 %.
    assert_eq!(runs(&whole.json, "batch"), 37);
    assert_eq!(done.iter().map(|r| runs(&r.json, "batch")).sum::<u64>(), 37, "shared iterations split exactly");
    let (w, s) = (runs(&whole.json, "arrivals"), done.iter().map(|r| runs(&r.json, "arrivals")).sum::<u64>());
    assert!(w >= 155, "40/s for 4 s: {w}");
    assert!((w as f64 - s as f64).abs() <= (w as f64 * 0.02).max(2.0), "arrivals: whole {w}, shards {s}");

    // The merge, once all four are there: percentiles of one histogram of every sample.
    let merged = dir.path().join("merged.json");
    let m = finish(wasp().args(["merge", "--expect", "4", "--wait", "10s"]).arg(dir.path()).arg("--json").arg(&merged).spawn().unwrap(), Some(&merged)).await;
    assert_eq!(m.code, 0, "{}", m.stderr);
    let mut all = histogram(done[0].json["total"]["histogram"].as_str().unwrap());
    all.auto(true);
    for r in &done[1..] {
        all.add(histogram(r.json["total"]["histogram"].as_str().unwrap())).unwrap();
    }
    assert_eq!(m.json["total"]["count"].as_u64().unwrap(), all.len());
    for (q, us) in m.json["total"]["percentiles_us"].as_object().unwrap() {
        let quantile: f64 = q.parse::<f64>().unwrap() / 100.0;
        assert_eq!(us.as_u64().unwrap(), all.value_at_quantile(quantile), "p{q}");
    }
    let parts: Vec<&str> = m.json["meta"]["parts"].as_array().unwrap().iter().map(|p| p["segment"].as_str().unwrap()).collect();
    assert_eq!(parts, ["0/4", "1/4", "2/4", "3/4"], "one row per shard, in order; the whole run's file is not a shard's");
}

/// In the simulated cluster, one shard's requests are slow (the target delays
/// that address): it loses the threshold and aborts with its own code while
/// the others run on; the merge, already waiting, gives the global verdict.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn in_the_cluster_one_shard_losing_a_threshold_aborts_alone_and_the_merge_fails_the_run() {
    let cluster = match Cluster::make(4, 1) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("SKIPPED: network namespaces cannot be made here ({e}); the cluster test needs root and iproute2");
            return;
        }
    };
    let t = target_slow_for(cluster.host(), Duration::from_secs(1), Some(cluster.shard(3))).await;
    let dir = tempfile::tempdir().unwrap();
    let merged = dir.path().join("merged.json");
    let merge = wasp().args(["merge", "--expect", "4", "--wait", "50s"]).arg(dir.path()).arg("--json").arg(&merged).spawn().unwrap();
    let peers = format!("10.{}.0.{{10..13}}:7357", cluster.net);
    let url = format!("http://{}", t.addr);
    let mut shards = vec![];
    for i in 0..4 {
        let mut c = cluster.wasp(i);
        c.arg("run").arg(plugin("quickstart")).args(["-H", &url, "-u", "8", "-t", "8s", "--wait", "100ms", "--only-summary"]);
        c.args(["--threshold", "max<500ms", "--abort-on-threshold", "--segments", "4", "--barrier", &peers, "--barrier-timeout", "30s"]);
        let out = dir.path().join(format!("shard-{i}.json"));
        shards.push((c.env("JOB_COMPLETION_INDEX", i.to_string()).arg("--json").arg(&out).spawn().unwrap(), out));
    }
    let mut codes = vec![];
    for (child, out) in shards {
        let r = finish(child, Some(&out)).await;
        codes.push((r.code, r.json["stop_reason"].as_str().unwrap_or_default().to_string()));
    }
    let expect = |c: i32, why: &str| (c, why.to_string());
    let seen = format!("{:?} (slow: {})", t.seen.lock().unwrap().requests, cluster.shard(3));
    assert_eq!(codes, [expect(0, "run-time"), expect(0, "run-time"), expect(0, "run-time"), expect(7, "threshold")], "requests per shard: {seen}");
    let m = finish(merge, Some(&merged)).await;
    assert_eq!(m.code, 1, "the global verdict: {}", m.stdout);
    assert_eq!(m.json["thresholds"][0]["passed"], false);
    assert_eq!(m.json["meta"]["parts"][3]["exit_code"], 7, "the aborted shard's row says so");
}

/// Two shards on loopback, each with its own barrier port.
fn loopback_shard(i: usize, peers: &str, host: &str, out: &Path, extra: &[&str]) -> Command {
    let mut c = wasp();
    c.arg("run").arg(plugin("quickstart")).args(["--segment", &format!("{i}/2"), "--barrier", peers, "--barrier-timeout", "30s"]);
    c.args(["-H", host, "-u", "4", "-t", "5s", "--wait", "50ms", "--only-summary"]).args(extra).arg("--json").arg(out);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shard_that_loses_a_threshold_aborts_with_its_code_and_the_merge_gives_the_verdict() {
    let lo: IpAddr = "127.0.0.1".parse().unwrap();
    let (fast, slow) = (target(lo, Duration::ZERO).await, target(lo, Duration::from_secs(1)).await);
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    std::fs::create_dir(&results).unwrap();
    let peers = format!("127.0.0.1:{},127.0.0.1:{}", common::demo::free_port(), common::demo::free_port());
    // The merge waits before any shard has written anything; its output lies in the same folder.
    let merged = results.join("merged.json");
    let merge = wasp().args(["merge", "--expect", "2", "--wait", "40s"]).arg(&results).arg("--json").arg(&merged).spawn().unwrap();
    let gate = ["--threshold", "max<500ms", "--abort-on-threshold"];
    let outs = [results.join("a.json"), results.join("b.json")];
    let a = loopback_shard(0, &peers, &format!("http://{}", fast.addr), &outs[0], &gate).spawn().unwrap();
    let b = loopback_shard(1, &peers, &format!("http://{}", slow.addr), &outs[1], &gate).spawn().unwrap();
    let (a, b) = (finish(a, Some(&outs[0])).await, finish(b, Some(&outs[1])).await);
    assert_eq!(a.code, 0, "the shard within its threshold: {}", a.stderr);
    assert_eq!(b.code, 7, "the shard that lost it aborts with its own code: {}", b.stderr);
    assert_eq!(b.json["stop_reason"], "threshold");
    let m = finish(merge, Some(&merged)).await;
    assert_eq!(m.code, 1, "the global verdict: {}", m.stdout);
    assert_eq!(m.json["thresholds"][0]["passed"], false);
    assert_eq!(
        m.json["total"]["count"].as_u64().unwrap(),
        a.json["total"]["count"].as_u64().unwrap() + b.json["total"]["count"].as_u64().unwrap(),
        "both shards merged, the merge's own output left out"
    );

    // A shard missing: exit 8 after the wait, naming it.
    let alone = dir.path().join("alone");
    std::fs::create_dir(&alone).unwrap();
    std::fs::copy(&outs[0], alone.join("a.json")).unwrap();
    let t0 = Instant::now();
    let r = finish(wasp().args(["merge", "--expect", "2", "--wait", "1s"]).arg(&alone).spawn().unwrap(), None).await;
    assert_eq!(r.code, 8, "{}", r.stderr);
    assert!(r.stderr.contains("missing shard 1"), "{}", r.stderr);
    // Another run's split: refused.
    let r = finish(wasp().args(["merge", "--expect", "3"]).arg(&alone).spawn().unwrap(), None).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not of 3"), "{}", r.stderr);
    assert!(t0.elapsed() >= Duration::from_secs(1));
    // A shard twice: refused.
    let r = finish(wasp().args(["merge", "--expect", "2"]).arg(&results).arg(&outs[0]).spawn().unwrap(), None).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("two results of shard 0/2"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_peer_ends_the_barrier_with_its_code_and_no_load() {
    let t = target("127.0.0.1".parse().unwrap(), Duration::ZERO).await;
    let (mine, gone) = (common::demo::free_port(), common::demo::free_port());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let t0 = Instant::now();
    let mut c = wasp();
    c.arg("run").arg(plugin("quickstart")).args(["--segment", "0/2", "--barrier", &format!("127.0.0.1:{mine},127.0.0.1:{gone}"), "--barrier-timeout", "2s"]);
    let r = finish(c.args(["-H", &format!("http://{}", t.addr), "-u", "2", "-t", "2s"]).arg("--json").arg(&out).spawn().unwrap(), None).await;
    assert_eq!(r.code, 8, "{}", r.stderr);
    assert!(r.stderr.contains(&format!("127.0.0.1:{gone}")) && r.stderr.contains("1 of 2 peers not ready"), "{}", r.stderr);
    assert!(t0.elapsed() >= Duration::from_secs(2));
    assert!(t.seen.lock().unwrap().requests.is_empty(), "no load before the barrier");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn segment_options_refuse_bad_input_in_one_line() {
    let qs = plugin("quickstart");
    for (args, env, why) in [
        (vec!["--segments", "4"], None, "JOB_COMPLETION_INDEX, which is not set"),
        (vec!["--segments", "4"], Some("4"), "numbered 0 to 3"),
        (vec!["--segments", "4"], Some("two"), "not a whole number"),
        (vec!["--segment", "4/4"], None, "numbered 0 to 3"),
        (vec!["--segment", "1/2", "--barrier", "a:1,b:2,c:3"], None, "3 peers for 2 shards"),
        (vec!["--segment", "1/2", "--barrier", "a:1,b"], None, "no port"),
        (vec!["--start-at", "tomorrow"], None, "neither a UTC time"),
        (vec!["--barrier", "a:1"], None, "--segment"),
    ] {
        let mut c = wasp();
        c.arg("run").arg(&qs).args(&args);
        if let Some(i) = env {
            c.env("JOB_COMPLETION_INDEX", i);
        }
        let r = finish(c.spawn().unwrap(), None).await;
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        let lines: Vec<&str> = r.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{args:?}: {}", r.stderr);
        assert!(lines[0].contains(why), "{args:?}: {}", lines[0]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_at_holds_the_load_until_its_time() {
    let t = target("127.0.0.1".parse().unwrap(), Duration::ZERO).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let t0 = Instant::now();
    let mut c = wasp();
    c.arg("run").arg(plugin("quickstart")).args(["--start-at", "3s", "-H", &format!("http://{}", t.addr), "-u", "1", "-t", "1s", "--only-summary"]);
    let r = finish(c.arg("--json").arg(&out).spawn().unwrap(), Some(&out)).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let first = t.seen.lock().unwrap().first.values().copied().min().expect("requests came");
    assert!(first - t0 >= Duration::from_secs(3), "first request {:?} after the start", first - t0);
}

/// `wasp k8s` prints objects that validate against the Kubernetes schemas
/// (kubernetes-validate, offline, strict) for the version the README names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kubernetes_objects_validate_against_the_schemas() {
    let qs = plugin("quickstart");
    let r = finish(
        wasp()
            .args(["k8s", "--shards", "4", "--name", "shop-load", "--cpu", "1", "--memory", "512Mi"])
            .arg(&qs)
            .args(["-u", "100", "-t", "2m", "-H", "http://shop:8080"])
            .spawn()
            .unwrap(),
        None,
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("k8s.yaml");
    std::fs::write(&file, &r.stdout).unwrap();
    assert_eq!(r.stdout.matches("\nkind: ").count() + r.stdout.matches("---\nkind: ").count(), 5, "five objects");
    assert!(r.stdout.contains("shop-load-{0..3}.shop-load-peers:7357"));
    let tool = std::env::var("WASP_KUBERNETES_VALIDATE").unwrap_or_else(|_| "kubernetes-validate".into());
    let out = std::process::Command::new(&tool)
        .args(["--strict", "--quiet", "-k", "1.33.0"])
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("{tool} runs (pip install kubernetes-validate==1.37.0; .ci/run does): {e}"));
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    kubectl_dry_run(&file).await;
    // Bad input: one line, exit 2.
    for (args, why) in [(vec!["--shards", "2", "--name", "Bad_Name"], "--name"), (vec!["--shards", "2", "-u"], "give the plugin first")] {
        let r = finish(wasp().arg("k8s").args(&args).arg(&qs).args(["-t", "1m"]).spawn().unwrap(), None).await;
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(why), "{args:?}: {}", r.stderr);
    }
    for (run, why) in
        [(vec!["--json", "x.json", "-t", "1m"], "set by wasp k8s"), (vec!["-u", "lots", "-t", "1m"], "run options"), (vec!["-u", "3"], "-t/--run-time")]
    {
        let r = finish(wasp().args(["k8s", "--shards", "2"]).arg(&qs).args(&run).spawn().unwrap(), None).await;
        assert_eq!(r.code, 2, "{run:?}: {}", r.stderr);
        assert!(r.stderr.contains(why) && r.stderr.lines().count() == 1, "{run:?}: {}", r.stderr);
    }
}

/// A shard's telemetry names its shard (resource attributes `wasp.shard`,
/// `wasp.shards`), beside the user's own resource attributes, on spans and metrics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shards_telemetry_says_which_shard_it_is() {
    let t = target("127.0.0.1".parse().unwrap(), Duration::ZERO).await;
    let rx = common::otlp::receiver(false).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let mut c = wasp();
    c.arg("run").arg(plugin("quickstart")).args(["--segment", "1/3", "-H", &format!("http://{}", t.addr), "-u", "3", "-t", "2s", "--only-summary"]);
    c.env("OTEL_EXPORTER_OTLP_ENDPOINT", rx.grpc_url()).env("OTEL_RESOURCE_ATTRIBUTES", "team=load").env("OTEL_METRIC_EXPORT_INTERVAL", "500");
    let r = finish(c.arg("--json").arg(&out).spawn().unwrap(), Some(&out)).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let got = rx.store.lock().unwrap();
    assert!(!got.spans.is_empty() && !got.metrics.is_empty(), "spans and metrics arrived");
    for (res, _) in &got.spans {
        assert_eq!((res["wasp.shard"].as_str(), res["wasp.shards"].as_str(), res["team"].as_str()), ("1", "3", "load"));
    }
    for m in &got.metrics {
        let res = common::otlp::text(&m.resource.as_ref().unwrap().attributes);
        assert_eq!((res["wasp.shard"].as_str(), res["wasp.shards"].as_str()), ("1", "3"));
    }
}

/// `kubectl apply --dry-run=client --validate=false` parses the objects. kubectl
/// maps kinds through the API server's discovery even then: a stand-in
/// serves just that (the five kinds, none of the objects existing).
async fn kubectl_dry_run(file: &Path) {
    if std::process::Command::new("kubectl").arg("version").arg("--client").output().is_err() {
        eprintln!("SKIPPED: kubectl is not installed: the objects were checked against the schemas only");
        return;
    }
    let resources = |group: &str, list: &[(&str, &str)]| {
        let r: Vec<Value> = list
            .iter()
            .map(|(name, kind)| serde_json::json!({ "name": name, "singularName": kind.to_lowercase(), "namespaced": true, "kind": kind, "verbs": ["create", "get", "patch"] }))
            .collect();
        serde_json::json!({ "kind": "APIResourceList", "groupVersion": group, "resources": r })
    };
    let core = resources("v1", &[("configmaps", "ConfigMap"), ("services", "Service"), ("persistentvolumeclaims", "PersistentVolumeClaim")]);
    let batch = resources("batch/v1", &[("jobs", "Job")]);
    let app = Router::new()
        .route("/api", get(|| async { axum::Json(serde_json::json!({ "kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [] })) }))
        .route(
            "/apis",
            get(|| async {
                let v = serde_json::json!({ "groupVersion": "batch/v1", "version": "v1" });
                axum::Json(
                    serde_json::json!({ "kind": "APIGroupList", "apiVersion": "v1", "groups": [{ "name": "batch", "versions": [v], "preferredVersion": v }] }),
                )
            }),
        )
        .route("/api/v1", get(move || async move { axum::Json(core) }))
        .route("/apis/batch/v1", get(move || async move { axum::Json(batch) }))
        .fallback(|| async {
            (
                axum::http::StatusCode::NOT_FOUND,
                axum::Json(serde_json::json!({ "kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404 })),
            )
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kubeconfig");
    std::fs::write(&config, "").unwrap();
    let out = tokio::process::Command::new("kubectl")
        .env("KUBECONFIG", &config)
        .arg(format!("--server=http://{addr}"))
        .args(["apply", "--dry-run=client", "--validate=false", "-f"])
        .arg(file)
        .output()
        .await
        .expect("kubectl runs");
    server.abort();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    for object in [
        "configmap/shop-load-plugin",
        "service/shop-load-peers",
        "persistentvolumeclaim/shop-load-results",
        "job.batch/shop-load ",
        "job.batch/shop-load-merge",
    ] {
        assert!(text.contains(object), "kubectl took {object}: {text}");
    }
}
