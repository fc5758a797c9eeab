//! Host capabilities given to guests, one module per WIT interface.
//!
//! Every user's store holds a [`UserCtx`]: the user's own state for each
//! interface plus a handle on what the run shares ([`RunCtx`]).

pub mod baggage;
pub mod context;
pub mod flags;
pub mod http;
pub mod log;
pub mod telemetry;
pub mod types;

use crate::budget::Meter;
use crate::ledger::Ledger;
use opentelemetry::metrics::Histogram;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasp_runner::stats::Stats;
use wasp_telemetry::Telemetry;

/// What all users of a run share.
pub struct RunCtx {
    pub stats: Arc<Stats>,
    pub http: wasp_http::Client,
    /// The run's `--host`, as given (may be empty).
    pub host: String,
    pub start: Instant,
    /// The behaviour's task names, by index, shared (span names and attributes).
    pub task_names: Vec<Arc<str>>,
    pub telemetry: Arc<Telemetry>,
    /// `http.client.request.duration`, when metrics are exported.
    pub request_duration: Option<Histogram<f64>>,
    /// Baggage every user starts with (`synthetic_request=true`, `--baggage`).
    pub baggage_seed: baggage::UserBaggage,
    /// Feature flags (OpenFeature), shared by every user and the flag poller.
    pub flags: Arc<wasp_flags::Flags>,
    /// The plan's scenario names, by index (`wasp.scenario` on spans and
    /// metrics): shared strings, so a span's attribute is a reference count.
    pub scenarios: Vec<Arc<str>>,
}

impl RunCtx {
    /// A context for work outside a run (describing a plugin, tests): no
    /// host, nothing reachable, no telemetry.
    pub fn detached() -> RunCtx {
        RunCtx {
            stats: Arc::new(Stats::new(&[])),
            http: wasp_http::Client::new(wasp_http::Options {
                base: None,
                allow: Default::default(),
                timeout: Duration::from_secs(1),
                max_body: 0,
                max_redirects: 0,
                user_agent: String::new(),
                shared_connections: false,
                proxies: wasp_http::Proxies::none(),
            })
            .expect("a client with default settings builds"),
            host: String::new(),
            start: Instant::now(),
            task_names: vec![],
            telemetry: Arc::new(Telemetry::disabled()),
            request_duration: None,
            baggage_seed: baggage::UserBaggage::default(),
            flags: Arc::new(wasp_flags::Flags::none()),
            scenarios: vec![wasp_runner::stats::DEFAULT_SCENARIO.into()],
        }
    }

    /// The name of scenario `i`.
    pub fn scenario_name(&self, i: usize) -> &str {
        self.scenarios.get(i).map(|s| &**s).unwrap_or(wasp_runner::stats::DEFAULT_SCENARIO)
    }

    /// The name of scenario `i` as an attribute value, without copying it.
    pub fn scenario_value(&self, i: usize) -> opentelemetry::StringValue {
        match self.scenarios.get(i) {
            Some(s) => s.clone().into(),
            None => wasp_runner::stats::DEFAULT_SCENARIO.into(),
        }
    }
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
    /// The user's scenario (index in the plan and the stats).
    pub scenario: usize,
    pub run: Arc<RunCtx>,
    pub http: http::UserHttp,
    pub baggage: baggage::UserBaggage,
    pub telemetry: telemetry::UserTelemetry,
    pub phase: Phase,
    /// Guest time of the current export call (see [`crate::budget`]).
    pub meter: Arc<Meter>,
    /// The user has left (a shared instance's user whose handle was
    /// dropped): its imports do nothing more, its requests are refused.
    pub gone: bool,
    /// The memory account of the user's store (its own instance's, or the
    /// shared instance's), and what the host holds for this user in it:
    /// baggage bytes, and span text of the current call (its cookies take
    /// theirs through the session, see [`wasp_http::Allowance`]).
    pub ledger: Arc<Ledger>,
    held_baggage: usize,
    held_spans: usize,
}

/// The account of a user outside any store (describing a plugin, tests).
static NO_STORE: std::sync::LazyLock<Arc<Ledger>> = std::sync::LazyLock::new(|| Arc::new(Ledger::unbounded()));

