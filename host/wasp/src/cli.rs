//! The command line (clap derive). Every option also reads `WASP_<NAME>`, and
//! where Locust has an equivalent, Locust's variable (see [`LOCUST_ALIASES`]).

use wasp_runner::units::{parse_duration, parse_positive_duration, parse_positive_rate, parse_size};

/// The most users one process is asked to run.
pub const MAX_USERS: u64 = 10_000_000;

/// The executors' names (k6's, with users for VUs).
pub const EXECUTORS: [&str; 6] =
    ["constant-users", "ramping-users", "constant-arrival-rate", "ramping-arrival-rate", "shared-iterations", "per-user-iterations"];
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;
use wasp_runner::Wait;

#[derive(Debug, Parser)]
#[command(
    name = "wasp",
    version,
    about = "Load testing with WebAssembly users",
    long_about = "Load testing with WebAssembly users.\n\n\
        Simulated users are WebAssembly components (world wasp:plugin/user) that the host runs \
        by the thousand, each in its own sandbox, giving them HTTP, cookies, baggage, logs and spans. \
        Every request is traced with OpenTelemetry, configured by the standard OTEL_* variables.\n\n\
        Every option can also be set in the environment as WASP_<OPTION> (e.g. WASP_USERS); \
        options that Locust has also read Locust's variable (LOCUST_USERS, LOCUST_SPAWN_RATE, \
        LOCUST_HOST, LOCUST_RUN_TIME, LOCUST_STOP_TIMEOUT, LOCUST_TAGS, LOCUST_EXCLUDE_TAGS, \
        LOCUST_LOGLEVEL, LOCUST_ONLY_SUMMARY, LOCUST_EXIT_CODE_ON_ERROR, LOCUST_CSV, \
        LOCUST_CSV_FULL_HISTORY, LOCUST_AUTOSTART, LOCUST_AUTOQUIT, LOCUST_WEB_HOST; \
        LOCUST_HEADLESS=false with LOCUST_WEB_PORT serves the web UI). The command line wins \
        over WASP_*, which wins over LOCUST_*.\n\n\
        Exit codes: 0 passed, 1 a threshold failed or (without thresholds) failures or errors \
        (see --exit-code-on-error), 2 usage error, \
        3 plugin could not be loaded, 4 stopped by a signal before anything was measured, \
        5 the run measured nothing, 6 a result file could not be written, \
        7 --abort-on-threshold stopped the run, 8 shards missing (the start barrier or merge --wait timed out), \
        70 internal error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a plugin's users against a target.
    Run(RunArgs),
    /// Merge the --json results of several runs (e.g. one per machine) into one,
    /// exactly: merged percentiles are those of all samples together.
    Merge(MergeArgs),
    /// The OpenTelemetry demo in one command: a stand-in shop on loopback and the
    /// otel-demo plugin's shoppers against it (run options as for `wasp run`).
    Demo(DemoArgs),
    /// Serve the stand-in shop (the OpenTelemetry demo's frontend routes and data)
    /// and its OFREP flag service, for any plugin or load generator to use.
    Shop(ShopArgs),
    /// Describe a plugin without running it: WIT package, behaviour, tasks and
    /// weights, wait, imports, size, compile time.
    Inspect(InspectArgs),
    /// Scenario files (`--scenarios`): print an annotated example, or check one.
    Scenarios(ScenariosArgs),
    /// Print a shell completion script: `wasp completions bash > /etc/bash_completion.d/wasp`.
    Completions(CompletionsArgs),
    /// Print the manual page (roff): `wasp man | man -l -`.
    Man,
    /// Print the Kubernetes objects (YAML) of a run spread over N pods: the
    /// plugin, a headless Service, an Indexed Job of shards and a merge Job:
    /// `wasp k8s --shards 4 plugin.wasm -u 1000 -t 10m -H http://shop:8080 | kubectl apply -f -`.
    K8s(K8sArgs),
    /// Start a plugin project (outside this repository) in Rust, Python or
    /// JavaScript: code with a GET and a POST task, the build file, .gitignore
    /// and a README with the build and run commands.
    New(NewArgs),
}

/// A plugin's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    Rust,
    Python,
    Js,
}

impl Lang {
    pub fn name(self) -> &'static str {
        match self {
            Lang::Rust => "Rust",
            Lang::Python => "Python",
            Lang::Js => "JavaScript",
        }
    }
}

#[derive(Debug, Args, Clone)]
pub struct NewArgs {
    /// The project's (and package's) name.
    #[arg(value_name = "NAME")]
    pub name: String,

