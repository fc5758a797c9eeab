//! wasp's log lines (and its guests') as OpenTelemetry log records: a
//! `tracing` layer over the logger provider, deaf to the exporters' own
//! crates, which would otherwise feed their logs back into themselves.

use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use std::sync::atomic::{AtomicBool, Ordering};
use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::{FilterFn, Targets};
use tracing_subscriber::Layer;

/// Open until the telemetry shuts down: a record emitted into a logger that
/// is shutting down only makes the SDK complain.
static OPEN: AtomicBool = AtomicBool::new(true);

/// Stops bridging log lines (before the logger provider shuts down).
pub fn close() {
    OPEN.store(false, Ordering::Relaxed);
}

/// Crates whose own logs never become log records.
const QUIET: [&str; 8] = ["opentelemetry", "opentelemetry_sdk", "opentelemetry_otlp", "tonic", "h2", "hyper", "hyper_util", "reqwest"];

/// The bridge layer for `provider`.
pub fn bridge<S>(provider: &SdkLoggerProvider) -> impl Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let quiet = QUIET.iter().fold(Targets::new().with_default(tracing::Level::TRACE), |t, c| t.with_target(*c, LevelFilter::OFF));
    let filter = FilterFn::new(move |meta| OPEN.load(Ordering::Relaxed) && quiet.would_enable(meta.target(), meta.level()));
    OpenTelemetryTracingBridge::new(provider).with_filter(filter)
}
