#![allow(dead_code)]
//! A real OTLP receiver for the tests, built on `opentelemetry-proto`: the
//! three gRPC collector services (tonic) and the HTTP/protobuf endpoints
//! (`/v1/traces`, `/v1/metrics`, `/v1/logs`), on 127.0.0.1. It stores what it
//! gets; in `stall` mode it accepts requests and never answers.

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::Router;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{LogsService, LogsServiceServer};
use opentelemetry_proto::tonic::collector::logs::v1::{ExportLogsServiceRequest, ExportLogsServiceResponse};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{MetricsService, MetricsServiceServer};
use opentelemetry_proto::tonic::collector::metrics::v1::{ExportMetricsServiceRequest, ExportMetricsServiceResponse};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{TraceService, TraceServiceServer};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::metrics::v1::{metric, ResourceMetrics};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

#[derive(Default, Debug)]
pub struct Received {
    /// (resource attributes, span)
    pub spans: Vec<(HashMap<String, String>, Span)>,
    pub logs: Vec<(HashMap<String, String>, LogRecord)>,
    pub metrics: Vec<ResourceMetrics>,
    /// Export requests by transport ("grpc" / "http").
    pub requests: HashMap<&'static str, u64>,
    /// The spans in each trace export request, in arrival order.
    pub span_batches: Vec<usize>,
}

#[derive(Clone)]
struct Sink {
    store: Arc<Mutex<Received>>,
    stall: bool,
}

pub fn text(kv: &[KeyValue]) -> HashMap<String, String> {
    kv.iter()
        .map(|k| {
            let v = match k.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(any_value::Value::StringValue(s)) => s.clone(),
                Some(any_value::Value::IntValue(i)) => i.to_string(),
                Some(any_value::Value::DoubleValue(d)) => d.to_string(),
                Some(any_value::Value::BoolValue(b)) => b.to_string(),
                other => format!("{other:?}"),
            };
            (k.key.clone(), v)
        })
        .collect()
}

impl Sink {
    async fn maybe_stall(&self) {
        if self.stall {
            std::future::pending::<()>().await;
        }
    }

    fn traces(&self, via: &'static str, r: ExportTraceServiceRequest) {
        let mut s = self.store.lock().unwrap();
        *s.requests.entry(via).or_insert(0) += 1;
        let n = r.resource_spans.iter().flat_map(|rs| &rs.scope_spans).map(|ss| ss.spans.len()).sum();
        s.span_batches.push(n);
        for rs in r.resource_spans {
            let res = text(&rs.resource.map(|r| r.attributes).unwrap_or_default());
            for ss in rs.scope_spans {
                for span in ss.spans {
                    s.spans.push((res.clone(), span));
                }
            }
        }
    }

    fn logs(&self, via: &'static str, r: ExportLogsServiceRequest) {
        let mut s = self.store.lock().unwrap();
        *s.requests.entry(via).or_insert(0) += 1;
        for rl in r.resource_logs {
            let res = text(&rl.resource.map(|r| r.attributes).unwrap_or_default());
            for sl in rl.scope_logs {
                for l in sl.log_records {
                    s.logs.push((res.clone(), l));
                }
            }
        }
    }

    fn metrics(&self, via: &'static str, r: ExportMetricsServiceRequest) {
        let mut s = self.store.lock().unwrap();
        *s.requests.entry(via).or_insert(0) += 1;
        s.metrics.extend(r.resource_metrics);
    }
}

