//! The architecture, checked by Cargo's own view of the workspace: which
//! crate may depend on which (directly or not), no cycles, and the files
//! each crate carries a copy of (the WIT, the demo's data) equal to the
//! workspace's originals.

use cargo_metadata::{DependencyKind, Metadata, MetadataCommand, PackageId};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// The host's crates from the bottom up: a crate may depend only on crates of
/// a lower layer.
const LAYERS: &[&[&str]] =
    &[&["wasp-runner"], &["wasp-report", "wasp-http", "wasp-flags", "wasp-cluster"], &["wasp-telemetry"], &["wasp-wasm", "wasp-web", "wasp-shop"], &["wasp"]];

/// Crates that must never be in a crate's dependencies, even transitively.
const FORBIDDEN: &[(&str, &[&str])] = &[
    ("wasp-runner", &["wasmtime", "wasmtime-wasi", "reqwest", "hyper", "hyper-util", "opentelemetry", "opentelemetry_sdk", "axum"]),
    ("wasp-report", &["wasmtime", "reqwest", "hyper", "opentelemetry", "opentelemetry_sdk"]),
    ("wasp-http", &["wasmtime", "opentelemetry", "opentelemetry_sdk"]),
    ("wasp-web", &["wasmtime", "reqwest", "opentelemetry_sdk"]),
    ("wasp-cluster", &["wasmtime", "opentelemetry", "opentelemetry_sdk"]),
];

struct Graph {
    names: HashMap<PackageId, String>,
    /// Normal and build dependencies (not dev) of every package.
    deps: HashMap<PackageId, Vec<PackageId>>,
    workspace: Vec<PackageId>,
}

fn graph() -> Graph {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let meta: Metadata = MetadataCommand::new().manifest_path(root.join("Cargo.toml")).exec().expect("cargo metadata runs");
    let resolve = meta.resolve.as_ref().expect("metadata has a resolve graph");
    let names = meta.packages.iter().map(|p| (p.id.clone(), p.name.to_string())).collect();
    let deps = resolve
        .nodes
        .iter()
        .map(|n| {
            let normal = n.deps.iter().filter(|d| d.dep_kinds.iter().any(|k| k.kind != DependencyKind::Development)).map(|d| d.pkg.clone()).collect();
            (n.id.clone(), normal)
        })
        .collect();
    Graph { names, deps, workspace: meta.workspace_members.clone() }
}

impl Graph {
    fn id(&self, name: &str) -> PackageId {
        self.workspace.iter().find(|id| self.names[*id] == name).unwrap_or_else(|| panic!("{name} is not in the workspace")).clone()
    }

    /// Every package `id` depends on, directly or not.
    fn closure(&self, id: &PackageId) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![id.clone()];
        let mut names = BTreeSet::new();
        while let Some(p) = stack.pop() {
            for d in self.deps.get(&p).into_iter().flatten() {
                if seen.insert(d.clone()) {
                    names.insert(self.names[d].clone());
                    stack.push(d.clone());
                }
            }
        }
        names
    }

    fn direct_workspace_deps(&self, id: &PackageId) -> Vec<String> {
        self.deps[id].iter().filter(|d| self.workspace.contains(d)).map(|d| self.names[d].clone()).collect()
    }
}

fn layer(name: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&name))
}

#[test]
fn crates_depend_only_downwards_and_never_on_what_they_must_not_know() {
    let g = graph();
    for (krate, banned) in FORBIDDEN {
        let all = g.closure(&g.id(krate));
        let found: Vec<&&str> = banned.iter().filter(|b| all.contains(**b)).collect();
        assert!(found.is_empty(), "{krate} depends (directly or not) on {found:?}");
    }
    for id in &g.workspace {
        let name = &g.names[id];
        let Some(mine) = layer(name) else { continue };
        for dep in g.direct_workspace_deps(id) {
            let theirs = layer(&dep).unwrap_or_else(|| panic!("{name} depends on {dep}, which is not a host crate"));
            assert!(theirs < mine, "{name} (layer {mine}) depends on {dep} (layer {theirs}): not downwards");
        }
    }
}

