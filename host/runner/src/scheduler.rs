//! The scheduler: starts users at the spawn rate, picks their tasks by weight,
//! waits between tasks, and stops them on run time or signal. It drives the
//! [`User`] trait and knows nothing of Wasm or HTTP; the Wasm user is one
//! implementation, the tests below use a native one.

use crate::behaviour::Wait;
use crate::stats::Stats;
use crate::text::printable;
use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::{sleep, sleep_until, Instant};

/// A task, on-start or on-stop that went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserError {
    pub message: String,
    /// The user cannot go on as it is (a trap, a killed task): it is replaced
    /// by a fresh one, which runs on-start again.
    pub fatal: bool,
}

/// One simulated user.
pub trait User: Send + 'static {
    fn on_start(&mut self) -> impl Future<Output = Result<(), UserError>> + Send;
    fn run_task(&mut self, index: usize) -> impl Future<Output = Result<(), UserError>> + Send;
    fn on_stop(&mut self) -> impl Future<Output = Result<(), UserError>> + Send;
    /// True when this user should be replaced by a fresh one from its factory
    /// before its next task (e.g. its plugin was reloaded). It then runs
    /// on-stop, and the new one on-start.
    fn stale(&self) -> bool {
        false
    }
}

/// Makes users; `id` counts from 1.
pub trait UserFactory: Send + Sync + 'static {
    type User: User;
    fn create(&self, id: u64) -> impl Future<Output = Result<Self::User, String>> + Send;
}

/// A user whose instance fails this many times in a row is retired.
pub const MAX_CONSECUTIVE_FATAL: u32 = 3;
/// After the stop timeout, users still in on-stop get this long before they are dropped.
const ON_STOP_GRACE: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct Plan {
    pub users: u64,
    /// Users started per second.
    pub spawn_rate: f64,
    pub run_time: Option<Duration>,
    pub stop_timeout: Duration,
    pub seed: Option<u64>,
    /// (task index, weight) of the tasks that may be picked.
    pub tasks: Vec<(usize, u32)>,
    pub wait: Wait,
}

/// What the signal handler asks of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// First Ctrl-C / SIGTERM: stop gracefully.
    Stop,
    /// Second Ctrl-C: stop now.
    Kill,
    /// A threshold failed: stop gracefully.
    Abort,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    RunTime,
    Signal,
    /// Every user ended by itself (all retired).
    UsersDone,
    /// `--abort-on-threshold`.
    Aborted,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub reason: StopReason,
    /// Users whose task was cut short at the stop timeout (no on-stop for them).
    pub interrupted: u64,
    /// A second signal (or a hung on-stop) dropped users at once.
    pub killed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Running,
    /// Finish the current task, then on-stop.
    Stopping,
    /// Drop tasks still running (no on-stop for those users).
    Interrupt,
}

struct Shared {
    plan: Plan,
    stats: Arc<Stats>,
    pick: WeightedIndex<u64>,
    active: AtomicU64,
    interrupted: AtomicU64,
    ramped: AtomicBool,
}

