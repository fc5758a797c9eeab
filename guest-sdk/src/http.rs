//! HTTP through the host: `http::get("/").send()?`.
//!
//! Relative URLs are joined to the run's `--host`. The host keeps a cookie jar
//! per user, follows redirects, counts every request (status >= 400 as a
//! failure unless you say otherwise) and times it. The builder's methods
//! (`.header`, `.json`, `.check` …) are [`Build`]'s, in the prelude.

use crate::bindings::wasp::plugin::http as wit;
use crate::Error;
use wasp_sdk_core::Spec;
pub use wasp_sdk_core::{Build, Headers, Method, Response};

wasp_sdk_core::__request_from!(crate::bindings::wasp::plugin::types);

/// A request being built.
#[must_use = "a request does nothing until `.send()`"]
pub struct RequestBuilder(Spec);

impl Build for RequestBuilder {
    fn spec(&mut self) -> &mut Spec {
        &mut self.0
    }
}

pub fn request(method: Method, url: &str) -> RequestBuilder {
    RequestBuilder(Spec::new(method, url))
}
pub fn get(url: &str) -> RequestBuilder {
    request(Method::Get, url)
}
pub fn head(url: &str) -> RequestBuilder {
    request(Method::Head, url)
}
pub fn post(url: &str) -> RequestBuilder {
    request(Method::Post, url)
}
pub fn put(url: &str) -> RequestBuilder {
    request(Method::Put, url)
}
pub fn patch(url: &str) -> RequestBuilder {
    request(Method::Patch, url)
}
pub fn delete(url: &str) -> RequestBuilder {
    request(Method::Delete, url)
}
pub fn options(url: &str) -> RequestBuilder {
    request(Method::Options, url)
}

impl RequestBuilder {
    /// Sends the request. `Err` only when no answer came; an answer with a bad
    /// status is `Ok` and counted as a failure by the host.
    pub fn send(mut self) -> Result<Response, Error> {
        if let Some(e) = self.0.error.take() {
            return Err(e);
        }
        let resp = packed_response(wit::send_packed(&wit_request(&mut self.0))?);
        match self.0.verdict(&resp) {
            Some(Ok(())) => resp.pass(),
            Some(Err(why)) => resp.fail(&why),
            None => {}
        }
        Ok(resp)
    }
}

/// A verdict on a response, before the task returns (in the prelude).
pub trait Verdict {
    /// Counts this response as a failure, with a message.
    fn fail(&self, message: &str);
    /// Counts this response as a success, whatever its status.
    fn pass(&self);
}

impl Verdict for Response {
    fn fail(&self, message: &str) {
        wit::fail(self.id, message)
    }

    fn pass(&self) {
        wit::pass(self.id)
    }
}
