use clap::Parser;
use std::io::Write;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;
use wasp::cli::{apply_locust_aliases, Cli, Command};
use wasp::error::exit;

fn init_logging(level: Option<&str>) {
    let filter = match level {
        Some(l) => EnvFilter::try_new(l.to_ascii_lowercase()),
        None => EnvFilter::try_from_default_env().or_else(|_| EnvFilter::try_new("info")),
    }
    .unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
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
    apply_locust_aliases();
    let cli = Cli::parse();
    let Command::Run(args) = cli.command;
    if let Some(l) = &args.log_level {
        if EnvFilter::try_new(l.to_ascii_lowercase()).is_err() {
            let _ = writeln!(std::io::stderr(), "wasp: error: --log-level '{l}' is not a level (error, warn, info, debug, trace) or filter");
            return ExitCode::from(exit::USAGE as u8);
        }
    }
    init_logging(args.log_level.as_deref());
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "wasp: error: cannot start the runtime: {e}");
            return ExitCode::from(exit::INTERNAL as u8);
        }
    };
    let code = match runtime.block_on(wasp::run::run(args)) {
        Ok(code) => code,
        Err(fatal) => {
            let _ = writeln!(std::io::stderr(), "wasp: error: {fatal}");
            fatal.code
        }
    };
    // Users still parked in the runtime are dropped without waiting.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    ExitCode::from(code.clamp(0, 255) as u8)
}
