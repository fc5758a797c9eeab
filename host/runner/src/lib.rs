//! # wasp-runner
//!
//! The part of wasp that decides *when* users do *what*, and counts what
//! happened. It drives the [`User`] trait: the Wasm user (crate `wasp-wasm`)
//! is one implementation, the tests here use native ones. Nothing in this
//! crate knows WebAssembly, HTTP or OpenTelemetry — Cargo keeps it that way.
//!
//! - [`behaviour`]: what a plugin says it does (tasks, weights, tags, waits);
//! - [`scheduler`]: the run itself — spawn rate, task choice, waits, stop,
//!   and the live [`Controls`] (resize, pause);
//! - [`stats`]: HDR histograms per request name, tasks, errors, the timeline;
//! - [`units`]: the one parser for durations and sizes the CLI and the
//!   thresholds share;
//! - [`text`]: error chains and untrusted text on one printable line.

pub mod behaviour;
pub mod scheduler;
pub mod stats;
pub mod text;
pub mod units;

pub use behaviour::{Behaviour, Task, Wait};
pub use scheduler::{run, run_with, Controls, Outcome, Plan, Signal, StopReason, User, UserError, UserFactory};
pub use stats::{Snapshot, Stats};