    /// The plugin's language.
    #[arg(long, value_enum, default_value = "rust")]
    pub lang: Lang,

    /// Where to write it (default: a folder NAME here); it must be empty or new.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Use the SDK from this folder (a wasp checkout, or the SDK's own folder)
    /// instead of the package registry's.
    #[arg(long, value_name = "DIR")]
    pub sdk: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct K8sArgs {
    /// How many shards (pods) the run is spread over.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=wasp_runner::segment::MAX_SHARDS as i64), value_name = "N")]
    pub shards: u32,

    /// The objects' base name (pods are NAME-0, NAME-1, …).
    #[arg(long, default_value = "wasp", value_name = "NAME")]
    pub name: String,

    /// The namespace of the objects (default: kubectl's).
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,

    /// The image with the wasp binary (built from the repository's Dockerfile).
    #[arg(long, default_value = concat!("wasp:", env!("CARGO_PKG_VERSION")), value_name = "IMAGE")]
    pub image: String,

    /// The plugin's path inside the image, instead of a ConfigMap of the local
    /// file (needed above 900 KiB, e.g. Python plugins).
    #[arg(long, value_name = "PATH")]
    pub plugin_in_image: Option<String>,

    /// CPU per shard (requests and limits), e.g. 1 or 500m.
    #[arg(long, value_name = "CPU")]
    pub cpu: Option<String>,

    /// Memory per shard (requests and limits), e.g. 1Gi.
    #[arg(long, value_name = "SIZE")]
    pub memory: Option<String>,

    /// Size of the results volume (ReadWriteMany).
    #[arg(long, default_value = "1Gi", value_name = "SIZE")]
    pub storage: String,

    /// Storage class of the results volume (default: the cluster's).
    #[arg(long, value_name = "CLASS")]
    pub storage_class: Option<String>,

    /// How long the merge waits for every shard's result (default: the
    /// barrier timeout, the run time and the stop timeout, plus 5 minutes).
    #[arg(long, value_parser = parse_positive_duration, value_name = "TIME")]
    pub merge_wait: Option<Duration>,

    /// The plugin, then `wasp run` options for every shard (not --json,
    /// --segment, --barrier or the web UI's: wasp k8s sets those).
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, value_name = "PLUGIN.wasm [RUN OPTIONS]")]
    pub run: Vec<String>,
}

#[derive(Debug, Args, Clone)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `wasp --version`: the host's version and what it accepts.
pub fn version() -> String {
    format!(
        "{} (plugins: wasp:plugin@{}; wasmtime {})",
        env!("CARGO_PKG_VERSION"),
        wasp_wasm::bindings::ACCEPTED_VERSIONS.join(", "),
        wasp_wasm::WASMTIME_VERSION
    )
}

/// The command line, with the full version.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    let v: &'static str = Box::leak(version().into_boxed_str());
    Cli::command().version(v).long_version(v)
}

#[derive(Debug, Args, Clone)]
pub struct InspectArgs {
    /// The plugin component.
    #[arg(value_name = "PLUGIN.wasm")]
    pub plugin: PathBuf,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,

    /// The users per instance to show the scale for (a 0.2 plugin; see `wasp run`).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=4096), value_name = "K")]
    pub users_per_instance: Option<u32>,
}

#[derive(Debug, Args, Clone)]
pub struct ScenariosArgs {
    /// Print an annotated scenarios file to start from.
    #[arg(long, conflicts_with = "check")]
    pub example: bool,

    /// Check a scenarios file (exit 0, or 2 with the line and the field).
    #[arg(long, value_name = "FILE")]
    pub check: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct ShopArgs {
    /// Port of the shop on 127.0.0.1 (0: any free port, printed at start).
    #[arg(short = 'p', long, env = "WASP_SHOP_PORT", default_value_t = 8080, value_name = "PORT")]
    pub port: u16,

    /// Port of its OFREP flag service (flagd's remote evaluation protocol).
    #[arg(long, env = "WASP_SHOP_OFREP_PORT", default_value_t = 8016, value_name = "PORT")]
    pub ofrep_port: u16,

    /// Address to listen on (loopback unless you say otherwise).
    #[arg(long, env = "WASP_SHOP_BIND", default_value = "127.0.0.1", value_name = "ADDR")]
    pub bind: String,

    /// The flagd flag file the OFREP service serves (default: the demo's own,
    /// built in). Re-read when it changes.
    #[arg(long = "serve-flags", env = "WASP_SHOP_FLAGS", value_name = "FILE")]
    pub flags: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct DemoArgs {
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args, Clone)]
pub struct MergeArgs {
    /// Result files written by `wasp run --json` (or by an earlier merge), or
    /// folders: every shard result (`--segment`) in them.
    #[arg(required = true, value_name = "RESULT.json|DIR")]
    pub inputs: Vec<PathBuf>,

