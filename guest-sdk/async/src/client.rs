//! A user's [`Client`]: everything the host does for one simulated user.
//!
//! `client.get("/").send().await?` sends a request through the host (the
//! user's own connections and cookie jar, redirects followed, counted and
//! timed; a status >= 400 counts as a failure unless you say otherwise).
//! Baggage, spans, logs and flags act for this user only.

use crate::bindings::wasp::plugin::session::{self as wit_session, Session};
use crate::bindings::wasp::plugin::types::{Method, Request};
use crate::bindings::wasp::plugin::{baggage, flags, http, log, telemetry};
use crate::Error;
use std::time::Duration;

pub use log::Level;
pub use telemetry::Value;

/// One simulated user's host side: its session.
pub struct Client {
    session: Session,
}

impl Client {
    pub(crate) fn new(session: Session) -> Client {
        Client { session }
    }

    /// This user's id, from 1, unique in the run.
    pub fn user_id(&self) -> u64 {
        self.session.user_id()
    }

    /// The run's `--host` base URL (may be empty).
    pub fn host(&self) -> String {
        wit_session::host()
    }

    /// Time since the run started.
    pub fn elapsed(&self) -> Duration {
        Duration::from_millis(wit_session::elapsed_ms())
    }

    fn request(&self, method: Method, url: &str) -> RequestBuilder<'_> {
        RequestBuilder {
            client: self,
            req: Request { method, url: url.to_string(), headers: Vec::new(), body: None, name: None, timeout_ms: None },
            checks: Vec::new(),
            expect: None,
            error: None,
        }
    }

    pub fn get(&self, url: &str) -> RequestBuilder<'_> {
        self.request(Method::Get, url)
    }
    pub fn head(&self, url: &str) -> RequestBuilder<'_> {
        self.request(Method::Head, url)
    }
    pub fn post(&self, url: &str) -> RequestBuilder<'_> {
        self.request(Method::Post, url)
    }
    pub fn put(&self, url: &str) -> RequestBuilder<'_> {
        self.request(Method::Put, url)
    }
    pub fn patch(&self, url: &str) -> RequestBuilder<'_> {
        self.request(Method::Patch, url)
    }
    pub fn delete(&self, url: &str) -> RequestBuilder<'_> {
        self.request(Method::Delete, url)
    }
    pub fn options(&self, url: &str) -> RequestBuilder<'_> {
        self.request(Method::Options, url)
    }

    /// Sets a baggage entry: every later request of this user carries it.
    pub fn set_baggage(&self, key: &str, value: &str) {
        baggage::set(&self.session, key, value)
    }
    pub fn baggage(&self, key: &str) -> Option<String> {
        baggage::get(&self.session, key)
    }
    pub fn remove_baggage(&self, key: &str) {
        baggage::remove(&self.session, key)
    }
    pub fn baggage_entries(&self) -> Vec<(String, String)> {
        baggage::entries(&self.session)
    }

    /// A line in the host's log, tagged with the user and the task.
    pub fn log(&self, level: Level, message: &str) {
        log::log(&self.session, level, message, &[])
    }
    pub fn info(&self, message: &str) {
        self.log(Level::Info, message)
    }
    pub fn warn(&self, message: &str) {
        self.log(Level::Warn, message)
    }

    /// Sets an attribute on the user's innermost open span.
    pub fn set_attribute(&self, key: &str, value: impl Into<Value>) {
        telemetry::set_attribute(&self.session, key, &value.into())
    }
    /// Renames the current task's span.
    pub fn set_span_name(&self, name: &str) {
        telemetry::set_span_name(&self.session, name)
    }
    /// Opens a child span of the innermost open span; [`Client::end_span`] ends it.
    pub fn start_span(&self, name: &str) {
        telemetry::start_span(&self.session, name)
    }
    pub fn end_span(&self) {
        telemetry::end_span(&self.session)
    }
    pub fn add_event(&self, name: &str, attributes: &[(&str, Value)]) {
        let attrs: Vec<(String, Value)> = attributes.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        telemetry::add_event(&self.session, name, &attrs)
    }
    pub fn record_exception(&self, message: &str) {
        telemetry::record_exception(&self.session, message)
    }
    /// Drops the current call's span (it is not exported).
    pub fn discard_span(&self) {
        telemetry::discard_span(&self.session)
    }

    /// Feature flags: `default` when the flag cannot be evaluated.
    pub async fn flag_bool(&self, key: &str, default: bool) -> bool {
        flags::get_bool(&self.session, key.to_string(), default).await
    }
    pub async fn flag_int(&self, key: &str, default: i64) -> i64 {
        flags::get_int(&self.session, key.to_string(), default).await
    }
    pub async fn flag_float(&self, key: &str, default: f64) -> f64 {
        flags::get_float(&self.session, key.to_string(), default).await
    }
    pub async fn flag_string(&self, key: &str, default: &str) -> String {
        flags::get_string(&self.session, key.to_string(), default.to_string()).await
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Boolean(v)
    }
}
macro_rules! int_values {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::Int(v as i64)
            }
        }
    )*};
}
int_values!(i32, i64, u32, u64, usize);

