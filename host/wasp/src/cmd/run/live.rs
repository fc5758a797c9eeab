//! The live console: a table every `--stats-interval`, a progress bar on a terminal.

use crate::config::RunConfig;
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasp_report::console;
use wasp_runner::{Snapshot, Stats};

/// Prints the table every interval and keeps a progress bar (on a terminal).
pub async fn live_console(stats: Arc<Stats>, cfg: RunConfig) {
    let bar = match cfg.run_time {
        Some(t) => {
            let b = ProgressBar::new(t.as_secs().max(1));
            b.set_style(ProgressStyle::with_template("{bar:30.cyan/blue} {pos:>5}/{len}s {msg}").unwrap_or_else(|_| ProgressStyle::default_bar()));
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
