//! wasp's log lines (and its guests') as OpenTelemetry log records: a
//! `tracing` layer over the logger provider, deaf to the exporters' own
//! crates, which would otherwise feed their logs back into themselves.

use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::logs::{SdkLogger, SdkLoggerProvider};
use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::{Filtered, Targets};
use tracing_subscriber::Layer;

/// Crates whose own logs never become log records.
const QUIET: [&str; 8] = ["opentelemetry", "opentelemetry_sdk", "opentelemetry_otlp", "tonic", "h2", "hyper", "hyper_util", "reqwest"];

/// The bridge layer for `provider`.
pub fn bridge<S>(provider: &SdkLoggerProvider) -> Filtered<OpenTelemetryTracingBridge<SdkLoggerProvider, SdkLogger>, Targets, S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let quiet = QUIET.iter().fold(Targets::new().with_default(tracing::Level::TRACE), |t, c| t.with_target(*c, LevelFilter::OFF));
    OpenTelemetryTracingBridge::new(provider).with_filter(quiet)
}