#[test]
fn the_guest_sdk_and_plugins_know_no_host_crate() {
    let g = graph();
    for id in &g.workspace {
        let name = &g.names[id];
        if layer(name).is_some() {
            continue;
        }
        let all = g.closure(id);
        let host: Vec<&String> = all.iter().filter(|d| layer(d).is_some()).collect();
        assert!(host.is_empty(), "{name} depends on host crates {host:?}");
    }
    // The SDKs depend on no wasp crate but what they share (wasp-sdk-core).
    for sdk in ["wasp-sdk", "wasp-sdk-async"] {
        let wasp: Vec<String> = g.closure(&g.id(sdk)).into_iter().filter(|d| d.starts_with("wasp") && d != "wasp-sdk-core").collect();
        assert!(wasp.is_empty(), "{sdk} depends on {wasp:?}");
    }
}

#[test]
fn the_workspace_graph_has_no_cycle() {
    let g = graph();
    // Depth-first search over workspace members for a back edge.
    fn visit(g: &Graph, id: &PackageId, path: &mut Vec<PackageId>, done: &mut BTreeSet<String>) {
        if let Some(i) = path.iter().position(|p| p == id) {
            let cycle: Vec<&String> = path[i..].iter().map(|p| &g.names[p]).collect();
            panic!("dependency cycle: {cycle:?}");
        }
        if !done.insert(g.names[id].clone()) {
            return;
        }
        path.push(id.clone());
        for d in g.deps[id].iter().filter(|d| g.workspace.contains(d)) {
            visit(g, d, path, done);
        }
        path.pop();
    }
    let mut done = BTreeSet::new();
    for id in &g.workspace {
        visit(&g, id, &mut vec![], &mut done);
    }
}

/// Copies a crate carries so that it can be packaged alone, each the same
/// bytes as the workspace's original.
const COPIES: &[(&str, &str)] = &[
    ("wit/wasp-plugin.wit", "host/wasm/wit/wasp-plugin.wit"),
    ("wit/wasp-plugin.wit", "guest-sdk/wit/wasp-plugin.wit"),
    ("wit/wasp-plugin.wit", "guest-sdk/python/wasp/wit/wasp-plugin.wit"),
    ("wit/wasp-plugin.wit", "guest-sdk/js/wit/wasp-plugin.wit"),
    ("wit/v0.2/wasp-plugin.wit", "host/wasm/wit/v0.2/wasp-plugin.wit"),
    ("wit/v0.2/wasp-plugin.wit", "guest-sdk/async/wit/wasp-plugin.wit"),
    ("wit/v0.2/wasp-plugin.wit", "guest-sdk/python/async/wasp_async/wit/wasp-plugin.wit"),
    ("wit/v0.2/wasp-plugin.wit", "guest-sdk/js/async/wit/wasp-plugin.wit"),
    ("host/shop/data/products.json", "plugins/otel-demo/data/products.json"),
];

#[test]
fn copied_files_are_the_same_bytes_as_their_originals() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for (original, copy) in COPIES {
        let a = std::fs::read(root.join(original)).unwrap_or_else(|e| panic!("{original}: {e}"));
        let b = std::fs::read(root.join(copy)).unwrap_or_else(|e| panic!("{copy}: {e}"));
        assert!(a == b, "{copy} differs from {original}: copy it again (cp {original} {copy})");
    }
}

/// Every library crate packages (`cargo package`): it reads nothing outside
/// its own folder. The host crates refer to each other, so they are packaged
/// together, as they would be published; the SDKs likewise.
#[test]
fn every_library_crate_can_be_packaged() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let scratch = tempfile::tempdir().unwrap();
    let package = |crates: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO"));
        cmd.current_dir(&root).env("CARGO_TARGET_DIR", scratch.path()).args(["package", "--offline", "--no-verify", "--allow-dirty"]);
        for c in crates {
            cmd.args(["-p", c]);
        }
        let out = cmd.output().expect("cargo runs");
        assert!(out.status.success(), "cargo package {crates:?}: {}", String::from_utf8_lossy(&out.stderr));
        let listed = std::fs::read_dir(scratch.path().join("package"))
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect::<Vec<_>>();
        for c in crates {
            assert!(listed.iter().any(|f| f.starts_with(&format!("{c}-")) && f.ends_with(".crate")), "no {c} package in {listed:?}");
        }
    };
    // The SDKs with what they share (packaged together, as they would be published).
    package(&["wasp-sdk-core", "wasp-sdk", "wasp-sdk-async"]);
    let host: Vec<&str> = LAYERS.iter().flat_map(|l| l.iter().copied()).filter(|c| *c != "wasp").collect();
    package(&host);
}
