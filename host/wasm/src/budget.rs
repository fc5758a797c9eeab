//! `--task-budget`: how much guest time one export call may use, measured so
//! that it means what it says.
//!
//! Guest time is the time the call spends being polled (the guest running,
//! with the host code it calls synchronously) plus the time it is parked in
//! WASI (a sleep, a poll on a WASI stream), but not the time it waits in wasp's
//! own imports (the network, flag evaluations), nor the time it is ready but
//! waiting for a thread: a starved machine slows a task down, it does not make
//! it guilty. Two things enforce the budget: the epoch callback, while the
//! guest computes (every tick, the guest yields, and past the budget it is
//! killed); and [`Metered`], while it is parked in WASI (a timer for what is
//! left of the budget).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
// Tokio's clock: the same as std's, and one a test can pause.
use tokio::time::Instant;

/// What the current export call has used; shared by the store's data (the
/// epoch callback, the imports) and the call's future.
#[derive(Debug)]
pub struct Meter {
    origin: Instant,
    /// Time in completed polls and WASI parks, ns.
    used_ns: AtomicU64,
    /// When the current poll began (ns since `origin`, +1; 0: not polling).
    poll_since: AtomicU64,
    /// A wasp import is waiting (network, flags): that wait is not guest time.
    in_host: AtomicBool,
}

impl Default for Meter {
    fn default() -> Self {
        Meter { origin: Instant::now(), used_ns: AtomicU64::new(0), poll_since: AtomicU64::new(0), in_host: AtomicBool::new(false) }
    }
}

impl Meter {
    fn now_ns(&self) -> u64 {
        self.origin.elapsed().as_nanos() as u64
    }

    /// Starts a new export call.
    pub fn reset(&self) {
        self.used_ns.store(0, Ordering::Relaxed);
        self.poll_since.store(0, Ordering::Relaxed);
        self.in_host.store(false, Ordering::Relaxed);
    }

    /// Guest time of the current call so far.
    pub fn used(&self) -> Duration {
        let mut ns = self.used_ns.load(Ordering::Relaxed);
        let since = self.poll_since.load(Ordering::Relaxed);
        if since > 0 {
            ns += self.now_ns().saturating_sub(since - 1);
        }
        Duration::from_nanos(ns)
    }

    /// Marks a wait in a wasp import (the network, a flag): not guest time.
    pub fn host_wait(&self) -> HostWait<'_> {
        self.in_host.store(true, Ordering::Relaxed);
        HostWait(self)
    }

    fn add(&self, d: Duration) {
        self.used_ns.fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
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
        Metered { inner: Box::pin(inner), meter, budget, parked: None, watchdog: None }
    }
}

impl<F: Future> Future for Metered<F> {
    type Output = Result<F::Output, OverBudget>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let Some(at) = this.parked.take() {
            this.meter.add(at.elapsed());
        }
        this.meter.poll_since.store(this.meter.now_ns() + 1, Ordering::Relaxed);
        let t0 = Instant::now();
        let r = this.inner.as_mut().poll(cx);
        this.meter.poll_since.store(0, Ordering::Relaxed);
        this.meter.add(t0.elapsed());
        match r {
            Poll::Ready(v) => Poll::Ready(Ok(v)),
            Poll::Pending if this.meter.in_host.load(Ordering::Relaxed) => {
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
}
