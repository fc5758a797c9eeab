//! `--abort-on-threshold`: the run stops as soon as a threshold fails.

use std::sync::Arc;
use std::time::Duration;
use wasp_report::thresholds::Threshold;
use wasp_runner::{Signal, Stats};

/// Stops the run once any threshold fails (after 2 s of data, checked every second).
pub async fn abort_on_threshold(stats: Arc<Stats>, thresholds: Vec<Threshold>, stop: tokio::sync::mpsc::Sender<Signal>) {
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let snap = stats.snapshot();
        if let Some(lost) = thresholds.iter().map(|t| t.evaluate(&snap)).find(|v| v.measured.is_some() && !v.passed) {
            tracing::warn!("threshold {} failed (measured {:.3}{}): stopping the run", lost.threshold, lost.measured.unwrap_or(0.0), lost.unit);
            let _ = stop.send(Signal::Abort).await;
            return;
        }
    }
}
