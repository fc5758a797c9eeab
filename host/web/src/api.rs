//! The REST API: state, stats, history, the run's controls and its reports
//! so far. Every handler is described for the OpenAPI document (utoipa);
//! errors are JSON `{error, detail}` with a 4xx status.

use crate::{charts, guard, legacy, page, Options, Phase, RunView, Runs};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::UNIX_EPOCH;
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wasp_report::json;
use wasp_runner::controls::Ramp;
use wasp_runner::stats::Entry;

#[derive(Clone)]
pub(crate) struct Ctx {
    pub runs: Arc<dyn Runs>,
    pub opts: Arc<Options>,
    pub openapi: Arc<String>,
}

/// An API error: a short kind and what to do about it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiError {
    #[serde(skip)]
    pub status: u16,
    pub error: String,
    pub detail: String,
}

impl ApiError {
    pub fn new(status: u16, error: &str, detail: impl Into<String>) -> ApiError {
        ApiError { status, error: error.into(), detail: detail.into() }
    }
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        Self::new(400, "bad request", detail)
    }
    pub fn conflict(detail: impl Into<String>) -> ApiError {
        Self::new(409, "conflict", detail)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        (status, Json(self)).into_response()
    }
}

/// A JSON body, its rejections answered as [`ApiError`]s.
pub(crate) struct Body<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !req.headers().contains_key(header::CONTENT_TYPE) {
            // `curl -X POST` sends no body and no type: that is `{}`.
            let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|e| ApiError::bad_request(e.body_text()))?;
            if !bytes.is_empty() {
                return Err(ApiError::new(415, "unsupported media type", "send a JSON body with Content-Type: application/json ({} will do)"));
            }
            return serde_json::from_slice(b"{}").map(Body).map_err(|e| ApiError::bad_request(format!("this action needs a JSON body: {e}")));
        }
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => {
                Err(ApiError::new(415, "unsupported media type", "send a JSON body with Content-Type: application/json ({} will do)"))
            }
            Err(e) => Err(ApiError::bad_request(e.body_text())),
        }
    }
}

/// An empty JSON object: the body of the actions that take no settings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// What to start: the form's fields. Unset ones keep the command line's.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    /// Users (closed model), or pre-allocated users (arrival rate).
    pub users: Option<u64>,
    /// Users started per second.
    pub spawn_rate: Option<f64>,
    /// Iterations per second: an arrival-rate run.
    pub rate: Option<f64>,
    /// `30s`, `5m`, `1h30m`; empty: until stopped.
    pub run_time: Option<String>,
    /// The base URL to aim at: `--host` or an `--allow-host` origin only.
    pub host: Option<String>,
}

/// A change of users or rate, live.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResizeRequest {
    /// Only this scenario (default: all of the kind).
    pub scenario: Option<String>,
    /// Users of the closed scenarios.
    pub users: Option<u64>,
    /// Iterations per second of the arrival-rate scenarios.
    pub rate: Option<f64>,
    /// Users per second to get there (closed).
    pub spawn_rate: Option<f64>,
    /// Or the time to get there, e.g. `10s`.
    pub ramp_time: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct ScenarioState {
    name: String,
    executor: String,
    /// Arrival rate (open) or closed pool.
    open: bool,
    /// Users aimed at (closed), or iterations per second (open).
    at: f64,
}

#[derive(Serialize, ToSchema)]
struct EventDoc {
    at_unix_ms: u64,
    by: String,
    what: String,
}

/// The run's state.
#[derive(Serialize, ToSchema)]
struct StateDoc {
    phase: Phase,
    /// A run (this one or the last) has stats, charts and reports to read.
    has_run: bool,
    paused: bool,
    /// Users running now.
    users: u64,
    /// Users the closed scenarios aim at.
    target_users: u64,
    /// Iterations per second the arrival-rate scenarios run at.
    rate: f64,
    elapsed_s: f64,
    run_time_s: Option<f64>,
    host: String,
    title: String,
    read_only: bool,
    scenarios: Vec<ScenarioState>,
    events: Vec<EventDoc>,
    /// The last run's, once it is over.
    exit_code: Option<i32>,
    stop_reason: Option<String>,
    /// Why the last start failed, if it did.
    error: Option<String>,
    defaults: crate::Defaults,
}

