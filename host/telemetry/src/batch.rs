//! The span batch processor: ended spans wait in one locked list, and a
//! thread of its own takes the whole list at a time and hands it to the
//! exporter.
//!
//! It does what the SDK's `BatchSpanProcessor` does, with the same settings
//! (`OTEL_BSP_MAX_QUEUE_SIZE`, `OTEL_BSP_SCHEDULE_DELAY`,
//! `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`), for less work per span: the SDK moves
//! each span through a channel into a list, then copies every batch whole
//! before the export (`split_off(0)`); here a span is moved once, into the
//! list, and a batch goes to the exporter as that list. Each export is bounded
//! by the exporter's own timeout (`OTEL_EXPORTER_OTLP_TIMEOUT`), as with the
//! SDK's thread-based processor.

use opentelemetry::Context;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};
use opentelemetry_sdk::Resource;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How spans are batched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batching {
    /// Spans waiting at most; past it, ended spans are dropped.
    pub queue: usize,
    /// Spans per export at most; a full batch goes out at once.
    pub batch: usize,
    /// The longest a span waits for a batch to fill.
    pub delay: Duration,
}

impl Batching {
    /// The `OTEL_BSP_*` settings, over `queue` and `batch` (an unreadable
    /// value is ignored, as the SDK ignores it). A batch is at most the queue.
    pub fn from_env(queue: usize, batch: usize) -> Batching {
        Batching::from(crate::env::env, queue, batch)
    }

    fn from(var: impl Fn(&str) -> Option<String>, queue: usize, batch: usize) -> Batching {
        let num = |name: &str| var(name).and_then(|v| v.trim().parse::<u64>().ok());
        let queue = num("OTEL_BSP_MAX_QUEUE_SIZE").map_or(queue, |n| n as usize).max(1);
        let batch = num("OTEL_BSP_MAX_EXPORT_BATCH_SIZE").map_or(batch, |n| n as usize).clamp(1, queue);
        // At least a millisecond: with no delay the idle thread would spin.
        let delay = Duration::from_millis(num("OTEL_BSP_SCHEDULE_DELAY").unwrap_or(5_000).max(1));
        Batching { queue, batch, delay }
    }
}

/// The most spans a list is made ready for: a larger batch setting grows
/// its list as spans come, rather than reserving it all up front.
const PREALLOCATED: usize = 4096;

/// The room a list is made with: a full batch, and as much again for the
/// spans that end between the wake-up and the moment the thread takes the
/// list (on a busy core, a good many). A list that outgrows its room is
/// copied whole into a larger one.
fn room(cfg: Batching) -> usize {
    cfg.batch.saturating_mul(2).min(cfg.queue).min(PREALLOCATED)
}

#[derive(Default)]
struct State {
    spans: Vec<SpanData>,
    /// Flushes asked for and flushes done (each a count): a flush is done
    /// when everything queued before it was asked has been exported.
    flushes_asked: u64,
    flushes_done: u64,
    stopping: bool,
    stopped: bool,
}

struct Shared<E> {
    state: Mutex<State>,
    /// Wakes the export thread: a full batch, a flush, the end.
    wake: Condvar,
    /// Wakes those waiting for a flush or the end.
    done: Condvar,
    exporter: Mutex<E>,
    cfg: Batching,
}

impl<E> Shared<E> {
    fn new(exporter: E, cfg: Batching) -> Shared<E> {
        Shared {
            state: Mutex::new(State { spans: Vec::with_capacity(room(cfg)), ..State::default() }),
            wake: Condvar::new(),
            done: Condvar::new(),
            exporter: Mutex::new(exporter),
            cfg,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Batches ended spans for `E` on a thread of its own (`wasp-span-batch`).
pub struct Batcher<E: SpanExporter + 'static> {
    shared: Arc<Shared<E>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl<E: SpanExporter + 'static> std::fmt::Debug for Batcher<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher").field("cfg", &self.shared.cfg).finish()
    }
}

impl<E: SpanExporter + 'static> Batcher<E> {
    pub fn new(exporter: E, cfg: Batching) -> Batcher<E> {
        let shared = Arc::new(Shared::new(exporter, cfg));
        let worker = shared.clone();
        let thread = std::thread::Builder::new().name("wasp-span-batch".into()).spawn(move || export_loop(&worker));
        if let Err(e) = &thread {
            // No thread, no export: every span will count as dropped.
            tracing::warn!("cannot start the span batch thread: {e}; no spans will be exported");
            shared.state().stopped = true;
        }
        Batcher { shared, thread: Mutex::new(thread.ok()) }
    }

