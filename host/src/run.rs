//! `wasp run`: load the plugin, run its users, report, choose the exit code.

use crate::cli::RunArgs;
use crate::config::RunConfig;
use crate::error::{exit, Fatal};
use crate::imports::http::{HttpOptions, HttpShared};
use crate::imports::RunCtx;
use crate::otel::Telemetry;
use crate::plugin::{self, EngineOptions, Plugin, WasmUsers};
use crate::report::{console, csv, json};
use crate::runner::{self, Plan, StopReason};
use crate::stats::{Snapshot, Stats};
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub async fn run(args: RunArgs, telemetry: Arc<Telemetry>) -> Result<i32, Fatal> {
    let cfg = RunConfig::from_args(&args)?;
    // Each user may hold a connection: allow as many open files as the system lets us.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) if n < cfg.users + 64 => {
            tracing::warn!("open-file limit is {n}: fewer than one connection per user ({})", cfg.users)
        }
        Ok(_) => {}
        Err(e) => tracing::warn!("cannot raise the open-file limit: {e}"),
    }
    // Read once: the bytes size the engine's instance pool, then are compiled.
    let bytes = plugin::read(&cfg.plugin)?;
    let engine = plugin::engine(&EngineOptions::for_component(&bytes, cfg.capacity, cfg.max_user_memory))
        .map_err(|e| Fatal::plugin(format!("cannot start the Wasm engine: {e:#}")))?;
    let plugin = Arc::new(Plugin::from_bytes(&engine, &cfg.plugin, &bytes).await?);
    drop(bytes);
    let started_at = unix_now_ms();
    let b = &plugin.behaviour;
    let selectable = b.selectable(&cfg.tags, &cfg.exclude_tags);
    if selectable.is_empty() {
        let known: Vec<String> =
            b.tasks.iter().map(|t| format!("{}[{}]", t.name, t.tags.join(","))).collect();
        return Err(Fatal::usage(format!(
            "no task left to run after --tags/--exclude-tags (tasks: {})",
            known.join(" ")
        )));
    }
    let task_names: Vec<String> = b.tasks.iter().map(|t| t.name.clone()).collect();
    let stats = Arc::new(Stats::new(&task_names));
    let http = HttpShared::new(HttpOptions {
        base: cfg.host.clone(),
        allow: cfg.allow.clone(),
        timeout: cfg.request_timeout,
        max_body: cfg.max_body,
        max_redirects: 10,
        user_agent: format!("wasp/{}", env!("CARGO_PKG_VERSION")),
    })
    .map_err(|e| Fatal::usage(format!("cannot build the HTTP client: {e}")))?;
    let flags = Arc::new(
        crate::flags::Flags::new(&cfg.flags, telemetry.tracer.clone())
            .await
            .map_err(|e| Fatal::usage(format!("feature flags: {e}")))?,
    );
    let run_ctx = Arc::new(RunCtx {
        stats: stats.clone(),
        http,
        host: cfg.host.as_ref().map(|u| u.to_string()).unwrap_or_default(),
        start: Instant::now(),
        task_names,
        request_duration: telemetry.meter_provider.as_ref().map(|mp| metrics::instruments(mp, &stats, &telemetry)),
        telemetry: telemetry.clone(),
        baggage_seed: cfg.baggage.clone(),
        flags: flags.clone(),
    });
    let factory = Arc::new(WasmUsers::new(plugin.clone(), run_ctx, cfg.max_user_memory, cfg.seed, cfg.task_budget));
    let plan = Plan {
        users: cfg.users,
        spawn_rate: cfg.spawn_rate,
        run_time: cfg.run_time,
        stop_timeout: cfg.stop_timeout,
        seed: cfg.seed,
        tasks: selectable.iter().map(|&i| (i, b.tasks[i].weight)).collect(),
        wait: cfg.wait.unwrap_or(b.wait),
    };
    tracing::info!(
        plugin = %cfg.plugin.display(),
        behaviour = %b.name,
        users = cfg.users,
        spawn_rate = cfg.spawn_rate,
        run_time = ?cfg.run_time,
        "starting"
    );

    let history = match &cfg.csv {
        Some(prefix) => Some(
            csv::History::create(prefix, cfg.csv_full_history)
                .map_err(|e| Fatal::usage(format!("cannot write {}: {e}", csv::path(prefix, "stats_history").display())))?,
        ),
        None => None,
    };
    let history = history.map(|h| Arc::new(std::sync::Mutex::new(h)));
    let history_task = history.clone().map(|h| tokio::spawn(csv_history(stats.clone(), h)));
    let controls = runner::Controls::new(cfg.users);
    let web = match cfg.web {
        Some(addr) => Some(
            crate::web::serve(addr, stats.clone(), controls.clone(), b.name.clone())
                .await
                .map_err(|e| Fatal::usage(format!("cannot serve the web page on {addr}: {e}")))?,
        ),
        None => None,
    };
    let poller = (cfg.users_flag.is_some() || cfg.pause_flag.is_some()).then(|| {
        tokio::spawn(follow_flags(flags.clone(), controls.clone(), cfg.clone()))
    });
    let watcher = cfg.watch.then(|| tokio::spawn(crate::reload::watch(factory.clone(), engine.clone(), cfg.plugin.clone())));
    let (signals, stop) = crate::signals::listen();
    let live = tokio::spawn(live_console(stats.clone(), cfg.clone()));
    let watch = cfg.abort_on_threshold.then(|| tokio::spawn(abort_on_threshold(stats.clone(), cfg.thresholds.clone(), stop)));
    let outcome = runner::run_with(factory, plan, stats.clone(), signals, controls).await;
    for t in [poller, web, watcher].into_iter().flatten() {
        t.abort();
    }
    live.abort();
    let _ = live.await;
    if let Some(w) = watch {
        w.abort();
    }
    if let Some(t) = history_task {
        t.abort();
        let _ = t.await;
    }

    // The measurements end with the load; the telemetry flush comes after.
    let snap = stats.snapshot();
    let delivery = {
        let t = telemetry.clone();
        let timeout = cfg.telemetry_timeout;
        tokio::task::spawn_blocking(move || t.shutdown(timeout)).await.unwrap_or_default()
    };
    if outcome.interrupted > 0 {
        tracing::warn!("{} user(s) were cut short at the stop timeout", outcome.interrupted);
    }
    let measured = snap.total.count > 0 || snap.tasks.iter().any(|t| t.runs > 0);
    let had_errors = snap.total.failures > 0 || !snap.errors.is_empty() || snap.tasks.iter().any(|t| t.errors > 0);
    let verdicts: Vec<_> = cfg.thresholds.iter().map(|t| t.evaluate(&snap)).collect();
    // With thresholds, they alone decide; without, any failure does (Locust's rule).
    let code = if outcome.reason == StopReason::Signal && !measured {
        exit::ABORTED
    } else if !verdicts.is_empty() {
        if verdicts.iter().all(|v| v.passed) { exit::OK } else { exit::FAILED }
    } else if had_errors {
        cfg.exit_code_on_error
    } else {
        exit::OK
    };
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
            tracing::error!("cannot write the CSV files {}_*.csv: {e}", prefix.display());
        }
    }
    if cfg.json.is_some() || cfg.html.is_some() {
        let reason = match outcome.reason {
            StopReason::RunTime => "run-time",
            StopReason::Signal => "signal",
            StopReason::UsersDone => "users-done",
            StopReason::Aborted => "threshold",
        };
        let info = json::RunInfo {
            meta: meta(&cfg, &plugin, started_at),
            stop_reason: reason,
            exit_code: code,
            telemetry: &delivery,
            thresholds: &verdicts,
        };
        let doc = json::report(&snap, &stats.second_histograms(), info);
        for e in crate::report::write_documents(&doc, cfg.json.as_deref(), cfg.html.as_deref()) {
            tracing::error!("{e}");
        }
    }
    Ok(code)
}

