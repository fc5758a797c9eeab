//! A simulated user made of Wasm: one wasmtime `Store` with its own limits,
//! WASI context and host state, instantiated from the plugin's pre-linked
//! component, driven by the runner through [`wasp_runner::User`].

use crate::bindings::exports::wasp::plugin::behaviour as wit;
use crate::bindings::User as Bindings;
use crate::budget::{Metered, OverBudget};
use crate::component::{Plugin, Pre};
use crate::error::root;
use crate::imports::baggage::TooMuchBaggage;
use crate::imports::telemetry::TooMuchTelemetry;
use crate::imports::{Phase, RunCtx, UserCtx};
use crate::ledger::Ledger;
pub use crate::ledger::MemoryLimit;
use crate::output::GuestOutput;
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{Engine, Store, StoreLimits, StoreLimitsBuilder, UpdateDeadline};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasp_runner::user::{self as runner, UserError};

/// Store data of one user.
pub struct UserState {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: Limits,
    pub user: UserCtx,
}

/// The memory cap of a user's own instance (`--max-user-memory`) or of a
/// shared one (`--max-instance-memory`): wasmtime's store limits, and the
/// store's [`Ledger`], where guest memory and what the host holds for the
/// guest count together. The trap says which limit it was.
pub(crate) struct Limits {
    inner: StoreLimits,
    pub ledger: Arc<Ledger>,
}

impl Limits {
    /// A user's own instance.
    pub(crate) fn new(max_memory: usize) -> Limits {
        Limits::named(max_memory, "--max-user-memory")
    }

    /// An instance users share.
    pub(crate) fn shared(max_memory: usize) -> Limits {
        Limits::named(max_memory, "--max-instance-memory")
    }

    fn named(max_memory: usize, option: &'static str) -> Limits {
        Limits { inner: StoreLimitsBuilder::new().memory_size(max_memory).build(), ledger: Arc::new(Ledger::new(max_memory, option)) }
    }
}

/// `16 MiB`, `64 KiB`.
pub(crate) fn bytes_text(b: u64) -> String {
    if b >= 1 << 20 && b % (1 << 20) == 0 {
        format!("{} MiB", b >> 20)
    } else if b >= 1 << 20 {
        format!("{:.1} MiB", b as f64 / (1 << 20) as f64)
    } else {
        format!("{} KiB", b.div_ceil(1024))
    }
}

impl wasmtime::ResourceLimiter for Limits {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        if !self.inner.memory_growing(current, desired, maximum)? {
            return Err(wasmtime::Error::new(self.ledger.exceeded()));
        }
        self.ledger.grow(current, desired).map(|()| true).map_err(wasmtime::Error::new)
    }

    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
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
    scenario: usize,
    run: Arc<RunCtx>,
    max_memory: usize,
    seed: Option<u64>,
    budget: Duration,
) -> Store<UserState> {
    let mut wasi = WasiCtxBuilder::new();
    // Guest prints become lines of wasp's (non-blocking) log, never a
    // blocking write, and never part of the summary on stdout.
    wasi.stdout(GuestOutput { user: id, stream: "stdout", instance: None }).stderr(GuestOutput { user: id, stream: "stderr", instance: None });
    if let Some(seed) = seed {
        let s = seed ^ id.wrapping_mul(0xA24B_AED4_963E_E407);
        wasi.secure_random(StdRng::seed_from_u64(s)).insecure_random(StdRng::seed_from_u64(s.rotate_left(17)));
        wasi.insecure_random_seed(s as u128);
    }
    let limits = Limits::new(max_memory);
    let mut user = UserCtx::new(id, scenario, run);
    user.set_ledger(limits.ledger.clone());
    let state = UserState { wasi: wasi.build(), table: ResourceTable::new(), limits, user };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limits);
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |cx| {
        if cx.data().user.busy() > budget {
            return Err(wasmtime::Error::new(TaskKilled(budget)));
        }
        cx.data().user.meter.yielding();
        Ok(UpdateDeadline::YieldCustom(1, Box::pin(tokio::task::yield_now())))
    });
    store
}

