//! Shape the spans the host records: every task runs in a span (named after the
//! task unless you rename it) and every request is a CLIENT span under the
//! innermost open span.
//!
//! ```ignore
//! telemetry::set_span_name("user_browse_product");
//! telemetry::set_attribute("product.id", id);
//! let _s = telemetry::span("user_add_to_cart"); // ends when dropped
//! ```

use crate::bindings::wasp::plugin::telemetry as wit;
pub use wit::Value;

wasp_sdk_core::__value_from!(Value);

/// Sets an attribute on the innermost open span.
pub fn set_attribute(key: &str, value: impl Into<Value>) {
    wit::set_attribute(key, &value.into())
}

/// Renames the current task's span.
pub fn set_span_name(name: &str) {
    wit::set_span_name(name)
}

/// An open child span; it ends when dropped.
#[must_use = "the span ends when this guard is dropped"]
pub struct SpanGuard(());

impl Drop for SpanGuard {
    fn drop(&mut self) {
        wit::end_span()
    }
}

/// Opens a child span of the innermost open span.
pub fn span(name: &str) -> SpanGuard {
    wit::start_span(name);
    SpanGuard(())
}

/// Adds an event to the innermost open span.
pub fn event(name: &str, attributes: &[(&str, Value)]) {
    let attrs: Vec<(String, Value)> = attributes.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    wit::add_event(name, &attrs)
}

/// Records an exception on the innermost open span and marks it failed.
pub fn exception(message: &str) {
    wit::record_exception(message)
}

/// Drops the span of the current task (or of on-start/on-stop): it is not
/// exported. For a call that did nothing worth a trace, e.g. a flood of 0
/// requests. Needs a host that runs `wasp:plugin@0.1.1`.
pub fn discard_span() {
    wit::discard_span()
}
