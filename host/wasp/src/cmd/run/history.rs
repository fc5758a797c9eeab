//! The history CSV, a row appended every second.

use super::meta::unix_now;
use std::sync::Arc;
use std::time::Duration;
use wasp_report::csv;
use wasp_runner::Stats;

/// Appends a history row every second (Locust's CSV_STATS_INTERVAL_SEC).
pub async fn csv_history(stats: Arc<Stats>, history: Arc<std::sync::Mutex<csv::History>>) {
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
