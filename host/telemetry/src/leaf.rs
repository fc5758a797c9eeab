//! A span that never has children (a request's CLIENT span), held by value.
//!
//! A span inside a [`Context`](opentelemetry::Context) is boxed, put behind a
//! mutex and shared through an `Arc`, so that children can find it and any
//! thread can end it. A request's span needs none of that: one owner sets its
//! attributes and ends it, and only its span context goes out (in the
//! `traceparent` header). Held here it costs no allocation beyond the SDK's
//! own and no lock per call.

use opentelemetry::trace::{Span as _, SpanContext, Status};
use opentelemetry::KeyValue;
use std::time::SystemTime;

/// A recorded span of the SDK (or one its sampler dropped), or only the
/// span context of a span nobody records. The SDK's span is boxed: a user
/// keeps room for its responses awaiting a verdict, each with its span, and
/// an unboxed one would be 288 bytes in every slot, traced or not.
pub enum LeafSpan {
    Sdk(Box<opentelemetry_sdk::trace::Span>),
    Unrecorded(SpanContext),
}

impl LeafSpan {
    /// An invalid span context: no trace at all.
    pub fn none() -> LeafSpan {
        LeafSpan::Unrecorded(SpanContext::empty_context())
    }

    pub fn span_context(&self) -> &SpanContext {
        match self {
            LeafSpan::Sdk(s) => s.span_context(),
            LeafSpan::Unrecorded(sc) => sc,
        }
    }

    pub fn is_recording(&self) -> bool {
        matches!(self, LeafSpan::Sdk(s) if s.is_recording())
    }

    pub fn set_attributes(&mut self, attributes: impl IntoIterator<Item = KeyValue>) {
        if let LeafSpan::Sdk(s) = self {
            s.set_attributes(attributes);
        }
    }

    pub fn set_status(&mut self, status: Status) {
        if let LeafSpan::Sdk(s) = self {
            s.set_status(status);
        }
    }

    /// Ends the span at `end`; the SDK's batch processor takes it from here.
    /// (Dropped unended, the SDK ends it at the time of the drop.)
    pub fn end_at(&mut self, end: SystemTime) {
        if let LeafSpan::Sdk(s) = self {
            s.end_with_timestamp(end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanKind, TraceContextExt as _, Tracer as _, TracerProvider as _};
    use opentelemetry::Context;
    use opentelemetry_sdk::trace::{InMemorySpanExporter, Sampler, SdkTracerProvider};
    use std::time::Duration;

    #[test]
    fn a_leaf_span_is_the_child_of_its_context_and_ends_with_what_it_was_given() {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
        let t = provider.tracer("t");
        let task = Context::new().with_span(t.start("task"));
        let mut leaf = LeafSpan::Sdk(Box::new(t.span_builder("GET /").with_kind(SpanKind::Client).start_with_context(&t, &task)));
        assert!(leaf.is_recording());
        let sc = leaf.span_context().clone();
        leaf.set_attributes([KeyValue::new("a", 1), KeyValue::new("b", "x")]);
        leaf.set_status(Status::error("boom"));
        let end = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        leaf.end_at(end);
        drop(leaf);
        let spans = exporter.get_finished_spans().unwrap();
        assert_eq!(spans.len(), 1, "ended once, not again at the drop");
        let s = &spans[0];
        assert_eq!(s.span_context, sc);
        assert_eq!(s.parent_span_id, task.span().span_context().span_id());
        assert_eq!(s.end_time, end);
        assert_eq!(s.attributes, vec![KeyValue::new("a", 1), KeyValue::new("b", "x")]);
        assert!(matches!(s.status, Status::Error { .. }));
    }

    #[test]
    fn a_dropped_leaf_span_ends_and_an_unsampled_one_records_nothing() {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
        let t = provider.tracer("t");
        drop(LeafSpan::Sdk(Box::new(t.start_with_context("GET /", &Context::new()))));
        assert_eq!(exporter.get_finished_spans().unwrap().len(), 1, "a request cut short still ends its span");

        let off = SdkTracerProvider::builder().with_sampler(Sampler::AlwaysOff).with_simple_exporter(exporter.clone()).build().tracer("t");
        let mut leaf = LeafSpan::Sdk(Box::new(off.start_with_context("GET /", &Context::new())));
        assert!(!leaf.is_recording());
        leaf.set_attributes([KeyValue::new("a", 1)]);
        leaf.end_at(SystemTime::now());
        assert_eq!(exporter.get_finished_spans().unwrap().len(), 1);

        let mut bare = LeafSpan::none();
        assert!(!bare.is_recording() && !bare.span_context().is_valid());
        bare.end_at(SystemTime::now());
    }

    #[test]
    fn a_leaf_span_is_small_where_it_waits_for_a_verdict() {
        assert!(std::mem::size_of::<LeafSpan>() <= std::mem::size_of::<SpanContext>() + 8);
    }
}
