//! Ctrl-C, SIGTERM and SIGHUP: the first asks the run to stop (it still
//! writes its summary and files), the second to stop now — during the run, or
//! during the final telemetry flush.

use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;
use wasp_runner::Signal;

/// Listens for SIGINT, SIGTERM and SIGHUP and forwards them as [`Signal`]s.
/// The sender returned lets others (threshold checks) stop the run the same way.
/// Call it before anything slow (loading the plugin): from then on a signal
/// never kills wasp without a word.
pub fn listen() -> (mpsc::Receiver<Signal>, mpsc::Sender<Signal>) {
    let (tx, rx) = mpsc::channel(4);
    let other = tx.clone();
    let kinds = [SignalKind::interrupt(), SignalKind::terminate(), SignalKind::hangup()];
    let mut streams: Vec<_> = kinds.into_iter().filter_map(|k| signal(k).map_err(|e| tracing::warn!("cannot listen for a signal: {e}")).ok()).collect();
    tokio::spawn(async move {
        let mut seen = 0;
        loop {
            let next = any_signal(&mut streams);
            if next.await.is_none() {
                return;
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

/// The next signal of any of `streams`.
async fn any_signal(streams: &mut [tokio::signal::unix::Signal]) -> Option<()> {
    if streams.is_empty() {
        return std::future::pending().await;
    }
    std::future::poll_fn(|cx| {
        for s in streams.iter_mut() {
            if let std::task::Poll::Ready(r) = s.poll_recv(cx) {
                return std::task::Poll::Ready(r);
            }
        }
        std::task::Poll::Pending
    })
    .await
}
