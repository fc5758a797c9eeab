//! Ctrl-C and SIGTERM: the first asks the run to stop, the second to stop now.

use wasp_runner::Signal;
use tokio::sync::mpsc;

/// Listens for SIGINT/SIGTERM and forwards them as [`Signal`]s. The sender
/// returned lets others (threshold checks) stop the run the same way.
pub fn listen() -> (mpsc::Receiver<Signal>, mpsc::Sender<Signal>) {
    let (tx, rx) = mpsc::channel(4);
    let other = tx.clone();
    tokio::spawn(async move {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                return;
            }
        };
        let mut seen = 0;
        loop {
            tokio::select! {
                r = tokio::signal::ctrl_c() => if r.is_err() { return },
                _ = term.recv() => {}
            }
            seen += 1;
            let signal = if seen == 1 {
                tracing::warn!("stopping: finishing running tasks (signal again to stop at once)");
                Signal::Stop
            } else {
                tracing::warn!("stopping now");
                Signal::Kill
            };
            if tx.send(signal).await.is_err() {
                return;
            }
        }
    });
    (rx, other)
}