    /// Waits until `until` holds of the state, at most `timeout`.
    fn wait(&self, timeout: Option<Duration>, until: impl Fn(&State) -> bool) -> OTelSdkResult {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut st = self.shared.state();
        while !until(&st) {
            if st.stopped {
                return Err(OTelSdkError::AlreadyShutdown);
            }
            st = match deadline {
                None => self.shared.done.wait(st).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(OTelSdkError::Timeout(timeout.unwrap_or_default()));
                    }
                    self.shared.done.wait_timeout(st, left).unwrap_or_else(|e| e.into_inner()).0
                }
            };
        }
        Ok(())
    }
}

fn export_loop<E: SpanExporter>(shared: &Shared<E>) {
    let cfg = shared.cfg;
    let mut failing = false;
    let mut last = Instant::now();
    loop {
        // The next list, made before the lock is taken: users pushing spans
        // never wait for an allocation.
        let mut spans = Vec::with_capacity(room(cfg));
        let mut st = shared.state();
        loop {
            let now = Instant::now();
            // (A delay past what an `Instant` can hold is never due.)
            let due = last.checked_add(cfg.delay).is_some_and(|d| now >= d);
            if st.spans.len() >= cfg.batch || st.flushes_asked > st.flushes_done || st.stopping || (due && !st.spans.is_empty()) {
                break;
            }
            if due {
                // Nothing to send: a whole delay again.
                last = now;
            }
            let wait = last.checked_add(cfg.delay).map_or(cfg.delay, |d| d.saturating_duration_since(now));
            st = shared.wake.wait_timeout(st, wait).unwrap_or_else(|e| e.into_inner()).0;
        }
        let flushes = st.flushes_asked;
        // Once stopping, `on_end` takes no more spans: this list is the last.
        let stopping = st.stopping;
        std::mem::swap(&mut st.spans, &mut spans);
        drop(st);
        export(shared, spans, cfg.batch, &mut failing);
        last = Instant::now();
        if stopping {
            let _ = shared.exporter.lock().unwrap_or_else(|e| e.into_inner()).shutdown();
        }
        let mut st = shared.state();
        st.flushes_done = flushes;
        st.stopped = stopping;
        drop(st);
        shared.done.notify_all();
        if stopping {
            return;
        }
    }
}

/// Exports `spans` in batches of at most `batch`, in order: the first batch
/// is the list itself (no copy), the rest are split off its end. The first
/// failure after a success (or at the start) is a warning; the rest of a run
/// of failures are logged at debug level (each is counted in the dropped
/// spans anyway).
fn export<E: SpanExporter>(shared: &Shared<E>, mut spans: Vec<SpanData>, batch: usize, failing: &mut bool) {
    if spans.is_empty() {
        return;
    }
    // Cut from the end, so that each span past the first batch is moved once.
    let mut rest = Vec::new();
    while spans.len() > batch {
        let at = (spans.len() - 1) / batch * batch;
        rest.push(spans.split_off(at));
    }
    let exporter = shared.exporter.lock().unwrap_or_else(|e| e.into_inner());
    for part in std::iter::once(spans).chain(rest.into_iter().rev()) {
        match futures_executor::block_on(exporter.export(part)) {
            Ok(()) => *failing = false,
            Err(e) if !*failing => {
                *failing = true;
                tracing::warn!("span export failed: {e} (further failures in a row go to the debug log; the summary counts the spans dropped)");
            }
            Err(e) => tracing::debug!("span export failed: {e}"),
        }
    }
}

impl<E: SpanExporter + 'static> SpanProcessor for Batcher<E> {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        let cfg = self.shared.cfg;
        let mut st = self.shared.state();
        if st.stopping || st.spans.len() >= cfg.queue {
            // Dropped: counted as ended and never exported.
            return;
        }
        st.spans.push(span);
        // Wake the thread once per batch (a notify is a system call).
        if st.spans.len() == cfg.batch {
            drop(st);
            self.shared.wake.notify_one();
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        let target = {
            let mut st = self.shared.state();
            if st.stopping || st.stopped {
                return Err(OTelSdkError::AlreadyShutdown);
            }
            st.flushes_asked += 1;
            st.flushes_asked
        };
        self.shared.wake.notify_one();
        self.wait(None, |st| st.flushes_done >= target)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        {
            let mut st = self.shared.state();
            if st.stopping || st.stopped {
                return Err(OTelSdkError::AlreadyShutdown);
            }
            st.stopping = true;
        }
        self.shared.wake.notify_one();
        self.wait(Some(timeout), |st| st.stopped)?;
        if let Some(t) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = t.join();
        }
        Ok(())
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.shared.exporter.lock().unwrap_or_else(|e| e.into_inner()).set_resource(resource);
    }
}

