//! `wasp demo`: the OpenTelemetry demo's traffic in one command — the stand-in
//! shop and its flag service on loopback, and the otel-demo plugin's shoppers
//! against them, with the live table and the final summary.

use crate::cli::DemoArgs;
use crate::exit::Fatal;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use wasp_shop as shop;
use wasp_telemetry::Telemetry;

/// Users and spawn rate of `wasp demo` unless given: enough shoppers that a
/// short run touches every route.
pub const DEMO_USERS: &str = "50";
pub const DEMO_SPAWN_RATE: &str = "25";

/// Sets the demo's own defaults, below the command line and any variable.
/// Call at start-up, before any thread exists.
pub fn apply_defaults() {
    for (ours, locust, value) in [("WASP_USERS", "LOCUST_USERS", DEMO_USERS), ("WASP_SPAWN_RATE", "LOCUST_SPAWN_RATE", DEMO_SPAWN_RATE)] {
        if std::env::var_os(ours).is_none() && std::env::var_os(locust).is_none() {
            // SAFETY (edition 2021: safe fn): start-up, before any thread exists.
            std::env::set_var(ours, value);
        }
    }
}

/// Where the otel-demo plugin is looked for when none is given: beside the
/// binary, in cargo's target layout, and where the container image puts it.
pub fn plugin_candidates() -> Vec<PathBuf> {
    let mut out = vec![];
    if let Some(dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(PathBuf::from)) {
        out.push(dir.join("otel-demo.wasm"));
        out.push(dir.join("otel_demo.wasm"));
        // target/<profile>/wasp → target/wasm32-wasip2/<profile>/otel_demo.wasm
        if let (Some(target), Some(profile)) = (dir.parent(), dir.file_name()) {
            out.push(target.join("wasm32-wasip2").join(profile).join("otel_demo.wasm"));
            out.push(target.join("wasm32-wasip2").join("release").join("otel_demo.wasm"));
        }
        out.push(dir.join("../share/wasp/otel-demo.wasm"));
    }
    out.push(PathBuf::from("/usr/local/share/wasp/otel-demo.wasm"));
    out
}

pub async fn run(args: DemoArgs, telemetry: Arc<Telemetry>) -> Result<i32, Fatal> {
    let mut run = args.run;
    if run.plugin.is_none() {
        let candidates = plugin_candidates();
        run.plugin = Some(candidates.iter().find(|p| p.is_file()).cloned().ok_or_else(|| {
            let looked: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
            Fatal::plugin(format!(
                "the otel-demo plugin was not found (looked at {}); build it with `cargo build --release --target wasm32-wasip2 -p otel-demo` or pass its path",
                looked.join(", ")
            ))
        })?);
    }
    let loopback = |port| SocketAddr::new(IpAddr::from([127, 0, 0, 1]), port);
    let running = shop::start(loopback(0), loopback(0), None).await.map_err(Fatal::usage)?;
    if run.host.is_none() {
        run.host = Some(format!("http://{}", running.shop));
    }
    let flags_elsewhere = run.flags_file.is_some() || run.ofrep_url.is_some() || std::env::var("FLAGD_HOST").is_ok_and(|h| !h.trim().is_empty());
    if !flags_elsewhere {
        run.ofrep_url = Some(format!("http://{}", running.ofrep));
    }
    tracing::info!("stand-in shop on http://{}, its flag service (OFREP) on http://{}", running.shop, running.ofrep);
    let code = super::run::run(run, telemetry).await;
    running.stop();
    code
}
