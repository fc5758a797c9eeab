//! Plugins: a file read and checked, compiled (through the [`cache`]) into a
//! component of our world and version, linked, and asked what it does.
//!
//! [`cache`]: crate::cache

use crate::bindings::exports::wasp::plugin::behaviour as wit;
use crate::bindings::{UserPre, ACCEPTED_VERSIONS, BEHAVIOUR_EXPORT};
use crate::error::{chain, root, LoadError};
use crate::imports::RunCtx;
use crate::user::{linker, new_store, UserState};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::Component;
use wasmtime::Engine;
use wasp_runner::behaviour::{Behaviour, Task, Wait};
use wasp_runner::text::printable;

/// A plugin linked and ready to instantiate, by its world's version.
#[derive(Clone)]
pub enum Pre {
    /// `wasp:plugin@0.1.x`: one instance per user.
    V1(UserPre<UserState>),
    /// `wasp:plugin@0.2.0`: users share instances.
    V2(crate::shared::bindings::UserPre<crate::shared::instance::InstanceState>),
}

impl Pre {
    /// Whether users of this plugin can share an instance (a 0.2 plugin).
    pub fn shares_instances(&self) -> bool {
        matches!(self, Pre::V2(_))
    }
}

/// Whether plugins of `wasp:plugin@version` put many users in an instance.
pub fn shares_instances(version: &str) -> bool {
    version.starts_with("0.2.")
}

/// The users that share one instance of a plugin of `version`: `asked`
/// (`--users-per-instance`) or the default for a 0.2 plugin; always 1 for a
/// 0.1 plugin (or an unknown one).
pub fn users_per_instance(version: Option<&str>, asked: Option<u32>) -> u32 {
    match version {
        Some(v) if shares_instances(v) => asked.unwrap_or(crate::shared::DEFAULT_USERS_PER_INSTANCE).max(1),
        _ => 1,
    }
}

/// The most tasks a plugin may declare, and tags a task may have.
pub const MAX_TASKS: usize = 1000;
pub const MAX_TAGS: usize = 32;

/// A checked, compiled plugin, ready to instantiate.
pub struct Plugin {
    pub path: PathBuf,
    pub engine: Engine,
    pub pre: Pre,
    pub behaviour: Behaviour,
    /// SHA-256 of the component's bytes, hex.
    pub sha256: String,
    /// What the compiled-plugin cache did, and the time to compile (or load).
    pub cache: crate::cache::Outcome,
    pub compile_time: Duration,
    pub size: usize,
    /// The interfaces the component imports.
    pub imports: Vec<String>,
    /// The `wasp:plugin` version it was built for.
    pub wit_version: String,
}

/// The largest plugin file wasp reads (a Python component is about 18 MB).
pub const MAX_PLUGIN_SIZE: u64 = 512 << 20;

/// Reads a plugin file, refusing anything that is not a WebAssembly component
/// with a one-line reason. Only regular files are read (a FIFO or a device
/// would block or never end), and at most [`MAX_PLUGIN_SIZE`] bytes.
pub fn read(path: &Path) -> Result<Vec<u8>, LoadError> {
    use std::io::Read;
    let shown = path.display();
    let cannot = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => LoadError::Plugin(format!("plugin not found: {shown}")),
        _ => LoadError::Plugin(format!("cannot read plugin {shown}: {e}")),
    };
    let meta = std::fs::metadata(path).map_err(cannot)?;
    if !meta.is_file() {
        return Err(LoadError::Plugin(format!("{shown} is not a regular file")));
    }
    if meta.len() > MAX_PLUGIN_SIZE {
        return Err(LoadError::Plugin(format!("{shown} is {} MiB, more than a plugin may be ({} MiB)", meta.len() >> 20, MAX_PLUGIN_SIZE >> 20)));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path).and_then(|f| f.take(MAX_PLUGIN_SIZE + 1).read_to_end(&mut bytes)).map_err(cannot)?;
    if bytes.len() as u64 > MAX_PLUGIN_SIZE {
        return Err(LoadError::Plugin(format!("{shown} grew past {} MiB while being read", MAX_PLUGIN_SIZE >> 20)));
    }
    check_bytes(&bytes).map_err(|why| LoadError::Plugin(format!("{shown} {why}")))?;
    Ok(bytes)
}

/// The `wasp:plugin` version the component exports its behaviour for, read
/// from its bytes without compiling (`None`: not found, or not parsable;
/// compiling reports that properly). It decides how the engine is sized:
/// 0.2 plugins put many users in an instance.
pub fn world_version(bytes: &[u8]) -> Option<String> {
    use wasmtime::wasmparser::{Parser, Payload};
    let mut depth = 0u32;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.ok()? {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentExportSection(r) if depth == 0 => {
                for e in r.into_iter().flatten() {
                    let name = e.name.name;
                    if name.split('@').next() == Some(BEHAVIOUR_EXPORT) {
                        return name.split('@').nth(1).map(str::to_string);
                    }
                }
            }
            _ => {}
        }
    }
    None
}

