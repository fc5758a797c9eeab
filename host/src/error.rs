//! Exit codes and the errors that choose them. Every error the user can cause
//! ends as one line on stderr and one of these codes, never a panic.

use std::fmt;

/// Process exit codes (see README).
pub mod exit {
    /// The run passed.
    pub const OK: i32 = 0;
    /// Failures (or, later, thresholds) failed the run.
    pub const FAILED: i32 = 1;
    /// Bad command line or configuration.
    pub const USAGE: i32 = 2;
    /// The plugin could not be loaded.
    pub const PLUGIN: i32 = 3;
    /// The run was stopped by a signal before anything was measured.
    pub const ABORTED: i32 = 4;
    /// A bug in wasp itself (a panic).
    pub const INTERNAL: i32 = 70;
}

/// An error that ends the program with a given exit code.
#[derive(Debug)]
pub struct Fatal {
    pub code: i32,
    pub message: String,
}

impl Fatal {
    pub fn usage(message: impl Into<String>) -> Self {
        Fatal { code: exit::USAGE, message: message.into() }
    }
    pub fn plugin(message: impl Into<String>) -> Self {
        Fatal { code: exit::PLUGIN, message: message.into() }
    }
}

impl fmt::Display for Fatal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Fatal {}

/// Joins an error and its sources on one line: "a: b: c".
pub fn one_line(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out.replace('\n', " ")
}
