//! What the result files say about a run besides its numbers.

use super::Loaded;
use crate::config::RunConfig;
use wasp_report::json;

/// What the result files say about the run besides its numbers.
pub fn meta(cfg: &RunConfig, loaded: &Loaded, started_at: u64) -> json::Meta {
    let plugin = &loaded.plugin;
    let mut options = std::collections::BTreeMap::new();
    let mut opt = |k: &str, v: String| {
        options.insert(k.to_string(), v);
    };
    for sc in &cfg.scenarios {
        let prefix = if cfg.scenarios.len() > 1 { format!("scenario {}: ", sc.name) } else { String::new() };
        opt(&format!("{prefix}executor"), crate::scenarios::describe(&sc.executor));
        if let Some(w) = sc.wait {
            opt(&format!("{prefix}wait"), format!("{w:?}"));
        }
        if !sc.tags.is_empty() {
            opt(&format!("{prefix}tags"), sc.tags.join(","));
        }
        if !sc.exclude_tags.is_empty() {
            opt(&format!("{prefix}exclude-tags"), sc.exclude_tags.join(","));
        }
    }
    if cfg.scenarios.iter().all(|s| s.wait.is_none()) {
        opt("wait", format!("{:?} (plugin)", plugin.behaviour.wait));
    }
    opt("run-time", cfg.run_time.map(|d| humantime::format_duration(d).to_string()).unwrap_or_else(|| "until stopped".into()));
    opt("stop-timeout", humantime::format_duration(cfg.stop_timeout).to_string());
    if !cfg.segment.is_whole() {
        opt("segment", cfg.segment.to_string());
    }
    if let Some(seed) = cfg.seed {
        opt("seed", seed.to_string());
    }
    opt("request-timeout", humantime::format_duration(cfg.request_timeout).to_string());
    opt("task-budget", humantime::format_duration(cfg.task_budget).to_string());
    opt("max-user-memory", cfg.max_user_memory.to_string());
    opt("users-per-instance", loaded.per_instance.to_string());
    if plugin.pre.shares_instances() {
        opt("max-instance-memory", loaded.instance_memory.to_string());
    }
    if !cfg.thresholds.is_empty() {
        opt("threshold", cfg.thresholds.iter().map(|t| t.text.clone()).collect::<Vec<_>>().join("; "));
    }
    json::Meta {
        wasp_version: env!("CARGO_PKG_VERSION").to_string(),
        wasmtime_version: wasp_wasm::WASMTIME_VERSION.to_string(),
        plugin: cfg.plugin.display().to_string(),
        plugin_sha256: plugin.sha256.clone(),
        behaviour: plugin.behaviour.name.clone(),
        host: cfg.host.as_ref().map(|u| u.to_string()).unwrap_or_default(),
        started_at_unix_ms: started_at,
        hostname: std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_default(),
        options,
        merged_from: vec![],
        segment: (!cfg.segment.is_whole()).then(|| cfg.segment.to_string()),
        parts: vec![],
    }
}

pub fn unix_now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}