/// The checks a plugin's bytes get before any compiling: a WebAssembly
/// component (not a core module). Says why not, after the file's name.
pub fn check_bytes(bytes: &[u8]) -> Result<(), String> {
    if bytes.is_empty() {
        return Err("is empty, not a WebAssembly component".into());
    }
    if !bytes.starts_with(b"\0asm") || bytes.len() < 8 {
        return Err("is not a WebAssembly file (no \\0asm header)".into());
    }
    // Bytes 4..8: version and layer. Core modules are 1,0 / 0,0; components have layer 1.
    if bytes[6..8] == [0, 0] {
        return Err("is a core WebAssembly module, not a component: build it for wasm32-wasip2 (or wrap it with `wasm-tools component new`)".into());
    }
    Ok(())
}

/// Compiles the component `bytes` (read from `path` by [`read`]), refusing
/// anything that is not a `wasp:plugin` user of an accepted version with a one-line reason.
pub fn compile(engine: &Engine, path: &Path, bytes: &[u8]) -> Result<Compiled, LoadError> {
    let shown = path.display();
    let sha256 = sha256_hex(bytes);
    let t0 = std::time::Instant::now();
    let (component, cache) = crate::cache::load(engine, bytes, &sha256, |b| Component::new(engine, b))
        .map_err(|e| LoadError::Plugin(format!("{shown} is not a valid component: {}", root(&e))))?;
    let compile_time = t0.elapsed();
    let wit_version = check_world(engine, &component).map_err(|m| LoadError::Plugin(format!("{shown}: {m}")))?;
    Ok(Compiled { component, sha256, cache, compile_time, size: bytes.len(), wit_version })
}

/// A component compiled (or taken from the cache) and checked.
pub struct Compiled {
    pub component: Component,
    pub sha256: String,
    pub cache: crate::cache::Outcome,
    /// Time to compile or to load from the cache.
    pub compile_time: Duration,
    /// Size of the .wasm file, bytes.
    pub size: usize,
    /// The `wasp:plugin` version it was built for.
    pub wit_version: String,
}

/// The plugin's identity in reports: SHA-256 of its bytes, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

/// Checks the component's exports name our world and an accepted version; gives the version.
fn check_world(engine: &Engine, component: &Component) -> Result<String, String> {
    let ty = component.component_type();
    let exports: Vec<String> = ty.exports(engine).map(|(n, _)| n.to_string()).collect();
    let ours = exports.iter().find(|n| n.split('@').next() == Some(BEHAVIOUR_EXPORT));
    match ours {
        None => Err(format!(
            "not a wasp plugin: it does not export {BEHAVIOUR_EXPORT} (exports: {})",
            if exports.is_empty() { "none".to_string() } else { exports.join(", ") }
        )),
        Some(name) => {
            let version = name.split('@').nth(1).unwrap_or("none");
            if ACCEPTED_VERSIONS.contains(&version) {
                Ok(version.to_string())
            } else {
                Err(format!("built for wasp:plugin@{version}, but this host runs wasp:plugin@{} only", ACCEPTED_VERSIONS.join(", ")))
            }
        }
    }
}

impl Plugin {
    /// The users that share one instance of this plugin: `asked`
    /// (`--users-per-instance`) or the default for a 0.2 plugin; always 1
    /// for a 0.1 plugin.
    pub fn users_per_instance(&self, asked: Option<u32>) -> u32 {
        users_per_instance(Some(&self.wit_version), asked)
    }

    /// Reads, loads, links and describes a plugin. Every failure is one line, exit code 3.
    pub async fn load(engine: &Engine, path: &Path) -> Result<Plugin, LoadError> {
        Self::from_bytes(engine, path, &read(path)?).await
    }