/// What the result files say about the run besides its numbers.
fn meta(cfg: &RunConfig, plugin: &Plugin, started_at: u64) -> json::Meta {
    let mut options = std::collections::BTreeMap::new();
    let mut opt = |k: &str, v: String| {
        options.insert(k.to_string(), v);
    };
    opt("users", cfg.users.to_string());
    opt("spawn-rate", cfg.spawn_rate.to_string());
    opt("run-time", cfg.run_time.map(|d| humantime::format_duration(d).to_string()).unwrap_or_else(|| "until stopped".into()));
    opt("stop-timeout", humantime::format_duration(cfg.stop_timeout).to_string());
    opt("wait", cfg.wait.map(|w| format!("{w:?}")).unwrap_or_else(|| format!("{:?} (plugin)", plugin.behaviour.wait)));
    if let Some(seed) = cfg.seed {
        opt("seed", seed.to_string());
    }
    if !cfg.tags.is_empty() {
        opt("tags", cfg.tags.join(","));
    }
    if !cfg.exclude_tags.is_empty() {
        opt("exclude-tags", cfg.exclude_tags.join(","));
    }
    opt("request-timeout", humantime::format_duration(cfg.request_timeout).to_string());
    opt("task-budget", humantime::format_duration(cfg.task_budget).to_string());
    opt("max-user-memory", cfg.max_user_memory.to_string());
    if !cfg.thresholds.is_empty() {
        opt("threshold", cfg.thresholds.iter().map(|t| t.text.clone()).collect::<Vec<_>>().join("; "));
    }
    json::Meta {
        wasp_version: env!("CARGO_PKG_VERSION").to_string(),
        wasmtime_version: plugin::WASMTIME_VERSION.to_string(),
        plugin: cfg.plugin.display().to_string(),
        plugin_sha256: plugin.sha256.clone(),
        behaviour: plugin.behaviour.name.clone(),
        host: cfg.host.as_ref().map(|u| u.to_string()).unwrap_or_default(),
        started_at_unix_ms: started_at,
        hostname: std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_default(),
        options,
        merged_from: vec![],
    }
}

