//! `wasp:plugin/http`: the guest's requests, through the run's shared
//! [`wasp_http::Client`] with this user's [`wasp_http::Session`]; each gets a
//! CLIENT span and the trace context and baggage headers, and is counted in
//! the stats once its outcome is final (the guest may still `fail` or `pass`
//! it until the export call returns).

use super::{RunCtx, UserCtx};
use crate::bindings::wasp::plugin::http::Host;
use crate::bindings::wasp::plugin::types::{HttpError, Method, PackedResponse, Request, Response};
use crate::ledger::Ledger;
use opentelemetry::trace::{SpanKind, Status, Tracer as _};
use opentelemetry::{KeyValue, StringValue};
use opentelemetry_semantic_conventions::attribute as semconv;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasp_http::header::{HeaderMap, HeaderName, HeaderValue};
use wasp_http::{Allowance as _, ErrorKind, Outgoing, Session, Url};
use wasp_runner::stats::MAX_NAME_LEN;
use wasp_runner::text::printable;
use wasp_telemetry::leaf::LeafSpan;

const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");
const BAGGAGE: HeaderName = HeaderName::from_static("baggage");

/// A response the guest may still `fail` or `pass`; counted when the export call ends.
struct Pending {
    id: u64,
    scenario: usize,
    method: &'static str,
    name: String,
    elapsed_us: u64,
    bytes: u64,
    failure: Option<String>,
    /// `error.type` when failed: the status code, or `check` for a guest verdict.
    status: Option<u16>,
    at: Instant,
    /// The request's CLIENT span, ended when the outcome is final.
    span: LeafSpan,
    server: (StringValue, u16),
}

impl Pending {
    /// What holding it takes from the store's account.
    fn bytes(&self) -> usize {
        std::mem::size_of::<Pending>() + self.name.len() + self.failure.as_ref().map_or(0, String::len)
    }

    /// Counts the request in the stats and the duration metric, and ends its span.
    fn finish(self, run: &RunCtx) {
        let failure = self.failure.as_deref();
        run.stats.request(self.scenario, self.method, &self.name, self.elapsed_us, self.bytes, failure, self.at);
        let error_type = failure.map(|f| match (self.status, f.starts_with("HTTP ")) {
            (Some(code), true) => code.to_string(),
            (Some(_), false) => "check".to_string(),
            (None, _) => f.split(':').next().unwrap_or("error").to_string(),
        });
        if let Some(h) = &run.request_duration {
            let mut attrs = vec![
                KeyValue::new(semconv::HTTP_REQUEST_METHOD, self.method),
                KeyValue::new(semconv::SERVER_ADDRESS, self.server.0),
                KeyValue::new(semconv::SERVER_PORT, self.server.1 as i64),
                KeyValue::new("wasp.request.name", self.name),
                KeyValue::new("wasp.scenario", run.scenario_value(self.scenario)),
            ];
            if let Some(code) = self.status {
                attrs.push(KeyValue::new(semconv::HTTP_RESPONSE_STATUS_CODE, code as i64));
            }
            if let Some(t) = &error_type {
                attrs.push(KeyValue::new(semconv::ERROR_TYPE, t.clone()));
            }
            h.record(self.elapsed_us as f64 / 1e6, &attrs);
        }
        let mut span = self.span;
        if span.is_recording() {
            if let (Some(t), Some(msg)) = (error_type, failure) {
                span.set_attributes([KeyValue::new(semconv::ERROR_TYPE, t)]);
                span.set_status(Status::error(msg.to_string()));
            }
            let end = std::time::SystemTime::now() - self.at.elapsed();
            span.end_at(end);
        }
    }
}

/// The URLs a user resolved last (guest text → URL joined to `--host`):
/// users ask for the same few again and again, and parsing (IDNA included)
/// is a good part of a request's host time.
#[derive(Default)]
struct RecentUrls {
    slots: Vec<(String, Resolved)>,
    next: usize,
}

