use clap::Parser;
use std::io::Write;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;
use wasp::cli::{apply_locust_aliases, Cli, Command};
use wasp::error::exit;

/// wasp and guests at info; the OpenTelemetry SDK's own chatter only from warn.
const DEFAULT_FILTER: &str = "info,opentelemetry=warn,opentelemetry_sdk=warn,opentelemetry_otlp=warn";

/// Logs go to stderr and, when OTel logs are exported, to the OTel logger
/// (never the exporters' own logs, which would feed back into themselves).
/// Logs go through a non-blocking, lossy writer: a load generator must never
/// stall because nobody reads its stderr (a full pipe drops lines instead).
/// Keep the guard until exit: dropping it flushes what is queued.
#[must_use]
fn init_logging(level: Option<&str>, logger: Option<&opentelemetry_sdk::logs::SdkLoggerProvider>) -> tracing_appender::non_blocking::WorkerGuard {
    use std::io::IsTerminal;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    let filter = match level {
        Some(l) => EnvFilter::try_new(l.to_ascii_lowercase()),
        None => EnvFilter::try_from_default_env().or_else(|_| EnvFilter::try_new(DEFAULT_FILTER)),
    }
    .unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let (writer, guard) = tracing_appender::non_blocking(std::io::stderr());
    let fmt = tracing_subscriber::fmt::layer().with_writer(writer).with_ansi(std::io::stderr().is_terminal());
    let otel = logger.map(|lp| {
        let quiet = tracing_subscriber::filter::Targets::new()
            .with_default(tracing::Level::TRACE)
            .with_target("opentelemetry", tracing::level_filters::LevelFilter::OFF)
            .with_target("opentelemetry_sdk", tracing::level_filters::LevelFilter::OFF)
            .with_target("opentelemetry_otlp", tracing::level_filters::LevelFilter::OFF)
            .with_target("tonic", tracing::level_filters::LevelFilter::OFF)
            .with_target("h2", tracing::level_filters::LevelFilter::OFF)
            .with_target("hyper", tracing::level_filters::LevelFilter::OFF)
            .with_target("hyper_util", tracing::level_filters::LevelFilter::OFF)
            .with_target("reqwest", tracing::level_filters::LevelFilter::OFF);
        opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge::new(lp).with_filter(quiet)
    });
    let _ = tracing_subscriber::registry().with(filter).with(fmt).with(otel).try_init();
    guard
}

/// A command's outcome as the process's exit code; an error is one line on stderr.
fn exit_code(result: Result<i32, wasp::error::Fatal>) -> ExitCode {
    let code = result.unwrap_or_else(|fatal| {
        let _ = writeln!(std::io::stderr(), "wasp: error: {fatal}");
        fatal.code
    });
    ExitCode::from(code.clamp(0, 255) as u8)
}

/// Runs one command's future on a fresh runtime.
fn block_on(f: impl std::future::Future<Output = Result<i32, wasp::error::Fatal>>) -> ExitCode {
    match tokio::runtime::Runtime::new() {
        Ok(rt) => exit_code(rt.block_on(f)),
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "wasp: error: cannot start the runtime: {e}");
            ExitCode::from(exit::INTERNAL as u8)
        }
    }
}

fn main() -> ExitCode {
    // A bug must still end in one line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let msg = info.payload().downcast_ref::<&str>().map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let _ = writeln!(std::io::stderr(), "wasp: internal error: {msg}{at}");
        std::process::exit(exit::INTERNAL);
    }));
    let warnings = apply_locust_aliases();
    if std::env::args().nth(1).as_deref() == Some("demo") {
        // The demo's own defaults, below the command line and any variable.
        for (ours, locust, value) in [
            ("WASP_USERS", "LOCUST_USERS", wasp::demo::DEMO_USERS),
            ("WASP_SPAWN_RATE", "LOCUST_SPAWN_RATE", wasp::demo::DEMO_SPAWN_RATE),
        ] {
            if std::env::var_os(ours).is_none() && std::env::var_os(locust).is_none() {
                // SAFETY (edition 2021: safe fn): start-up, before any thread exists.
                std::env::set_var(ours, value);
            }
        }
    }
    let cli = Cli::parse();
    let (args, demo) = match cli.command {
        Command::Run(args) => (args, false),
        Command::Demo(d) => (d.run, true),
        Command::Merge(args) => {
            let _log = init_logging(None, None);
            return exit_code(wasp::merge::main(args));
        }
        Command::Inspect(args) => {
            let _log = init_logging(Some("warn"), None);
            return block_on(wasp::inspect::main(args));
        }
        Command::Shop(args) => {
            let _log = init_logging(None, None);
            return block_on(wasp::demo::shop_main(args));
        }
    };
    if let Some(l) = &args.log_level {
        if EnvFilter::try_new(l.to_ascii_lowercase()).is_err() {
            let _ = writeln!(std::io::stderr(), "wasp: error: --log-level '{l}' is not a level (error, warn, info, debug, trace) or filter");
            return ExitCode::from(exit::USAGE as u8);
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "wasp: error: cannot start the runtime: {e}");
            return ExitCode::from(exit::INTERNAL as u8);
        }
    };
    // Telemetry first: the log bridge needs its logger provider, and the gRPC
    // exporters need the runtime.
    let telemetry = {
        let _rt = runtime.enter();
        match wasp::otel::Telemetry::from_env() {
            Ok(t) => std::sync::Arc::new(t),
            Err(fatal) => return exit_code(Err(fatal)),
        }
    };
    let _log = init_logging(args.log_level.as_deref(), telemetry.logger_provider());
    for w in warnings {
        tracing::warn!("{w}");
    }
    let result = if demo {
        runtime.block_on(wasp::demo::run(wasp::cli::DemoArgs { run: args }, telemetry))
    } else {
        runtime.block_on(wasp::run::run(args, telemetry))
    };
    // Users still parked in the runtime are dropped without waiting.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    exit_code(result)
}