/// The error a guest gets when it runs past its budget of guest time.
#[derive(Debug)]
pub struct TaskKilled(pub Duration);

impl std::fmt::Display for TaskKilled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "killed: used more than {:?} of guest time (--task-budget)", self.0)
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
    /// One shared instance's memory cap (0.2 plugins).
    pub instance_memory: usize,
    pub seed: Option<u64>,
    pub budget: Duration,
    /// Users per shared instance, for 0.2 plugins (`--users-per-instance`).
    pub per_instance: u32,
    /// The shared instances of the current generation (0.2 plugins).
    placement: std::sync::RwLock<Arc<crate::shared::users::Placement>>,
}

/// One simulated user: an instance of its own (0.1 plugins) or a user of a
/// shared instance (0.2 plugins).
pub enum WasmUser {
    Own(OwnUser),
    Shared(SharedUser),
}

/// A user of a shared instance, with the generation of its plugin.
pub struct SharedUser {
    inner: crate::shared::SharedUser,
    generation: u64,
    current: Arc<std::sync::atomic::AtomicU64>,
}

pub struct OwnUser {
    store: Store<UserState>,
    instance: Bindings,
    generation: u64,
    current: Arc<std::sync::atomic::AtomicU64>,
    budget: Duration,
}

/// Turns a trap into the one line counted in the stats, saying which limit
/// or fault it was.
pub(crate) fn trap_message(e: &wasmtime::Error) -> String {
    if let Some(k) = e.downcast_ref::<TaskKilled>() {
        return k.to_string();
    }
    if let Some(m) = e.downcast_ref::<MemoryLimit>() {
        return format!("trap: {m}");
    }
    if let Some(b) = e.downcast_ref::<TooMuchBaggage>() {
        return format!("trap: {b}");
    }
    if let Some(t) = e.downcast_ref::<TooMuchTelemetry>() {
        return format!("trap: {t}");
    }
    match e.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::StackOverflow) => {
            format!("trap: stack overflow (the guest's call stack passed {})", bytes_text(crate::engine::MAX_WASM_STACK as u64))
        }
        Some(wasmtime::Trap::MemoryOutOfBounds) => {
            "trap: out of bounds memory access (in a Rust or C guest, often its stack overflowing: deep recursion)".into()
        }
        Some(t) => format!("trap: {t}"),
        None => format!("trap: {}", root(e)),
    }
}

impl OwnUser {
    /// One export call: its span, its budget, its responses counted at the end.
    async fn call(
        &mut self,
        phase: Phase,
        f: impl AsyncFnOnce(&wit::Guest, &mut Store<UserState>) -> wasmtime::Result<Result<(), String>>,
    ) -> Result<(), UserError> {
        self.store.data_mut().user.begin(phase);
        let meter = self.store.data().user.meter.clone();
        let call = f(self.instance.wasp_plugin_behaviour(), &mut self.store);
        let r = match Metered::new(call, meter, self.budget).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(message))) => Err(UserError { message, fatal: false }),
            Ok(Err(e)) => Err(UserError { message: trap_message(&e), fatal: true }),
            Err(OverBudget) => Err(UserError { message: TaskKilled(self.budget).to_string(), fatal: true }),
        };
        self.store.data_mut().user.end(r.as_ref().err().map(|e| e.message.as_str()));
        r
    }
}

impl WasmUser {
    async fn call(&mut self, phase: Phase) -> Result<(), UserError> {
        match self {
            WasmUser::Own(u) => match phase {
                Phase::Start => u.call(phase, async |g, s| g.call_on_start(s).await).await,
                Phase::Task(i) => u.call(phase, async |g, s| g.call_run_task(s, i as u32).await).await,
                Phase::Stop | Phase::Idle => u.call(Phase::Stop, async |g, s| g.call_on_stop(s).await.map(Ok)).await,
            },
            WasmUser::Shared(u) => u.inner.call(phase).await,
        }
    }
}

