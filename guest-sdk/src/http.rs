//! HTTP through the host: `http::get("/").send()?`.
//!
//! Relative URLs are joined to the run's `--host`. The host keeps a cookie jar
//! per user, follows redirects, counts every request (status >= 400 as a
//! failure unless you say otherwise) and times it.

use crate::bindings::wasp::plugin::http as wit;
use crate::bindings::wasp::plugin::types::{Method, Request};
use crate::Error;
use std::time::Duration;

/// A request being built.
#[must_use = "a request does nothing until `.send()`"]
pub struct RequestBuilder {
    req: Request,
    checks: Vec<(String, Box<dyn Fn(&Response) -> bool>)>,
    expect: Option<Vec<u16>>,
    /// A body that could not be built: `send` returns it, sending nothing.
    error: Option<Error>,
}

fn builder(method: Method, url: &str) -> RequestBuilder {
    RequestBuilder {
        req: Request { method, url: url.to_string(), headers: Vec::new(), body: None, name: None, timeout_ms: None },
        checks: Vec::new(),
        expect: None,
        error: None,
    }
}

pub fn get(url: &str) -> RequestBuilder {
    builder(Method::Get, url)
}
pub fn head(url: &str) -> RequestBuilder {
    builder(Method::Head, url)
}
pub fn post(url: &str) -> RequestBuilder {
    builder(Method::Post, url)
}
pub fn put(url: &str) -> RequestBuilder {
    builder(Method::Put, url)
}
pub fn patch(url: &str) -> RequestBuilder {
    builder(Method::Patch, url)
}
pub fn delete(url: &str) -> RequestBuilder {
    builder(Method::Delete, url)
}
pub fn options(url: &str) -> RequestBuilder {
    builder(Method::Options, url)
}

impl RequestBuilder {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.req.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// A JSON body (and its content type).
    /// A JSON body (and its content type). A value that cannot be written as
    /// JSON (e.g. a map with non-string keys) makes `send` fail with the
    /// reason, without sending anything.
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

    /// Counts the response as failed, with `what` as the message, unless
    /// `ok(response)` holds (like a k6 check or Locust's `catch_response`).
    pub fn check(mut self, what: &str, ok: impl Fn(&Response) -> bool + 'static) -> Self {
        self.checks.push((what.to_string(), Box::new(ok)));
        self
    }

    /// Counts only these statuses as success (instead of "below 400").
    pub fn expect_status(mut self, statuses: &[u16]) -> Self {
        self.expect = Some(statuses.to_vec());
        self
    }

    /// Sends the request. `Err` only when no answer came; an answer with a bad
    /// status is `Ok` and counted as a failure by the host.
    pub fn send(self) -> Result<Response, Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let r = wit::send(&self.req)?;
        let resp = Response {
            id: r.id,
            status: r.status,
            headers: r.headers,
            body: r.body,
            truncated: r.truncated,
            url: r.url,
            elapsed: Duration::from_micros(r.elapsed_us),
        };
        if let Some(expect) = &self.expect {
            if expect.contains(&resp.status) {
                resp.pass();
            } else {
                resp.fail(&format!("status {} not in {:?}", resp.status, expect));
            }
        }
        if let Some((what, _)) = self.checks.iter().find(|(_, ok)| !ok(&resp)) {
            resp.fail(&format!("check failed: {what}"));
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

    /// Counts this response as a failure, with a message.
    pub fn fail(&self, message: &str) {
        wit::fail(self.id, message)
    }

    /// Counts this response as a success, whatever its status.
    pub fn pass(&self) {
        wit::pass(self.id)
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
