//! wasp's log: stderr through a non-blocking, lossy writer (a load generator
//! must never stall because nobody reads its stderr: a full pipe drops lines
//! instead), and, when OTel logs are exported, the OTel log bridge.

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// wasp and guests at info; the OpenTelemetry SDK's own chatter only from warn.
pub const DEFAULT_FILTER: &str = "info,opentelemetry=warn,opentelemetry_sdk=warn,opentelemetry_otlp=warn";

/// Sets up logging at `level` (a level or filter; default `RUST_LOG`, else
/// [`DEFAULT_FILTER`]). Keep the guard until exit: dropping it flushes what is queued.
#[must_use]
pub fn init(level: Option<&str>, logger: Option<&opentelemetry_sdk::logs::SdkLoggerProvider>) -> tracing_appender::non_blocking::WorkerGuard {
    use std::io::IsTerminal;
    let filter = match level {
        Some(l) => EnvFilter::try_new(l.to_ascii_lowercase()),
        None => EnvFilter::try_from_default_env().or_else(|_| EnvFilter::try_new(DEFAULT_FILTER)),
    }
    .unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let (writer, guard) = tracing_appender::non_blocking(std::io::stderr());
    let fmt = tracing_subscriber::fmt::layer().with_writer(writer).with_ansi(std::io::stderr().is_terminal());
    let otel = logger.map(wasp_telemetry::logs::bridge);
    let _ = tracing_subscriber::registry().with(filter).with(fmt).with(otel).try_init();
    guard
}

/// True when `level` is a level or filter [`init`] accepts.
pub fn valid(level: &str) -> bool {
    EnvFilter::try_new(level.to_ascii_lowercase()).is_ok()
}