impl<E: SpanExporter + 'static> Drop for Batcher<E> {
    fn drop(&mut self) {
        // A processor dropped without a shutdown (the provider shuts it down
        // first): its thread is told to end and is not waited for.
        self.shared.state().stopping = true;
        self.shared.wake.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState};
    use opentelemetry::InstrumentationScope;
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};
    use std::time::SystemTime;

    /// Keeps the size of each export (and fails the first `.2` of them).
    #[derive(Debug, Clone, Default)]
    struct Sizes(Arc<Mutex<Vec<usize>>>, Arc<Mutex<bool>>, Arc<Mutex<usize>>);

    impl SpanExporter for Sizes {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            let mut fail = self.2.lock().unwrap();
            if *fail > 0 {
                *fail -= 1;
                return Err(OTelSdkError::InternalFailure("refused".into()));
            }
            self.0.lock().unwrap().push(batch.len());
            Ok(())
        }
        fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
            *self.1.lock().unwrap() = true;
            Ok(())
        }
    }

    fn span(n: u64) -> SpanData {
        SpanData {
            span_context: SpanContext::new(TraceId::from(n as u128 + 1), SpanId::from(n + 1), TraceFlags::SAMPLED, false, TraceState::default()),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: "s".into(),
            start_time: SystemTime::now(),
            end_time: SystemTime::now(),
            attributes: Vec::new(),
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::builder("t").build(),
        }
    }

    fn cfg(queue: usize, batch: usize, delay_ms: u64) -> Batching {
        Batching { queue, batch, delay: Duration::from_millis(delay_ms) }
    }

    #[test]
    fn settings_come_from_the_environment_over_wasps_defaults() {
        let none = |_: &str| None;
        assert_eq!(Batching::from(none, 8192, 2048), cfg(8192, 2048, 5000));
        let env = |n: &str| match n {
            "OTEL_BSP_MAX_QUEUE_SIZE" => Some("100".to_string()),
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE" => Some("500".to_string()),
            "OTEL_BSP_SCHEDULE_DELAY" => Some("200".to_string()),
            _ => None,
        };
        // A batch is at most the queue.
        assert_eq!(Batching::from(env, 8192, 2048), cfg(100, 100, 200));
        let bad = |n: &str| (n == "OTEL_BSP_MAX_EXPORT_BATCH_SIZE").then(|| "many".to_string());
        assert_eq!(Batching::from(bad, 8192, 2048), cfg(8192, 2048, 5000));
        let negative = |n: &str| (n == "OTEL_BSP_MAX_QUEUE_SIZE").then(|| "-5".to_string());
        assert_eq!(Batching::from(negative, 8192, 2048), cfg(8192, 2048, 5000));
        // No delay would spin the idle thread: a millisecond at least.
        let zero = |n: &str| (n != "OTEL_BSP_MAX_QUEUE_SIZE").then(|| "0".to_string());
        assert_eq!(Batching::from(zero, 8192, 2048), cfg(8192, 1, 1));
        let huge = |_: &str| Some(u64::MAX.to_string());
        let b = Batching::from(huge, 8192, 2048);
        assert_eq!((b.queue, b.batch, b.delay), (u64::MAX as usize, u64::MAX as usize, Duration::from_millis(u64::MAX)));
    }

    #[test]
    fn absurd_settings_neither_panic_nor_reserve_their_size() {
        // The largest of everything: no list of that size is reserved, and a
        // delay past what an `Instant` holds never comes due (a flush sends).
        let sizes = Sizes::default();
        let b = Batcher::new(sizes.clone(), Batching { queue: usize::MAX, batch: usize::MAX, delay: Duration::from_millis(u64::MAX) });
        for n in 0..3 {
            b.on_end(span(n));
        }
        b.force_flush().unwrap();
        assert_eq!(*sizes.0.lock().unwrap(), vec![3]);
        b.shutdown_with_timeout(Duration::from_secs(5)).unwrap();
    }

    #[test]
    fn a_failed_export_does_not_stop_the_next() {
        let sizes = Sizes::default();
        *sizes.2.lock().unwrap() = 1;
        let b = Batcher::new(sizes.clone(), cfg(1000, 10, 60_000));
        for n in 0..10 {
            b.on_end(span(n));
        }
        b.force_flush().unwrap();
        assert!(sizes.0.lock().unwrap().is_empty(), "the first export was refused");
        for n in 10..13 {
            b.on_end(span(n));
        }
        b.force_flush().unwrap();
        assert_eq!(*sizes.0.lock().unwrap(), vec![3]);
        b.shutdown_with_timeout(Duration::from_secs(5)).unwrap();
    }

    #[test]
    fn full_batches_go_out_whole_and_a_flush_sends_the_rest() {
        let sizes = Sizes::default();
        // A long delay: only full batches and the flush send anything.
        let b = Batcher::new(sizes.clone(), cfg(1000, 10, 60_000));
        for n in 0..25 {
            b.on_end(span(n));
        }
        b.force_flush().unwrap();
        let got = sizes.0.lock().unwrap().clone();
        assert_eq!(got.iter().sum::<usize>(), 25, "{got:?}");
        assert!(got.iter().all(|&n| n <= 10), "no export past the batch size: {got:?}");
        assert!(got.contains(&10), "full batches: {got:?}");
        b.shutdown_with_timeout(Duration::from_secs(5)).unwrap();
        assert!(*sizes.1.lock().unwrap(), "the exporter is shut down");
        assert!(b.force_flush().is_err(), "nothing after the shutdown");
    }

    /// Keeps the span ids of each export, in order.
    #[derive(Debug, Clone, Default)]
    struct Ids(Arc<Mutex<Vec<Vec<u64>>>>);

    impl SpanExporter for Ids {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            let ids = batch.iter().map(|s| u64::from_be_bytes(s.span_context.span_id().to_bytes())).collect();
            self.0.lock().unwrap().push(ids);
            Ok(())
        }
    }

    #[test]
    fn a_list_longer_than_a_batch_goes_out_in_order_in_batches() {
        for (n, want) in [(25u64, vec![10, 10, 5]), (20, vec![10, 10]), (10, vec![10]), (3, vec![3]), (0, vec![])] {
            let ids = Ids::default();
            let shared = Shared::new(ids.clone(), cfg(100, 10, 1000));
            let mut failing = false;
            export(&shared, (0..n).map(span).collect(), 10, &mut failing);
            let got = ids.0.lock().unwrap().clone();
            assert_eq!(got.iter().map(Vec::len).collect::<Vec<_>>(), want, "{n} spans");
            assert_eq!(got.concat(), (1..=n).collect::<Vec<_>>(), "{n} spans, in the order they ended");
        }
        // The room a list is made with: a batch and as much again, within the queue and the cap.
        assert_eq!(room(cfg(8192, 2048, 1)), 4096);
        assert_eq!(room(cfg(2048, 2048, 1)), 2048);
        assert_eq!(room(cfg(1 << 20, 1 << 19, 1)), PREALLOCATED);
        assert_eq!(room(cfg(usize::MAX, usize::MAX, 1)), PREALLOCATED);
    }

    #[test]
    fn the_delay_sends_a_batch_that_does_not_fill() {
        let sizes = Sizes::default();
        let b = Batcher::new(sizes.clone(), cfg(1000, 100, 50));
        for n in 0..3 {
            b.on_end(span(n));
        }
        // No flush and no full batch: only the delay can send them.
        let t0 = Instant::now();
        while sizes.0.lock().unwrap().iter().sum::<usize>() < 3 {
            assert!(t0.elapsed() < Duration::from_secs(10), "the delay did not send the spans");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(sizes.0.lock().unwrap().iter().all(|&n| n < 100));
        b.shutdown_with_timeout(Duration::from_secs(5)).unwrap();
    }

    #[test]
    fn past_the_queue_spans_are_dropped_and_a_shutdown_exports_what_is_queued() {
        let sizes = Sizes::default();
        let b = Batcher::new(sizes.clone(), cfg(5, 5, 60_000));
        // Hold the exporter: the thread blocks on the first full batch.
        let held = b.shared.exporter.lock().unwrap();
        for n in 0..5 {
            b.on_end(span(n));
        }
        // The thread takes the full batch and waits for the exporter; the
        // queue is empty again and takes 5 more, then drops.
        let t0 = Instant::now();
        while !b.shared.state().spans.is_empty() {
            assert!(t0.elapsed() < Duration::from_secs(10), "the full batch was not taken");
            std::thread::sleep(Duration::from_millis(1));
        }
        for n in 5..20 {
            b.on_end(span(n));
        }
        assert_eq!(b.shared.state().spans.len(), 5);
        drop(held);
        b.shutdown_with_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(sizes.0.lock().unwrap().iter().sum::<usize>(), 10);
    }

    #[test]
    fn a_stuck_exporter_bounds_the_shutdown_by_its_timeout() {
        let sizes = Sizes::default();
        let b = Batcher::new(sizes.clone(), cfg(100, 10, 60_000));
        let held = b.shared.exporter.lock().unwrap();
        b.on_end(span(1));
        let t0 = Instant::now();
        assert!(matches!(b.shutdown_with_timeout(Duration::from_millis(200)), Err(OTelSdkError::Timeout(_))));
        assert!(t0.elapsed() < Duration::from_secs(5));
        drop(held);
    }
}
