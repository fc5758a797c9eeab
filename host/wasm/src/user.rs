//! A simulated user made of Wasm: one wasmtime `Store` with its own limits,
//! WASI context and host state, instantiated from the plugin's pre-linked
//! component, driven by the runner through [`wasp_runner::User`].

use crate::bindings::exports::wasp::plugin::behaviour as wit;
use crate::bindings::User as Bindings;
use crate::component::Plugin;
use crate::error::root;
use crate::imports::{Phase, RunCtx, UserCtx};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{Engine, Store, StoreLimits, StoreLimitsBuilder, UpdateDeadline};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasp_runner::scheduler::{self as runner, UserError};

/// Store data of one user.
pub struct UserState {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: StoreLimits,
    pub user: UserCtx,
}

impl WasiView for UserState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

pub(crate) fn linker(engine: &Engine) -> wasmtime::Result<Linker<UserState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    Bindings::add_to_linker::<_, HasSelf<UserCtx>>(&mut linker, |s: &mut UserState| &mut s.user)?;
    Ok(linker)
}

pub(crate) fn new_store(
    engine: &Engine,
    id: u64,
    run: Arc<RunCtx>,
    max_memory: usize,
    seed: Option<u64>,
    budget: Duration,
) -> Store<UserState> {
    let mut wasi = WasiCtxBuilder::new();
    // Guest prints go to our stderr, never into the summary on stdout.
    wasi.stdout(std::io::stderr()).stderr(std::io::stderr());
    if let Some(seed) = seed {
        let s = seed ^ id.wrapping_mul(0xA24B_AED4_963E_E407);
        wasi.secure_random(StdRng::seed_from_u64(s)).insecure_random(StdRng::seed_from_u64(s.rotate_left(17)));
        wasi.insecure_random_seed(s as u128);
    }
    let state = UserState {
        wasi: wasi.build(),
        table: ResourceTable::new(),
        limits: StoreLimitsBuilder::new().memory_size(max_memory).trap_on_grow_failure(true).build(),
        user: UserCtx::new(id, run),
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limits);
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |cx| {
        if cx.data().user.busy() > budget {
            return Err(wasmtime::Error::new(TaskKilled(budget)));
        }
        Ok(UpdateDeadline::YieldCustom(1, Box::pin(tokio::task::yield_now())))
    });
    store
}

/// The error a guest gets when it runs past its CPU budget.
#[derive(Debug)]
pub struct TaskKilled(pub Duration);

impl std::fmt::Display for TaskKilled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "killed: ran for more than {:?} of guest time (--task-budget)", self.0)
    }
}
impl std::error::Error for TaskKilled {}

/// Everything a factory needs to make users of one plugin.
pub struct WasmUsers {
    /// The plugin new users are made from: replaced by a reload (`--watch`).
    pub plugin: std::sync::RwLock<Arc<Plugin>>,
    /// Bumped at each reload: users of an older generation are stale.
    pub generation: Arc<std::sync::atomic::AtomicU64>,
    pub run: Arc<RunCtx>,
    pub max_memory: usize,
    pub seed: Option<u64>,
    pub budget: Duration,
}

pub struct WasmUser {
    store: Store<UserState>,
    instance: Bindings,
    generation: u64,
    current: Arc<std::sync::atomic::AtomicU64>,
}

/// Turns a trap into the one line counted in the stats.
fn trap_message(e: &wasmtime::Error) -> String {
    if let Some(k) = e.downcast_ref::<TaskKilled>() {
        return k.to_string();
    }
    let text = root(e);
    if text.contains("forcing a memory growth failure") || text.contains("memory growth") {
        return format!("trap: memory limit exceeded ({text})");
    }
    match e.downcast_ref::<wasmtime::Trap>() {
        Some(t) => format!("trap: {t}"),
        None => format!("trap: {text}"),
    }
}

impl WasmUser {
    /// One export call: its span, its budget, its responses counted at the end.
    async fn call(
        &mut self,
        phase: Phase,
        f: impl AsyncFnOnce(&wit::Guest, &mut Store<UserState>) -> wasmtime::Result<Result<(), String>>,
    ) -> Result<(), UserError> {
        self.store.data_mut().user.begin(phase);
        let r = match f(self.instance.wasp_plugin_behaviour(), &mut self.store).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(UserError { message, fatal: false }),
            Err(e) => Err(UserError { message: trap_message(&e), fatal: true }),
        };
        self.store.data_mut().user.end(r.as_ref().err().map(|e| e.message.as_str()));
        r
    }
}

impl runner::User for WasmUser {
    async fn on_start(&mut self) -> Result<(), UserError> {
        self.call(Phase::Start, async |g, s| g.call_on_start(s).await).await
    }

    async fn run_task(&mut self, index: usize) -> Result<(), UserError> {
        self.call(Phase::Task(index), async |g, s| g.call_run_task(s, index as u32).await).await
    }

    async fn on_stop(&mut self) -> Result<(), UserError> {
        self.call(Phase::Stop, async |g, s| g.call_on_stop(s).await.map(Ok)).await
    }

    fn stale(&self) -> bool {
        self.current.load(std::sync::atomic::Ordering::Relaxed) != self.generation
    }
}

impl WasmUsers {
    pub fn new(plugin: Arc<Plugin>, run: Arc<RunCtx>, max_memory: usize, seed: Option<u64>, budget: Duration) -> WasmUsers {
        WasmUsers { plugin: std::sync::RwLock::new(plugin), generation: Arc::default(), run, max_memory, seed, budget }
    }

    pub fn current(&self) -> Arc<Plugin> {
        self.plugin.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Makes `new` the plugin of users created from now on; running users
    /// become stale and are replaced after the task they are in. Refused (with
    /// the reason) when its tasks differ from the running plugin's: the run's
    /// task plan and stats are fixed at the start.
    pub fn swap(&self, new: Arc<Plugin>) -> Result<(), String> {
        let old = self.current();
        let names = |p: &Plugin| p.behaviour.tasks.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
        if names(&old) != names(&new) {
            return Err(format!("its tasks ({}) differ from the running plugin's ({}); restart the run to change tasks", names(&new).join(", "), names(&old).join(", ")));
        }
        *self.plugin.write().unwrap_or_else(|e| e.into_inner()) = new;
        self.generation.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}

impl runner::UserFactory for WasmUsers {
    type User = WasmUser;

    async fn create(&self, id: u64) -> Result<WasmUser, String> {
        // The generation first: a swap after this makes the user stale at once.
        let generation = self.generation.load(std::sync::atomic::Ordering::Relaxed);
        let plugin = self.current();
        let mut store = new_store(&plugin.engine, id, self.run.clone(), self.max_memory, self.seed, self.budget);
        let instance = plugin
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| format!("instantiating the plugin: {}", root(&e)))?;
        Ok(WasmUser { store, instance, generation, current: self.generation.clone() })
    }
}