/// A guest's URL joined to `--host`, with what its span shows of it, made
/// once: `url.full` and `server.address` are shared, not copied per request.
#[derive(Clone)]
struct Resolved {
    url: Url,
    full: StringValue,
    server: (StringValue, u16),
}

impl Resolved {
    fn new(url: Url) -> Resolved {
        let full = Arc::<str>::from(full_url(&url)).into();
        let server = (Arc::<str>::from(url.host_str().unwrap_or("")).into(), url.port_or_known_default().unwrap_or(0));
        Resolved { url, full, server }
    }
}

const RECENT_URLS: usize = 8;
/// Longer guest URLs are resolved each time, not kept.
const RECENT_URL_LEN: usize = 512;

impl RecentUrls {
    fn get(&self, text: &str) -> Option<Resolved> {
        self.slots.iter().find(|(t, _)| t == text).map(|(_, u)| u.clone())
    }

    fn put(&mut self, text: &str, url: Url) -> Resolved {
        let url = Resolved::new(url);
        if text.len() <= RECENT_URL_LEN {
            let slot = (text.to_string(), url.clone());
            if self.slots.len() < RECENT_URLS {
                self.slots.push(slot);
            } else {
                self.slots[self.next] = slot;
                self.next = (self.next + 1) % RECENT_URLS;
            }
        }
        url
    }
}

/// One user's HTTP state.
#[derive(Default)]
pub struct UserHttp {
    session: Session,
    urls: RecentUrls,
    /// The request waiting for its answer now: (method, name).
    pub in_flight: Option<(&'static str, String)>,
    pending: Vec<Pending>,
    next_id: u64,
    /// The store's account the pending responses are held in, and their bytes.
    account: Option<Arc<Ledger>>,
    held: usize,
}

/// The attributes a request's span gets: 8 at its start, status code and
/// protocol version with the answer, `error.type` on failure.
const SPAN_ATTRIBUTES: usize = 11;

/// Headers the host may add to a guest's: `traceparent`, `tracestate`,
/// `baggage`, `user-agent`, `accept`, `host`, `cookie`, `authorization`.
const HOST_HEADERS: usize = 8;

/// Responses waiting for the guest's verdict, at most; older ones are counted as they are.
const MAX_PENDING: usize = 64;

/// The account's refusal is logged once per process.
static WARNED_ACCOUNT: AtomicBool = AtomicBool::new(false);

impl UserHttp {
    /// Another handle on the user's connections and cookies.
    pub fn session(&self) -> Session {
        self.session.clone()
    }

    /// Holds the responses awaiting a verdict in `account` (the store's).
    pub(crate) fn set_account(&mut self, account: Arc<Ledger>) {
        if let Some(old) = self.account.replace(account.clone()) {
            old.release(self.held);
            if account.charge(self.held).is_err() {
                self.held = 0;
            }
        }
    }

    /// Counts every response still pending.
    pub fn flush(&mut self, run: &RunCtx) {
        for p in self.pending.drain(..) {
            p.finish(run);
        }
        if let Some(a) = &self.account {
            a.release(std::mem::take(&mut self.held));
        }
    }

    /// Keeps a response for the guest's verdict, within [`MAX_PENDING`] and
    /// the store's account: past either, the older ones are counted as they
    /// are to make room, and one the account cannot take even then is counted
    /// at once (a verdict on it comes too late and is ignored).
    fn hold(&mut self, p: Pending, run: &RunCtx) {
        if self.pending.len() >= MAX_PENDING {
            self.flush(run);
        }
        let bytes = p.bytes();
        // (The account is cloned only when it refuses: flushing needs `self`.)
        if let Some(account) = self.account.as_ref().filter(|a| a.charge(bytes).is_err()).cloned() {
            if !WARNED_ACCOUNT.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    "a user's responses awaiting a verdict would pass the memory its plugin instance may use ({}): they are counted as they are, and later fail/pass calls on them are ignored",
                    account.setting()
                );
            }
            self.flush(run);
            if account.charge(bytes).is_err() {
                p.finish(run);
                return;
            }
        }
        self.held += bytes;
        self.pending.push(p);
    }

    fn verdict(&mut self, id: u64, failure: Option<String>) {
        match self.pending.iter_mut().find(|p| p.id == id) {
            Some(p) => p.failure = failure,
            None => {
                tracing::debug!("response {id} was already counted; its verdict comes too late")
            }
        }
    }
}

