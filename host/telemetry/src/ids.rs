//! Trace context without recording: when no spans are exported, requests
//! still carry a `traceparent`, made of fresh ids in the task's trace.

use opentelemetry::trace::{SpanContext, TraceContextExt, TraceFlags, TraceState};
use opentelemetry::Context;
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator};

/// A span context with a fresh span id in `parent`'s trace (a new trace
/// without one), recording nothing: what requests carry when no spans are exported.
pub fn unrecorded_child(ids: &RandomIdGenerator, parent: &Context) -> Context {
    parent.with_remote_span_context(unrecorded(ids, parent))
}

/// [`unrecorded_child`]'s span context alone.
pub fn unrecorded(ids: &RandomIdGenerator, parent: &Context) -> SpanContext {
    let span = parent.span();
    let p = span.span_context();
    let trace = if p.is_valid() { p.trace_id() } else { ids.new_trace_id() };
    SpanContext::new(trace, ids.new_span_id(), TraceFlags::SAMPLED, false, TraceState::default())
}

/// The child of a span the sampler did not sample, without asking the
/// sampler again: a fresh span id in the parent's trace, with its flags and
/// state, recording nothing. Every sampler `OTEL_TRACES_SAMPLER` names decides
/// a child of an unsampled span of its own the same way (`traceidratio` by
/// the trace id the two share, the parent-based ones by the parent, and
/// `always_on` samples every parent). None for a sampled or invalid parent:
/// the SDK makes that span.
pub fn unsampled(ids: &RandomIdGenerator, parent: &Context) -> Option<SpanContext> {
    let span = parent.span();
    let p = span.span_context();
    if !p.is_valid() || p.is_sampled() {
        return None;
    }
    Some(SpanContext::new(p.trace_id(), ids.new_span_id(), p.trace_flags(), false, p.trace_state().clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanId, TraceId};

    #[test]
    fn an_unsampled_parents_child_keeps_its_trace_and_flags_with_a_span_id_of_its_own() {
        let ids = RandomIdGenerator::default();
        let state = TraceState::from_key_value([("k", "v")]).unwrap();
        let parent = |flags| Context::new().with_remote_span_context(SpanContext::new(TraceId::from(7), SpanId::from(9), flags, false, state.clone()));
        let c = unsampled(&ids, &parent(TraceFlags::default())).expect("an unsampled parent");
        assert_eq!((c.trace_id(), c.trace_flags(), c.trace_state().header()), (TraceId::from(7), TraceFlags::default(), "k=v".to_string()));
        assert!(c.is_valid() && c.span_id() != SpanId::from(9));
        assert!(unsampled(&ids, &parent(TraceFlags::SAMPLED)).is_none(), "a sampled parent's child is the SDK's to make");
        assert!(unsampled(&ids, &Context::new()).is_none());
    }
}
