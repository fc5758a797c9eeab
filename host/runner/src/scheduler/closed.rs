//! Closed models: a pool of users, each looping over tasks with the wait in
//! between. The pool's size follows a schedule — a ramp at the spawn rate
//! (`constant-users`), the stages (`ramping-users`), or all at once (the
//! iterations executors) — or the live controls. Users live in numbered
//! slots: when the pool shrinks, the users above it finish their task, run
//! on-stop and leave. Spawning and leaving cost O(1) each: only the slots
//! that change are touched.

use super::{later, pause_for, phase_reached, wait_time, wind_down, Active, End, Ended, Phase, Run, Stop, MAX_CONSECUTIVE_FATAL};
use crate::controls::{Ramp, Target};
use crate::plan::{Curve, Executor, Scenario, Segment};
use crate::text::printable;
use crate::user::{User, UserFactory, UserSpec};
use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::{sleep_until, Instant};

/// How many users a closed scenario should have over time.
#[derive(Debug, Clone)]
enum Schedule {
    /// From `from` to `to`, one user per 1/`rate` s from `since` (the first at once).
    Steps { from: u64, to: u64, since: f64, rate: f64 },
    /// A piecewise-linear curve, rounded down (the stages).
    Curve(Curve),
    /// A shard's part of the whole run's schedule: its share of the users
    /// dealt out in turn (see [`Segment`]).
    Share { whole: Box<Schedule>, segment: Segment, salt: u64 },
}

impl Schedule {
    fn users_at(&self, t: f64) -> u64 {
        match self {
            Schedule::Steps { from, to, since, rate } => {
                // (A step is due at since + k/rate; the epsilon keeps float
                // rounding from putting it a hair later than its timer.)
                let steps = if rate.is_infinite() { u64::MAX } else { ((t - since).max(0.0) * rate + 1e-9).floor() as u64 + 1 };
                if to >= from {
                    (*to).min(from.saturating_add(steps))
                } else {
                    (*to).max(from.saturating_sub(steps))
                }
            }
            Schedule::Curve(c) => c.users_at(t),
            Schedule::Share { whole, segment, salt } => segment.share(whole.users_at(t), *salt),
        }
    }

    /// The next time the number changes, after `t`.
    fn next_change(&self, t: f64) -> Option<f64> {
        match self {
            Schedule::Steps { from, to, since, rate } => {
                let now = self.users_at(t);
                if now == *to || rate.is_infinite() {
                    return None;
                }
                let done = now.abs_diff(*from);
                Some((since + done as f64 / rate).max(t + 1e-6))
            }
            Schedule::Curve(c) => c.next_users_change(t),
            Schedule::Share { whole, .. } => {
                // The whole run's changes, skipping those that are other shards' users
                // (a share changes at least once in any N changes of one direction).
                let now = self.users_at(t);
                let mut at = t;
                for _ in 0..=2 * self.shards() {
                    at = whole.next_change(at)?;
                    if self.users_at(at) != now {
                        return Some(at);
                    }
                }
                Some(at)
            }
        }
    }

    fn shards(&self) -> u64 {
        match self {
            Schedule::Share { segment, .. } => segment.count as u64,
            _ => 1,
        }
    }

    /// Where it ends up.
    fn goal(&self, t: f64) -> u64 {
        match self {
            Schedule::Steps { to, .. } => *to,
            Schedule::Curve(c) => c.users_at(t.max(0.0) + 1e12),
            Schedule::Share { whole, segment, salt } => segment.share(whole.goal(t), *salt),
        }
    }
}

/// What limits a pool's task runs.
enum Budget {
    None,
    /// Iterations left for all users together.
    Shared(AtomicU64),
    /// Iterations for each user.
    PerUser(u64),
}

/// Why a user's life in its slot ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Exit {
    /// The pool shrank below its slot (or the scenario stopped).
    Left,
    /// Its iterations are done.
    Done,
    /// It failed too often in a row.
    Retired,
}

/// What the users of one closed scenario share.
pub(super) struct Pool<F> {
    active: Active<F>,
    tasks: Vec<(usize, u32)>,
    pick: WeightedIndex<u64>,
    wait: crate::behaviour::Wait,
    budget: Budget,
}

impl<F> Pool<F> {
    /// Takes one iteration from the budget; false when there is none left.
    fn claim(&self, done_by_me: u64) -> bool {
        match &self.budget {
            Budget::None => true,
            Budget::PerUser(n) => done_by_me < *n,
            Budget::Shared(left) => left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| l.checked_sub(1)).is_ok(),
        }
    }

    fn exhausted(&self) -> bool {
        matches!(&self.budget, Budget::Shared(left) if left.load(Ordering::Relaxed) == 0)
    }
}

