//! wasp's log. Every line goes, at the log level, to the OTel log bridge (when
//! logs are exported) and to `--log-file`; the console (stderr) shows them
//! too, but guest lines only from `--guest-log-level` (on a terminal `warn` by
//! default, so the live view stays readable). Writers are non-blocking and
//! lossy: a load generator must never stall because nobody reads its stderr.
//! While the live view is drawn, console lines are printed above it.

use std::collections::VecDeque;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::{Mutex, OnceLock};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// wasp and guests at info; the OpenTelemetry SDK's own chatter only from warn.
pub const DEFAULT_FILTER: &str = "info,opentelemetry=warn,opentelemetry_sdk=warn,opentelemetry_otlp=warn";

/// Warnings the live view shows (the newest last).
const KEPT_WARNINGS: usize = 3;
/// Longest warning kept for the live view, in characters.
const WARNING_CHARS: usize = 200;

/// Where the logs go.
#[derive(Default)]
pub struct Options<'a> {
    /// A level or filter (default `RUST_LOG`, else [`DEFAULT_FILTER`]).
    pub level: Option<&'a str>,
    /// The console's level for guest lines (default: `warn` on a terminal,
    /// the log level otherwise).
    pub guest_level: Option<&'a str>,
    /// Every line at the log level, guests' included, appended to this file.
    pub file: Option<&'a Path>,
}

/// What the live view shares with the log: the bar to print above, and the
/// last warnings.
#[derive(Default)]
pub struct Console {
    bar: Mutex<Option<indicatif::ProgressBar>>,
    warnings: Mutex<VecDeque<String>>,
}

/// The process's console.
pub fn console() -> &'static Console {
    static CONSOLE: OnceLock<Console> = OnceLock::new();
    CONSOLE.get_or_init(Console::default)
}

impl Console {
    /// Console lines are printed above `bar` while it is drawn (None: plainly).
    pub fn attach(&self, bar: Option<indicatif::ProgressBar>) {
        *self.bar.lock().unwrap_or_else(|p| p.into_inner()) = bar;
    }

    /// The last few warnings and errors, oldest first.
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.lock().unwrap_or_else(|p| p.into_inner()).iter().cloned().collect()
    }

    fn keep(&self, line: String) {
        let mut w = self.warnings.lock().unwrap_or_else(|p| p.into_inner());
        if w.len() == KEPT_WARNINGS {
            w.pop_front();
        }
        w.push_back(line);
    }
}

/// stderr, or above the live view while it is drawn.
struct Stderr;

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let bar = console().bar.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match bar {
            Some(bar) if !bar.is_hidden() => bar.suspend(|| std::io::stderr().lock().write_all(buf))?,
            _ => std::io::stderr().lock().write_all(buf)?,
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Keeps warnings and errors for the live view.
struct KeepWarnings;

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0 = value.to_string();
        }
    }
}

impl<S: Subscriber> Layer<S> for KeepWarnings {
    fn on_event(&self, event: &Event<'_>, _cx: Context<'_, S>) {
        let level = *event.metadata().level();
        if level > Level::WARN {
            return;
        }
        let mut m = Message(String::new());
        event.record(&mut m);
        let text: String = m.0.chars().filter(|c| !c.is_control()).take(WARNING_CHARS).collect();
        let who = if event.metadata().target() == "guest" { "guest" } else { "wasp" };
        console().keep(format!("{level} {who}: {text}"));
    }
}

fn filter(spec: &str) -> EnvFilter {
    EnvFilter::try_new(spec).unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER))
}

/// What `init` keeps running: dropping it flushes what is queued.
#[must_use]
pub struct Guard {
    _writers: Vec<WorkerGuard>,
}

/// Sets up logging. Fails (one line) only when the log file cannot be opened.
pub fn init(opts: Options<'_>, logger: Option<&opentelemetry_sdk::logs::SdkLoggerProvider>) -> Result<Guard, String> {
    let base = match opts.level {
        Some(l) => l.to_ascii_lowercase(),
        None => std::env::var("RUST_LOG").ok().filter(|f| EnvFilter::try_new(f).is_ok()).unwrap_or_else(|| DEFAULT_FILTER.to_string()),
    };
    let terminal = std::io::stderr().is_terminal();
    let guest = match opts.guest_level {
        Some(g) => Some(g.to_ascii_lowercase()),
        None if terminal => Some("warn".to_string()),
        None => None,
    };
    let console_spec = match &guest {
        Some(g) => format!("{base},guest={g}"),
        None => base.clone(),
    };
    let mut writers = vec![];
    let (writer, guard) = tracing_appender::non_blocking(Stderr);
    writers.push(guard);
    let console_layer = tracing_subscriber::fmt::layer().with_writer(writer).with_ansi(terminal).with_filter(filter(&console_spec));
    let file_layer = match opts.file {
        Some(path) => {
            let file =
                std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(|e| format!("--log-file {}: cannot open it: {e}", path.display()))?;
            let (writer, guard) = tracing_appender::non_blocking(file);
            writers.push(guard);
            Some(tracing_subscriber::fmt::layer().with_writer(writer).with_ansi(false).with_filter(filter(&base)))
        }
        None => None,
    };
    let otel = logger.map(|l| wasp_telemetry::logs::bridge(l).with_filter(filter(&base)));
    let _ = tracing_subscriber::registry().with(console_layer).with(file_layer).with(otel).with(KeepWarnings.with_filter(filter(&base))).try_init();
    Ok(Guard { _writers: writers })
}

/// True when `level` is a level or filter [`init`] accepts.
pub fn valid(level: &str) -> bool {
    EnvFilter::try_new(level.to_ascii_lowercase()).is_ok()
}
