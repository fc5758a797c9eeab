//! `wasp run`: load the plugin once; then either one run (headless, the
//! default) or, with the web UI, the runs its form starts, one after another.

mod abort;
mod follow;
mod history;
mod live;
mod meta;
mod one;
mod session;
mod ui;

use crate::cli::RunArgs;
use crate::config::RunConfig;
use crate::exit::{self, Fatal};
use std::sync::Arc;
use wasp_telemetry::instruments::CurrentStats;
use wasp_telemetry::Telemetry;
use wasp_wasm::{component, engine, EngineOptions, Plugin};

/// The users a web UI session's instance pool holds unless --max-users says.
pub const UI_POOL_USERS: u32 = 1000;

/// What every run of the process shares: the engine, the compiled plugin,
/// the flag provider, the telemetry instruments.
pub struct Loaded {
    pub plugin: Arc<Plugin>,
    pub flags: Arc<wasp_flags::Flags>,
    /// Users the instance pool holds.
    pub capacity: u32,
    pub telemetry: Arc<Telemetry>,
    /// The stats the telemetry gauges read (the current run's).
    pub current: CurrentStats,
    pub request_duration: Option<opentelemetry::metrics::Histogram<f64>>,
    /// Users per instance (1 for a 0.1 plugin), and the memory cap of an
    /// instance they share, as the engine was sized for them.
    pub per_instance: u32,
    pub instance_memory: usize,
}

/// Waits for the other shards (`--barrier`) and for `--start-at`, whichever is later.
async fn start_together(
    cfg: &RunConfig,
    readiness: Option<wasp_cluster::barrier::Readiness>,
    signals: &mut tokio::sync::mpsc::Receiver<wasp_runner::Signal>,
) -> Result<(), Fatal> {
    use wasp_cluster::barrier::{self, BarrierError};
    let stopped = || Fatal { code: exit::code::ABORTED, message: "stopped by a signal before the start".into() };
    let mut at = cfg.start_at;
    if let (Some(b), Some(r)) = (&cfg.barrier, readiness) {
        r.set_ready();
        tracing::info!(
            "shard {}: ready; waiting for all {} shards at the barrier (at most {})",
            cfg.segment,
            b.peers.len(),
            humantime::format_duration(b.timeout)
        );
        let start = tokio::select! {
            r = barrier::wait(&b.peers, b.timeout) => r,
            _ = signals.recv() => return Err(stopped()),
        };
        let start = start.map_err(|e| match e {
            BarrierError::Timeout { .. } => {
                Fatal { code: exit::code::SHARDS_MISSING, message: format!("the start barrier timed out after {}: {e}", humantime::format_duration(b.timeout)) }
            }
            BarrierError::Mismatch(m) => Fatal::usage(format!("the start barrier: {m}")),
        })?;
        at = Some(at.map_or(start, |a| a.max(start)));
    }
    if let Some(at) = at {
        let ms = wasp_cluster::barrier::unix_ms(at);
        tracing::info!("starting at {} (Unix ms {ms})", humantime::format_rfc3339_millis(at));
        tokio::select! {
            _ = wasp_cluster::start::until(at) => {}
            _ = signals.recv() => return Err(stopped()),
        }
    }
    Ok(())
}

/// Open files wasp keeps for itself (the plugin, logs, result files, the
/// exporter's and the UI's sockets) beside one connection per user.
const OWN_FILES: u64 = 64;

/// The options of users sharing instances, refused for a plugin of
/// `version` (before 0.2: one user per instance).
fn only_for_shared_instances(cfg: &RunConfig, version: &str) -> Result<(), Fatal> {
    let plugin = cfg.plugin.display();
    if cfg.max_instance_memory.is_some() {
        let msg = format!(
            "--max-instance-memory needs a wasp:plugin@0.2 plugin; {plugin} is built for wasp:plugin@{version} (one user per instance: see --max-user-memory)"
        );
        return Err(Fatal::usage(msg));
    }
    if cfg.users_per_instance.is_some_and(|k| k > 1) {
        return Err(Fatal::usage(format!(
            "--users-per-instance needs a wasp:plugin@0.2 plugin; {plugin} is built for wasp:plugin@{version} (one user per instance)"
        )));
    }
    Ok(())
}

