//! wasp's own OTLP span export for `http/protobuf`: the request body written
//! straight from the SDK's span data ([`encode`]) and posted from the batch
//! thread ([`http`]). Everything else goes through opentelemetry-otlp.

pub mod encode;
pub mod http;

pub use http::HttpSpans;
