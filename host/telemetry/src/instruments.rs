//! The run's own metrics: the request duration histogram (recorded per
//! request) and gauges read from the stats when the SDK collects.

use crate::Telemetry;
use opentelemetry::metrics::{Histogram, MeterProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use wasp_runner::stats::Stats;

/// The stats the gauges read: the current run's. A process that runs one
/// test after another (the web UI) points it at each new run's stats, so
/// the instruments are registered once.
#[derive(Clone)]
pub struct CurrentStats(Arc<RwLock<Arc<Stats>>>);

impl CurrentStats {
    pub fn new(stats: Arc<Stats>) -> CurrentStats {
        CurrentStats(Arc::new(RwLock::new(stats)))
    }
    pub fn set(&self, stats: Arc<Stats>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = stats;
    }
    pub fn get(&self) -> Arc<Stats> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Bucket bounds the HTTP semantic conventions advise for durations, in seconds.
const BOUNDS: [f64; 14] = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];

pub fn register(mp: &SdkMeterProvider, stats: &CurrentStats, telemetry: &Arc<Telemetry>) -> Histogram<f64> {
    let meter = mp.meter("wasp");
    crate::process::register(&meter);
    let s = stats.clone();
    meter
        .i64_observable_gauge("wasp.users.active")
        .with_description("Users running now")
        .with_unit("{user}")
        .with_callback(move |o| o.observe(s.get().users() as i64, &[]))
        .build();
    let s = stats.clone();
    meter
        .u64_observable_counter("wasp.task.runs")
        .with_description("Task runs, by task and outcome")
        .with_unit("{run}")
        .with_callback(move |o| {
            for t in s.get().tasks() {
                o.observe(t.runs - t.errors, &[KeyValue::new("wasp.task", t.name.clone()), KeyValue::new("outcome", "ok")]);
                o.observe(t.errors, &[KeyValue::new("wasp.task", t.name.clone()), KeyValue::new("outcome", "error")]);
            }
        })
        .build();
    let counts = telemetry.counts.clone();
    meter
        .u64_observable_gauge("wasp.telemetry.backlog")
        .with_description("Spans and log records handed to export but not exported (yet): queued, in flight or dropped")
        .with_unit("{item}")
        .with_callback(move |o| {
            let ld = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
            o.observe(ld(&counts.spans_ended).saturating_sub(ld(&counts.spans_exported)), &[KeyValue::new("signal", "traces")]);
            o.observe(ld(&counts.logs_emitted).saturating_sub(ld(&counts.logs_exported)), &[KeyValue::new("signal", "logs")]);
        })
        .build();
    meter
        .f64_histogram(opentelemetry_semantic_conventions::metric::HTTP_CLIENT_REQUEST_DURATION)
        .with_description("Duration of HTTP client requests")
        .with_unit("s")
        .with_boundaries(BOUNDS.to_vec())
        .build()
}
