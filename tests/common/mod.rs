//! Shared by the end-to-end tests: a local HTTP target that records what it
//! sees, the test plugins (built on first use), and a way to run the real
//! `wasp` binary with a deadline. Everything listens on 127.0.0.1 with an
//! ephemeral port and is stopped by the test that started it.
#![allow(dead_code)]

pub mod demo;
pub mod faults;
pub mod otlp;
pub mod podman;
pub mod proxy;

use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};
use tokio::sync::oneshot;

/// What the target saw.
#[derive(Default, Debug)]
pub struct Seen {
    /// Requests per path (query excluded).
    pub paths: HashMap<String, u64>,
    pub total: u64,
    /// Arrival of each user's `/start` (from `?u=`).
    pub starts: HashMap<u64, Instant>,
    /// `/hello` requests per user.
    pub hello_by_user: HashMap<u64, u64>,
    pub first: Option<Instant>,
    pub last: Option<Instant>,
    /// `/whoami?u=X` answered with a cookie that was not X's.
    pub cookie_mismatches: u64,
    /// Cookies `/crumbs` gave out.
    pub crumbs: u64,
    /// The delay each `/delay` and `/bimodal` request actually got (timed around the sleep), in µs.
    pub delays: Vec<u64>,
    bimodal: u64,
    /// Path and headers of every request, in arrival order.
    pub headers: Vec<(String, HeaderMap)>,
    /// Path and arrival time of every request, in arrival order.
    pub times: Vec<(String, Instant)>,
    /// Keys `/once?key=` was asked for.
    once: std::collections::HashSet<String>,
}

#[derive(Clone)]
struct Ctx {
    seen: Arc<Mutex<Seen>>,
    refused_port: u16,
    started: Instant,
}

/// Answers in 1 ms, except that every 10 s (from 5 s to 7 s after the
/// target started) it stalls: every request then waits for the stall's end.
async fn stall(State(ctx): State<Ctx>) -> &'static str {
    let t = ctx.started.elapsed();
    let in_period = Duration::from_millis(t.as_millis() as u64 % 10_000);
    if in_period >= Duration::from_secs(5) && in_period < Duration::from_secs(7) {
        tokio::time::sleep(Duration::from_secs(7) - in_period).await;
    } else {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    "stalled or not"
}

/// TCP connections the target accepted, and how many are open now.
#[derive(Default)]
pub struct Connections {
    pub accepted: AtomicU64,
    pub open: AtomicI64,
}

/// A listener that counts connections: each stream decrements `open` when
/// the server is done with it (the peer closed it, or it failed).
struct Counting {
    inner: tokio::net::TcpListener,
    conns: Arc<Connections>,
}

struct Counted {
    stream: tokio::net::TcpStream,
    conns: Arc<Connections>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.conns.open.fetch_sub(1, Ordering::SeqCst);
    }
}

