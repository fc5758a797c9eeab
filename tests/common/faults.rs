//! Loopback servers that misbehave on purpose, for the hardening tests. Each
//! listens on 127.0.0.1 with a port the OS picks, and stops (its task
//! aborted, its connections closed) when dropped.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::io::AsyncReadExt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Accepts, reads whatever comes, never answers.
    Blackhole,
    /// Accepts and closes at once.
    Reset,
}

pub struct FaultServer {
    pub addr: SocketAddr,
    /// Connections accepted so far.
    pub accepted: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultServer {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn serve(fault: Fault) -> FaultServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicU64::new(0));
    let count = accepted.clone();
    let task = tokio::spawn(async move {
        let mut held = tokio::task::JoinSet::new();
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            count.fetch_add(1, Ordering::Relaxed);
            match fault {
                Fault::Reset => drop(sock),
                Fault::Blackhole => {
                    held.spawn(async move {
                        let mut buf = [0u8; 4096];
                        while matches!(sock.read(&mut buf).await, Ok(n) if n > 0) {}
                    });
                }
            }
        }
    });
    FaultServer { addr, accepted, task }
}
