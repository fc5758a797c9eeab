//! The scheduler: runs a plan's scenarios side by side, each by its executor
//! ([`closed`]: pools of users that loop over tasks; [`open`]: iterations that
//! arrive by the clock), until the run time, a signal, or every scenario is
//! done; then stops them as each scenario's graceful stop says. It drives the
//! [`User`] trait and knows nothing of Wasm or HTTP.

mod closed;
mod open;

use crate::behaviour::Wait;
use crate::controls::Controls;
use crate::plan::{Plan, Segment};
use crate::stats::Stats;
use crate::text::printable;
use crate::user::UserFactory;
pub use crate::user::{User, UserError, UserSpec};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::{sleep_until, Instant};

/// A user whose instance fails this many times in a row is retired.
pub const MAX_CONSECUTIVE_FATAL: u32 = 3;
/// After a scenario's graceful stop, users still in on-stop get this long before they are dropped.
const ON_STOP_GRACE: Duration = Duration::from_secs(5);

/// What the signal handler asks of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// First Ctrl-C / SIGTERM: stop gracefully.
    Stop,
    /// Second Ctrl-C: stop now.
    Kill,
    /// A threshold failed: stop gracefully.
    Abort,
    /// Someone asked for the stop through the API or the UI: stop gracefully.
    Requested,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    RunTime,
    Signal,
    /// Every scenario finished by itself: its stages, duration or iterations were done.
    Completed,
    /// Every user ended by itself (all retired).
    UsersDone,
    /// `--abort-on-threshold`.
    Aborted,
    /// Stopped through the API or the UI.
    Requested,
}

impl StopReason {
    /// As the result file says it.
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::RunTime => "run-time",
            StopReason::Signal => "signal",
            StopReason::Completed => "completed",
            StopReason::UsersDone => "users-done",
            StopReason::Aborted => "threshold",
            StopReason::Requested => "api",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub reason: StopReason,
    /// Users whose task was cut short at a graceful stop's end (no on-stop for them).
    pub interrupted: u64,
    /// A second signal (or a hung on-stop) dropped users at once.
    pub killed: bool,
}

/// Where a scenario's users are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Running,
    /// Finish the current task, then on-stop.
    Stopping,
    /// Drop tasks still running (no on-stop for those users).
    Interrupt,
}

/// What the run tells its scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    No,
    Graceful,
    Now,
}

/// How a scenario ended, and whether users had to be dropped at its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct End {
    ended: Ended,
    killed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// Its time, stages or iterations were over.
    Completed,
    /// All its users were retired.
    UsersDone,
    /// The run told it to stop.
    Stopped,
}

/// What all scenarios of a run share.
struct Run<F> {
    /// When the run time is over (`--run-time`), if it is bounded.
    deadline: Option<Instant>,
    factory: Arc<F>,
    stats: Arc<Stats>,
    controls: Controls,
    seed: Option<u64>,
    /// This process's part of the run: closed pools and arrivals are dealt out by it.
    segment: Segment,
    next_id: AtomicU64,
    active: AtomicU64,
    planned: u64,
    ramped: AtomicBool,
    interrupted: AtomicU64,
    /// Users that could not be created: the first few are logged, all counted.
    not_created: AtomicU64,
    paused: watch::Receiver<bool>,
}

/// Creation failures logged one by one; the rest are counted in the summary only
/// (a run past a process limit fails thousands of users the same way).
const LOGGED_CREATE_FAILURES: u64 = 5;

impl<F> Run<F> {
    /// A user of scenario `s` could not be created: counted, and logged unless
    /// many were already.
    fn not_created(&self, s: usize, id: u64, msg: &str) {
        let n = self.not_created.fetch_add(1, Ordering::Relaxed) + 1;
        if n <= LOGGED_CREATE_FAILURES {
            tracing::warn!(user = id, "user could not be created: {}", printable(msg, 512));
        }
        if n == LOGGED_CREATE_FAILURES {
            tracing::warn!("further users that cannot be created are counted in the summary's errors, not logged");
        }
        self.stats.user_error(s, "create", msg);
    }

