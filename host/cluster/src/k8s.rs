//! The Kubernetes objects of a sharded run (`wasp k8s`), built on the
//! platform's own primitives, no coordinator of ours:
//!
//! - a ConfigMap with the plugin (or the plugin baked into the image);
//! - a headless Service, so that shard `i` is `NAME-i.NAME-peers` for the
//!   barrier (published before the pods are ready: the barrier comes first);
//! - an Indexed Job of N pods (`JOB_COMPLETION_INDEX` picks the segment),
//!   whose pod failure policy fails the whole Job — and so stops every
//!   shard — when one exits with an abort code;
//! - a volume for the shards' results and a merge Job that waits for all N,
//!   merges them exactly and exits with the global verdict.

use base64::Engine as _;
use serde_json::{json, Value};
use std::time::Duration;

/// The barrier's port in the pods.
pub const BARRIER_PORT: u16 = 7357;
/// A ConfigMap holds at most 1 MiB; larger plugins go into the image.
pub const MAX_INLINE_PLUGIN: usize = 900 * 1024;

/// Where the pods get the plugin from.
pub enum Plugin {
    /// Its bytes, into a ConfigMap (small components).
    Inline { file_name: String, bytes: Vec<u8> },
    /// A path inside the image.
    InImage(String),
}

pub struct Options {
    /// The objects' base name (a DNS label).
    pub name: String,
    pub namespace: Option<String>,
    pub shards: u32,
    pub image: String,
    pub plugin: Plugin,
    /// `wasp run` options after the plugin, as given.
    pub run_args: Vec<String>,
    /// Variables for every pod (the `OTEL_*` of the generating shell).
    pub env: Vec<(String, String)>,
    /// CPU and memory per shard (requests = limits), e.g. "1" and "1Gi".
    pub cpu: Option<String>,
    pub memory: Option<String>,
    /// The results volume: size and storage class (ReadWriteMany).
    pub storage: String,
    pub storage_class: Option<String>,
    pub barrier_timeout: Duration,
    /// How long the merge waits for every shard's result.
    pub merge_wait: Duration,
    /// Shard exit codes that must fail the whole Job at once.
    pub fail_job_on: Vec<i32>,
}

/// Checks a name for the objects: a DNS label short enough for the suffixes.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && name.as_bytes()[0].is_ascii_lowercase();
    if ok {
        Ok(())
    } else {
        Err(format!("--name '{name}': lower-case letters, digits and '-', starting with a letter, at most 40 characters"))
    }
}

fn secs(d: Duration) -> String {
    format!("{}s", d.as_secs().max(1))
}