#[derive(Serialize, ToSchema)]
struct Row {
    scenario: String,
    method: String,
    name: String,
    num_requests: u64,
    num_failures: u64,
    interrupted: u64,
    avg_ms: f64,
    min_ms: f64,
    max_ms: f64,
    p50_ms: f64,
    p90_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    rps: f64,
    avg_bytes: f64,
}

#[derive(Serialize, ToSchema)]
struct TaskRow {
    scenario: String,
    name: String,
    runs: u64,
    errors: u64,
    interrupted: u64,
}

#[derive(Serialize, ToSchema)]
struct FailureRow {
    scenario: String,
    method: String,
    name: String,
    error: String,
    occurrences: u64,
}

#[derive(Serialize, ToSchema)]
struct ErrorRow {
    scenario: String,
    place: String,
    message: String,
    occurrences: u64,
}

/// The run's numbers so far.
#[derive(Serialize, ToSchema)]
struct StatsDoc {
    rows: Vec<Row>,
    total: Row,
    /// Requests per second over the last seconds.
    current_rps: f64,
    fail_ratio: f64,
    tasks: Vec<TaskRow>,
    failures: Vec<FailureRow>,
    errors: Vec<ErrorRow>,
    /// Arrival-rate iterations: latency from their intended start.
    iterations: Option<Row>,
    dropped_iterations: u64,
}

#[derive(Serialize, ToSchema)]
struct Point {
    second: usize,
    requests: u64,
    failures: u64,
    users: u64,
    dropped: u64,
    p50_ms: Option<f64>,
    p95_ms: Option<f64>,
    p99_ms: Option<f64>,
}

/// Per-second points, from `since`; ask again with `since = next`.
#[derive(Serialize, ToSchema)]
struct HistoryDoc {
    points: Vec<Point>,
    next: usize,
}

#[derive(Deserialize, IntoParams)]
struct Since {
    /// The first second wanted (default 0).
    since: Option<usize>,
}

#[derive(Serialize, ToSchema)]
struct Done {
    phase: Phase,
    detail: String,
}

use wasp_runner::units::{ms_of as ms, MAX_RATE, MIN_RATE};

fn row(e: &Entry, rps: f64) -> Row {
    Row {
        scenario: e.scenario.clone(),
        method: e.method.clone(),
        name: e.name.clone(),
        num_requests: e.count,
        num_failures: e.failures,
        interrupted: e.interrupted,
        avg_ms: e.avg_us() / 1000.0,
        min_ms: ms(e.min()),
        max_ms: ms(e.max_us),
        p50_ms: ms(e.quantile_us(0.5)),
        p90_ms: ms(e.quantile_us(0.9)),
        p95_ms: ms(e.quantile_us(0.95)),
        p99_ms: ms(e.quantile_us(0.99)),
        rps,
        avg_bytes: if e.count == 0 { 0.0 } else { e.bytes as f64 / e.count as f64 },
    }
}

fn current(ctx: &Ctx) -> Result<RunView, ApiError> {
    ctx.runs.status().run.ok_or_else(|| ApiError::new(404, "no run", "no run has started yet: POST api/start"))
}