    fn rng(&self, salt: u64) -> SmallRng {
        match self.seed {
            Some(seed) => SmallRng::seed_from_u64(seed ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            None => SmallRng::seed_from_u64(rand::random()),
        }
    }

    /// A new user's id, unique across the shards of a distributed run.
    fn new_id(&self) -> u64 {
        self.segment.user_id(self.next_id.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn user_up(&self) {
        let n = self.active.fetch_add(1, Ordering::Relaxed) + 1;
        if self.planned > 0 && n >= self.planned && !self.ramped.swap(true, Ordering::Relaxed) {
            let took = self.stats.start().elapsed();
            self.stats.set_ramp_up(took);
            tracing::info!("all {n} users started in {:.3}s", took.as_secs_f64());
        }
    }

    fn user_down(&self) {
        self.active.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One scenario's running users: counted into its stats and into the run's
/// total (which notes when the ramp-up is done).
struct Active<F> {
    run: Arc<Run<F>>,
    index: usize,
    users: AtomicU64,
}

impl<F> Active<F> {
    fn new(run: Arc<Run<F>>, index: usize) -> Self {
        Active { run, index, users: AtomicU64::new(0) }
    }

    fn up(&self) {
        let n = self.users.fetch_add(1, Ordering::Relaxed) + 1;
        self.run.stats.user_started(self.index);
        self.run.stats.set_users(self.index, n);
        self.run.user_up();
    }

    fn down(&self) {
        let n = self.users.fetch_sub(1, Ordering::Relaxed) - 1;
        self.run.stats.set_users(self.index, n);
        self.run.user_down();
    }
}

/// How long to wait after a task that took `took`.
pub fn wait_time(wait: Wait, rng: &mut impl rand::Rng, took: Duration) -> Duration {
    match wait {
        Wait::None => Duration::ZERO,
        Wait::Constant(d) => d,
        Wait::Between(lo, hi) => {
            let (lo, hi) = (lo.as_micros() as u64, hi.as_micros() as u64);
            Duration::from_micros(if hi > lo { rng.random_range(lo..=hi) } else { lo })
        }
        Wait::Pacing(period) => period.saturating_sub(took),
    }
}

/// Sleeps `d`; no timer at all for zero (tokio would round it up to a millisecond).
async fn pause_for(d: Duration) {
    if d.is_zero() {
        tokio::task::yield_now().await
    } else {
        tokio::time::sleep(d).await
    }
}

/// `at` plus `secs` seconds, saturating far in the future instead of overflowing.
fn later(at: Instant, secs: f64) -> Instant {
    let far = Duration::from_secs(10 * 366 * 24 * 3600);
    let d = if secs.is_finite() && secs > 0.0 { Duration::try_from_secs_f64(secs).unwrap_or(far).min(far) } else { Duration::ZERO };
    at.checked_add(d).unwrap_or(at + Duration::from_secs(366 * 24 * 3600))
}

/// Resolves when the phase reaches `at_least` (Running < Stopping < Interrupt).
async fn phase_reached(phase: &mut watch::Receiver<Phase>, at_least: Phase) {
    if phase.wait_for(|p| *p >= at_least).await.is_err() {
        std::future::pending::<()>().await
    }
}

/// Runs the plan until the run time is over, a signal comes, or every
/// scenario is done; then stops the scenarios. The signals stay the
/// caller's: it may still listen after the run.
pub async fn run<F: UserFactory>(factory: Arc<F>, plan: Plan, stats: Arc<Stats>, signals: &mut mpsc::Receiver<Signal>, controls: Controls) -> Outcome {
    let segment = plan.segment;
    let mut plan = plan;
    for (i, sc) in plan.scenarios.iter_mut().enumerate() {
        sc.executor = sc.executor.segmented(segment, i as u64);
    }
    let planned = plan.scenarios.iter().enumerate().filter(|(_, s)| s.start.is_zero()).map(|(i, s)| s.executor.planned_users_of(segment, i as u64)).sum();
    let start = Instant::now();
    let deadline = plan.run_time.map(|t| later(start, t.as_secs_f64()));
    let run = Arc::new(Run {
        deadline,
        factory,
        stats,
        paused: controls.pause_switch(),
        controls,
        seed: plan.seed.map(|s| segment.seed(s)),
        segment,
        next_id: AtomicU64::new(0),
        active: AtomicU64::new(0),
        planned,
        ramped: AtomicBool::new(false),
        interrupted: AtomicU64::new(0),
        not_created: AtomicU64::new(0),
    });
    let (stop_tx, stop_rx) = watch::channel(Stop::No);
    let mut scenarios = JoinSet::new();
    for (index, scenario) in plan.scenarios.into_iter().enumerate() {
        let (run, stop) = (run.clone(), stop_rx.clone());
        scenarios.spawn(async move {
            // A scenario with a start offset waits for it (or for the stop).
            let mut s = stop.clone();
            tokio::select! {
                _ = tokio::time::sleep(scenario.start) => {}
                _ = s.wait_for(|s| *s != Stop::No) => return End { ended: Ended::Stopped, killed: false },
            }
            if scenario.executor.is_open() {
                open::run(run, index, scenario, stop).await
            } else {
                closed::run(run, index, scenario, stop).await
            }
        });
    }
    let mut signals_open = true;
    let mut ends = vec![];
    let reason = loop {
        tokio::select! {
            _ = sleep_until(deadline.unwrap_or(start)), if deadline.is_some() => break StopReason::RunTime,
            s = signals.recv(), if signals_open => match s {
                Some(Signal::Abort) => break StopReason::Aborted,
                Some(Signal::Requested) => break StopReason::Requested,
                Some(_) => break StopReason::Signal,
                None => signals_open = false,
            },
            done = scenarios.join_next() => match done {
                Some(r) => ends.push(r.unwrap_or(End { ended: Ended::Stopped, killed: true })),
                None => break if !ends.is_empty() && ends.iter().all(|e| e.ended == Ended::UsersDone) { StopReason::UsersDone } else { StopReason::Completed },
            },
        }
    };
    let _ = stop_tx.send(Stop::Graceful);
    let mut killed = ends.iter().any(|e| e.killed);
    loop {
        tokio::select! {
            r = scenarios.join_next() => match r {
                None => break,
                Some(r) => killed |= r.map(|e| e.killed).unwrap_or(true),
            },
            s = signals.recv(), if signals_open => match s {
                Some(Signal::Abort | Signal::Requested) => {}
                Some(_) => {
                    let _ = stop_tx.send(Stop::Now);
                    killed = true;
                }
                None => signals_open = false,
            },
        }
    }
    let interrupted = run.interrupted.load(Ordering::Relaxed);
    Outcome { reason, interrupted, killed }
}

/// Stops a scenario's users: no new task; running ones get `graceful`, then
/// are interrupted; users still in on-stop after that get [`ON_STOP_GRACE`].
/// A `Stop::Now` drops them all at once. Returns true if users were dropped.
async fn wind_down<T: 'static>(users: &mut JoinSet<T>, phase: &watch::Sender<Phase>, graceful: Duration, stop: &mut watch::Receiver<Stop>) -> bool {
    let _ = phase.send(Phase::Stopping);
    let interrupt_at = later(Instant::now(), graceful.as_secs_f64());
    let mut drop_at: Option<Instant> = None;
    let mut killed = false;
    if *stop.borrow() == Stop::Now {
        let _ = phase.send(Phase::Interrupt);
        users.abort_all();
        killed = true;
    }
    loop {
        tokio::select! {
            r = users.join_next() => if r.is_none() { break },
            _ = sleep_until(interrupt_at), if drop_at.is_none() => {
                let _ = phase.send(Phase::Interrupt);
                drop_at = Some(Instant::now() + ON_STOP_GRACE);
            }
            _ = sleep_until(drop_at.unwrap_or(interrupt_at)), if drop_at.is_some() && !killed => {
                users.abort_all();
                killed = true;
            }
            r = stop.wait_for(|s| *s == Stop::Now), if !killed => {
                if r.is_ok() {
                    let _ = phase.send(Phase::Interrupt);
                    users.abort_all();
                    killed = true;
                }
            }
        }
    }
    killed
}

#[cfg(test)]
mod tests;
