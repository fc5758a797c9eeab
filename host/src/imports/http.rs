//! `wasp:plugin/http`: requests through one shared reqwest client (keep-alive,
//! rustls), a cookie jar per user, redirects followed within the allow-list,
//! bodies capped, every request timed and counted in the stats.
//!
//! Per-user cookies with one shared client: reqwest asks its cookie provider
//! for cookies on every hop of a request, redirects included. Our provider
//! forwards those calls to the jar of the user whose request is being polled,
//! which the request future carries in a task-local.

use super::{RunCtx, UserCtx};
use crate::bindings::wasp::plugin::http::Host;
use crate::bindings::wasp::plugin::types::{HttpError, Method, Request, Response};
use crate::error::one_line;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_semantic_conventions::attribute as semconv;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;

tokio::task_local! {
    static USER_JAR: Arc<Jar>;
}

/// The client's cookie provider: the jar of the user whose request this is.
struct PerUserCookies;

impl CookieStore for PerUserCookies {
    fn set_cookies(&self, headers: &mut dyn Iterator<Item = &HeaderValue>, url: &Url) {
        let _ = USER_JAR.try_with(|jar| jar.set_cookies(headers, url));
    }

    fn cookies(&self, url: &Url) -> Option<HeaderValue> {
        USER_JAR.try_with(|jar| jar.cookies(url)).ok().flatten()
    }
}

/// Origins guests may reach.
#[derive(Debug, Clone, Default)]
pub struct AllowList {
    origins: Vec<url::Origin>,
    /// Entries given as a bare host name: any scheme and port.
    hosts: Vec<String>,
}

impl AllowList {
    /// Adds `http://h:p`, `https://h`, `h:p` (http) or a bare host `h`.
    pub fn add(&mut self, entry: &str) -> Result<(), String> {
        let entry = entry.trim();
        if entry.is_empty() {
            return Err("empty host".into());
        }
        if entry.contains("://") {
            let u = Url::parse(entry).map_err(|e| format!("bad origin '{entry}': {e}"))?;
            if u.host_str().is_none() {
                return Err(format!("bad origin '{entry}': no host"));
            }
            self.origins.push(u.origin());
        } else {
            let u = Url::parse(&format!("http://{entry}")).map_err(|e| format!("bad host '{entry}': {e}"))?;
            match (u.port(), u.host_str()) {
                (Some(_), _) => self.origins.push(u.origin()),
                (None, Some(h)) => self.hosts.push(h.trim_matches(|c| c == '[' || c == ']').to_ascii_lowercase()),
                (None, None) => return Err(format!("bad host '{entry}'")),
            }
        }
        Ok(())
    }

    pub fn allows(&self, url: &Url) -> bool {
        let origin = url.origin();
        self.origins.contains(&origin)
            || url.host_str().is_some_and(|h| {
                let h = h.trim_matches(|c| c == '[' || c == ']');
                self.hosts.iter().any(|x| x.eq_ignore_ascii_case(h))
            })
    }
}

/// Raised by the redirect policy when a redirect leaves the allow-list.
#[derive(Debug)]
struct Denied(String);

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is not an allowed origin", self.0)
    }
}
impl std::error::Error for Denied {}

pub struct HttpOptions {
    pub base: Option<Url>,
    pub allow: AllowList,
    pub timeout: Duration,
    pub max_body: usize,
    pub max_redirects: usize,
    pub user_agent: String,
}

/// What all users' HTTP shares: the client and the rules.
pub struct HttpShared {
    client: reqwest::Client,
    base: Option<Url>,
    allow: Arc<AllowList>,
    timeout: Duration,
    max_body: usize,
    user_agent: String,
}

