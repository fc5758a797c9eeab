//! A run's settings, checked: what the CLI said, turned into values the
//! runner and the imports can use. Bad values are usage errors (exit 2).

use crate::cli::RunArgs;
use crate::exit::Fatal;
use crate::scenarios::{ExecutorOptions, ScenarioConfig};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};
use url::Url;
use wasp_http::AllowList;
use wasp_runner::stats::DEFAULT_SCENARIO;
use wasp_runner::Segment;

#[derive(Debug, Clone)]
pub struct RunConfig {
    pub plugin: PathBuf,
    pub host: Option<Url>,
    pub allow: AllowList,
    /// The workloads: one from the command line, or a `--scenarios` file's.
    pub scenarios: Vec<ScenarioConfig>,
    pub run_time: Option<Duration>,
    pub stop_timeout: Duration,
    pub seed: Option<u64>,
    pub max_user_memory: usize,
    /// `--users-per-instance`, when given (a 0.2 plugin's default otherwise).
    pub users_per_instance: Option<u32>,
    pub max_instance_memory: Option<usize>,
    pub request_timeout: Duration,
    pub max_body: usize,
    pub shared_connections: bool,
    pub task_budget: Duration,
    pub capacity: u32,
    pub json: Option<PathBuf>,
    pub html: Option<PathBuf>,
    pub live: bool,
    pub stats_interval: Duration,
    pub exit_code_on_error: i32,
    pub allow_empty: bool,
    pub baggage: Vec<(String, String)>,
    pub telemetry_timeout: Duration,
    pub thresholds: Vec<wasp_report::thresholds::Threshold>,
    pub abort_on_threshold: bool,
    pub csv: Option<PathBuf>,
    pub csv_full_history: bool,
    pub flags: wasp_flags::Source,
    pub users_flag: Option<String>,
    pub rate_flag: Option<String>,
    pub pause_flag: Option<String>,
    pub flag_poll_interval: Duration,
    /// The web UI and API's address; None: headless.
    pub web: Option<std::net::SocketAddr>,
    pub web_auth: Option<(String, String)>,
    pub web_read_only: bool,
    /// With the web UI: start at once (--autostart, or -u on the command line).
    pub autostart: bool,
    /// With the web UI and autostart: quit this long after the run.
    pub autoquit: Option<Duration>,
    pub watch: bool,
    /// This process's part of a distributed run.
    pub segment: Segment,
    /// When the load starts (`--start-at`), if not at once.
    pub start_at: Option<SystemTime>,
    pub barrier: Option<Barrier>,
}

/// The start barrier's settings.
#[derive(Debug, Clone)]
pub struct Barrier {
    /// Every shard's host:port, shard i the i-th.
    pub peers: Vec<String>,
    pub listen: std::net::SocketAddr,
    pub timeout: Duration,
}

/// The segment the command line asks for: `--segment I/N`, or `--segments N`
/// with I from JOB_COMPLETION_INDEX; the whole run otherwise.
pub fn segment(a: &RunArgs) -> Result<Segment, Fatal> {
    match (a.segment, a.segments) {
        (Some(s), _) => Ok(s),
        (None, Some(n)) => {
            let index = std::env::var("JOB_COMPLETION_INDEX").map_err(|_| {
                Fatal::usage(format!(
                    "--segments {n} takes this shard's number from JOB_COMPLETION_INDEX, which is not set (an Indexed Job sets it); or give --segment I/{n}"
                ))
            })?;
            let i = index.trim().parse::<u32>().map_err(|_| Fatal::usage(format!("JOB_COMPLETION_INDEX '{index}' is not a whole number")))?;
            Segment::new(i, n).map_err(|e| Fatal::usage(format!("JOB_COMPLETION_INDEX={i} with --segments {n}: {e}")))
        }
        (None, None) => Ok(Segment::WHOLE),
    }
}

fn barrier(a: &RunArgs, segment: Segment) -> Result<Option<Barrier>, Fatal> {
    let Some(list) = &a.barrier else {
        if a.barrier_listen.is_some() {
            return Err(Fatal::usage("--barrier-listen goes with --barrier"));
        }
        return Ok(None);
    };
    if segment.is_whole() {
        return Err(Fatal::usage("--barrier is for the shards of a distributed run: give --segment I/N or --segments N"));
    }
    let peers = wasp_cluster::peers::expand(list).map_err(|e| Fatal::usage(format!("--barrier: {e}")))?;
    if peers.len() != segment.count as usize {
        return Err(Fatal::usage(format!("--barrier lists {} peers for {} shards: list every shard, in order", peers.len(), segment.count)));
    }
    let listen = match &a.barrier_listen {
        Some(l) => l.trim().parse().map_err(|_| Fatal::usage(format!("--barrier-listen '{l}' is not ADDRESS:PORT (e.g. 0.0.0.0:7357)")))?,
        None => {
            let port = wasp_cluster::peers::port(&peers[segment.index as usize]).map_err(|e| Fatal::usage(format!("--barrier: {e}")))?;
            std::net::SocketAddr::from(([0, 0, 0, 0], port))
        }
    };
    Ok(Some(Barrier { peers, listen, timeout: a.barrier_timeout }))
}