    /// The results of an N-shard run: wait (see --wait) until the N shards'
    /// files are there, each shard once, then merge.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=wasp_runner::segment::MAX_SHARDS as i64), value_name = "N")]
    pub expect: Option<u32>,

    /// With --expect: how long to wait for the shards' results before giving up (exit 8).
    #[arg(long, value_parser = parse_duration, default_value = "0s", value_name = "TIME")]
    pub wait: Duration,

    /// Write the merged result as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Write the merged HTML report.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Write Locust-compatible CSV files of the merged result.
    #[arg(long, value_name = "PREFIX")]
    pub csv: Option<PathBuf>,

    /// More pass/fail criteria for the merged result, besides the inputs' own.
    #[arg(long = "threshold", value_delimiter = ';', value_name = "EXPR")]
    pub thresholds: Vec<String>,
}

#[derive(Debug, Args, Clone)]
pub struct RunArgs {
    /// The plugin: a WebAssembly component built for wasp:plugin/user.
    /// (`wasp demo`: the otel-demo plugin beside the binary unless given.)
    #[arg(env = "WASP_PLUGIN", value_name = "PLUGIN.wasm")]
    pub plugin: Option<PathBuf>,

    /// Base URL of the system under test. Relative request URLs are joined to it
    /// and its origin is allowed. [also LOCUST_HOST]
    #[arg(short = 'H', long, env = "WASP_HOST", value_name = "URL")]
    pub host: Option<String>,

    /// Number of concurrent users. [also LOCUST_USERS]
    #[arg(short = 'u', long, env = "WASP_USERS", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=MAX_USERS), value_name = "N")]
    pub users: u64,

    /// Users started per second. [also LOCUST_SPAWN_RATE]
    #[arg(short = 'r', long, env = "WASP_SPAWN_RATE", default_value = "1", value_parser = parse_positive_rate, value_name = "R")]
    pub spawn_rate: f64,

    /// Stop after this long, e.g. 30s, 5m, 1h30m (a bare number is seconds).
    /// Without it, run until Ctrl-C. [also LOCUST_RUN_TIME]
    #[arg(short = 't', long, env = "WASP_RUN_TIME", value_parser = parse_positive_duration, value_name = "TIME")]
    pub run_time: Option<Duration>,

    /// At the stop, how long running tasks may take to finish before they are
    /// cut short (their users then skip on-stop). [also LOCUST_STOP_TIMEOUT]
    #[arg(long, env = "WASP_STOP_TIMEOUT", value_parser = parse_duration, default_value = "0s", value_name = "TIME")]
    pub stop_timeout: Duration,

    /// Only run tasks with one of these tags (comma-separated). [also LOCUST_TAGS]
    #[arg(short = 'T', long, env = "WASP_TAGS", value_delimiter = ',', value_name = "TAG")]
    pub tags: Vec<String>,

    /// Never run tasks with any of these tags (comma-separated). [also LOCUST_EXCLUDE_TAGS]
    #[arg(short = 'E', long, env = "WASP_EXCLUDE_TAGS", value_delimiter = ',', value_name = "TAG")]
    pub exclude_tags: Vec<String>,

    /// Seed for reproducible runs: the same seed gives every user the same task
    /// choices, waits and guest random numbers.
    #[arg(long, env = "WASP_SEED", value_name = "N")]
    pub seed: Option<u64>,

    /// Linear memory cap per user (e.g. 16MiB); a user that grows past it traps alone.
    #[arg(long, env = "WASP_MAX_USER_MEMORY", default_value = "64MiB", value_parser = parse_size, value_name = "SIZE")]
    pub max_user_memory: u64,

    /// Linear memory cap of one instance that users of a wasp:plugin@0.2 plugin
    /// share (at most 4GiB); by default --users-per-instance times
    /// --max-user-memory. An instance that grows past it traps, and its users
    /// restart.
    #[arg(long, env = "WASP_MAX_INSTANCE_MEMORY", value_parser = parse_size, value_name = "SIZE")]
    pub max_instance_memory: Option<u64>,