/// A request's name, cut a character past what the stats keep of it
/// ([`MAX_NAME_LEN`] bytes; they cut it there and mark the cut, as before): the
/// span's name and the pending response hold no more of a long guest text.
fn bounded_name(mut name: String) -> String {
    // The last character kept starts at or past MAX_NAME_LEN, so the stats still see text past their cut.
    let mut end = MAX_NAME_LEN + 4;
    while end < name.len() && !name.is_char_boundary(end) {
        end += 1;
    }
    name.truncate(end);
    name
}

/// Headers the host sets itself: framing, routing and connection handling
/// (a guest-set `Host` would reach another virtual host behind an allowed
/// origin), and the trace context and baggage (set through `baggage` only).
const HOST_OWNED: [&str; 12] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
    "traceparent",
    "tracestate",
    "baggage",
];

/// The guest's headers as a header map, refusing host-owned and malformed
/// ones with a one-line, printable reason.
fn guest_headers(headers: &[(String, String)]) -> Result<HeaderMap, String> {
    // With room for what the host adds (trace context, baggage, user agent,
    // accept, host, cookies, credentials): a map that grows rehashes.
    let mut map = HeaderMap::with_capacity(headers.len() + HOST_HEADERS);
    for (k, v) in headers {
        let shown = || printable(k, 64);
        let name = HeaderName::from_bytes(k.as_bytes()).map_err(|_| format!("'{}' is not a header name", shown()))?;
        if HOST_OWNED.contains(&name.as_str()) {
            return Err(format!("header '{}' is the host's to set (wasp sets Host, framing, connection and trace-context headers itself)", shown()));
        }
        let value = HeaderValue::from_str(v).map_err(|_| format!("header '{}' has a value with control characters: '{}'", shown(), printable(v, 64)))?;
        map.append(name, value);
    }
    Ok(map)
}

/// `url.full` for the span: credentials in the URL are replaced by
/// `REDACTED`, as the semantic conventions ask.
fn full_url(url: &Url) -> String {
    if url.username().is_empty() && url.password().is_none() {
        return url.to_string();
    }
    let mut shown = url.clone();
    let _ = shown.set_username("REDACTED");
    if shown.password().is_some() {
        let _ = shown.set_password(Some("REDACTED"));
    }
    shown.to_string()
}

fn method(m: Method) -> (wasp_http::Method, &'static str) {
    match m {
        Method::Get => (wasp_http::Method::GET, "GET"),
        Method::Head => (wasp_http::Method::HEAD, "HEAD"),
        Method::Post => (wasp_http::Method::POST, "POST"),
        Method::Put => (wasp_http::Method::PUT, "PUT"),
        Method::Patch => (wasp_http::Method::PATCH, "PATCH"),
        Method::Delete => (wasp_http::Method::DELETE, "DELETE"),
        Method::Options => (wasp_http::Method::OPTIONS, "OPTIONS"),
    }
}

fn kind(e: &HttpError) -> &'static str {
    match e {
        HttpError::Timeout(_) => "timeout",
        HttpError::Connect(_) => "connect",
        HttpError::Protocol(_) => "protocol",
        HttpError::Denied(_) => "denied",
        HttpError::Invalid(_) => "invalid",
    }
}

