//! OpenTelemetry from the standard `OTEL_*` environment: tracer, meter and
//! logger providers with OTLP (gRPC or HTTP/protobuf), console or no export.
//!
//! opentelemetry-otlp reads endpoints, headers, timeouts and protocols; the SDK
//! reads the sampler, the resource and the batch settings. What is ours: the
//! exporter choice per signal, `OTEL_SDK_DISABLED`, `OTEL_PROPAGATORS`, the
//! default service name `wasp`, gRPC as the default protocol (as the demo's
//! load generator), and counting what was exported and what was dropped.
//!
//! Export never blocks the load: ended spans go into wasp's batch list (a
//! short lock, see [`batch`]) and log records into the SDK's batch queue
//! (`try_send`); both are exported on threads of their own.

pub mod batch;
pub mod counting;
pub mod env;
pub mod ids;
pub mod instruments;
pub mod leaf;
pub mod logs;
pub mod otlp;
pub mod process;
pub mod propagation;

pub use counting::Counts;
use counting::{CountEmitted, CountEnded, Counted};
use env::{check_protocol, env, exporter, protocol_unset};
pub use env::{resource, Exporter};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{RandomIdGenerator, SdkTracer, SdkTracerProvider, SpanExporter, SpanProcessor};
pub use propagation::Propagators;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use wasp_report::Delivery;

/// A telemetry setting in the environment that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

fn build_err(signal: &str, e: impl std::fmt::Display) -> ConfigError {
    ConfigError(format!("cannot set up the OTLP {signal} exporter: {e}"))
}

/// A load generator makes tens of thousands of spans a second: unless the
/// environment says otherwise, the span queue holds 8,192 (the SDK's
/// default is 2,048) and each export carries up to 2,048 (512). Fewer,
/// larger exports cost the export threads less per span (over OTLP/HTTP,
/// 0.9 -> 0.34 µs of the client's thread per request on the benchmark),
/// and bursts drop fewer spans.
pub const SPAN_QUEUE: usize = 8192;
pub const SPAN_BATCH: usize = 2048;

/// The run's telemetry. Cheap to share: everything inside is a handle.
pub struct Telemetry {
    /// Records spans; only when traces are exported somewhere.
    pub tracer: Option<SdkTracer>,
    /// Without a tracer, requests still carry a `traceparent`: span contexts
    /// with fresh ids, nothing recorded. None when `OTEL_SDK_DISABLED=true`.
    pub ids: Option<RandomIdGenerator>,
    /// The trace-context headers requests carry (`OTEL_PROPAGATORS`).
    pub propagators: Propagators,
    pub meter_provider: Option<SdkMeterProvider>,
    pub tracer_provider: Option<SdkTracerProvider>,
    pub logger_provider: Option<SdkLoggerProvider>,
    pub counts: Arc<Counts>,
    pub kinds: (Exporter, Exporter, Exporter),
}

impl Telemetry {
    /// No spans, metrics or logs; baggage still propagates.
    pub fn disabled() -> Telemetry {
        Telemetry {
            tracer: None,
            ids: None,
            propagators: Propagators { trace_context: false, baggage: true },
            meter_provider: None,
            tracer_provider: None,
            logger_provider: None,
            counts: Arc::new(Counts::default()),
            kinds: (Exporter::None, Exporter::None, Exporter::None),
        }
    }

