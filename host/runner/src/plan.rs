//! What a run is to do: scenarios, each with an executor (k6's vocabulary)
//! that says how its users or iterations come and go, and the curves the
//! scheduler follows — users over time (closed models) and arrivals over
//! time (open models).

use crate::behaviour::Wait;
pub use crate::segment::Segment;
use crate::units::{parse_duration, parse_rate, MAX_DURATION};
use std::time::Duration;

/// One step of a ramp: over `duration`, go linearly to `target`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage<T> {
    pub duration: Duration,
    pub target: T,
}

/// How arrival-rate iterations are spaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Arrivals {
    /// Evenly: one every 1/rate.
    #[default]
    Even,
    /// A Poisson process of that rate: exponential gaps.
    Poisson,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Executor {
    /// A closed pool of `users`, started at `spawn_rate` per second, each
    /// running tasks one after another with the wait between them.
    ConstantUsers { users: u64, spawn_rate: f64 },
    /// A closed pool whose size follows the stages, from `start` users.
    RampingUsers { start: u64, stages: Vec<Stage<u64>> },
    /// An open model: `rate` iterations per second, each one task on a free
    /// user; `pre_allocated` users at the start, up to `max_users`.
    ConstantArrivalRate { rate: f64, pre_allocated: u64, max_users: u64, arrivals: Arrivals },
    /// An open model whose rate follows the stages, from `start_rate`.
    RampingArrivalRate { start_rate: f64, stages: Vec<Stage<f64>>, pre_allocated: u64, max_users: u64, arrivals: Arrivals },
    /// `iterations` task runs shared by `users` users; done when all ran.
    SharedIterations { users: u64, iterations: u64 },
    /// `iterations` task runs by each of `users` users.
    PerUserIterations { users: u64, iterations: u64 },
}

impl Executor {
    /// k6's name for it.
    pub fn name(&self) -> &'static str {
        match self {
            Executor::ConstantUsers { .. } => "constant-users",
            Executor::RampingUsers { .. } => "ramping-users",
            Executor::ConstantArrivalRate { .. } => "constant-arrival-rate",
            Executor::RampingArrivalRate { .. } => "ramping-arrival-rate",
            Executor::SharedIterations { .. } => "shared-iterations",
            Executor::PerUserIterations { .. } => "per-user-iterations",
        }
    }

    /// Arrival-rate executors: iterations come by the clock, not by the users.
    pub fn is_open(&self) -> bool {
        matches!(self, Executor::ConstantArrivalRate { .. } | Executor::RampingArrivalRate { .. })
    }

    /// How long its schedule lasts by itself (the stages), if it has one.
    pub fn own_duration(&self) -> Option<Duration> {
        match self {
            Executor::RampingUsers { stages, .. } => Some(stages.iter().map(|s| s.duration).sum()),
            Executor::RampingArrivalRate { stages, .. } => Some(stages.iter().map(|s| s.duration).sum()),
            _ => None,
        }
    }

    /// The most users it may have at once.
    pub fn max_users(&self) -> u64 {
        match self {
            Executor::ConstantUsers { users, .. } => *users,
            Executor::RampingUsers { start, stages } => stages.iter().map(|s| s.target).chain([*start]).max().unwrap_or(0),
            Executor::ConstantArrivalRate { max_users, .. } | Executor::RampingArrivalRate { max_users, .. } => *max_users,
            Executor::SharedIterations { users, .. } | Executor::PerUserIterations { users, .. } => *users,
        }
    }

    /// The users it plans to reach (for "all users started after …").
    pub fn planned_users(&self) -> u64 {
        match self {
            Executor::ConstantArrivalRate { pre_allocated, .. } | Executor::RampingArrivalRate { pre_allocated, .. } => *pre_allocated,
            e => e.max_users(),
        }
    }
}

/// One workload of a run.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub executor: Executor,
    /// When it starts, from the start of the run.
    pub start: Duration,
    /// How long it lasts (arrival-rate and constant executors; for iterations
    /// executors, the most they may take). None: its stages, else until the run ends.
    pub duration: Option<Duration>,
    /// At its end, how long running tasks may take to finish before they are
    /// cut short (their users then skip on-stop).
    pub graceful_stop: Duration,
    /// (task index, weight) of the plugin's tasks it may pick.
    pub tasks: Vec<(usize, u32)>,
    /// The wait between tasks (closed executors; the schedule replaces it in open ones).
    pub wait: Wait,
}

