//! Trace context without recording: when no spans are exported, requests
//! still carry a `traceparent`, made of fresh ids in the task's trace.

use opentelemetry::trace::{SpanContext, TraceContextExt, TraceFlags, TraceState};
use opentelemetry::Context;
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator};

/// A span context with a fresh span id in `parent`'s trace (a new trace
/// without one), recording nothing: what requests carry when no spans are exported.
pub fn unrecorded_child(ids: &RandomIdGenerator, parent: &Context) -> Context {
    let p = parent.span().span_context().clone();
    let trace = if p.is_valid() { p.trace_id() } else { ids.new_trace_id() };
    parent.with_remote_span_context(SpanContext::new(trace, ids.new_span_id(), TraceFlags::SAMPLED, false, TraceState::default()))
}
