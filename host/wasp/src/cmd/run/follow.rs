//! `--users-flag`, `--rate-flag` and `--pause-flag`: the run follows feature
//! flags, live, through the same controls as the web UI and the API.

use crate::config::RunConfig;
use std::sync::Arc;
use wasp_runner::{Controls, Executor, Ramp};

/// Evaluates the flags every poll interval (the first at once) and applies
/// them: users (closed scenarios, at the spawn rate), rate (arrival-rate
/// scenarios, at once), pause.
pub async fn follow_flags(flags: Arc<wasp_flags::Flags>, controls: Controls, cfg: RunConfig) {
    let ctx = open_feature::EvaluationContext::default().with_targeting_key("wasp");
    let root = opentelemetry::Context::new();
    let spawn_rate = cfg
        .scenarios
        .iter()
        .find_map(|s| match s.executor {
            Executor::ConstantUsers { spawn_rate, .. } => Some(spawn_rate),
            _ => None,
        })
        .unwrap_or(1.0);
    let mut tick = tokio::time::interval(cfg.flag_poll_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Some(key) = &cfg.users_flag {
            let now = controls.users_target();
            let want = flags.get(key, now as i64, &ctx, &root).await;
            let capped = (want.max(0) as u64).min(cfg.capacity as u64);
            if capped as i64 != want {
                tracing::warn!("flag {key} asks for {want} users; the pool holds {} (see --max-users)", cfg.capacity);
            }
            if capped != now {
                controls.resize(None, capped, Ramp::Rate(spawn_rate), &format!("flag {key}"));
            }
        }
        if let Some(key) = &cfg.rate_flag {
            let now: f64 = controls.current().iter().filter(|(_, open, _)| *open).map(|(_, _, r)| *r).sum();
            let want = flags.get(key, now, &ctx, &root).await;
            if want.is_finite() && want >= 0.0 && (want - now).abs() > 1e-9 {
                controls.set_rate(None, want.min(wasp_runner::units::MAX_RATE), Ramp::Now, &format!("flag {key}"));
            }
        }
        if let Some(key) = &cfg.pause_flag {
            let paused = flags.get(key, 1i64, &ctx, &root).await == 0;
            if paused != controls.paused() {
                controls.pause(paused, &format!("flag {key}"));
            }
        }
    }
}
