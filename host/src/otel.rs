//! OpenTelemetry from the standard `OTEL_*` environment: tracer, meter and
//! logger providers with OTLP (gRPC or HTTP/protobuf), console or no export.
//!
//! opentelemetry-otlp reads endpoints, headers, timeouts and protocols; the SDK
//! reads the sampler, the resource and the batch settings. What is ours: the
//! exporter choice per signal, `OTEL_SDK_DISABLED`, `OTEL_PROPAGATORS`, the
//! default service name `wasp`, gRPC as the default protocol (as the demo's
//! load generator), and counting what was exported and what was dropped.
//!
//! Export never blocks the load: the SDK's batch processors queue with
//! `try_send` and export on their own threads.

use crate::error::Fatal;
use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{Context, InstrumentationScope, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter, SdkLoggerProvider};
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use opentelemetry_sdk::trace::{RandomIdGenerator, SdkTracer, SdkTracerProvider, SpanData, SpanExporter, SpanProcessor};
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

/// The telemetry part of a run's report.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Delivery {
    pub traces: String,
    pub metrics: String,
    pub logs: String,
    pub spans_exported: u64,
    pub spans_dropped: u64,
    pub logs_exported: u64,
    pub logs_dropped: u64,
    pub metric_exports_ok: u64,
    pub metric_exports_failed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exporter {
    Otlp,
    Console,
    None,
}

