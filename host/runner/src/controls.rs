//! Live controls of a running plan: how many users a closed scenario should
//! have, what rate an open one should run at, and whether users may start
//! tasks. The flag poller, the REST API and the web UI all hold a clone and
//! call the same methods; changes apply at once, users being started or
//! stopped at the spawn rate (or over a ramp time), rates ramped the same way.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How to get to a new target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ramp {
    /// Users per second (closed), or at once.
    Rate(f64),
    /// Linearly over this long.
    Over(Duration),
    Now,
}

/// What a scenario is told to do from now on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// Its schedule as planned.
    Planned,
    Users {
        users: u64,
        ramp: Ramp,
    },
    /// Iterations per second.
    Rate {
        per_s: f64,
        ramp: Ramp,
    },
}

/// Who changed what, when: the event log the UI shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub at: std::time::SystemTime,
    /// `flag loadGeneratorVUs`, `api`, `ui`, …
    pub by: String,
    pub what: String,
}

#[derive(Clone)]
pub struct Controls {
    inner: Arc<Inner>,
}

struct Inner {
    paused: watch::Sender<bool>,
    /// Per scenario (by index): its name, whether it is open, its target.
    scenarios: Vec<(String, bool, watch::Sender<Target>)>,
    /// What each scenario has now (users or rate), as the scheduler reports it.
    current: Mutex<Vec<f64>>,
    events: Mutex<Vec<Event>>,
    started: Instant,
}

/// Events kept (the oldest are dropped).
const MAX_EVENTS: usize = 500;

impl Controls {
    /// Controls of scenarios `(name, open)`.
    pub fn new(scenarios: &[(String, bool)]) -> Self {
        let scenarios = scenarios.iter().map(|(n, open)| (n.clone(), *open, watch::channel(Target::Planned).0)).collect::<Vec<_>>();
        let current = Mutex::new(vec![0.0; scenarios.len()]);
        Controls { inner: Arc::new(Inner { paused: watch::channel(false).0, scenarios, current, events: Mutex::default(), started: Instant::now() }) }
    }

    /// Controls of one closed scenario (the `default` one).
    pub fn single() -> Self {
        Self::new(&[(crate::stats::DEFAULT_SCENARIO.into(), false)])
    }

    /// Adds an event to the log (and to wasp's log).
    pub fn note(&self, by: &str, what: String) {
        let mut ev = self.inner.events.lock().unwrap_or_else(|e| e.into_inner());
        if ev.len() >= MAX_EVENTS {
            ev.remove(0);
        }
        tracing::info!("{by}: {what}");
        ev.push(Event { at: std::time::SystemTime::now(), by: by.to_string(), what });
    }

    /// The events so far, oldest first.
    pub fn events(&self) -> Vec<Event> {
        self.inner.events.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Names and kinds (open = arrival rate) of the scenarios.
    pub fn scenarios(&self) -> Vec<(String, bool)> {
        self.inner.scenarios.iter().map(|(n, o, _)| (n.clone(), *o)).collect()
    }

    /// Sets the users of the closed scenarios (all of them, or the one named).
    /// Returns how many scenarios took it.
    pub fn resize(&self, scenario: Option<&str>, users: u64, ramp: Ramp, by: &str) -> usize {
        let mut n = 0;
        for (name, open, tx) in &self.inner.scenarios {
            if !*open && scenario.is_none_or(|s| s == name) {
                tx.send_replace(Target::Users { users, ramp });
                n += 1;
            }
        }
        if n > 0 {
            self.note(by, format!("users → {users}{}", scenario.map(|s| format!(" in {s}")).unwrap_or_default()));
        }
        n
    }

    /// Sets the rate of the open scenarios (all, or the one named), per second.
    pub fn set_rate(&self, scenario: Option<&str>, per_s: f64, ramp: Ramp, by: &str) -> usize {
        let mut n = 0;
        for (name, open, tx) in &self.inner.scenarios {
            if *open && scenario.is_none_or(|s| s == name) {
                tx.send_replace(Target::Rate { per_s, ramp });
                n += 1;
            }
        }
        if n > 0 {
            self.note(by, format!("rate → {per_s}/s{}", scenario.map(|s| format!(" in {s}")).unwrap_or_default()));
        }
        n
    }

    /// Paused users finish the task they are in and start no other until
    /// resumed; open scenarios start no iteration (none is dropped).
    pub fn pause(&self, paused: bool, by: &str) {
        if self.inner.paused.send_if_modified(|p| std::mem::replace(p, paused) != paused) {
            self.note(by, if paused { "paused".into() } else { "resumed".into() });
        }
    }

    pub fn paused(&self) -> bool {
        *self.inner.paused.borrow()
    }

    /// The target of scenario `i` (for the scheduler).
    pub fn target(&self, i: usize) -> Option<watch::Receiver<Target>> {
        self.inner.scenarios.get(i).map(|(_, _, tx)| tx.subscribe())
    }

    pub fn pause_switch(&self) -> watch::Receiver<bool> {
        self.inner.paused.subscribe()
    }

    /// What scenario `i` is at now (users, or iterations per second), as the scheduler reports it.
    pub fn report(&self, i: usize, value: f64) {
        if let Some(v) = self.inner.current.lock().unwrap_or_else(|e| e.into_inner()).get_mut(i) {
            *v = value;
        }
    }

    /// Per scenario: (name, open, what it is at now).
    pub fn current(&self) -> Vec<(String, bool, f64)> {
        let cur = self.inner.current.lock().unwrap_or_else(|e| e.into_inner());
        self.inner.scenarios.iter().zip(cur.iter()).map(|((n, o, _), v)| (n.clone(), *o, *v)).collect()
    }

    /// The users the closed scenarios aim at now (the sum), for the flag poller.
    pub fn users_target(&self) -> u64 {
        self.current().iter().filter(|(_, open, _)| !open).map(|(_, _, v)| *v as u64).sum()
    }

    /// Seconds since these controls were made.
    pub fn age(&self) -> Duration {
        self.inner.started.elapsed()
    }
}