#[tonic::async_trait]
impl TraceService for Sink {
    async fn export(&self, req: tonic::Request<ExportTraceServiceRequest>) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.maybe_stall().await;
        self.traces("grpc", req.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl LogsService for Sink {
    async fn export(&self, req: tonic::Request<ExportLogsServiceRequest>) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        self.maybe_stall().await;
        self.logs("grpc", req.into_inner());
        Ok(tonic::Response::new(ExportLogsServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl MetricsService for Sink {
    async fn export(&self, req: tonic::Request<ExportMetricsServiceRequest>) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        self.maybe_stall().await;
        self.metrics("grpc", req.into_inner());
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

fn protobuf(body: Vec<u8>) -> ([(axum::http::HeaderName, &'static str); 1], Vec<u8>) {
    ([(axum::http::header::CONTENT_TYPE, "application/x-protobuf")], body)
}

async fn http_traces(State(s): State<Sink>, body: Bytes) -> impl axum::response::IntoResponse {
    s.maybe_stall().await;
    s.traces("http", ExportTraceServiceRequest::decode(body).expect("valid OTLP/protobuf traces"));
    protobuf(ExportTraceServiceResponse::default().encode_to_vec())
}

async fn http_logs(State(s): State<Sink>, body: Bytes) -> impl axum::response::IntoResponse {
    s.maybe_stall().await;
    s.logs("http", ExportLogsServiceRequest::decode(body).expect("valid OTLP/protobuf logs"));
    protobuf(ExportLogsServiceResponse::default().encode_to_vec())
}

async fn http_metrics(State(s): State<Sink>, body: Bytes) -> impl axum::response::IntoResponse {
    s.maybe_stall().await;
    s.metrics("http", ExportMetricsServiceRequest::decode(body).expect("valid OTLP/protobuf metrics"));
    protobuf(ExportMetricsServiceResponse::default().encode_to_vec())
}

pub struct Receiver {
    pub grpc: SocketAddr,
    pub http: SocketAddr,
    pub store: Arc<Mutex<Received>>,
    stops: Vec<oneshot::Sender<()>>,
}

impl Receiver {
    pub fn grpc_url(&self) -> String {
        format!("http://{}", self.grpc)
    }
    pub fn http_url(&self) -> String {
        format!("http://{}", self.http)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        for s in self.stops.drain(..) {
            let _ = s.send(());
        }
    }
}

/// Starts a receiver; with `stall`, it takes every request and never answers.
pub async fn receiver(stall: bool) -> Receiver {
    let store = Arc::new(Mutex::new(Received::default()));
    let sink = Sink { store: store.clone(), stall };

    let grpc_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let grpc = grpc_listener.local_addr().unwrap();
    let (gtx, grx) = oneshot::channel::<()>();
    let services = tonic::transport::Server::builder()
        .add_service(TraceServiceServer::new(sink.clone()))
        .add_service(LogsServiceServer::new(sink.clone()))
        .add_service(MetricsServiceServer::new(sink.clone()));
    tokio::spawn(async move {
        let incoming = tonic::transport::server::TcpIncoming::from(grpc_listener);
        let _ = services
            .serve_with_incoming_shutdown(incoming, async {
                let _ = grx.await;
            })
            .await;
    });

    let http_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http = http_listener.local_addr().unwrap();
    let (htx, hrx) = oneshot::channel::<()>();
    let app = Router::new().route("/v1/traces", post(http_traces)).route("/v1/logs", post(http_logs)).route("/v1/metrics", post(http_metrics)).with_state(sink);
    tokio::spawn(async move {
        let _ = axum::serve(http_listener, app)
            .with_graceful_shutdown(async {
                let _ = hrx.await;
            })
            .await;
    });
    Receiver { grpc, http, store, stops: vec![gtx, htx] }
}

/// The largest count seen for a histogram across exports (cumulative
/// temporality: the last export holds the totals), summed over attribute sets.
pub fn histogram_count(metrics: &[ResourceMetrics], name: &str) -> u64 {
    let mut by_attrs: HashMap<String, u64> = HashMap::new();
    for rm in metrics {
        for sm in &rm.scope_metrics {
            for m in sm.metrics.iter().filter(|m| m.name == name) {
                if let Some(metric::Data::Histogram(h)) = &m.data {
                    for dp in &h.data_points {
                        let mut key: Vec<_> = text(&dp.attributes).into_iter().collect();
                        key.sort();
                        let e = by_attrs.entry(format!("{key:?}")).or_insert(0);
                        *e = (*e).max(dp.count);
                    }
                }
            }
        }
    }
    by_attrs.values().sum()
}

/// The largest value each sum or gauge data point of `name` reached across
/// exports, by its attributes (as text).
pub fn values(metrics: &[ResourceMetrics], name: &str) -> HashMap<String, f64> {
    use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value;
    let mut out: HashMap<String, f64> = HashMap::new();
    for rm in metrics {
        for sm in &rm.scope_metrics {
            for m in sm.metrics.iter().filter(|m| m.name == name) {
                let points = match &m.data {
                    Some(metric::Data::Sum(s)) => &s.data_points,
                    Some(metric::Data::Gauge(g)) => &g.data_points,
                    _ => continue,
                };
                for dp in points {
                    let v = match dp.value {
                        Some(Value::AsDouble(d)) => d,
                        Some(Value::AsInt(i)) => i as f64,
                        None => continue,
                    };
                    let mut key: Vec<_> = text(&dp.attributes).into_iter().collect();
                    key.sort();
                    let e = out.entry(format!("{key:?}")).or_insert(f64::MIN);
                    *e = e.max(v);
                }
            }
        }
    }
    out
}