    /// Users sharing one instance of a wasp:plugin@0.2 plugin (default 64): each
    /// instance's memory cap is this times --max-user-memory (unless
    /// --max-instance-memory), and a trap or a killed task restarts that
    /// instance's users. 1 gives every user its own instance. 0.1 plugins
    /// always run one user per instance.
    #[arg(long, env = "WASP_USERS_PER_INSTANCE", value_parser = clap::value_parser!(u32).range(1..=4096), value_name = "K")]
    pub users_per_instance: Option<u32>,

    /// More origins guests may reach besides --host: http://host:port, host:port
    /// or a bare host name (any port). Repeat or separate with commas.
    #[arg(long, env = "WASP_ALLOW_HOST", value_delimiter = ',', value_name = "ORIGIN")]
    pub allow_host: Vec<String>,

    /// Timeout of one request (redirects included), unless the plugin sets its own.
    #[arg(long, env = "WASP_REQUEST_TIMEOUT", value_parser = parse_positive_duration, default_value = "60s", value_name = "TIME")]
    pub request_timeout: Duration,

    /// Most of a response body handed to the guest; the rest is read and counted, not kept.
    #[arg(long, env = "WASP_MAX_BODY", value_parser = parse_size, default_value = "1MiB", value_name = "SIZE")]
    pub max_body: u64,

    /// All users share one connection pool (fewer connections than users)
    /// instead of each user owning its own keep-alive connections.
    #[arg(long, env = "WASP_SHARED_CONNECTIONS")]
    pub shared_connections: bool,

    /// Guest CPU time one task (or on-start/on-stop) may use, network waits not
    /// counted; past it the task is killed and the user restarted.
    #[arg(long, env = "WASP_TASK_BUDGET", value_parser = parse_positive_duration, default_value = "10s", value_name = "TIME")]
    pub task_budget: Duration,

    /// Override the plugin's wait between tasks: `none`, `500ms` (constant),
    /// `1s..10s` (uniformly between), `pacing:1s` (a task every second).
    #[arg(long, env = "WASP_WAIT", value_parser = parse_wait, value_name = "WAIT")]
    pub wait: Option<Wait>,

    /// The most users at once: the instance pool's size (default: what the
    /// executor needs), and for arrival-rate executors how far the pool may
    /// grow when no user is free (default: 1,000, at least --pre-allocated).
    #[arg(long, env = "WASP_MAX_USERS", value_parser = clap::value_parser!(u32).range(1..=MAX_USERS as i64), value_name = "N")]
    pub max_users: Option<u32>,

    /// How users or iterations come and go (k6's executors): constant-users
    /// (the default: -u users, started at -r per second), ramping-users
    /// (--stages), constant-arrival-rate (--rate), ramping-arrival-rate
    /// (--rate-stages), shared-iterations or per-user-iterations (--iterations).
    /// Without it, the executor follows from the options given.
    #[arg(long, env = "WASP_EXECUTOR", value_parser = EXECUTORS, value_name = "NAME")]
    pub executor: Option<String>,

    /// ramping-users: DURATION:USERS stages, linear between them, e.g.
    /// `30s:100,2m:100,30s:0` (from 0 users). Ramping down, users finish their task first.
    #[arg(long, env = "WASP_STAGES", value_name = "STAGES")]
    pub stages: Option<String>,

    /// constant-arrival-rate: iterations (one task each) started per second,
    /// whatever the target does: `200/s`, `30/m`, `5000/h` (a bare number is per second).
    #[arg(long, env = "WASP_RATE", value_parser = parse_positive_rate, value_name = "RATE")]
    pub rate: Option<f64>,

    /// ramping-arrival-rate: DURATION:RATE stages from 0/s, e.g. `30s:10/s,1m:200/s,30s:0/s`.
    #[arg(long, env = "WASP_RATE_STAGES", value_name = "STAGES")]
    pub rate_stages: Option<String>,

    /// Arrival-rate executors: users made before the start (default: --users).
    #[arg(long, env = "WASP_PRE_ALLOCATED", value_parser = clap::value_parser!(u64).range(1..=MAX_USERS), value_name = "N")]
    pub pre_allocated: Option<u64>,

    /// Arrival-rate executors: `even` (one every 1/rate) or `poisson`
    /// (exponential gaps, as independent users arrive).
    #[arg(long, env = "WASP_ARRIVALS", value_parser = ["even", "poisson"], default_value = "even", value_name = "HOW")]
    pub arrivals: String,

    /// shared-iterations (the default with this option): this many task runs
    /// in all, shared by the users; per-user-iterations: this many each. The
    /// run ends when they are done (or at --run-time).
    #[arg(long, env = "WASP_ITERATIONS", value_parser = clap::value_parser!(u64).range(1..), value_name = "N")]
    pub iterations: Option<u64>,