impl Exporter {
    fn name(self) -> &'static str {
        match self {
            Exporter::Otlp => "otlp",
            Exporter::Console => "console",
            Exporter::None => "none",
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// `OTEL_{SIGNAL}_EXPORTER`: otlp, console (also `stdout`, `logging`), none.
/// Unset: otlp when an OTLP endpoint is configured for the signal, else none
/// (a load test exports nothing unless told where).
fn exporter(var: &str, signal: &str) -> Result<Exporter, Fatal> {
    match env(var).as_deref().map(str::to_ascii_lowercase).as_deref() {
        None if env("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
            || env(&format!("OTEL_EXPORTER_OTLP_{signal}_ENDPOINT")).is_some() =>
        {
            Ok(Exporter::Otlp)
        }
        None => Ok(Exporter::None),
        Some("otlp") => Ok(Exporter::Otlp),
        Some("console") | Some("stdout") | Some("logging") => Ok(Exporter::Console),
        Some("none") => Ok(Exporter::None),
        Some(other) => Err(Fatal::usage(format!("{var}={other}: expected otlp, console or none"))),
    }
}

/// True when no protocol is set for the signal: then wasp speaks gRPC, like the
/// OpenTelemetry demo's load generator (whose env sets only the :4317 endpoint).
fn protocol_unset(signal: &str) -> bool {
    env(&format!("OTEL_EXPORTER_OTLP_{signal}_PROTOCOL")).is_none() && env("OTEL_EXPORTER_OTLP_PROTOCOL").is_none()
}

/// The resource: SDK detectors (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`),
/// with `service.name=wasp` unless the environment names the service.
pub fn resource() -> Resource {
    let named = env("OTEL_SERVICE_NAME").is_some()
        || env("OTEL_RESOURCE_ATTRIBUTES").is_some_and(|a| a.split(',').any(|kv| kv.trim().starts_with("service.name=")));
    let b = Resource::builder().with_attribute(KeyValue::new("wasp.version", env!("CARGO_PKG_VERSION")));
    if named { b.build() } else { b.with_service_name("wasp").build() }
}

/// `OTEL_PROPAGATORS` (default `tracecontext,baggage`).
pub fn propagator() -> Result<TextMapCompositePropagator, Fatal> {
    let list = env("OTEL_PROPAGATORS").unwrap_or_else(|| "tracecontext,baggage".into());
    let mut props: Vec<Box<dyn TextMapPropagator + Send + Sync>> = vec![];
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match name {
            "tracecontext" => props.push(Box::new(TraceContextPropagator::new())),
            "baggage" => props.push(Box::new(BaggagePropagator::new())),
            "none" => props.clear(),
            other => tracing::warn!("OTEL_PROPAGATORS: '{other}' is not supported (tracecontext, baggage, none); ignored"),
        }
    }
    Ok(TextMapCompositePropagator::new(props))
}

/// Counts spans as they end, before the batch processor queues (or drops) them.
#[derive(Debug)]
struct CountEnded<P> {
    inner: P,
    counts: Arc<Counts>,
}

impl<P: SpanProcessor> SpanProcessor for CountEnded<P> {
    fn on_start(&self, span: &mut opentelemetry_sdk::trace::Span, cx: &Context) {
        self.inner.on_start(span, cx)
    }
    fn on_end(&self, span: SpanData) {
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
struct Counted<E> {
    inner: E,
    counts: Arc<Counts>,
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
struct CountEmitted<P> {
    inner: P,
    counts: Arc<Counts>,
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

fn build_err(signal: &str, e: impl std::fmt::Display) -> Fatal {
    Fatal::usage(format!("cannot set up the OTLP {signal} exporter: {e}"))
}

/// The run's telemetry. Cheap to share: everything inside is a handle.
pub struct Telemetry {
    /// Records spans; only when traces are exported somewhere.
    pub tracer: Option<SdkTracer>,
    /// Without a tracer, requests still carry a `traceparent`: span contexts
    /// with fresh ids, nothing recorded. None when `OTEL_SDK_DISABLED=true`.
    pub ids: Option<RandomIdGenerator>,
    pub propagator: TextMapCompositePropagator,
    pub meter_provider: Option<SdkMeterProvider>,
    pub(crate) tracer_provider: Option<SdkTracerProvider>,
    pub(crate) logger_provider: Option<SdkLoggerProvider>,
    pub counts: Arc<Counts>,
    pub kinds: (Exporter, Exporter, Exporter),
}

impl Telemetry {
    /// No spans, metrics or logs; baggage still propagates.
    pub fn disabled() -> Telemetry {
        Telemetry {
            tracer: None,
            ids: None,
            propagator: TextMapCompositePropagator::new(vec![Box::new(BaggagePropagator::new())]),
            meter_provider: None,
            tracer_provider: None,
            logger_provider: None,
            counts: Arc::new(Counts::default()),
            kinds: (Exporter::None, Exporter::None, Exporter::None),
        }
    }

    /// Providers from the environment. Must run inside the tokio runtime
    /// (the gRPC exporters' channels live on it).
    pub fn from_env() -> Result<Telemetry, Fatal> {
        let propagator = propagator()?;
        let counts = Arc::new(Counts::default());
        let disabled = env("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if disabled {
            return Ok(Telemetry { propagator, ..Telemetry::disabled() });
        }
        let kinds = (
            exporter("OTEL_TRACES_EXPORTER", "TRACES")?,
            exporter("OTEL_METRICS_EXPORTER", "METRICS")?,
            exporter("OTEL_LOGS_EXPORTER", "LOGS")?,
        );
        let resource = resource();

        // Traces: a provider only when spans go somewhere; otherwise requests
        // get span contexts without any recording (see `ids`).
        let mut tb = SdkTracerProvider::builder().with_resource(resource.clone());
        fn batch<E: SpanExporter + 'static>(e: E, counts: &Arc<Counts>) -> impl SpanProcessor {
            let counted = Counted { inner: e, counts: counts.clone() };
            CountEnded { inner: opentelemetry_sdk::trace::BatchSpanProcessor::builder(counted).build(), counts: counts.clone() }
        }
        match kinds.0 {
            Exporter::Otlp => {
                let b = opentelemetry_otlp::SpanExporter::builder();
                let e = if protocol_unset("TRACES") { b.with_tonic().build() } else { b.build() }
                    .map_err(|e| build_err("traces", e))?;
                tb = tb.with_span_processor(batch(e, &counts));
            }
            Exporter::Console => {
                tb = tb.with_span_processor(batch(opentelemetry_stdout::SpanExporter::default(), &counts));
            }
            Exporter::None => {}
        }
        let tracer_provider = (kinds.0 != Exporter::None).then(|| tb.build());
        let tracer = tracer_provider.as_ref().map(|p| {
            p.tracer_with_scope(InstrumentationScope::builder("wasp").with_version(env!("CARGO_PKG_VERSION")).build())
        });

        let meter_provider = match kinds.1 {
            Exporter::None => None,
            kind => {
                let mb = SdkMeterProvider::builder().with_resource(resource.clone());
                let mb = match kind {
                    Exporter::Otlp => {
                        let b = opentelemetry_otlp::MetricExporter::builder();
                        let e = if protocol_unset("METRICS") { b.with_tonic().build() } else { b.build() }
                            .map_err(|e| build_err("metrics", e))?;
                        mb.with_reader(PeriodicReader::builder(Counted { inner: e, counts: counts.clone() }).build())
                    }
                    _ => mb.with_reader(
                        PeriodicReader::builder(Counted {
                            inner: opentelemetry_stdout::MetricExporter::default(),
                            counts: counts.clone(),
                        })
                        .build(),
                    ),
                };
                Some(mb.build())
            }
        };

        let logger_provider = match kinds.2 {
            Exporter::None => None,
            kind => {
                let lb = SdkLoggerProvider::builder().with_resource(resource);
                let processor = |p| CountEmitted { inner: p, counts: counts.clone() };
                let lb = match kind {
                    Exporter::Otlp => {
                        let b = opentelemetry_otlp::LogExporter::builder();
                        let e = if protocol_unset("LOGS") { b.with_tonic().build() } else { b.build() }
                            .map_err(|e| build_err("logs", e))?;
                        lb.with_log_processor(processor(
                            opentelemetry_sdk::logs::BatchLogProcessor::builder(Counted { inner: e, counts: counts.clone() }).build(),
                        ))
                    }
                    _ => lb.with_log_processor(processor(
                        opentelemetry_sdk::logs::BatchLogProcessor::builder(Counted {
                            inner: opentelemetry_stdout::LogExporter::default(),
                            counts: counts.clone(),
                        })
                        .build(),
                    )),
                };
                Some(lb.build())
            }
        };

        Ok(Telemetry {
            tracer,
            ids: Some(RandomIdGenerator::default()),
            propagator,
            meter_provider,
            tracer_provider,
            logger_provider,
            counts,
            kinds,
        })
    }

    pub fn logger_provider(&self) -> Option<&SdkLoggerProvider> {
        self.logger_provider.as_ref()
    }

    /// Flushes and stops every provider, waiting at most `timeout` in all, and
    /// says what got out. Whatever is not exported by then counts as dropped.
    pub fn shutdown(&self, timeout: Duration) -> Delivery {
        let tp = self.tracer_provider.clone();
        let mp = self.meter_provider.clone();
        let lp = self.logger_provider.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let worker = std::thread::Builder::new().name("wasp-otel-flush".into()).spawn(move || {
            if let Some(p) = tp {
                let _ = p.shutdown_with_timeout(timeout);
            }
            if let Some(p) = mp {
                let _ = p.shutdown_with_timeout(timeout);
            }
            if let Some(p) = lp {
                let _ = p.shutdown_with_timeout(timeout);
            }
            let _ = tx.send(());
        });
        if worker.is_ok() && rx.recv_timeout(timeout).is_err() {
            tracing::warn!("telemetry flush did not finish within {timeout:?}; what was not exported is counted as dropped");
        }
        self.delivery()
    }

    pub fn delivery(&self) -> Delivery {
        let c = &self.counts;
        let ld = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Delivery {
            traces: self.kinds.0.name().into(),
            metrics: self.kinds.1.name().into(),
            logs: self.kinds.2.name().into(),
            spans_exported: ld(&c.spans_exported),
            spans_dropped: ld(&c.spans_ended).saturating_sub(ld(&c.spans_exported)),
            logs_exported: ld(&c.logs_exported),
            logs_dropped: ld(&c.logs_emitted).saturating_sub(ld(&c.logs_exported)),
            metric_exports_ok: ld(&c.metric_exports_ok),
            metric_exports_failed: ld(&c.metric_exports_failed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exporter_names_parse() {
        std::env::set_var("WASP_TEST_EXPORTER_A", "console");
        assert_eq!(exporter("WASP_TEST_EXPORTER_A", "X").unwrap(), Exporter::Console);
        std::env::set_var("WASP_TEST_EXPORTER_A", "None");
        assert_eq!(exporter("WASP_TEST_EXPORTER_A", "X").unwrap(), Exporter::None);
        // unset, and no endpoint for signal WASPTEST: nothing is exported
        assert_eq!(exporter("WASP_TEST_EXPORTER_UNSET", "WASPTEST").unwrap(), Exporter::None);
        std::env::set_var("OTEL_EXPORTER_OTLP_WASPTEST_ENDPOINT", "http://127.0.0.1:1");
        assert_eq!(exporter("WASP_TEST_EXPORTER_UNSET", "WASPTEST").unwrap(), Exporter::Otlp);
        std::env::set_var("WASP_TEST_EXPORTER_A", "zipkin");
        assert!(exporter("WASP_TEST_EXPORTER_A", "X").unwrap_err().message.contains("otlp, console or none"));
    }
}