impl Scenario {
    /// When it ends by itself, from the start of the run, if it does.
    pub fn end(&self) -> Option<Duration> {
        self.duration.or(self.executor.own_duration()).map(|d| self.start + d)
    }
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub scenarios: Vec<Scenario>,
    /// The whole run's limit (`--run-time`).
    pub run_time: Option<Duration>,
    pub seed: Option<u64>,
    /// This process's part of a distributed run ([`Segment::WHOLE`] alone).
    pub segment: Segment,
}

impl Executor {
    /// What a shard runs of it, as far as counts split up front: a shared
    /// budget of iterations, and an open model's pre-allocated and most users.
    /// The users of closed pools and the arrivals of open models are dealt
    /// out by the scheduler as they come, from the whole run's schedule.
    pub fn segmented(&self, seg: Segment, salt: u64) -> Executor {
        match self.clone() {
            Executor::SharedIterations { users, iterations } => {
                Executor::SharedIterations { users, iterations: seg.shared_iterations(users, iterations, salt) }
            }
            Executor::ConstantArrivalRate { rate, pre_allocated, max_users, arrivals } => {
                Executor::ConstantArrivalRate { rate, pre_allocated: seg.share(pre_allocated, salt), max_users: seg.share(max_users, salt).max(1), arrivals }
            }
            Executor::RampingArrivalRate { start_rate, stages, pre_allocated, max_users, arrivals } => Executor::RampingArrivalRate {
                start_rate,
                stages,
                pre_allocated: seg.share(pre_allocated, salt),
                max_users: seg.share(max_users, salt).max(1),
                arrivals,
            },
            e => e,
        }
    }

    /// The users this shard plans to reach (closed pools are dealt out; open
    /// models' pre-allocated users are already this shard's after [`Executor::segmented`]).
    pub fn planned_users_of(&self, seg: Segment, salt: u64) -> u64 {
        if self.is_open() {
            self.planned_users()
        } else {
            seg.share(self.planned_users(), salt)
        }
    }
}

/// `30s:100,2m:100,30s:0`: duration:target users.
pub fn parse_user_stages(s: &str) -> Result<Vec<Stage<u64>>, String> {
    parse_stages(s, |t| {
        t.trim().parse::<u64>().map_err(|_| format!("'{t}' is not a number of users")).and_then(|u| {
            if u > 10_000_000 {
                Err(format!("{u} users is more than 10,000,000"))
            } else {
                Ok(u)
            }
        })
    })
}

/// `30s:10/s,1m:200/s,30s:0/s`: duration:target rate.
pub fn parse_rate_stages(s: &str) -> Result<Vec<Stage<f64>>, String> {
    parse_stages(s, parse_rate)
}

fn parse_stages<T>(s: &str, target: impl Fn(&str) -> Result<T, String>) -> Result<Vec<Stage<T>>, String> {
    let mut out = vec![];
    let mut total = Duration::ZERO;
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (d, t) = part.split_once(':').ok_or_else(|| format!("stage '{part}' is not DURATION:TARGET, e.g. 30s:100"))?;
        let duration = parse_duration(d).map_err(|e| format!("stage '{part}': {e}"))?;
        total += duration;
        if total > MAX_DURATION {
            return Err("the stages last more than a year".into());
        }
        out.push(Stage { duration, target: target(t).map_err(|e| format!("stage '{part}': {e}"))? });
    }
    if out.is_empty() {
        return Err(format!("'{s}' has no stage; write DURATION:TARGET,…, e.g. 30s:100,1m:100,30s:0"));
    }
    Ok(out)
}

/// A piecewise-linear curve over time: `(t, value)` points, constant before
/// the first and after the last.
#[derive(Debug, Clone)]
pub struct Curve {
    points: Vec<(f64, f64)>,
}

impl Curve {
    pub fn constant(v: f64) -> Curve {
        Curve { points: vec![(0.0, v)] }
    }

