//! The start barrier: every shard serves `GET /ready` on its own address and
//! polls every peer's (itself included) until all answer ready; then all
//! start at one instant, the latest peer's ready time plus [`MARGIN`] — so
//! shards that became ready minutes apart start together, however their
//! polls happen to fall. The peers' clocks are assumed in step (NTP, as on
//! any Kubernetes node).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::task::JoinSet;

/// From the last peer's readiness to the common start: room for every peer
/// to see it (a poll interval and a request).
pub const MARGIN: Duration = Duration::from_millis(250);
/// How often a peer not yet ready is asked again.
pub const POLL: Duration = Duration::from_millis(50);

/// What `GET /ready` answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Answer {
    pub ready: bool,
    /// The shard that answers, `I/N`.
    pub segment: String,
    /// When it became ready, ms since the Unix epoch.
    pub ready_at_unix_ms: Option<u64>,
}

#[derive(Clone)]
struct Shared {
    segment: String,
    ready_at: Arc<OnceLock<u64>>,
}

/// This shard's readiness endpoint, serving for the rest of the process.
pub struct Readiness {
    shared: Shared,
    /// The address it listens on.
    pub addr: SocketAddr,
}

/// Listens on `listen` at once (so a wrong address fails before the wait);
/// answers "not ready" (503) until [`Readiness::set_ready`].
pub async fn serve(listen: SocketAddr, segment: String) -> Result<Readiness, String> {
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| format!("cannot listen for the barrier on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let shared = Shared { segment, ready_at: Arc::new(OnceLock::new()) };
    let app = Router::new().route("/ready", get(ready)).with_state(shared.clone());
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::warn!("the barrier's readiness endpoint stopped: {e}");
        }
    });
    Ok(Readiness { shared, addr })
}

async fn ready(State(s): State<Shared>) -> (StatusCode, Json<Answer>) {
    let at = s.ready_at.get().copied();
    let code = if at.is_some() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, Json(Answer { ready: at.is_some(), segment: s.segment.clone(), ready_at_unix_ms: at }))
}

impl Readiness {
    /// From now on this shard answers ready; returns when it became so (ms).
    pub fn set_ready(&self) -> u64 {
        *self.shared.ready_at.get_or_init(|| unix_ms(SystemTime::now()))
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum BarrierError {
    /// Some peers never answered ready.
    Timeout { missing: Vec<String>, total: usize },
    /// A peer answered as another shard: the shards were started with different lists or counts.
    Mismatch(String),
}

impl std::fmt::Display for BarrierError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BarrierError::Timeout { missing, total } => {
                let shown: Vec<&str> = missing.iter().take(5).map(String::as_str).collect();
                let more = if missing.len() > 5 { format!(" and {} more", missing.len() - 5) } else { String::new() };
                write!(f, "{} of {total} peers not ready: {}{more}", missing.len(), shown.join(", "))
            }
            BarrierError::Mismatch(m) => f.write_str(m),
        }
    }
}

/// Waits until every peer (the i-th being shard i of `peers.len()`) answers
/// ready, for at most `timeout`; returns the common start instant.
pub async fn wait(peers: &[String], timeout: Duration) -> Result<SystemTime, BarrierError> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(1))
        .no_proxy()
        .build()
        .map_err(|e| BarrierError::Mismatch(format!("cannot build the barrier's HTTP client: {e}")))?;
    let n = peers.len();
    let deadline = tokio::time::Instant::now() + timeout;
    let mut polls = JoinSet::new();
    for (i, peer) in peers.iter().enumerate() {
        let (client, url, expect) = (client.clone(), format!("http://{peer}/ready"), format!("{i}/{n}"));
        polls.spawn(async move {
            loop {
                if let Ok(r) = client.get(&url).send().await {
                    if let Ok(a) = r.json::<Answer>().await {
                        if a.segment != expect {
                            return (i, Err(format!("peer {url} is shard {}, not {expect}: start every shard with the same --barrier list", a.segment)));
                        }
                        if let (true, Some(at)) = (a.ready, a.ready_at_unix_ms) {
                            return (i, Ok(at));
                        }
                    }
                }
                tokio::time::sleep(POLL).await;
            }
        });
    }
    let mut ready = vec![None; n];
    loop {
        tokio::select! {
            done = polls.join_next() => match done {
                None => break,
                Some(Ok((i, Ok(at)))) => ready[i] = Some(at),
                Some(Ok((_, Err(m)))) => return Err(BarrierError::Mismatch(m)),
                Some(Err(e)) => return Err(BarrierError::Mismatch(format!("a barrier poll failed: {e}"))),
            },
            _ = tokio::time::sleep_until(deadline) => {
                polls.abort_all();
                let missing = peers.iter().zip(&ready).filter(|(_, r)| r.is_none()).map(|(p, _)| p.clone()).collect();
                return Err(BarrierError::Timeout { missing, total: n });
            }
        }
    }
    let latest = ready.into_iter().flatten().max().unwrap_or(0);
    Ok(UNIX_EPOCH + Duration::from_millis(latest) + MARGIN)
}

pub fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn shard(i: usize, n: usize) -> (Readiness, String) {
        let r = serve("127.0.0.1:0".parse().unwrap(), format!("{i}/{n}")).await.unwrap();
        let peer = r.addr.to_string();
        (r, peer)
    }

    #[tokio::test]
    async fn all_start_at_the_latest_readiness_plus_the_margin() {
        let (a, pa) = shard(0, 2).await;
        let (b, pb) = shard(1, 2).await;
        let peers = vec![pa, pb];
        a.set_ready();
        let waiting = tokio::spawn({
            let peers = peers.clone();
            async move { wait(&peers, Duration::from_secs(10)).await }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!waiting.is_finished(), "one peer is not ready yet");
        let b_at = b.set_ready();
        let start = waiting.await.unwrap().unwrap();
        assert_eq!(start, UNIX_EPOCH + Duration::from_millis(b_at) + MARGIN);
        // The other side agrees on the same instant.
        assert_eq!(wait(&peers, Duration::from_secs(5)).await.unwrap(), start);
    }

    #[tokio::test]
    async fn a_missing_peer_times_out_naming_it_and_a_stranger_is_refused() {
        let (a, pa) = shard(0, 2).await;
        a.set_ready();
        // A port nobody listens on.
        let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
        let t0 = std::time::Instant::now();
        let e = wait(&[pa.clone(), gone.clone()], Duration::from_millis(600)).await.unwrap_err();
        assert_eq!(e, BarrierError::Timeout { missing: vec![gone], total: 2 });
        assert!(t0.elapsed() >= Duration::from_millis(600) && t0.elapsed() < Duration::from_secs(3));
        // Shard 0 listed where shard 1 should be: started with another list.
        let e = wait(&[pa.clone(), pa], Duration::from_secs(2)).await.unwrap_err();
        assert!(matches!(&e, BarrierError::Mismatch(m) if m.contains("is shard 0/2, not 1/2")), "{e}");
    }
}
