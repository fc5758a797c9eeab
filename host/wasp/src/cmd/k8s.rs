//! `wasp k8s`: the Kubernetes objects of a run spread over N pods (see
//! `wasp_cluster::k8s`), from the same run options as `wasp run`, checked
//! here as `wasp run` would check them.

use crate::cli::{self, Cli, Command, K8sArgs};
use crate::config::RunConfig;
use crate::exit::{code, Fatal};
use clap::FromArgMatches;
use std::time::Duration;
use wasp_cluster::k8s::{self, Options, Plugin};

/// Run options the objects set themselves.
const SET_HERE: &[&str] = &["--json", "--html", "--segment", "--segments", "--barrier", "--barrier-listen", "--web", "--web-port", "--watch", "--autostart"];

/// The YAML to print.
pub fn main(args: K8sArgs) -> Result<String, Fatal> {
    k8s::check_name(&args.name).map_err(Fatal::usage)?;
    let Some((plugin, options)) = args.run.split_first().filter(|(p, _)| !p.starts_with('-')) else {
        return Err(Fatal::usage("wasp k8s: give the plugin first, then the run options: wasp k8s --shards 4 plugin.wasm -u 100 -t 10m"));
    };
    for o in options {
        let flag = o.split('=').next().unwrap_or_default();
        if SET_HERE.contains(&flag) {
            return Err(Fatal::usage(format!("wasp k8s: {flag} is set by wasp k8s for every shard; leave it out")));
        }
    }
    // The options as `wasp run` reads them, so that a typo fails here, not in N pods.
    let argv = ["wasp", "run", plugin.as_str()].into_iter().map(String::from).chain(options.iter().cloned());
    let matches = cli::command().try_get_matches_from(argv).map_err(|e| Fatal::usage(format!("wasp k8s: run options: {}", cli::first_line(&e))))?;
    let Ok(Cli { command: Command::Run(run) }) = Cli::from_arg_matches(&matches) else {
        return Err(Fatal::internal("the run options did not parse as wasp run"));
    };
    let cfg = RunConfig::from_args(&run)?;
    let source = match &args.plugin_in_image {
        Some(path) => Plugin::InImage(path.clone()),
        None => {
            let bytes = std::fs::read(plugin).map_err(|e| Fatal::usage(format!("cannot read the plugin {plugin}: {e}")))?;
            Plugin::Inline { file_name: "plugin.wasm".into(), bytes }
        }
    };
    let merge_wait = match (args.merge_wait, cfg.run_time) {
        (Some(w), _) => w,
        (None, Some(t)) => run.barrier_timeout + t + cfg.stop_timeout + Duration::from_secs(300),
        (None, None) => return Err(Fatal::usage("wasp k8s: give the run an end (-t/--run-time) or say how long the merge waits (--merge-wait)")),
    };
    let env: Vec<(String, String)> = std::env::vars().filter(|(k, _)| k.starts_with("OTEL_")).collect();
    let objects = k8s::manifests(&Options {
        name: args.name,
        namespace: args.namespace,
        shards: args.shards,
        image: args.image,
        plugin: source,
        run_args: options.to_vec(),
        env,
        cpu: args.cpu,
        memory: args.memory,
        storage: args.storage,
        storage_class: args.storage_class,
        barrier_timeout: run.barrier_timeout,
        merge_wait,
        fail_job_on: vec![code::USAGE, code::PLUGIN, code::UNWRITTEN, code::THRESHOLD_ABORT, code::SHARDS_MISSING, code::INTERNAL],
    })
    .map_err(Fatal::usage)?;
    k8s::yaml(&objects).map_err(Fatal::internal)
}