fn message(e: &HttpError) -> &str {
    match e {
        HttpError::Timeout(m) | HttpError::Connect(m) | HttpError::Protocol(m) | HttpError::Denied(m) | HttpError::Invalid(m) => m,
    }
}

/// The guest's view of a request that got no answer.
fn guest_error(e: wasp_http::Error) -> HttpError {
    match e.kind {
        ErrorKind::Timeout => HttpError::Timeout(e.message),
        ErrorKind::Connect => HttpError::Connect(e.message),
        ErrorKind::Protocol => HttpError::Protocol(e.message),
        ErrorKind::Denied => HttpError::Denied(e.message),
        ErrorKind::Invalid => HttpError::Invalid(e.message),
    }
}

/// A request on its way: what [`UserCtx::answered`] needs once it is answered.
pub(crate) struct Flight {
    scenario: usize,
    method: &'static str,
    /// The request's CLIENT span.
    span: LeafSpan,
    server: (StringValue, u16),
    t0: Instant,
}

impl UserCtx {
    /// Checks and builds a guest's request: URL, allow-list, headers, its
    /// CLIENT span and the trace-context and baggage headers. A refused
    /// request is counted as an error of the user and never goes out.
    pub(crate) fn outgoing(&mut self, req: Request) -> Result<(Outgoing, Flight), HttpError> {
        let run = self.run.clone();
        let client = &run.http;
        let scenario = self.scenario;
        let (m, method_name) = method(req.method);
        let refuse = |err: HttpError| {
            run.stats.user_error(scenario, "http", &format!("{}: {}", kind(&err), message(&err)));
            Err(err)
        };
        let Resolved { url, full, server } = match self.http.urls.get(&req.url) {
            Some(u) => u,
            None => match client.resolve(&req.url) {
                Ok(u) => self.http.urls.put(&req.url, u),
                Err(msg) => return refuse(HttpError::Invalid(printable(&msg, 256))),
            },
        };
        let name = bounded_name(req.name.unwrap_or_else(|| url.path().to_string()));
        if !client.allows(&url) {
            let msg = format!("{} is not an allowed origin (see --allow-host)", url.origin().ascii_serialization());
            return refuse(HttpError::Denied(msg));
        }
        let mut headers = match guest_headers(&req.headers) {
            Ok(h) => h,
            Err(msg) => return refuse(HttpError::Invalid(msg)),
        };
        // The CLIENT span, child of the innermost open span, and the headers that carry it.
        let parent = self.telemetry.current();
        let span = match run.telemetry.tracer.as_ref() {
            Some(t) => match run.telemetry.ids.as_ref().and_then(|ids| wasp_telemetry::ids::unsampled(ids, &parent)) {
                // Under a span the sampler dropped: the request's span is dropped too, and no span is built.
                Some(sc) => LeafSpan::Unrecorded(sc),
                None => {
                    // The parent is recorded (or there is none), and none of the
                    // samplers the environment can choose decides differently for
                    // its child or reads attributes: the attributes go in with the
                    // builder, in one list with room for the answer's, rather than
                    // one call each after the start.
                    let ua: StringValue = match headers.get(wasp_http::header::USER_AGENT) {
                        Some(v) => String::from_utf8_lossy(v.as_bytes()).into_owned().into(),
                        None => client.user_agent().clone().into(),
                    };
                    let mut attrs = Vec::with_capacity(SPAN_ATTRIBUTES);
                    attrs.extend([
                        KeyValue::new(semconv::HTTP_REQUEST_METHOD, method_name),
                        KeyValue::new(semconv::URL_FULL, full),
                        KeyValue::new(semconv::SERVER_ADDRESS, server.0.clone()),
                        KeyValue::new(semconv::SERVER_PORT, server.1 as i64),
                        KeyValue::new(semconv::USER_AGENT_ORIGINAL, ua),
                        KeyValue::new("wasp.user.id", self.id as i64),
                        KeyValue::new("wasp.scenario", run.scenario_value(scenario)),
                        KeyValue::new("wasp.request.name", name.clone()),
                    ]);
                    LeafSpan::Sdk(Box::new(
                        t.span_builder([method_name, " ", &name].concat()).with_kind(SpanKind::Client).with_attributes(attrs).start_with_context(t, &parent),
                    ))
                }
            },
            None => match &run.telemetry.ids {
                Some(ids) => LeafSpan::Unrecorded(wasp_telemetry::ids::unrecorded(ids, &parent)),
                // No tracing at all, and no ids: no trace context to carry.
                None => LeafSpan::none(),
            },
        };
        // The trace context and baggage headers (see wasp_telemetry::propagation).
        let props = run.telemetry.propagators;
        if props.trace_context {
            let sc = span.span_context();
            if let Some(Ok(tp)) = wasp_telemetry::propagation::traceparent(sc).map(|tp| HeaderValue::from_bytes(&tp)) {
                headers.insert(TRACEPARENT, tp);
                let state = sc.trace_state().header();
                if let (false, Ok(v)) = (state.is_empty(), HeaderValue::from_str(&state)) {
                    headers.insert(TRACESTATE, v);
                }
            }
        }
        if props.baggage {
            if let Some(b) = self.baggage.header() {
                headers.insert(BAGGAGE, b.clone());
            }
        }

        let outgoing = Outgoing { method: m, url, headers, body: req.body, timeout: req.timeout_ms.map(|ms| Duration::from_millis(ms as u64)) };
        self.http.in_flight = Some((method_name, name));
        Ok((outgoing, Flight { scenario, method: method_name, span, server, t0: Instant::now() }))
    }

