//! `wasp:plugin/telemetry`: each user's open spans. The bottom of the stack is
//! the span of the current export call (task, on-start, on-stop); guests push
//! and pop child spans above it. Requests become CLIENT spans under the top.
//!
//! The host holds what the guest puts in spans until they are exported, so
//! it is bounded per export call: [`MAX_OPEN_SPANS`] open at once, and
//! [`MAX_TEXT`] bytes of names, attributes and events in all; string values
//! are cut at [`MAX_VALUE`] bytes. Past a bound the guest traps with the reason.

use super::UserCtx;
use crate::bindings::wasp::plugin::telemetry::{Host, Value};
use opentelemetry::trace::{Span as _, SpanKind, Status, TraceContextExt, Tracer as _};
use opentelemetry::{Context, KeyValue, StringValue};
use opentelemetry_sdk::trace::SdkTracer;
use wasp_telemetry::ids::unrecorded_child;
use wasp_telemetry::Telemetry;

/// Spans open at once in one call, the call's own span included.
pub const MAX_OPEN_SPANS: usize = 64;
/// Bytes of span names, attribute keys and values, events and exception
/// messages one export call may hand the host.
pub const MAX_TEXT: usize = 64 << 10;
/// Longest string attribute value (longer ones are cut).
pub const MAX_VALUE: usize = 4096;

#[derive(Default)]
pub struct UserTelemetry {
    stack: Vec<Context>,
    /// Text handed over in the current call.
    text: usize,
}

/// A span, attribute or event past the bounds.
#[derive(Debug)]
pub struct TooMuchTelemetry(String);

impl std::fmt::Display for TooMuchTelemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "telemetry limit exceeded: {}", self.0)
    }
}
impl std::error::Error for TooMuchTelemetry {}

/// A string cut at `max` bytes, on a character boundary.
fn cut(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

fn value(v: Value) -> opentelemetry::Value {
    match v {
        Value::Str(s) => cut(s, MAX_VALUE).into(),
        Value::Int(i) => i.into(),
        Value::Float(f) => f.into(),
        Value::Boolean(b) => b.into(),
    }
}

impl UserTelemetry {
    /// Opens the span of an export call (a root span: each task is its own trace).
    pub fn begin(&mut self, tel: &Telemetry, name: StringValue, user: u64, scenario: StringValue) {
        self.stack.clear();
        self.text = 0;
        if tel.tracer.is_none() {
            if let Some(ids) = &tel.ids {
                self.stack.push(unrecorded_child(ids, &Context::new()));
            }
        }
        if let Some(t) = tel.tracer.as_ref() {
            // The sampler decides on the name and kind (none of the samplers
            // the environment can choose reads attributes); only a span it
            // records gets them.
            let mut span = t.span_builder(name.as_str().to_string()).with_kind(SpanKind::Internal).start_with_context(t, &Context::new());
            if span.is_recording() {
                span.set_attributes([KeyValue::new("wasp.user.id", user as i64), KeyValue::new("wasp.task", name), KeyValue::new("wasp.scenario", scenario)]);
            }
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

    /// Counts `bytes` of guest text against the call's bound.
    pub(crate) fn charge(&mut self, bytes: usize) -> wasmtime::Result<()> {
        self.text += bytes;
        if self.text > MAX_TEXT {
            return Err(wasmtime::Error::new(TooMuchTelemetry(format!("more than {} KiB of span names, attributes and events in one task", MAX_TEXT >> 10))));
        }
        Ok(())
    }

    fn value_len(v: &Value) -> usize {
        match v {
            Value::Str(s) => s.len().min(MAX_VALUE),
            _ => 8,
        }
    }

    fn push(&mut self, tracer: &SdkTracer, name: String) {
        let parent = self.current();
        let span = tracer.span_builder(name).with_kind(SpanKind::Internal).start_with_context(tracer, &parent);
        self.stack.push(parent.with_span(span));
    }
}

impl Host for UserCtx {
    async fn set_attribute(&mut self, key: String, v: Value) -> wasmtime::Result<()> {
        self.hold_span_text(key.len() + UserTelemetry::value_len(&v))?;
        self.telemetry.current().span().set_attribute(KeyValue::new(cut(key, MAX_VALUE), value(v)));
        Ok(())
    }

    async fn set_span_name(&mut self, name: String) {
        if let Some(cx) = self.telemetry.stack.first() {
            cx.span().update_name(cut(name, 256));
        }
    }

    async fn start_span(&mut self, name: String) -> wasmtime::Result<()> {
        if self.telemetry.stack.is_empty() {
            return Ok(());
        }
        if self.telemetry.stack.len() >= MAX_OPEN_SPANS {
            return Err(wasmtime::Error::new(TooMuchTelemetry(format!("more than {MAX_OPEN_SPANS} spans open at once (end them with end-span)"))));
        }
        self.hold_span_text(name.len())?;
        let name = cut(name, 256);
        let tel = &self.run.telemetry;
        if let Some(t) = tel.tracer.as_ref() {
            self.telemetry.push(t, name);
        } else if let Some(ids) = &tel.ids {
            let child = unrecorded_child(ids, &self.telemetry.current());
            self.telemetry.stack.push(child);
        }
        Ok(())
    }

    async fn end_span(&mut self) {
        if self.telemetry.stack.len() > 1 {
            if let Some(cx) = self.telemetry.stack.pop() {
                cx.span().end();
            }
        }
    }

    async fn discard_span(&mut self) {
        if let Some(cx) = self.telemetry.stack.first() {
            cx.span().set_attribute(KeyValue::new(wasp_telemetry::counting::DISCARD, true));
        }
    }

    async fn add_event(&mut self, name: String, attributes: Vec<(String, Value)>) -> wasmtime::Result<()> {
        let bytes = name.len() + attributes.iter().map(|(k, v)| k.len() + UserTelemetry::value_len(v)).sum::<usize>();
        self.hold_span_text(bytes)?;
        let attrs = attributes.into_iter().map(|(k, v)| KeyValue::new(cut(k, MAX_VALUE), value(v))).collect();
        self.telemetry.current().span().add_event(cut(name, 256), attrs);
        Ok(())
    }

    async fn record_exception(&mut self, message: String) -> wasmtime::Result<()> {
        self.hold_span_text(message.len().min(MAX_VALUE))?;
        let message = cut(message, MAX_VALUE);
        let cx = self.telemetry.current();
        let span = cx.span();
        span.add_event("exception", vec![KeyValue::new(opentelemetry_semantic_conventions::attribute::EXCEPTION_MESSAGE, message.clone())]);
        span.set_status(Status::error(message));
        Ok(())
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
        u.begin(&tel, "checkout".into(), 7, "default".into());
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
        u.begin(&tel, "index".into(), 1, "default".into());
        let task = u.current().span().span_context().clone();
        assert!(task.is_valid() && task.is_sampled());
        let req = unrecorded_child(tel.ids.as_ref().unwrap(), &u.current());
        let rc = req.span().span_context().clone();
        assert_eq!(rc.trace_id(), task.trace_id());
        assert_ne!(rc.span_id(), task.span_id());
        u.end(None);
        // SDK disabled: nothing at all
        let mut off = UserTelemetry::default();
        off.begin(&Telemetry::disabled(), "index".into(), 1, "default".into());
        assert!(!off.current().span().span_context().is_valid());
    }
}