/// The phase, users and rate, the scenarios, the event log, the form's defaults.
#[utoipa::path(get, path = "/api/state", responses((status = 200, body = StateDoc)))]
async fn get_state(State(ctx): State<Ctx>) -> Json<StateDoc> {
    let status = ctx.runs.status();
    let run = status.run.as_ref();
    let (users, elapsed) = run.map(|r| (r.stats.users(), r.stats.start().elapsed().as_secs_f64())).unwrap_or((0, 0.0));
    let current = run.map(|r| r.controls.current()).unwrap_or_default();
    let scenarios = current
        .iter()
        .enumerate()
        .map(|(i, (name, open, at))| ScenarioState {
            name: name.clone(),
            executor: run.and_then(|r| r.executors.get(i).cloned()).unwrap_or_default(),
            open: *open,
            at: *at,
        })
        .collect();
    let events = run
        .map(|r| {
            r.controls
                .events()
                .into_iter()
                .rev()
                .take(50)
                .map(|e| EventDoc { at_unix_ms: e.at.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0), by: e.by, what: e.what })
                .collect()
        })
        .unwrap_or_default();
    Json(StateDoc {
        phase: status.phase,
        has_run: run.is_some(),
        paused: run.is_some_and(|r| r.controls.paused()),
        users,
        target_users: current.iter().filter(|c| !c.1).map(|c| c.2 as u64).sum(),
        rate: current.iter().filter(|c| c.1).fold(0.0, |a, c| a + c.2),
        elapsed_s: elapsed,
        run_time_s: run.and_then(|r| r.run_time).map(|d| d.as_secs_f64()),
        host: run.map(|r| r.host.clone()).unwrap_or_else(|| status.defaults.host.clone()),
        title: ctx.opts.title.clone(),
        read_only: ctx.opts.read_only,
        scenarios,
        events,
        exit_code: run.and_then(|r| r.finished.as_ref()).map(|f| f.exit_code),
        stop_reason: run.and_then(|r| r.finished.as_ref()).map(|f| f.stop_reason.clone()),
        error: status.error,
        defaults: status.defaults,
    })
}

/// Per request name (and scenario): counts, failures, percentiles, rate; totals, tasks, failures, errors, iterations.
#[utoipa::path(get, path = "/api/stats", responses((status = 200, body = StatsDoc), (status = 404, body = ApiError)))]
async fn get_stats(State(ctx): State<Ctx>) -> Result<Json<StatsDoc>, ApiError> {
    let snap = current(&ctx)?.stats.snapshot();
    Ok(Json(StatsDoc {
        rows: snap.entries.iter().map(|e| row(e, snap.rps(e.count))).collect(),
        total: row(&snap.total, snap.rps(snap.total.count)),
        current_rps: snap.current_rps(),
        fail_ratio: if snap.total.count == 0 { 0.0 } else { snap.total.failures as f64 / snap.total.count as f64 },
        tasks: snap
            .tasks
            .iter()
            .map(|t| TaskRow { scenario: t.scenario.clone(), name: t.name.clone(), runs: t.runs, errors: t.errors, interrupted: t.interrupted })
            .collect(),
        failures: snap
            .failures
            .iter()
            .map(|f| FailureRow {
                scenario: f.scenario.clone(),
                method: f.method.clone(),
                name: f.name.clone(),
                error: f.error.clone(),
                occurrences: f.occurrences,
            })
            .collect(),
        errors: snap
            .errors
            .iter()
            .map(|e| ErrorRow { scenario: e.scenario.clone(), place: e.place.clone(), message: e.message.clone(), occurrences: e.occurrences })
            .collect(),
        iterations: (snap.latency.count > 0).then(|| row(&snap.latency, snap.rps(snap.latency.count))),
        dropped_iterations: snap.dropped_iterations,
    }))
}

/// Per-second points (requests, failures, users, drops, p50/p95/p99) from `since`, for charts.
#[utoipa::path(get, path = "/api/history", params(Since), responses((status = 200, body = HistoryDoc), (status = 404, body = ApiError)))]
async fn get_history(State(ctx): State<Ctx>, Query(q): Query<Since>) -> Result<Json<HistoryDoc>, ApiError> {
    let run = current(&ctx)?;
    let since = q.since.unwrap_or(0).min(1 << 30);
    let snap = run.stats.snapshot();
    let quantiles = run.stats.second_quantiles(since);
    let points: Vec<Point> = snap
        .timeline
        .iter()
        .enumerate()
        .skip(since)
        .map(|(i, s)| {
            let q = quantiles.iter().find(|(sec, _)| *sec == i).and_then(|(_, q)| *q);
            Point {
                second: i,
                requests: s.requests,
                failures: s.failures,
                users: s.users,
                dropped: s.dropped,
                p50_ms: q.map(|q| ms(q[0])),
                p95_ms: q.map(|q| ms(q[1])),
                p99_ms: q.map(|q| ms(q[2])),
            }
        })
        .collect();
    let next = since.max(snap.timeline.len());
    Ok(Json(HistoryDoc { points, next }))
}

