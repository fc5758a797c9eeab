//! One shared instance of a 0.2.0 plugin and the task that drives it.
//!
//! The instance's store is owned by one tokio task, [`drive`], which runs
//! the store's event loop (`run_concurrent`) and serves [`Command`]s: make a
//! user (the guest's `user` constructor with a new session), call one of its
//! methods, forget it. Calls of different users run concurrently: while one
//! waits for the network, the guest runs another.
//!
//! A trap stops the instance: the call that was running gets the trap, the
//! other calls in flight fail with "its instance trapped", and every user of
//! the instance is replaced by the runner (their handles turn stale).
//!
//! The task budget is the instance's: the epoch ticks at which the guest was
//! found computing since it last came back to the host (a call's end, an
//! `http.send`, a flag). A guest that computes for more than the budget
//! without that is killed, and with it the instance.

use super::bindings::User as Bindings;
use super::users::InstanceLimits;
use crate::imports::{Phase, RunCtx, UserCtx};
use crate::output::GuestOutput;
use crate::user::{trap_message, Limits, TaskKilled};
use futures::stream::{FuturesUnordered, StreamExt};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use wasmtime::component::{Accessor, ResourceAny, ResourceTable};
use wasmtime::{Engine, Store, UpdateDeadline};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasp_runner::user::UserError;

/// Store data of a shared instance.
pub struct InstanceState {
    wasi: WasiCtx,
    /// The users' sessions ([`UserCtx`]) and WASI's resources.
    pub(crate) table: ResourceTable,
    limits: Limits,
    pub(crate) run: Arc<RunCtx>,
    /// Epoch ticks at which the guest was computing since it last came back
    /// to the host (see the module's doc).
    pub(crate) ticks: u32,
    /// Sessions the guest let go of during a call: deleted when it ends.
    pub(crate) released: Vec<u32>,
}

impl InstanceState {
    /// User `id` by its session's handle. A handle the table reused for
    /// another user (after the guest let go of this one's) is not it.
    fn user_of(&mut self, rep: u32, id: u64) -> Option<&mut UserCtx> {
        self.table.get_mut(&session(rep)).ok().filter(|u| u.id == id)
    }
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

pub(crate) fn linker(engine: &Engine) -> wasmtime::Result<wasmtime::component::Linker<InstanceState>> {
    let mut linker = wasmtime::component::Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    Bindings::add_to_linker::<_, InstanceState>(&mut linker, |s| s)?;
    Ok(linker)
}

/// Instantiates the plugin once, away from any run, to ask what it does.
pub(crate) async fn describe(
    engine: &Engine,
    pre: &super::bindings::UserPre<InstanceState>,
) -> Result<super::bindings::exports::wasp::plugin::behaviour::Info, String> {
    let limits = InstanceLimits { max_memory: 64 << 20, budget: Duration::from_secs(10), seed: None };
    let mut store = new_store(engine, 0, Arc::new(RunCtx::detached()), limits);
    let bindings = pre.instantiate_async(&mut store).await.map_err(|e| crate::error::root(&e))?;
    let info = store
        .run_concurrent(async |acc: &Accessor<InstanceState>| bindings.wasp_plugin_behaviour().call_describe(acc).await)
        .await
        .and_then(|r| r)
        .map_err(|e| crate::error::root(&e))?;
    Ok(info)
}

/// The store of shared instance number `index` (its guest output is tagged with it).
pub(crate) fn new_store(engine: &Engine, index: u64, run: Arc<RunCtx>, limits: InstanceLimits) -> Store<InstanceState> {
    let InstanceLimits { max_memory, budget, seed } = limits;
    let mut wasi = WasiCtxBuilder::new();
    let out = |stream| GuestOutput { user: 0, stream, instance: Some(index) };
    wasi.stdout(out("stdout")).stderr(out("stderr"));
    if let Some(seed) = seed {
        // The same in every instance: the SDK mixes in each user's id.
        wasi.secure_random(StdRng::seed_from_u64(seed)).insecure_random(StdRng::seed_from_u64(seed.rotate_left(17)));
        wasi.insecure_random_seed(seed as u128);
    }
    let state = InstanceState { wasi: wasi.build(), table: ResourceTable::new(), limits: Limits::shared(max_memory), run, ticks: 0, released: Vec::new() };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limits);
    store.set_epoch_deadline(1);
    let max_ticks = (budget.as_millis() / crate::engine::EPOCH_TICK.as_millis()).max(1) as u32;
    store.epoch_deadline_callback(move |mut cx| {
        let state = cx.data_mut();
        state.ticks += 1;
        if state.ticks > max_ticks {
            return Err(wasmtime::Error::new(TaskKilled(budget)));
        }
        Ok(UpdateDeadline::YieldCustom(1, Box::pin(tokio::task::yield_now())))
    });
    store
}

