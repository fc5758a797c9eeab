//! OTLP/HTTP span export with the request body written by [`super::encode`].
//!
//! Used for `http/protobuf` when nothing beyond endpoint, headers and timeout
//! is configured; compression and client certificates stay with
//! opentelemetry-otlp's exporter (see [`HttpSpans::from_env`]). Runs on the
//! SDK's batch thread, so the blocking client never touches a user's worker.

use super::config::{self, Attempt};
use super::{HttpSpans, Spans, Transport};
use crate::env::env;
use crate::ConfigError;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use prost::Message;
use reqwest::header::{HeaderMap, CONTENT_TYPE};
use std::sync::Mutex;
use std::time::Duration;

const DEFAULT_ENDPOINT: &str = "http://localhost:4318";
const PATH: &str = "/v1/traces";

/// Requests POSTed with reqwest's blocking client.
#[derive(Debug)]
pub struct Http {
    client: Mutex<Option<reqwest::blocking::Client>>,
    endpoint: reqwest::Url,
    headers: HeaderMap,
    timeout: Duration,
}

impl HttpSpans {
    /// The exporter the environment asks for, or None when the traces
    /// protocol is not `http/protobuf` or the configuration is left to
    /// opentelemetry-otlp (see `config::ours`).
    pub fn from_env() -> Result<Option<HttpSpans>, ConfigError> {
        if config::ours().as_deref() != Some("http/protobuf") {
            return Ok(None);
        }
        Ok(Some(HttpSpans::new(endpoint()?, config::headers()?, config::timeout())?))
    }

    pub fn new(endpoint: reqwest::Url, headers: HeaderMap, timeout: Duration) -> Result<HttpSpans, ConfigError> {
        // reqwest's blocking client must not be built on a tokio worker (it
        // runs a runtime of its own): build it on a thread of its own.
        let client = std::thread::spawn(move || reqwest::blocking::Client::builder().timeout(timeout).build())
            .join()
            .map_err(|_| ConfigError("cannot set up the OTLP traces exporter: building its HTTP client panicked".into()))?
            .map_err(|e| ConfigError(format!("cannot set up the OTLP traces exporter: {e}")))?;
        Ok(Spans::over(Http { client: Mutex::new(Some(client)), endpoint, headers, timeout }))
    }
}

impl Transport for Http {
    async fn send(&self, body: Vec<u8>) -> OTelSdkResult {
        let client = self.client.lock().unwrap_or_else(|p| p.into_inner()).clone().ok_or(OTelSdkError::AlreadyShutdown)?;
        let body = bytes::Bytes::from(body);
        let (client, body) = (&client, &body);
        config::with_retries(self.timeout, |left| async move {
            let sent = client
                .post(self.endpoint.clone())
                .headers(self.headers.clone())
                .header(CONTENT_TYPE, "application/x-protobuf")
                .body(body.clone())
                .timeout(left)
                .send();
            match sent {
                Ok(r) if r.status().is_success() => {
                    let answer = r.bytes().unwrap_or_default();
                    config::partial_success(ExportTraceServiceResponse::decode(answer).ok().and_then(|a| a.partial_success));
                    Attempt::Sent
                }
                Ok(r) => {
                    let status = r.status().as_u16();
                    let why = format!("OTLP/HTTP traces export failed with status {status}");
                    if !matches!(status, 429 | 502 | 503 | 504) {
                        return Attempt::Failed(OTelSdkError::InternalFailure(why));
                    }
                    let after = r.headers().get("retry-after").and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok()).map(Duration::from_secs);
                    Attempt::Passing { why, after }
                }
                Err(e) if e.is_timeout() => Attempt::Failed(OTelSdkError::Timeout(self.timeout)),
                Err(e) => Attempt::Passing { why: format!("OTLP/HTTP traces export failed: {e}"), after: None },
            }
        })
        .await
    }

    fn close(&self) -> OTelSdkResult {
        match self.client.lock().unwrap_or_else(|p| p.into_inner()).take() {
            Some(_) => Ok(()),
            None => Err(OTelSdkError::AlreadyShutdown),
        }
    }
}

