//! `--task-budget`: how much guest time one export call may use, measured so
//! that it means what it says.
//!
//! Guest time is the time the call spends being polled (the guest running,
//! with the host code it calls synchronously) plus the time it is parked in
//! WASI (a sleep, a poll on a WASI stream). It leaves out the time the call
//! waits in wasp's own imports (the network, flag evaluations) and the time it
//! is ready but waiting for a thread.
//!
//! A starved machine slows a task down; it does not make it guilty. Polls are
//! timed by the wall clock at first, because that clock is cheap (tens of ns)
//! and the thread's CPU clock is a system call (~0.5 µs). A wall-clock poll
//! also counts the time the OS kept its thread off the CPU. So once a call
//! has spent a quarter of its budget in polls by the wall clock, every later
//! poll is timed by the thread's CPU clock instead. The wall-clock part then
//! counts at most that quarter. A trivial task on a starved machine therefore
//! never reaches its budget, and a guest that really computes is stopped
//! after at most its budget.
//!
//! Two things enforce the budget:
//! - the epoch callback, while the guest computes: every tick, the guest
//!   yields (the wait for its next poll is not counted), and past the budget
//!   it is killed;
//! - [`Metered`], while the guest is parked in WASI: a timer for what is left
//!   of the budget.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
// Tokio's clock: the same as std's, and one a test can pause.
use tokio::time::Instant;

/// The calling thread's CPU time (user and system), ns; `None` where the
/// platform has no such clock.
#[cfg(unix)]
pub fn thread_cpu_ns() -> Option<u64> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; the call only writes it.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (r == 0).then(|| ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

#[cfg(not(unix))]
pub fn thread_cpu_ns() -> Option<u64> {
    None
}

/// What the current export call has used. Shared by the store's data (the
/// epoch callback, the imports) and the call's future. All of these run on the
/// thread that polls the call, one at a time.
#[derive(Debug)]
pub struct Meter {
    origin: Instant,
    /// Polls timed by the wall clock, ns.
    wall_ns: AtomicU64,
    /// Polls timed by the thread's CPU clock, ns.
    cpu_ns: AtomicU64,
    /// Time parked in WASI, ns.
    parked_ns: AtomicU64,
    /// The current poll's start by the wall clock (ns since `origin`, +1);
    /// 0: no poll, or one timed by the CPU clock.
    poll_wall: AtomicU64,
    /// The current poll's start by the thread's CPU clock (ns, +1); 0: no
    /// poll, or one timed by the wall clock.
    poll_cpu: AtomicU64,
    /// Wall-clock poll time after which polls are timed by the CPU clock.
    wall_cap_ns: AtomicU64,
    /// A wasp import is waiting (network, flags): that wait is not guest time.
    in_host: AtomicBool,
    /// The guest yielded at an epoch tick: until it is polled again it waits
    /// for a thread, which is not guest time either.
    yielded: AtomicBool,
}

impl Default for Meter {
    fn default() -> Self {
        Meter {
            origin: Instant::now(),
            wall_ns: AtomicU64::new(0),
            cpu_ns: AtomicU64::new(0),
            parked_ns: AtomicU64::new(0),
            poll_wall: AtomicU64::new(0),
            poll_cpu: AtomicU64::new(0),
            wall_cap_ns: AtomicU64::new(u64::MAX),
            in_host: AtomicBool::new(false),
            yielded: AtomicBool::new(false),
        }
    }
}

impl Meter {
    fn now_ns(&self) -> u64 {
        self.origin.elapsed().as_nanos() as u64
    }

    /// Starts a new export call.
    pub fn reset(&self) {
        for a in [&self.wall_ns, &self.cpu_ns, &self.parked_ns, &self.poll_wall, &self.poll_cpu] {
            a.store(0, Ordering::Relaxed);
        }
        self.in_host.store(false, Ordering::Relaxed);
        self.yielded.store(false, Ordering::Relaxed);
    }

    /// Marks a yield at an epoch tick (the epoch callback's): the wait for
    /// the next poll is the scheduler's, not the guest's.
    pub fn yielding(&self) {
        self.yielded.store(true, Ordering::Relaxed);
    }

    /// Times polls by the thread's CPU clock after `cap` of wall-clock poll
    /// time (a quarter of the budget, set by [`Metered::new`]).
    fn set_wall_cap(&self, cap: Duration) {
        self.wall_cap_ns.store(cap.as_nanos().min(u64::MAX as u128) as u64, Ordering::Relaxed);
    }

    /// Guest time of the current call so far. Called within a poll (the
    /// epoch callback), it includes that poll so far, and moves the poll to
    /// the CPU clock when the wall-clock part has reached its cap.
    pub fn used(&self) -> Duration {
        let cap = self.wall_cap_ns.load(Ordering::Relaxed);
        let mut wall = self.wall_ns.load(Ordering::Relaxed);
        let since = self.poll_wall.load(Ordering::Relaxed);
        if since > 0 {
            let now = self.now_ns();
            wall += now.saturating_sub(since - 1);
            if wall >= cap {
                if let Some(cpu) = thread_cpu_ns() {
                    self.wall_ns.store(wall, Ordering::Relaxed);
                    self.poll_wall.store(0, Ordering::Relaxed);
                    self.poll_cpu.store(cpu + 1, Ordering::Relaxed);
                }
            }
        }
        let mut cpu = self.cpu_ns.load(Ordering::Relaxed);
        let since = self.poll_cpu.load(Ordering::Relaxed);
        if since > 0 {
            cpu += thread_cpu_ns().unwrap_or(since - 1).saturating_sub(since - 1);
        }
        Duration::from_nanos(wall.min(cap).saturating_add(cpu).saturating_add(self.parked_ns.load(Ordering::Relaxed)))
    }

    /// Marks a wait in a wasp import (the network, a flag): not guest time.
    pub fn host_wait(&self) -> HostWait<'_> {
        self.in_host.store(true, Ordering::Relaxed);
        HostWait(self)
    }

    /// A poll begins: by the wall clock until the cap, then by the CPU clock.
    fn poll_begins(&self) {
        let cpu = (self.wall_ns.load(Ordering::Relaxed) >= self.wall_cap_ns.load(Ordering::Relaxed)).then(thread_cpu_ns).flatten();
        match cpu {
            Some(c) => self.poll_cpu.store(c + 1, Ordering::Relaxed),
            None => self.poll_wall.store(self.now_ns() + 1, Ordering::Relaxed),
        }
    }

    /// The poll ends: its time is added to its clock's part.
    fn poll_ends(&self) {
        let since = self.poll_wall.swap(0, Ordering::Relaxed);
        if since > 0 {
            self.wall_ns.fetch_add(self.now_ns().saturating_sub(since - 1), Ordering::Relaxed);
        }
        let since = self.poll_cpu.swap(0, Ordering::Relaxed);
        if since > 0 {
            let now = thread_cpu_ns().unwrap_or(since - 1);
            self.cpu_ns.fetch_add(now.saturating_sub(since - 1), Ordering::Relaxed);
        }
    }

    fn parked_for(&self, d: Duration) {
        self.parked_ns.fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
    }
}