    /// The answer (or the failure) of the request in flight: a response the
    /// guest may still judge, or an error counted at once.
    pub(crate) fn answered(&mut self, flight: Flight, result: Result<wasp_http::Answer, wasp_http::Error>) -> Result<Answered, HttpError> {
        let Flight { scenario, method: method_name, mut span, server, t0 } = flight;
        let run = self.run.clone();
        let name = self.http.in_flight.take().map(|(_, n)| n).unwrap_or_default();
        let elapsed = t0.elapsed();
        let elapsed_us = elapsed.as_micros() as u64;
        let now = Instant::now();
        match result {
            Ok(a) => {
                self.http.next_id += 1;
                let id = self.http.next_id;
                let failure = (a.status >= 400).then(|| a.status_text());
                span.set_attributes([
                    KeyValue::new(semconv::HTTP_RESPONSE_STATUS_CODE, a.status as i64),
                    KeyValue::new(semconv::NETWORK_PROTOCOL_VERSION, a.version),
                ]);
                let pending =
                    Pending { id, scenario, method: method_name, name, elapsed_us, bytes: a.bytes, failure, status: Some(a.status), at: now, span, server };
                self.http.hold(pending, &run);
                Ok(Answered { id, status: a.status, headers: a.headers, body: a.body, truncated: a.truncated, url: a.url, elapsed_us })
            }
            Err(err) => {
                let p = Pending {
                    id: 0,
                    scenario,
                    method: method_name,
                    name,
                    elapsed_us,
                    bytes: 0,
                    failure: Some(err.to_string()),
                    status: None,
                    at: now,
                    span,
                    server,
                };
                p.finish(&run);
                Err(guest_error(err))
            }
        }
    }
}

/// An answered request, before it is copied into the guest's form of it.
pub(crate) struct Answered {
    id: u64,
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
    truncated: bool,
    url: String,
    elapsed_us: u64,
}

