//! `stats.json` (and `stats/requests`), as the first web page served them:
//! kept for the scripts and dashboards that read them.

use crate::api::Ctx;
use axum::extract::State;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use wasp_runner::stats::{Entry, Snapshot};

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
    use wasp_runner::units::ms_of as ms;
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

async fn stats_json(State(ctx): State<Ctx>) -> Response {
    let status = ctx.runs.status();
    let Some(run) = status.run else {
        return Json(serde_json::json!({ "state": "ready", "user_count": 0, "stats": [] })).into_response();
    };
    let snap = run.stats.snapshot();
    let current = snap.current_rps();
    // A name's share of the current rate, by its share of all requests.
    let share = |e: &Entry| {
        if snap.total.count == 0 {
            0.0
        } else {
            current * e.count as f64 / snap.total.count as f64
        }
    };
    let state = match status.phase {
        crate::Phase::Running if run.controls.paused() => "paused",
        crate::Phase::Running | crate::Phase::Starting => "running",
        crate::Phase::Stopping => "stopping",
        _ => "stopped",
    };
    Json(StatsDoc {
        state,
        user_count: snap.users,
        target_user_count: run.controls.users_target(),
        elapsed_s: snap.elapsed.as_secs_f64(),
        total_rps: snap.rps(snap.total.count),
        current_rps: current,
        fail_ratio: if snap.total.count == 0 { 0.0 } else { snap.total.failures as f64 / snap.total.count as f64 },
        stats: snap.entries.iter().map(|e| row(e, &snap, share(e))).collect(),
        total: row(&snap.total, &snap, current),
        errors: snap.failures.iter().map(|f| (f.method.clone(), f.name.clone(), f.error.clone(), f.occurrences)).collect(),
    })
    .into_response()
}

pub fn routes() -> Router<Ctx> {
    Router::new().route("/stats.json", get(stats_json)).route("/stats/requests", get(stats_json))
}