/// The web UI's port when --web gives none (Locust's).
pub const DEFAULT_WEB_PORT: u16 = 8089;

impl RunConfig {
    pub fn from_args(a: &RunArgs) -> Result<Self, Fatal> {
        let mut allow = AllowList::default();
        let host = match a.host.as_deref().map(str::trim) {
            None => None,
            Some("") => return Err(Fatal::usage("--host is empty: give a base URL such as http://127.0.0.1:8080, or leave it out")),
            Some(h) => {
                let url = Url::parse(h).map_err(|e| Fatal::usage(format!("--host '{h}' is not a URL: {e}")))?;
                if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                    return Err(Fatal::usage(format!("--host '{h}' must be an http:// or https:// URL with a host")));
                }
                allow.add(&url.origin().ascii_serialization()).map_err(Fatal::usage)?;
                Some(url)
            }
        };
        for h in &a.allow_host {
            allow.add(h).map_err(|e| Fatal::usage(format!("--allow-host: {e}")))?;
        }
        // Ranges (users, rates, durations, sizes, exit codes) were checked by
        // the CLI's value parsers; what is left depends on several options.
        if a.max_user_memory < 64 << 10 {
            return Err(Fatal::usage("--max-user-memory must be at least 64KiB (one Wasm page)"));
        }
        match a.max_instance_memory {
            Some(m) if m < 64 << 10 => return Err(Fatal::usage("--max-instance-memory must be at least 64KiB (one Wasm page)")),
            Some(m) if m > wasp_wasm::engine::MAX_INSTANCE_MEMORY as u64 => {
                return Err(Fatal::usage("--max-instance-memory must be at most 4GiB (a 32-bit Wasm memory's most)"))
            }
            _ => {}
        }
        let thresholds = a
            .thresholds
            .iter()
            .filter(|t| !t.trim().is_empty())
            .map(|t| t.parse::<wasp_report::thresholds::Threshold>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(Fatal::usage)?;
        if a.abort_on_threshold && thresholds.is_empty() {
            return Err(Fatal::usage("--abort-on-threshold needs at least one --threshold"));
        }
        let scenarios = scenarios(a)?;
        // The instance pool: room for every scenario's most users at once; a
        // users flag may grow closed pools, so room for the demo's largest setting then.
        let most: u64 = scenarios.iter().map(|s| s.executor.max_users()).sum();
        let closed_flag = a.users_flag.is_some() && scenarios.iter().any(|s| !s.executor.is_open());
        let capacity = most.max(if closed_flag { 100 } else { 1 }).max(a.max_users.unwrap_or(0) as u64).min(u32::MAX as u64) as u32;
        for (flag, path) in [("--json", &a.json), ("--html", &a.html)] {
            // `--json -`: the result as the last line of stdout.
            if let Some(p) = path.as_ref().filter(|p| flag != "--json" || p.as_os_str() != "-") {
                writable(flag, p)?;
            }
        }
        if let Some(prefix) = &a.csv {
            writable("--csv", &wasp_report::csv::path(prefix, "stats"))?;
        }
        if let Some(f) = &a.flags_file {
            if !f.is_file() {
                return Err(Fatal::usage(format!("--flags-file {}: no such file", f.display())));
            }
        }
        let web = match a.web_port.or(a.web.then_some(DEFAULT_WEB_PORT)) {
            None => None,
            Some(port) => Some(
                format!("{}:{port}", a.web_host.trim())
                    .parse::<std::net::SocketAddr>()
                    .or_else(|_| format!("[{}]:{port}", a.web_host.trim()).parse())
                    .map_err(|_| Fatal::usage(format!("--web-host '{}' is not an IP address", a.web_host)))?,
            ),
        };
        let segment = segment(a)?;
        let barrier = barrier(a, segment)?;
        let start_at = match &a.start_at {
            Some(t) => Some(wasp_cluster::start::parse(t, SystemTime::now()).map_err(Fatal::usage)?),
            None => None,
        };
        if web.is_some() {
            for (flag, given) in [("--segment", !segment.is_whole()), ("--barrier", barrier.is_some()), ("--start-at", start_at.is_some())] {
                if given {
                    return Err(Fatal::usage(format!("{flag} is for headless runs, not with the web UI")));
                }
            }
        }
        Ok(RunConfig {
            plugin: a.plugin.clone().ok_or_else(|| Fatal::usage("no plugin: wasp run PLUGIN.wasm (or set WASP_PLUGIN)"))?,
            host,
            allow,
            scenarios,
            run_time: a.run_time,
            stop_timeout: a.stop_timeout,
            seed: a.seed,
            max_user_memory: a.max_user_memory as usize,
            users_per_instance: a.users_per_instance,
            max_instance_memory: a.max_instance_memory.map(|m| m as usize),
            request_timeout: a.request_timeout,
            max_body: a.max_body as usize,
            shared_connections: a.shared_connections,
            task_budget: a.task_budget,
            capacity,
            json: a.json.clone(),
            html: a.html.clone(),
            live: !a.only_summary,
            stats_interval: a.stats_interval.max(Duration::from_millis(100)),
            exit_code_on_error: a.exit_code_on_error,
            allow_empty: a.allow_empty,
            baggage: {
                let mut b = vec![];
                if !a.no_synthetic_baggage {
                    b.push(("synthetic_request".to_string(), "true".to_string()));
                }
                for (k, v) in &a.baggage {
                    b.retain(|(x, _)| x != k);
                    b.push((k.clone(), v.clone()));
                }
                b
            },
            telemetry_timeout: a.telemetry_timeout,
            thresholds,
            abort_on_threshold: a.abort_on_threshold,
            csv: a.csv.clone(),
            csv_full_history: a.csv_full_history,
            flags: wasp_flags::Source::choose(a.flags_file.clone(), a.ofrep_url.clone()),
            users_flag: a.users_flag.clone().filter(|k| !k.trim().is_empty()),
            rate_flag: a.rate_flag.clone().filter(|k| !k.trim().is_empty()),
            pause_flag: a.pause_flag.clone().filter(|k| !k.trim().is_empty()),
            flag_poll_interval: a.flag_poll_interval.max(Duration::from_millis(100)),
            web,
            web_auth: a.web_auth.clone(),
            web_read_only: a.web_read_only,
            autostart: a.autostart || a.users_on_command_line,
            autoquit: a.autoquit,
            watch: a.watch,
            segment,
            start_at,
            barrier,
        })
    }
}