impl tokio::io::AsyncRead for Counted {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Counted {
    fn poll_write(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>, buf: &[u8]) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.stream).poll_write(cx, buf)
    }
    fn poll_flush(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_flush(cx)
    }
    fn poll_shutdown(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

impl axum::serve::Listener for Counting {
    type Io = Counted;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Counted, SocketAddr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    self.conns.accepted.fetch_add(1, Ordering::SeqCst);
                    self.conns.open.fetch_add(1, Ordering::SeqCst);
                    return (Counted { stream, conns: self.conns.clone() }, addr);
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

pub struct Target {
    pub addr: SocketAddr,
    /// TCP connections accepted and open.
    pub conns: Arc<Connections>,
    /// When it started (the stall schedule counts from here).
    pub started: Instant,
    pub seen: Arc<Mutex<Seen>>,
    /// A loopback port nothing listens on.
    pub refused_port: u16,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Target {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn count(&self, path: &str) -> u64 {
        self.seen.lock().unwrap().paths.get(path).copied().unwrap_or(0)
    }

    pub fn total(&self) -> u64 {
        self.seen.lock().unwrap().total
    }

    /// TCP connections accepted so far.
    pub fn accepted(&self) -> u64 {
        self.conns.accepted.load(Ordering::SeqCst)
    }

    /// TCP connections open now.
    pub fn open(&self) -> i64 {
        self.conns.open.load(Ordering::SeqCst)
    }

    /// Waits (polling, with a deadline) until the target has seen `n` requests.
    pub async fn wait_for_requests(&self, n: u64, deadline: Duration) {
        let t0 = Instant::now();
        while self.total() < n {
            assert!(t0.elapsed() < deadline, "target saw only {} of {n} requests in {deadline:?}", self.total());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

fn user(q: &HashMap<String, String>) -> u64 {
    q.get("u").and_then(|u| u.parse().ok()).unwrap_or(0)
}

async fn record(State(ctx): State<Ctx>, req: Request, next: Next) -> Response {
    {
        let now = Instant::now();
        let mut s = ctx.seen.lock().unwrap();
        *s.paths.entry(req.uri().path().to_string()).or_insert(0) += 1;
        s.total += 1;
        s.first.get_or_insert(now);
        s.last = Some(now);
        s.headers.push((req.uri().path().to_string(), req.headers().clone()));
        s.times.push((req.uri().path().to_string(), now));
    }
    next.run(req).await
}

async fn start(State(ctx): State<Ctx>, Query(q): Query<HashMap<String, String>>) -> &'static str {
    ctx.seen.lock().unwrap().starts.entry(user(&q)).or_insert_with(Instant::now);
    "started"
}

async fn hello(State(ctx): State<Ctx>, Query(q): Query<HashMap<String, String>>) -> &'static str {
    *ctx.seen.lock().unwrap().hello_by_user.entry(user(&q)).or_insert(0) += 1;
    "hello"
}

/// Headers a plugin must read back as sent (the test plugins' `headers`
/// tasks check them): two of one name, a value holding `: `, one with a
/// byte that is not UTF-8, an empty one; the `x-` ones in this order.
async fn headers_to_read() -> impl IntoResponse {
    use axum::http::HeaderValue;
    let mut h = HeaderMap::new();
    h.append("x-first", HeaderValue::from_static("1"));
    h.append(header::SET_COOKIE, HeaderValue::from_static("a=1; Path=/headers"));
    h.append(header::SET_COOKIE, HeaderValue::from_static("b=2; Path=/headers"));
    h.append("x-colon", HeaderValue::from_static("a: b"));
    h.append("x-latin", HeaderValue::from_bytes(b"caf\xe9").unwrap());
    h.append("x-empty", HeaderValue::from_static(""));
    (h, "headers")
}

async fn login(Query(q): Query<HashMap<String, String>>) -> impl IntoResponse {
    ([(header::SET_COOKIE, format!("session={}; Path=/", user(&q)))], "welcome")
}

/// A new 3,000-byte cookie at each answer (names never repeat).
async fn crumbs(State(ctx): State<Ctx>) -> impl IntoResponse {
    let n = {
        let mut s = ctx.seen.lock().unwrap();
        s.crumbs += 1;
        s.crumbs
    };
    ([(header::SET_COOKIE, format!("c{n}={}; Path=/", "x".repeat(3000)))], "crumb")
}

async fn whoami(State(ctx): State<Ctx>, Query(q): Query<HashMap<String, String>>, headers: HeaderMap) -> StatusCode {
    let want = format!("session={}", user(&q));
    let cookies: Vec<&str> = headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).collect();
    let ok = cookies.len() == 1 && cookies[0].split("; ").filter(|c| c.starts_with("session=")).eq([want.as_str()]);
    if ok {
        StatusCode::OK
    } else {
        ctx.seen.lock().unwrap().cookie_mismatches += 1;
        StatusCode::CONFLICT
    }
}

/// Sleeps `ms` (query), records the delay.
async fn delay(State(ctx): State<Ctx>, Query(q): Query<HashMap<String, String>>) -> &'static str {
    let ms: u64 = q.get("ms").and_then(|v| v.parse().ok()).unwrap_or(50);
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ctx.seen.lock().unwrap().delays.push(t0.elapsed().as_micros() as u64);
    "waited"
}

/// Sleeps 10 ms or 200 ms, about half of the time each (by arrival: 49 of
/// every 100 are 10 ms). With exactly half, the nearest-rank median would be
/// the single slowest 10 ms answer, which one scheduling hiccup decides;
/// 49 % keeps the median a well-defined point of the 200 ms mode.
async fn bimodal(State(ctx): State<Ctx>) -> &'static str {
    let ms = {
        let mut s = ctx.seen.lock().unwrap();
        s.bimodal += 1;
        if s.bimodal % 100 < 49 {
            10
        } else {
            200
        }
    };
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ctx.seen.lock().unwrap().delays.push(t0.elapsed().as_micros() as u64);
    "waited"
}

/// "first" the first time a key is asked for, "again" after.
async fn once(State(ctx): State<Ctx>, Query(q): Query<HashMap<String, String>>) -> &'static str {
    let key = q.get("key").cloned().unwrap_or_default();
    if ctx.seen.lock().unwrap().once.insert(key) {
        "first"
    } else {
        "again"
    }
}