/// Starts a run with the form's settings (the others as on the command line).
#[utoipa::path(post, path = "/api/start", request_body = StartRequest, responses((status = 202, body = Done), (status = 400, body = ApiError), (status = 409, body = ApiError), (status = 403, description = "read-only, or a foreign Origin", body = ApiError), (status = 415, description = "not JSON", body = ApiError)))]
async fn post_start(State(ctx): State<Ctx>, Body(req): Body<StartRequest>) -> Result<(StatusCode, Json<Done>), ApiError> {
    ctx.runs.start(req)?;
    Ok((StatusCode::ACCEPTED, Json(Done { phase: Phase::Starting, detail: "starting".into() })))
}

/// Stops the run: running tasks finish, its reports are written.
#[utoipa::path(post, path = "/api/stop", request_body = Empty, responses((status = 202, body = Done), (status = 400, body = ApiError), (status = 409, body = ApiError), (status = 403, description = "read-only, or a foreign Origin", body = ApiError), (status = 415, description = "not JSON", body = ApiError)))]
async fn post_stop(State(ctx): State<Ctx>, Body(_): Body<Empty>) -> Result<(StatusCode, Json<Done>), ApiError> {
    ctx.runs.stop()?;
    Ok((StatusCode::ACCEPTED, Json(Done { phase: Phase::Stopping, detail: "stopping".into() })))
}

fn live(ctx: &Ctx) -> Result<RunView, ApiError> {
    let status = ctx.runs.status();
    match (status.phase, status.run) {
        (Phase::Running | Phase::Starting, Some(r)) => Ok(r),
        _ => Err(ApiError::conflict("no run is running")),
    }
}

/// Changes the users (closed scenarios) or the rate (arrival-rate ones), live.
#[utoipa::path(post, path = "/api/resize", request_body = ResizeRequest, responses((status = 200, body = Done), (status = 400, body = ApiError), (status = 409, body = ApiError), (status = 403, description = "read-only, or a foreign Origin", body = ApiError), (status = 415, description = "not JSON", body = ApiError)))]
async fn post_resize(State(ctx): State<Ctx>, Body(req): Body<ResizeRequest>) -> Result<Json<Done>, ApiError> {
    let run = live(&ctx)?;
    let ramp = match (&req.ramp_time, req.spawn_rate) {
        (Some(t), _) => Ramp::Over(wasp_runner::units::parse_duration(t).map_err(ApiError::bad_request)?),
        (None, Some(r)) if r.is_finite() && (MIN_RATE..=MAX_RATE).contains(&r) => Ramp::Rate(r),
        (None, Some(r)) => return Err(ApiError::bad_request(format!("spawn_rate {r} is not between {MIN_RATE} and {MAX_RATE} per second"))),
        (None, None) => Ramp::Rate(1.0f64.max(req.users.unwrap_or(0) as f64)),
    };
    let scenario = req.scenario.as_deref();
    let mut changed = 0;
    let mut what = vec![];
    if let Some(users) = req.users {
        if users > run.capacity as u64 {
            return Err(ApiError::bad_request(format!("users: this wasp has room for {} users (restart it with --max-users {users} for more)", run.capacity)));
        }
        let n = run.controls.resize(scenario, users, ramp, "api");
        if n == 0 {
            return Err(ApiError::bad_request("users: no closed scenario (constant-users, ramping-users, iterations) to resize here"));
        }
        changed += n;
        what.push(format!("users → {users}"));
    }
    if let Some(rate) = req.rate {
        if !(rate.is_finite() && (0.0..=MAX_RATE).contains(&rate)) {
            return Err(ApiError::bad_request(format!("rate {rate} is not between 0 and {MAX_RATE} per second")));
        }
        let ramp = match ramp {
            Ramp::Over(d) => Ramp::Over(d),
            _ => Ramp::Now,
        };
        let n = run.controls.set_rate(scenario, rate, ramp, "api");
        if n == 0 {
            return Err(ApiError::bad_request("rate: no arrival-rate scenario to change here"));
        }
        changed += n;
        what.push(format!("rate → {rate}/s"));
    }
    if changed == 0 {
        return Err(ApiError::bad_request("give users or rate"));
    }
    Ok(Json(Done { phase: Phase::Running, detail: what.join(", ") }))
}

