//! Plugins: one wasmtime `Engine` (pooling allocator, epoch interruption),
//! components checked and compiled once into an `InstancePre`, and a
//! [`WasmUser`] per simulated user with its own `Store`.

use crate::behaviour::{Behaviour, Task, Wait};
use crate::bindings::exports::wasp::plugin::behaviour as wit;
use crate::bindings::{User as Bindings, UserPre, BEHAVIOUR_EXPORT, WIT_VERSION};
use crate::error::Fatal;
use crate::imports::{Phase, RunCtx, UserCtx};
use crate::runner::{self, UserError};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, StoreLimits, StoreLimitsBuilder, UpdateDeadline};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// How often the epoch ticks: the granularity of yields and of the task budget.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);
/// Wasm stack for guests; the fiber stack adds room for host calls.
const MAX_WASM_STACK: usize = 256 << 10;
const FIBER_STACK: usize = 512 << 10;

#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Users alive at once the pooling allocator is sized for.
    pub capacity: u32,
    /// Linear memory cap per user, in bytes.
    pub max_user_memory: usize,
    /// Per user: core instances, memories and tables the plugin's component
    /// creates, to size the instance pool (a Python component has ~14 core
    /// instances where a Rust one has 3).
    pub per_user: PoolShape,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolShape {
    pub core_instances: u32,
    pub memories: u32,
    pub tables: u32,
}

impl Default for PoolShape {
    fn default() -> Self {
        PoolShape { core_instances: 8, memories: 2, tables: 4 }
    }
}

impl PoolShape {
    /// Counts what a component instantiates and defines (nested modules
    /// included), never below the defaults. Unparsable bytes give the
    /// defaults: loading the plugin reports them properly.
    pub fn of(bytes: &[u8]) -> PoolShape {
        use wasmparser::{Instance, Parser, Payload};
        let (mut modules, mut instantiations, mut memories, mut tables) = (0u32, 0u32, 0u32, 0u32);
        for payload in Parser::new(0).parse_all(bytes) {
            match payload {
                Ok(Payload::ModuleSection { .. }) => modules += 1,
                Ok(Payload::InstanceSection(r)) => {
                    instantiations += r.into_iter().filter(|i| matches!(i, Ok(Instance::Instantiate { .. }))).count() as u32
                }
                Ok(Payload::MemorySection(r)) => memories += r.count(),
                Ok(Payload::TableSection(r)) => tables += r.count(),
                Ok(_) => {}
                Err(_) => return PoolShape::default(),
            }
        }
        let d = PoolShape::default();
        PoolShape {
            core_instances: instantiations.max(modules).max(d.core_instances),
            memories: memories.max(d.memories),
            tables: tables.max(d.tables),
        }
    }
}

impl EngineOptions {
    /// The options for running the component `bytes` (read by [`read`]): its
    /// contents give the pool's shape.
    pub fn for_component(bytes: &[u8], capacity: u32, max_user_memory: usize) -> EngineOptions {
        EngineOptions { capacity, max_user_memory, per_user: PoolShape::of(bytes) }
    }
}

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

fn config(opts: &EngineOptions, pooling: bool) -> Config {
    let mut c = Config::new();
    c.wasm_component_model(true);
    c.epoch_interruption(true);
    c.max_wasm_stack(MAX_WASM_STACK);
    c.async_stack_size(FIBER_STACK);
    // Small reservations: thousands of instances must fit in the address space.
    let reservation = (opts.max_user_memory as u64).next_power_of_two().max(1 << 20);
    c.memory_reservation(reservation);
    c.memory_guard_size(64 << 10);
    c.memory_reservation_for_growth(0);
    // Copy data segments in at instantiation rather than map a copy-on-write
    // image: one mapping fewer per user (vm.max_map_count caps them). For the
    // megabyte images of Python/JS plugins, wasmtime's memfd image failed now
    // and then with EBUSY when sealing it (seen once in five CI runs).
    c.memory_init_cow(false);
    if pooling {
        let mut p = PoolingAllocationConfig::new();
        let n = opts.capacity.max(16);
        p.total_component_instances(n);
        let shape = opts.per_user;
        p.total_core_instances(n.saturating_mul(shape.core_instances));
        p.total_memories(n.saturating_mul(shape.memories));
        p.total_tables(n.saturating_mul(shape.tables));
        p.total_stacks(n);
        p.max_memory_size(reservation as usize);
        c.allocation_strategy(InstanceAllocationStrategy::Pooling(p));
    }
    c
}

