//! The `wasp` binary: the command line, its checked configuration, and one
//! module per command. The library crates under `host/` do the work; this
//! crate wires them and alone maps errors to exit codes.

mod cli;
mod cmd;
mod config;
mod exit;
mod exporter;
mod logging;
mod scenarios;
mod signals;

use clap::FromArgMatches;
use cli::{apply_locust_aliases, Cli, Command};
use exit::{code, Fatal};
use std::io::Write;
use std::process::ExitCode;

/// mimalloc: per-thread free lists suit the many small, short-lived
/// allocations of each request (a fifth of the CPU under glibc's malloc).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A command's outcome as the process's exit code; an error is one line on stderr.
fn exit_code(result: Result<i32, Fatal>) -> ExitCode {
    let code = result.unwrap_or_else(|fatal| {
        let _ = writeln!(std::io::stderr(), "wasp: error: {fatal}");
        fatal.code
    });
    ExitCode::from(code.clamp(0, 255) as u8)
}

/// Writes generated text to stdout; a reader that stops early (`| head`) is fine.
fn print(text: &[u8]) -> ExitCode {
    match std::io::stdout().write_all(text) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => exit_code(Err(Fatal { code: code::UNWRITTEN, message: format!("cannot write to stdout: {e}") })),
    }
}

/// Runs one command's future on a fresh runtime.
fn block_on(f: impl std::future::Future<Output = Result<i32, Fatal>>) -> ExitCode {
    match tokio::runtime::Runtime::new() {
        Ok(rt) => exit_code(rt.block_on(f)),
        Err(e) => exit_code(Err(Fatal::internal(format!("cannot start the runtime: {e}")))),
    }
}

fn main() -> ExitCode {
    // A bug must still end in one line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let _ = writeln!(std::io::stderr(), "wasp: internal error: {msg}{at}");
        std::process::exit(code::INTERNAL);
    }));
    let (warnings, from_locust) = apply_locust_aliases();
    if std::env::args().nth(1).as_deref() == Some("demo") {
        cmd::demo::apply_defaults();
    }
    let cli = match cli::command().try_get_matches().and_then(|m| Cli::from_arg_matches(&m).map(|c| (c, m))) {
        Ok((mut c, m)) => {
            // `-u` typed on the command line starts a web UI run at once (Locust's rule).
            if let (Command::Run(a) | Command::Demo(cli::DemoArgs { run: a }), Some((_, sub))) = (&mut c.command, m.subcommand()) {
                a.users_on_command_line = sub.value_source("users") == Some(clap::parser::ValueSource::CommandLine);
            }
            c
        }
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand) {
                e.exit();
            }
            // Every usage error is one line, naming the variable when the value came from one.
            let line = cli::env_error(&e, &from_locust).unwrap_or_else(|| cli::first_line(&e));
            return exit_code(Err(Fatal::usage(line)));
        }
    };
    let (args, demo) = match cli.command {
        Command::Run(args) => (args, false),
        Command::Demo(d) => (d.run, true),
        Command::Merge(args) => {
            let _log = logging::init(logging::Options::default(), None);
            return exit_code(cmd::merge::main(args));
        }
        Command::Inspect(args) => {
            let _log = logging::init(logging::Options { level: Some("warn"), ..Default::default() }, None);
            return block_on(cmd::inspect::main(args));
        }
        Command::Shop(args) => {
            let _log = logging::init(logging::Options::default(), None);
            return block_on(cmd::shop::main(args));
        }
        Command::Scenarios(args) => return exit_code(cmd::scenarios(args)),
        Command::Completions(a) => {
            let mut text = vec![];
            clap_complete::generate(a.shell, &mut cli::command(), "wasp", &mut text);
            return print(&text);
        }
        Command::New(a) => return exit_code(cmd::new::main(a)),
        Command::K8s(a) => {
            return match cmd::k8s::main(a) {
                Ok(text) => print(text.as_bytes()),
                Err(e) => exit_code(Err(e)),
            }
        }
        Command::Man => {
            let mut text = vec![];
            if let Err(e) = clap_mangen::Man::new(cli::command()).render(&mut text) {
                return exit_code(Err(Fatal::internal(format!("cannot render the manual page: {e}"))));
            }
            return print(&text);
        }
    };
    if let Some(l) = &args.log_level {
        if !logging::valid(l) {
            return exit_code(Err(Fatal::usage(format!("--log-level '{l}' is not a level (error, warn, info, debug, trace) or filter"))));
        }
    }
    if let Some(l) = &args.guest_log_level {
        if !matches!(l.to_ascii_lowercase().as_str(), "off" | "error" | "warn" | "info" | "debug" | "trace") {
            return exit_code(Err(Fatal::usage(format!("--guest-log-level '{l}' is not a level (off, error, warn, info, debug, trace)"))));
        }
    }
    // A shard's telemetry says which shard it is (before any thread starts).
    match config::segment(&args) {
        Ok(seg) if !seg.is_whole() => {
            let mut attrs = std::env::var("OTEL_RESOURCE_ATTRIBUTES").unwrap_or_default();
            if !attrs.trim().is_empty() {
                attrs.push(',');
            }
            attrs.push_str(&format!("wasp.shard={},wasp.shards={}", seg.index, seg.count));
            std::env::set_var("OTEL_RESOURCE_ATTRIBUTES", attrs);
        }
        Ok(_) => {}
        Err(e) => return exit_code(Err(e)),
    }
    // No CA certificates on this system (a bare image): the bundled roots,
    // set up while the process has one thread; said once logging is up.
    let roots_notice = wasp_http::roots::fall_back_if_none();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => return exit_code(Err(Fatal::internal(format!("cannot start the runtime: {e}")))),
    };
    // Telemetry first: the log bridge needs its logger provider. The gRPC
    // exporters' connections run on a runtime of their own (one thread): on
    // the users' workers, a saturated run kept each batch waiting behind the
    // users' tasks, and the span queue overflowed (a quarter of the spans
    // dropped at 50 users without waits; none on their own thread).
    let export = match exporter::Runtime::start() {
        Ok(r) => r,
        Err(e) => return exit_code(Err(Fatal::internal(format!("cannot start the exporters' runtime: {e}")))),
    };
    let telemetry = {
        let _rt = export.enter();
        match wasp_telemetry::Telemetry::from_env() {
            Ok(t) => std::sync::Arc::new(t),
            Err(e) => return exit_code(Err(e.into())),
        }
    };
    let opts = logging::Options { level: args.log_level.as_deref(), guest_level: args.guest_log_level.as_deref(), file: args.log_file.as_deref() };
    let _log = match logging::init(opts, telemetry.logger_provider()) {
        Ok(g) => g,
        Err(e) => return exit_code(Err(Fatal::usage(e))),
    };
    for w in warnings.into_iter().chain(roots_notice) {
        tracing::warn!("{w}");
    }
    let result = if demo { runtime.block_on(cmd::demo::run(cli::DemoArgs { run: args }, telemetry)) } else { runtime.block_on(cmd::run::run(args, telemetry)) };
    // Users still parked in the runtime are dropped without waiting.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    drop(export);
    exit_code(result)
}