/// The run's scenarios: a `--scenarios` file's, or the one the command line describes.
fn scenarios(a: &RunArgs) -> Result<Vec<ScenarioConfig>, Fatal> {
    if let Some(file) = &a.scenarios {
        let given = [
            ("--executor", a.executor.is_some()),
            ("--stages", a.stages.is_some()),
            ("--rate", a.rate.is_some()),
            ("--rate-stages", a.rate_stages.is_some()),
            ("--pre-allocated", a.pre_allocated.is_some()),
            ("--iterations", a.iterations.is_some()),
            ("--tags", !a.tags.is_empty()),
            ("--exclude-tags", !a.exclude_tags.is_empty()),
            ("--wait", a.wait.is_some()),
        ];
        if let Some((flag, _)) = given.iter().find(|(_, g)| *g) {
            return Err(Fatal::usage(format!("{flag} does not go with --scenarios: each scenario of the file says its own")));
        }
        return crate::scenarios::read(file, a.stop_timeout).map_err(Fatal::usage);
    }
    let opts = ExecutorOptions {
        executor: a.executor.clone(),
        users: Some(a.users),
        spawn_rate: Some(a.spawn_rate),
        start_users: None,
        stages: a.stages.clone(),
        rate: a.rate,
        start_rate: None,
        rate_stages: a.rate_stages.clone(),
        pre_allocated: a.pre_allocated,
        max_users: a.max_users.map(u64::from),
        arrivals: Some(a.arrivals.clone()),
        iterations: a.iterations,
    };
    let executor = opts.executor(|o| format!("--{o}")).map_err(Fatal::usage)?;
    Ok(vec![ScenarioConfig {
        name: DEFAULT_SCENARIO.into(),
        executor,
        tags: a.tags.iter().filter(|t| !t.is_empty()).cloned().collect(),
        exclude_tags: a.exclude_tags.iter().filter(|t| !t.is_empty()).cloned().collect(),
        wait: a.wait,
        start: Duration::ZERO,
        duration: None,
        graceful_stop: a.stop_timeout,
    }])
}

/// Checks, before the run, that a result file can be written where it is
/// asked for: its folder exists, it is not a folder itself, and a file can be
/// created beside it (made and removed at once). The file itself is written
/// at the end, through a temporary file renamed into place.
pub fn writable(flag: &str, path: &std::path::Path) -> Result<(), Fatal> {
    let shown = path.display();
    if path.is_dir() {
        return Err(Fatal::usage(format!("{flag} {shown} is a folder, not a file")));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    if !dir.is_dir() {
        return Err(Fatal::usage(format!("{flag} {shown}: the folder {} does not exist", dir.display())));
    }
    let probe = dir.join(format!(".{}.wasp-probe-{}", path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default(), std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(Fatal::usage(format!("{flag} {shown} cannot be written: {e}"))),
    }
}
