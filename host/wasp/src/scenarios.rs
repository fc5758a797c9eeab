//! Scenarios: the workloads of a run, from the command line (one) or a TOML
//! file (`--scenarios`, several). Checked here, before the plugin is loaded;
//! turned into the runner's plan once its tasks are known. A bad file is one
//! line: the file, the line, the scenario and the field.

use std::path::Path;
use std::time::Duration;
use wasp_runner::plan::{parse_rate_stages, parse_user_stages, Arrivals, Executor, Scenario};
use wasp_runner::units::{parse_duration, parse_positive_rate, parse_rate};
use wasp_runner::{Behaviour, Wait};

/// A scenario as configured: everything but the plugin's tasks.
#[derive(Debug, Clone)]
pub struct ScenarioConfig {
    pub name: String,
    pub executor: Executor,
    pub tags: Vec<String>,
    pub exclude_tags: Vec<String>,
    /// Overrides the plugin's wait (closed executors).
    pub wait: Option<Wait>,
    pub start: Duration,
    pub duration: Option<Duration>,
    pub graceful_stop: Duration,
}

/// The executor options of the command line (or of one file scenario).
#[derive(Debug, Default, Clone)]
pub struct ExecutorOptions {
    pub executor: Option<String>,
    pub users: Option<u64>,
    pub spawn_rate: Option<f64>,
    pub start_users: Option<u64>,
    pub stages: Option<String>,
    pub rate: Option<f64>,
    pub start_rate: Option<f64>,
    pub rate_stages: Option<String>,
    pub pre_allocated: Option<u64>,
    pub max_users: Option<u64>,
    pub arrivals: Option<String>,
    pub iterations: Option<u64>,
}

/// Arrival-rate executors grow to this many users when --max-users is not given.
pub const DEFAULT_OPEN_MAX_USERS: u64 = 1000;

impl ExecutorOptions {
    /// The executor these options ask for (named, or inferred from which
    /// options are given), or what is missing or extra, in one line.
    /// `flag` spells an option as the source does (`--rate`, or `rate`).
    pub fn executor(&self, flag: impl Fn(&str) -> String) -> Result<Executor, String> {
        let name = match self.executor.as_deref() {
            Some(n) => n.to_string(),
            None => {
                let given: Vec<&str> = [
                    ("stages", self.stages.is_some()),
                    ("rate", self.rate.is_some()),
                    ("rate-stages", self.rate_stages.is_some()),
                    ("iterations", self.iterations.is_some()),
                ]
                .iter()
                .filter(|(_, g)| *g)
                .map(|(n, _)| *n)
                .collect();
                match given.as_slice() {
                    [] => "constant-users",
                    ["stages"] => "ramping-users",
                    ["rate"] => "constant-arrival-rate",
                    ["rate-stages"] => "ramping-arrival-rate",
                    ["iterations"] => "shared-iterations",
                    several => {
                        let shown: Vec<String> = several.iter().map(|n| flag(n)).collect();
                        return Err(format!("{} each choose an executor: give one (or name it with {})", shown.join(" and "), flag("executor")));
                    }
                }
                .to_string()
            }
        };
        let need = |what: &str, v: bool| {
            if v {
                Ok(())
            } else {
                Err(format!("{name} needs {}", flag(what)))
            }
        };
        let refuse = |what: &str, given: bool| {
            if given {
                Err(format!("{} does not apply to {name}", flag(what)))
            } else {
                Ok(())
            }
        };
        let arrivals = match self.arrivals.as_deref() {
            None | Some("even") => Arrivals::Even,
            Some("poisson") => Arrivals::Poisson,
            Some(other) => return Err(format!("{} '{other}' is not even or poisson", flag("arrivals"))),
        };
        let open_pool = |pre: Option<u64>| {
            let pre = pre.or(self.users).unwrap_or(1).max(1);
            let max = self.max_users.unwrap_or(DEFAULT_OPEN_MAX_USERS.max(pre));
            if max < pre {
                return Err(format!("{} {max} is below the {pre} pre-allocated users", flag("max-users")));
            }
            Ok((pre, max))
        };
        let closed_only = |name: &str| -> Result<(), String> {
            let _ = name;
            refuse("rate", self.rate.is_some())?;
            refuse("rate-stages", self.rate_stages.is_some())?;
            refuse("pre-allocated", self.pre_allocated.is_some())?;
            refuse("arrivals", self.arrivals.as_deref().is_some_and(|a| a != "even"))
        };
        Ok(match name.as_str() {
            "constant-users" => {
                closed_only(&name)?;
                refuse("stages", self.stages.is_some())?;
                refuse("iterations", self.iterations.is_some())?;
                Executor::ConstantUsers { users: self.users.unwrap_or(1), spawn_rate: self.spawn_rate.unwrap_or(1.0) }
            }
            "ramping-users" => {
                closed_only(&name)?;
                refuse("iterations", self.iterations.is_some())?;
                need("stages", self.stages.is_some())?;
                let stages = parse_user_stages(self.stages.as_deref().unwrap_or_default()).map_err(|e| format!("{}: {e}", flag("stages")))?;
                Executor::RampingUsers { start: self.start_users.unwrap_or(0), stages }
            }
            "constant-arrival-rate" => {
                refuse("stages", self.stages.is_some())?;
                refuse("rate-stages", self.rate_stages.is_some())?;
                refuse("iterations", self.iterations.is_some())?;
                need("rate", self.rate.is_some())?;
                let (pre_allocated, max_users) = open_pool(self.pre_allocated)?;
                Executor::ConstantArrivalRate { rate: self.rate.unwrap_or(0.0), pre_allocated, max_users, arrivals }
            }
            "ramping-arrival-rate" => {
                refuse("stages", self.stages.is_some())?;
                refuse("rate", self.rate.is_some())?;
                refuse("iterations", self.iterations.is_some())?;
                need("rate-stages", self.rate_stages.is_some())?;
                let stages = parse_rate_stages(self.rate_stages.as_deref().unwrap_or_default()).map_err(|e| format!("{}: {e}", flag("rate-stages")))?;
                let (pre_allocated, max_users) = open_pool(self.pre_allocated)?;
                Executor::RampingArrivalRate { start_rate: self.start_rate.unwrap_or(0.0), stages, pre_allocated, max_users, arrivals }
            }
            "shared-iterations" | "per-user-iterations" => {
                closed_only(&name)?;
                refuse("stages", self.stages.is_some())?;
                need("iterations", self.iterations.is_some())?;
                let (users, iterations) = (self.users.unwrap_or(1), self.iterations.unwrap_or(1));
                if name == "shared-iterations" {
                    Executor::SharedIterations { users, iterations }
                } else {
                    Executor::PerUserIterations { users, iterations }
                }
            }
            other => return Err(format!("'{other}' is not an executor ({})", crate::cli::EXECUTORS.join(", "))),
        })
    }
}