    /// Several workloads in one run, from a TOML file (`wasp scenarios
    /// --example` prints an annotated one). Replaces the executor options.
    #[arg(long, env = "WASP_SCENARIOS", value_name = "FILE")]
    pub scenarios: Option<PathBuf>,

    /// Baggage every user starts with, besides synthetic_request=true
    /// (repeat, or separate with commas): key=value.
    #[arg(long, env = "WASP_BAGGAGE", value_delimiter = ',', value_parser = parse_key_value, value_name = "KEY=VALUE")]
    pub baggage: Vec<(String, String)>,

    /// Do not start users with the synthetic_request=true baggage.
    #[arg(long, env = "WASP_NO_SYNTHETIC_BAGGAGE")]
    pub no_synthetic_baggage: bool,

    /// At the end, how long telemetry may take to flush before what is left is dropped.
    #[arg(long, env = "WASP_TELEMETRY_TIMEOUT", value_parser = parse_duration, default_value = "5s", value_name = "TIME")]
    pub telemetry_timeout: Duration,

    /// A pass/fail criterion, repeatable: `p95<300ms`, `p99<1s`, `avg<100ms`,
    /// `fail_ratio<0.01`, `rps>100`, or for one name: `"GET /api/cart: p95<200ms"`.
    /// Any failed threshold makes the exit code 1.
    #[arg(long = "threshold", env = "WASP_THRESHOLD", value_delimiter = ';', value_name = "EXPR")]
    pub thresholds: Vec<String>,

    /// Stop the run as soon as a threshold fails (checked every second, after the first 2 s).
    #[arg(long, env = "WASP_ABORT_ON_THRESHOLD")]
    pub abort_on_threshold: bool,

    /// Write Locust-compatible CSV files: PREFIX_stats.csv, PREFIX_stats_history.csv
    /// (appended every second), PREFIX_failures.csv, PREFIX_exceptions.csv. [also LOCUST_CSV]
    #[arg(long, env = "WASP_CSV", value_name = "PREFIX")]
    pub csv: Option<PathBuf>,

    /// In the history CSV, a row per request name each interval, not only the
    /// Aggregated one. [also LOCUST_CSV_FULL_HISTORY]
    #[arg(long, env = "WASP_CSV_FULL_HISTORY")]
    pub csv_full_history: bool,

    /// Write the results as JSON to this file.
    #[arg(long, env = "WASP_JSON", value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Write a self-contained HTML report (charts, tables, thresholds) to this file.
    #[arg(long, env = "WASP_HTML", value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Print only the final summary, no live table. [also LOCUST_ONLY_SUMMARY]
    #[arg(long, env = "WASP_ONLY_SUMMARY")]
    pub only_summary: bool,

    /// How often the live table is printed.
    #[arg(long, env = "WASP_STATS_INTERVAL", value_parser = parse_positive_duration, default_value = "2s", value_name = "TIME")]
    pub stats_interval: Duration,

    /// Exit code when the run had any failure or error. [also LOCUST_EXIT_CODE_ON_ERROR]
    #[arg(long, env = "WASP_EXIT_CODE_ON_ERROR", default_value_t = 1, value_parser = clap::value_parser!(i32).range(0..=255), value_name = "CODE")]
    pub exit_code_on_error: i32,

    /// Let a run that completed no request pass (by default it exits 5:
    /// a test that measured nothing must not look like a success).
    #[arg(long, env = "WASP_ALLOW_EMPTY")]
    pub allow_empty: bool,

    /// Reload the plugin when its file changes: users finish their current task
    /// and go on with the new version; a broken version is refused and the old
    /// one keeps running.
    #[arg(long, env = "WASP_WATCH")]
    pub watch: bool,

    /// Run shard I (from 0) of N of a distributed run: this process runs its
    /// share of every scenario (users, stages, arrival rates, iterations) and
    /// the N shards together run the plan exactly once. Its exit code then says
    /// only whether it ran (0) or aborted (7, 8); `wasp merge` gives the verdict.
    #[arg(long, env = "WASP_SEGMENT", value_parser = parse_segment, value_name = "I/N", conflicts_with = "segments")]
    pub segment: Option<wasp_runner::Segment>,

    /// Run one of N shards, shard number from JOB_COMPLETION_INDEX (as a
    /// Kubernetes Indexed Job sets it).
    #[arg(long, env = "WASP_SEGMENTS", value_parser = clap::value_parser!(u32).range(1..=wasp_runner::segment::MAX_SHARDS as i64), value_name = "N")]
    pub segments: Option<u32>,