    /// Providers from the environment. Must run inside a tokio runtime: the
    /// gRPC exporters' channels live on it (the wasp binary gives them one of
    /// their own, apart from the users' workers).
    pub fn from_env() -> Result<Telemetry, ConfigError> {
        let propagators = Propagators::from_env();
        let counts = Arc::new(Counts::default());
        let disabled = env("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if disabled {
            return Ok(Telemetry { propagators, ..Telemetry::disabled() });
        }
        let kinds = (exporter("OTEL_TRACES_EXPORTER", "TRACES")?, exporter("OTEL_METRICS_EXPORTER", "METRICS")?, exporter("OTEL_LOGS_EXPORTER", "LOGS")?);
        for (kind, signal) in [(kinds.0, "TRACES"), (kinds.1, "METRICS"), (kinds.2, "LOGS")] {
            if kind == Exporter::Otlp {
                check_protocol(signal)?;
            }
        }
        let resource = resource();

        // Traces: a provider only when spans go somewhere; otherwise requests
        // get span contexts without any recording (see `ids`).
        let mut tb = SdkTracerProvider::builder().with_resource(resource.clone());
        fn batch<E: SpanExporter + 'static>(e: E, counts: &Arc<Counts>) -> impl SpanProcessor {
            let counted = Counted { inner: e, counts: counts.clone() };
            let processor = batch::Batcher::new(counted, batch::Batching::from_env(SPAN_QUEUE, SPAN_BATCH));
            CountEnded { inner: processor, counts: counts.clone() }
        }
        match kinds.0 {
            Exporter::Otlp => match (otlp::HttpSpans::from_env()?, otlp::GrpcSpans::from_env()?) {
                (Some(e), _) => tb = tb.with_span_processor(batch(e, &counts)),
                (None, Some(e)) => tb = tb.with_span_processor(batch(e, &counts)),
                (None, None) => {
                    let b = opentelemetry_otlp::SpanExporter::builder();
                    let e = if protocol_unset("TRACES") { b.with_tonic().build() } else { b.build() }.map_err(|e| build_err("traces", e))?;
                    tb = tb.with_span_processor(batch(e, &counts));
                }
            },
            Exporter::Console => {
                tb = tb.with_span_processor(batch(opentelemetry_stdout::SpanExporter::default(), &counts));
            }
            Exporter::None => {}
        }
        let tracer_provider = (kinds.0 != Exporter::None).then(|| tb.build());
        let tracer =
            tracer_provider.as_ref().map(|p| p.tracer_with_scope(InstrumentationScope::builder("wasp").with_version(env!("CARGO_PKG_VERSION")).build()));

        let meter_provider = match kinds.1 {
            Exporter::None => None,
            kind => {
                let mb = SdkMeterProvider::builder().with_resource(resource.clone());
                let mb = match kind {
                    Exporter::Otlp => {
                        let b = opentelemetry_otlp::MetricExporter::builder();
                        let e = if protocol_unset("METRICS") { b.with_tonic().build() } else { b.build() }.map_err(|e| build_err("metrics", e))?;
                        mb.with_reader(PeriodicReader::builder(Counted { inner: e, counts: counts.clone() }).build())
                    }
                    _ => mb.with_reader(
                        PeriodicReader::builder(Counted { inner: opentelemetry_stdout::MetricExporter::default(), counts: counts.clone() }).build(),
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
                        let e = if protocol_unset("LOGS") { b.with_tonic().build() } else { b.build() }.map_err(|e| build_err("logs", e))?;
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

        Ok(Telemetry { tracer, ids: Some(RandomIdGenerator::default()), propagators, meter_provider, tracer_provider, logger_provider, counts, kinds })
    }

    pub fn logger_provider(&self) -> Option<&SdkLoggerProvider> {
        self.logger_provider.as_ref()
    }

    /// Flushes and stops every provider, waiting at most `timeout` in all, and
    /// says what got out. Whatever is not exported by then counts as dropped.
    pub fn shutdown(&self, timeout: Duration) -> Delivery {
        // Nothing is bridged into a logger that is shutting down.
        logs::close();
        self.on_providers(timeout, true);
        self.delivery()
    }

    /// Exports what is buffered now, waiting at most `timeout`, and keeps
    /// every provider running (for the next run of a web UI session).
    pub fn flush(&self, timeout: Duration) -> Delivery {
        self.on_providers(timeout, false);
        self.delivery()
    }

    /// Shuts every provider down (or only flushes them) on a thread of its
    /// own, waiting at most `timeout` for it; past that it goes on unwaited.
    fn on_providers(&self, timeout: Duration, shutdown: bool) {
        let (tp, mp, lp) = (self.tracer_provider.clone(), self.meter_provider.clone(), self.logger_provider.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        let worker = std::thread::Builder::new().name("wasp-otel-flush".into()).spawn(move || {
            if let Some(p) = tp {
                let _ = if shutdown { p.shutdown_with_timeout(timeout) } else { p.force_flush() };
            }
            if let Some(p) = mp {
                let _ = if shutdown { p.shutdown_with_timeout(timeout) } else { p.force_flush() };
            }
            if let Some(p) = lp {
                let _ = if shutdown { p.shutdown_with_timeout(timeout) } else { p.force_flush() };
            }
            let _ = tx.send(());
        });
        if worker.is_ok() && rx.recv_timeout(timeout).is_err() {
            match shutdown {
                true => tracing::warn!("telemetry flush did not finish within {timeout:?}; what was not exported is counted as dropped"),
                false => tracing::warn!("telemetry flush did not finish within {timeout:?}; it goes on in the background"),
            }
        }
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