/// k6's spelling of an executor and its settings, for the result files.
pub fn describe(e: &Executor) -> String {
    match e {
        Executor::ConstantUsers { users, spawn_rate } => {
            format!("constant-users: {users} users at {spawn_rate}/s")
        }
        Executor::RampingUsers { start, stages } => {
            let st: Vec<String> = stages.iter().map(|s| format!("{}:{}", humantime::format_duration(s.duration), s.target)).collect();
            format!("ramping-users: from {start}, {}", st.join(","))
        }
        Executor::ConstantArrivalRate { rate, pre_allocated, max_users, arrivals } => {
            format!("constant-arrival-rate: {rate}/s ({arrivals:?}), {pre_allocated} to {max_users} users")
        }
        Executor::RampingArrivalRate { start_rate, stages, pre_allocated, max_users, arrivals } => {
            let st: Vec<String> = stages.iter().map(|s| format!("{}:{}/s", humantime::format_duration(s.duration), s.target)).collect();
            format!("ramping-arrival-rate: from {start_rate}/s, {} ({arrivals:?}), {pre_allocated} to {max_users} users", st.join(","))
        }
        Executor::SharedIterations { users, iterations } => {
            format!("shared-iterations: {iterations} by {users} users")
        }
        Executor::PerUserIterations { users, iterations } => {
            format!("per-user-iterations: {iterations} each by {users} users")
        }
    }
}

/// The runner's scenarios, once the plugin's tasks are known: tags turned
/// into tasks (a scenario left with none is an error), waits resolved.
pub fn plan(configs: &[ScenarioConfig], b: &Behaviour) -> Result<Vec<Scenario>, String> {
    configs
        .iter()
        .map(|c| {
            let tasks: Vec<(usize, u32)> = b.selectable(&c.tags, &c.exclude_tags).into_iter().map(|i| (i, b.tasks[i].weight)).collect();
            if tasks.is_empty() {
                let known: Vec<String> = b.tasks.iter().map(|t| format!("{}[{}]", t.name, t.tags.join(","))).collect();
                return Err(format!("no task left to run in scenario '{}' after its tags/exclude-tags (tasks: {})", c.name, known.join(" ")));
            }
            Ok(Scenario {
                name: c.name.clone(),
                executor: c.executor.clone(),
                start: c.start,
                duration: c.duration,
                graceful_stop: c.graceful_stop,
                tasks,
                wait: c.wait.unwrap_or(b.wait),
            })
        })
        .collect()
}