    /// Start the load at this instant: a UTC time (2026-12-02T10:00:00Z) or a
    /// delay from now (30s). With --barrier, the later of the two.
    #[arg(long, env = "WASP_START_AT", value_name = "TIME")]
    pub start_at: Option<String>,

    /// Start only when every shard is ready: the shards' host:port, comma
    /// separated, in shard order, `{A..B}` expanded (wasp-{0..3}.wasp-peers:7357).
    /// This shard serves its readiness at --barrier-listen; all start together.
    #[arg(long, env = "WASP_BARRIER", value_name = "PEERS")]
    pub barrier: Option<String>,

    /// Where this shard answers the barrier (default: every address, on the port of its own --barrier entry).
    #[arg(long, env = "WASP_BARRIER_LISTEN", value_name = "ADDR:PORT")]
    pub barrier_listen: Option<String>,

    /// How long to wait for the other shards at the barrier (then exit 8).
    #[arg(long, env = "WASP_BARRIER_TIMEOUT", value_parser = parse_positive_duration, default_value = "5m", value_name = "TIME")]
    pub barrier_timeout: Duration,

    /// A flagd flag file (JSON) to evaluate feature flags from, re-read when it
    /// changes. Without it, flags come from OFREP at --ofrep-url, else at
    /// http://$FLAGD_HOST:$FLAGD_OFREP_PORT (port 8016 by default), else defaults.
    #[arg(long, env = "WASP_FLAGS_FILE", value_name = "FILE")]
    pub flags_file: Option<PathBuf>,

    /// Base URL of an OFREP flag service (e.g. http://flagd:8016).
    #[arg(long, env = "WASP_OFREP_URL", value_name = "URL")]
    pub ofrep_url: Option<String>,

    /// Follow this integer flag for the number of users, live (the demo's
    /// `loadGeneratorVUs`): users are started or stopped at the spawn rate.
    #[arg(long, env = "WASP_USERS_FLAG", value_name = "KEY")]
    pub users_flag: Option<String>,

    /// Arrival-rate executors: follow this number flag for the rate (per second), live.
    #[arg(long, env = "WASP_RATE_FLAG", value_name = "KEY")]
    pub rate_flag: Option<String>,

    /// Pause all traffic while this integer flag is 0, resume when it is 1
    /// (the demo's `loadGeneratorTraffic`).
    #[arg(long, env = "WASP_PAUSE_FLAG", value_name = "KEY")]
    pub pause_flag: Option<String>,

    /// How often --users-flag and --pause-flag are evaluated.
    #[arg(long, env = "WASP_FLAG_POLL_INTERVAL", value_parser = parse_positive_duration, default_value = "10s", value_name = "TIME")]
    pub flag_poll_interval: Duration,

    /// Serve the web UI and its REST API (on --web-port, 8089 by default):
    /// runs are started from the page's form, watched, resized, paused and
    /// stopped there. Without --autostart (or -u on the command line) the
    /// process waits for the form.
    #[arg(long, env = "WASP_WEB")]
    pub web: bool,

    /// The port of the web UI and API (implies --web).
    /// [also LOCUST_WEB_PORT, with LOCUST_HEADLESS=false]
    #[arg(long, env = "WASP_WEB_PORT", value_name = "PORT")]
    pub web_port: Option<u16>,

    /// Address the web UI listens on: loopback unless said otherwise (the
    /// container says 0.0.0.0). [also LOCUST_WEB_HOST]
    #[arg(long, env = "WASP_WEB_HOST", default_value = "127.0.0.1", value_name = "ADDR")]
    pub web_host: String,

    /// Ask for this user and password (HTTP basic authentication) on every
    /// page and API call.
    #[arg(long, env = "WASP_WEB_AUTH", value_parser = parse_user_password, value_name = "USER:PASSWORD", hide_env_values = true)]
    pub web_auth: Option<(String, String)>,

    /// The web UI and API show everything and change nothing (every POST is refused).
    #[arg(long, env = "WASP_WEB_READ_ONLY")]
    pub web_read_only: bool,

    /// With the web UI: start the run at once, as headless would (`-u` on
    /// the command line does too). [also LOCUST_AUTOSTART]
    #[arg(long, env = "WASP_AUTOSTART")]
    pub autostart: bool,