fn unix_now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Appends a history row every second (Locust's CSV_STATS_INTERVAL_SEC).
async fn csv_history(stats: Arc<Stats>, history: Arc<std::sync::Mutex<csv::History>>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    loop {
        tick.tick().await;
        let snap = stats.snapshot();
        let mut h = history.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = h.append(&snap, unix_now()) {
            tracing::error!("cannot append to the history CSV: {e}");
            return;
        }
    }
}

/// Evaluates --users-flag and --pause-flag every poll interval (the first at
/// once) and applies them to the pool.
async fn follow_flags(flags: Arc<crate::flags::Flags>, controls: runner::Controls, cfg: RunConfig) {
    let ctx = open_feature::EvaluationContext::default().with_targeting_key("wasp");
    let root = opentelemetry::Context::new();
    let mut tick = tokio::time::interval(cfg.flag_poll_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Some(key) = &cfg.users_flag {
            let now = controls.users();
            let want = flags.get(key, now as i64, &ctx, &root).await;
            let capped = (want.max(0) as u64).min(cfg.capacity as u64);
            if capped as i64 != want {
                tracing::warn!("flag {key} asks for {want} users; the pool holds {} (see --max-users)", cfg.capacity);
            }
            if capped != now {
                tracing::info!("flag {key}: {now} → {capped} users");
                controls.resize(capped);
            }
        }
        if let Some(key) = &cfg.pause_flag {
            let paused = flags.get(key, 1i64, &ctx, &root).await == 0;
            if paused != controls.paused() {
                tracing::info!("flag {key}: traffic {}", if paused { "paused" } else { "resumed" });
                controls.pause(paused);
            }
        }
    }
}

/// Stops the run once any threshold fails (after 2 s of data, checked every second).
async fn abort_on_threshold(stats: Arc<Stats>, thresholds: Vec<crate::thresholds::Threshold>, stop: tokio::sync::mpsc::Sender<runner::Signal>) {
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let snap = stats.snapshot();
        if let Some(lost) = thresholds.iter().map(|t| t.evaluate(&snap)).find(|v| v.measured.is_some() && !v.passed) {
            tracing::warn!("threshold {} failed (measured {:.3}{}): stopping the run", lost.threshold, lost.measured.unwrap_or(0.0), lost.unit);
            let _ = stop.send(runner::Signal::Abort).await;
            return;
        }
    }
}

