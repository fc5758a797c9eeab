//! A user's [`Client`]: everything the host does for one simulated user.
//!
//! `client.get("/").send().await?` sends a request through the host (the
//! user's own connections and cookie jar, redirects followed, counted and
//! timed; a status >= 400 counts as a failure unless you say otherwise).
//! Baggage, spans, logs and flags act for this user only.

use crate::bindings::wasp::plugin::session::{self as wit_session, Session};
use crate::bindings::wasp::plugin::{baggage, flags, http, log, telemetry};
use crate::Error;
use std::time::Duration;
use wasp_sdk_core::Spec;
pub use wasp_sdk_core::{Build, Method, Response};

wasp_sdk_core::__request_from!(crate::bindings::wasp::plugin::types);

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
        RequestBuilder { client: self, spec: Spec::new(method, url) }
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

wasp_sdk_core::__value_from!(Value);

/// A request being built: [`Build`]'s methods (`.header`, `.json`, `.check`
/// …, in the prelude), then `.send().await`.
#[must_use = "a request does nothing until `.send().await`"]
pub struct RequestBuilder<'a> {
    client: &'a Client,
    spec: Spec,
}

impl Build for RequestBuilder<'_> {
    fn spec(&mut self) -> &mut Spec {
        &mut self.spec
    }
}

impl RequestBuilder<'_> {
    /// Sends the request; the instance runs its other users meanwhile. `Err`
    /// only when no answer came; a bad status is `Ok` and counted as a failure.
    pub async fn send(mut self) -> Result<Response, Error> {
        if let Some(e) = self.spec.error.take() {
            return Err(e);
        }
        let session = &self.client.session;
        let resp = packed_response(http::send_packed(session, wit_request(&mut self.spec)).await?);
        match self.spec.verdict(&resp) {
            Some(Ok(())) => http::pass(session, resp.id),
            Some(Err(why)) => http::fail(session, resp.id, &why),
            None => {}
        }
        Ok(resp)
    }
}

impl Client {
    /// Counts a response as failed, with a message (before the task returns).
    pub fn fail(&self, response: &Response, message: &str) {
        http::fail(&self.session, response.id, message)
    }

    /// Counts a response as a success, whatever its status.
    pub fn pass(&self, response: &Response) {
        http::pass(&self.session, response.id)
    }
}
