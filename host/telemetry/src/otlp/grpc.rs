//! OTLP/gRPC span export with the request body written by [`super::encode`]:
//! the bytes go to the collector's `TraceService/Export` through a tonic
//! channel and a codec that writes them as they are.
//!
//! Used for `grpc` (wasp's default protocol) to a plain `http://` endpoint
//! when nothing beyond endpoint, headers and timeout is configured; TLS,
//! compression and client certificates stay with opentelemetry-otlp's
//! exporter (see [`GrpcSpans::from_env`]). opentelemetry-otlp's tonic
//! exporter also clones the whole batch before converting it (for its
//! retries); here a retry sends the same bytes again.

use super::config::{self, Attempt};
use super::{GrpcSpans, Spans, Transport};
use crate::env::env;
use crate::ConfigError;
use bytes::{Buf, BufMut, Bytes};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use prost::Message;
use std::sync::Mutex;
use std::time::Duration;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::metadata::MetadataMap;
use tonic::transport::Channel;
use tonic::{Code, Status};

const DEFAULT_ENDPOINT: &str = "http://localhost:4317";
const EXPORT: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// Requests sent to `TraceService/Export` through a tonic channel.
pub struct Grpc {
    channel: Mutex<Option<Channel>>,
    metadata: MetadataMap,
    timeout: Duration,
}

impl std::fmt::Debug for Grpc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Grpc")
    }
}

impl GrpcSpans {
    /// The exporter the environment asks for, or None when the traces
    /// protocol is not `grpc` (unset is `grpc`), when the endpoint is not
    /// plain `http://`, or when the configuration is left to
    /// opentelemetry-otlp (see `config::ours`). Must run inside a tokio
    /// runtime: the channel's tasks live on it.
    pub fn from_env() -> Result<Option<GrpcSpans>, ConfigError> {
        let (var, endpoint) = match (env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), env("OTEL_EXPORTER_OTLP_ENDPOINT")) {
            (Some(e), _) => ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", e),
            (None, Some(e)) => ("OTEL_EXPORTER_OTLP_ENDPOINT", e),
            (None, None) => ("OTEL_EXPORTER_OTLP_ENDPOINT", DEFAULT_ENDPOINT.to_string()),
        };
        if config::ours().as_deref() != Some("grpc") || !endpoint.starts_with("http://") {
            return Ok(None);
        }
        Ok(Some(GrpcSpans::new(var, &endpoint, config::headers()?, config::timeout())?))
    }

    pub fn new(var: &str, endpoint: &str, headers: reqwest::header::HeaderMap, timeout: Duration) -> Result<GrpcSpans, ConfigError> {
        let channel = tonic::transport::Endpoint::from_shared(endpoint.to_string())
            .map_err(|e| ConfigError(format!("{var}: invalid endpoint '{endpoint}': {e}")))?
            .timeout(timeout)
            .connect_lazy();
        Ok(Spans::over(Grpc { channel: Mutex::new(Some(channel)), metadata: MetadataMap::from_headers(headers), timeout }))
    }
}

impl Transport for Grpc {
    async fn send(&self, body: Vec<u8>) -> OTelSdkResult {
        let body = Bytes::from(body);
        let channel = self.channel.lock().unwrap_or_else(|p| p.into_inner()).clone().ok_or(OTelSdkError::AlreadyShutdown)?;
        let (channel, body) = (&channel, &body);
        // Each attempt is bounded by the channel's own timeout.
        config::with_retries(self.timeout, |_left| async move {
            let mut grpc = tonic::client::Grpc::new(channel.clone());
            let result = match grpc.ready().await {
                Ok(()) => {
                    let mut req = tonic::Request::new(body.clone());
                    *req.metadata_mut() = self.metadata.clone();
                    grpc.unary(req, http::uri::PathAndQuery::from_static(EXPORT), Raw).await
                }
                Err(e) => Err(Status::unavailable(e.to_string())),
            };
            let status = match result {
                Ok(response) => {
                    config::partial_success(response.into_inner().partial_success);
                    return Attempt::Sent;
                }
                Err(s) => s,
            };
            let why = format!("OTLP/gRPC traces export failed: {}: {}", status.code(), status.message());
            // The codes the OTLP specification calls retryable.
            match status.code() {
                Code::Cancelled | Code::DeadlineExceeded | Code::Aborted | Code::OutOfRange | Code::Unavailable | Code::DataLoss => {
                    Attempt::Passing { why, after: None }
                }
                _ => Attempt::Failed(OTelSdkError::InternalFailure(why)),
            }
        })
        .await
    }

    fn close(&self) -> OTelSdkResult {
        match self.channel.lock().unwrap_or_else(|p| p.into_inner()).take() {
            Some(_) => Ok(()),
            None => Err(OTelSdkError::AlreadyShutdown),
        }
    }
}

