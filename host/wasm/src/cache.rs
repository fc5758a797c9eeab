//! The compiled-plugin cache: a component compiled once is kept on disk
//! (`WASP_CACHE_DIR`, default the user's cache directory + `wasp`), keyed by
//! the component's SHA-256, the wasmtime version and the engine's compilation
//! settings, so a changed plugin, host or setting never picks up a stale
//! entry. Each entry carries the SHA-256 of its compiled bytes: a truncated or
//! damaged entry is detected before wasmtime sees it, and recompiled.

use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::component::Component;
use wasmtime::Engine;

/// What the cache did for one load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Compiled from the cache.
    Hit,
    /// Not there: compiled and stored.
    Miss,
    /// There but damaged or unreadable: recompiled and replaced.
    Replaced,
    /// No cache (`WASP_CACHE_DIR` empty, or no cache directory).
    Off,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Hit => "hit",
            Outcome::Miss => "miss",
            Outcome::Replaced => "replaced a damaged entry",
            Outcome::Off => "off",
        }
    }
}

/// The cache directory: `WASP_CACHE_DIR` (empty: no cache), else the
/// platform's cache directory (`$XDG_CACHE_HOME`, `~/.cache`) + `wasp`.
pub fn dir() -> Option<PathBuf> {
    match std::env::var_os("WASP_CACHE_DIR") {
        Some(d) if d.is_empty() => None,
        Some(d) => Some(PathBuf::from(d)),
        None => dirs::cache_dir().map(|d| d.join("wasp")),
    }
}

/// The entry's file name for a component under this engine.
pub fn key(engine: &Engine, component_sha256: &str) -> String {
    let mut settings = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut settings);
    let mut h = Sha256::new();
    h.update(component_sha256.as_bytes());
    h.update(crate::engine::WASMTIME_VERSION.as_bytes());
    h.update(settings.finish().to_le_bytes());
    let hex = format!("{:x}", h.finalize());
    format!("{}.cwasm", &hex[..40])
}

fn read_entry(path: &Path) -> Option<Vec<u8>> {
    let bytes = std::fs::read(path).ok()?;
    if bytes.len() < 32 {
        return None;
    }
    let (sum, payload) = bytes.split_at(32);
    (Sha256::digest(payload).as_slice() == sum).then(|| payload.to_vec())
}

fn write_entry(path: &Path, payload: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{}.{}.tmp", path.file_name().and_then(|n| n.to_str()).unwrap_or("entry"), std::process::id()));
    let mut bytes = Sha256::digest(payload).to_vec();
    bytes.extend_from_slice(payload);
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// The component for `bytes` (whose SHA-256 is `sha256`): from the cache when
/// a sound entry is there, else compiled by `compile` and stored.
pub fn load(engine: &Engine, bytes: &[u8], sha256: &str, compile: impl FnOnce(&[u8]) -> wasmtime::Result<Component>) -> wasmtime::Result<(Component, Outcome)> {
    let Some(dir) = dir() else {
        return Ok((compile(bytes)?, Outcome::Off));
    };
    let path = dir.join(key(engine, sha256));
    let mut outcome = Outcome::Miss;
    if path.exists() {
        match read_entry(&path) {
            // SAFETY: the entry was written by this cache from `Component::serialize`
            // under the same key (component, wasmtime version, settings), and
            // its checksum matches, so these are the bytes wasmtime produced.
            Some(payload) => match unsafe { Component::deserialize(engine, &payload) } {
                Ok(c) => return Ok((c, Outcome::Hit)),
                Err(e) => tracing::warn!("plugin cache entry {} is unusable ({e}); recompiling", path.display()),
            },
            None => tracing::warn!("plugin cache entry {} is damaged (checksum); recompiling", path.display()),
        }
        outcome = Outcome::Replaced;
    }
    let component = compile(bytes)?;
    match component.serialize().map_err(|e| e.to_string()).and_then(|s| write_entry(&path, &s).map_err(|e| e.to_string())) {
        Ok(()) => {}
        Err(e) => tracing::warn!("cannot store the compiled plugin in {}: {e}", dir.display()),
    }
    Ok((component, outcome))
}
