//! Placing users of a 0.2.0 plugin into shared instances, and the handle the
//! runner drives for each ([`SharedUser`]).
//!
//! An instance takes `K` users (`--users-per-instance`), then no more: the
//! users that replace those who leave go to a new instance, and an
//! instance ends when its last user has gone. An instance thus never holds
//! more than `K` users' guest state, however much users come and go.

use super::bindings::UserPre;
use super::instance::{self, Command, InstanceState, Shared};
use crate::imports::{Phase, RunCtx, UserCtx};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use wasp_runner::user::UserError;

/// The instances of one plugin (one generation, see `--watch`).
pub(crate) struct Placement {
    pub(crate) per_instance: u32,
    /// The instance taking new users now.
    open: tokio::sync::Mutex<Option<Arc<Shared>>>,
    next_index: AtomicU64,
    /// The drivers, to wait for at the end ([`Placement::settle`]).
    drivers: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Placement {
    pub(crate) fn new(per_instance: u32) -> Placement {
        Placement { per_instance: per_instance.max(1), open: Default::default(), next_index: AtomicU64::new(1), drivers: Default::default() }
    }

    /// Places user `ctx` in the open instance, making a new one when it is full
    /// (or stopped).
    pub(crate) async fn place(
        &self,
        pre: &UserPre<InstanceState>,
        engine: &wasmtime::Engine,
        ctx: UserCtx,
        run: &Arc<RunCtx>,
        limits: InstanceLimits,
    ) -> Result<Arc<Shared>, String> {
        let id = ctx.id;
        let shared = {
            let mut open = self.open.lock().await;
            let usable = open.as_ref().is_some_and(|s| !s.dead.load(Ordering::Relaxed) && s.placed.load(Ordering::Relaxed) < self.per_instance);
            if !usable {
                *open = Some(self.start(pre, engine, run, limits).await?);
            }
            let shared = open.clone().expect("an open instance");
            shared.placed.fetch_add(1, Ordering::Relaxed);
            shared
        };
        let (reply, answer) = oneshot::channel();
        shared.tx.send(Command::Create { ctx: Box::new(ctx), reply }).map_err(|_| "its instance stopped".to_string())?;
        answer.await.map_err(|_| "its instance stopped".to_string())??;
        tracing::trace!(user = id, instance = shared.index, "placed");
        Ok(shared)
    }

    /// A new instance and its driver.
    async fn start(&self, pre: &UserPre<InstanceState>, engine: &wasmtime::Engine, run: &Arc<RunCtx>, limits: InstanceLimits) -> Result<Arc<Shared>, String> {
        let index = self.next_index.fetch_add(1, Ordering::Relaxed);
        let mut store = instance::new_store(engine, index, run.clone(), limits);
        let bindings = pre.instantiate_async(&mut store).await.map_err(|e| crate::limits::instantiate_error(&e))?;
        let (tx, rx) = mpsc::unbounded_channel();
        let dead = Arc::new(AtomicBool::new(false));
        let driver = tokio::spawn(instance::drive(store, bindings, rx, dead.clone(), index));
        let mut drivers = self.drivers.lock().unwrap_or_else(|e| e.into_inner());
        drivers.retain(|d| !d.is_finished());
        drivers.push(driver);
        Ok(Arc::new(Shared { tx, dead, placed: Default::default(), index }))
    }

    /// Waits (up to `limit`) until every instance has ended, having served
    /// what its users left (their requests in flight counted as interrupted).
    /// Call it once the run's users are gone.
    pub(crate) async fn settle(&self, limit: Duration) {
        self.open.lock().await.take();
        let drivers: Vec<_> = std::mem::take(&mut *self.drivers.lock().unwrap_or_else(|e| e.into_inner()));
        let all = futures::future::join_all(drivers);
        if tokio::time::timeout(limit, all).await.is_err() {
            tracing::debug!("shared instances still ending after {limit:?}");
        }
    }
}

/// What every shared instance of a run is made with.
#[derive(Clone, Copy)]
pub(crate) struct InstanceLimits {
    /// `--max-instance-memory` (or its default).
    pub max_memory: usize,
    pub budget: Duration,
    /// `--seed`: every instance's WASI randomness starts from it, so that
    /// each user's generator in the SDK depends on the seed and its id only.
    pub seed: Option<u64>,
}

/// One simulated user of a shared instance: commands to the instance's driver.
pub struct SharedUser {
    id: u64,
    instance: Arc<Shared>,
}

impl SharedUser {
    pub(crate) fn new(id: u64, instance: Arc<Shared>) -> SharedUser {
        SharedUser { id, instance }
    }

    pub(crate) async fn call(&mut self, phase: Phase) -> Result<(), UserError> {
        let stopped = || UserError { message: "stopped: its instance stopped".into(), fatal: true };
        if self.instance.dead.load(Ordering::Relaxed) {
            // on-stop of a user whose instance trapped: nothing left to run.
            return if phase == Phase::Stop { Ok(()) } else { Err(stopped()) };
        }
        let (reply, answer) = oneshot::channel();
        self.instance.tx.send(Command::Call { id: self.id, phase, reply }).map_err(|_| stopped())?;
        answer.await.unwrap_or_else(|_| Err(stopped()))
    }

    /// Its instance stopped (a trap): the runner replaces it.
    pub(crate) fn stopped(&self) -> bool {
        self.instance.dead.load(Ordering::Relaxed)
    }
}

impl Drop for SharedUser {
    fn drop(&mut self) {
        let _ = self.instance.tx.send(Command::Forget { id: self.id });
    }
}