impl Answered {
    /// For `http.send`: each header a pair of strings.
    pub(crate) fn response(self) -> Response {
        let headers = self.headers.iter().map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned())).collect();
        Response { id: self.id, status: self.status, headers, body: self.body, truncated: self.truncated, url: self.url, elapsed_us: self.elapsed_us }
    }

    /// For `http.send-packed`: the headers as one string, `name: value\n` each.
    pub(crate) fn packed(self) -> PackedResponse {
        let headers = packed_headers(&self.headers);
        PackedResponse { id: self.id, status: self.status, headers, body: self.body, truncated: self.truncated, url: self.url, elapsed_us: self.elapsed_us }
    }
}

/// Headers as lines of `name: value\n`, in the header map's order (a name's
/// values together, in the order received). Neither part can hold a newline:
/// the HTTP parser refuses one in a name or a value.
fn packed_headers(h: &HeaderMap) -> String {
    let mut s = String::with_capacity(h.iter().map(|(k, v)| k.as_str().len() + v.len() + 3).sum());
    for (k, v) in h {
        s.push_str(k.as_str());
        s.push_str(": ");
        match std::str::from_utf8(v.as_bytes()) {
            Ok(v) => s.push_str(v),
            Err(_) => s.push_str(&String::from_utf8_lossy(v.as_bytes())),
        }
        s.push('\n');
    }
    s
}

impl UserCtx {
    /// `http.send` and `http.send-packed`: the request, sent and answered.
    async fn exchange(&mut self, req: Request) -> Result<Answered, HttpError> {
        let (outgoing, flight) = self.outgoing(req)?;
        let result = {
            let _host = self.meter.host_wait();
            // Host calls are polled on the user's fiber stack, and every page
            // a call touches there stays resident while the store lives: the
            // client's future (several KiB) goes on the heap, for the
            // request's time only (12 KiB of stack per user instead of 16).
            Box::pin(self.run.http.send(&self.http.session, outgoing)).await
        };
        self.answered(flight, result)
    }
}

impl Host for UserCtx {
    async fn send(&mut self, req: Request) -> Result<Response, HttpError> {
        self.exchange(req).await.map(Answered::response)
    }

    async fn send_packed(&mut self, req: Request) -> Result<PackedResponse, HttpError> {
        self.exchange(req).await.map(Answered::packed)
    }

    async fn fail(&mut self, id: u64, message: String) {
        self.http.verdict(id, Some(message));
    }