mod file {
    use serde::Deserialize;
    use toml::Spanned;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct File {
        /// In the file's order.
        pub scenarios: indexmap::IndexMap<String, Spanned<Spec>>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "kebab-case", deny_unknown_fields)]
    pub struct Spec {
        pub executor: Option<Spanned<String>>,
        pub users: Option<Spanned<u64>>,
        pub spawn_rate: Option<Spanned<f64>>,
        pub start_users: Option<Spanned<u64>>,
        pub stages: Option<Spanned<String>>,
        pub rate: Option<Spanned<String>>,
        pub start_rate: Option<Spanned<String>>,
        pub pre_allocated_users: Option<Spanned<u64>>,
        pub max_users: Option<Spanned<u64>>,
        pub arrivals: Option<Spanned<String>>,
        pub iterations: Option<Spanned<u64>>,
        #[serde(default)]
        pub tags: Vec<String>,
        #[serde(default)]
        pub exclude_tags: Vec<String>,
        pub wait: Option<Spanned<String>>,
        pub start: Option<Spanned<String>>,
        pub duration: Option<Spanned<String>>,
        pub graceful_stop: Option<Spanned<String>>,
    }
}

/// Line of byte offset `at` in `text` (from 1).
fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].bytes().filter(|b| *b == b'\n').count() + 1
}

/// Reads a scenarios file. `graceful_stop` is the default of each scenario's.
pub fn read(path: &Path, graceful_stop: Duration) -> Result<Vec<ScenarioConfig>, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("--scenarios {shown}: {e}"))?;
    if !meta.is_file() || meta.len() > 1 << 20 {
        return Err(format!("--scenarios {shown}: not a regular file of at most 1 MiB"));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("--scenarios {shown}: {e}"))?;
    parse(&text, graceful_stop).map_err(|e| format!("{shown}:{e}"))
}

