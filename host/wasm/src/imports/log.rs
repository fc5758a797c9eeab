//! `wasp:plugin/log`: guest log lines go to the host's log (target `guest`),
//! tagged with the user id and the task. The text is the plugin's, so it is
//! made printable (a newline cannot forge a line of wasp's) and bounded.

use super::UserCtx;
use crate::bindings::wasp::plugin::log::{Host, Level};
use wasp_runner::text::printable;

/// Longest message kept, and the attributes kept per line.
const MAX_MESSAGE: usize = 8 << 10;
const MAX_ATTRIBUTES: usize = 32;

impl Host for UserCtx {
    async fn log(&mut self, level: Level, message: String, attributes: Vec<(String, String)>) {
        let user = self.id;
        let task = self.phase_name();
        // The record carries the trace and span ids of the innermost open span.
        let _cx = self.telemetry.current().attach();
        let message = printable(&message, MAX_MESSAGE);
        let attrs: String = attributes.iter().take(MAX_ATTRIBUTES).map(|(k, v)| format!(" {}={}", printable(k, 64), printable(v, 1024))).collect();
        match level {
            Level::Trace => tracing::trace!(target: "guest", user, task, "{message}{attrs}"),
            Level::Debug => tracing::debug!(target: "guest", user, task, "{message}{attrs}"),
            Level::Info => tracing::info!(target: "guest", user, task, "{message}{attrs}"),
            Level::Warn => tracing::warn!(target: "guest", user, task, "{message}{attrs}"),
            Level::Error => tracing::error!(target: "guest", user, task, "{message}{attrs}"),
        }
    }
}
