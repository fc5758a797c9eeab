//! Open models (`constant-arrival-rate`, `ramping-arrival-rate`): iterations
//! arrive by the clock — evenly spaced, or as a Poisson process — whatever
//! the system under test does. Each iteration is one task, picked by weight,
//! handed at its scheduled instant to a free user; with none free it is
//! dropped and counted (and, below `max_users`, one more user is made for the
//! next ones). Each iteration's latency is measured from its *intended*
//! start, so a stalled service shows up in full, not hidden by the
//! generator slowing down with it (coordinated omission).

use super::{later, phase_reached, wind_down, Active, End, Ended, Phase, Run, Stop, MAX_CONSECUTIVE_FATAL};
use crate::controls::{Ramp, Target};
use crate::plan::{Arrivals, Curve, Executor, Scenario};
use crate::text::printable;
use crate::user::{User, UserFactory, UserSpec};
use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use rand::rngs::SmallRng;
use rand::RngExt;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::{sleep_until, Instant};

/// One iteration for a user: the task, and when it was meant to start.
pub(super) struct Order {
    task: usize,
    intended: Instant,
}

/// The gap to the next arrival, in arrivals of the curve: 1 (even), or an
/// exponential draw (Poisson: the curve's integral is the expected count).
fn gap(arrivals: Arrivals, rng: &mut SmallRng) -> f64 {
    match arrivals {
        Arrivals::Even => 1.0,
        Arrivals::Poisson => {
            let u: f64 = rng.random_range(f64::EPSILON..1.0);
            -u.ln()
        }
    }
}