/// Parses a scenarios file's text; errors are `LINE: what`.
pub fn parse(text: &str, graceful_stop: Duration) -> Result<Vec<ScenarioConfig>, String> {
    let one_line = |e: toml::de::Error| {
        let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
        // Name the field the line sets, when it sets one.
        let field = text
            .lines()
            .nth(line - 1)
            .and_then(|l| l.split_once('='))
            .map(|(k, _)| k.trim())
            .filter(|k| !k.is_empty() && !k.starts_with('['))
            .map(|k| format!("{}: ", wasp_runner::text::printable(k, 64)))
            .unwrap_or_default();
        format!("{line}: {field}{}", e.message().replace('\n', " "))
    };
    let f: file::File = toml::from_str(text).map_err(one_line)?;
    if f.scenarios.is_empty() {
        return Err("1: no scenario: add a [scenarios.NAME] table (wasp scenarios --example)".into());
    }
    let mut out = vec![];
    for (name, spanned) in f.scenarios {
        let table_line = text
            .find(&format!("[scenarios.{name}]"))
            .or_else(|| text.find(&format!("[scenarios.\"{name}\"]")))
            .map(|at| line_of(text, at))
            .unwrap_or_else(|| line_of(text, spanned.span().start));
        let spec = spanned.into_inner();
        let at = |span: std::ops::Range<usize>| line_of(text, span.start);
        let bad = |line: usize, field: &str, why: String| format!("{line}: scenario '{name}': {field}: {why}");
        if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
            return Err(format!("{table_line}: scenario '{}': names are letters, digits, - _ . (at most 64)", wasp_runner::text::printable(&name, 64)));
        }
        let dur = |field: &str, v: &Option<toml::Spanned<String>>| -> Result<Option<Duration>, String> {
            v.as_ref().map(|s| parse_duration(s.get_ref()).map_err(|e| bad(at(s.span()), field, e))).transpose()
        };
        let rate = |field: &str, v: &Option<toml::Spanned<String>>, positive: bool| -> Result<Option<f64>, String> {
            v.as_ref()
                .map(|s| if positive { parse_positive_rate(s.get_ref()) } else { parse_rate(s.get_ref()) }.map_err(|e| bad(at(s.span()), field, e)))
                .transpose()
        };
        let count = |field: &str, v: &Option<toml::Spanned<u64>>, max: u64| -> Result<Option<u64>, String> {
            match v {
                Some(s) if *s.get_ref() > max || *s.get_ref() == 0 && field != "start-users" => {
                    Err(bad(at(s.span()), field, format!("{} is not between 1 and {max}", s.get_ref())))
                }
                Some(s) => Ok(Some(*s.get_ref())),
                None => Ok(None),
            }
        };
        let users_max = crate::cli::MAX_USERS;
        let spawn_rate = match &spec.spawn_rate {
            Some(s) if !(s.get_ref().is_finite() && *s.get_ref() >= wasp_runner::units::MIN_RATE) => {
                return Err(bad(at(s.span()), "spawn-rate", format!("{} is not a rate of at least 0.001 users/s", s.get_ref())))
            }
            Some(s) => Some(*s.get_ref()),
            None => None,
        };
        let opts = ExecutorOptions {
            executor: spec.executor.as_ref().map(|e| e.get_ref().clone()),
            users: count("users", &spec.users, users_max)?,
            spawn_rate,
            start_users: count("start-users", &spec.start_users, users_max)?,
            stages: spec.stages.as_ref().map(|s| s.get_ref().clone()),
            rate: rate("rate", &spec.rate, true)?,
            start_rate: rate("start-rate", &spec.start_rate, false)?,
            rate_stages: None,
            pre_allocated: count("pre-allocated-users", &spec.pre_allocated_users, users_max)?,
            max_users: count("max-users", &spec.max_users, users_max)?,
            arrivals: spec.arrivals.as_ref().map(|a| a.get_ref().clone()),
            iterations: count("iterations", &spec.iterations, u64::MAX)?,
        };
        // In a file, stages belong to ramping-users or ramping-arrival-rate alike.
        let mut opts = opts;
        let ramping_rate = opts.executor.as_deref() == Some("ramping-arrival-rate");
        if ramping_rate {
            opts.rate_stages = opts.stages.take();
        }
        let field_line = |field: &str| -> usize {
            let span = match field {
                "executor" => spec.executor.as_ref().map(|s| s.span()),
                "stages" | "rate-stages" => spec.stages.as_ref().map(|s| s.span()),
                "rate" => spec.rate.as_ref().map(|s| s.span()),
                "iterations" => spec.iterations.as_ref().map(|s| s.span()),
                "arrivals" => spec.arrivals.as_ref().map(|s| s.span()),
                "max-users" => spec.max_users.as_ref().map(|s| s.span()),
                _ => None,
            };
            // A missing field: the executor's line says what needs it.
            span.or(spec.executor.as_ref().map(|s| s.span())).map(at).unwrap_or(table_line)
        };
        let executor = opts
            .executor(|o| match o {
                "rate-stages" => "stages".to_string(),
                "pre-allocated" => "pre-allocated-users".to_string(),
                o => o.to_string(),
            })
            .map_err(|why| {
                let field = ["executor", "stages", "rate", "iterations", "arrivals", "max-users"].into_iter().find(|f| why.contains(f)).unwrap_or("executor");
                bad(field_line(field), field, why)
            })?;
        let wait = spec.wait.as_ref().map(|w| w.get_ref().parse::<Wait>().map_err(|e| bad(at(w.span()), "wait", e))).transpose()?;
        out.push(ScenarioConfig {
            name: name.clone(),
            executor,
            tags: spec.tags.clone(),
            exclude_tags: spec.exclude_tags.clone(),
            wait,
            start: dur("start", &spec.start)?.unwrap_or_default(),
            duration: dur("duration", &spec.duration)?,
            graceful_stop: dur("graceful-stop", &spec.graceful_stop)?.unwrap_or(graceful_stop),
        });
    }
    Ok(out)
}

/// An annotated scenarios file to start from (`wasp scenarios --example`).
pub const EXAMPLE: &str = r#"# wasp scenarios: several workloads in one run (wasp run PLUGIN.wasm --scenarios FILE).
# Each [scenarios.NAME] table is one workload; they run side by side, each with its
# own executor, tasks, wait and timing. Stats, spans (wasp.scenario) and reports keep
# them apart, and sum them in the totals. Durations: 30s, 1.5s, 2m, 1h30m.

# A closed pool: 20 users started at 5 per second, browsing with 1-3 s between tasks.
[scenarios.browse]
executor = "constant-users"   # constant-users | ramping-users | constant-arrival-rate |
                              # ramping-arrival-rate | shared-iterations | per-user-iterations