impl runner::User for WasmUser {
    async fn on_start(&mut self) -> Result<(), UserError> {
        self.call(Phase::Start).await
    }

    async fn run_task(&mut self, index: usize) -> Result<(), UserError> {
        self.call(Phase::Task(index)).await
    }

    async fn on_stop(&mut self) -> Result<(), UserError> {
        self.call(Phase::Stop).await
    }

    fn stale(&self) -> bool {
        let (generation, current) = match self {
            WasmUser::Own(u) => (u.generation, &u.current),
            WasmUser::Shared(u) => {
                if u.inner.stopped() {
                    return true;
                }
                (u.generation, &u.current)
            }
        };
        current.load(std::sync::atomic::Ordering::Relaxed) != generation
    }
}

impl WasmUsers {
    /// `per_instance` users share an instance of a 0.2 plugin; `max_memory`
    /// caps a user's own instance, `instance_memory` a shared one (see
    /// [`crate::engine::max_instance_memory`]).
    pub fn new(plugin: Arc<Plugin>, run: Arc<RunCtx>, memory: (usize, usize), seed: Option<u64>, budget: Duration, per_instance: u32) -> WasmUsers {
        let placement = std::sync::RwLock::new(Arc::new(crate::shared::users::Placement::new(per_instance)));
        let (max_memory, instance_memory) = memory;
        WasmUsers {
            plugin: std::sync::RwLock::new(plugin),
            generation: Arc::default(),
            run,
            max_memory,
            instance_memory,
            seed,
            budget,
            per_instance,
            placement,
        }
    }

    /// Once the run's users are gone: waits (up to `limit`) for the shared
    /// instances to count what their users left behind.
    pub async fn settle(&self, limit: Duration) {
        let placement = self.placement.read().unwrap_or_else(|e| e.into_inner()).clone();
        placement.settle(limit).await;
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
            return Err(format!(
                "its tasks ({}) differ from the running plugin's ({}); restart the run to change tasks",
                names(&new).join(", "),
                names(&old).join(", ")
            ));
        }
        *self.plugin.write().unwrap_or_else(|e| e.into_inner()) = new;
        // Users of the new plugin go to instances of it.
        *self.placement.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(crate::shared::users::Placement::new(self.per_instance));
        self.generation.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}

impl runner::UserFactory for WasmUsers {
    type User = WasmUser;

    async fn create(&self, spec: runner::UserSpec) -> Result<WasmUser, String> {
        let id = spec.id;
        // The generation first: a swap after this makes the user stale at once.
        let generation = self.generation.load(std::sync::atomic::Ordering::Relaxed);
        let plugin = self.current();
        let pre = match &plugin.pre {
            Pre::V1(pre) => pre,
            Pre::V2(pre) => {
                let placement = self.placement.read().unwrap_or_else(|e| e.into_inner()).clone();
                let ctx = UserCtx::new(id, spec.scenario, self.run.clone());
                let limits = crate::shared::users::InstanceLimits { max_memory: self.instance_memory, budget: self.budget, seed: self.seed };
                let shared = placement.place(pre, &plugin.engine, ctx, &self.run, limits).await?;
                let inner = crate::shared::SharedUser::new(id, shared);
                return Ok(WasmUser::Shared(SharedUser { inner, generation, current: self.generation.clone() }));
            }
        };
        let mut store = new_store(&plugin.engine, id, spec.scenario, self.run.clone(), self.max_memory, self.seed, self.budget);
        let instance = pre.instantiate_async(&mut store).await.map_err(|e| crate::limits::instantiate_error(&e))?;
        Ok(WasmUser::Own(OwnUser { store, instance, generation, current: self.generation.clone(), budget: self.budget }))
    }
}