/// Ends a host wait when dropped.
pub struct HostWait<'a>(&'a Meter);

impl Drop for HostWait<'_> {
    fn drop(&mut self) {
        self.0.in_host.store(false, Ordering::Relaxed);
    }
}

/// An export call whose guest time is metered, and which is cut at the
/// budget while parked in WASI.
pub struct Metered<F> {
    inner: Pin<Box<F>>,
    meter: Arc<Meter>,
    budget: Duration,
    /// When the call last parked in WASI.
    parked: Option<Instant>,
    watchdog: Option<Pin<Box<tokio::time::Sleep>>>,
}

/// The call ran out of budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverBudget;

impl<F> Metered<F> {
    pub fn new(inner: F, meter: Arc<Meter>, budget: Duration) -> Self {
        meter.set_wall_cap(budget / 4);
        Metered { inner: Box::pin(inner), meter, budget, parked: None, watchdog: None }
    }
}

impl<F: Future> Future for Metered<F> {
    type Output = Result<F::Output, OverBudget>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let Some(at) = this.parked.take() {
            this.meter.parked_for(at.elapsed());
        }
        this.meter.poll_begins();
        let r = this.inner.as_mut().poll(cx);
        this.meter.poll_ends();
        match r {
            Poll::Ready(v) => Poll::Ready(Ok(v)),
            Poll::Pending if this.meter.in_host.load(Ordering::Relaxed) | this.meter.yielded.swap(false, Ordering::Relaxed) => {
                this.watchdog = None;
                Poll::Pending
            }
            Poll::Pending => {
                // Parked in WASI: a timer for what is left of the budget.
                let left = this.budget.saturating_sub(this.meter.used());
                if left.is_zero() {
                    return Poll::Ready(Err(OverBudget));
                }
                this.parked = Some(Instant::now());
                let mut timer = Box::pin(tokio::time::sleep(left));
                if timer.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Err(OverBudget));
                }
                this.watchdog = Some(timer);
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A call that waits in a host import, computes a little, then parks (a
    /// WASI sleep) for `park`.
    async fn guest(meter: Arc<Meter>, host: Duration, park: Duration) {
        {
            let _w = meter.host_wait();
            tokio::time::sleep(host).await;
        }
        tokio::time::sleep(park).await;
    }

    #[tokio::test(start_paused = true)]
    async fn host_waits_are_free_and_wasi_parks_are_cut_at_the_budget() {
        let meter = Arc::new(Meter::default());
        let budget = Duration::from_secs(1);
        let call = Metered::new(guest(meter.clone(), Duration::from_secs(30), Duration::from_millis(500)), meter.clone(), budget);
        assert_eq!(call.await, Ok(()), "30 s on the network and 0.5 s asleep fit a 1 s budget");
        let used = meter.used();
        assert!(used >= Duration::from_millis(500) && used < Duration::from_millis(600), "{used:?}");

        meter.reset();
        let t0 = tokio::time::Instant::now();
        let call = Metered::new(guest(meter.clone(), Duration::ZERO, Duration::from_secs(3600)), meter.clone(), budget);
        assert_eq!(call.await, Err(OverBudget), "an hour's sleep is cut");
        assert!(t0.elapsed() <= Duration::from_millis(1001), "cut at the budget: {:?}", t0.elapsed());
    }

    /// A poll that computes until its thread has used `cpu`, then waits `off`
    /// without using the CPU, as when the OS gives its core to others.
    struct Poll1 {
        cpu: Duration,
        off: Duration,
    }

    impl Future for Poll1 {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            let start = thread_cpu_ns().unwrap();
            while thread_cpu_ns().unwrap() - start < self.cpu.as_nanos() as u64 {
                std::hint::black_box(0u64);
            }
            std::thread::sleep(self.off);
            Poll::Ready(())
        }
    }

