//! The scheduler's behaviour on tokio's paused clock, with native users:
//! exact schedules, exact counts.

use super::*;
use crate::controls::{Controls, Ramp};
use crate::plan::{parse_rate_stages, parse_user_stages, Arrivals, Executor, Scenario};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use tokio::time::{sleep, Instant};

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
    task_time: Arc<Mutex<Duration>>,
    /// Task index that fails; with `fatal`, as a trap would.
    failing: Option<(usize, bool)>,
}

impl User for TestUser {
    async fn on_start(&mut self) -> Result<(), UserError> {
        self.log.lock().unwrap().push((Instant::now(), Ev::Start(self.id)));
        Ok(())
    }
    async fn run_task(&mut self, index: usize) -> Result<(), UserError> {
        let d = *self.task_time.lock().unwrap();
        sleep(d).await;
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
    task_time: Arc<Mutex<Duration>>,
    failing: Option<(usize, bool)>,
    created: AtomicU64,
    scenarios: Mutex<Vec<usize>>,
}

impl UserFactory for Factory {
    type User = TestUser;
    async fn create(&self, spec: UserSpec) -> Result<TestUser, String> {
        self.created.fetch_add(1, Ordering::Relaxed);
        self.scenarios.lock().unwrap().push(spec.scenario);
        Ok(TestUser { id: spec.id, log: self.log.clone(), task_time: self.task_time.clone(), failing: self.failing })
    }
}

fn factory(task_time: Duration, failing: Option<(usize, bool)>) -> Arc<Factory> {
    Arc::new(Factory { log: Default::default(), task_time: Arc::new(Mutex::new(task_time)), failing, created: AtomicU64::new(0), scenarios: Mutex::default() })
}

fn scenario(executor: Executor, wait: Wait) -> Scenario {
    Scenario { name: "default".into(), executor, start: Duration::ZERO, duration: None, graceful_stop: Duration::ZERO, tasks: vec![(0, 1), (1, 3)], wait }
}

/// One constant-users scenario; a spawn rate of 0 means all at once.
fn plan(users: u64, rate: f64, run_time: u64, wait: Wait) -> Plan {
    let spawn_rate = if rate > 0.0 { rate } else { f64::INFINITY };
    Plan {
        scenarios: vec![scenario(Executor::ConstantUsers { users, spawn_rate }, wait)],
        run_time: Some(Duration::from_secs(run_time)),
        seed: Some(7),
        segment: Segment::WHOLE,
    }
}

fn one(executor: Executor, run_time: u64) -> Plan {
    Plan { scenarios: vec![scenario(executor, Wait::None)], run_time: Some(Duration::from_secs(run_time)), seed: Some(7), segment: Segment::WHOLE }
}

async fn go(f: &Arc<Factory>, p: Plan) -> (Outcome, Arc<Stats>) {
    let stats = Arc::new(Stats::new(&["a".into(), "b".into()]));
    let (_tx, mut rx) = mpsc::channel(1);
    let out = run(f.clone(), p, stats.clone(), &mut rx, Controls::single()).await;
    (out, stats)
}

fn task_times(f: &Factory) -> Vec<Instant> {
    f.log.lock().unwrap().iter().filter(|(_, e)| matches!(e, Ev::Task(..))).map(|(t, _)| *t).collect()
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
    p.scenarios[0].graceful_stop = Duration::from_secs(5);
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
    p.scenarios[0].graceful_stop = Duration::from_secs(1000);
    let h = tokio::spawn(async move { run(f.clone(), p, stats, &mut rx, Controls::single()).await });
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
    p.scenarios[0].tasks = vec![(0, 1)];
    let f = factory(Duration::from_millis(1), Some((0, true)));
    let (out, stats) = go(&f, p).await;
    assert_eq!(out.reason, StopReason::UsersDone);
    assert_eq!(f.created.load(Ordering::Relaxed), MAX_CONSECUTIVE_FATAL as u64);
    let snap = stats.snapshot();
    assert_eq!(snap.tasks[0].errors, MAX_CONSECUTIVE_FATAL as u64);
    assert!(snap.errors.iter().any(|e| e.place == "retired"));
}

#[tokio::test(start_paused = true)]
async fn the_pool_resizes_and_pauses_while_running() {
    let f = factory(Duration::from_millis(10), None);
    let stats = Arc::new(Stats::new(&["a".into(), "b".into()]));
    let (_tx, mut rx) = mpsc::channel(1);
    let controls = Controls::single();
    let p = plan(2, 10.0, 30, Wait::Constant(Duration::from_millis(100)));
    let (f2, s2, c2) = (f.clone(), stats.clone(), controls.clone());
    let h = tokio::spawn(async move { run(f2, p, s2, &mut rx, c2).await });
    let starts = |f: &Arc<Factory>| f.log.lock().unwrap().iter().filter(|(_, e)| matches!(e, Ev::Start(_))).count();
    let stops = |f: &Arc<Factory>| f.log.lock().unwrap().iter().filter(|(_, e)| matches!(e, Ev::Stop(_))).count();
    let tasks = |s: &Stats| s.tasks().iter().map(|t| t.runs).sum::<u64>();
    sleep(Duration::from_secs(2)).await;
    assert_eq!((stats.users(), starts(&f)), (2, 2));

    // Grow: four more users at 10/s, the first two untouched.
    controls.resize(None, 6, Ramp::Rate(10.0), "test");
    sleep(Duration::from_millis(150)).await;
    assert!(stats.users() < 6, "not all at once: {}", stats.users());
    sleep(Duration::from_secs(1)).await;
    assert_eq!((stats.users(), starts(&f), stops(&f)), (6, 6, 0));

    // Shrink: three leave after their task, with on-stop.
    controls.resize(None, 3, Ramp::Rate(10.0), "test");
    sleep(Duration::from_secs(1)).await;
    assert_eq!((stats.users(), stops(&f)), (3, 3));

    // Pause: no task starts; resume: they do again, no user restarted.
    controls.pause(true, "test");
    sleep(Duration::from_millis(200)).await;
    let before = tasks(&stats);
    sleep(Duration::from_secs(5)).await;
    assert_eq!(tasks(&stats), before, "paused");
    assert_eq!(stats.users(), 3, "paused users stay");
    controls.pause(false, "test");
    sleep(Duration::from_secs(1)).await;
    assert!(tasks(&stats) >= before + 3 * 5, "resumed: {} after {before}", tasks(&stats));
    assert_eq!(f.created.load(Ordering::Relaxed), 6, "nothing restarted");
    assert_eq!(h.await.unwrap().reason, StopReason::RunTime);
}

#[tokio::test(start_paused = true)]
async fn huge_weights_and_a_tiny_spawn_rate_neither_overflow_nor_panic() {
    let f = factory(Duration::from_millis(1), None);
    let mut p = plan(3, 0.001, 10, Wait::Constant(Duration::from_millis(9)));
    p.scenarios[0].tasks = vec![(0, u32::MAX), (1, u32::MAX)];
    let (out, stats) = go(&f, p).await;
    assert_eq!(out.reason, StopReason::RunTime);
    let snap = stats.snapshot();
    assert_eq!(snap.users, 0);
    assert_eq!(f.created.load(Ordering::Relaxed), 1, "at 0.001 users/s the second user is 1000 s away");
    let (a, b) = (snap.tasks[0].runs as f64, snap.tasks[1].runs as f64);
    assert!(a + b > 900.0 && (a - b).abs() / (a + b) < 0.1, "equal weights, equal shares: {a} {b}");
}

fn runs(stats: &Stats) -> u64 {
    stats.tasks().iter().map(|t| t.runs).sum()
}

#[tokio::test(start_paused = true)]
async fn ramping_users_follow_the_stages_and_end_with_them() {
    let f = factory(Duration::from_millis(10), None);
    let stats = Arc::new(Stats::new(&["a".into(), "b".into()]));
    let (_tx, mut rx) = mpsc::channel(1);
    let mut p = one(Executor::RampingUsers { start: 0, stages: parse_user_stages("10s:10,10s:10,10s:0").unwrap() }, 60);
    p.scenarios[0].wait = Wait::Constant(Duration::from_millis(100));
    let s2 = stats.clone();
    let f2 = f.clone();
    let h = tokio::spawn(async move { run(f2, p, s2, &mut rx, Controls::single()).await });
    let mut seen = vec![];
    for t in [5_050u64, 10_050, 15_000, 25_050] {
        sleep(Duration::from_millis(t) - Duration::from_millis(seen.last().map(|(t, _)| *t).unwrap_or(0))).await;
        seen.push((t, stats.users()));
    }
    // Users leave after their task and wait: a ramp down may lag by one wait.
    assert_eq!(seen.iter().map(|s| s.1).collect::<Vec<_>>(), vec![5, 10, 10, 4], "{seen:?}");
    let out = h.await.unwrap();
    assert_eq!(out.reason, StopReason::Completed, "the stages ended the run before its 60 s");
    assert_eq!(stats.users(), 0);
    assert_eq!(f.created.load(Ordering::Relaxed), 10);
}

#[tokio::test(start_paused = true)]
async fn constant_arrival_rate_starts_iterations_exactly_on_schedule() {
    let f = factory(Duration::from_millis(1), None);
    let exec = Executor::ConstantArrivalRate { rate: 100.0, pre_allocated: 5, max_users: 5, arrivals: Arrivals::Even };
    let (out, stats) = go(&f, one(exec, 10)).await;
    assert_eq!(out.reason, StopReason::RunTime);
    let n = runs(&stats);
    assert!((999..=1001).contains(&n), "{n} iterations in 10 s at 100/s");
    assert_eq!(stats.dropped_iterations(), 0);
    let times = task_times(&f);
    for w in times.windows(2).take(500) {
        assert_eq!(w[1] - w[0], Duration::from_millis(10), "evenly spaced");
    }
    let snap = stats.snapshot();
    assert_eq!(snap.latency.count, n, "every iteration's latency is recorded");
    assert!(snap.latency.quantile_us(1.0) <= 1_100, "1 ms tasks started on time: {}", snap.latency.quantile_us(1.0));
    assert_eq!(f.created.load(Ordering::Relaxed), 5, "the pre-allocated users sufficed");
}

#[tokio::test(start_paused = true)]
async fn without_a_free_user_iterations_are_dropped_and_counted() {
    // 200 ms tasks, 10 users: at most 50 iterations a second of the 100 asked.
    let f = factory(Duration::from_millis(200), None);
    let exec = Executor::ConstantArrivalRate { rate: 100.0, pre_allocated: 2, max_users: 10, arrivals: Arrivals::Even };
    let (out, stats) = go(&f, one(exec, 10)).await;
    assert_eq!(out.reason, StopReason::RunTime);
    let (served, dropped) = (runs(&stats), stats.dropped_iterations());
    assert!((480..=505).contains(&served), "served {served}");
    let cut = stats.tasks().iter().map(|t| t.interrupted).sum::<u64>();
    assert_eq!(served + dropped + cut, 1000, "every arrival is served ({served}), dropped ({dropped}) or cut short ({cut})");
    assert_eq!(f.created.load(Ordering::Relaxed), 10, "the pool grew to --max-users, no further");
}

#[tokio::test(start_paused = true)]
async fn iteration_latency_counts_from_the_intended_start() {
    // A service that stalls for 2 s: arrivals keep their schedule, so the
    // iterations queued behind the stall show it in full.
    let f = factory(Duration::from_millis(1), None);
    let exec = Executor::ConstantArrivalRate { rate: 50.0, pre_allocated: 5, max_users: 500, arrivals: Arrivals::Even };
    let stats = Arc::new(Stats::new(&["a".into(), "b".into()]));
    let (_tx, mut rx) = mpsc::channel(1);
    let (f2, s2) = (f.clone(), stats.clone());
    let h = tokio::spawn(async move { run(f2, one(exec, 10), s2, &mut rx, Controls::single()).await });
    sleep(Duration::from_secs(5)).await;
    *f.task_time.lock().unwrap() = Duration::from_secs(2);
    sleep(Duration::from_millis(100)).await;
    *f.task_time.lock().unwrap() = Duration::from_millis(1);
    h.await.unwrap();
    let snap = stats.snapshot();
    assert!(snap.latency.quantile_us(0.5) < 5_000, "most iterations are on time: p50 {}", snap.latency.quantile_us(0.5));
    assert!(snap.latency.quantile_us(1.0) >= 1_900_000, "the stall is measured: max {}", snap.latency.quantile_us(1.0));
    // The pool grows when an iteration finds no free user: that one is dropped.
    assert!(stats.dropped_iterations() <= 5, "users were made to keep the schedule: {} dropped", stats.dropped_iterations());
}

#[tokio::test(start_paused = true)]
async fn ramping_arrival_rate_integrates_its_stages() {
    let f = factory(Duration::from_millis(1), None);
    let exec = Executor::RampingArrivalRate {
        start_rate: 0.0,
        stages: parse_rate_stages("10s:100/s,10s:100/s").unwrap(),
        pre_allocated: 5,
        max_users: 5,
        arrivals: Arrivals::Even,
    };
    let (out, stats) = go(&f, one(exec, 60)).await;
    assert_eq!(out.reason, StopReason::Completed);
    let n = runs(&stats);
    assert!((1498..=1501).contains(&n), "500 on the ramp and 1000 after: {n}");
}

#[tokio::test(start_paused = true)]
async fn poisson_arrivals_have_the_rate_on_average_and_varied_gaps() {
    let f = factory(Duration::from_millis(1), None);
    let exec = Executor::ConstantArrivalRate { rate: 100.0, pre_allocated: 20, max_users: 20, arrivals: Arrivals::Poisson };
    let (_, stats) = go(&f, one(exec, 20)).await;
    let n = runs(&stats) as f64;
    assert!((n - 2000.0).abs() < 4.0 * 2000f64.sqrt(), "{n} arrivals, 2000 ± 4σ expected");
    // Exponential gaps have a coefficient of variation of 1 (even ones, 0).
    let times = task_times(&f);
    let gaps: Vec<f64> = times.windows(2).map(|w| (w[1] - w[0]).as_secs_f64()).collect();
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    let sd = (gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64).sqrt();
    assert!(sd / mean > 0.8 && sd / mean < 1.2, "coefficient of variation {}", sd / mean);
}

#[tokio::test(start_paused = true)]
async fn shared_iterations_run_exactly_and_per_user_iterations_each() {
    let f = factory(Duration::from_millis(3), None);
    let (out, stats) = go(&f, one(Executor::SharedIterations { users: 7, iterations: 1000 }, 600)).await;
    assert_eq!(out.reason, StopReason::Completed);
    assert_eq!(runs(&stats), 1000);
    assert!(stats.snapshot().elapsed < Duration::from_secs(600));
    let f = factory(Duration::from_millis(3), None);
    let (out, stats) = go(&f, one(Executor::PerUserIterations { users: 20, iterations: 10 }, 600)).await;
    assert_eq!(out.reason, StopReason::Completed);
    assert_eq!(runs(&stats), 200);
    let log = f.log.lock().unwrap();
    for id in 1..=20u64 {
        assert_eq!(log.iter().filter(|(_, e)| matches!(e, Ev::Task(u, _) if *u == id)).count(), 10, "user {id}");
        assert!(log.iter().any(|(_, e)| *e == Ev::Stop(id)), "user {id} ran on-stop");
    }
}

#[tokio::test(start_paused = true)]
async fn the_rate_changes_live_and_a_pause_drops_nothing() {
    let f = factory(Duration::from_millis(1), None);
    let stats = Arc::new(Stats::new(&["a".into(), "b".into()]));
    let (_tx, mut rx) = mpsc::channel(1);
    let controls = Controls::new(&[("default".into(), true)]);
    let exec = Executor::ConstantArrivalRate { rate: 10.0, pre_allocated: 5, max_users: 5, arrivals: Arrivals::Even };
    let (f2, s2, c2) = (f.clone(), stats.clone(), controls.clone());
    let h = tokio::spawn(async move { run(f2, one(exec, 20), s2, &mut rx, c2).await });
    sleep(Duration::from_secs(5)).await;
    let at_5 = runs(&stats);
    assert!((49..=51).contains(&at_5), "{at_5}");
    assert_eq!(controls.set_rate(None, 50.0, Ramp::Now, "test"), 1);
    assert_eq!(controls.resize(None, 3, Ramp::Now, "test"), 0, "no closed scenario to resize");
    sleep(Duration::from_secs(5)).await;
    let at_10 = runs(&stats);
    assert!((at_10 - at_5).abs_diff(250) <= 2, "{} in 5 s at 50/s", at_10 - at_5);
    controls.pause(true, "test");
    sleep(Duration::from_secs(5)).await;
    assert!(runs(&stats) - at_10 <= 1, "paused");
    controls.pause(false, "test");
    h.await.unwrap();
    let total = runs(&stats);
    assert!((total - at_10).abs_diff(250) <= 3, "5 more seconds at 50/s after the pause: {}", total - at_10);
    assert_eq!(stats.dropped_iterations(), 0, "a pause is not a drop");
    assert_eq!(controls.events().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn scenarios_run_together_with_offsets_and_their_own_stats() {
    let f = factory(Duration::from_millis(5), None);
    let stats = Arc::new(Stats::with_scenarios(
        &["a".into(), "b".into()],
        &[crate::stats::ScenarioSpec { name: "browse".into(), tasks: vec![0] }, crate::stats::ScenarioSpec { name: "buy".into(), tasks: vec![1] }],
    ));
    let (_tx, mut rx) = mpsc::channel(1);
    let mut browse = scenario(Executor::ConstantUsers { users: 2, spawn_rate: f64::INFINITY }, Wait::Constant(Duration::from_millis(95)));
    browse.name = "browse".into();
    browse.tasks = vec![(0, 1)];
    let mut buy = scenario(Executor::ConstantArrivalRate { rate: 20.0, pre_allocated: 2, max_users: 2, arrivals: Arrivals::Even }, Wait::None);
    buy.name = "buy".into();
    buy.tasks = vec![(1, 1)];
    buy.start = Duration::from_secs(5);
    buy.duration = Some(Duration::from_secs(5));
    let p = Plan { scenarios: vec![browse, buy], run_time: Some(Duration::from_secs(10)), seed: Some(1), segment: Segment::WHOLE };
    let controls = Controls::new(&[("browse".into(), false), ("buy".into(), true)]);
    run(f.clone(), p, stats.clone(), &mut rx, controls).await;
    let snap = stats.snapshot();
    let by = |s: &str, t: &str| snap.tasks.iter().find(|x| x.scenario == s && x.name == t).map(|x| x.runs).unwrap_or(0);
    assert!((195..=201).contains(&by("browse", "a")), "{}", by("browse", "a"));
    assert!((99..=101).contains(&by("buy", "b")), "{}", by("buy", "b"));
    assert_eq!(by("browse", "b") + by("buy", "a"), 0, "each scenario runs its own tasks");
    let first_buy = f.log.lock().unwrap().iter().find(|(_, e)| matches!(e, Ev::Task(_, 1))).map(|(t, _)| *t).unwrap();
    assert!(first_buy - snap_start(&f) >= Duration::from_secs(5), "buy starts at its offset");
    let mut sc = f.scenarios.lock().unwrap().clone();
    sc.sort();
    assert_eq!(sc, vec![0, 0, 1, 1], "users were made for their scenario");
}

fn snap_start(f: &Factory) -> Instant {
    f.log.lock().unwrap()[0].0
}

/// Runs `p` whole, then as `n` shards one after another on the paused clock;
/// returns (the whole run's log, every shard's log), times from each run's start.
async fn whole_and_shards(p: &Plan, n: u32, task_time: Duration) -> (Vec<(Duration, Ev)>, Vec<Vec<(Duration, Ev)>>) {
    let log_of = |f: &Factory, t0: Instant| f.log.lock().unwrap().iter().map(|(t, e)| (*t - t0, e.clone())).collect::<Vec<_>>();
    let f = factory(task_time, None);
    let t0 = Instant::now();
    go(&f, p.clone()).await;
    let whole = log_of(&f, t0);
    let mut shards = vec![];
    for i in 0..n {
        let mut q = p.clone();
        q.segment = Segment::new(i, n).unwrap();
        let f = factory(task_time, None);
        let t0 = Instant::now();
        go(&f, q).await;
        shards.push(log_of(&f, t0));
    }
    (whole, shards)
}

fn times(log: &[(Duration, Ev)], pick: fn(&Ev) -> bool) -> Vec<Duration> {
    let mut t: Vec<Duration> = log.iter().filter(|(_, e)| pick(e)).map(|(t, _)| *t).collect();
    t.sort();
    t
}

/// Sorted times equal within a microsecond (float sums of gaps).
fn assert_same_times(a: &[Duration], b: &[Duration], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: {} vs {}", a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!(x.abs_diff(*y) <= Duration::from_micros(1), "{what}: {x:?} vs {y:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn shards_together_run_exactly_the_whole_plan() {
    let start = |e: &Ev| matches!(e, Ev::Start(_));
    let stop = |e: &Ev| matches!(e, Ev::Stop(_));
    let task = |e: &Ev| matches!(e, Ev::Task(..));
    // A ramp at the spawn rate: every user starts when the whole run's would.
    let ramp = plan(10, 2.0, 8, Wait::Constant(Duration::from_millis(700)));
    // Stages up and down: starts and stops alike.
    let stages = one(Executor::RampingUsers { start: 0, stages: parse_user_stages("4s:9,2s:9,4s:2").unwrap() }, 12);
    for (what, p, n) in [("ramp", &ramp, 3), ("stages", &stages, 4), ("stages over more shards than users", &stages, 13)] {
        let (whole, shards) = whole_and_shards(p, n, Duration::from_millis(10)).await;
        let union: Vec<(Duration, Ev)> = shards.iter().flatten().cloned().collect();
        assert_same_times(&times(&union, start), &times(&whole, start), &format!("{what}: user starts"));
        assert_same_times(&times(&union, stop), &times(&whole, stop), &format!("{what}: user stops"));
        // User ids never repeat across shards.
        let ids: std::collections::HashSet<u64> = union.iter().filter_map(|(_, e)| if let Ev::Start(id) = e { Some(*id) } else { None }).collect();
        assert_eq!(ids.len(), times(&union, start).len(), "{what}: ids unique across shards");
    }

    // Arrivals, evenly spaced: the union is the whole schedule, to the microsecond.
    let rate = one(Executor::ConstantArrivalRate { rate: 30.0, pre_allocated: 8, max_users: 8, arrivals: Arrivals::Even }, 3);
    let rising = one(
        Executor::RampingArrivalRate {
            start_rate: 0.0,
            stages: parse_rate_stages("2s:40/s").unwrap(),
            pre_allocated: 9,
            max_users: 9,
            arrivals: Arrivals::Even,
        },
        2,
    );
    for (what, p, n) in [("constant rate", &rate, 4), ("ramping rate", &rising, 3)] {
        let (whole, shards) = whole_and_shards(p, n, Duration::from_millis(5)).await;
        let union: Vec<(Duration, Ev)> = shards.iter().flatten().cloned().collect();
        let w = times(&whole, task);
        assert!(w.len() > 30, "{what}: {}", w.len());
        assert_same_times(&times(&union, task), &w, &format!("{what}: iterations"));
        // And each shard has its even share of them.
        for s in &shards {
            let mine = times(s, task).len();
            assert!(mine.abs_diff(w.len() / n as usize) <= 1, "{what}: {mine} of {}", w.len());
        }
    }

    // Iterations: shared ones exactly, per-user ones for every user once.
    let shared = one(Executor::SharedIterations { users: 5, iterations: 23 }, 60);
    let per_user = one(Executor::PerUserIterations { users: 5, iterations: 3 }, 60);
    for (what, p, n, expect) in [("shared", &shared, 4, 23), ("shared over more shards than users", &shared, 7, 23), ("per user", &per_user, 3, 15)] {
        let (whole, shards) = whole_and_shards(p, n, Duration::from_millis(5)).await;
        assert_eq!(times(&whole, task).len(), expect, "{what}: whole");
        assert_eq!(shards.iter().map(|s| times(s, task).len()).sum::<usize>(), expect, "{what}: shards");
    }
}

#[tokio::test(start_paused = true)]
async fn a_seeded_shard_repeats_itself_and_differs_from_its_peers() {
    let p = one(Executor::ConstantArrivalRate { rate: 50.0, pre_allocated: 6, max_users: 6, arrivals: Arrivals::Poisson }, 4);
    let (_, first) = whole_and_shards(&p, 3, Duration::from_millis(5)).await;
    let (_, again) = whole_and_shards(&p, 3, Duration::from_millis(5)).await;
    let task = |e: &Ev| matches!(e, Ev::Task(..));
    for i in 0..3 {
        assert_eq!(times(&first[i], task), times(&again[i], task), "shard {i} repeats with the same seed");
        assert!(!times(&first[i], task).is_empty());
    }
    assert_ne!(times(&first[0], task), times(&first[1], task), "each shard has its own seed: its own Poisson gaps");
}

/// A user whose every future holds 64 KiB across an await.
struct Heavy;

async fn heavy() {
    let buf = [7u8; 64 << 10];
    tokio::task::yield_now().await;
    std::hint::black_box(&buf);
}

impl User for Heavy {
    async fn on_start(&mut self) -> Result<(), UserError> {
        heavy().await;
        Ok(())
    }
    async fn run_task(&mut self, _index: usize) -> Result<(), UserError> {
        heavy().await;
        Ok(())
    }
    async fn on_stop(&mut self) -> Result<(), UserError> {
        heavy().await;
        Ok(())
    }
}

struct HeavyFactory;

impl UserFactory for HeavyFactory {
    type User = Heavy;
    async fn create(&self, _spec: UserSpec) -> Result<Heavy, String> {
        heavy().await;
        Ok(Heavy)
    }
}

/// The size of what a five-argument function returns, without calling it.
fn returned_size<A, B, C, D, E, R>(_f: fn(A, B, C, D, E) -> R) -> usize {
    std::mem::size_of::<R>()
}

/// Each call into a user runs in a box of its own, so the task every waiting
/// user keeps stays small whatever the user's futures hold (at 100,000 users
/// each KiB of it is 100 MB).
#[test]
fn a_users_task_does_not_hold_its_users_futures() {
    let mut user = Heavy;
    assert!(std::mem::size_of_val(&user.run_task(0)) >= 64 << 10, "the user's own future is heavy");
    let closed = returned_size(closed::user_life::<HeavyFactory> as fn(_, _, _, _, _) -> _);
    let open = returned_size(open::user_life::<HeavyFactory> as fn(_, _, _, _, _) -> _);
    assert!(closed <= 2048, "a closed scenario's user task is {closed} bytes");
    assert!(open <= 2048, "an open scenario's user task is {open} bytes");
}