/// What a user's handle asks of its instance.
pub(crate) enum Command {
    /// Make user `ctx.id` (its constructor runs on-start's span-less setup).
    Create { ctx: Box<UserCtx>, reply: oneshot::Sender<Result<(), String>> },
    /// One method of user `id`.
    Call { id: u64, phase: Phase, reply: oneshot::Sender<Result<(), UserError>> },
    /// User `id` is gone (ended, replaced, or dropped mid-call).
    Forget { id: u64 },
}

/// The instance as its users' handles see it.
pub(crate) struct Shared {
    pub(crate) tx: mpsc::UnboundedSender<Command>,
    /// Set when the instance stopped (a trap): its users are stale.
    pub(crate) dead: Arc<AtomicBool>,
    /// Users ever placed here.
    pub(crate) placed: AtomicU32,
    pub(crate) index: u64,
}

type CallFuture<'a> = Pin<Box<dyn Future<Output = Done> + Send + 'a>>;

/// A call that returned (or trapped).
enum Done {
    Created { id: u64, guest: wasmtime::Result<ResourceAny>, rep: u32, reply: oneshot::Sender<Result<(), String>> },
    Called { id: u64, result: wasmtime::Result<Result<(), String>> },
}

/// A user as the driver knows it.
struct Entry {
    guest: ResourceAny,
    /// The session's handle in the table.
    rep: u32,
    /// The reply for the call in flight.
    reply: Option<oneshot::Sender<Result<(), UserError>>>,
}

fn session(rep: u32) -> wasmtime::component::Resource<UserCtx> {
    wasmtime::component::Resource::new_borrow(rep)
}