/// The objects, in the order to apply them.
pub fn manifests(o: &Options) -> Result<Vec<Value>, String> {
    check_name(&o.name)?;
    if o.shards == 0 {
        return Err("--shards must be at least 1".into());
    }
    let name = &o.name;
    let peers = format!("{name}-peers");
    let results = format!("{name}-results");
    let meta = |object: &str, role: &str| {
        let mut m = json!({
            "name": object,
            "labels": { "app.kubernetes.io/name": "wasp", "app.kubernetes.io/instance": name, "wasp.dev/role": role },
        });
        if let Some(ns) = &o.namespace {
            m["namespace"] = json!(ns);
        }
        m
    };
    let mut objects = vec![];
    let (plugin_path, plugin_volume) = match &o.plugin {
        Plugin::Inline { file_name, bytes } => {
            if bytes.len() > MAX_INLINE_PLUGIN {
                return Err(format!(
                    "the plugin is {} KiB: a ConfigMap holds at most {} KiB; bake it into the image and give --plugin-in-image PATH",
                    bytes.len() / 1024,
                    MAX_INLINE_PLUGIN / 1024
                ));
            }
            objects.push(json!({
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": meta(&format!("{name}-plugin"), "plugin"),
                "binaryData": { file_name: base64::engine::general_purpose::STANDARD.encode(bytes) },
            }));
            (format!("/plugin/{file_name}"), Some(json!({ "name": "plugin", "configMap": { "name": format!("{name}-plugin") } })))
        }
        Plugin::InImage(path) => (path.clone(), None),
    };
    objects.push(json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta(&peers, "peers"),
        "spec": {
            "clusterIP": "None",
            "publishNotReadyAddresses": true,
            "selector": { "app.kubernetes.io/instance": name, "wasp.dev/role": "shard" },
            "ports": [{ "name": "barrier", "port": BARRIER_PORT, "targetPort": BARRIER_PORT }],
        },
    }));
    let mut pvc = json!({
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": meta(&results, "results"),
        "spec": { "accessModes": ["ReadWriteMany"], "resources": { "requests": { "storage": o.storage } } },
    });
    if let Some(class) = &o.storage_class {
        pvc["spec"]["storageClassName"] = json!(class);
    }
    objects.push(pvc);

    let mut env = vec![json!({
        "name": "JOB_COMPLETION_INDEX",
        "valueFrom": { "fieldRef": { "fieldPath": "metadata.annotations['batch.kubernetes.io/job-completion-index']" } },
    })];
    env.push(json!({ "name": "WASP_CACHE_DIR", "value": "/tmp/wasp-cache" }));
    // The image's defaults are the OpenTelemetry demo's (users and pause from
    // feature flags): a sharded run follows its plan instead.
    env.push(json!({ "name": "WASP_USERS_FLAG", "value": "" }));
    env.push(json!({ "name": "WASP_PAUSE_FLAG", "value": "" }));
    if !o.env.iter().any(|(k, _)| k == "OTEL_SERVICE_NAME") {
        env.push(json!({ "name": "OTEL_SERVICE_NAME", "value": format!("wasp-{name}") }));
    }
    env.extend(o.env.iter().map(|(k, v)| json!({ "name": k, "value": v })));
    let mut args: Vec<String> = vec!["run".into(), plugin_path];
    args.extend(o.run_args.iter().cloned());
    let n = o.shards;
    args.extend([
        "--segments".into(),
        n.to_string(),
        "--barrier".into(),
        format!("{name}-{{0..{}}}.{peers}:{BARRIER_PORT}", n - 1),
        "--barrier-listen".into(),
        format!("0.0.0.0:{BARRIER_PORT}"),
        "--barrier-timeout".into(),
        secs(o.barrier_timeout),
        "--json".into(),
        "/results/shard-$(JOB_COMPLETION_INDEX).json".into(),
    ]);
    let resources = {
        let mut r = json!({});
        for (key, v) in [("cpu", &o.cpu), ("memory", &o.memory)] {
            if let Some(v) = v {
                r["requests"][key] = json!(v);
                r["limits"][key] = json!(v);
            }
        }
        r
    };
    let mut mounts = vec![json!({ "name": "results", "mountPath": "/results" })];
    let mut volumes = vec![json!({ "name": "results", "persistentVolumeClaim": { "claimName": results } })];
    if let Some(v) = plugin_volume {
        mounts.push(json!({ "name": "plugin", "mountPath": "/plugin", "readOnly": true }));
        volumes.push(v);
    }
    let mut shard_meta = meta(name, "shard");
    shard_meta.as_object_mut().map(|m| m.remove("name"));
    objects.push(json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta(name, "shards"),
        "spec": {
            "completionMode": "Indexed",
            "completions": n,
            "parallelism": n,
            // A shard run twice would send its share twice: no retries.
            "backoffLimit": 0,
            "podFailurePolicy": { "rules": [
                { "action": "FailJob", "onExitCodes": { "containerName": "wasp", "operator": "In", "values": o.fail_job_on } },
                { "action": "Ignore", "onPodConditions": [{ "type": "DisruptionTarget", "status": "True" }] },
            ] },
            "template": {
                "metadata": { "labels": shard_meta["labels"].clone() },
                "spec": {
                    "subdomain": peers,
                    "restartPolicy": "Never",
                    "containers": [{
                        "name": "wasp",
                        "image": o.image,
                        "command": ["wasp"],
                        "args": args,
                        "env": env,
                        "ports": [{ "name": "barrier", "containerPort": BARRIER_PORT }],
                        "resources": resources,
                        "volumeMounts": mounts,
                    }],
                    "volumes": volumes,
                },
            },
        },
    }));
    let merge_args = vec![
        "merge".to_string(),
        "--expect".into(),
        n.to_string(),
        "--wait".into(),
        secs(o.merge_wait),
        "/results".into(),
        "--json".into(),
        "/results/merged.json".into(),
        "--html".into(),
        "/results/merged.html".into(),
    ];
    objects.push(json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta(&format!("{name}-merge"), "merge"),
        "spec": {
            "backoffLimit": 0,
            "template": {
                "metadata": { "labels": meta(name, "merge")["labels"].clone() },
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{
                        "name": "merge",
                        "image": o.image,
                        "command": ["wasp"],
                        "args": merge_args,
                        "volumeMounts": [{ "name": "results", "mountPath": "/results" }],
                    }],
                    "volumes": [{ "name": "results", "persistentVolumeClaim": { "claimName": results } }],
                },
            },
        },
    }));
    Ok(objects)
}

