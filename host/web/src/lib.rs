//! The read-only web page of a running test (`--web-port`, or the demo's
//! `LOCUST_HEADLESS=false` + `LOCUST_WEB_PORT`): `/` is the live stats table,
//! refreshed every 2 s; `stats.json` the same numbers. Links are relative, so
//! the page works behind a proxy's path prefix (the demo serves it at `/loadgen/`).

use wasp_runner::Controls;
use wasp_runner::stats::{Entry, Snapshot, Stats};
use axum::extract::State;
use axum::response::{Html, IntoResponse, Json};
use axum::routing::get;
use axum::Router;
use html_escape::encode_text as esc;
use serde::Serialize;
use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::Arc;

#[derive(Clone)]
struct Ctx {
    stats: Arc<Stats>,
    controls: Controls,
    title: String,
}

#[derive(Serialize)]
struct Row {
    method: String,
    name: String,
    num_requests: u64,
    num_failures: u64,
    avg_response_time_ms: f64,
    min_response_time_ms: f64,
    max_response_time_ms: f64,
    median_response_time_ms: f64,
    p95_response_time_ms: f64,
    p99_response_time_ms: f64,
    current_rps: f64,
    total_rps: f64,
}

#[derive(Serialize)]
struct StatsDoc {
    state: &'static str,
    user_count: u64,
    target_user_count: u64,
    elapsed_s: f64,
    total_rps: f64,
    current_rps: f64,
    fail_ratio: f64,
    stats: Vec<Row>,
    total: Row,
    errors: Vec<(String, String, String, u64)>,
}

fn row(e: &Entry, snap: &Snapshot, current: f64) -> Row {
    let ms = |us: u64| us as f64 / 1000.0;
    Row {
        method: e.method.clone(),
        name: e.name.clone(),
        num_requests: e.count,
        num_failures: e.failures,
        avg_response_time_ms: e.avg_us() / 1000.0,
        min_response_time_ms: ms(e.min()),
        max_response_time_ms: ms(e.max_us),
        median_response_time_ms: ms(e.quantile_us(0.5)),
        p95_response_time_ms: ms(e.quantile_us(0.95)),
        p99_response_time_ms: ms(e.quantile_us(0.99)),
        current_rps: current,
        total_rps: snap.rps(e.count),
    }
}

fn doc(ctx: &Ctx) -> StatsDoc {
    let snap = ctx.stats.snapshot();
    let current = snap.current_rps();
    let share = |e: &Entry| if snap.total.count == 0 { 0.0 } else { current * e.count as f64 / snap.total.count as f64 };
    StatsDoc {
        state: if ctx.controls.paused() { "paused" } else { "running" },
        user_count: snap.users,
        target_user_count: ctx.controls.users_target(),
        elapsed_s: snap.elapsed.as_secs_f64(),
        total_rps: snap.rps(snap.total.count),
        current_rps: current,
        fail_ratio: if snap.total.count == 0 { 0.0 } else { snap.total.failures as f64 / snap.total.count as f64 },
        stats: snap.entries.iter().map(|e| row(e, &snap, share(e))).collect(),
        total: row(&snap.total, &snap, current),
        errors: snap.failures.iter().map(|f| (f.method.clone(), f.name.clone(), f.error.clone(), f.occurrences)).collect(),
    }
}

async fn stats_json(State(ctx): State<Ctx>) -> impl IntoResponse {
    Json(doc(&ctx))
}

async fn page(State(ctx): State<Ctx>) -> impl IntoResponse {
    let d = doc(&ctx);
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8><meta http-equiv=refresh content=2>\
         <title>wasp: {title}</title><style>body{{font-family:system-ui,sans-serif;margin:24px;color:#1f2933}}\
         table{{border-collapse:collapse;font-size:14px}}th,td{{padding:4px 10px;border-bottom:1px solid #e5e7eb;text-align:right}}\
         td.n,th.n{{text-align:left}}tr.t td{{font-weight:600}}.s{{color:#475569}}</style></head><body>\
         <h1>wasp: {title}</h1><p class=s>{state} · {users} users (target {target}) · {rps:.1} req/s now · \
         {fail:.2}% failures · {elapsed:.0} s · <a href=\"stats.json\">stats.json</a></p>\
         <table><tr><th>Type</th><th class=n>Name</th><th># reqs</th><th># fails</th><th>Median ms</th><th>p95 ms</th>\
         <th>p99 ms</th><th>Avg ms</th><th>Min ms</th><th>Max ms</th><th>Current RPS</th></tr>",
        title = esc(&ctx.title),
        state = d.state,
        users = d.user_count,
        target = d.target_user_count,
        rps = d.current_rps,
        fail = d.fail_ratio * 100.0,
        elapsed = d.elapsed_s,
    );
    for (r, total) in d.stats.iter().map(|r| (r, false)).chain([(&d.total, true)]) {
        let _ = write!(
            out,
            "<tr{}><td>{}</td><td class=n>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td></tr>",
            if total { " class=t" } else { "" },
            esc(&r.method),
            esc(&r.name),
            r.num_requests,
            r.num_failures,
            r.median_response_time_ms,
            r.p95_response_time_ms,
            r.p99_response_time_ms,
            r.avg_response_time_ms,
            r.min_response_time_ms,
            r.max_response_time_ms,
            r.current_rps,
        );
    }
    out.push_str("</table>");
    if !d.errors.is_empty() {
        out.push_str("<h2>Failures</h2><table><tr><th># occurrences</th><th class=n>Type</th><th class=n>Name</th><th class=n>Error</th></tr>");
        for (m, n, e, c) in &d.errors {
            let _ = write!(out, "<tr><td>{c}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td></tr>", esc(m), esc(n), esc(e));
        }
        out.push_str("</table>");
    }
    out.push_str("</body></html>\n");
    Html(out)
}

/// Binds now (so a taken port is a usage error) and serves until dropped.
pub async fn serve(addr: SocketAddr, stats: Arc<Stats>, controls: Controls, title: String) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("web page on http://{}/", listener.local_addr()?);
    let app = Router::new()
        .route("/", get(page))
        .route("/stats.json", get(stats_json))
        .route("/stats/requests", get(stats_json))
        .with_state(Ctx { stats, controls, title });
    Ok(tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    }))
}
