//! `wasp run --watch`: the plugin file is watched while the run goes on; a new
//! version is loaded (checked and compiled like at the start, through the
//! compiled-plugin cache) and swapped in — each user finishes the task it is
//! in and continues on the new version (on-stop, then on-start) — or refused
//! with a message, the old version running on.

use crate::component::Plugin;
use crate::user::WasmUsers;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use wasmtime::Engine;

/// How often the file is looked at.
const POLL: Duration = Duration::from_millis(250);

fn stamp(path: &std::path::Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

pub async fn watch(users: Arc<WasmUsers>, engine: Engine, path: PathBuf) {
    let mut seen = stamp(&path);
    let mut sha = users.current().sha256.clone();
    let shown = path.display().to_string();
    loop {
        tokio::time::sleep(POLL).await;
        let now = stamp(&path);
        if now.is_none() || now == seen {
            continue;
        }
        // Wait for the writer to finish: the same stamp twice in a row.
        tokio::time::sleep(POLL).await;
        if stamp(&path) != now {
            continue;
        }
        seen = now;
        match Plugin::load(&engine, &path).await {
            Ok(p) if p.sha256 == sha => {}
            Ok(p) => {
                let new_sha = p.sha256.clone();
                match users.swap(Arc::new(p)) {
                    Ok(()) => {
                        tracing::info!("plugin {shown} reloaded (sha256 {}…): users continue on it after their current task", &new_sha[..12]);
                        sha = new_sha;
                    }
                    Err(why) => tracing::warn!("new version of {shown} refused: {why}; the running version goes on"),
                }
            }
            Err(e) => {
                tracing::warn!("new version of {shown} refused: {e}; the running version goes on")
            }
        }
    }
}