/// The engine, and a thread that ticks its epoch. With the pooling allocator
/// when the address space allows, else the on-demand one.
pub fn engine(opts: &EngineOptions) -> wasmtime::Result<Engine> {
    let engine = match Engine::new(&config(opts, true)) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!("pooling allocator unavailable ({e:#}); using on-demand allocation");
            Engine::new(&config(opts, false))?
        }
    };
    let weak = engine.weak();
    std::thread::Builder::new().name("wasp-epoch".into()).spawn(move || loop {
        std::thread::sleep(EPOCH_TICK);
        match weak.upgrade() {
            Some(e) => e.increment_epoch(),
            None => return,
        }
    })?;
    Ok(engine)
}

/// A checked, compiled plugin, ready to instantiate.
pub struct Plugin {
    pub path: PathBuf,
    pub engine: Engine,
    pub pre: UserPre<UserState>,
    pub behaviour: Behaviour,
    /// SHA-256 of the component's bytes, hex.
    pub sha256: String,
    /// What the compiled-plugin cache did, and the time to compile (or load).
    pub cache: crate::cache::Outcome,
    pub compile_time: Duration,
    pub size: usize,
    /// The interfaces the component imports.
    pub imports: Vec<String>,
}

fn linker(engine: &Engine) -> wasmtime::Result<Linker<UserState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    Bindings::add_to_linker::<_, HasSelf<UserCtx>>(&mut linker, |s: &mut UserState| &mut s.user)?;
    Ok(linker)
}

fn root(e: &wasmtime::Error) -> String {
    e.root_cause().to_string().replace('\n', " ")
}

/// Reads a plugin file, refusing anything that is not a WebAssembly component
/// with a one-line reason.
pub fn read(path: &Path) -> Result<Vec<u8>, Fatal> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Fatal::plugin(format!("plugin not found: {shown}")),
        _ => Fatal::plugin(format!("cannot read plugin {shown}: {e}")),
    })?;
    if bytes.is_empty() {
        return Err(Fatal::plugin(format!("{shown} is empty, not a WebAssembly component")));
    }
    if !bytes.starts_with(b"\0asm") || bytes.len() < 8 {
        return Err(Fatal::plugin(format!("{shown} is not a WebAssembly file (no \\0asm header)")));
    }
    // Bytes 4..8: version and layer. Core modules are 1,0 / 0,0; components have layer 1.
    if bytes[6..8] == [0, 0] {
        return Err(Fatal::plugin(format!(
            "{shown} is a core WebAssembly module, not a component: build it for wasm32-wasip2 (or wrap it with `wasm-tools component new`)"
        )));
    }
    Ok(bytes)
}

/// Compiles the component `bytes` (read from `path` by [`read`]), refusing
/// anything that is not a `wasp:plugin@0.1.0` user with a one-line reason.
pub fn compile(engine: &Engine, path: &Path, bytes: &[u8]) -> Result<Compiled, Fatal> {
    let shown = path.display();
    let sha256 = sha256_hex(bytes);
    let t0 = std::time::Instant::now();
    let (component, cache) = crate::cache::load(engine, bytes, &sha256, |b| Component::new(engine, b))
        .map_err(|e| Fatal::plugin(format!("{shown} is not a valid component: {}", root(&e))))?;
    let compile_time = t0.elapsed();
    check_world(engine, &component).map_err(|m| Fatal::plugin(format!("{shown}: {m}")))?;
    Ok(Compiled { component, sha256, cache, compile_time, size: bytes.len() })
}

/// A component compiled (or taken from the cache) and checked.
pub struct Compiled {
    pub component: Component,
    pub sha256: String,
    pub cache: crate::cache::Outcome,
    /// Time to compile or to load from the cache.
    pub compile_time: Duration,
    /// Size of the .wasm file, bytes.
    pub size: usize,
}

/// The wasmtime this host was built with.
pub const WASMTIME_VERSION: &str = env!("WASP_WASMTIME_VERSION");