/// Pauses the users: they finish their task and start no other.
#[utoipa::path(post, path = "/api/pause", request_body = Empty, responses((status = 200, body = Done), (status = 400, body = ApiError), (status = 409, body = ApiError), (status = 403, description = "read-only, or a foreign Origin", body = ApiError), (status = 415, description = "not JSON", body = ApiError)))]
async fn post_pause(State(ctx): State<Ctx>, Body(_): Body<Empty>) -> Result<Json<Done>, ApiError> {
    live(&ctx)?.controls.pause(true, "api");
    Ok(Json(Done { phase: Phase::Running, detail: "paused".into() }))
}

/// Resumes paused users.
#[utoipa::path(post, path = "/api/resume", request_body = Empty, responses((status = 200, body = Done), (status = 400, body = ApiError), (status = 409, body = ApiError), (status = 403, description = "read-only, or a foreign Origin", body = ApiError), (status = 415, description = "not JSON", body = ApiError)))]
async fn post_resume(State(ctx): State<Ctx>, Body(_): Body<Empty>) -> Result<Json<Done>, ApiError> {
    live(&ctx)?.controls.pause(false, "api");
    Ok(Json(Done { phase: Phase::Running, detail: "resumed".into() }))
}

/// Zeroes the statistics (as Locust's reset); the users go on.
#[utoipa::path(post, path = "/api/reset", request_body = Empty, responses((status = 200, body = Done), (status = 400, body = ApiError), (status = 409, body = ApiError), (status = 403, description = "read-only, or a foreign Origin", body = ApiError), (status = 415, description = "not JSON", body = ApiError)))]
async fn post_reset(State(ctx): State<Ctx>, Body(_): Body<Empty>) -> Result<Json<Done>, ApiError> {
    let run = live(&ctx)?;
    run.stats.reset();
    run.controls.note("api", "statistics reset".into());
    Ok(Json(Done { phase: Phase::Running, detail: "statistics reset".into() }))
}

/// The run's result so far as a `wasp-result/1` document (`exit_code` −1 while it runs).
pub(crate) fn report(run: &RunView) -> json::Report {
    let snap = run.stats.snapshot();
    let verdicts: Vec<_> = run.thresholds.iter().map(|t| t.evaluate(&snap)).collect();
    let (exit_code, stop_reason, telemetry) = match &run.finished {
        Some(f) => (f.exit_code, f.stop_reason.clone(), f.telemetry.clone()),
        None => (-1, "running".to_string(), Default::default()),
    };
    let info = json::RunInfo {
        meta: run.meta.clone(),
        executors: run.executors.clone(),
        stop_reason: &stop_reason,
        exit_code,
        telemetry: &telemetry,
        thresholds: &verdicts,
    };
    json::report(&snap, &run.stats.second_histograms(), info)
}

fn download(content_type: &'static str, name: &str, body: String) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CONTENT_DISPOSITION, &format!("attachment; filename=\"{name}\""))], body).into_response()
}

/// The run's result so far (JSON, with every histogram).
#[utoipa::path(get, path = "/api/report.json", responses((status = 200, description = "a wasp-result/1 document", content_type = "application/json"), (status = 404, body = ApiError)))]
async fn get_report_json(State(ctx): State<Ctx>) -> Result<Response, ApiError> {
    let doc = report(&current(&ctx)?);
    Ok(download("application/json", "wasp-report.json", serde_json::to_string_pretty(&doc).unwrap_or_default()))
}

/// The run's HTML report so far (self-contained).
#[utoipa::path(get, path = "/api/report.html", responses((status = 200, description = "the HTML report", content_type = "text/html"), (status = 404, body = ApiError)))]
async fn get_report_html(State(ctx): State<Ctx>) -> Result<Response, ApiError> {
    let doc = report(&current(&ctx)?);
    let page = wasp_report::html::render(&doc).map_err(|e| ApiError::new(500, "report", e))?;
    Ok(download("text/html; charset=utf-8", "wasp-report.html", page))
}

