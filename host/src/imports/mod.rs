//! Host capabilities given to guests, one module per WIT interface.
//!
//! Every user's store holds a [`UserCtx`]: the user's own state for each
//! interface plus a handle on what the run shares ([`RunCtx`]).

pub mod baggage;
pub mod context;
pub mod http;
pub mod log;

use crate::stats::Stats;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What all users of a run share.
pub struct RunCtx {
    pub stats: Arc<Stats>,
    pub http: http::HttpShared,
    /// The run's `--host`, as given (may be empty).
    pub host: String,
    pub start: Instant,
    pub task_names: Vec<String>,
}

/// Where a user is: which export call runs now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Idle,
    Start,
    Task(usize),
    Stop,
}

/// One user's host-side state.
pub struct UserCtx {
    pub id: u64,
    pub run: Arc<RunCtx>,
    pub http: http::UserHttp,
    pub baggage: baggage::UserBaggage,
    pub phase: Phase,
    /// When the current export call began, and how long of it was spent
    /// waiting on the host (network), which does not count against the budget.
    pub call_started: Instant,
    pub host_wait: Duration,
}

impl UserCtx {
    pub fn new(id: u64, run: Arc<RunCtx>) -> Self {
        UserCtx {
            id,
            run,
            http: http::UserHttp::default(),
            baggage: baggage::UserBaggage::default(),
            phase: Phase::Idle,
            call_started: Instant::now(),
            host_wait: Duration::ZERO,
        }
    }

    /// Name of the current phase, for logs: `on-start`, the task's name, `on-stop`.
    pub fn phase_name(&self) -> &str {
        match self.phase {
            Phase::Idle => "",
            Phase::Start => "on-start",
            Phase::Stop => "on-stop",
            Phase::Task(i) => self.run.task_names.get(i).map(String::as_str).unwrap_or("?"),
        }
    }

    pub fn begin(&mut self, phase: Phase) {
        self.phase = phase;
        self.call_started = Instant::now();
        self.host_wait = Duration::ZERO;
    }

    /// Ends an export call: responses not yet counted are counted now.
    pub fn end(&mut self) {
        self.http.flush(&self.run.stats);
        self.phase = Phase::Idle;
    }

    /// Guest time used by the current call, not counting host waits.
    pub fn busy(&self) -> Duration {
        self.call_started.elapsed().saturating_sub(self.host_wait)
    }
}

impl crate::bindings::wasp::plugin::types::Host for UserCtx {}