    /// From `start` users at time 0 through the stages.
    pub fn user_stages(start: u64, stages: &[Stage<u64>]) -> Curve {
        Self::stages(start as f64, stages.iter().map(|s| (s.duration, s.target as f64)))
    }

    /// From `start` per second at time 0 through the stages.
    pub fn rate_stages(start: f64, stages: &[Stage<f64>]) -> Curve {
        Self::stages(start, stages.iter().map(|s| (s.duration, s.target)))
    }

    fn stages(start: f64, stages: impl Iterator<Item = (Duration, f64)>) -> Curve {
        let mut points = vec![(0.0, start)];
        let mut t = 0.0;
        for (d, v) in stages {
            t += d.as_secs_f64();
            points.push((t, v));
        }
        Curve { points }
    }

    /// From `from` at `t0` to `to` over `over` seconds, then constant.
    pub fn ramp(t0: f64, from: f64, to: f64, over: f64) -> Curve {
        Curve { points: vec![(t0, from), (t0 + over.max(0.0), to)] }
    }

    pub fn at(&self, t: f64) -> f64 {
        let p = &self.points;
        if t <= p[0].0 {
            return p[0].1;
        }
        for w in p.windows(2) {
            let ((t0, v0), (t1, v1)) = (w[0], w[1]);
            if t <= t1 {
                return if t1 > t0 { v0 + (v1 - v0) * (t - t0) / (t1 - t0) } else { v1 };
            }
        }
        p[p.len() - 1].1
    }

    /// The whole number of users at `t` (closed models): the curve rounded down.
    pub fn users_at(&self, t: f64) -> u64 {
        (self.at(t) + 1e-9).floor().max(0.0) as u64
    }

    /// The first time after `t` when [`Curve::users_at`] changes, if it does.
    pub fn next_users_change(&self, t: f64) -> Option<f64> {
        const EPS: f64 = 1e-9;
        let now = self.users_at(t);
        for w in self.points.windows(2) {
            let ((t0, v0), (t1, v1)) = (w[0], w[1]);
            if t1 <= t || v0 == v1 {
                continue;
            }
            // users_at is floor(v + EPS): it rises to now+1 once v reaches
            // now+1−EPS, and falls below now once v drops under now−EPS.
            let goal = if v1 > v0 {
                let goal = now as f64 + 1.0 - EPS;
                if v1 < goal {
                    continue;
                }
                goal
            } else {
                let goal = now as f64 - EPS;
                if now == 0 || v1 >= goal {
                    continue;
                }
                goal - EPS
            };
            let at = t0 + (goal - v0) / (v1 - v0) * (t1 - t0);
            return Some(at.max(t) + 1e-7);
        }
        None
    }

