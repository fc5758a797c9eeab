//! The spike's host: `USERS` users of the guest component, `PER_INSTANCE` of
//! them in each instance, every user running `ROUNDS` tasks. Each task awaits
//! the host's `http.get`, which waits `DELAY_MS` (a stand-in for the network)
//! and counts the call. The users of one instance run their tasks
//! concurrently through the component model's async ABI (`run_concurrent`).
//! Prints the wall time, the RSS, and whether every user did exactly its
//! rounds with its own state.
//!
//! usage: spike-host GUEST.wasm USERS PER_INSTANCE ROUNDS DELAY_MS

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::component::{Accessor, HasData, Linker, ResourceAny, ResourceTable};
use wasmtime::error::Context;
use wasmtime::{ensure, Result};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

wasmtime::component::bindgen!({
    path: "../wit",
    world: "plugin",
    imports: { default: async | store },
    exports: { default: async },
});

struct Ctx {
    wasi: WasiCtx,
    table: ResourceTable,
    requests: Arc<AtomicU64>,
    delay: Duration,
}

impl WasiView for Ctx {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl HasData for Ctx {
    type Data<'a> = &'a mut Ctx;
}

impl wasp::spike::http::Host for Ctx {}

impl<U> wasp::spike::http::HostWithStore<U> for Ctx {
    async fn get(accessor: &Accessor<U, Self>, path: String) -> std::result::Result<u16, String> {
        let (delay, requests) = accessor.with(|mut a| {
            let c: &mut Ctx = a.get();
            (c.delay, c.requests.clone())
        });
        tokio::time::sleep(delay).await;
        requests.fetch_add(1, Ordering::Relaxed);
        if path.starts_with('/') {
            Ok(200)
        } else {
            Err(format!("bad path {path}"))
        }
    }
}

fn rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok()).unwrap_or(0)
}

/// One instance and its users: creates them, runs their rounds concurrently,
/// and gives each user's final count.
async fn instance(
    engine: Engine,
    pre: PluginPre<Ctx>,
    ids: Vec<u64>,
    rounds: u32,
    requests: Arc<AtomicU64>,
    delay: Duration,
    ready: Arc<tokio::sync::Barrier>,
) -> Result<Vec<u64>> {
    let ctx = Ctx { wasi: WasiCtx::builder().build(), table: ResourceTable::new(), requests, delay };
    let mut store = Store::new(&engine, ctx);
    let plugin = pre.instantiate_async(&mut store).await.context("instantiate")?;
    let mut users: Vec<ResourceAny> = Vec::new();
    for &id in &ids {
        users.push(plugin.wasp_spike_behaviour().user().call_constructor(&mut store, id).await.context("constructor")?);
    }
    ready.wait().await;
    let counts = store
        .run_concurrent(async |accessor| -> Result<Vec<u64>> {
            let behaviour = plugin.wasp_spike_behaviour();
            let tasks = users.iter().map(|&u| {
                let user = behaviour.user();
                async move {
                    let mut last = 0;
                    for round in 0..rounds {
                        last = user.call_run_task(accessor, u, round).await?.map_err(wasmtime::Error::msg)?;
                    }
                    wasmtime::Result::<u64>::Ok(last)
                }
            });
            futures::future::try_join_all(tasks).await
        })
        .await??;
    Ok(counts)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    ensure!(args.len() == 6, "usage: spike-host GUEST.wasm USERS PER_INSTANCE ROUNDS DELAY_MS");
    let users: u64 = args[2].parse()?;
    let per: u64 = args[3].parse()?;
    let rounds: u32 = args[4].parse()?;
    let delay = Duration::from_millis(args[5].parse()?);

    let mut config = Config::new();
    config.wasm_component_model_async(true);
    config.max_wasm_stack(256 << 10);
    config.async_stack_size(512 << 10);
    config.memory_reservation(64 << 20);
    config.memory_guard_size(64 << 10);
    config.memory_reservation_for_growth(0);
    let engine = Engine::new(&config)?;
    let component = wasmtime::component::Component::from_file(&engine, &args[1]).context("compile")?;
    let mut linker: Linker<Ctx> = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    Plugin::add_to_linker::<_, Ctx>(&mut linker, |c| c)?;
    let pre = PluginPre::new(linker.instantiate_pre(&component)?)?;

    let rss0 = rss_kib();
    let requests = Arc::new(AtomicU64::new(0));
    let instances = users.div_ceil(per);
    let ready = Arc::new(tokio::sync::Barrier::new(instances as usize + 1));
    let mut set = tokio::task::JoinSet::new();
    for i in 0..instances {
        let ids: Vec<u64> = (i * per + 1..=((i + 1) * per).min(users)).collect();
        set.spawn(instance(engine.clone(), pre.clone(), ids, rounds, requests.clone(), delay, ready.clone()));
    }
    ready.wait().await;
    let rss_users = rss_kib();
    let t0 = Instant::now();
    let mut counts = Vec::new();
    while let Some(r) = set.join_next().await {
        counts.extend(r??);
    }
    let took = t0.elapsed();
    let exact = counts.len() as u64 == users && counts.iter().all(|&c| c == rounds as u64);
    println!(
        "users={users} per_instance={per} instances={instances} rounds={rounds} delay={delay:?} took={took:.2?} \
         requests={} every_user_exact={exact} rss_before_users={rss0}KiB rss_with_users={rss_users}KiB per_user={:.1}KiB",
        requests.load(Ordering::Relaxed),
        (rss_users.saturating_sub(rss0)) as f64 / users as f64
    );
    ensure!(exact, "some user did not do exactly {rounds} tasks");
    Ok(())
}