    /// With the web UI and --autostart: quit this long after the run ends
    /// (default 0s); without it the UI stays up for the next run. [also LOCUST_AUTOQUIT]
    #[arg(long, env = "WASP_AUTOQUIT", value_parser = parse_duration, num_args = 0..=1, default_missing_value = "0s", value_name = "TIME")]
    pub autoquit: Option<Duration>,

    /// Set when -u/--users was on the command line (not from a variable):
    /// with the web UI, that starts the run at once.
    #[arg(skip)]
    pub users_on_command_line: bool,

    /// Log level or filter (error, warn, info, debug, trace, or a RUST_LOG-style
    /// filter such as `info,guest=warn`). Default: RUST_LOG, else info. [also LOCUST_LOGLEVEL]
    #[arg(short = 'L', long, env = "WASP_LOG_LEVEL", value_name = "LEVEL")]
    pub log_level: Option<String>,

    /// The console's level for the plugin's log lines and output (off, error,
    /// warn, info, debug, trace). Default: warn on a terminal (the live view
    /// stays readable), the log level otherwise. OTel logs and --log-file get
    /// every line at the log level whatever this says.
    #[arg(long, env = "WASP_GUEST_LOG_LEVEL", value_name = "LEVEL")]
    pub guest_log_level: Option<String>,

    /// Also append every log line (wasp's and the plugin's, at the log level,
    /// without colours) to this file. [also --logfile, LOCUST_LOGFILE]
    #[arg(long, alias = "logfile", env = "WASP_LOG_FILE", value_name = "FILE")]
    pub log_file: Option<std::path::PathBuf>,
}

/// (WASP variable, Locust variable): the Locust one is used when the wasp one is unset.
pub const LOCUST_ALIASES: &[(&str, &str)] = &[
    ("WASP_HOST", "LOCUST_HOST"),
    ("WASP_USERS", "LOCUST_USERS"),
    ("WASP_SPAWN_RATE", "LOCUST_SPAWN_RATE"),
    ("WASP_RUN_TIME", "LOCUST_RUN_TIME"),
    ("WASP_STOP_TIMEOUT", "LOCUST_STOP_TIMEOUT"),
    ("WASP_TAGS", "LOCUST_TAGS"),
    ("WASP_EXCLUDE_TAGS", "LOCUST_EXCLUDE_TAGS"),
    ("WASP_LOG_LEVEL", "LOCUST_LOGLEVEL"),
    ("WASP_LOG_FILE", "LOCUST_LOGFILE"),
    ("WASP_ONLY_SUMMARY", "LOCUST_ONLY_SUMMARY"),
    ("WASP_EXIT_CODE_ON_ERROR", "LOCUST_EXIT_CODE_ON_ERROR"),
    ("WASP_CSV", "LOCUST_CSV"),
    ("WASP_CSV_FULL_HISTORY", "LOCUST_CSV_FULL_HISTORY"),
    ("WASP_AUTOSTART", "LOCUST_AUTOSTART"),
    ("WASP_AUTOQUIT", "LOCUST_AUTOQUIT"),
    ("WASP_WEB_HOST", "LOCUST_WEB_HOST"),
];

/// Locust variables read elsewhere (web UI switch) or knowingly ignored.
const LOCUST_OTHERS: &[&str] = &["LOCUST_HEADLESS", "LOCUST_WEB_PORT", "LOCUST_BROWSER_TRAFFIC_ENABLED", "LOCUST_LOCUSTFILE"];

fn truthy(v: &str) -> bool {
    matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
}

/// Fills unset WASP_* variables from their Locust equivalents. Call before
/// parsing, while the process has one thread. Returns warnings (to log once
/// logging is up) for Locust variables wasp does not support.
pub fn apply_locust_aliases() -> (Vec<String>, Vec<(&'static str, &'static str)>) {
    let mut warnings = vec![];
    let mut copied = vec![];
    // LOCUST_HEADLESS=false asks for the web UI, on LOCUST_WEB_PORT (8089).
    if let Ok(h) = std::env::var("LOCUST_HEADLESS") {
        if !truthy(&h) && std::env::var_os("WASP_WEB_PORT").is_none() {
            let port = std::env::var("LOCUST_WEB_PORT").unwrap_or_else(|_| "8089".into());
            std::env::set_var("WASP_WEB_PORT", port);
        }
    }
    if std::env::var("LOCUST_BROWSER_TRAFFIC_ENABLED").is_ok_and(|v| truthy(&v)) {
        warnings.push("LOCUST_BROWSER_TRAFFIC_ENABLED: browser users are not supported; only HTTP users run".into());
    }
    let mut unknown: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .filter(|k| k.starts_with("LOCUST_") && !LOCUST_OTHERS.contains(&k.as_str()) && !LOCUST_ALIASES.iter().any(|(_, l)| l == k))
        .collect();
    unknown.sort();
    for k in unknown {
        warnings.push(format!("{k} is not supported by wasp; ignored"));
    }
    for (ours, locust) in LOCUST_ALIASES {
        if std::env::var_os(ours).is_none() {
            if let Some(v) = std::env::var_os(locust) {
                // Locust spells booleans "true"/"false"; clap's flags want the same.
                // SAFETY (edition 2021: safe fn): called at start-up before any thread exists.
                std::env::set_var(ours, v);
                copied.push((*ours, *locust));
            }
        }
    }
    (warnings, copied)
}

/// A clap error as one line (without its "error:" and the help hint).
pub fn first_line(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let line = rendered.lines().find(|l| !l.trim().is_empty()).unwrap_or("bad command line");
    let line = line.trim_start_matches("error: ");
    format!("{line} (see wasp --help)")
}

/// When a bad value came from the environment rather than the command line,
/// the one line that names the variable (`WASP_USERS=lots: ...`, or the
/// `LOCUST_` one it was read from). None for other errors.
pub fn env_error(e: &clap::Error, from_locust: &[(&str, &str)]) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    use clap::CommandFactory;
    if !matches!(e.kind(), ErrorKind::ValueValidation | ErrorKind::InvalidValue) {
        return None;
    }
    let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    let long = arg.split_whitespace().next()?.trim_start_matches('-').to_string();
    let cmd = Cli::command();
    let found = cmd.get_subcommands().flat_map(|c| c.get_arguments()).find(|a| a.get_long() == Some(long.as_str()))?;
    let var = found.get_env()?.to_str()?.to_string();
    let on_command_line = std::env::args().skip(1).any(|a| {
        a == format!("--{long}")
            || a.starts_with(&format!("--{long}="))
            || found.get_short().is_some_and(|s| a.starts_with(&format!("-{s}")) && !a.starts_with("--"))
    });
    let value = std::env::var(&var).ok()?;
    if on_command_line {
        return None;
    }
    let shown = from_locust.iter().find(|(ours, _)| *ours == var).map(|(_, l)| l.to_string()).unwrap_or(var);
    // clap's own reason: the text after "for '--flag <X>': " on its first line.
    let rendered = e.render().to_string();
    let first = rendered.lines().next().unwrap_or("").trim_start_matches("error: ");
    let reason = first.split_once("': ").map(|(_, r)| r).unwrap_or(first);
    Some(format!("{shown}={}: {reason} (read for --{long})", wasp_runner::text::printable(&value, 64)))
}