/// Invalid UTF-8 of every kind, between valid text: a lone continuation byte,
/// bytes that never start a character, overlong forms, a surrogate, a code
/// point past U+10FFFF, sequences cut short in the middle and at the end.
pub const BAD_UTF8: &[u8] =
    b"a\x80b \xc0\xaf \xe0\x80\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x82x \xf0\x9f\x98! \xff\xfe \xc3\xa9\xe2\x9c\x93\xf0\x9f\x98\x80 \xf0\x9f\x98";

/// 200 when the body is what [`BAD_UTF8`] decodes to with replacement
/// characters; 422 with both texts when it is not.
async fn lossy_check(body: String) -> (StatusCode, String) {
    let want = String::from_utf8_lossy(BAD_UTF8);
    if body == want {
        (StatusCode::OK, String::new())
    } else {
        (StatusCode::UNPROCESSABLE_ENTITY, format!("want {want:?}, got {body:?}"))
    }
}

async fn items(body: String) -> StatusCode {
    match serde_json::from_str::<serde_json::Value>(&body) {
        Ok(v) if v.is_object() => StatusCode::CREATED,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// Starts the target on 127.0.0.1, on a port the OS picks.
pub async fn target() -> Target {
    let refused_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let seen = Arc::new(Mutex::new(Seen::default()));
    let ctx_started = Instant::now();
    let ctx = Ctx { seen: seen.clone(), refused_port, started: ctx_started };
    let app = Router::new()
        .route("/", get(|| async { "ok" }))
        .route("/v2", get(|| async { "ok, v2" }))
        .route("/items", post(items))
        // A UTF-8 body back as it came (400 when it is not UTF-8).
        .route("/echo", post(|body: String| async move { body }))
        // Bytes that are not all UTF-8, and a check of what a client decoded
        // from them (Rust's lossy decoding replaces each maximal bad subpart
        // with U+FFFD, as the WHATWG decoder does).
        .route("/bad-utf8", get(|| async { BAD_UTF8 }).post(lossy_check))
        .route("/buy", post(|| async { "bought" }))
        .route("/headers", get(headers_to_read))
        .route("/stall", get(stall))
        .route("/start", get(start))
        .route("/hello", get(hello))
        .route("/login", get(login))
        .route("/crumbs", get(crumbs))
        .route("/whoami", get(whoami))
        .route("/once", get(once))
        .route("/redirect", get(|| async { Redirect::to("/landing") }))
        .route("/landing", get(|| async { "landed" }))
        .route("/status/500", get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "broken") }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(2)).await;
                "slow"
            }),
        )
        .route("/delay", get(delay))
        .route("/bimodal", get(bimodal))
        .route("/refused-port", get(|State(c): State<Ctx>| async move { c.refused_port.to_string() }))
        .layer(middleware::from_fn_with_state(ctx.clone(), record))
        .with_state(ctx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let conns = Arc::new(Connections::default());
    let listener = Counting { inner: listener, conns: conns.clone() };
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
            .unwrap();
    });
    Target { addr, conns, started: ctx_started, seen, refused_port, stop: Some(tx), task: Some(task) }
}

/// The workspace's root (the tests belong to the `wasp` crate in host/wasp).
pub fn workspace() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace().join("target"))
}