pub(super) async fn run<F: UserFactory>(run: Arc<Run<F>>, index: usize, sc: Scenario, mut stop: watch::Receiver<Stop>) -> End {
    let (mut curve, pre_allocated, max_users, arrivals) = match &sc.executor {
        Executor::ConstantArrivalRate { rate, pre_allocated, max_users, arrivals } => (Curve::constant(*rate), *pre_allocated, *max_users, *arrivals),
        Executor::RampingArrivalRate { start_rate, stages, pre_allocated, max_users, arrivals } => {
            (Curve::rate_stages(*start_rate, stages), *pre_allocated, *max_users, *arrivals)
        }
        _ => unreachable!("closed executors run in scheduler::closed"),
    };
    let max_users = max_users.max(pre_allocated).max(1);
    let shared = Arc::new(Active::new(run.clone(), index));
    let pick = WeightedIndex::new(sc.tasks.iter().map(|t| t.1 as u64)).expect("the plan's tasks have positive weights");
    let mut rng = run.rng(0x0_5CE7_A210 ^ index as u64);
    let (phase_tx, phase_rx) = watch::channel(Phase::Running);
    let (idle_tx, mut idle_rx) = mpsc::unbounded_channel::<u64>();
    let mut users: JoinSet<u64> = JoinSet::new();
    let mut orders: HashMap<u64, mpsc::Sender<Order>> = HashMap::new();
    let mut idle: Vec<u64> = Vec::new();
    let mut next_slot = 0u64;
    let mut spawn = |users: &mut JoinSet<u64>, orders: &mut HashMap<u64, mpsc::Sender<Order>>| {
        next_slot += 1;
        let (tx, rx) = mpsc::channel(1);
        orders.insert(next_slot, tx);
        users.spawn(user_life(shared.clone(), next_slot, rx, idle_tx.clone(), phase_rx.clone()));
    };
    for _ in 0..pre_allocated {
        spawn(&mut users, &mut orders);
    }
    // The clock starts once the pre-allocated users are ready (made, started),
    // as k6 initialises its pre-allocated users before the scenario.
    while (idle.len() as u64) < pre_allocated.min(orders.len() as u64) {
        tokio::select! {
            Some(slot) = idle_rx.recv() => idle.push(slot),
            Some(done) = users.join_next(), if !users.is_empty() => {
                if let Ok(slot) = done {
                    orders.remove(&slot);
                }
            }
            _ = stop.wait_for(|s| *s != Stop::No) => break,
        }
    }

    // Curve time: seconds since the start, not counting time paused.
    let mut t0 = Instant::now();
    // The scenario ends after its own duration (if any); the arrivals fall
    // within that and the run's time (an arrival due as the run ends is not
    // started, whichever timer fires first).
    let end = sc.duration.or(sc.executor.own_duration()).map(|d| later(t0, d.as_secs_f64()));
    let window_end = match (end, run.deadline) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let mut target = run.controls.target(index).unwrap_or_else(|| watch::channel(Target::Planned).1);
    let mut paused = run.paused.clone();
    let mut paused_at: Option<Instant> = None;
    // The curve time of the next arrival: the first at once (evenly spaced),
    // or after a first gap (Poisson).
    // A shard takes every N-th arrival of the whole run's schedule, from its
    // own first (see Segment); Poisson shards each run a process of 1/N the
    // rate, and independent Poisson processes add up to the whole one.
    let seg = run.segment;
    let shards = seg.count as f64;
    let first = seg.first(index as u64) as f64;
    let mut cursor = match arrivals {
        // The whole run's arrival k (from 0) is due when the curve's integral
        // reaches k — or k + 1 if the rate starts at zero.
        Arrivals::Even => {
            let k = if curve.at(0.0) > 0.0 { first } else { first + 1.0 };
            if k == 0.0 {
                Some(0.0)
            } else {
                curve.time_of(0.0, k)
            }
        }
        Arrivals::Poisson => curve.time_of(0.0, gap(arrivals, &mut rng) * shards),
    };
    let mut dropped_since_warning = 0u64;
    let mut last_warning = Instant::now();

    let ended = loop {
        run.controls.report(index, curve.at(t0.elapsed().as_secs_f64()) / shards);
        let next = cursor.filter(|_| paused_at.is_none()).map(|c| later(t0, c));
        tokio::select! {
            _ = sleep_until(next.unwrap_or(t0)), if next.is_some() => {
                // Every arrival that is due now, each at its own intended instant.
                let now = Instant::now();
                let mut dropped = 0u64;
                while let Some(c) = cursor {
                    let intended = later(t0, c);
                    if intended > now {
                        break;
                    }
                    // Arrival times are sums of float gaps: one due within a
                    // microsecond of the end is due at the end, outside the window.
                    if window_end.is_some_and(|e| intended + Duration::from_micros(1) >= e) {
                        cursor = None;
                        break;
                    }
                    while let Ok(slot) = idle_rx.try_recv() {
                        idle.push(slot);
                    }
                    let task = sc.tasks[pick.sample(&mut rng)].0;
                    let sent = loop {
                        let Some(slot) = idle.pop() else { break false };
                        if let Some(tx) = orders.get(&slot) {
                            if tx.try_send(Order { task, intended }).is_ok() {
                                break true;
                            }
                        }
                    };
                    if !sent {
                        dropped += 1;
                        if (orders.len() as u64) < max_users {
                            spawn(&mut users, &mut orders);
                        }
                    }
                    cursor = curve.time_of(c, gap(arrivals, &mut rng) * shards);
                }
                if dropped > 0 {
                    run.stats.dropped(index, dropped);
                    dropped_since_warning += dropped;
                }
                if dropped_since_warning > 0 && last_warning.elapsed() >= Duration::from_secs(1) {
                    tracing::warn!(
                        "{dropped_since_warning} iteration(s) dropped in the last {:.0} s: no free user at their time ({} users, at most {max_users}: see --max-users)",
                        last_warning.elapsed().as_secs_f64(),
                        orders.len()
                    );
                    dropped_since_warning = 0;
                    last_warning = Instant::now();
                }
            }
            Some(slot) = idle_rx.recv() => idle.push(slot),
            Some(done) = users.join_next(), if !users.is_empty() => {
                if let Ok(slot) = done {
                    orders.remove(&slot);
                    idle.retain(|s| *s != slot);
                }
                if users.is_empty() && cursor.is_none() {
                    break Ended::Completed;
                }
            }
            _ = sleep_until(end.unwrap_or(t0)), if end.is_some() => break Ended::Completed,
            _ = stop.wait_for(|s| *s != Stop::No) => break Ended::Stopped,
            r = paused.changed() => {
                if r.is_ok() {
                    let p = *paused.borrow_and_update();
                    match (p, paused_at) {
                        (true, None) => paused_at = Some(Instant::now()),
                        // The schedule resumes where it was: nothing paused is dropped.
                        (false, Some(at)) => {
                            t0 += at.elapsed();
                            paused_at = None;
                        }
                        _ => {}
                    }
                }
            }
            r = target.changed() => {
                if r.is_ok() {
                    if let Target::Rate { per_s, ramp } = *target.borrow_and_update() {
                        // The controls speak of this shard's rate; the curve is the whole run's.
                        let per_s = per_s * shards;
                        let t = t0.elapsed().as_secs_f64();
                        let from = curve.at(t);
                        let over = match ramp {
                            Ramp::Over(d) => d.as_secs_f64(),
                            Ramp::Rate(r) if r > 0.0 => (per_s - from).abs() / (r * shards),
                            _ => 0.0,
                        };
                        curve = Curve::ramp(t, from, per_s, over);
                        cursor = curve.time_of(t, gap(arrivals, &mut rng) * shards);
                    }
                }
            }
        }
    };
    // No more orders: users finish the iteration they are in, then run on-stop.
    orders.clear();
    drop(idle_tx);
    let killed = wind_down(&mut users, &phase_tx, sc.graceful_stop, &mut stop).await;
    End { ended, killed }
}

