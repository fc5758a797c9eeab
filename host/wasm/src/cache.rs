//! The compiled-plugin cache: a component compiled once is kept on disk
//! (`WASP_CACHE_DIR`, default the user's cache directory + `wasp`), keyed by
//! the component's SHA-256, the wasmtime version and the engine's compilation
//! settings, so a changed plugin, host or setting never picks up a stale
//! entry. Each entry ends with the SHA-256 of its compiled bytes: a truncated
//! or damaged entry is detected before wasmtime sees it, and recompiled.
//! Entries are mapped, not read: the plugin's memory images are copy-on-write
//! views of the file, shared by every user.

use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
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
    // The entry's layout: compiled bytes, then their checksum.
    h.update(b"layout 2");
    let hex = format!("{:x}", h.finalize());
    format!("{}.cwasm", &hex[..40])
}

/// The compiled bytes of the entry at `path` when it is sound: its last 32
/// bytes are the SHA-256 of the rest (the compiled bytes, which start at the
/// file's first byte so that wasmtime can map the file as it is).
fn sound_entry(path: &Path) -> Option<Vec<u8>> {
    let mut bytes = std::fs::read(path).ok()?;
    if bytes.len() < 32 {
        return None;
    }
    let (payload, sum) = bytes.split_at(bytes.len() - 32);
    if Sha256::digest(payload).as_slice() != sum {
        return None;
    }
    bytes.truncate(bytes.len() - 32);
    Some(bytes)
}

/// Whether memory images are copied into each user rather than mapped
/// copy-on-write (see [`copy_images`]).
static COPY_IMAGES: AtomicBool = AtomicBool::new(false);

/// Makes the components loaded from now on copy their memory images into
/// each user instead of mapping them: a component that is not mapped from a
/// file has no image to map (this build has no memfd), and wasmtime copies
/// its data segments at instantiation. Set for runs whose users would not fit
/// under the process's mapping limit with the views. The compiled bytes are
/// the same either way, so the cache entry is the same.
pub fn copy_images(copy: bool) {
    COPY_IMAGES.store(copy, Ordering::Relaxed);
}

/// Writes `payload` and its checksum to a temporary file in `path`'s folder,
/// then renames it into place: a reader sees the old entry or the new one,
/// whole, and a file wasp has mapped is never written over.
fn write_entry(path: &Path, payload: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{}.{}.tmp", path.file_name().and_then(|n| n.to_str()).unwrap_or("entry"), std::process::id()));
    let mut bytes = Vec::with_capacity(payload.len() + 32);
    bytes.extend_from_slice(payload);
    bytes.extend_from_slice(&Sha256::digest(payload));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// The component mapped from a compiled file. Mapped, its memory images are
/// copy-on-write views of the file: a user's instance copies only the pages
/// of its initial memory that it writes, and every user shares the rest
/// (wasmtime needs no memfd for that).
fn map(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: the file holds bytes `Component::serialize` produced under this
    // engine's settings (the cache key says which; its checksum was checked,
    // or this process has just written it), and wasp never writes over a
    // file: entries are replaced by renaming a new file into place, so the
    // mapped file does not change under the component.
    unsafe { Component::deserialize_file(engine, path) }
}

/// A compiled component mapped from a private temporary file, removed at
/// once (the mapping keeps it alive): how a run without a cache gets
/// copy-on-write memory images too. `None` if the file cannot be made; the
/// component then stays in memory and its images are copied into each user.
fn mapped_privately(engine: &Engine, component: &Component) -> Option<Component> {
    use std::sync::atomic::AtomicU64;
    static N: AtomicU64 = AtomicU64::new(0);
    let bytes = component.serialize().ok()?;
    let path = std::env::temp_dir().join(format!("wasp-{}-{}.cwasm", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
    let written = std::fs::File::options().write(true).create_new(true).open(&path).and_then(|mut f| std::io::Write::write_all(&mut f, &bytes));
    let mapped = written.ok().and_then(|()| map(engine, &path).ok());
    let _ = std::fs::remove_file(&path);
    mapped
}

/// The component for `bytes` (whose SHA-256 is `sha256`): from the cache when
/// a sound entry is there, else compiled by `compile` and stored. Either way
/// it is mapped from a file when it can be (see [`map`]), unless images are
/// to be copied ([`copy_images`]).
pub fn load(engine: &Engine, bytes: &[u8], sha256: &str, compile: impl FnOnce(&[u8]) -> wasmtime::Result<Component>) -> wasmtime::Result<(Component, Outcome)> {
    let copy = COPY_IMAGES.load(Ordering::Relaxed);
    // A compiled component with no cache file to map it from.
    let unstored = |component: Component| if copy { component } else { mapped_privately(engine, &component).unwrap_or(component) };
    let Some(dir) = dir() else {
        return Ok((unstored(compile(bytes)?), Outcome::Off));
    };
    let path = dir.join(key(engine, sha256));
    let mut outcome = Outcome::Miss;
    if path.exists() {
        match sound_entry(&path) {
            Some(payload) => {
                let loaded = if copy {
                    // SAFETY: as in `map`: bytes `Component::serialize` produced
                    // under this engine's settings, checksum checked.
                    unsafe { Component::deserialize(engine, &payload) }
                } else {
                    map(engine, &path)
                };
                match loaded {
                    Ok(c) => return Ok((c, Outcome::Hit)),
                    Err(e) => tracing::warn!("plugin cache entry {} is unusable ({e}); recompiling", path.display()),
                }
            }
            None => tracing::warn!("plugin cache entry {} is damaged (checksum); recompiling", path.display()),
        }
        outcome = Outcome::Replaced;
    }
    let component = compile(bytes)?;
    let stored = component.serialize().map_err(|e| e.to_string()).and_then(|s| write_entry(&path, &s).map_err(|e| e.to_string()));
    let component = match stored {
        Ok(()) if copy => component,
        Ok(()) => match map(engine, &path) {
            Ok(mapped) => mapped,
            Err(e) => {
                tracing::warn!("cannot map the compiled plugin from {}: {e}", path.display());
                component
            }
        },
        Err(e) => {
            tracing::warn!("cannot store the compiled plugin in {}: {e}", dir.display());
            unstored(component)
        }
    };
    Ok((component, outcome))
}