pub async fn run(args: RunArgs, telemetry: Arc<Telemetry>) -> Result<i32, Fatal> {
    let cfg = RunConfig::from_args(&args)?;
    // Signals first: from here on, one never ends wasp without a word.
    let (mut signals, stop) = crate::signals::listen();
    let capacity = match cfg.web {
        Some(_) => cfg.capacity.max(args.max_users.unwrap_or(UI_POOL_USERS)),
        None => cfg.capacity,
    };
    // Each user may hold a connection: allow as many open files as the system lets us.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) if !cfg.shared_connections && n < capacity as u64 + OWN_FILES => tracing::warn!(
            "the open-file limit is {n} (the hard limit): fewer than one connection per user for {capacity} users; \
             users past about {} will fail to connect (\"Too many open files\"); raise the hard limit \
             (`ulimit -Hn` as root, systemd LimitNOFILE=, `docker run --ulimit nofile=`) or use --shared-connections",
            n.saturating_sub(OWN_FILES)
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!("cannot raise the open-file limit: {e}"),
    }
    // The barrier listens from the start: a wrong address fails before the
    // plugin is compiled, and peers see this shard as "not ready" meanwhile.
    let readiness = match &cfg.barrier {
        Some(b) => Some(wasp_cluster::barrier::serve(b.listen, cfg.segment.to_string()).await.map_err(Fatal::usage)?),
        None => None,
    };
    // Read once: the bytes size the engine's instance pool, then are compiled.
    let bytes = component::read(&cfg.plugin)?;
    // A 0.2 plugin puts K users in an instance: the pool holds instances.
    let version = component::world_version(&bytes);
    let per_instance = component::users_per_instance(version.as_deref(), cfg.users_per_instance);
    let shares = version.as_deref().is_some_and(component::shares_instances);
    if let Some(v) = version.as_deref().filter(|_| !shares) {
        only_for_shared_instances(&cfg, v)?;
    }
    let options = EngineOptions::for_component(&bytes, capacity, cfg.max_user_memory)?.shared(per_instance, cfg.max_instance_memory.filter(|_| shares))?;
    let (options, capped) = options.within_mapping_limit()?;
    let instance_memory = options.max_user_memory;
    if let Some(c) = &capped {
        tracing::warn!("{}", c.warning());
    }
    let engine = engine::engine(&options)?;
    let plugin = tokio::select! {
        p = Plugin::from_bytes(&engine, &cfg.plugin, &bytes) => Arc::new(p?),
        _ = signals.recv() => return Err(Fatal { code: exit::code::ABORTED, message: "stopped by a signal while loading the plugin".into() }),
    };
    drop(bytes);
    let flags = Arc::new(wasp_flags::Flags::new(&cfg.flags, telemetry.tracer.clone()).await.map_err(|e| Fatal::usage(format!("feature flags: {e}")))?);
    let current = CurrentStats::new(Arc::new(wasp_runner::Stats::new(&[])));
    let request_duration = telemetry.meter_provider.as_ref().map(|mp| wasp_telemetry::instruments::register(mp, &current, &telemetry));
    let loaded = Loaded { plugin, flags, capacity, telemetry, current, request_duration, per_instance, instance_memory };
    if cfg.web.is_some() {
        return ui::serve(loaded, args, cfg, signals).await;
    }
    start_together(&cfg, readiness, &mut signals).await?;
    let hooks = one::Hooks { signals: &mut signals, stop, flush: one::Flush::Shutdown, started: Box::new(|_| {}) };
    Ok(one::run(&loaded, cfg, hooks).await?.code)
}