/// One user of an open scenario: made, started, then running the iterations
/// it is handed until there are no more.
pub(super) async fn user_life<F: UserFactory>(
    shared: Arc<Active<F>>,
    slot: u64,
    mut orders: mpsc::Receiver<Order>,
    idle: mpsc::UnboundedSender<u64>,
    mut phase: watch::Receiver<Phase>,
) -> u64 {
    let run = &shared.run;
    let stats = &run.stats;
    let s = shared.index;
    let id = run.new_id();
    let mut fatal_in_a_row = 0u32;
    loop {
        let mut user = match Box::pin(run.factory.create(UserSpec { id, scenario: s })).await {
            Ok(u) => u,
            Err(msg) => {
                run.not_created(s, id, &msg);
                return slot;
            }
        };
        shared.up();
        let started = tokio::select! {
            r = Box::pin(user.on_start()) => r,
            _ = phase_reached(&mut phase, Phase::Interrupt) => {
                run.interrupted.fetch_add(1, Ordering::Relaxed);
                shared.down();
                return slot;
            }
        };
        let mut fatal = false;
        if let Err(e) = started {
            tracing::warn!(user = id, "on-start failed: {}", printable(&e.message, 512));
            stats.user_error(s, "on-start", &e.message);
            fatal = e.fatal;
        }
        while !fatal {
            if user.stale() {
                break;
            }
            if idle.send(slot).is_err() {
                break;
            }
            let order = tokio::select! {
                o = orders.recv() => o,
                _ = phase_reached(&mut phase, Phase::Interrupt) => None,
            };
            let Some(order) = order else { break };
            let result = tokio::select! {
                r = Box::pin(user.run_task(order.task)) => r,
                _ = phase_reached(&mut phase, Phase::Interrupt) => {
                    run.interrupted.fetch_add(1, Ordering::Relaxed);
                    stats.task_interrupted(s, order.task);
                    shared.down();
                    return slot;
                }
            };
            let latency = order.intended.elapsed().as_micros() as u64;
            match &result {
                Ok(()) => {
                    stats.task(s, order.task, None);
                    fatal_in_a_row = 0;
                }
                Err(e) => {
                    tracing::warn!(user = id, task = order.task, "task failed: {}", printable(&e.message, 512));
                    stats.task(s, order.task, Some(&e.message));
                    fatal = e.fatal;
                }
            }
            stats.iteration(s, order.task, latency, result.is_err());
        }
        let stale = user.stale() && !fatal;
        if !fatal {
            if let Err(e) = Box::pin(user.on_stop()).await {
                stats.user_error(s, "on-stop", &e.message);
            }
        }
        drop(user);
        shared.down();
        if stale {
            continue;
        }
        if !fatal || *phase.borrow() != Phase::Running {
            return slot;
        }
        fatal_in_a_row += 1;
        if fatal_in_a_row >= MAX_CONSECUTIVE_FATAL {
            tracing::warn!(user = id, "user retired after {fatal_in_a_row} failures in a row");
            stats.user_error(s, "retired", &format!("user stopped after {MAX_CONSECUTIVE_FATAL} fatal errors in a row"));
            return slot;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