impl HttpShared {
    pub fn new(opts: HttpOptions) -> anyhow::Result<Self> {
        let allow = Arc::new(opts.allow);
        let policy_allow = allow.clone();
        let max_redirects = opts.max_redirects;
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > max_redirects {
                attempt.error(format!("more than {max_redirects} redirects"))
            } else if !policy_allow.allows(attempt.url()) {
                let origin = attempt.url().origin().ascii_serialization();
                attempt.error(Denied(origin))
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .cookie_provider(Arc::new(PerUserCookies))
            .redirect(policy)
            .user_agent(opts.user_agent.clone())
            .pool_max_idle_per_host(usize::MAX)
            .tcp_nodelay(true)
            .build()?;
        Ok(HttpShared {
            client,
            base: opts.base,
            allow,
            timeout: opts.timeout,
            max_body: opts.max_body,
            user_agent: opts.user_agent,
        })
    }

    /// Resolves a guest URL: absolute as is, anything else joined to `--host`.
    pub fn resolve(&self, url: &str) -> Result<Url, String> {
        match Url::parse(url) {
            Ok(u) => Ok(u),
            Err(url::ParseError::RelativeUrlWithoutBase) => match &self.base {
                Some(base) => base.join(url).map_err(|e| format!("bad URL '{url}': {e}")),
                None => Err(format!("relative URL '{url}' needs --host")),
            },
            Err(e) => Err(format!("bad URL '{url}': {e}")),
        }
    }
}

/// A response the guest may still `fail` or `pass`; counted when the export call ends.
struct Pending {
    id: u64,
    method: &'static str,
    name: String,
    elapsed_us: u64,
    bytes: u64,
    failure: Option<String>,
    /// `error.type` when failed: the status code, or `check` for a guest verdict.
    status: Option<u16>,
    at: Instant,
    /// The request's CLIENT span, ended when the outcome is final.
    span: Context,
    server: (String, u16),
}

impl Pending {
    /// Counts the request in the stats and the duration metric, and ends its span.
    fn finish(self, run: &RunCtx) {
        let failure = self.failure.as_deref();
        run.stats.request(self.method, &self.name, self.elapsed_us, self.bytes, failure, self.at);
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
            ];
            if let Some(code) = self.status {
                attrs.push(KeyValue::new(semconv::HTTP_RESPONSE_STATUS_CODE, code as i64));
            }
            if let Some(t) = &error_type {
                attrs.push(KeyValue::new(semconv::ERROR_TYPE, t.clone()));
            }
            h.record(self.elapsed_us as f64 / 1e6, &attrs);
        }
        let span = self.span.span();
        if span.span_context().is_valid() {
            if let (Some(t), Some(msg)) = (error_type, failure) {
                span.set_attribute(KeyValue::new(semconv::ERROR_TYPE, t));
                span.set_status(Status::error(msg.to_string()));
            }
            let end = std::time::SystemTime::now() - self.at.elapsed();
            span.end_with_timestamp(end);
        }
    }
}

/// One user's HTTP state.
#[derive(Default)]
pub struct UserHttp {
    jar: Arc<Jar>,
    pending: Vec<Pending>,
    next_id: u64,
}

/// Responses waiting for the guest's verdict, at most; older ones are counted as they are.
const MAX_PENDING: usize = 64;

impl UserHttp {
    /// Counts every response still pending.
    pub fn flush(&mut self, run: &RunCtx) {
        for p in self.pending.drain(..) {
            p.finish(run);
        }
    }

    fn verdict(&mut self, id: u64, failure: Option<String>) {
        match self.pending.iter_mut().find(|p| p.id == id) {
            Some(p) => p.failure = failure,
            None => tracing::debug!("response {id} was already counted; its verdict comes too late"),
        }
    }
}

fn method(m: Method) -> (reqwest::Method, &'static str) {
    match m {
        Method::Get => (reqwest::Method::GET, "GET"),
        Method::Head => (reqwest::Method::HEAD, "HEAD"),
        Method::Post => (reqwest::Method::POST, "POST"),
        Method::Put => (reqwest::Method::PUT, "PUT"),
        Method::Patch => (reqwest::Method::PATCH, "PATCH"),
        Method::Delete => (reqwest::Method::DELETE, "DELETE"),
        Method::Options => (reqwest::Method::OPTIONS, "OPTIONS"),
    }
}

/// The error kind and its one-line message, as counted in the stats.
fn classify(err: &reqwest::Error) -> HttpError {
    let msg = one_line(err);
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(s) = source {
        if let Some(d) = s.downcast_ref::<Denied>() {
            return HttpError::Denied(format!("redirect to {}", d));
        }
        source = s.source();
    }
    if err.is_timeout() {
        HttpError::Timeout(msg)
    } else if err.is_connect() {
        HttpError::Connect(msg)
    } else if err.is_builder() {
        HttpError::Invalid(msg)
    } else {
        HttpError::Protocol(msg)
    }
}

/// How a failed request is named in the failures table.
pub fn error_text(e: &HttpError) -> String {
    match e {
        HttpError::Timeout(m) => format!("timeout: {m}"),
        HttpError::Connect(m) => format!("connect: {m}"),
        HttpError::Protocol(m) => format!("protocol: {m}"),
        HttpError::Denied(m) => format!("denied: {m}"),
        HttpError::Invalid(m) => format!("invalid: {m}"),
    }
}

