//! wasp's own OTLP span export: the request body written straight from the
//! SDK's span data ([`encode`]), posted over HTTP ([`http`]) or sent over
//! gRPC ([`grpc`]) from the batch thread. Configurations these do not cover,
//! and metrics and logs, go through opentelemetry-otlp.

mod config;
pub mod encode;
pub mod grpc;
pub mod http;

pub use grpc::GrpcSpans;
pub use http::HttpSpans;