/// `key=value`.
/// `user:password` for --web-auth: a user name without a colon, a password of any text.
pub fn parse_user_password(s: &str) -> Result<(String, String), String> {
    match s.split_once(':') {
        Some((u, p)) if !u.trim().is_empty() && !p.is_empty() => Ok((u.to_string(), p.to_string())),
        _ => Err("give USER:PASSWORD (both non-empty)".into()),
    }
}

pub fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(format!("'{s}' is not key=value")),
    }
}

/// `none`, `500ms`, `1s..10s`, `pacing:1s`.
pub fn parse_segment(s: &str) -> Result<wasp_runner::Segment, String> {
    s.parse()
}

pub fn parse_wait(s: &str) -> Result<Wait, String> {
    s.parse()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent_and_short_forms_work() {
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from(["wasp", "run", "p.wasm", "-H", "http://x", "-u", "5", "-r", "2.5", "-t", "1h30m", "-T", "a,b"]).unwrap();
        let Command::Run(a) = cli.command else { panic!("run") };
        assert_eq!(a.host.as_deref(), Some("http://x"));
        assert_eq!((a.users, a.spawn_rate), (5, 2.5));
        assert_eq!(a.run_time, Some(Duration::from_secs(5400)));
        assert_eq!(a.tags, vec!["a", "b"]);
    }

    #[test]
    fn every_option_has_a_wasp_variable() {
        let cmd = Cli::command();
        let run = cmd.find_subcommand("run").unwrap();
        for arg in run.get_arguments() {
            if ["help", "version"].contains(&arg.get_id().as_str()) {
                continue;
            }
            let env = arg.get_env().unwrap_or_else(|| panic!("--{} has no env", arg.get_id()));
            assert!(env.to_str().unwrap().starts_with("WASP_"));
        }
    }
}