/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as it is, else
/// `OTEL_EXPORTER_OTLP_ENDPOINT` (or the default) with `/v1/traces`.
fn endpoint() -> Result<reqwest::Url, ConfigError> {
    endpoint_from(env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), env("OTEL_EXPORTER_OTLP_ENDPOINT"))
}

fn endpoint_from(traces: Option<String>, base: Option<String>) -> Result<reqwest::Url, ConfigError> {
    let (var, url) = match traces {
        Some(u) => ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", u),
        None => {
            let base = base.unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
            ("OTEL_EXPORTER_OTLP_ENDPOINT", format!("{}{PATH}", base.trim_end_matches('/')))
        }
    };
    reqwest::Url::parse(&url).map_err(|e| ConfigError(format!("{var}: invalid endpoint '{url}': {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState};
    use opentelemetry::{InstrumentationScope, KeyValue};
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_sdk::trace::{SpanData, SpanExporter};
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};
    use opentelemetry_sdk::Resource;
    use std::future::Future;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::task::{Context, Poll, Waker};
    use std::time::UNIX_EPOCH;

    /// One received request: the request line, its headers, its body.
    type Got = (String, Vec<(String, String)>, Vec<u8>);

    /// A loopback receiver that answers each request with the next status of
    /// `answers` (with its `Retry-After`, unless empty), then stops.
    fn receiver(answers: Vec<(u16, &'static str)>) -> (reqwest::Url, std::thread::JoinHandle<Vec<Got>>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = reqwest::Url::parse(&format!("http://{}/v1/traces", l.local_addr().unwrap())).unwrap();
        let h = std::thread::spawn(move || {
            let mut got = Vec::new();
            let mut answers = answers.into_iter();
            let mut answer = answers.next();
            while answer.is_some() {
                let (s, _) = l.accept().unwrap();
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut w = s;
                // Keep-alive: serve this connection until it closes or the answers run out.
                while let Some((status, after)) = answer {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    let mut headers = Vec::new();
                    loop {
                        let mut h = String::new();
                        r.read_line(&mut h).unwrap();
                        let h = h.trim_end().to_string();
                        if h.is_empty() {
                            break;
                        }
                        let (k, v) = h.split_once(':').unwrap();
                        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                    }
                    let len: usize = headers.iter().find(|(k, _)| k == "content-length").map_or(0, |(_, v)| v.parse().unwrap());
                    let mut body = vec![0; len];
                    r.read_exact(&mut body).unwrap();
                    got.push((line.trim_end().to_string(), headers, body));
                    let extra = if after.is_empty() { String::new() } else { format!("Retry-After: {after}\r\n") };
                    write!(w, "HTTP/1.1 {status} X\r\n{extra}Content-Length: 0\r\n\r\n").unwrap();
                    w.flush().unwrap();
                    answer = answers.next();
                }
            }
            got
        });
        (url, h)
    }

    fn spans(n: u64) -> Vec<SpanData> {
        let scope = InstrumentationScope::builder("wasp").build();
        (1..=n)
            .map(|i| SpanData {
                span_context: SpanContext::new(TraceId::from(i as u128), SpanId::from(i), TraceFlags::SAMPLED, false, TraceState::default()),
                parent_span_id: SpanId::INVALID,
                parent_span_is_remote: false,
                span_kind: SpanKind::Client,
                name: "GET /".into(),
                start_time: UNIX_EPOCH,
                end_time: UNIX_EPOCH,
                attributes: vec![KeyValue::new("i", i as i64)],
                dropped_attributes_count: 0,
                events: SpanEvents::default(),
                links: SpanLinks::default(),
                status: Status::Unset,
                instrumentation_scope: scope.clone(),
            })
            .collect()
    }

    /// The exporter never waits on a future: one poll finishes it.
    fn export(e: &HttpSpans, batch: Vec<SpanData>) -> OTelSdkResult {
        let mut f = std::pin::pin!(e.export(batch));
        match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(r) => r,
            Poll::Pending => panic!("the export waited on a future"),
        }
    }

    fn exporter(url: reqwest::Url) -> HttpSpans {
        let mut headers = HeaderMap::new();
        config::add_headers("X", "authorization=Bearer%20t0ken, x-tenant = blue ", &mut headers).unwrap();
        let mut e = HttpSpans::new(url, headers, Duration::from_secs(5)).unwrap();
        e.set_resource(&Resource::builder_empty().with_attribute(KeyValue::new("service.name", "wasp")).build());
        e
    }

    #[test]
    fn posts_the_batch_with_its_headers_and_retries_a_passing_refusal() {
        let (url, rx) = receiver(vec![(503, "0"), (200, "")]);
        let e = exporter(url);
        export(&e, spans(3)).expect("the second attempt succeeds");
        let got = rx.join().unwrap();
        assert_eq!(got.len(), 2, "one refusal, one retry");
        for (line, headers, body) in &got {
            assert_eq!(line, "POST /v1/traces HTTP/1.1");
            let h = |k: &str| headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
            assert_eq!(h("content-type"), Some("application/x-protobuf"));
            assert_eq!(h("authorization"), Some("Bearer t0ken"));
            assert_eq!(h("x-tenant"), Some("blue"));
            let req = ExportTraceServiceRequest::decode(body.as_slice()).unwrap();
            let rs = &req.resource_spans[0];
            assert_eq!(rs.resource.as_ref().unwrap().attributes[0].key, "service.name");
            let ids: Vec<u8> = rs.scope_spans[0].spans.iter().map(|s| s.span_id[7]).collect();
            assert_eq!(ids, [1, 2, 3]);
        }
        assert_eq!(got[0].2, got[1].2, "the retry sends the same body");
        e.shutdown_with_timeout(Duration::from_secs(1)).unwrap();
        assert!(matches!(export(&e, spans(1)), Err(OTelSdkError::AlreadyShutdown)));
    }

    #[test]
    fn a_refusal_that_will_not_pass_is_not_retried() {
        let (url, rx) = receiver(vec![(400, "")]);
        let e = exporter(url);
        let err = export(&e, spans(2)).unwrap_err();
        assert!(err.to_string().contains("status 400"), "{err}");
        assert_eq!(rx.join().unwrap().len(), 1);
    }

    #[test]
    fn an_unreachable_receiver_fails_the_export_and_nothing_panics() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = reqwest::Url::parse(&format!("http://{}/v1/traces", l.local_addr().unwrap())).unwrap();
        drop(l);
        let e = HttpSpans::new(url, HeaderMap::new(), Duration::from_millis(300)).unwrap();
        assert!(export(&e, spans(1)).is_err());
    }

    #[test]
    fn endpoints_as_the_specification_resolves_them() {
        let s = |t: Option<&str>, b: Option<&str>| endpoint_from(t.map(Into::into), b.map(Into::into)).map(|u| u.to_string());
        assert_eq!(s(None, None).unwrap(), "http://localhost:4318/v1/traces");
        assert_eq!(s(None, Some("http://c:4318")).unwrap(), "http://c:4318/v1/traces");
        assert_eq!(s(None, Some("http://c:4318/base/")).unwrap(), "http://c:4318/base/v1/traces");
        assert_eq!(s(Some("http://t:1/custom"), Some("http://c:4318")).unwrap(), "http://t:1/custom");
        let err = s(Some("no scheme"), None).unwrap_err().0;
        assert!(err.starts_with("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: invalid endpoint 'no scheme'"), "{err}");
    }

    #[test]
    fn an_absurd_retry_after_ends_the_export_instead_of_the_thread() {
        // u64::MAX seconds: waiting that long would pass any deadline, and
        // adding it to the clock overflows.
        let (url, rx) = receiver(vec![(429, "18446744073709551615")]);
        let e = exporter(url);
        let err = export(&e, spans(1)).unwrap_err();
        assert!(err.to_string().contains("status 429"), "{err}");
        assert_eq!(rx.join().unwrap().len(), 1, "no retry past the deadline");
    }

    #[test]
    fn an_absurd_timeout_does_not_overflow_the_clock() {
        let (url, rx) = receiver(vec![(503, "0"), (200, "")]);
        let mut e = exporter(url);
        e.transport.timeout = Duration::MAX;
        export(&e, spans(1)).expect("the retry gets through");
        assert_eq!(rx.join().unwrap().len(), 2);
    }
}
