//! A local OTLP receiver for benchmarks: the tests' receiver, run as a
//! process. Prints "GRPC_PORT HTTP_PORT", then every second drops what it
//! received (keeping counts) until it is killed.
#[path = "../../../tests/common/otlp.rs"]
mod otlp;

#[tokio::main]
async fn main() {
    let rx = otlp::receiver(false).await;
    println!("{} {}", rx.grpc.port(), rx.http.port());
    let (mut spans, mut logs) = (0usize, 0usize);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    loop {
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
        let mut s = rx.store.lock().unwrap();
        spans += s.spans.len();
        logs += s.logs.len();
        s.spans.clear();
        s.logs.clear();
        s.metrics.clear();
    }
    let s = rx.store.lock().unwrap();
    eprintln!("otlp_sink: received {} spans, {} log records", spans + s.spans.len(), logs + s.logs.len());
}
