//! A web UI session: the runs the API starts and stops, one at a time. It
//! checks a start request against the command line's settings (the same
//! checks as the command line's, and the host allow-list) and hands the
//! run to the session loop; the loop reports back as the run goes.

use crate::cli::{RunArgs, MAX_USERS};
use crate::config::RunConfig;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, Notify};
use url::Url;
use wasp_runner::units::{parse_positive_duration, MAX_RATE, MIN_RATE};
use wasp_runner::Signal;
use wasp_wasm::Plugin;
use wasp_web::{ApiError, Defaults, Finished, Phase, RunView, Runs, StartRequest, Status};

/// A run to start: its settings and its stop channel.
pub struct Start {
    pub cfg: RunConfig,
    pub stop_tx: mpsc::Sender<Signal>,
    pub stop_rx: mpsc::Receiver<Signal>,
}

struct State {
    phase: Phase,
    run: Option<RunView>,
    stop: Option<mpsc::Sender<Signal>>,
    error: Option<String>,
}

pub struct Session {
    base: RunArgs,
    base_cfg: RunConfig,
    plugin: Arc<Plugin>,
    capacity: u32,
    defaults: Defaults,
    state: Mutex<State>,
    starts: mpsc::Sender<Start>,
    /// Set by a signal: the session ends after the current run.
    quitting: AtomicBool,
    pub quit: Notify,
}

fn defaults(args: &RunArgs, cfg: &RunConfig) -> Defaults {
    let open = cfg.scenarios.first().is_some_and(|s| s.executor.is_open());
    let mut allowed: Vec<String> = cfg.host.iter().map(|u| u.to_string()).collect();
    for entry in args.allow_host.iter().flat_map(|h| h.split(',')).map(str::trim).filter(|h| !h.is_empty()) {
        if !allowed.iter().any(|a| a == entry) {
            allowed.push(entry.to_string());
        }
    }
    Defaults {
        users: args.users,
        spawn_rate: args.spawn_rate,
        rate: if open { args.rate } else { None },
        run_time: args.run_time.map(|d| humantime::format_duration(d).to_string()),
        host: cfg.host.as_ref().map(|u| u.to_string()).unwrap_or_default(),
        allowed,
        from_file: args.scenarios.is_some(),
    }
}