pub(super) async fn run<F: UserFactory>(run: Arc<Run<F>>, index: usize, sc: Scenario, mut stop: watch::Receiver<Stop>) -> End {
    let t0 = Instant::now();
    let (mut schedule, budget) = match &sc.executor {
        Executor::ConstantUsers { users, spawn_rate } => (Schedule::Steps { from: 0, to: *users, since: 0.0, rate: *spawn_rate }, Budget::None),
        Executor::RampingUsers { start, stages } => (Schedule::Curve(Curve::user_stages(*start, stages)), Budget::None),
        Executor::SharedIterations { users, iterations } => {
            (Schedule::Steps { from: 0, to: *users, since: 0.0, rate: f64::INFINITY }, Budget::Shared(AtomicU64::new(*iterations)))
        }
        Executor::PerUserIterations { users, iterations } => {
            (Schedule::Steps { from: 0, to: *users, since: 0.0, rate: f64::INFINITY }, Budget::PerUser(*iterations))
        }
        Executor::ConstantArrivalRate { .. } | Executor::RampingArrivalRate { .. } => {
            unreachable!("open executors run in scheduler::open")
        }
    };
    if !run.segment.is_whole() {
        schedule = Schedule::Share { whole: Box::new(schedule), segment: run.segment, salt: index as u64 };
    }
    let pick = WeightedIndex::new(sc.tasks.iter().map(|t| t.1 as u64)).expect("the plan's tasks have positive weights");
    let pool = Arc::new(Pool { active: Active::new(run.clone(), index), tasks: sc.tasks.clone(), pick, wait: sc.wait, budget });
    let spawn_rate = match sc.executor {
        Executor::ConstantUsers { spawn_rate, .. } => spawn_rate,
        _ => f64::INFINITY,
    };
    let end = sc.duration.or(sc.executor.own_duration()).map(|d| later(t0, d.as_secs_f64()));
    let mut target = run.controls.target(index).unwrap_or_else(|| watch::channel(Target::Planned).1);
    let (phase_tx, phase_rx) = watch::channel(Phase::Running);
    let (allowed_tx, allowed_rx) = watch::channel(0u64);
    let mut users: JoinSet<(u64, Exit)> = JoinSet::new();
    let mut live: HashSet<u64, foldhash::fast::RandomState> = HashSet::default();
    let mut retired: HashSet<u64, foldhash::fast::RandomState> = HashSet::default();
    let mut allowed = 0u64;
    let mut ever_spawned = false;

    let ended = loop {
        let t = t0.elapsed().as_secs_f64();
        let want = schedule.users_at(t);
        if want != allowed {
            // `allowed` first: a new slot's user, started on another thread
            // at once, must not see the old value and leave (it took an id,
            // and its slot was filled again under another).
            // Users wait only for their slot to go (`allowed` below it): a
            // rise wakes nobody. (Waking every waiting user at each step of a
            // ramp cost O(users) per millisecond: most of a 100,000-user start.)
            allowed_tx.send_if_modified(|a| {
                let shrank = want < *a;
                *a = want;
                shrank
            });
            // Only the slots that change: new ones get a user, shed ones see `allowed` drop.
            for slot in allowed + 1..=want {
                if !live.contains(&slot) && !retired.contains(&slot) && !pool.exhausted() {
                    live.insert(slot);
                    ever_spawned = true;
                    let life = user_life(pool.clone(), slot, phase_rx.clone(), allowed_rx.clone(), run.paused.clone());
                    users.spawn(async move { (slot, life.await) });
                }
            }
            allowed = want;
        }
        run.controls.report(index, schedule.goal(t) as f64);
        if live.is_empty() && ever_spawned && schedule.next_change(t).is_none() {
            // Nobody left and nobody coming: the iterations are done, or every user was retired.
            break if retired.is_empty() || pool.exhausted() { Ended::Completed } else { Ended::UsersDone };
        }
        let next = schedule.next_change(t).map(|x| later(t0, x));
        tokio::select! {
            _ = sleep_until(next.unwrap_or(t0)), if next.is_some() => {}
            _ = sleep_until(end.unwrap_or(t0)), if end.is_some() => break Ended::Completed,
            _ = stop.wait_for(|s| *s != Stop::No) => break Ended::Stopped,
            r = target.changed() => {
                if r.is_err() {
                    continue;
                }
                let t = t0.elapsed().as_secs_f64();
                if let Target::Users { users: to, ramp } = *target.borrow_and_update() {
                    let rate = match ramp {
                        Ramp::Rate(r) => r,
                        Ramp::Over(d) if !d.is_zero() => (to.abs_diff(allowed).max(1)) as f64 / d.as_secs_f64(),
                        Ramp::Over(_) | Ramp::Now => f64::INFINITY,
                    };
                    let rate = if rate > 0.0 { rate } else { spawn_rate };
                    schedule = Schedule::Steps { from: allowed, to, since: t, rate };
                }
            }
            Some(done) = users.join_next(), if !users.is_empty() => {
                if let Ok((slot, exit)) = done {
                    live.remove(&slot);
                    match exit {
                        Exit::Retired => {
                            retired.insert(slot);
                        }
                        // Left while its slot is wanted again (the pool shrank and regrew): refill it.
                        Exit::Left if slot <= allowed && !pool.exhausted() => {
                            live.insert(slot);
                            let life = user_life(pool.clone(), slot, phase_rx.clone(), allowed_rx.clone(), run.paused.clone());
                            users.spawn(async move { (slot, life.await) });
                        }
                        _ => {}
                    }
                }
            }
        }
    };
    tracing::debug!(scenario = index, allowed, "stopping");
    let killed = wind_down(&mut users, &phase_tx, sc.graceful_stop, &mut stop).await;
    End { ended, killed }
}

