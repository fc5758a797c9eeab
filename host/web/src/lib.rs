//! # wasp-web: the control plane
//!
//! A REST API (JSON, described by an OpenAPI 3 document generated from the
//! handlers, at `api/openapi.json`) and a web UI on top of it, to start,
//! watch, steer, stop and reset runs — what the OpenTelemetry demo's
//! `/loadgen/` page does with Locust. Every path is relative to where the
//! page is served, so it works behind a proxy's prefix. The API drives the
//! same runner [`Controls`] as the flag poller.
//!
//! The binary implements [`Runs`] (starting and stopping runs needs the
//! plugin and the engine); this crate knows only the runner's stats and
//! controls and the report formats.

mod api;
mod charts;
mod guard;
mod legacy;
mod page;

pub use api::{ApiError, ResizeRequest, StartRequest};

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use wasp_report::json::Meta;
use wasp_report::thresholds::Threshold;
use wasp_runner::{Controls, Stats};

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// No run yet: the start form waits.
    Ready,
    /// A run was asked for; its users are being made.
    Starting,
    Running,
    /// The run is stopping (its tasks finish).
    Stopping,
    /// The last run is over; another can start.
    Stopped,
}

/// How the last run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    pub exit_code: i32,
    pub stop_reason: String,
    pub telemetry: wasp_report::Delivery,
}

/// A run as the control plane sees it: its live stats and controls, and
/// what the result files say about it.
#[derive(Clone)]
pub struct RunView {
    pub stats: Arc<Stats>,
    pub controls: Controls,
    pub meta: Meta,
    /// Per scenario, its executor as text.
    pub executors: Vec<String>,
    pub thresholds: Vec<Threshold>,
    pub run_time: Option<Duration>,
    pub host: String,
    /// Users the instance pool has room for (`--max-users`): no resize past it.
    pub capacity: u32,
    pub started: SystemTime,
    /// Set once it is over.
    pub finished: Option<Finished>,
}

/// What the start form is filled with.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Defaults {
    pub users: u64,
    pub spawn_rate: f64,
    /// Set when the run is an arrival-rate one (iterations per second).
    pub rate: Option<f64>,
    /// As `30s`, `5m`; none: until stopped.
    pub run_time: Option<String>,
    pub host: String,
    /// The origins a run may aim at (`--host`, `--allow-host`).
    pub allowed: Vec<String>,
    /// The scenarios come from a file: the form only starts them.
    pub from_file: bool,
}

/// The phase, the current (or last) run, and the form's defaults.
#[derive(Clone)]
pub struct Status {
    pub phase: Phase,
    pub run: Option<RunView>,
    pub defaults: Defaults,
    /// Why the last start failed, if it did.
    pub error: Option<String>,
}

/// What the control plane steers; the binary implements it.
pub trait Runs: Send + Sync + 'static {
    fn status(&self) -> Status;
    /// Starts a run with these settings (or refuses, saying why).
    fn start(&self, req: StartRequest) -> Result<(), ApiError>;
    /// Stops the current run (its tasks finish, its reports are written).
    fn stop(&self) -> Result<(), ApiError>;
}

/// How the API and UI are served.
#[derive(Debug, Clone)]
pub struct Options {
    pub addr: SocketAddr,
    /// HTTP basic authentication (`--web-auth user:password`).
    pub auth: Option<(String, String)>,
    /// Everything may be read, nothing changed (`--web-read-only`).
    pub read_only: bool,
    /// The page's title (the plugin's behaviour).
    pub title: String,
}

/// Binds now (so a taken port is a usage error) and serves until the task is aborted.
pub async fn serve(opts: Options, runs: Arc<dyn Runs>) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(opts.addr).await?;
    let addr = listener.local_addr()?;
    tracing::info!("web UI and API on http://{addr}/ (API described at api/openapi.json)");
    let app = api::router(opts, runs);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((addr, task))
}