/// Locust's stats CSV of the run so far.
#[utoipa::path(get, path = "/api/stats.csv", responses((status = 200, description = "CSV", content_type = "text/csv"), (status = 404, body = ApiError)))]
async fn get_stats_csv(State(ctx): State<Ctx>) -> Result<Response, ApiError> {
    Ok(download("text/csv", "wasp_stats.csv", wasp_report::csv::stats_csv(&current(&ctx)?.stats.snapshot())))
}

/// Locust's failures CSV of the run so far.
#[utoipa::path(get, path = "/api/failures.csv", responses((status = 200, description = "CSV", content_type = "text/csv"), (status = 404, body = ApiError)))]
async fn get_failures_csv(State(ctx): State<Ctx>) -> Result<Response, ApiError> {
    Ok(download("text/csv", "wasp_failures.csv", wasp_report::csv::failures_csv(&current(&ctx)?.stats.snapshot())))
}

/// Locust's exceptions CSV (task errors, traps) of the run so far.
#[utoipa::path(get, path = "/api/exceptions.csv", responses((status = 200, description = "CSV", content_type = "text/csv"), (status = 404, body = ApiError)))]
async fn get_exceptions_csv(State(ctx): State<Ctx>) -> Result<Response, ApiError> {
    Ok(download("text/csv", "wasp_exceptions.csv", wasp_report::csv::exceptions_csv(&current(&ctx)?.stats.snapshot())))
}

/// A live chart of the run (SVG): requests, latency or users per second.
#[utoipa::path(get, path = "/api/chart/{name}", params(("name" = String, Path, description = "`requests`, `latency` or `users` (`.svg` may follow)")), responses((status = 200, description = "SVG", content_type = "image/svg+xml"), (status = 404, body = ApiError)))]
async fn get_chart(State(ctx): State<Ctx>, Path(name): Path<String>) -> Result<Response, ApiError> {
    let run = current(&ctx)?;
    let which = name.strip_suffix(".svg").unwrap_or(&name);
    let svg = charts::render(&run.stats, which).ok_or_else(|| ApiError::new(404, "no such chart", "charts: requests, latency, users"))??;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "no-store")], svg).into_response())
}

#[derive(OpenApi)]
#[openapi(info(title = "wasp", description = "Start, watch, steer and stop wasp load tests. Paths are relative to where the UI is served."))]
struct Doc;

async fn openapi(State(ctx): State<Ctx>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], ctx.openapi.as_str().to_owned()).into_response()
}

async fn not_found() -> ApiError {
    ApiError::new(404, "not found", "no such path; the API is described at api/openapi.json")
}

async fn wrong_method() -> ApiError {
    ApiError::new(405, "method not allowed", "see api/openapi.json for each path's method")
}

/// The whole app: API, UI, legacy stats, guards.
pub(crate) fn router(opts: Options, runs: Arc<dyn Runs>) -> Router {
    let (api, doc) = OpenApiRouter::with_openapi(Doc::openapi())
        .routes(routes!(get_state))
        .routes(routes!(get_stats))
        .routes(routes!(get_history))
        .routes(routes!(post_start))
        .routes(routes!(post_stop))
        .routes(routes!(post_resize))
        .routes(routes!(post_pause))
        .routes(routes!(post_resume))
        .routes(routes!(post_reset))
        .routes(routes!(get_report_json))
        .routes(routes!(get_report_html))
        .routes(routes!(get_stats_csv))
        .routes(routes!(get_failures_csv))
        .routes(routes!(get_exceptions_csv))
        .routes(routes!(get_chart))
        .split_for_parts();
    let document = doc.to_pretty_json().unwrap_or_else(|_| "{}".into());
    let opts = Arc::new(opts);
    let ctx = Ctx { runs, opts: opts.clone(), openapi: Arc::new(document) };
    api.route("/api/openapi.json", axum::routing::get(openapi))
        .merge(page::routes())
        .merge(legacy::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(wrong_method)
        .layer(axum::middleware::from_fn_with_state(opts, guard::guard))
        .with_state(ctx)
}