    async fn pass(&mut self, id: u64) {
        self.http.verdict(id, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_headers_are_lines_with_a_names_values_together_and_bad_bytes_replaced() {
        let mut h = HeaderMap::new();
        h.append("x-a", HeaderValue::from_static("1"));
        h.append("set-cookie", HeaderValue::from_static("k=v; Path=/"));
        h.append("x-a", HeaderValue::from_static("two: 2"));
        h.append("x-bytes", HeaderValue::from_bytes(b"caf\xe9").unwrap());
        h.append("x-empty", HeaderValue::from_static(""));
        assert_eq!(packed_headers(&h), "x-a: 1\nx-a: two: 2\nset-cookie: k=v; Path=/\nx-bytes: caf\u{fffd}\nx-empty: \n");
        assert_eq!(packed_headers(&HeaderMap::new()), "");
    }

    #[test]
    fn spans_show_urls_without_their_credentials() {
        let u = |s: &str| full_url(&Url::parse(s).unwrap());
        assert_eq!(u("http://shop.test:8080/a?b=1"), "http://shop.test:8080/a?b=1");
        assert_eq!(u("http://alice:secret@shop.test/a"), "http://REDACTED:REDACTED@shop.test/a");
        assert_eq!(u("https://token@shop.test/"), "https://REDACTED@shop.test/");
    }

    #[test]
    fn host_owned_and_malformed_headers_are_refused_printably() {
        let h = |k: &str, v: &str| guest_headers(&[(k.to_string(), v.to_string())]);
        assert!(h("X-Ok", "fine").is_ok());
        for owned in ["Host", "content-length", "Transfer-Encoding", "CONNECTION", "Upgrade", "traceparent", "TraceState", "baggage"] {
            assert!(h(owned, "x").unwrap_err().contains("the host's to set"), "{owned}");
        }
        let e = h("x-evil", "a\u{1}b\nwasp: error: forged").unwrap_err();
        assert!(e.contains("control characters") && !e.contains('\n') && !e.contains('\u{1}'), "{e}");
        assert!(!h("bad name\n", "v").unwrap_err().contains('\n'));
    }

    fn pending(id: u64, name: &str, failure: Option<String>) -> Pending {
        Pending {
            id,
            scenario: 0,
            method: "GET",
            name: name.into(),
            elapsed_us: 10,
            bytes: 1,
            failure,
            status: Some(200),
            at: Instant::now(),
            span: LeafSpan::none(),
            server: ("h".into(), 80),
        }
    }

    #[test]
    fn verdicts_change_pending_outcomes_before_they_are_counted() {
        let run = RunCtx::detached();
        let stats = run.stats.clone();
        let mut u = UserHttp::default();
        for (id, failure) in [(1, None), (2, Some("HTTP 404 Not Found".to_string()))] {
            u.pending.push(pending(id, "/x", failure));
        }
        u.verdict(1, Some("wrong body".into()));
        u.verdict(2, None);
        u.flush(&run);
        let snap = stats.snapshot();
        assert_eq!(snap.total.count, 2);
        assert_eq!(snap.total.failures, 1);
        assert_eq!(snap.failures[0].error, "wrong body");
        u.verdict(1, None); // too late: no effect, no panic
        assert_eq!(stats.snapshot().total.failures, 1);
    }

    #[test]
    fn responses_awaiting_a_verdict_are_held_in_the_stores_account() {
        let run = RunCtx::detached();
        let stats = run.stats.clone();
        let one = pending(0, &"n".repeat(200), None).bytes();
        // Room for three responses of this size, not four.
        let ledger = Arc::new(Ledger::new(3 * one + one / 2, "--max-user-memory"));
        let mut u = UserHttp::default();
        u.set_account(ledger.clone());
        for id in 1..=3 {
            u.hold(pending(id, &"n".repeat(200), None), &run);
        }
        assert_eq!(ledger.usage().1, 3 * one, "three held");
        assert_eq!(stats.snapshot().total.count, 0, "none counted yet");
        // The fourth does not fit: the three are counted as they are, and it waits alone.
        u.hold(pending(4, &"n".repeat(200), None), &run);
        assert_eq!(stats.snapshot().total.count, 3);
        assert_eq!(ledger.usage().1, one);
        u.verdict(1, Some("too late".into()));
        u.verdict(4, Some("in time".into()));
        // One larger than the whole account is counted at once.
        u.hold(pending(5, &"n".repeat(4 * one), None), &run);
        assert_eq!(stats.snapshot().total.count, 5);
        assert_eq!(ledger.usage().1, 0, "the early flush gave everything back");
        u.flush(&run);
        let snap = stats.snapshot();
        assert_eq!(snap.total.count, 5);
        assert_eq!(snap.total.failures, 1);
        assert_eq!(snap.failures[0].error, "in time");
        assert_eq!(ledger.usage().1, 0);
    }

    #[test]
    fn long_request_names_are_cut_past_what_the_stats_keep() {
        assert_eq!(bounded_name("/a".into()), "/a");
        let long = "é".repeat(1000);
        let cut = bounded_name(long.clone());
        assert!(cut.len() <= MAX_NAME_LEN + 7, "{}", cut.len());
        for s in ["x".repeat(300), "😀".repeat(100), "\n".repeat(300)] {
            assert_eq!(printable(&bounded_name(s.clone()), MAX_NAME_LEN), printable(&s, MAX_NAME_LEN));
        }
        assert!(long.starts_with(&cut));
        // The stats show the same text either way (cut and marked).
        assert_eq!(printable(&cut, MAX_NAME_LEN), printable(&long, MAX_NAME_LEN));
    }
}
