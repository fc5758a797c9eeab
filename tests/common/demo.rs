//! The OpenTelemetry demo's checks, shared by the Rust and the Python otel-demo
//! plugins' tests: the stand-in shop (in this process) and what it saw.
#![allow(dead_code)]

use super::*;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::Path;

pub const TASKS: [(&str, f64); 9] = [
    ("index", 1.0),
    ("browse_product", 10.0),
    ("get_recommendations", 3.0),
    ("get_ads", 3.0),
    ("view_cart", 3.0),
    ("add_to_cart", 2.0),
    ("checkout", 1.0),
    ("checkout_multi", 1.0),
    ("flood_home", 5.0),
];

pub fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// The stand-in shop in this process, its OFREP service serving `flags` (the
/// demo's flag file when None).
pub async fn shop(flags: Option<&Path>) -> wasp_shop::Running {
    wasp_shop::start(loopback(), loopback(), flags.map(Path::to_path_buf)).await.expect("the shop starts")
}

pub async fn shop_stats(shop: &wasp_shop::Running) -> Value {
    reqwest::get(format!("http://{}/_shop/stats", shop.shop)).await.unwrap().json().await.unwrap()
}

pub fn route(stats: &Value, r: &str) -> u64 {
    stats["routes"][r].as_u64().unwrap_or(0)
}

/// The count wasp reported for one method and name.
pub fn reported_as(json: &Value, method: &str, name: &str) -> u64 {
    json["requests"].as_array().unwrap().iter().filter(|r| r["method"] == method && r["name"] == name).map(|r| r["count"].as_u64().unwrap()).sum()
}

pub fn runs(json: &Value, task: &str) -> u64 {
    task_runs(json, task).0
}

/// The demo's flag file with some flags' default variants changed, written to `path`.
pub fn flag_file(path: &Path, set: &[(&str, &str)], values: &[(&str, &str, i64)]) {
    let mut doc: Value = serde_json::from_str(wasp_shop::DEMO_FLAGS).unwrap();
    for (key, variant, value) in values {
        doc["flags"][key]["variants"][variant] = json!(value);
    }
    for (key, variant) in set {
        doc["flags"][key]["defaultVariant"] = json!(variant);
    }
    // Write then rename, so a reader never sees half a file.
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Polls `f` every 100 ms until it gives Some, or panics after `deadline`.
pub async fn eventually<T, F: std::future::Future<Output = Option<T>>>(what: &str, deadline: Duration, mut f: impl FnMut() -> F) -> T {
    let t0 = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(t0.elapsed() < deadline, "timed out after {deadline:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn web_json(port: u16) -> Option<Value> {
    reqwest::get(format!("http://127.0.0.1:{port}/stats.json")).await.ok()?.json().await.ok()
}

/// Runs `plugin` (an otel-demo plugin, in any language) with `users` users and
/// no waits against the stand-in shop, and checks its traffic against the
/// demo's table: the task mix (chi-square over at least 2,000 runs), exactly the
/// requests each task makes, bodies the shop accepts, and baggage and trace
/// context on every request with one session id per user.
pub async fn check_traffic_follows_the_table(plugin: &Path, users: u64, seconds: u64) {
    let s = shop(None).await;
    let (u, t) = (users.to_string(), format!("{seconds}s"));
    let f =
        run(plugin, &["-H", &format!("http://{}", s.shop), "-u", &u, "-r", "200", "-t", &t, "--wait", "none", "--seed", "2024", "--stop-timeout", "10s"]).await;
    assert_eq!(f.code, 0, "{}", f.stderr);
    let j = &f.json;
    let seen = shop_stats(&s).await;
    s.stop();

    // The mix follows the weights: chi-square over the nine tasks (8 degrees
    // of freedom; 26.12 is the 0.1 % critical value).
    let counts: Vec<u64> = TASKS.iter().map(|(t, _)| runs(j, t)).collect();
    let total: u64 = counts.iter().sum();
    assert!(total >= 2000, "only {total} task runs");
    let weight_sum: f64 = TASKS.iter().map(|(_, w)| w).sum();
    let chi2: f64 = TASKS
        .iter()
        .zip(&counts)
        .map(|((_, w), &n)| {
            let expected = total as f64 * w / weight_sum;
            (n as f64 - expected).powi(2) / expected
        })
        .sum();
    assert!(chi2 < 26.12, "task mix {counts:?} is off the weights (chi2 {chi2:.1})");
    assert!(errors(j).is_empty() && failures(j).is_empty(), "{:?} {:?}", errors(j), failures(j));

    // Each task makes exactly its requests (no flag service: no flood requests).
    let r = |m, n| reported_as(j, m, n);
    let (index, browse, recs, ads, cart, add, checkout, multi) = (
        runs(j, "index"),
        runs(j, "browse_product"),
        runs(j, "get_recommendations"),
        runs(j, "get_ads"),
        runs(j, "view_cart"),
        runs(j, "add_to_cart"),
        runs(j, "checkout"),
        runs(j, "checkout_multi"),
    );
    assert_eq!(r("GET", "/"), users + index, "on-start's home page plus index");
    assert_eq!(r("GET", "/api/recommendations"), recs);
    assert_eq!(r("GET", "/api/data/"), ads);
    assert_eq!(r("GET", "/api/cart"), cart);
    assert_eq!(r("POST", "/api/checkout"), checkout + multi);
    // add_to_cart is a product page then a cart post; checkout does one, checkout_multi 2-4.
    let posts = r("POST", "/api/cart");
    assert_eq!(r("GET", "/api/products/{id}"), browse + posts);
    let multi_items = posts - add - checkout;
    assert!((2 * multi..=4 * multi).contains(&multi_items), "{multi} multi checkouts added {multi_items} items");

    // The shop saw the same, with valid bodies, following the ads redirect.
    assert_eq!(route(&seen, "GET /"), r("GET", "/"));
    assert_eq!(route(&seen, "GET /api/products/{id}"), r("GET", "/api/products/{id}"));
    assert_eq!(route(&seen, "GET /api/data/"), ads);
    assert_eq!(route(&seen, "GET /api/data"), ads, "every 308 is followed");
    assert_eq!(route(&seen, "POST /api/cart"), posts);
    assert_eq!(seen["orders"], checkout + multi);
    assert_eq!(seen["bad_requests"], 0, "every body is accepted");
    // Baggage and trace context on every request; one session id per user.
    assert_eq!(seen["without_synthetic_request"], 0);
    assert_eq!(seen["without_traceparent"], 0);
    assert_eq!(seen["sessions"].as_array().unwrap().len() as u64, users);
}