fn status_text(status: reqwest::StatusCode) -> String {
    match status.canonical_reason() {
        Some(r) => format!("HTTP {} {}", status.as_u16(), r),
        None => format!("HTTP {}", status.as_u16()),
    }
}

struct Answer {
    status: reqwest::StatusCode,
    version: &'static str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    truncated: bool,
    bytes: u64,
    url: String,
}

async fn exchange(client: reqwest::Client, req: reqwest::Request, max_body: usize) -> Result<Answer, reqwest::Error> {
    let mut resp = client.execute(req).await?;
    let status = resp.status();
    let version = match resp.version() {
        reqwest::Version::HTTP_09 => "0.9",
        reqwest::Version::HTTP_10 => "1.0",
        reqwest::Version::HTTP_2 => "2",
        reqwest::Version::HTTP_3 => "3",
        _ => "1.1",
    };
    let url = resp.url().to_string();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let mut body = Vec::with_capacity(resp.content_length().unwrap_or(0).min(max_body as u64) as usize);
    let mut bytes = 0u64;
    let mut truncated = false;
    // Read the whole body (so the connection can be reused), keeping at most max_body.
    while let Some(chunk) = resp.chunk().await? {
        bytes += chunk.len() as u64;
        let room = max_body.saturating_sub(body.len());
        if chunk.len() > room {
            truncated = true;
        }
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    Ok(Answer { status, version, headers, body, truncated, bytes, url })
}

impl Host for UserCtx {
    async fn send(&mut self, req: Request) -> Result<Response, HttpError> {
        let run = self.run.clone();
        let shared = &run.http;
        let (m, method_name) = method(req.method);
        let url = shared.resolve(&req.url).map_err(HttpError::Invalid)?;
        let name = req.name.unwrap_or_else(|| url.path().to_string());
        if !shared.allow.allows(&url) {
            let msg = format!("{} is not an allowed origin (see --allow-host)", url.origin().ascii_serialization());
            run.stats.user_error("http", &format!("denied: {msg}"));
            return Err(HttpError::Denied(msg));
        }
        let mut headers = HeaderMap::with_capacity(req.headers.len() + 3);
        for (k, v) in &req.headers {
            let k = HeaderName::from_bytes(k.as_bytes()).map_err(|e| HttpError::Invalid(format!("header '{k}': {e}")))?;
            let v = HeaderValue::from_str(v).map_err(|e| HttpError::Invalid(format!("header value '{v}': {e}")))?;
            headers.append(k, v);
        }
        let server = (url.host_str().unwrap_or("").to_string(), url.port_or_known_default().unwrap_or(0));

        // The CLIENT span, child of the innermost open span, and the headers that carry it.
        let parent = self.telemetry.current();
        let cx = match run.telemetry.tracer.as_ref() {
            Some(t) => {
                let ua = headers
                    .get(reqwest::header::USER_AGENT)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or(&shared.user_agent)
                    .to_string();
                let span = t
                    .span_builder(format!("{method_name} {name}"))
                    .with_kind(SpanKind::Client)
                    .with_attributes([
                        KeyValue::new(semconv::HTTP_REQUEST_METHOD, method_name),
                        KeyValue::new(semconv::URL_FULL, url.to_string()),
                        KeyValue::new(semconv::SERVER_ADDRESS, server.0.clone()),
                        KeyValue::new(semconv::SERVER_PORT, server.1 as i64),
                        KeyValue::new(semconv::USER_AGENT_ORIGINAL, ua),
                        KeyValue::new("wasp.user.id", self.id as i64),
                        KeyValue::new("wasp.request.name", name.clone()),
                    ])
                    .start_with_context(t, &parent);
                parent.with_span(span)
            }
            None => match &run.telemetry.ids {
                Some(ids) => super::telemetry::unrecorded_child(ids, &parent),
                None => parent,
            },
        };
        let cx = cx.with_baggage(self.baggage.entries().iter().map(|(k, v)| KeyValue::new(k.clone(), v.clone())));
        run.telemetry.propagator.inject_context(&cx, &mut opentelemetry_http::HeaderInjector(&mut headers));

        let mut request = reqwest::Request::new(m, url);
        *request.headers_mut() = headers;
        *request.timeout_mut() = Some(req.timeout_ms.map(|ms| Duration::from_millis(ms as u64)).unwrap_or(shared.timeout));
        if let Some(body) = req.body {
            *request.body_mut() = Some(body.into());
        }

        let t0 = Instant::now();
        // The exchange runs as its own task: its deep poll stack then lives on
        // a worker thread, not on this user's fiber stack, which the Store
        // keeps (and keeps resident) between calls.
        let exchange = USER_JAR.scope(self.http.jar.clone(), exchange(shared.client.clone(), request, shared.max_body));
        let result = match tokio::spawn(exchange).await {
            Ok(r) => r.map_err(|e| classify(&e)),
            Err(e) => Err(HttpError::Protocol(format!("request task failed: {e}"))),
        };
        let elapsed = t0.elapsed();
        self.host_wait += elapsed;
        let elapsed_us = elapsed.as_micros() as u64;
        let now = Instant::now();
        match result {
            Ok(a) => {
                if self.http.pending.len() >= MAX_PENDING {
                    self.http.flush(&run);
                }
                self.http.next_id += 1;
                let id = self.http.next_id;
                let failure = (a.status.as_u16() >= 400).then(|| status_text(a.status));
                let span = cx.span();
                span.set_attribute(KeyValue::new(semconv::HTTP_RESPONSE_STATUS_CODE, a.status.as_u16() as i64));
                span.set_attribute(KeyValue::new(semconv::NETWORK_PROTOCOL_VERSION, a.version));
                self.http.pending.push(Pending {
                    id,
                    method: method_name,
                    name,
                    elapsed_us,
                    bytes: a.bytes,
                    failure,
                    status: Some(a.status.as_u16()),
                    at: now,
                    span: cx.clone(),
                    server,
                });
                Ok(Response {
                    id,
                    status: a.status.as_u16(),
                    headers: a.headers,
                    body: a.body,
                    truncated: a.truncated,
                    url: a.url,
                    elapsed_us,
                })
            }
            Err(err) => {
                let p = Pending {
                    id: 0,
                    method: method_name,
                    name,
                    elapsed_us,
                    bytes: 0,
                    failure: Some(error_text(&err)),
                    status: None,
                    at: now,
                    span: cx.clone(),
                    server,
                };
                p.finish(&run);
                Err(err)
            }
        }
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
    fn allow_list_matches_origins_and_bare_hosts() {
        let mut a = AllowList::default();
        a.add("http://127.0.0.1:8080").unwrap();
        a.add("localhost:9000").unwrap();
        a.add("example.com").unwrap();
        let ok = |s: &str| a.allows(&Url::parse(s).unwrap());
        assert!(ok("http://127.0.0.1:8080/x?y"));
        assert!(!ok("http://127.0.0.1:8081/"));
        assert!(!ok("https://127.0.0.1:8080/"));
        assert!(ok("http://localhost:9000/"));
        assert!(!ok("http://localhost:9001/"));
        assert!(ok("https://example.com:444/"));
        assert!(!ok("https://sub.example.com/"));
        assert!(a.add("http://").is_err());
        assert!(a.add("").is_err());
    }

    #[test]
    fn relative_urls_join_the_host() {
        let opts = |base: Option<&str>| HttpOptions {
            base: base.map(|b| Url::parse(b).unwrap()),
            allow: AllowList::default(),
            timeout: Duration::from_secs(1),
            max_body: 10,
            max_redirects: 10,
            user_agent: "t".into(),
        };
        let h = HttpShared::new(opts(Some("http://127.0.0.1:1/base/"))).unwrap();
        assert_eq!(h.resolve("/a?b=1").unwrap().as_str(), "http://127.0.0.1:1/a?b=1");
        assert_eq!(h.resolve("http://x/y").unwrap().as_str(), "http://x/y");
        let h = HttpShared::new(opts(None)).unwrap();
        assert!(h.resolve("/a").unwrap_err().contains("--host"));
    }

    #[test]
    fn verdicts_change_pending_outcomes_before_they_are_counted() {
        let run = crate::imports::tests::run_ctx();
        let stats = run.stats.clone();
        let mut u = UserHttp::default();
        let now = Instant::now();
        for (id, failure) in [(1, None), (2, Some("HTTP 404 Not Found".to_string()))] {
            u.pending.push(Pending {
                id,
                method: "GET",
                name: "/x".into(),
                elapsed_us: 10,
                bytes: 1,
                failure,
                status: Some(200),
                at: now,
                span: Context::new(),
                server: ("h".into(), 80),
            });
        }
        u.verdict(1, Some("wrong body".into()));
        u.verdict(2, None);
        u.flush(&run);
        let snap = stats.snapshot();
        assert_eq!(snap.total.count, 2);
        assert_eq!(snap.total.failures, 1);
        assert_eq!(snap.failures[0].2, "wrong body");
        u.verdict(1, None); // too late: no effect, no panic
        assert_eq!(stats.snapshot().total.failures, 1);
    }
}
