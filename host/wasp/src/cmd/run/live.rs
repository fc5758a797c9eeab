//! The live console. On a terminal: one view redrawn in place (progress, users,
//! rates, the busiest request names, failures, the last warnings), with log
//! lines printed above it. Otherwise: the table every `--stats-interval`.

use crate::config::RunConfig;
use crate::logging::console as log_console;
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasp_report::console;
use wasp_runner::{Snapshot, Stats};

/// Lines of the view that are not request names (status, header, "more",
/// aggregated, failures, warnings).
const VIEW_CHROME: usize = 10;
/// Request names the view shows at most.
const VIEW_NAMES: usize = 12;

/// The bar, attached to the log while it lives; cleared when the run ends
/// (or the task is aborted).
struct Attached(ProgressBar);

impl Drop for Attached {
    fn drop(&mut self) {
        self.0.finish_and_clear();
        log_console().attach(None);
    }
}

/// Keeps the live view (on a terminal) or prints the table every interval.
pub async fn live_console(stats: Arc<Stats>, cfg: RunConfig) {
    let bar = match cfg.run_time {
        Some(t) => ProgressBar::new(t.as_secs().max(1)),
        None => ProgressBar::new_spinner(),
    };
    // indicatif draws only on a terminal: hidden means the table goes to a pipe or file.
    let terminal = !bar.is_hidden();
    // The view: the bar on its own line, the rest below it.
    let template = match (cfg.run_time.is_some(), terminal && cfg.live) {
        (true, true) => "{bar:40.cyan/blue} {pos:>5}/{len}s\n{msg}",
        (true, false) => "{bar:30.cyan/blue} {pos:>5}/{len}s {msg}",
        (false, true) => "{spinner} {elapsed}\n{msg}",
        (false, false) => "{spinner} {msg}",
    };
    bar.set_style(ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()));
    log_console().attach(Some(bar.clone()));
    let bar = Attached(bar);
    let view = terminal && cfg.live;
    let mut tick = tokio::time::interval(Duration::from_millis(if view { 500 } else { 250 }));
    let mut last_table = Instant::now();
    loop {
        tick.tick().await;
        // A snapshot clones every histogram under the stats lock: take one only
        // when something will be shown (a visible bar, or a table that is due).
        let table_due = !terminal && cfg.live && last_table.elapsed() >= cfg.stats_interval;
        if !terminal && !table_due {
            continue;
        }
        let snap: Snapshot = stats.snapshot();
        bar.0.set_position(snap.elapsed.as_secs());
        if view {
            let (rows, cols) = ::console::Term::stderr().size();
            let names = (rows as usize).saturating_sub(VIEW_CHROME).clamp(1, VIEW_NAMES);
            bar.0.set_message(console::live_view(&snap, names, (cols as usize).saturating_sub(1).max(40), &log_console().warnings()));
        } else {
            bar.0.set_message(console::status_line(&snap));
        }
        if table_due {
            last_table = Instant::now();
            let text = format!("{}\n{}\n", console::status_line(&snap), console::table(&snap));
            use std::io::Write;
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        }
    }
}
