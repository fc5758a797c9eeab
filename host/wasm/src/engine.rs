//! The one wasmtime [`Engine`] of a run: component model, async calls,
//! epoch interruption (a thread ticks it), small memory reservations, and the
//! pooling allocator sized for the run's users when the address space allows.

use crate::LoadError;
use std::time::Duration;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// The wasmtime this host was built with.
pub const WASMTIME_VERSION: &str = wasmtime_environ::VERSION;

/// How often the epoch ticks: the granularity of yields and of the task budget.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);
/// Wasm stack for guests; the fiber stack adds room for host calls.
pub const MAX_WASM_STACK: usize = 256 << 10;
const FIBER_STACK: usize = 512 << 10;
/// Data segments from this size on are mapped copy-on-write, not copied.
pub const COW_MIN_DATA: u64 = 256 << 10;

#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Users alive at once the pooling allocator is sized for.
    pub capacity: u32,
    /// Linear memory cap per instance, in bytes: a user's own, or (after
    /// [`EngineOptions::shared`]) that of an instance users share.
    pub max_user_memory: usize,
    /// Per user: core instances, memories and tables the plugin's component
    /// creates, to size the instance pool (a Python component has ~14 core
    /// instances where a Rust one has 3).
    pub per_user: PoolShape,
    /// `capacity` was lowered to what the memory mappings allow: the pool is
    /// sized to exactly that (see [`crate::limits`]).
    pub capped: bool,
    /// Users' memories start as copy-on-write views of the plugin's memory
    /// image rather than copies of it.
    pub cow: bool,
    /// Users per instance (see [`EngineOptions::shared`]).
    pub per_instance: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolShape {
    pub core_instances: u32,
    pub memories: u32,
    pub tables: u32,
    /// The largest memory's initial size, bytes.
    pub initial_memory: u64,
    /// The bytes of its data segments: what each instance's memory starts with.
    pub data_bytes: u64,
}

impl Default for PoolShape {
    fn default() -> Self {
        PoolShape { core_instances: 8, memories: 2, tables: 4, initial_memory: 0, data_bytes: 0 }
    }
}

impl PoolShape {
    /// Counts what a component instantiates and defines (nested modules
    /// included), never below the defaults. Unparsable bytes give the
    /// defaults: loading the plugin reports them properly.
    pub fn of(bytes: &[u8]) -> PoolShape {
        use wasmtime::wasmparser::{Instance, Parser, Payload};
        let (mut modules, mut instantiations, mut memories, mut tables) = (0u32, 0u32, 0u32, 0u32);
        let (mut initial_memory, mut data_bytes) = (0u64, 0u64);
        for payload in Parser::new(0).parse_all(bytes) {
            match payload {
                Ok(Payload::ModuleSection { .. }) => modules += 1,
                Ok(Payload::InstanceSection(r)) => instantiations += r.into_iter().filter(|i| matches!(i, Ok(Instance::Instantiate { .. }))).count() as u32,
                Ok(Payload::MemorySection(r)) => {
                    memories += r.count();
                    for m in r.into_iter().flatten() {
                        let page = 1u64 << m.page_size_log2.unwrap_or(16);
                        initial_memory = initial_memory.max(m.initial.saturating_mul(page));
                    }
                }
                Ok(Payload::TableSection(r)) => tables += r.count(),
                Ok(Payload::DataSection(r)) => data_bytes += r.into_iter().flatten().map(|d| d.data.len() as u64).sum::<u64>(),
                Ok(_) => {}
                Err(_) => return PoolShape::default(),
            }
        }
        let d = PoolShape::default();
        PoolShape {
            core_instances: instantiations.max(modules).max(d.core_instances),
            memories: memories.max(d.memories),
            tables: tables.max(d.tables),
            initial_memory,
            data_bytes,
        }
    }
}

/// The most memory a 32-bit Wasm memory can have, and so an instance.
pub const MAX_INSTANCE_MEMORY: usize = 4 << 30;

/// One instance's memory cap for users sharing instances:
/// `--max-instance-memory` when given, else `per_instance` times
/// `--max-user-memory`; at most 4 GiB.
fn max_instance_memory(max_user_memory: usize, per_instance: u32, asked: Option<usize>) -> usize {
    asked.unwrap_or_else(|| max_user_memory.saturating_mul(per_instance as usize)).min(MAX_INSTANCE_MEMORY)
}

impl EngineOptions {
    /// The options for running the component `bytes` (read by [`read`]): its
    /// contents give the pool's shape.
    /// A plugin whose memory starts larger than `max_user_memory` cannot run
    /// at all: that is the setting's fault, and said so.
    pub fn for_component(bytes: &[u8], capacity: u32, max_user_memory: usize) -> Result<EngineOptions, LoadError> {
        let per_user = PoolShape::of(bytes);
        if per_user.initial_memory > max_user_memory as u64 {
            return Err(LoadError::Engine(format!(
                "--max-user-memory {} is below the {} this plugin's memory starts with",
                crate::user::bytes_text(max_user_memory as u64),
                crate::user::bytes_text(per_user.initial_memory)
            )));
        }
        let cow = per_user.data_bytes >= COW_MIN_DATA;
        Ok(EngineOptions { capacity, max_user_memory, per_user, capped: false, cow, per_instance: 1 })
    }