static BUILD: Once = Once::new();

/// A test plugin, built (once per test process) for wasm32-wasip2.
pub fn plugin(name: &str) -> PathBuf {
    BUILD.call_once(|| {
        let status = std::process::Command::new(env!("CARGO"))
            .current_dir(workspace())
            .args(["build", "--release", "--target", "wasm32-wasip2"])
            .args([
                "-p",
                "quickstart",
                "-p",
                "otel-demo",
                "-p",
                "chaos",
                "-p",
                "swap",
                "-p",
                "hostile",
                "-p",
                "shared-users",
                "-p",
                "quickstart-async",
                "-p",
                "otel-demo-async",
                "-p",
                "bad-other-world",
                "-p",
                "bad-missing-export",
                "-p",
                "bad-wrong-version",
                "-p",
                "bad-unknown-import",
                "-p",
                "legacy-0-1-0",
                "-p",
                "legacy-0-2-0",
            ])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the test plugins failed (is the wasm32-wasip2 target installed?)");
    });
    let p = target_dir().join("wasm32-wasip2/release").join(format!("{name}.wasm"));
    assert!(p.exists(), "{} missing", p.display());
    p
}

pub static PYTHON: Once = Once::new();
pub static JS: Once = Once::new();

/// A plugin built (once per test process) by `scripts/build-<lang>-plugins`.
pub fn built(once: &Once, lang: &str, name: &str) -> PathBuf {
    once.call_once(|| {
        let script = workspace().join(format!("scripts/build-{lang}-plugins"));
        let status = std::process::Command::new(&script).current_dir(workspace()).status().expect("the build script runs");
        assert!(status.success(), "{} failed", script.display());
    });
    let dir = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace().join("target"));
    let sub = if lang == "python" { "python" } else { "js" };
    let p = dir.join(sub).join(format!("{name}.wasm"));
    assert!(p.exists(), "{} missing", p.display());
    p
}

pub fn python_plugin(name: &str) -> PathBuf {
    built(&PYTHON, "python", name)
}

pub fn js_plugin(name: &str) -> PathBuf {
    built(&JS, "js", name)
}

pub fn corpus(file: &str) -> PathBuf {
    workspace().join("tests/corpus").join(file)
}

/// The `wasp` binary with no WASP_/LOCUST_/OTEL_ or proxy settings from
/// outside (but WASP_CACHE_DIR, where compiled plugins are kept).
pub fn wasp() -> Command {
    wasp_under(&[])
}

/// [`wasp`] started by another program, e.g. `["taskset", "-c", "1", "nice"]`.
pub fn wasp_under(wrapper: &[&str]) -> Command {
    let bin = env!("CARGO_BIN_EXE_wasp");
    let mut c = match wrapper.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(bin);
            c
        }
        None => Command::new(bin),
    };
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().to_string();
        // The compiled-plugin cache is kept: CI points it inside the target dir.
        let proxy = k.to_ascii_lowercase().ends_with("_proxy");
        if (k.starts_with("WASP_") && k != "WASP_CACHE_DIR") || k.starts_with("LOCUST_") || k.starts_with("OTEL_") || k == "RUST_LOG" || proxy {
            c.env_remove(k);
        }
    }
    c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    c
}

pub struct Finished {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// The `--json` report, when the run wrote one.
    pub json: serde_json::Value,
}

/// How long any one wasp run in the tests may take before it is killed.
pub const RUN_DEADLINE: Duration = Duration::from_secs(60);

pub async fn finish(child: Child, json: Option<&Path>) -> Finished {
    let out = tokio::time::timeout(RUN_DEADLINE, child.wait_with_output()).await.expect("wasp finished before the deadline").expect("wasp ran");
    let json = json.and_then(|p| std::fs::read(p).ok()).map(|b| serde_json::from_slice(&b).expect("the JSON report parses")).unwrap_or(serde_json::Value::Null);
    Finished {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        json,
    }
}

/// Runs `wasp run PLUGIN ARGS... --json tmp` to completion.
pub async fn run(plugin: &Path, args: &[&str]) -> Finished {
    run_env(plugin, args, &[]).await
}

