//! What both of wasp's span exporters share: the `OTEL_*` settings (which
//! configurations they leave to opentelemetry-otlp, headers, timeout), the
//! retries within the timeout, and what a receiver's partial acceptance says.

use crate::env::env;
use crate::ConfigError;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTracePartialSuccess;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::future::Future;
use std::time::{Duration, Instant};

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts after the first for a refusal the receiver calls passing, within
/// the timeout, waiting twice as long each time from [`FIRST_BACKOFF`].
const RETRIES: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// What one attempt at sending a request came to.
pub(crate) enum Attempt {
    Sent,
    /// Failed for good.
    Failed(OTelSdkError),
    /// Failed in a way that may pass: try again after `after` (the
    /// receiver's word) or the next backoff, if that is within the timeout.
    Passing {
        why: String,
        after: Option<Duration>,
    },
}

/// Makes attempts (each given the time left) until one is sent or fails for
/// good, a wait would pass the timeout, or [`RETRIES`] retries are spent.
/// Waits block: this runs on the SDK's batch thread. A timeout or a wait too
/// large for the clock counts as never reached, not as an overflow.
pub(crate) async fn with_retries<F: Future<Output = Attempt>>(timeout: Duration, mut attempt: impl FnMut(Duration) -> F) -> OTelSdkResult {
    let deadline = Instant::now().checked_add(timeout);
    let left = || deadline.map_or(timeout, |d| d.saturating_duration_since(Instant::now()));
    let mut backoff = FIRST_BACKOFF;
    let mut retries = 0;
    loop {
        let (why, wait) = match attempt(left()).await {
            Attempt::Sent => return Ok(()),
            Attempt::Failed(e) => return Err(e),
            Attempt::Passing { why, after } => (why, after.unwrap_or(backoff)),
        };
        if retries == RETRIES || wait >= left() {
            return Err(OTelSdkError::InternalFailure(why));
        }
        std::thread::sleep(wait);
        backoff *= 2;
        retries += 1;
    }
}

/// Variables wasp's exporters do not handle: with any of them set the run
/// uses opentelemetry-otlp's exporter instead.
const LEFT_TO_THE_SDK: [&str; 10] = [
    "OTEL_EXPORTER_OTLP_COMPRESSION",
    "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
    "OTEL_EXPORTER_OTLP_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_CLIENT_KEY",
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
    "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_INSECURE",
    "OTEL_EXPORTER_OTLP_TRACES_INSECURE",
];

/// The traces protocol, when wasp's own exporters may serve it: None when
/// `WASP_OTLP_ENCODER=sdk` or a variable in [`LEFT_TO_THE_SDK`] is set.
/// Unset is `grpc`, wasp's default.
pub(crate) fn ours() -> Option<String> {
    if env("WASP_OTLP_ENCODER").is_some_and(|v| v.eq_ignore_ascii_case("sdk")) || LEFT_TO_THE_SDK.iter().any(|v| env(v).is_some()) {
        return None;
    }
    Some(env("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL").or_else(|| env("OTEL_EXPORTER_OTLP_PROTOCOL")).unwrap_or_else(|| "grpc".into()))
}

/// `OTEL_EXPORTER_OTLP_HEADERS`, then `OTEL_EXPORTER_OTLP_TRACES_HEADERS`
/// over it: `key=value` pairs separated by commas, values percent-encoded.
pub(crate) fn headers() -> Result<HeaderMap, ConfigError> {
    let mut map = HeaderMap::new();
    for var in ["OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"] {
        if let Some(list) = env(var) {
            add_headers(var, &list, &mut map)?;
        }
    }
    Ok(map)
}

pub(crate) fn add_headers(var: &str, list: &str, map: &mut HeaderMap) -> Result<(), ConfigError> {
    for pair in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = |what: &str| ConfigError(format!("{var}: {what} in '{pair}' (expected key=value pairs separated by commas)"));
        let (k, v) = pair.split_once('=').ok_or_else(|| bad("no '='"))?;
        let v = percent_encoding::percent_decode_str(v.trim()).decode_utf8().map_err(|_| bad("a value that is not UTF-8"))?;
        let name = HeaderName::from_bytes(k.trim().as_bytes()).map_err(|_| bad("an invalid header name"))?;
        let value = HeaderValue::from_str(v.trim()).map_err(|_| bad("an invalid header value"))?;
        map.insert(name, value);
    }
    Ok(())
}

/// `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` or `OTEL_EXPORTER_OTLP_TIMEOUT`, in
/// milliseconds; 10 s when unset or unreadable (as opentelemetry-otlp).
pub(crate) fn timeout() -> Duration {
    ["OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"]
        .iter()
        .find_map(|v| env(v))
        .and_then(|ms| ms.parse::<u64>().ok())
        .map_or(DEFAULT_TIMEOUT, Duration::from_millis)
}

/// A receiver that took only part of a request says so in its answer.
pub(crate) fn partial_success(p: Option<ExportTracePartialSuccess>) {
    if let Some(p) = p.filter(|p| p.rejected_spans > 0 || !p.error_message.is_empty()) {
        tracing::warn!("the OTLP receiver rejected {} spans: {}", p.rejected_spans, p.error_message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lists_parse_or_say_what_is_wrong() {
        let mut m = HeaderMap::new();
        add_headers("V", "a=1,b=x%3Dy, ,c = two words", &mut m).unwrap();
        assert_eq!((m["a"].to_str().unwrap(), m["b"].to_str().unwrap(), m["c"].to_str().unwrap()), ("1", "x=y", "two words"));
        add_headers("T", "a=2", &mut m).unwrap();
        assert_eq!(m["a"], "2", "the signal's list overrides the general one");
        assert!(add_headers("V", "novalue", &mut m).unwrap_err().0.contains("no '='"));
        assert!(add_headers("V", "bad key=1", &mut m).unwrap_err().0.contains("invalid header name"));
        assert!(add_headers("V", "k=%01", &mut m).unwrap_err().0.contains("invalid header value"));
    }
}
