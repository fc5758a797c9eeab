//! wasp's own OTLP span export: the request body written straight from the
//! SDK's span data ([`encode`]), posted over HTTP ([`http`]) or sent over
//! gRPC ([`grpc`]) from the batch thread. Configurations these do not cover,
//! and metrics and logs, go through opentelemetry-otlp.

mod config;
pub mod encode;
pub mod grpc;
pub mod http;

use encode::{requests, EncodedResource};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use std::future::Future;
use std::time::Duration;

/// Spans exported over OTLP/HTTP.
pub type HttpSpans = Spans<http::Http>;
/// Spans exported over OTLP/gRPC.
pub type GrpcSpans = Spans<grpc::Grpc>;

/// How an encoded export request reaches the receiver.
pub trait Transport: Send + Sync + std::fmt::Debug + 'static {
    /// Sends one request body, retrying what may pass within the timeout.
    fn send(&self, body: Vec<u8>) -> impl Future<Output = OTelSdkResult> + Send;
    /// Lets go of the connection: later sends fail as after a shutdown.
    fn close(&self) -> OTelSdkResult;
}

/// The span exporter: a batch encoded into requests of at most
/// [`encode::MAX_REQUEST_BYTES`], each sent over `T`.
#[derive(Debug)]
pub struct Spans<T> {
    transport: T,
    resource: EncodedResource,
}

impl<T: Transport> Spans<T> {
    fn over(transport: T) -> Spans<T> {
        Spans { transport, resource: EncodedResource::default() }
    }
}

impl<T: Transport> SpanExporter for Spans<T> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        // Every part is tried; the batch fails if one part did.
        let mut all = Ok(());
        for body in requests(&self.resource, &batch) {
            all = self.transport.send(body).await.and(all);
        }
        all
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        self.transport.close()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = EncodedResource::new(resource);
    }
}