    async fn polls(meter: &Meter, n: usize, cpu: Duration, off: Duration) {
        for _ in 0..n {
            meter.poll_begins();
            Poll1 { cpu, off }.await;
            meter.poll_ends();
        }
    }

    #[tokio::test]
    async fn time_off_the_cpu_counts_at_most_a_quarter_of_the_budget() {
        let meter = Meter::default();
        meter.set_wall_cap(Duration::from_millis(20));
        // Ten polls that compute 1 ms each but are kept off the CPU 30 ms each.
        polls(&meter, 10, Duration::from_millis(1), Duration::from_millis(30)).await;
        let used = meter.used();
        // By the wall clock: 310 ms. The first poll passes the 20 ms cap, and
        // counts as 20 ms; the nine after it are timed by the CPU clock (1 ms
        // each, a little more for the clock calls).
        assert!(used >= Duration::from_millis(29) && used < Duration::from_millis(40), "{used:?}");
    }

    #[tokio::test]
    async fn a_computing_guest_is_timed_in_full() {
        let meter = Meter::default();
        meter.set_wall_cap(Duration::from_millis(10));
        polls(&meter, 8, Duration::from_millis(10), Duration::ZERO).await;
        let used = meter.used();
        assert!(used >= Duration::from_millis(80), "80 ms computed, {used:?} counted");
    }

    #[test]
    fn within_a_poll_the_meter_moves_to_the_cpu_clock_at_the_cap() {
        let meter = Meter::default();
        meter.set_wall_cap(Duration::from_millis(5));
        meter.poll_begins();
        // Off the CPU for 50 ms inside one poll, then asked (as the epoch callback asks).
        std::thread::sleep(Duration::from_millis(50));
        let first = meter.used();
        assert!(first >= Duration::from_millis(5) && first < Duration::from_millis(10), "the wall part is capped: {first:?}");
        std::thread::sleep(Duration::from_millis(50));
        let second = meter.used();
        assert!(second - first < Duration::from_millis(5), "time off the CPU after the switch is not counted: {first:?} then {second:?}");
        meter.poll_ends();
    }
}