/// Runs the instance until every handle and the factory let go of it, or it traps.
pub(crate) async fn drive(mut store: Store<InstanceState>, bindings: Bindings, mut rx: mpsc::UnboundedReceiver<Command>, dead: Arc<AtomicBool>, index: u64) {
    // (Looked up at every call: foldhash, not SipHash.)
    let mut users: HashMap<u64, Entry, foldhash::fast::RandomState> = HashMap::default();
    let outcome = store
        .run_concurrent(async |acc: &Accessor<InstanceState>| -> Result<(), (Option<u64>, wasmtime::Error)> {
            let behaviour = bindings.wasp_plugin_behaviour();
            let mut calls: FuturesUnordered<CallFuture<'_>> = FuturesUnordered::new();
            loop {
                tokio::select! {
                    Some(done) = calls.next(), if !calls.is_empty() => match done {
                        Done::Created { id, guest, rep, reply } => match guest {
                            Ok(guest) => {
                                users.insert(id, Entry { guest, rep, reply: None });
                                let _ = reply.send(Ok(()));
                            }
                            Err(e) => {
                                let _ = reply.send(Err(format!("creating the user: {}", trap_message(&e))));
                                return Err((None, e));
                            }
                        },
                        Done::Called { id, result } => {
                            acc.with(|mut a| a.get().ticks = 0);
                            let Some(entry) = users.get_mut(&id) else { continue };
                            let reply = entry.reply.take();
                            let trap = match result {
                                Ok(r) => {
                                    let r = r.map_err(|message| UserError { message, fatal: false });
                                    let rep = entry.rep;
                                    acc.with(|mut a| {
                                        let state = a.get();
                                        if let Some(u) = state.user_of(rep, id) {
                                            if !u.gone {
                                                u.end(r.as_ref().err().map(|e| e.message.as_str()));
                                            }
                                        }
                                        if let Some(i) = state.released.iter().position(|r| *r == rep) {
                                            state.released.swap_remove(i);
                                            let _ = state.table.delete(session(rep));
                                        }
                                    });
                                    if let Some(reply) = reply {
                                        let _ = reply.send(r);
                                    }
                                    None
                                }
                                Err(e) => {
                                    let message = trap_message(&e);
                                    if let Some(reply) = reply {
                                        let _ = reply.send(Err(UserError { message, fatal: true }));
                                    }
                                    Some(e)
                                }
                            };
                            if let Some(e) = trap {
                                return Err((Some(id), e));
                            }
                        }
                    },
                    cmd = rx.recv() => match cmd {
                        None => return Ok(()),
                        Some(Command::Create { mut ctx, reply }) => {
                            let id = ctx.id;
                            // The user's host state counts against its instance's memory.
                            ctx.set_ledger(acc.with(|mut a| a.get().limits.ledger.clone()));
                            let own = match acc.with(|mut a| a.get().table.push(*ctx)) {
                                Ok(r) => r,
                                Err(e) => {
                                    let _ = reply.send(Err(format!("creating the user: {e}")));
                                    continue;
                                }
                            };
                            let rep = own.rep();
                            let user = behaviour.user();
                            calls.push(Box::pin(async move {
                                let guest = user.call_constructor(acc, own).await;
                                Done::Created { id, guest, rep, reply }
                            }));
                        }
                        Some(Command::Call { id, phase, reply }) => {
                            let Some(entry) = users.get_mut(&id) else {
                                let _ = reply.send(Err(UserError { message: "no such user in its instance".into(), fatal: true }));
                                continue;
                            };
                            let (guest, rep) = (entry.guest, entry.rep);
                            entry.reply = Some(reply);
                            acc.with(|mut a| {
                                if let Some(u) = a.get().user_of(rep, id) {
                                    u.begin(phase);
                                }
                            });
                            let user = behaviour.user();
                            calls.push(Box::pin(async move {
                                let result = match phase {
                                    Phase::Start => user.call_on_start(acc, guest).await,
                                    Phase::Task(i) => user.call_run_task(acc, guest, i as u32).await,
                                    Phase::Stop | Phase::Idle => user.call_on_stop(acc, guest).await.map(Ok),
                                };
                                Done::Called { id, result }
                            }));
                        }
                        Some(Command::Forget { id }) => {
                            if let Some(entry) = users.remove(&id) {
                                // Counts what it had in flight as interrupted and
                                // ends its spans; the guest's user stays until
                                // the instance ends (or lets go of its session).
                                acc.with(|mut a| {
                                    if let Some(u) = a.get().user_of(entry.rep, id) {
                                        u.leave();
                                    }
                                });
                            }
                        }
                    }
                }
            }
        })
        .await;
    let (culprit, error) = match outcome {
        Ok(Ok(())) => return,
        Ok(Err((culprit, e))) => (culprit, e),
        Err(e) => (None, e),
    };
    dead.store(true, Ordering::Relaxed);
    let message = trap_message(&error);
    let in_flight = users.values().filter(|e| e.reply.is_some()).count();
    tracing::warn!("a shared instance (#{}) stopped: {message}; its {} users start again", index, users.len());
    for (id, entry) in users.iter_mut() {
        if Some(*id) == culprit {
            continue;
        }
        if let Some(reply) = entry.reply.take() {
            let message = match culprit {
                Some(_) => format!("stopped: another user of its instance failed ({message})"),
                // The trap came out of the instance's event loop: it was in
                // one of the calls in flight, which one wasmtime does not say.
                None => format!("{message} (in this user's call or another of its instance's {in_flight})"),
            };
            let _ = reply.send(Err(UserError { message, fatal: true }));
        }
    }
    // The users' states (their pending requests, open spans) end with the store.
    drop(users);
    drop(store);
    // Handles that still send commands get a closed channel: they are stale.
    rx.close();
}
