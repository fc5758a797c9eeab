//! `wasp:plugin/telemetry`: each user's open spans. The bottom of the stack is
//! the span of the current export call (task, on-start, on-stop); guests push
//! and pop child spans above it. Requests become CLIENT spans under the top.

use super::UserCtx;
use crate::bindings::wasp::plugin::telemetry::{Host, Value};
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::SdkTracer;

#[derive(Default)]
pub struct UserTelemetry {
    stack: Vec<Context>,
}

fn value(v: Value) -> opentelemetry::Value {
    match v {
        Value::Str(s) => s.into(),
        Value::Int(i) => i.into(),
        Value::Float(f) => f.into(),
        Value::Boolean(b) => b.into(),
    }
}

impl UserTelemetry {
    /// Opens the span of an export call (a root span: each task is its own trace).
    pub fn begin(&mut self, tracer: Option<&SdkTracer>, name: &str, user: u64) {
        self.stack.clear();
        if let Some(t) = tracer {
            let span = t
                .span_builder(name.to_string())
                .with_kind(SpanKind::Internal)
                .with_attributes([KeyValue::new("wasp.user.id", user as i64), KeyValue::new("wasp.task", name.to_string())])
                .start_with_context(t, &Context::new());
            self.stack.push(Context::new().with_span(span));
        }
    }

    /// Ends every open span; the call's span gets `error` as its status.
    pub fn end(&mut self, error: Option<&str>) {
        while let Some(cx) = self.stack.pop() {
            let span = cx.span();
            if self.stack.is_empty() {
                if let Some(msg) = error {
                    span.set_status(Status::error(msg.to_string()));
                }
            }
            span.end();
        }
    }

    /// The innermost open span's context (empty when tracing is off).
    pub fn current(&self) -> Context {
        self.stack.last().cloned().unwrap_or_default()
    }

    fn push(&mut self, tracer: &SdkTracer, name: String) {
        let parent = self.current();
        let span = tracer.span_builder(name).with_kind(SpanKind::Internal).start_with_context(tracer, &parent);
        self.stack.push(parent.with_span(span));
    }
}

impl Host for UserCtx {
    async fn set_attribute(&mut self, key: String, v: Value) {
        self.telemetry.current().span().set_attribute(KeyValue::new(key, value(v)));
    }

    async fn set_span_name(&mut self, name: String) {
        if let Some(cx) = self.telemetry.stack.first() {
            cx.span().update_name(name);
        }
    }

    async fn start_span(&mut self, name: String) {
        if let Some(t) = self.run.telemetry.tracer.as_ref() {
            if !self.telemetry.stack.is_empty() {
                self.telemetry.push(t, name);
            }
        }
    }

    async fn end_span(&mut self) {
        if self.telemetry.stack.len() > 1 {
            if let Some(cx) = self.telemetry.stack.pop() {
                cx.span().end();
            }
        }
    }

    async fn add_event(&mut self, name: String, attributes: Vec<(String, Value)>) {
        let attrs = attributes.into_iter().map(|(k, v)| KeyValue::new(k, value(v))).collect();
        self.telemetry.current().span().add_event(name, attrs);
    }

    async fn record_exception(&mut self, message: String) {
        let cx = self.telemetry.current();
        let span = cx.span();
        span.add_event("exception", vec![KeyValue::new(opentelemetry_semantic_conventions::attribute::EXCEPTION_MESSAGE, message.clone())]);
        span.set_status(Status::error(message));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};

    #[test]
    fn children_nest_under_the_call_span_and_all_end() {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
        let tracer = provider.tracer("t");
        let mut u = UserTelemetry::default();
        u.begin(Some(&tracer), "checkout", 7);
        u.push(&tracer, "user_add_to_cart".into());
        let inner = u.current();
        u.end(Some("boom"));
        let spans = exporter.get_finished_spans().unwrap();
        assert_eq!(spans.len(), 2);
        let task = spans.iter().find(|s| s.name == "checkout").unwrap();
        let child = spans.iter().find(|s| s.name == "user_add_to_cart").unwrap();
        assert_eq!(child.parent_span_id, task.span_context.span_id());
        assert_eq!(child.span_context.trace_id(), task.span_context.trace_id());
        assert_eq!(inner.span().span_context().span_id(), child.span_context.span_id());
        assert!(matches!(task.status, Status::Error { .. }));
        assert!(task.attributes.iter().any(|kv| kv.key.as_str() == "wasp.user.id" && kv.value == 7i64.into()));
        assert!(u.current().span().span_context().is_valid() == false);
    }
}
