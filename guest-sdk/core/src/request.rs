//! A request being built and the answer it gets, as both SDKs hand them to
//! plugins: only sending differs (at once, or awaited).

use crate::Error;
use std::time::Duration;

/// The HTTP methods the host sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
    Options,
}

type Check = (String, Box<dyn Fn(&Response) -> bool>);

/// What a request builder holds: the request and what judges its answer.
pub struct Spec {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    pub name: Option<String>,
    pub timeout_ms: Option<u32>,
    checks: Vec<Check>,
    expect: Option<Vec<u16>>,
    /// A body that could not be built: sending returns it, sending nothing.
    pub error: Option<Error>,
}

impl Spec {
    pub fn new(method: Method, url: &str) -> Spec {
        Spec { method, url: url.to_string(), headers: Vec::new(), body: None, name: None, timeout_ms: None, checks: Vec::new(), expect: None, error: None }
    }

    /// The verdict on an answer: `None` leaves it to the host (a status
    /// below 400 passes), `Some(Ok)` passes it whatever its status,
    /// `Some(Err)` fails it with the message.
    pub fn verdict(&self, r: &Response) -> Option<Result<(), String>> {
        if let Some((what, _)) = self.checks.iter().find(|(_, ok)| !ok(r)) {
            return Some(Err(format!("check failed: {what}")));
        }
        self.expect.as_ref().map(|expect| if expect.contains(&r.status) { Ok(()) } else { Err(format!("status {} not in {:?}", r.status, expect)) })
    }
}

/// The builder methods of a request (`.header`, `.json`, `.check` …):
/// an SDK's request builder gives its [`Spec`], and sends.
pub trait Build: Sized {
    fn spec(&mut self) -> &mut Spec;

    fn header(mut self, name: &str, value: &str) -> Self {
        self.spec().headers.push((name.to_string(), value.to_string()));
        self
    }

    /// A JSON body (and its content type). A value that cannot be written as
    /// JSON (e.g. a map with non-string keys) makes sending fail with the
    /// reason, without sending anything.
    fn json<T: serde::Serialize + ?Sized>(mut self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => self.header("content-type", "application/json").body(body),
            Err(e) => {
                self.spec().error = Some(Error::Message(format!("the request's JSON body could not be written: {e}")));
                self
            }
        }
    }

    fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.spec().body = Some(body.into());
        self
    }

    /// The name the request is counted under (default: the path without query).
    fn name(mut self, name: &str) -> Self {
        self.spec().name = Some(name.to_string());
        self
    }

    /// Overrides the run's request timeout.
    fn timeout(mut self, timeout: Duration) -> Self {
        self.spec().timeout_ms = Some(timeout.as_millis().min(u32::MAX as u128) as u32);
        self
    }

    /// Counts the response as failed, with `what` as the message, unless
    /// `ok(response)` holds (like a k6 check or Locust's `catch_response`).
    fn check(mut self, what: &str, ok: impl Fn(&Response) -> bool + 'static) -> Self {
        self.spec().checks.push((what.to_string(), Box::new(ok)));
        self
    }

    /// Counts only these statuses as success (instead of "below 400").
    fn expect_status(mut self, statuses: &[u16]) -> Self {
        self.spec().expect = Some(statuses.to_vec());
        self
    }
}

/// An answer from the target.
#[derive(Debug, Clone)]
pub struct Response {
    /// The host's handle on it, for a verdict (valid until the task returns).
    pub id: u64,
    pub status: u16,
    /// In order, names in lower case; `get`, `get_all`, `iter`, or a slice
    /// of owned pairs through `Deref`.
    pub headers: crate::Headers,
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
        self.headers.get(name)
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

/// The SDKs convert their bindings' request and (packed) response with this.
#[macro_export]
#[doc(hidden)]
macro_rules! __request_from {
    ($types:path) => {
        use $types as __wit_types;
        pub(crate) fn wit_request(s: &mut $crate::Spec) -> __wit_types::Request {
            use $crate::Method as M;
            let method = match s.method {
                M::Get => __wit_types::Method::Get,
                M::Head => __wit_types::Method::Head,
                M::Post => __wit_types::Method::Post,
                M::Put => __wit_types::Method::Put,
                M::Patch => __wit_types::Method::Patch,
                M::Delete => __wit_types::Method::Delete,
                M::Options => __wit_types::Method::Options,
            };
            __wit_types::Request {
                method,
                url: std::mem::take(&mut s.url),
                headers: std::mem::take(&mut s.headers),
                body: s.body.take(),
                name: s.name.take(),
                timeout_ms: s.timeout_ms,
            }
        }
        /// From `send-packed` (0.1.2, 0.2.1): the headers stay one string, read
        /// in place (two copies into the guest per header saved).
        pub(crate) fn packed_response(r: __wit_types::PackedResponse) -> $crate::Response {
            $crate::Response {
                id: r.id,
                status: r.status,
                headers: $crate::Headers::from_packed(r.headers),
                body: r.body,
                truncated: r.truncated,
                url: r.url,
                elapsed: std::time::Duration::from_micros(r.elapsed_us),
            }
        }
    };
}
