//! One run: its stats and controls, the users against the target, then the
//! summary, the result files and the exit code.

use super::meta::{meta, unix_now, unix_now_ms};
use super::{abort, follow, history, live, Loaded};
use crate::config::RunConfig;
use crate::exit::{self, Fatal};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::mpsc;
use wasp_report::{console, csv, json, Delivery};
use wasp_runner::stats::ScenarioSpec;
use wasp_runner::{Controls, Plan, Signal, Stats, StopReason, Wait};
use wasp_wasm::imports::RunCtx;
use wasp_wasm::WasmUsers;
use wasp_web::RunView;

/// What is done with the telemetry at the end of the run.
pub enum Flush {
    /// Flush and shut the exporters down (the process ends after the run); a
    /// signal during the flush abandons it.
    Shutdown,
    /// Flush and keep them for the next run (a web UI session).
    Keep,
}

/// How the run is tied to the rest of the process.
pub struct Hooks<'a> {
    /// Stop requests: signals, and in a web UI session the API's stop.
    pub signals: &'a mut mpsc::Receiver<Signal>,
    /// Where `--abort-on-threshold` sends its stop (the same channel).
    pub stop: mpsc::Sender<Signal>,
    pub flush: Flush,
    /// Called once the run's stats and controls exist, before any user starts.
    pub started: Box<dyn FnOnce(RunView) + Send + 'a>,
}

/// How the run ended.
pub struct Ended {
    pub code: i32,
    pub reason: StopReason,
    pub delivery: Delivery,
}

