//! # wasp-runner
//!
//! The part of wasp that decides *when* users do *what*, and counts what
//! happened. It drives the [`User`] trait: the Wasm user (crate `wasp-wasm`)
//! is one implementation, the tests here use native ones. Nothing in this
//! crate knows WebAssembly, HTTP or OpenTelemetry — Cargo keeps it that way.
//!
//! - [`behaviour`]: what a plugin says it does (tasks, weights, tags, waits);
//! - [`plan`]: scenarios and their executors (k6's names: constant and
//!   ramping users, constant and ramping arrival rate, shared and per-user
//!   iterations), stages and rate curves; [`segment`]: one shard's part
//!   of a run spread over several processes;
//! - [`scheduler`]: the run itself — closed pools and open arrivals, task
//!   choice, waits, graceful stops; [`controls`]: the live controls (users,
//!   rate, pause) every control surface drives;
//! - [`user`]: the [`User`] and [`UserFactory`] traits;
//! - [`stats`]: HDR histograms per request name, tasks, errors, the timeline;
//! - [`units`]: the one parser for durations and sizes the CLI and the
//!   thresholds share;
//! - [`text`]: error chains and untrusted text on one printable line.

pub mod behaviour;
pub mod controls;
pub mod plan;
pub mod scheduler;
pub mod segment;
pub mod stats;
pub mod text;
pub mod units;
pub mod user;

pub use behaviour::{Behaviour, Task, Wait};
pub use controls::{Controls, Ramp, Target};
pub use plan::{Arrivals, Executor, Plan, Scenario, Stage};
pub use scheduler::{run, Outcome, Signal, StopReason};
pub use segment::Segment;
pub use stats::{Snapshot, Stats};
pub use user::{User, UserError, UserFactory, UserSpec};