impl UserCtx {
    pub fn new(id: u64, scenario: usize, run: Arc<RunCtx>) -> Self {
        UserCtx {
            id,
            scenario,
            baggage: run.baggage_seed.clone(),
            run,
            http: http::UserHttp::default(),
            telemetry: telemetry::UserTelemetry::default(),
            phase: Phase::Idle,
            meter: Arc::default(),
            gone: false,
            ledger: NO_STORE.clone(),
            held_baggage: 0,
            held_spans: 0,
        }
    }

    /// Puts the user's host state in `ledger`'s account (its store's): the
    /// run's baggage seed is held from the start.
    pub(crate) fn set_ledger(&mut self, ledger: Arc<Ledger>) {
        self.http.session().set_allowance(ledger.clone());
        self.http.set_account(ledger.clone());
        self.ledger = ledger;
        let _ = self.hold_baggage();
    }

    /// The user's baggage changed: its bytes are held against the store's
    /// memory (a trap past the cap).
    pub(crate) fn hold_baggage(&mut self) -> wasmtime::Result<()> {
        let now = self.baggage.bytes();
        if now > self.held_baggage {
            self.ledger.charge(now - self.held_baggage).map_err(wasmtime::Error::new)?;
        } else {
            self.ledger.release(self.held_baggage - now);
        }
        self.held_baggage = now;
        Ok(())
    }

    /// `bytes` of span text handed over in this call: bounded per call, and
    /// held against the store's memory until the call's spans end.
    pub(crate) fn hold_span_text(&mut self, bytes: usize) -> wasmtime::Result<()> {
        self.telemetry.charge(bytes)?;
        self.ledger.charge(bytes).map_err(wasmtime::Error::new)?;
        self.held_spans += bytes;
        Ok(())
    }

    fn let_go_of_spans(&mut self) {
        self.ledger.release(std::mem::take(&mut self.held_spans));
    }

    /// Name of the current phase, for logs: `on-start`, the task's name, `on-stop`.
    pub fn phase_name(&self) -> &str {
        match self.phase {
            Phase::Idle => "",
            Phase::Start => "on-start",
            Phase::Stop => "on-stop",
            Phase::Task(i) => self.run.task_names.get(i).map(|n| &**n).unwrap_or("?"),
        }
    }

    /// Starts an export call: its span opens (named `on_start`, the task, `on_stop`).
    pub fn begin(&mut self, phase: Phase) {
        self.phase = phase;
        self.meter.reset();
        let name: opentelemetry::StringValue = match phase {
            Phase::Start => "on_start".into(),
            Phase::Stop => "on_stop".into(),
            Phase::Task(i) => self.run.task_names.get(i).cloned().map(Into::into).unwrap_or("?".into()),
            Phase::Idle => "".into(),
        };
        self.telemetry.begin(&self.run.telemetry, name, self.id, self.run.scenario_value(self.scenario));
    }

    /// Ends an export call: responses not yet counted are counted (and their
    /// spans ended), then the call's span ends, failed if `error`.
    pub fn end(&mut self, error: Option<&str>) {
        self.http.flush(&self.run);
        self.telemetry.end(error);
        self.let_go_of_spans();
        self.phase = Phase::Idle;
    }

    /// Guest time used by the current call (see [`crate::budget`]).
    pub fn busy(&self) -> Duration {
        self.meter.used()
    }
}

/// A user dropped in the middle of a call (the run stopped, a second Ctrl-C,
/// a kill): what it measured is not lost. Answered requests are counted, the
/// one in flight is counted as interrupted, open spans end.
impl Drop for UserCtx {
    fn drop(&mut self) {
        self.leave();
        self.ledger.release(std::mem::take(&mut self.held_baggage));
    }
}

impl UserCtx {
    /// The user is gone, maybe in the middle of a call: what it measured is
    /// counted (the request in flight as interrupted), its spans end, and it
    /// does nothing more.
    pub fn leave(&mut self) {
        self.gone = true;
        if self.phase == Phase::Idle {
            return;
        }
        if let Some((method, name)) = self.http.in_flight.take() {
            self.run.stats.interrupted(self.scenario, method, &name);
        }
        self.http.flush(&self.run);
        self.telemetry.end(Some("interrupted: the run stopped"));
        self.let_go_of_spans();
        self.phase = Phase::Idle;
    }
}