pub async fn run(loaded: &Loaded, cfg: RunConfig, hooks: Hooks<'_>) -> Result<Ended, Fatal> {
    let Hooks { signals, stop, flush, started } = hooks;
    let plugin = &loaded.plugin;
    let telemetry = &loaded.telemetry;
    let started_at = unix_now_ms();
    let b = &plugin.behaviour;
    let scenarios = crate::scenarios::plan(&cfg.scenarios, b).map_err(Fatal::usage)?;
    for sc in scenarios.iter().filter(|s| s.executor.is_open() && s.wait != Wait::None) {
        tracing::warn!("scenario {}: waits do not apply to {}: the schedule replaces the wait ({:?})", sc.name, sc.executor.name(), sc.wait);
    }
    let task_names: Vec<String> = b.tasks.iter().map(|t| t.name.clone()).collect();
    let specs: Vec<ScenarioSpec> = scenarios.iter().map(|s| ScenarioSpec { name: s.name.clone(), tasks: s.tasks.iter().map(|t| t.0).collect() }).collect();
    let stats = Arc::new(Stats::with_scenarios(&task_names, &specs));
    let http = wasp_http::Client::new(wasp_http::Options {
        base: cfg.host.clone(),
        allow: cfg.allow.clone(),
        timeout: cfg.request_timeout,
        max_body: cfg.max_body,
        max_redirects: 10,
        user_agent: format!("wasp/{}", env!("CARGO_PKG_VERSION")),
        shared_connections: cfg.shared_connections,
        proxies: wasp_http::Proxies::from_env(),
    })
    .map_err(|e| Fatal::usage(format!("cannot build the HTTP client: {e}")))?;
    if let Some(n) = http.tls_notice() {
        tracing::warn!("{n}");
    }
    for name in wasp_http::Proxies::unusable(|n| std::env::var(n).ok()) {
        tracing::warn!("{name} is set to something that is no proxy URL (http://host:port): it is ignored, and its requests go straight to their targets");
    }
    match cfg.host.as_ref().map(|h| (h, http.route(h))) {
        Some((h, Ok(Some(proxy)))) => {
            tracing::info!("requests to {} go through {proxy} (HTTP_PROXY/HTTPS_PROXY; NO_PROXY bypasses it)", h.origin().ascii_serialization())
        }
        Some((h, Err(why))) => tracing::warn!("requests to {} cannot go out: {why}", h.origin().ascii_serialization()),
        _ => {}
    }
    let history = match &cfg.csv {
        Some(prefix) => Some(
            csv::History::create(prefix, cfg.csv_full_history)
                .map_err(|e| Fatal::usage(format!("cannot write {}: {e}", csv::path(prefix, "stats_history").display())))?,
        ),
        None => None,
    };
    loaded.current.set(stats.clone());
    let run_ctx = Arc::new(RunCtx {
        stats: stats.clone(),
        http,
        host: cfg.host.as_ref().map(|u| u.to_string()).unwrap_or_default(),
        start: Instant::now(),
        task_names: task_names.iter().map(|n| n.as_str().into()).collect(),
        request_duration: loaded.request_duration.clone(),
        telemetry: telemetry.clone(),
        baggage_seed: wasp_wasm::imports::baggage::UserBaggage::seed(&cfg.baggage),
        flags: loaded.flags.clone(),
        scenarios: scenarios.iter().map(|s| s.name.as_str().into()).collect(),
    });
    let memory = (cfg.max_user_memory, loaded.instance_memory);
    let factory = Arc::new(WasmUsers::new(plugin.clone(), run_ctx, memory, cfg.seed, cfg.task_budget, loaded.per_instance));
    let users = factory.clone();
    let controls = Controls::new(&scenarios.iter().map(|s| (s.name.clone(), s.executor.is_open())).collect::<Vec<_>>());
    let executors: Vec<String> = scenarios.iter().map(|s| crate::scenarios::describe(&s.executor)).collect();
    for (sc, ex) in scenarios.iter().zip(&executors) {
        tracing::info!(plugin = %cfg.plugin.display(), behaviour = %b.name, scenario = %sc.name, run_time = ?cfg.run_time, "starting {ex}");
    }
    let plan = Plan { scenarios, run_time: cfg.run_time, seed: cfg.seed, segment: cfg.segment };
    started(RunView {
        stats: stats.clone(),
        controls: controls.clone(),
        meta: meta(&cfg, loaded, started_at),
        executors: executors.clone(),
        thresholds: cfg.thresholds.clone(),
        run_time: cfg.run_time,
        host: cfg.host.as_ref().map(|u| u.to_string()).unwrap_or_default(),
        capacity: loaded.capacity,
        started: SystemTime::now(),
        finished: None,
    });

    let history = history.map(|h| Arc::new(std::sync::Mutex::new(h)));
    let history_task = history.clone().map(|h| tokio::spawn(history::csv_history(stats.clone(), h)));
    let poller = (cfg.users_flag.is_some() || cfg.pause_flag.is_some() || cfg.rate_flag.is_some())
        .then(|| tokio::spawn(follow::follow_flags(loaded.flags.clone(), controls.clone(), cfg.clone())));
    let watcher = cfg.watch.then(|| tokio::spawn(wasp_wasm::reload::watch(factory.clone(), plugin.engine.clone(), cfg.plugin.clone())));
    let live = tokio::spawn(live::live_console(stats.clone(), cfg.clone()));
    let watch = cfg.abort_on_threshold.then(|| tokio::spawn(abort::abort_on_threshold(stats.clone(), cfg.thresholds.clone(), stop)));
    let outcome = wasp_runner::run(factory, plan, stats.clone(), signals, controls).await;
    // Shared instances count what their users left (requests in flight) as they end.
    users.settle(Duration::from_secs(2)).await;
    for t in [poller, watcher, watch].into_iter().flatten() {
        t.abort();
    }
    live.abort();
    let _ = live.await;
    if let Some(t) = history_task {
        t.abort();
        let _ = t.await;
    }

    // The measurements end with the load; the telemetry flush comes after.
    let snap = stats.snapshot();
    let delivery = {
        let t = telemetry.clone();
        let timeout = cfg.telemetry_timeout;
        match flush {
            // A signal during the flush abandons it: what is not exported by then is counted as dropped.
            Flush::Shutdown => {
                let flushing = tokio::task::spawn_blocking(move || t.shutdown(timeout));
                tokio::select! {
                    d = flushing => d.unwrap_or_default(),
                    _ = signals.recv() => {
                        tracing::warn!("telemetry flush abandoned: what was not exported yet is counted as dropped");
                        telemetry.delivery()
                    }
                }
            }
            Flush::Keep => tokio::task::spawn_blocking(move || t.flush(timeout)).await.unwrap_or_default(),
        }
    };
    if outcome.interrupted > 0 {
        tracing::warn!("{} user(s) were cut short at the stop timeout", outcome.interrupted);
    }
    let measured = snap.total.count > 0 || snap.tasks.iter().any(|t| t.runs > 0);
    let had_errors = snap.total.failures > 0 || !snap.errors.is_empty() || snap.tasks.iter().any(|t| t.errors > 0);
    let verdicts: Vec<_> = cfg.thresholds.iter().map(|t| t.evaluate(&snap)).collect();
    let code = exit::verdict(exit::Verdict {
        thresholds: &verdicts,
        had_errors,
        exit_code_on_error: cfg.exit_code_on_error,
        aborted_empty: outcome.reason == StopReason::Signal && !measured,
        empty: snap.total.count == 0 && !cfg.allow_empty,
        threshold_abort: outcome.reason == StopReason::Aborted,
        shard: !cfg.segment.is_whole(),
    });
    if !cfg.segment.is_whole() && code == exit::code::OK {
        tracing::info!("shard {} done: its thresholds and failures are judged on the merged result (wasp merge)", cfg.segment);
    }
    if code == exit::code::EMPTY {
        tracing::error!(
            "the run completed no request{}: it measured nothing, so it does not pass (--allow-empty to let it)",
            if snap.total.interrupted > 0 { format!(" ({} were still in flight at the stop)", snap.total.interrupted) } else { String::new() }
        );
    }
    let mut unwritten = vec![];
    let plugin_name = cfg.plugin.display().to_string();
    // A closed stdout (e.g. piped into `head`) must not turn into a panic.
    {
        use std::io::Write;
        let mut text = console::summary(&snap, &plugin_name);
        text.push_str(&console::thresholds(&verdicts));
        text.push_str(&console::telemetry(&delivery));
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
    }
    if let (Some(prefix), Some(h)) = (&cfg.csv, &history) {
        let mut h = h.lock().unwrap_or_else(|e| e.into_inner());
        let written = h.append(&snap, unix_now()).and_then(|_| csv::finish(&mut h)).and_then(|_| csv::write_final(prefix, &snap));
        if let Err(e) = written {
            unwritten.push(format!("cannot write the CSV files {}_*.csv: {e}", prefix.display()));
        }
    }
    if cfg.json.is_some() || cfg.html.is_some() {
        let info = json::RunInfo {
            meta: meta(&cfg, loaded, started_at),
            executors,
            stop_reason: outcome.reason.as_str(),
            exit_code: code,
            telemetry: &delivery,
            thresholds: &verdicts,
        };
        let doc = json::report(&snap, &stats.second_histograms(), info);
        let to_stdout = cfg.json.as_deref().is_some_and(|p| p.as_os_str() == "-");
        let file = cfg.json.as_deref().filter(|_| !to_stdout);
        unwritten.extend(wasp_report::write_documents(&doc, file, cfg.html.as_deref()));
        if to_stdout {
            // `--json -`: the whole result as the last line of stdout.
            use std::io::Write;
            let line = serde_json::to_string(&doc).map(|mut l| {
                l.push('\n');
                l
            });
            if let Err(e) = line.map_err(|e| e.to_string()).and_then(|l| std::io::stdout().lock().write_all(l.as_bytes()).map_err(|e| e.to_string())) {
                unwritten.push(format!("cannot write the result to stdout: {e}"));
            }
        }
    }
    for e in &unwritten {
        tracing::error!("{e}");
    }
    // A passing run whose results are lost does not pass.
    let code = if code == exit::code::OK && !unwritten.is_empty() { exit::code::UNWRITTEN } else { code };
    Ok(Ended { code, reason: outcome.reason, delivery })
}