    /// These options for users sharing instances, `per_instance` in each
    /// (a 0.2 plugin): the pool holds instances, each with the memory of
    /// `per_instance` users (at most 4 GiB, a 32-bit memory's most). An
    /// instance takes no new users once it has had `per_instance`, and ends
    /// with its last: room for twice the instances the users fill.
    /// `instance_memory` is `--max-instance-memory` when given.
    pub fn shared(mut self, per_instance: u32, instance_memory: Option<usize>) -> Result<EngineOptions, LoadError> {
        if per_instance > 1 || instance_memory.is_some() {
            self.capacity = self.capacity.div_ceil(per_instance).saturating_mul(2).saturating_add(2);
            self.per_instance = per_instance;
            self.max_user_memory = max_instance_memory(self.max_user_memory, per_instance, instance_memory);
            if self.per_user.initial_memory > self.max_user_memory as u64 {
                return Err(LoadError::Engine(format!(
                    "--max-instance-memory {} is below the {} this plugin's memory starts with",
                    crate::user::bytes_text(self.max_user_memory as u64),
                    crate::user::bytes_text(self.per_user.initial_memory)
                )));
            }
        }
        Ok(self)
    }

    /// These options with the pool no larger than the process's memory
    /// mappings allow, and the cap when there was one (it is remembered for
    /// the users' errors: [`crate::limits::capped`]). A small memory image is
    /// mapped copy-on-write too when the users fit with the two mappings
    /// more that costs each, and copied when they would not.
    /// A `WASP_MAX_MAP_COUNT` that is not a number of mappings is refused.
    pub fn within_mapping_limit(mut self) -> Result<(EngineOptions, Option<crate::limits::Capped>), LoadError> {
        let limit = crate::limits::MapLimit::read().map_err(LoadError::Engine)?;
        let (Some(limit), Some(in_use)) = (limit, crate::limits::maps_in_use()) else {
            return Ok((self, None));
        };
        if !self.cow && crate::limits::users_that_fit(true, limit, in_use) >= self.capacity as u64 {
            self.cow = true;
        }
        let capped = crate::limits::cap(self.capacity, self.cow, limit, in_use, self.per_instance);
        if let Some(c) = &capped {
            self.capacity = c.fits.max(1);
            self.capped = true;
            crate::limits::set_capped(c.clone());
        }
        crate::cache::copy_images(!self.cow);
        Ok((self, capped))
    }
}

fn config(opts: &EngineOptions, pooling: bool) -> Config {
    let mut c = Config::new();
    c.wasm_component_model(true);
    // 0.2 plugins: async exports and imports, many users per instance.
    c.wasm_component_model_async(true);
    c.epoch_interruption(true);
    c.max_wasm_stack(MAX_WASM_STACK);
    c.async_stack_size(FIBER_STACK);
    // Small reservations: thousands of instances must fit in the address space.
    let reservation = (opts.max_user_memory as u64).next_power_of_two().max(1 << 20);
    c.memory_reservation(reservation);
    c.memory_guard_size(64 << 10);
    c.memory_reservation_for_growth(0);
    // Copy-on-write memory images: a compiled plugin is mapped from its file
    // (the cache's entry, or a private temporary file; see `cache`) and each
    // user's memory starts as a private view of the file's data pages, so a
    // user holds only the pages it writes (measured: Python 12 MiB per user
    // copied, 1.4 MiB with images; JS 3.7 against 0.9; the Rust quickstart
    // 127 KiB against 98, by PSS). A view costs two more mappings per user,
    // and `vm.max_map_count` caps the mappings of a process: a small image
    // is copied when the run's users would not fit otherwise (see
    // `within_mapping_limit`), by loading the component from memory, where
    // it has no file to map (no memfd: this build has wasmtime's `memfd`
    // feature off). The setting is the same either way, and so are the
    // compiled bytes and the cache entry.
    c.memory_init_cow(true);
    if pooling {
        let mut p = PoolingAllocationConfig::new();
        let n = if opts.capped { opts.capacity } else { opts.capacity.max(16) };
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
pub fn engine(opts: &EngineOptions) -> Result<Engine, LoadError> {
    let failed = |e: wasmtime::Error| LoadError::Plugin(format!("cannot start the Wasm engine: {e:#}"));
    let engine = match Engine::new(&config(opts, true)) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!("pooling allocator unavailable ({e:#}); using on-demand allocation");
            Engine::new(&config(opts, false)).map_err(failed)?
        }
    };
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("wasp-epoch".into())
        .spawn(move || loop {
            std::thread::sleep(EPOCH_TICK);
            match weak.upgrade() {
                Some(e) => e.increment_epoch(),
                None => return,
            }
        })
        .map_err(|e| LoadError::Plugin(format!("cannot start the Wasm engine's epoch thread: {e}")))?;
    Ok(engine)
}