impl Shared {
    fn rng_for(&self, id: u64) -> SmallRng {
        match self.plan.seed {
            Some(seed) => SmallRng::seed_from_u64(seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            None => SmallRng::seed_from_u64(rand::random()),
        }
    }

    fn user_up(&self) {
        let n = self.active.fetch_add(1, Ordering::Relaxed) + 1;
        self.stats.set_users(n);
        if n == self.plan.users && !self.ramped.swap(true, Ordering::Relaxed) {
            let took = self.stats.start().elapsed();
            self.stats.set_ramp_up(took);
            tracing::info!("all {n} users started in {:.3}s", took.as_secs_f64());
        }
    }

    fn user_down(&self) {
        let n = self.active.fetch_sub(1, Ordering::Relaxed) - 1;
        self.stats.set_users(n);
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

/// Live controls of a running pool: how many users it should have and
/// whether they may run tasks. The flag poller (or any other control) holds a
/// clone; changes apply at once, users being started or stopped at the spawn rate.
#[derive(Clone)]
pub struct Controls {
    users: Arc<watch::Sender<u64>>,
    paused: Arc<watch::Sender<bool>>,
}

impl Controls {
    pub fn new(users: u64) -> Self {
        Controls { users: Arc::new(watch::channel(users).0), paused: Arc::new(watch::channel(false).0) }
    }

    /// Sets the number of users the pool should have.
    pub fn resize(&self, users: u64) {
        self.users.send_if_modified(|u| std::mem::replace(u, users) != users);
    }

    /// Paused users finish the task they are in and start no other until resumed.
    pub fn pause(&self, paused: bool) {
        self.paused.send_if_modified(|p| std::mem::replace(p, paused) != paused);
    }

    pub fn users(&self) -> u64 {
        *self.users.borrow()
    }

    pub fn paused(&self) -> bool {
        *self.paused.borrow()
    }
}

/// Runs the plan until the run time is over, a signal comes, or every user has
/// ended; then stops users as the plan says.
pub async fn run<F: UserFactory>(factory: Arc<F>, plan: Plan, stats: Arc<Stats>, signals: &mut mpsc::Receiver<Signal>) -> Outcome {
    let controls = Controls::new(plan.users);
    run_with(factory, plan, stats, signals, controls).await
}

/// As [`run`], with the pool's size and pause switch under `controls`. The
/// signals stay the caller's: it may still listen after the run.
pub async fn run_with<F: UserFactory>(
    factory: Arc<F>,
    plan: Plan,
    stats: Arc<Stats>,
    signals: &mut mpsc::Receiver<Signal>,
    controls: Controls,
) -> Outcome {
    assert!(!plan.tasks.is_empty(), "the caller checks that some task can be picked");
    // u64: weights are u32, so their sum cannot overflow.
    let pick = WeightedIndex::new(plan.tasks.iter().map(|t| t.1 as u64)).expect("weights were checked to be positive");
    let (phase_tx, phase_rx) = watch::channel(Phase::Running);
    // Users in slots above `allowed` finish their task and leave.
    let (allowed_tx, allowed_rx) = watch::channel(0u64);
    let shared = Arc::new(Shared {
        plan: plan.clone(),
        stats,
        pick,
        active: AtomicU64::new(0),
        interrupted: AtomicU64::new(0),
        ramped: AtomicBool::new(false),
    });
    let mut target_rx = controls.users.subscribe();
    let paused_rx = controls.paused.subscribe();
    let mut users: JoinSet<(u64, bool)> = JoinSet::new();
    let start = Instant::now();
    let deadline = plan.run_time.map(|t| start + t);
    let rate = if plan.spawn_rate > 0.0 { plan.spawn_rate } else { f64::INFINITY };
    // Live slots (1-based) and slots whose user was retired (never refilled).
    let mut live = std::collections::BTreeSet::new();
    let mut retired = std::collections::BTreeSet::new();
    let mut next_id: u64 = 0;
    let mut target = *target_rx.borrow_and_update();
    // The ramp: since `ramp_at`, `allowed` moves from `ramp_from` toward the
    // target by one slot per 1/rate seconds (the first step at once).
    let (mut ramp_at, mut ramp_from) = (start, 0u64);
    let mut allowed: u64;
    let mut signals_open = true;
    let mut controls_open = true;

    let reason = loop {
        let steps = if rate.is_infinite() { u64::MAX } else { (ramp_at.elapsed().as_secs_f64() * rate).floor() as u64 + 1 };
        allowed = if target >= ramp_from { target.min(ramp_from.saturating_add(steps)) } else { target.max(ramp_from.saturating_sub(steps)) };
        allowed_tx.send_if_modified(|a| std::mem::replace(a, allowed) != allowed);
        for slot in 1..=allowed {
            if !live.contains(&slot) && !retired.contains(&slot) {
                live.insert(slot);
                next_id += 1;
                let life = user_life(next_id, slot, factory.clone(), shared.clone(), phase_rx.clone(), allowed_rx.clone(), paused_rx.clone());
                users.spawn(async move { (slot, life.await) });
            }
        }
        if allowed == target && target > 0 && live.is_empty() && (1..=target).all(|s| retired.contains(&s)) {
            break StopReason::UsersDone;
        }
        let next_step = (allowed != target && rate.is_finite()).then(|| later(ramp_at, steps as f64 / rate));
        tokio::select! {
            _ = sleep_until(next_step.unwrap_or(start)), if next_step.is_some() => {}
            _ = sleep_until(deadline.unwrap_or(start)), if deadline.is_some() => break StopReason::RunTime,
            s = signals.recv(), if signals_open => match s {
                Some(Signal::Abort) => break StopReason::Aborted,
                Some(_) => break StopReason::Signal,
                None => signals_open = false,
            },
            changed = target_rx.changed(), if controls_open => match changed {
                Ok(()) => {
                    target = *target_rx.borrow_and_update();
                    (ramp_at, ramp_from) = (Instant::now(), allowed);
                    tracing::info!("users: {allowed} → {target}");
                }
                Err(_) => controls_open = false,
            },
            Some(done) = users.join_next(), if !users.is_empty() => {
                if let Ok((slot, was_retired)) = done {
                    live.remove(&slot);
                    if was_retired {
                        retired.insert(slot);
                    }
                }
            }
        }
    };
    tracing::debug!(allowed, "stopping");

    // Stop: no new tasks; running tasks get the stop timeout, then are dropped.
    let _ = phase_tx.send(Phase::Stopping);
    let interrupt_at = Instant::now() + plan.stop_timeout;
    let mut drop_at: Option<Instant> = None;
    let mut killed = false;
    loop {
        tokio::select! {
            r = users.join_next() => if r.is_none() { break },
            _ = sleep_until(interrupt_at), if drop_at.is_none() => {
                let _ = phase_tx.send(Phase::Interrupt);
                drop_at = Some(Instant::now() + ON_STOP_GRACE);
            }
            _ = sleep_until(drop_at.unwrap_or(interrupt_at)), if drop_at.is_some() && !killed => {
                users.abort_all();
                killed = true;
            }
            s = signals.recv(), if signals_open => match s {
                Some(Signal::Abort) => {}
                Some(_) => {
                    let _ = phase_tx.send(Phase::Interrupt);
                    users.abort_all();
                    killed = true;
                }
                None => signals_open = false,
            },
        }
    }
    Outcome { reason, interrupted: shared.interrupted.load(Ordering::Relaxed), killed }
}

/// `at` plus `secs` seconds, saturating far in the future instead of overflowing.
fn later(at: Instant, secs: f64) -> Instant {
    let far = Duration::from_secs(10 * 366 * 24 * 3600);
    let d = Duration::try_from_secs_f64(secs).unwrap_or(far).min(far);
    at.checked_add(d).unwrap_or(at + Duration::from_secs(366 * 24 * 3600))
}

/// Resolves when the phase reaches `at_least` (Running < Stopping < Interrupt).
async fn phase_reached(phase: &mut watch::Receiver<Phase>, at_least: Phase) {
    let rank = |p: &Phase| match p {
        Phase::Running => 0,
        Phase::Stopping => 1,
        Phase::Interrupt => 2,
    };
    let want = rank(&at_least);
    if phase.wait_for(|p| rank(p) >= want).await.is_err() {
        std::future::pending::<()>().await
    }
}

/// Whether this slot's user should leave (the pool shrank below it).
fn evicted(allowed: &watch::Receiver<u64>, slot: u64) -> bool {
    *allowed.borrow() < slot
}

/// Waits while paused; false if the run stopped (or the slot went) meanwhile.
async fn unpaused(paused: &mut watch::Receiver<bool>, phase: &mut watch::Receiver<Phase>, allowed: &mut watch::Receiver<u64>, slot: u64) -> bool {
    loop {
        if !*paused.borrow_and_update() {
            return true;
        }
        tokio::select! {
            r = paused.changed() => if r.is_err() { return true },
            _ = phase_reached(phase, Phase::Stopping) => return false,
            _ = allowed.wait_for(|a| *a < slot) => return false,
        }
    }
}

/// One user's life in its slot: returns true if it was retired (failed too often).
async fn user_life<F: UserFactory>(
    id: u64,
    slot: u64,
    factory: Arc<F>,
    shared: Arc<Shared>,
    mut phase: watch::Receiver<Phase>,
    mut allowed: watch::Receiver<u64>,
    mut paused: watch::Receiver<bool>,
) -> bool {
    let mut rng = shared.rng_for(id);
    let mut fatal_in_a_row = 0u32;
    let stats = &shared.stats;
    'life: loop {
        if *phase.borrow() != Phase::Running || evicted(&allowed, slot) {
            return false;
        }
        if !unpaused(&mut paused, &mut phase, &mut allowed, slot).await {
            return false;
        }
        let mut user = match factory.create(id).await {
            Ok(u) => u,
            Err(msg) => {
                tracing::warn!(user = id, "user could not be created: {}", printable(&msg, 512));
                stats.user_error("create", &msg);
                return true;
            }
        };
        shared.user_up();
        let mut need_restart = false;
        tokio::select! {
            r = user.on_start() => if let Err(e) = r {
                tracing::warn!(user = id, "on-start failed: {}", printable(&e.message, 512));
                stats.user_error("on-start", &e.message);
                need_restart = e.fatal;
            },
            _ = phase_reached(&mut phase, Phase::Interrupt) => {
                shared.interrupted.fetch_add(1, Ordering::Relaxed);
                shared.user_down();
                return false;
            }
        }
        while !need_restart {
            if *phase.borrow() != Phase::Running || evicted(&allowed, slot) {
                break;
            }
            if user.stale() {
                if let Err(e) = user.on_stop().await {
                    stats.user_error("on-stop", &e.message);
                }
                drop(user);
                shared.user_down();
                continue 'life;
            }
            if !unpaused(&mut paused, &mut phase, &mut allowed, slot).await {
                break;
            }
            let index = shared.plan.tasks[shared.pick.sample(&mut rng)].0;
            let started = Instant::now();
            let result = tokio::select! {
                r = user.run_task(index) => r,
                _ = phase_reached(&mut phase, Phase::Interrupt) => {
                    shared.interrupted.fetch_add(1, Ordering::Relaxed);
                    stats.task_interrupted(index);
                    shared.user_down();
                    return false;
                }
            };
            match result {
                Ok(()) => {
                    stats.task(index, None);
                    fatal_in_a_row = 0;
                }
                Err(e) => {
                    tracing::warn!(user = id, task = index, "task failed: {}", printable(&e.message, 512));
                    stats.task(index, Some(&e.message));
                    need_restart = e.fatal;
                }
            }
            if !need_restart {
                let wait = wait_time(shared.plan.wait, &mut rng, started.elapsed());
                tokio::select! {
                    _ = sleep(wait) => {}
                    _ = phase_reached(&mut phase, Phase::Stopping) => {}
                    _ = allowed.wait_for(|a| *a < slot) => {}
                }
            }
        }
        if need_restart {
            drop(user);
            shared.user_down();
            fatal_in_a_row += 1;
            if fatal_in_a_row >= MAX_CONSECUTIVE_FATAL {
                tracing::warn!(user = id, "user retired after {fatal_in_a_row} failures in a row");
                stats.user_error("retired", &format!("user stopped after {MAX_CONSECUTIVE_FATAL} fatal errors in a row"));
                return true;
            }
            // Wait as after a task before starting afresh, so a broken user cannot spin.
            let wait = wait_time(shared.plan.wait, &mut rng, Duration::ZERO).max(Duration::from_millis(10));
            tokio::select! {
                _ = sleep(wait) => continue 'life,
                _ = phase_reached(&mut phase, Phase::Stopping) => return false,
            }
        }
        // Graceful end: on-stop. A hung on-stop is dropped by the runner after ON_STOP_GRACE.
        if let Err(e) = user.on_stop().await {
            stats.user_error("on-stop", &e.message);
        }
        shared.user_down();
        return false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Ev {
        Start(u64),
        Task(u64, usize),
        Stop(u64),
    }

    /// A native user: records what the runner makes it do.
    struct TestUser {
        id: u64,
        log: Arc<Mutex<Vec<(Instant, Ev)>>>,
        task_time: Duration,
        /// Task index that fails; with `fatal`, as a trap would.
        failing: Option<(usize, bool)>,
    }

    impl User for TestUser {
        async fn on_start(&mut self) -> Result<(), UserError> {
            self.log.lock().unwrap().push((Instant::now(), Ev::Start(self.id)));
            Ok(())
        }
        async fn run_task(&mut self, index: usize) -> Result<(), UserError> {
            sleep(self.task_time).await;
            self.log.lock().unwrap().push((Instant::now(), Ev::Task(self.id, index)));
            match self.failing {
                Some((i, fatal)) if i == index => Err(UserError { message: "boom".into(), fatal }),
                _ => Ok(()),
            }
        }
        async fn on_stop(&mut self) -> Result<(), UserError> {
            self.log.lock().unwrap().push((Instant::now(), Ev::Stop(self.id)));
            Ok(())
        }
    }

    struct Factory {
        log: Arc<Mutex<Vec<(Instant, Ev)>>>,
        task_time: Duration,
        failing: Option<(usize, bool)>,
        created: AtomicU64,
    }

    impl UserFactory for Factory {
        type User = TestUser;
        async fn create(&self, id: u64) -> Result<TestUser, String> {
            self.created.fetch_add(1, Ordering::Relaxed);
            Ok(TestUser { id, log: self.log.clone(), task_time: self.task_time, failing: self.failing })
        }
    }

    fn factory(task_time: Duration, failing: Option<(usize, bool)>) -> Arc<Factory> {
        Arc::new(Factory { log: Default::default(), task_time, failing, created: AtomicU64::new(0) })
    }

    fn plan(users: u64, rate: f64, run_time: u64, wait: Wait) -> Plan {
        Plan {
            users,
            spawn_rate: rate,
            run_time: Some(Duration::from_secs(run_time)),
            stop_timeout: Duration::ZERO,
            seed: Some(7),
            tasks: vec![(0, 1), (1, 3)],
            wait,
        }
    }

    async fn go(f: &Arc<Factory>, p: Plan) -> (Outcome, Arc<Stats>) {
        let stats = Arc::new(Stats::new(&["a".into(), "b".into()]));
        let (_tx, mut rx) = mpsc::channel(1);
        let out = run(f.clone(), p, stats.clone(), &mut rx).await;
        (out, stats)
    }

    #[tokio::test(start_paused = true)]
    async fn users_start_at_the_spawn_rate_and_start_before_tasks() {
        let f = factory(Duration::from_millis(10), None);
        let t0 = Instant::now();
        let (out, _) = go(&f, plan(10, 2.0, 10, Wait::Constant(Duration::from_millis(500)))).await;
        assert_eq!(out.reason, StopReason::RunTime);
        let log = f.log.lock().unwrap().clone();
        for id in 1..=10u64 {
            let start = log.iter().find(|(_, e)| *e == Ev::Start(id)).expect("every user started").0;
            // user k starts at (k-1)/rate seconds
            let expect = Duration::from_millis((id - 1) * 500);
            assert_eq!(start - t0, expect, "user {id}");
            let first_task = log.iter().position(|(_, e)| matches!(e, Ev::Task(u, _) if *u == id)).unwrap();
            let start_pos = log.iter().position(|(_, e)| *e == Ev::Start(id)).unwrap();
            assert!(start_pos < first_task);
            // on-stop is the user's last event
            let last = log.iter().rev().find(|(_, e)| matches!(e, Ev::Start(u) | Ev::Task(u, _) | Ev::Stop(u) if *u == id)).unwrap();
            assert_eq!(last.1, Ev::Stop(id));
        }
        // the run ends at its run time (no task is longer than 10 ms)
        let end = log.iter().map(|(t, _)| *t).max().unwrap();
        assert!(end - t0 <= Duration::from_secs(10) + Duration::from_millis(20), "{:?}", end - t0);
    }

    #[tokio::test(start_paused = true)]
    async fn tasks_follow_weights_and_seed_is_reproducible() {
        let mut runs = vec![];
        for _ in 0..2 {
            let f = factory(Duration::from_millis(1), None);
            let (_, stats) = go(&f, plan(4, 0.0, 100, Wait::Constant(Duration::from_millis(99)))).await;
            let snap = stats.snapshot();
            runs.push((snap.tasks[0].runs, snap.tasks[1].runs));
        }
        assert_eq!(runs[0], runs[1], "same seed, same choices");
        let (a, b) = runs[0];
        let n = (a + b) as f64;
        assert!(n > 3000.0, "{n}");
        // weight 1:3 → expect 25 % for a; chi-square with 1 dof < 10.83 (p = 0.001)
        let (ea, eb) = (n * 0.25, n * 0.75);
        let chi = (a as f64 - ea).powi(2) / ea + (b as f64 - eb).powi(2) / eb;
        assert!(chi < 10.83, "a={a} b={b} chi={chi}");
    }

    #[tokio::test(start_paused = true)]
    async fn waits_are_applied_between_tasks() {
        let f = factory(Duration::from_millis(100), None);
        go(&f, plan(1, 0.0, 10, Wait::Pacing(Duration::from_secs(1)))).await;
        let tasks: Vec<Instant> = f.log.lock().unwrap().iter().filter(|(_, e)| matches!(e, Ev::Task(..))).map(|(t, _)| *t).collect();
        // pacing 1 s: a task ends every second
        assert_eq!(tasks.len(), 10);
        for w in tasks.windows(2) {
            assert_eq!(w[1] - w[0], Duration::from_secs(1));
        }

        let f = factory(Duration::from_millis(100), None);
        go(&f, plan(1, 0.0, 10, Wait::Between(Duration::from_millis(200), Duration::from_millis(400)))).await;
        let tasks: Vec<Instant> = f.log.lock().unwrap().iter().filter(|(_, e)| matches!(e, Ev::Task(..))).map(|(t, _)| *t).collect();
        for w in tasks.windows(2) {
            let gap = w[1] - w[0];
            assert!(gap >= Duration::from_millis(300) && gap <= Duration::from_millis(500), "{gap:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn stop_timeout_lets_running_tasks_finish_then_on_stop() {
        let f = factory(Duration::from_secs(3), None);
        let mut p = plan(1, 0.0, 2, Wait::None);
        p.stop_timeout = Duration::from_secs(5);
        let (out, stats) = go(&f, p).await;
        assert_eq!(out.interrupted, 0);
        let log = f.log.lock().unwrap().clone();
        assert!(matches!(log[1].1, Ev::Task(1, _)), "the task running at the stop finished");
        assert_eq!(log.last().unwrap().1, Ev::Stop(1));
        assert_eq!(stats.snapshot().tasks.iter().map(|t| t.runs).sum::<u64>(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn zero_stop_timeout_interrupts_running_tasks() {
        let f = factory(Duration::from_secs(3), None);
        let (out, stats) = go(&f, plan(2, 0.0, 2, Wait::None)).await;
        assert_eq!(out.interrupted, 2);
        assert_eq!(stats.snapshot().tasks.iter().map(|t| t.runs).sum::<u64>(), 0);
        assert_eq!(stats.snapshot().tasks.iter().map(|t| t.interrupted).sum::<u64>(), 2, "the cut tasks are counted as interrupted");
        assert!(!f.log.lock().unwrap().iter().any(|(_, e)| matches!(e, Ev::Stop(_))));
        assert_eq!(stats.snapshot().users, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn signals_stop_and_a_second_kills() {
        let f = factory(Duration::from_secs(60), None);
        let stats = Arc::new(Stats::new(&["a".into(), "b".into()]));
        let (tx, mut rx) = mpsc::channel(2);
        let mut p = plan(3, 0.0, 1000, Wait::None);
        p.stop_timeout = Duration::from_secs(1000);
        let h = tokio::spawn(async move { run(f.clone(), p, stats, &mut rx).await });
        sleep(Duration::from_secs(5)).await;
        tx.send(Signal::Stop).await.unwrap();
        sleep(Duration::from_secs(5)).await;
        assert!(!h.is_finished(), "first signal waits for running tasks");
        tx.send(Signal::Kill).await.unwrap();
        let out = h.await.unwrap();
        assert_eq!(out.reason, StopReason::Signal);
        assert!(out.killed);
    }

    #[tokio::test(start_paused = true)]
    async fn errors_are_counted_and_fatal_ones_restart_then_retire_the_user() {
        // Non-fatal: the user goes on.
        let f = factory(Duration::from_millis(1), Some((0, false)));
        let (_, stats) = go(&f, plan(1, 0.0, 10, Wait::Constant(Duration::from_millis(100)))).await;
        let snap = stats.snapshot();
        assert!(snap.tasks[0].errors > 0 && snap.tasks[0].errors == snap.tasks[0].runs);
        assert_eq!(snap.tasks[1].errors, 0);
        assert_eq!(f.created.load(Ordering::Relaxed), 1);

        // Fatal on every task: restarted, then retired after MAX_CONSECUTIVE_FATAL.
        let mut p = plan(1, 0.0, 100, Wait::Constant(Duration::from_millis(100)));
        p.tasks = vec![(0, 1)];
        let f = factory(Duration::from_millis(1), Some((0, true)));
        let (out, stats) = go(&f, p).await;
        assert_eq!(out.reason, StopReason::UsersDone);
        assert_eq!(f.created.load(Ordering::Relaxed), MAX_CONSECUTIVE_FATAL as u64);
        let snap = stats.snapshot();
        assert_eq!(snap.tasks[0].errors, MAX_CONSECUTIVE_FATAL as u64);
        assert!(snap.errors.iter().any(|e| e.0 == "retired"));
    }

    #[tokio::test(start_paused = true)]
    async fn the_pool_resizes_and_pauses_while_running() {
        let f = factory(Duration::from_millis(10), None);
        let stats = Arc::new(Stats::new(&["a".into(), "b".into()]));
        let (_tx, mut rx) = mpsc::channel(1);
        let controls = Controls::new(2);
        let p = plan(2, 10.0, 30, Wait::Constant(Duration::from_millis(100)));
        let (f2, s2, c2) = (f.clone(), stats.clone(), controls.clone());
        let h = tokio::spawn(async move { run_with(f2, p, s2, &mut rx, c2).await });
        let starts = |f: &Arc<Factory>| f.log.lock().unwrap().iter().filter(|(_, e)| matches!(e, Ev::Start(_))).count();
        let stops = |f: &Arc<Factory>| f.log.lock().unwrap().iter().filter(|(_, e)| matches!(e, Ev::Stop(_))).count();
        let tasks = |s: &Stats| s.tasks().iter().map(|t| t.runs).sum::<u64>();
        sleep(Duration::from_secs(2)).await;
        assert_eq!((stats.users(), starts(&f)), (2, 2));

        // Grow: four more users at 10/s, the first two untouched.
        controls.resize(6);
        sleep(Duration::from_millis(150)).await;
        assert!(stats.users() < 6, "not all at once: {}", stats.users());
        sleep(Duration::from_secs(1)).await;
        assert_eq!((stats.users(), starts(&f), stops(&f)), (6, 6, 0));

        // Shrink: three leave after their task, with on-stop.
        controls.resize(3);
        sleep(Duration::from_secs(1)).await;
        assert_eq!((stats.users(), stops(&f)), (3, 3));

        // Pause: no task starts; resume: they do again, no user restarted.
        controls.pause(true);
        sleep(Duration::from_millis(200)).await;
        let before = tasks(&stats);
        sleep(Duration::from_secs(5)).await;
        assert_eq!(tasks(&stats), before, "paused");
        assert_eq!(stats.users(), 3, "paused users stay");
        controls.pause(false);
        sleep(Duration::from_secs(1)).await;
        assert!(tasks(&stats) >= before + 3 * 5, "resumed: {} after {before}", tasks(&stats));
        assert_eq!(f.created.load(Ordering::Relaxed), 6, "nothing restarted");
        assert_eq!(h.await.unwrap().reason, StopReason::RunTime);
    }

    #[tokio::test(start_paused = true)]
    async fn huge_weights_and_a_tiny_spawn_rate_neither_overflow_nor_panic() {
        let f = factory(Duration::from_millis(1), None);
        let mut p = plan(3, 0.001, 10, Wait::Constant(Duration::from_millis(9)));
        p.tasks = vec![(0, u32::MAX), (1, u32::MAX)];
        let (out, stats) = go(&f, p).await;
        assert_eq!(out.reason, StopReason::RunTime);
        let snap = stats.snapshot();
        assert_eq!(snap.users, 0);
        assert_eq!(f.created.load(Ordering::Relaxed), 1, "at 0.001 users/s the second user is 1000 s away");
        let (a, b) = (snap.tasks[0].runs as f64, snap.tasks[1].runs as f64);
        assert!(a + b > 900.0 && (a - b).abs() / (a + b) < 0.1, "equal weights, equal shares: {a} {b}");
    }
}
