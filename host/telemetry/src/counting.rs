//! Counting what goes through the SDK's pipelines: spans ended and log
//! records emitted (before the batch processors, which may drop them) and
//! what the exporters got through. The difference is what was dropped.

use opentelemetry::{Context, InstrumentationScope};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter};
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::trace::{SpanData, SpanExporter, SpanProcessor};
use opentelemetry_sdk::Resource;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// What was handed to the exporters and what they got through, per signal.
#[derive(Debug, Default)]
pub struct Counts {
    pub spans_ended: AtomicU64,
    pub spans_exported: AtomicU64,
    pub logs_emitted: AtomicU64,
    pub logs_exported: AtomicU64,
    pub metric_exports_ok: AtomicU64,
    pub metric_exports_failed: AtomicU64,
}

pub use wasp_report::Delivery;

/// The attribute that marks a call's span the plugin discarded
/// (`telemetry.discard-span`): such a root span is not exported.
pub const DISCARD: &str = "wasp.discard";

/// Counts spans as they end, before the batch processor queues (or drops)
/// them, and holds back the root spans marked [`DISCARD`].
#[derive(Debug)]
pub(crate) struct CountEnded<P> {
    pub(crate) inner: P,
    pub(crate) counts: Arc<Counts>,
}

impl<P: SpanProcessor> SpanProcessor for CountEnded<P> {
    fn on_start(&self, span: &mut opentelemetry_sdk::trace::Span, cx: &Context) {
        self.inner.on_start(span, cx)
    }
    fn on_end(&self, span: SpanData) {
        if span.parent_span_id == opentelemetry::trace::SpanId::INVALID && span.attributes.iter().any(|kv| kv.key.as_str() == DISCARD) {
            return;
        }
        self.counts.spans_ended.fetch_add(1, Ordering::Relaxed);
        self.inner.on_end(span)
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }
    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource)
    }
}

/// Counts what an exporter got through.
#[derive(Debug)]
pub(crate) struct Counted<E> {
    pub(crate) inner: E,
    pub(crate) counts: Arc<Counts>,
}

impl<E: SpanExporter> SpanExporter for Counted<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let n = batch.len() as u64;
        let r = self.inner.export(batch).await;
        if r.is_ok() {
            self.counts.spans_exported.fetch_add(n, Ordering::Relaxed);
        }
        r
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }
    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource)
    }
}

impl<E: LogExporter> LogExporter for Counted<E> {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        let n = batch.iter().count() as u64;
        let r = self.inner.export(batch).await;
        if r.is_ok() {
            self.counts.logs_exported.fetch_add(n, Ordering::Relaxed);
        }
        r
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }
    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource)
    }
}

impl<E: PushMetricExporter> PushMetricExporter for Counted<E> {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let r = self.inner.export(metrics).await;
        let c = if r.is_ok() { &self.counts.metric_exports_ok } else { &self.counts.metric_exports_failed };
        c.fetch_add(1, Ordering::Relaxed);
        r
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }
    fn temporality(&self) -> Temporality {
        self.inner.temporality()
    }
}

/// Counts log records as they are emitted, before the batch processor.
#[derive(Debug)]
pub(crate) struct CountEmitted<P> {
    pub(crate) inner: P,
    pub(crate) counts: Arc<Counts>,
}

impl<P: opentelemetry_sdk::logs::LogProcessor> opentelemetry_sdk::logs::LogProcessor for CountEmitted<P> {
    fn emit(&self, data: &mut opentelemetry_sdk::logs::SdkLogRecord, scope: &InstrumentationScope) {
        self.counts.logs_emitted.fetch_add(1, Ordering::Relaxed);
        self.inner.emit(data, scope)
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }
    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{Span as _, TraceContextExt, Tracer as _, TracerProvider as _};
    use opentelemetry::KeyValue;
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SimpleSpanProcessor};

    #[test]
    fn discarded_root_spans_are_held_back_and_the_rest_counted() {
        let exporter = InMemorySpanExporter::default();
        let counts = Arc::new(Counts::default());
        let processor = CountEnded { inner: SimpleSpanProcessor::new(exporter.clone()), counts: counts.clone() };
        let provider = SdkTracerProvider::builder().with_span_processor(processor).build();
        let tracer = provider.tracer("t");
        let kept = tracer.start("kept");
        let mut dropped = tracer.start("flood_home");
        dropped.set_attribute(KeyValue::new(DISCARD, true));
        let cx = Context::new().with_span(dropped);
        // A child of a discarded span still goes out; so does a child carrying the mark.
        let mut child = tracer.start_with_context("GET /", &cx);
        child.set_attribute(KeyValue::new(DISCARD, true));
        child.end();
        cx.span().end();
        drop(kept);
        let names: Vec<String> = exporter.get_finished_spans().unwrap().iter().map(|s| s.name.to_string()).collect();
        assert_eq!(names, vec!["GET /".to_string(), "kept".to_string()]);
        assert_eq!(counts.spans_ended.load(Ordering::Relaxed), 2);
    }
}
