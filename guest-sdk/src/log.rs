//! Log lines in the host's log, tagged with the user and the task.

use crate::bindings::wasp::plugin::log::{log, Level};

pub fn trace(message: &str) {
    log(Level::Trace, message, &[])
}
pub fn debug(message: &str) {
    log(Level::Debug, message, &[])
}
pub fn info(message: &str) {
    log(Level::Info, message, &[])
}
pub fn warn(message: &str) {
    log(Level::Warn, message, &[])
}
pub fn error(message: &str) {
    log(Level::Error, message, &[])
}

/// A line with key/value attributes.
pub fn with(level: Level, message: &str, attributes: &[(&str, &str)]) {
    let attrs: Vec<(String, String)> = attributes.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    log(level, message, &attrs)
}

pub use crate::bindings::wasp::plugin::log::Level as LogLevel;
