//! An OTLP/gRPC trace receiver for benchmarks: takes every export on
//! 127.0.0.1:PORT, counts the spans and drops them. Stops on SIGTERM/Ctrl-C.
//! `cargo run --release -p wasp-telemetry --example otlp_grpc_sink -- PORT`

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{TraceService, TraceServiceServer};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Clone, Default)]
struct Sink(Arc<AtomicU64>);

#[tonic::async_trait]
impl TraceService for Sink {
    async fn export(&self, req: tonic::Request<ExportTraceServiceRequest>) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let n: usize = req.get_ref().resource_spans.iter().flat_map(|r| &r.scope_spans).map(|s| s.spans.len()).sum();
        self.0.fetch_add(n as u64, Ordering::Relaxed);
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let port: u16 = match std::env::args().nth(1).map(|p| p.parse()) {
        Some(Ok(p)) => p,
        _ => {
            eprintln!("usage: otlp_grpc_sink PORT");
            std::process::exit(2);
        }
    };
    let sink = Sink::default();
    let spans = sink.0.clone();
    let stop = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    };
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    if let Err(e) = tonic::transport::Server::builder().add_service(TraceServiceServer::new(sink)).serve_with_shutdown(addr, stop).await {
        eprintln!("otlp_grpc_sink: {e}");
        std::process::exit(1);
    }
    eprintln!("otlp_grpc_sink: {} spans", spans.load(Ordering::Relaxed));
}