/// Prints the table every interval and keeps a progress bar (on a terminal).
async fn live_console(stats: Arc<Stats>, cfg: RunConfig) {
    let bar = match cfg.run_time {
        Some(t) => {
            let b = ProgressBar::new(t.as_secs().max(1));
            b.set_style(
                ProgressStyle::with_template("{bar:30.cyan/blue} {pos:>5}/{len}s {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b
        }
        None => ProgressBar::new_spinner(),
    };
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut last_table = Instant::now();
    loop {
        tick.tick().await;
        // A snapshot clones every histogram under the stats lock: take one only
        // when something will be shown (a visible bar, or a table that is due).
        let table_due = cfg.live && last_table.elapsed() >= cfg.stats_interval;
        if bar.is_hidden() && !table_due {
            continue;
        }
        let snap: Snapshot = stats.snapshot();
        bar.set_position(snap.elapsed.as_secs());
        bar.set_message(console::status_line(&snap));
        if table_due {
            last_table = Instant::now();
            let text = format!("{}\n{}\n", console::status_line(&snap), console::table(&snap));
            bar.suspend(|| {
                use std::io::Write;
                let _ = std::io::stderr().lock().write_all(text.as_bytes());
            });
        }
    }
}

/// The run's own metrics: the request duration histogram (recorded per
/// request) and gauges read from the stats when the SDK collects.
mod metrics {
    use crate::otel::Telemetry;
    use crate::stats::Stats;
    use opentelemetry::metrics::{Histogram, MeterProvider as _};
    use opentelemetry::KeyValue;
    use opentelemetry_sdk::metrics::SdkMeterProvider;
    use std::sync::atomic::Ordering;
    use std::sync::Arc;

    /// Bucket bounds the HTTP semantic conventions advise for durations, in seconds.
    const BOUNDS: [f64; 14] = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];

    pub fn instruments(mp: &SdkMeterProvider, stats: &Arc<Stats>, telemetry: &Arc<Telemetry>) -> Histogram<f64> {
        let meter = mp.meter("wasp");
        let s = stats.clone();
        meter
            .i64_observable_gauge("wasp.users.active")
            .with_description("Users running now")
            .with_unit("{user}")
            .with_callback(move |o| o.observe(s.users() as i64, &[]))
            .build();
        let s = stats.clone();
        meter
            .u64_observable_counter("wasp.task.runs")
            .with_description("Task runs, by task and outcome")
            .with_unit("{run}")
            .with_callback(move |o| {
                for t in s.tasks() {
                    o.observe(t.runs - t.errors, &[KeyValue::new("wasp.task", t.name.clone()), KeyValue::new("outcome", "ok")]);
                    o.observe(t.errors, &[KeyValue::new("wasp.task", t.name.clone()), KeyValue::new("outcome", "error")]);
                }
            })
            .build();
        let counts = telemetry.counts.clone();
        meter
            .u64_observable_gauge("wasp.telemetry.backlog")
            .with_description("Spans and log records handed to export but not exported (yet): queued, in flight or dropped")
            .with_unit("{item}")
            .with_callback(move |o| {
                let ld = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
                o.observe(ld(&counts.spans_ended).saturating_sub(ld(&counts.spans_exported)), &[KeyValue::new("signal", "traces")]);
                o.observe(ld(&counts.logs_emitted).saturating_sub(ld(&counts.logs_exported)), &[KeyValue::new("signal", "logs")]);
            })
            .build();
        meter
            .f64_histogram(opentelemetry_semantic_conventions::metric::HTTP_CLIENT_REQUEST_DURATION)
            .with_description("Duration of HTTP client requests")
            .with_unit("s")
            .with_boundaries(BOUNDS.to_vec())
            .build()
    }
}