/// As [`run`], with environment variables.
pub async fn run_env(plugin: &Path, args: &[&str], envs: &[(&str, &str)]) -> Finished {
    run_command(wasp().envs(envs.iter().copied()), plugin, args).await
}

/// As [`run`], started by another program (see [`wasp_under`]).
pub async fn run_under(wrapper: &[&str], plugin: &Path, args: &[&str]) -> Finished {
    run_command(&mut wasp_under(wrapper), plugin, args).await
}

async fn run_command(wasp: &mut Command, plugin: &Path, args: &[&str]) -> Finished {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.json");
    let child = wasp.arg("run").arg(plugin).args(args).arg("--json").arg(&json).arg("--only-summary").spawn().expect("wasp starts");
    finish(child, Some(&json)).await
}

/// `wasp inspect --json PLUGIN` with compiled plugins cached in `cache` (an
/// empty string: no cache); it must succeed.
pub async fn inspect_json(plugin: &Path, cache: impl AsRef<std::ffi::OsStr>) -> serde_json::Value {
    let r = finish(wasp().env("WASP_CACHE_DIR", cache).args(["inspect", "--json"]).arg(plugin).spawn().unwrap(), None).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).expect("inspect --json prints JSON")
}

/// The count of requests the report shows for a name (all methods).
pub fn reported(json: &serde_json::Value, name: &str) -> u64 {
    json["requests"].as_array().unwrap().iter().filter(|r| r["name"] == name).map(|r| r["count"].as_u64().unwrap()).sum()
}

/// Every request the target saw is in the report: counted, or listed as
/// interrupted when the run stopped while it was in flight (the target may
/// or may not have seen those).
pub fn assert_accounted(json: &serde_json::Value, seen: u64) {
    let count = json["total"]["count"].as_u64().unwrap();
    let interrupted = json["total"]["interrupted"].as_u64().unwrap_or(0);
    assert!(count <= seen && seen <= count + interrupted, "the target saw {seen} requests; the report counts {count} and {interrupted} interrupted");
}

pub fn task_runs(json: &serde_json::Value, task: &str) -> (u64, u64) {
    let t = json["tasks"].as_array().unwrap().iter().find(|t| t["name"] == task).expect("task in report");
    (t["runs"].as_u64().unwrap(), t["errors"].as_u64().unwrap())
}

pub fn failures(json: &serde_json::Value) -> Vec<(String, String, u64)> {
    json["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["name"].as_str().unwrap().to_string(), f["error"].as_str().unwrap().to_string(), f["occurrences"].as_u64().unwrap()))
        .collect()
}

pub fn errors(json: &serde_json::Value) -> Vec<(String, String, u64)> {
    json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["where"].as_str().unwrap().to_string(), f["message"].as_str().unwrap().to_string(), f["occurrences"].as_u64().unwrap()))
        .collect()
}

/// A PNG file's width, height and RGB pixels.
pub fn decode_png(path: &std::path::Path) -> (u32, u32, Vec<[u8; 3]>) {
    let mut reader = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap())).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels = buf[..info.buffer_size()].chunks(channels).map(|c| [c[0], c[1], c[2]]).collect();
    (info.width, info.height, pixels)
}

/// What a run of a `verdicts` task (forty requests named with 250 `v`s, then
/// a late failure on the first) shows: its runs, those requests, and the late
/// verdicts that were counted.
pub fn verdicts_counted(r: &Finished) -> (u64, u64, u64) {
    let task = r.json["tasks"].as_array().unwrap().iter().find(|x| x["name"] == "verdicts").cloned().expect("the task ran");
    // (Tasks cut short at the stop are counted apart, as "interrupted".)
    let runs = task["runs"].as_u64().unwrap();
    let name = "v".repeat(250);
    let requests = r.json["requests"].as_array().unwrap().iter().filter(|x| x["name"] == name).map(|x| x["count"].as_u64().unwrap()).sum();
    let late = r.json["failures"].as_array().unwrap().iter().filter(|x| x["error"] == "late verdict").map(|x| x["occurrences"].as_u64().unwrap()).sum();
    (runs, requests, late)
}