/// The objects as one YAML stream.
pub fn yaml(objects: &[Value]) -> Result<String, String> {
    let mut out = String::new();
    for o in objects {
        out.push_str("---\n");
        out.push_str(&serde_yaml_ng::to_string(o).map_err(|e| format!("cannot write YAML: {e}"))?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> Options {
        Options {
            name: "shop-load".into(),
            namespace: Some("load".into()),
            shards: 4,
            image: "wasp:0.1.0".into(),
            plugin: Plugin::Inline { file_name: "p.wasm".into(), bytes: vec![0, 97, 115, 109] },
            run_args: vec!["-u".into(), "100".into()],
            env: vec![("OTEL_EXPORTER_OTLP_ENDPOINT".into(), "http://collector:4317".into())],
            cpu: Some("1".into()),
            memory: None,
            storage: "1Gi".into(),
            storage_class: None,
            barrier_timeout: Duration::from_secs(300),
            merge_wait: Duration::from_secs(600),
            fail_job_on: vec![7, 8],
        }
    }

    #[test]
    fn the_objects_fit_together() {
        let objs = manifests(&options()).unwrap();
        let kinds: Vec<&str> = objs.iter().map(|o| o["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["ConfigMap", "Service", "PersistentVolumeClaim", "Job", "Job"]);
        let job = &objs[3];
        assert_eq!(job["spec"]["completions"], 4);
        assert_eq!(job["spec"]["parallelism"], 4);
        assert_eq!(job["spec"]["completionMode"], "Indexed");
        let pod = &job["spec"]["template"]["spec"];
        // The pods' names under the headless Service are the barrier's peers.
        assert_eq!(pod["subdomain"], objs[1]["metadata"]["name"]);
        let args: Vec<&str> = pod["containers"][0]["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
        let after = |flag: &str| args[args.iter().position(|a| *a == flag).unwrap() + 1];
        assert_eq!(after("--barrier"), "shop-load-{0..3}.shop-load-peers:7357");
        assert_eq!(after("--segments"), "4");
        assert_eq!(&args[..4], ["run", "/plugin/p.wasm", "-u", "100"]);
        // The Service selects exactly the shard pods.
        for (k, v) in objs[1]["spec"]["selector"].as_object().unwrap() {
            assert_eq!(&job["spec"]["template"]["metadata"]["labels"][k], v);
        }
        assert_eq!(job["spec"]["podFailurePolicy"]["rules"][0]["onExitCodes"]["values"], json!([7, 8]));
        let merge: Vec<&str> = objs[4]["spec"]["template"]["spec"]["containers"][0]["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
        assert_eq!(&merge[..5], ["merge", "--expect", "4", "--wait", "600s"]);
        assert!(objs.iter().all(|o| o["metadata"]["namespace"] == "load"));
        let text = yaml(&objs).unwrap();
        assert_eq!(text.matches("\n---\n").count() + 1, 5, "five documents");
    }

    #[test]
    fn bad_names_and_big_plugins_are_refused() {
        for bad in ["", "Shop", "-a", "a-", "a_b", "1abc", &"a".repeat(41)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        let mut o = options();
        o.plugin = Plugin::Inline { file_name: "p.wasm".into(), bytes: vec![0; MAX_INLINE_PLUGIN + 1] };
        assert!(manifests(&o).unwrap_err().contains("--plugin-in-image"));
        o.plugin = Plugin::InImage("/opt/p.wasm".into());
        let objs = manifests(&o).unwrap();
        assert_eq!(objs[0]["kind"], "Service", "no ConfigMap for a plugin in the image");
    }
}
