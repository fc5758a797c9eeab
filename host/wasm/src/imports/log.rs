//! `wasp:plugin/log`: guest log lines go to the host's log (target `guest`),
//! tagged with the user id and the task.

use super::UserCtx;
use crate::bindings::wasp::plugin::log::{Host, Level};

impl Host for UserCtx {
    async fn log(&mut self, level: Level, message: String, attributes: Vec<(String, String)>) {
        let user = self.id;
        let task = self.phase_name();
        // The record carries the trace and span ids of the innermost open span.
        let _cx = self.telemetry.current().attach();
        let attrs: String = attributes.iter().map(|(k, v)| format!(" {k}={v}")).collect();
        match level {
            Level::Trace => tracing::trace!(target: "guest", user, task, "{message}{attrs}"),
            Level::Debug => tracing::debug!(target: "guest", user, task, "{message}{attrs}"),
            Level::Info => tracing::info!(target: "guest", user, task, "{message}{attrs}"),
            Level::Warn => tracing::warn!(target: "guest", user, task, "{message}{attrs}"),
            Level::Error => tracing::error!(target: "guest", user, task, "{message}{attrs}"),
        }
    }
}
