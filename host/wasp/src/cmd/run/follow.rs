//! `--users-flag` and `--pause-flag`: the pool follows feature flags, live.

use crate::config::RunConfig;
use std::sync::Arc;
use wasp_runner::Controls;

/// Evaluates --users-flag and --pause-flag every poll interval (the first at
/// once) and applies them to the pool.
pub async fn follow_flags(flags: Arc<wasp_flags::Flags>, controls: Controls, cfg: RunConfig) {
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