/// Whether this slot's user should leave (the pool shrank below it).
fn evicted(allowed: &watch::Receiver<u64>, slot: u64) -> bool {
    *allowed.borrow() < slot
}

/// Waits while paused; false if the scenario stopped (or the slot went) meanwhile.
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

/// One user's life in its slot.
pub(super) async fn user_life<F: UserFactory>(
    pool: Arc<Pool<F>>,
    slot: u64,
    mut phase: watch::Receiver<Phase>,
    mut allowed: watch::Receiver<u64>,
    mut paused: watch::Receiver<bool>,
) -> Exit {
    let run = &pool.active.run;
    let stats = &run.stats;
    let s = pool.active.index;
    let id = run.new_id();
    let mut rng = run.rng(id);
    let mut fatal_in_a_row = 0u32;
    let mut done = 0u64;
    'life: loop {
        if *phase.borrow() != Phase::Running || evicted(&allowed, slot) {
            return Exit::Left;
        }
        if !unpaused(&mut paused, &mut phase, &mut allowed, slot).await {
            return Exit::Left;
        }
        let mut user = match Box::pin(run.factory.create(UserSpec { id, scenario: s })).await {
            Ok(u) => u,
            Err(msg) => {
                run.not_created(s, id, &msg);
                return Exit::Retired;
            }
        };
        pool.active.up();
        let mut need_restart = false;
        tokio::select! {
            r = Box::pin(user.on_start()) => if let Err(e) = r {
                tracing::warn!(user = id, "on-start failed: {}", printable(&e.message, 512));
                stats.user_error(s, "on-start", &e.message);
                need_restart = e.fatal;
            },
            _ = phase_reached(&mut phase, Phase::Interrupt) => {
                run.interrupted.fetch_add(1, Ordering::Relaxed);
                pool.active.down();
                return Exit::Left;
            }
        }
        let mut exit = Exit::Left;
        while !need_restart {
            if *phase.borrow() != Phase::Running || evicted(&allowed, slot) {
                break;
            }
            if user.stale() {
                if let Err(e) = Box::pin(user.on_stop()).await {
                    stats.user_error(s, "on-stop", &e.message);
                }
                drop(user);
                pool.active.down();
                continue 'life;
            }
            if !unpaused(&mut paused, &mut phase, &mut allowed, slot).await {
                break;
            }
            if !pool.claim(done) {
                exit = Exit::Done;
                break;
            }
            done += 1;
            let index = pool.tasks[pool.pick.sample(&mut rng)].0;
            let started = Instant::now();
            let result = tokio::select! {
                r = Box::pin(user.run_task(index)) => r,
                _ = phase_reached(&mut phase, Phase::Interrupt) => {
                    run.interrupted.fetch_add(1, Ordering::Relaxed);
                    stats.task_interrupted(s, index);
                    pool.active.down();
                    return Exit::Left;
                }
            };
            match result {
                Ok(()) => {
                    stats.task(s, index, None);
                    fatal_in_a_row = 0;
                }
                Err(e) => {
                    tracing::warn!(user = id, task = index, "task failed: {}", printable(&e.message, 512));
                    stats.task(s, index, Some(&e.message));
                    need_restart = e.fatal;
                }
            }
            if !need_restart {
                let wait = wait_time(pool.wait, &mut rng, started.elapsed());
                tokio::select! {
                    _ = pause_for(wait) => {}
                    _ = phase_reached(&mut phase, Phase::Stopping) => {}
                    _ = allowed.wait_for(|a| *a < slot) => {}
                }
            }
        }
        if need_restart {
            drop(user);
            pool.active.down();
            fatal_in_a_row += 1;
            if fatal_in_a_row >= MAX_CONSECUTIVE_FATAL {
                tracing::warn!(user = id, "user retired after {fatal_in_a_row} failures in a row");
                stats.user_error(s, "retired", &format!("user stopped after {MAX_CONSECUTIVE_FATAL} fatal errors in a row"));
                return Exit::Retired;
            }
            // Wait as after a task before starting afresh, so a broken user cannot spin.
            let wait = wait_time(pool.wait, &mut rng, Duration::ZERO).max(Duration::from_millis(10));
            tokio::select! {
                _ = tokio::time::sleep(wait) => continue 'life,
                _ = phase_reached(&mut phase, Phase::Stopping) => return Exit::Left,
            }
        }
        // Graceful end: on-stop. A hung on-stop is dropped after the graceful stop and ON_STOP_GRACE.
        if let Err(e) = Box::pin(user.on_stop()).await {
            stats.user_error(s, "on-stop", &e.message);
        }
        pool.active.down();
        return exit;
    }
}