/// The plugin's identity in reports: SHA-256 of its bytes, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks the component's exports name our world and version.
fn check_world(engine: &Engine, component: &Component) -> Result<(), String> {
    let ty = component.component_type();
    let exports: Vec<String> = ty.exports(engine).map(|(n, _)| n.to_string()).collect();
    let ours = exports.iter().find(|n| n.split('@').next() == Some(BEHAVIOUR_EXPORT));
    match ours {
        None => Err(format!(
            "not a wasp plugin: it does not export {BEHAVIOUR_EXPORT} (exports: {})",
            if exports.is_empty() { "none".to_string() } else { exports.join(", ") }
        )),
        Some(name) => {
            let version = name.split('@').nth(1).unwrap_or("none");
            if version != WIT_VERSION {
                Err(format!(
                    "built for wasp:plugin@{version}, but this host supports wasp:plugin@{WIT_VERSION} only"
                ))
            } else {
                Ok(())
            }
        }
    }
}

impl Plugin {
    /// Reads, loads, links and describes a plugin. Every failure is one line, exit code 3.
    pub async fn load(engine: &Engine, path: &Path) -> Result<Plugin, Fatal> {
        Self::from_bytes(engine, path, &read(path)?).await
    }

    /// As [`Plugin::load`], for bytes already read from `path` by [`read`].
    pub async fn from_bytes(engine: &Engine, path: &Path, bytes: &[u8]) -> Result<Plugin, Fatal> {
        let shown = path.display().to_string();
        let Compiled { component, sha256, cache, compile_time, size } = compile(engine, path, bytes)?;
        let imports = component.component_type().imports(engine).map(|(n, _)| n.to_string()).collect();
        let linker = linker(engine).map_err(|e| Fatal::plugin(format!("host linker: {e:#}")))?;
        let instance_pre = linker
            .instantiate_pre(&component)
            .map_err(|e| Fatal::plugin(format!("{shown} needs an import this host does not provide: {}", root(&e))))?;
        let pre = UserPre::new(instance_pre)
            .map_err(|e| Fatal::plugin(format!("{shown} does not match wasp:plugin@{WIT_VERSION}: {}", root(&e))))?;
        let behaviour = describe(engine, &pre)
            .await
            .map_err(|e| Fatal::plugin(format!("{shown}: describe failed: {e}")))?;
        tracing::info!("plugin {shown}: ready in {} ms (compiled-plugin cache: {})", compile_time.as_millis(), cache.as_str());
        Ok(Plugin { path: path.to_path_buf(), engine: engine.clone(), pre, behaviour, sha256, cache, compile_time, size, imports })
    }
}

/// Instantiates the plugin once, away from any run, to ask what it does.
async fn describe(engine: &Engine, pre: &UserPre<UserState>) -> Result<Behaviour, String> {
    let run = Arc::new(RunCtx::detached());
    let mut store = new_store(engine, 0, run, 64 << 20, None, Duration::from_secs(10));
    let instance = pre.instantiate_async(&mut store).await.map_err(|e| root(&e))?;
    let info = instance.wasp_plugin_behaviour().call_describe(&mut store).await.map_err(|e| root(&e))?;
    behaviour_from(info)
}

fn ms(v: u32) -> Duration {
    Duration::from_millis(v as u64)
}

/// Converts and checks what `describe` returned.
pub fn behaviour_from(info: wit::Info) -> Result<Behaviour, String> {
    if info.tasks.is_empty() {
        return Err("the plugin declares no task".into());
    }
    if info.tasks.iter().all(|t| t.weight == 0) {
        return Err("every task has weight 0".into());
    }
    let wait = match info.wait {
        wit::Wait::None => Wait::None,
        wit::Wait::Constant(c) => Wait::Constant(ms(c)),
        wit::Wait::Between((lo, hi)) if lo <= hi => Wait::Between(ms(lo), ms(hi)),
        wit::Wait::Between((lo, hi)) => return Err(format!("wait between({lo}, {hi}): min is over max")),
        wit::Wait::Pacing(p) => Wait::Pacing(ms(p)),
    };
    let tasks = info.tasks.into_iter().map(|t| Task { name: t.name, weight: t.weight, tags: t.tags }).collect();
    Ok(Behaviour { name: info.name, tasks, wait })
}

fn new_store(
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