    /// The curve as linear pieces (start, value, end, value), the constant
    /// ones before the first point and after the last included.
    fn pieces(&self) -> impl Iterator<Item = (f64, f64, f64, f64)> + '_ {
        let p = &self.points;
        let (first, last) = (p[0], p[p.len() - 1]);
        std::iter::once((f64::NEG_INFINITY, first.1, first.0, first.1)).chain(p.windows(2).map(|w| (w[0].0, w[0].1, w[1].0, w[1].1))).chain(std::iter::once((
            last.0,
            last.1,
            f64::INFINITY,
            last.1,
        )))
    }

    /// Arrivals from 0 to `t` (the integral of a rate curve).
    pub fn integral(&self, t: f64) -> f64 {
        let mut sum = 0.0;
        for (a, va, b, vb) in self.pieces() {
            let (lo, hi) = (a.max(0.0), b.min(t));
            if hi > lo {
                let at = |x: f64| {
                    if b.is_finite() && a.is_finite() && b > a {
                        va + (vb - va) * (x - a) / (b - a)
                    } else {
                        vb
                    }
                };
                sum += (at(lo) + at(hi)) / 2.0 * (hi - lo);
            }
        }
        sum
    }

    /// The time at which the integral from `from` reaches `integral(from) + amount`,
    /// if it ever does (a rate of zero from then on never does).
    pub fn time_of(&self, from: f64, amount: f64) -> Option<f64> {
        let mut left = amount;
        for (a, va, b, vb) in self.pieces() {
            if b <= from {
                continue;
            }
            let linear = a.is_finite() && b.is_finite() && b > a;
            let at = |x: f64| {
                if linear {
                    va + (vb - va) * (x - a) / (b - a)
                } else {
                    vb
                }
            };
            let start = from.max(a);
            let v0 = at(start);
            if !b.is_finite() {
                return (v0 > 0.0).then(|| start + left / v0);
            }
            let v1 = at(b);
            let area = (v0 + v1) / 2.0 * (b - start);
            if area >= left && area > 0.0 {
                // Solve v0·τ + k·τ²/2 = left for τ in [0, b − start], k the slope.
                let k = (v1 - v0) / (b - start);
                let disc = (v0 * v0 + 2.0 * k * left).max(0.0);
                let tau = if k.abs() < 1e-12 { left / v0 } else { 2.0 * left / (v0 + disc.sqrt()) };
                return Some(start + tau);
            }
            left -= area;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_parse_and_refuse_with_reasons() {
        let s = parse_user_stages("30s:100, 2m:100,30s:0").unwrap();
        assert_eq!(
            s,
            vec![
                Stage { duration: Duration::from_secs(30), target: 100 },
                Stage { duration: Duration::from_secs(120), target: 100 },
                Stage { duration: Duration::from_secs(30), target: 0 },
            ]
        );
        let r = parse_rate_stages("30s:10/s,1m:120/m").unwrap();
        assert_eq!(r[1].target, 2.0);
        for bad in ["", "30s", "30s:lots", "soon:10", "400days:1", "1s:20000000"] {
            assert!(parse_user_stages(bad).is_err(), "{bad}");
        }
        assert!(parse_rate_stages("1s:5/d").unwrap_err().contains("/s, /m or /h"));
    }

    #[test]
    fn users_follow_the_stages_with_exact_change_times() {
        let c = Curve::user_stages(0, &parse_user_stages("10s:100,10s:100,10s:0").unwrap());
        assert_eq!(c.users_at(0.0), 0);
        assert_eq!(c.users_at(5.0), 50);
        assert_eq!(c.users_at(10.0), 100);
        assert_eq!(c.users_at(15.0), 100);
        assert_eq!(c.users_at(25.0), 50);
        assert_eq!(c.users_at(30.0), 0);
        // Walking the changes visits every whole number once, up then down.
        let (mut t, mut seen) = (0.0, vec![0u64]);
        while let Some(next) = c.next_users_change(t) {
            assert!(next > t, "time moves on: {next} after {t}");
            t = next;
            seen.push(c.users_at(t));
        }
        let up: Vec<u64> = (0..=100).collect();
        let down: Vec<u64> = (0..100).rev().collect();
        assert_eq!(seen, [up, down].concat());
        // Rounded down: the last user leaves when the curve passes below 1, at 29.9 s.
        assert!((t - 29.9).abs() < 1e-3, "the last change is a user-step before the end: {t}");
    }

    #[test]
    fn arrivals_invert_the_rate_integral() {
        // 10/s constant: the 25th arrival at 2.5 s.
        let c = Curve::constant(10.0);
        assert!((c.time_of(0.0, 25.0).unwrap() - 2.5).abs() < 1e-9);
        // 0 → 100/s over 10 s: 500 arrivals by 10 s; the 125th at 5 s (t²/2·10 = 125).
        let r = Curve::rate_stages(0.0, &parse_rate_stages("10s:100/s,5s:100/s").unwrap());
        assert!((r.integral(10.0) - 500.0).abs() < 1e-6);
        assert!((r.time_of(0.0, 125.0).unwrap() - 5.0).abs() < 1e-6);
        assert!((r.time_of(10.0, 100.0).unwrap() - 11.0).abs() < 1e-9, "flat 100/s after the ramp");
        assert!((r.integral(r.time_of(3.0, 40.0).unwrap()) - r.integral(3.0) - 40.0).abs() < 1e-6);
        // A rate that ends at zero never reaches more.
        let z = Curve::rate_stages(10.0, &parse_rate_stages("1s:0/s").unwrap());
        assert!(z.time_of(0.0, 5.0).is_some());
        assert!(z.time_of(0.0, 6.0).is_none());
    }
}
