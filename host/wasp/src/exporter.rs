//! The runtime of the OTLP exporters' own connections (gRPC's channels): one
//! thread, apart from the users' workers, so that an export never waits
//! behind the users' tasks of a saturated run.

use tokio::sync::oneshot;

pub struct Runtime {
    handle: tokio::runtime::Handle,
    stop: Option<oneshot::Sender<()>>,
}

impl Runtime {
    /// Starts the thread `wasp-otlp`, which runs the exporters' tasks until
    /// this is dropped.
    pub fn start() -> std::io::Result<Runtime> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let handle = rt.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new().name("wasp-otlp".into()).spawn(move || {
            rt.block_on(async {
                let _ = stopped.await;
            });
        })?;
        Ok(Runtime { handle, stop: Some(stop) })
    }

    /// Makes this runtime the current one: exporters built meanwhile put
    /// their connections on it.
    pub fn enter(&self) -> tokio::runtime::EnterGuard<'_> {
        self.handle.enter()
    }
}

/// Dropped: the thread ends, and whatever its tasks still hold is dropped.
impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}