    /// As [`Plugin::load`], for bytes already read from `path` by [`read`].
    pub async fn from_bytes(engine: &Engine, path: &Path, bytes: &[u8]) -> Result<Plugin, LoadError> {
        let shown = path.display().to_string();
        // Compiling takes seconds for large plugins: off the runtime's
        // threads, so that signals and timers are served meanwhile.
        let (e, p, b) = (engine.clone(), path.to_path_buf(), bytes.to_vec());
        let compiled =
            tokio::task::spawn_blocking(move || compile(&e, &p, &b)).await.map_err(|e| LoadError::Engine(format!("compiling {shown} failed: {e}")))??;
        let Compiled { component, sha256, cache, compile_time, size, wit_version } = compiled;
        let imports = component.component_type().imports(engine).map(|(n, _)| n.to_string()).collect();
        let linked = |e: wasmtime::Error| LoadError::Plugin(format!("{shown} needs an import this host does not provide: {}", chain(&e)));
        let mismatch = |e: wasmtime::Error| LoadError::Plugin(format!("{shown} does not match wasp:plugin@{wit_version}: {}", chain(&e)));
        let host_linker = |e: wasmtime::Error| LoadError::Plugin(format!("host linker: {e:#}"));
        let (pre, behaviour) = if shares_instances(&wit_version) {
            let instance_pre = crate::shared::instance::linker(engine).map_err(host_linker)?.instantiate_pre(&component).map_err(linked)?;
            let pre = crate::shared::bindings::UserPre::new(instance_pre).map_err(mismatch)?;
            let info = crate::shared::instance::describe(engine, &pre).await;
            (Pre::V2(pre), info.and_then(behaviour_from_v2))
        } else {
            let instance_pre = linker(engine).map_err(host_linker)?.instantiate_pre(&component).map_err(linked)?;
            let pre = UserPre::new(instance_pre).map_err(mismatch)?;
            let behaviour = describe(engine, &pre).await;
            (Pre::V1(pre), behaviour)
        };
        let behaviour = behaviour.map_err(|e| LoadError::Plugin(format!("{shown}: describe failed: {e}")))?;
        tracing::info!("plugin {shown}: ready in {} ms (compiled-plugin cache: {})", compile_time.as_millis(), cache.as_str());
        Ok(Plugin { path: path.to_path_buf(), engine: engine.clone(), pre, behaviour, sha256, cache, compile_time, size, imports, wit_version })
    }
}

/// Instantiates the plugin once, away from any run, to ask what it does.
async fn describe(engine: &Engine, pre: &UserPre<UserState>) -> Result<Behaviour, String> {
    let run = Arc::new(RunCtx::detached());
    let mut store = new_store(engine, 0, 0, run, 64 << 20, None, Duration::from_secs(10));
    let instance = pre.instantiate_async(&mut store).await.map_err(|e| root(&e))?;
    let info = instance.wasp_plugin_behaviour().call_describe(&mut store).await.map_err(|e| root(&e))?;
    behaviour_from(info)
}

fn ms(v: u32) -> Duration {
    Duration::from_millis(v as u64)
}

/// [`behaviour_from`] for a 0.2 plugin (the same records, another module).
fn behaviour_from_v2(info: crate::shared::bindings::exports::wasp::plugin::behaviour::Info) -> Result<Behaviour, String> {
    use crate::shared::bindings::exports::wasp::plugin::behaviour as v2;
    let wait = match info.wait {
        v2::Wait::None => wit::Wait::None,
        v2::Wait::Constant(c) => wit::Wait::Constant(c),
        v2::Wait::Between(b) => wit::Wait::Between(b),
        v2::Wait::Pacing(p) => wit::Wait::Pacing(p),
    };
    let tasks = info.tasks.into_iter().map(|t| wit::Task { name: t.name, weight: t.weight, tags: t.tags }).collect();
    behaviour_from(wit::Info { name: info.name, tasks, wait })
}

/// Converts and checks what `describe` returned.
pub fn behaviour_from(info: wit::Info) -> Result<Behaviour, String> {
    if info.tasks.is_empty() {
        return Err("the plugin declares no task".into());
    }
    if info.tasks.len() > MAX_TASKS {
        return Err(format!("the plugin declares {} tasks, more than {MAX_TASKS}", info.tasks.len()));
    }
    if let Some(t) = info.tasks.iter().find(|t| t.tags.len() > MAX_TAGS) {
        return Err(format!("task {} has {} tags, more than {MAX_TAGS}", printable(&t.name, 64), t.tags.len()));
    }
    if info.tasks.iter().all(|t| t.weight == 0) {
        return Err("every task has weight 0".into());
    }
    let wait = match info.wait {
        wit::Wait::None => Wait::None,
        wit::Wait::Constant(c) => Wait::Constant(ms(c)),
        wit::Wait::Between((lo, hi)) if lo <= hi => Wait::Between(ms(lo), ms(hi)),
        wit::Wait::Between((lo, hi)) => return Err(format!("wait between({lo}, {hi}): min is over max")),
        wit::Wait::Pacing(p) => Wait::Pacing(ms(p)),
    };
    // Names and tags are printed among wasp's own lines: printable, bounded.
    let tasks = info
        .tasks
        .into_iter()
        .map(|t| Task { name: printable(&t.name, 128), weight: t.weight, tags: t.tags.iter().map(|g| printable(g, 64)).collect() })
        .collect();
    Ok(Behaviour { name: printable(&info.name, 128), tasks, wait })
}