users = 20
spawn-rate = 5                # users started per second
tags = ["read"]               # the plugin's tasks with one of these tags (default: all)
exclude-tags = ["write"]      # ... without these
wait = "1s..3s"               # overrides the plugin's wait: none, 500ms, 1s..3s, pacing:2s

# An open model: 10 checkouts a second, whatever the shop does; latency is measured
# from each iteration's intended start. With no free user, an iteration is dropped
# and counted (and the pool grows, up to max-users).
[scenarios.checkout]
executor = "constant-arrival-rate"
rate = "10/s"                 # also 600/m, 36000/h
pre-allocated-users = 10      # made before it starts
max-users = 100               # how far the pool may grow
arrivals = "even"             # or "poisson": exponential gaps
tags = ["checkout"]
start = "30s"                 # starts 30 s into the run
duration = "2m"               # and lasts 2 minutes
graceful-stop = "10s"         # at its end, running tasks get 10 s to finish

# A ramp of users: stages are DURATION:USERS, linear between them.
# [scenarios.ramp]
# executor = "ramping-users"
# start-users = 0
# stages = "30s:50,1m:50,30s:0"

# A ramp of arrivals: stages are DURATION:RATE.
# [scenarios.peak]
# executor = "ramping-arrival-rate"
# start-rate = "0/s"
# stages = "30s:10/s,1m:100/s,30s:0/s"
# pre-allocated-users = 20

# A fixed amount of work: 1000 task runs shared by 10 users (per-user-iterations: each).
# [scenarios.warmup]
# executor = "shared-iterations"
# users = 10
# iterations = 1000
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_parses_into_its_two_scenarios() {
        let s = parse(EXAMPLE, Duration::from_secs(3)).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].name, "browse");
        assert_eq!(s[0].executor, Executor::ConstantUsers { users: 20, spawn_rate: 5.0 });
        assert_eq!(s[0].graceful_stop, Duration::from_secs(3));
        assert_eq!(s[1].executor, Executor::ConstantArrivalRate { rate: 10.0, pre_allocated: 10, max_users: 100, arrivals: Arrivals::Even });
        assert_eq!((s[1].start, s[1].duration, s[1].graceful_stop), (Duration::from_secs(30), Some(Duration::from_secs(120)), Duration::from_secs(10)));
    }

    #[test]
    fn bad_files_name_the_line_and_the_field() {
        let cases = [
            ("[scenarios.a]\nexecutor = \"constant-users\"\nusers = \"many\"\n", "3:", "users"),
            ("[scenarios.a]\nexecutor = \"teleport\"\n", "2:", "not an executor"),
            ("[scenarios.a]\nexecutor = \"constant-arrival-rate\"\nusers = 2\n", "2:", "needs rate"),
            ("[scenarios.a]\nexecutor = \"ramping-users\"\nstages = \"30s:lots\"\n", "3:", "stages"),
            ("[scenarios.a]\nrate = \"5/d\"\n", "2:", "rate"),
            ("[scenarios.a]\nusers = 3\nspeed = 4\n", "3:", "speed"),
            ("[scenarios.a]\nduration = \"forever\"\n", "2:", "duration"),
            ("[scenarios.a]\nwait = \"10s..1s\"\n", "2:", "wait"),
            ("[scenarios.a]\nrate = \"5/s\"\niterations = 3\n", "1:", "each choose an executor"),
            ("scenarios = 3\n", "1:", "invalid type"),
            ("[scenarios]\n", "1:", "no scenario"),
            ("[scenarios.a\n", "1:", ""),
        ];
        for (text, line, says) in cases {
            let e = parse(text, Duration::ZERO).unwrap_err();
            assert!(e.starts_with(line) && e.contains(says), "{text:?}: {e}");
            assert!(!e.contains('\n'), "one line: {e}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]

        /// Arbitrary text, and the example with any line replaced: parsed or
        /// refused in one line, never a panic.
        #[test]
        fn scenario_files_never_panic(text in ".{0,200}", line in 0usize..60, junk in "[a-z\\-]{0,12} ?=? ?[\"\\[\\]0-9a-z/:.,\\-]{0,20}") {
            if let Err(e) = parse(&text, Duration::ZERO) {
                proptest::prop_assert!(!e.contains('\n'));
            }
            let mut lines: Vec<&str> = EXAMPLE.lines().collect();
            if line < lines.len() {
                lines[line] = &junk;
            }
            if let Err(e) = parse(&lines.join("\n"), Duration::ZERO) {
                proptest::prop_assert!(!e.contains('\n'), "{}", e);
            }
        }
    }
}
