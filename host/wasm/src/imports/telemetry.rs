//! `wasp:plugin/telemetry`: each user's open spans. The bottom of the stack is
//! the span of the current export call (task, on-start, on-stop); guests push
//! and pop child spans above it. Requests become CLIENT spans under the top.

use super::UserCtx;
use crate::bindings::wasp::plugin::telemetry::{Host, Value};
use wasp_telemetry::ids::unrecorded_child;
use wasp_telemetry::Telemetry;
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
    pub fn begin(&mut self, tel: &Telemetry, name: &str, user: u64) {
        self.stack.clear();
        if tel.tracer.is_none() {
            if let Some(ids) = &tel.ids {
                self.stack.push(unrecorded_child(ids, &Context::new()));
            }
        }
        if let Some(t) = tel.tracer.as_ref() {
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
        if self.telemetry.stack.is_empty() {
            return;
        }
        let tel = &self.run.telemetry;
        if let Some(t) = tel.tracer.as_ref() {
            self.telemetry.push(t, name);
        } else if let Some(ids) = &tel.ids {
            let child = unrecorded_child(ids, &self.telemetry.current());
            self.telemetry.stack.push(child);
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
    use opentelemetry_sdk::trace::{InMemorySpanExporter, RandomIdGenerator, SdkTracerProvider};

    #[test]
    fn children_nest_under_the_call_span_and_all_end() {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
        let tracer = provider.tracer("t");
        let mut u = UserTelemetry::default();
        let tel = Telemetry { tracer: Some(tracer.clone()), ..Telemetry::disabled() };
        u.begin(&tel, "checkout", 7);
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
        assert!(!u.current().span().span_context().is_valid());
    }

    #[test]
    fn without_a_tracer_requests_still_get_span_contexts() {
        let tel = Telemetry { ids: Some(RandomIdGenerator::default()), ..Telemetry::disabled() };
        let mut u = UserTelemetry::default();
        u.begin(&tel, "index", 1);
        let task = u.current().span().span_context().clone();
        assert!(task.is_valid() && task.is_sampled());
        let req = unrecorded_child(tel.ids.as_ref().unwrap(), &u.current());
        let rc = req.span().span_context().clone();
        assert_eq!(rc.trace_id(), task.trace_id());
        assert_ne!(rc.span_id(), task.span_id());
        u.end(None);
        // SDK disabled: nothing at all
        let mut off = UserTelemetry::default();
        off.begin(&Telemetry::disabled(), "index", 1);
        assert!(!off.current().span().span_context().is_valid());
    }
}