type Check = (String, Box<dyn Fn(&Response) -> bool>);

/// A request being built.
#[must_use = "a request does nothing until `.send().await`"]
pub struct RequestBuilder<'a> {
    client: &'a Client,
    req: Request,
    checks: Vec<Check>,
    expect: Option<Vec<u16>>,
    /// A body that could not be built: `send` returns it, sending nothing.
    error: Option<Error>,
}

impl RequestBuilder<'_> {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.req.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// A JSON body (and its content type). A value that cannot be written as
    /// JSON makes `send` fail with the reason, without sending anything.
    pub fn json<T: serde::Serialize + ?Sized>(mut self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => self.header("content-type", "application/json").body(body),
            Err(e) => {
                self.error = Some(Error::Message(format!("the request's JSON body could not be written: {e}")));
                self
            }
        }
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.req.body = Some(body.into());
        self
    }

    /// The name the request is counted under (default: the path without query).
    pub fn name(mut self, name: &str) -> Self {
        self.req.name = Some(name.to_string());
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.req.timeout_ms = Some(timeout.as_millis().min(u32::MAX as u128) as u32);
        self
    }

    /// Counts the response as failed, with `what` as the message, unless `ok(response)` holds.
    pub fn check(mut self, what: &str, ok: impl Fn(&Response) -> bool + 'static) -> Self {
        self.checks.push((what.to_string(), Box::new(ok)));
        self
    }

    /// Counts only these statuses as success (instead of "below 400").
    pub fn expect_status(mut self, statuses: &[u16]) -> Self {
        self.expect = Some(statuses.to_vec());
        self
    }

    /// Sends the request; the instance runs its other users meanwhile. `Err`
    /// only when no answer came; a bad status is `Ok` and counted as a failure.
    pub async fn send(self) -> Result<Response, Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let session = &self.client.session;
        let r = http::send(session, self.req).await?;
        let resp = Response {
            id: r.id,
            status: r.status,
            headers: r.headers,
            body: r.body,
            truncated: r.truncated,
            url: r.url,
            elapsed: Duration::from_micros(r.elapsed_us),
        };
        let verdict = match &self.expect {
            Some(expect) if expect.contains(&resp.status) => Some(None),
            Some(expect) => Some(Some(format!("status {} not in {:?}", resp.status, expect))),
            None => None,
        };
        let check = self.checks.iter().find(|(_, ok)| !ok(&resp)).map(|(what, _)| format!("check failed: {what}"));
        match (check, verdict) {
            (Some(failed), _) | (None, Some(Some(failed))) => http::fail(session, resp.id, &failed),
            (None, Some(None)) => http::pass(session, resp.id),
            (None, None) => {}
        }
        Ok(resp)
    }
}

/// An answer from the target.
#[derive(Debug, Clone)]
pub struct Response {
    pub id: u64,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body was longer than the host's cap and was cut.
    pub truncated: bool,
    /// The URL that answered, after redirects.
    pub url: String,
    pub elapsed: Duration,
}

impl Response {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, Error> {
        Ok(serde_json::from_slice(&self.body)?)
    }

    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn ok(&self) -> bool {
        self.status < 400
    }

    /// `Err` unless the status is below 400, for `?` in tasks.
    pub fn error_for_status(self) -> Result<Self, Error> {
        if self.ok() {
            Ok(self)
        } else {
            Err(Error::Message(format!("HTTP {} from {}", self.status, self.url)))
        }
    }
}
