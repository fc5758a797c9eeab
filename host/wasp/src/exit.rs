//! Exit codes and the errors that choose them. Every error the user can cause
//! ends as one line on stderr and one of these codes, never a panic. Only the
//! binary maps errors to codes: the library crates return their own errors.

use std::fmt;

/// Process exit codes (see README).
pub mod code {
    /// The run passed.
    pub const OK: i32 = 0;
    /// A threshold failed, or (without thresholds) a failure or error.
    pub const FAILED: i32 = 1;
    /// Bad command line or configuration.
    pub const USAGE: i32 = 2;
    /// The plugin could not be loaded.
    pub const PLUGIN: i32 = 3;
    /// The run was stopped by a signal before anything was measured.
    pub const ABORTED: i32 = 4;
    /// The run completed no request (and `--allow-empty` was not given).
    pub const EMPTY: i32 = 5;
    /// A result file (`--json`, `--html`, `--csv`) could not be written.
    pub const UNWRITTEN: i32 = 6;
    /// `--abort-on-threshold` stopped the run: a threshold failed while it ran.
    pub const THRESHOLD_ABORT: i32 = 7;
    /// Shards missing: the start barrier, or `wasp merge --wait`, timed out.
    pub const SHARDS_MISSING: i32 = 8;
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
        Fatal { code: code::USAGE, message: message.into() }
    }
    pub fn plugin(message: impl Into<String>) -> Self {
        Fatal { code: code::PLUGIN, message: message.into() }
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Fatal { code: code::INTERNAL, message: message.into() }
    }
}

impl fmt::Display for Fatal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Fatal {}

impl From<wasp_wasm::LoadError> for Fatal {
    fn from(e: wasp_wasm::LoadError) -> Fatal {
        match e {
            wasp_wasm::LoadError::Plugin(m) => Fatal::plugin(m),
            wasp_wasm::LoadError::Engine(m) => Fatal::usage(m),
        }
    }
}

impl From<wasp_telemetry::ConfigError> for Fatal {
    fn from(e: wasp_telemetry::ConfigError) -> Fatal {
        Fatal::usage(e.0)
    }
}

/// What decides a finished run's exit code.
pub struct Verdict<'a> {
    /// The thresholds' outcomes; when there are any, they alone decide.
    pub thresholds: &'a [wasp_report::thresholds::Outcome],
    /// Any failed request, task error or user error.
    pub had_errors: bool,
    /// The code for `had_errors` without thresholds (`--exit-code-on-error`).
    pub exit_code_on_error: i32,
    /// A signal stopped the run before anything was measured.
    pub aborted_empty: bool,
    /// Nothing was measured (no completed request), and that is not allowed.
    pub empty: bool,
    /// `--abort-on-threshold` stopped the run.
    pub threshold_abort: bool,
    /// One shard of a distributed run: `wasp merge` judges the numbers.
    pub shard: bool,
}

/// The one exit-code policy of `wasp run` and `wasp merge`: a run that
/// measured nothing never passes; with thresholds, they alone decide;
/// without, any failure does (Locust's rule). A shard's code says only
/// whether it ran to its end: the verdict is the merge's.
pub fn verdict(v: Verdict) -> i32 {
    if v.aborted_empty {
        code::ABORTED
    } else if v.threshold_abort {
        code::THRESHOLD_ABORT
    } else if v.shard {
        code::OK
    } else if v.empty {
        code::EMPTY
    } else if !v.thresholds.is_empty() {
        if v.thresholds.iter().all(|t| t.passed) {
            code::OK
        } else {
            code::FAILED
        }
    } else if v.had_errors {
        v.exit_code_on_error
    } else {
        code::OK
    }
}