impl Session {
    pub fn new(base: RunArgs, base_cfg: RunConfig, plugin: Arc<Plugin>, capacity: u32, starts: mpsc::Sender<Start>) -> Session {
        Session {
            defaults: defaults(&base, &base_cfg),
            base,
            base_cfg,
            plugin,
            capacity,
            state: Mutex::new(State { phase: Phase::Ready, run: None, stop: None, error: None }),
            starts,
            quitting: AtomicBool::new(false),
            quit: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The command line's settings with the request's on top, checked as the command line's are.
    fn config_for(&self, req: &StartRequest) -> Result<RunConfig, ApiError> {
        let bad = |d: String| ApiError::bad_request(d);
        let mut a = self.base.clone();
        if a.scenarios.is_some() && (req.users.is_some() || req.spawn_rate.is_some() || req.rate.is_some()) {
            return Err(bad("the scenarios come from a file (--scenarios): their users and rates are the file's; give only host and run_time".into()));
        }
        if let Some(u) = req.users {
            if !(1..=MAX_USERS).contains(&u) {
                return Err(bad(format!("users: between 1 and {MAX_USERS}")));
            }
            a.users = u;
        }
        let rate_ok = |r: f64| r.is_finite() && (MIN_RATE..=MAX_RATE).contains(&r);
        if let Some(r) = req.spawn_rate {
            if !rate_ok(r) {
                return Err(bad(format!("spawn_rate: between {MIN_RATE} and {MAX_RATE} per second")));
            }
            a.spawn_rate = r;
        }
        if let Some(r) = req.rate {
            if !rate_ok(r) {
                return Err(bad(format!("rate: between {MIN_RATE} and {MAX_RATE} per second")));
            }
            a.rate = Some(r);
        }
        match req.run_time.as_deref().map(str::trim) {
            None => {}
            Some("") => a.run_time = None,
            Some(t) => a.run_time = Some(parse_positive_duration(t).map_err(|e| bad(format!("run_time: {e}")))?),
        }
        if let Some(h) = req.host.as_deref().map(str::trim).filter(|h| !h.is_empty()) {
            let url = Url::parse(h).map_err(|e| bad(format!("host '{h}' is not a URL: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(bad(format!("host '{h}' must be an http:// or https:// URL with a host")));
            }
            if !self.base_cfg.allow.allows(&url) {
                return Err(bad(format!("host '{h}' is not allowed: the UI aims only at --host or an --allow-host origin")));
            }
            a.host = Some(h.to_string());
        }
        let cfg = RunConfig::from_args(&a).map_err(|f| bad(f.message))?;
        crate::scenarios::plan(&cfg.scenarios, &self.plugin.behaviour).map_err(bad)?;
        if cfg.capacity > self.capacity {
            return Err(bad(format!(
                "this run needs room for {} users; this wasp was started with room for {} (restart it with --max-users {})",
                cfg.capacity, self.capacity, cfg.capacity
            )));
        }
        Ok(cfg)
    }

    /// The run's stats and controls exist: it runs.
    pub fn running(&self, view: RunView) {
        let mut st = self.lock();
        if st.phase == Phase::Starting {
            st.phase = Phase::Running;
        }
        view.controls.note("wasp", format!("run started: {}", view.executors.join("; ")));
        st.run = Some(view);
    }

    /// The run is over (its reports are written).
    pub fn finished(&self, finished: Finished) {
        let mut st = self.lock();
        st.phase = Phase::Stopped;
        st.stop = None;
        if let Some(r) = st.run.as_mut() {
            r.controls.note("wasp", format!("run ended ({}), exit code {}", finished.stop_reason, finished.exit_code));
            r.finished = Some(finished);
        }
    }

    /// The run could not start.
    pub fn failed(&self, message: String) {
        let mut st = self.lock();
        st.phase = if st.run.is_some() { Phase::Stopped } else { Phase::Ready };
        st.stop = None;
        st.error = Some(message);
    }

    /// A signal: stop the run if there is one; the session ends after it.
    pub fn signal(&self, s: Signal) {
        self.quitting.store(true, Ordering::SeqCst);
        let st = self.lock();
        match &st.stop {
            Some(tx) => {
                let _ = tx.try_send(s);
            }
            None => self.quit.notify_one(),
        }
    }

    pub fn quitting(&self) -> bool {
        self.quitting.load(Ordering::SeqCst)
    }
}

impl Runs for Session {
    fn status(&self) -> Status {
        let st = self.lock();
        Status { phase: st.phase, run: st.run.clone(), defaults: self.defaults.clone(), error: st.error.clone() }
    }

    fn start(&self, req: StartRequest) -> Result<(), ApiError> {
        if self.quitting() {
            return Err(ApiError::conflict("wasp is shutting down"));
        }
        let cfg = self.config_for(&req)?;
        let mut st = self.lock();
        if matches!(st.phase, Phase::Starting | Phase::Running | Phase::Stopping) {
            return Err(ApiError::conflict("a run is going on: stop it first (POST api/stop)"));
        }
        let (stop_tx, stop_rx) = mpsc::channel(4);
        self.starts.try_send(Start { cfg, stop_tx: stop_tx.clone(), stop_rx }).map_err(|_| ApiError::conflict("a run is being started"))?;
        st.phase = Phase::Starting;
        st.stop = Some(stop_tx);
        st.error = None;
        Ok(())
    }

    fn stop(&self) -> Result<(), ApiError> {
        let mut st = self.lock();
        match st.phase {
            Phase::Starting | Phase::Running => {
                if let Some(tx) = &st.stop {
                    let _ = tx.try_send(Signal::Requested);
                }
                st.phase = Phase::Stopping;
                if let Some(r) = &st.run {
                    r.controls.note("api", "stop".into());
                }
                Ok(())
            }
            Phase::Stopping => Ok(()),
            Phase::Ready | Phase::Stopped => Err(ApiError::conflict("no run is running")),
        }
    }
}