/// Sends bytes already encoded as the request message; reads the answer
/// as an `ExportTraceServiceResponse`.
#[derive(Debug, Clone, Copy, Default)]
struct Raw;

impl Codec for Raw {
    type Encode = Bytes;
    type Decode = ExportTraceServiceResponse;
    type Encoder = Raw;
    type Decoder = Raw;
    fn encoder(&mut self) -> Raw {
        Raw
    }
    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Bytes;
    type Error = Status;
    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = ExportTraceServiceResponse;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<ExportTraceServiceResponse>, Status> {
        let r =
            ExportTraceServiceResponse::decode(src.copy_to_bytes(src.remaining())).map_err(|e| Status::internal(format!("the OTLP receiver's answer: {e}")))?;
        Ok(Some(r))
    }
}

#[cfg(test)]
mod tests {
    use super::super::encode::tests::{batch, sdk};
    use super::*;
    use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{TraceService, TraceServiceServer};
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_sdk::trace::{SpanData, SpanExporter};
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;
    use std::time::Instant;

    /// A loopback TraceService that refuses its first `refuse` calls as
    /// unavailable, then keeps what it gets with the `x-tenant` it came with.
    /// What the sink kept: each request with its `x-tenant`.
    type Kept = Vec<(Option<String>, ExportTraceServiceRequest)>;

    #[derive(Clone, Default)]
    struct Sink {
        got: Arc<std::sync::Mutex<Kept>>,
        refuse: Arc<AtomicU32>,
        calls: Arc<AtomicU32>,
    }

    #[tonic::async_trait]
    impl TraceService for Sink {
        async fn export(&self, req: tonic::Request<ExportTraceServiceRequest>) -> Result<tonic::Response<ExportTraceServiceResponse>, Status> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self.refuse.load(Ordering::SeqCst) > 0 {
                self.refuse.fetch_sub(1, Ordering::SeqCst);
                return Err(Status::unavailable("busy"));
            }
            let tenant = req.metadata().get("x-tenant").map(|v| v.to_str().unwrap().to_string());
            self.got.lock().unwrap().push((tenant, req.into_inner()));
            Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
        }
    }

    async fn serve(sink: Sink) -> (String, tokio::sync::oneshot::Sender<()>) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let incoming = tonic::transport::server::TcpIncoming::from(l);
            let _ = tonic::transport::Server::builder()
                .add_service(TraceServiceServer::new(sink))
                .serve_with_incoming_shutdown(incoming, async {
                    let _ = stopped.await;
                })
                .await;
        });
        (url, stop)
    }

    /// Exports on a thread of its own, as the SDK's batch processor does.
    async fn export(e: Arc<GrpcSpans>, spans: Vec<SpanData>) -> OTelSdkResult {
        tokio::task::spawn_blocking(move || futures_executor::block_on(e.export(spans))).await.unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_collector_gets_what_the_sdk_would_send_and_unavailable_is_retried() {
        let sink = Sink::default();
        sink.refuse.store(1, Ordering::SeqCst);
        let (url, stop) = serve(sink.clone()).await;
        let mut headers = reqwest::header::HeaderMap::new();
        config::add_headers("V", "x-tenant=blue", &mut headers).unwrap();
        let mut e = GrpcSpans::new("V", &url, headers, Duration::from_secs(5)).unwrap();
        let (resource, spans) = batch();
        let want = sdk(&resource, spans.clone());
        e.set_resource(&resource);
        let e = Arc::new(e);
        export(e.clone(), spans).await.expect("the retry gets through");
        assert_eq!(sink.calls.load(Ordering::SeqCst), 2, "one refusal, one retry");
        let got = sink.got.lock().unwrap().clone();
        assert_eq!(got, vec![(Some("blue".to_string()), want)]);
        e.shutdown_with_timeout(Duration::from_secs(1)).unwrap();
        assert!(matches!(export(e, batch().1).await, Err(OTelSdkError::AlreadyShutdown)));
        let _ = stop.send(());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_collector_that_is_not_there_fails_the_export_within_its_timeout() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        drop(l);
        let e = Arc::new(GrpcSpans::new("V", &url, Default::default(), Duration::from_millis(500)).unwrap());
        let t0 = Instant::now();
        let err = export(e, batch().1).await.unwrap_err();
        assert!(err.to_string().contains("OTLP/gRPC traces export failed"), "{err}");
        assert!(t0.elapsed() < Duration::from_secs(5), "gave up after {:?}", t0.elapsed());
    }

    #[test]
    fn an_endpoint_that_is_not_a_uri_is_refused_with_the_variable_named() {
        let err = GrpcSpans::new("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a b", Default::default(), Duration::from_secs(1)).unwrap_err().0;
        assert!(err.starts_with("OTEL_EXPORTER_OTLP_ENDPOINT: invalid endpoint 'http://a b'"), "{err}");
    }
}
