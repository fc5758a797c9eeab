//! A batch of finished spans written straight into an OTLP
//! `ExportTraceServiceRequest` (protobuf), field by field from the SDK's
//! `SpanData`.
//!
//! opentelemetry-proto first converts every span into its generated message
//! types (a `String` per attribute key and string value, a `Vec` per id, the
//! scope hashed per span) and prost then encodes those: on the benchmark that
//! was most of the export thread's 3.3 µs per request. Here each message's
//! length is summed first and the bytes are written once into one buffer,
//! with prost's wire primitives. The result decodes to exactly what the SDK's
//! own conversion produces (a unit test compares them).

use opentelemetry::trace::{Event, Link, SpanContext, SpanId, SpanKind, Status};
use opentelemetry::{Array, InstrumentationScope, KeyValue, StringValue, Value};
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_sdk::Resource;
use prost::encoding::{encode_varint, encoded_len_varint, key_len, WireType};
use std::time::{SystemTime, UNIX_EPOCH};

/// OTLP's span flags: the W3C trace flags, whether the parent's remoteness is
/// known (always, here) and whether it was remote.
const HAS_IS_REMOTE: u32 = 0x100;
const IS_REMOTE: u32 = 0x200;

/// The resource's part of every request, encoded once (`Resource` message
/// fields and `ResourceSpans.schema_url`).
#[derive(Debug, Default, Clone)]
pub struct EncodedResource {
    /// The `Resource` message's body (its attributes).
    body: Vec<u8>,
    schema_url: String,
}

impl EncodedResource {
    pub fn new(resource: &Resource) -> EncodedResource {
        let mut body = Vec::new();
        for (k, v) in resource.iter() {
            put_attribute(&mut body, 1, k.as_str(), v);
        }
        EncodedResource { body, schema_url: resource.schema_url().unwrap_or_default().to_string() }
    }
}

/// What one export request may carry: the OpenTelemetry Collector's gRPC
/// receiver takes messages up to 4 MiB by default. A larger batch goes out
/// in several requests; a single larger span goes alone.
pub const MAX_REQUEST_BYTES: usize = 4_000_000;

/// Encodes the longest prefix of `spans` (at least one span) whose spans
/// fit in `max_bytes` as one `ExportTraceServiceRequest` into `out`
/// (cleared first): one `ResourceSpans`, one `ScopeSpans` per
/// instrumentation scope in the order scopes first appear. Returns how many
/// spans it took.
pub fn encode_request(resource: &EncodedResource, spans: &[SpanData], max_bytes: usize, out: &mut Vec<u8>) -> usize {
    out.clear();
    // Group by scope: nearly always one, so a short list compared by value.
    let mut scopes: Vec<(&InstrumentationScope, Vec<usize>, usize)> = Vec::new();
    let mut lens = Vec::with_capacity(spans.len());
    let mut total = 0;
    for (i, s) in spans.iter().enumerate() {
        let len = span_len(s);
        total += delimited_len(2, len);
        if i > 0 && total > max_bytes {
            break;
        }
        lens.push(len);
        let at = match scopes.iter().position(|(sc, _, _)| *sc == &s.instrumentation_scope) {
            Some(at) => at,
            None => {
                scopes.push((&s.instrumentation_scope, Vec::new(), 0));
                scopes.len() - 1
            }
        };
        scopes[at].1.push(i);
        scopes[at].2 += delimited_len(2, len);
    }
    let scope_lens: Vec<(usize, usize)> = scopes
        .iter()
        .map(|(sc, _, spans_len)| {
            let scope = scope_len(sc);
            let schema = sc.schema_url().map_or(0, |u| string_len(3, u));
            (scope, delimited_len(1, scope) + spans_len + schema)
        })
        .collect();
    let resource_spans_len =
        delimited_len(1, resource.body.len()) + scope_lens.iter().map(|(_, body)| delimited_len(2, *body)).sum::<usize>() + string_len(3, &resource.schema_url);
    out.reserve(delimited_len(1, resource_spans_len));

    put_header(out, 1, resource_spans_len);
    put_bytes(out, 1, &resource.body);
    for ((sc, members, _), (scope, body)) in scopes.iter().zip(&scope_lens) {
        put_header(out, 2, *body);
        put_header(out, 1, *scope);
        put_string(out, 1, sc.name());
        put_string(out, 2, sc.version().unwrap_or_default());
        for kv in sc.attributes() {
            put_attribute(out, 3, kv.key.as_str(), &kv.value);
        }
        for &i in members {
            put_header(out, 2, lens[i]);
            put_span(out, &spans[i]);
        }
        put_string(out, 3, sc.schema_url().unwrap_or_default());
    }
    put_string(out, 3, &resource.schema_url);
    lens.len()
}

/// The request bodies for a batch: each within [`MAX_REQUEST_BYTES`] (or a
/// single span), in order.
pub fn requests<'a>(resource: &'a EncodedResource, mut spans: &'a [SpanData]) -> impl Iterator<Item = Vec<u8>> + 'a {
    std::iter::from_fn(move || {
        if spans.is_empty() {
            return None;
        }
        let mut body = Vec::new();
        let n = encode_request(resource, spans, MAX_REQUEST_BYTES, &mut body);
        spans = &spans[n..];
        Some(body)
    })
}

// ---- lengths -------------------------------------------------------------

/// A length-delimited field: key, length, body.
fn delimited_len(tag: u32, body: usize) -> usize {
    key_len(tag) + encoded_len_varint(body as u64) + body
}

/// A string or bytes field; proto3 leaves an empty one out.
fn string_len(tag: u32, s: &str) -> usize {
    if s.is_empty() {
        0
    } else {
        delimited_len(tag, s.len())
    }
}

fn varint_len(tag: u32, v: u64) -> usize {
    if v == 0 {
        0
    } else {
        key_len(tag) + encoded_len_varint(v)
    }
}

/// A timestamp as `fixed64` nanoseconds; proto3 leaves 0 (the epoch) out.
/// (Compared, not converted: the conversion is done once, when written.)
fn time_len(tag: u32, t: SystemTime) -> usize {
    if t > UNIX_EPOCH {
        key_len(tag) + 8
    } else {
        0
    }
}

fn nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

fn kind(k: &SpanKind) -> u64 {
    match k {
        SpanKind::Internal => 1,
        SpanKind::Server => 2,
        SpanKind::Client => 3,
        SpanKind::Producer => 4,
        SpanKind::Consumer => 5,
    }
}

fn flags(cx: &SpanContext, remote: bool) -> u32 {
    cx.trace_flags().to_u8() as u32 | HAS_IS_REMOTE | if remote { IS_REMOTE } else { 0 }
}

/// `AnyValue`'s body: exactly one member of its `oneof`, written even when
/// it holds the default (a `oneof` keeps its presence).
fn any_len(v: &Value) -> usize {
    match v {
        Value::Bool(_) => key_len(2) + 1,
        Value::I64(i) => key_len(3) + encoded_len_varint(*i as u64),
        Value::F64(_) => key_len(4) + 8,
        Value::String(s) => delimited_len(1, s.as_str().len()),
        Value::Array(a) => delimited_len(5, array_len(a)),
        _ => 0,
    }
}

fn array_len(a: &Array) -> usize {
    fn each<T>(vals: &[T], f: impl Fn(&T) -> usize) -> usize {
        vals.iter().map(|v| delimited_len(1, f(v))).sum()
    }
    match a {
        Array::Bool(v) => each(v, |_| key_len(2) + 1),
        Array::I64(v) => each(v, |i| key_len(3) + encoded_len_varint(*i as u64)),
        Array::F64(v) => each(v, |_| key_len(4) + 8),
        Array::String(v) => each(v, |s: &StringValue| delimited_len(1, s.as_str().len())),
        _ => 0,
    }
}

/// `KeyValue`'s body: the key, and the value (always present).
fn kv_len(key: &str, v: &Value) -> usize {
    kv_len_with(key, any_len(v))
}

/// [`kv_len`] for a value whose `AnyValue` body is `any` bytes long.
fn kv_len_with(key: &str, any: usize) -> usize {
    string_len(1, key) + delimited_len(2, any)
}

fn attributes_len(tag: u32, kvs: &[KeyValue]) -> usize {
    kvs.iter().map(|kv| delimited_len(tag, kv_len(kv.key.as_str(), &kv.value))).sum()
}

fn scope_len(sc: &InstrumentationScope) -> usize {
    string_len(1, sc.name())
        + string_len(2, sc.version().unwrap_or_default())
        + sc.attributes().map(|kv| delimited_len(3, kv_len(kv.key.as_str(), &kv.value))).sum::<usize>()
}

fn status_len(s: &Status) -> usize {
    match s {
        Status::Unset => 0,
        Status::Ok => varint_len(3, 1),
        Status::Error { description } => string_len(2, description) + varint_len(3, 2),
    }
}

fn event_len(e: &Event) -> usize {
    time_len(1, e.timestamp) + string_len(2, &e.name) + attributes_len(3, &e.attributes) + varint_len(4, e.dropped_attributes_count as u64)
}

fn link_len(l: &Link) -> usize {
    let state = l.span_context.trace_state().header();
    delimited_len(1, 16)
        + delimited_len(2, 8)
        + string_len(3, &state)
        + attributes_len(4, &l.attributes)
        + varint_len(5, l.dropped_attributes_count as u64)
        + key_len(6)
        + 4
}

fn span_len(s: &SpanData) -> usize {
    let cx = &s.span_context;
    let state = if cx.trace_state() == &Default::default() { 0 } else { string_len(3, &cx.trace_state().header()) };
    delimited_len(1, 16)
        + delimited_len(2, 8)
        + state
        + if s.parent_span_id == SpanId::INVALID { 0 } else { delimited_len(4, 8) }
        + key_len(16)
        + 4
        + string_len(5, &s.name)
        + varint_len(6, kind(&s.span_kind))
        + time_len(7, s.start_time)
        + time_len(8, s.end_time)
        + attributes_len(9, &s.attributes)
        + varint_len(10, s.dropped_attributes_count as u64)
        + s.events.events.iter().map(|e| delimited_len(11, event_len(e))).sum::<usize>()
        + varint_len(12, s.events.dropped_count as u64)
        + s.links.links.iter().map(|l| delimited_len(13, link_len(l))).sum::<usize>()
        + varint_len(14, s.links.dropped_count as u64)
        + delimited_len(15, status_len(&s.status))
}

// ---- writing -------------------------------------------------------------

/// A varint. Nearly all of them here (keys, lengths of attributes and small
/// messages) fit in one byte, so that case skips prost's loop.
#[inline]
fn put_uvarint(out: &mut Vec<u8>, v: u64) {
    if v < 0x80 {
        out.push(v as u8);
    } else {
        encode_varint(v, out);
    }
}

/// A field's key: its tag and wire type.
#[inline]
fn key(tag: u32, wire: WireType) -> u32 {
    tag << 3 | wire as u32
}

#[inline]
fn put_key(out: &mut Vec<u8>, tag: u32, wire: WireType) {
    put_uvarint(out, u64::from(key(tag, wire)));
}

fn put_header(out: &mut Vec<u8>, tag: u32, len: usize) {
    let k = key(tag, WireType::LengthDelimited);
    if k < 0x80 && len < 0x80 {
        // Both in one byte each (nearly every header): one write.
        out.extend_from_slice(&[k as u8, len as u8]);
    } else {
        put_uvarint(out, u64::from(k));
        put_uvarint(out, len as u64);
    }
}

/// A bytes field, written even when empty (for bodies of message fields that
/// are always present).
fn put_bytes(out: &mut Vec<u8>, tag: u32, b: &[u8]) {
    put_header(out, tag, b.len());
    out.extend_from_slice(b);
}

fn put_string(out: &mut Vec<u8>, tag: u32, s: &str) {
    if !s.is_empty() {
        put_bytes(out, tag, s.as_bytes());
    }
}

fn put_varint(out: &mut Vec<u8>, tag: u32, v: u64) {
    if v != 0 {
        put_key(out, tag, WireType::Varint);
        put_uvarint(out, v);
    }
}

fn put_fixed64(out: &mut Vec<u8>, tag: u32, v: u64) {
    if v != 0 {
        put_key(out, tag, WireType::SixtyFourBit);
        out.extend_from_slice(&v.to_le_bytes());
    }
}

fn put_fixed32(out: &mut Vec<u8>, tag: u32, v: u32) {
    put_key(out, tag, WireType::ThirtyTwoBit);
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_any(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Bool(b) => {
            put_key(out, 2, WireType::Varint);
            put_uvarint(out, *b as u64);
        }
        Value::I64(i) => {
            put_key(out, 3, WireType::Varint);
            put_uvarint(out, *i as u64);
        }
        Value::F64(f) => {
            put_key(out, 4, WireType::SixtyFourBit);
            out.extend_from_slice(&f.to_le_bytes());
        }
        Value::String(s) => put_bytes(out, 1, s.as_str().as_bytes()),
        Value::Array(a) => {
            put_header(out, 5, array_len(a));
            match a {
                Array::Bool(v) => v.iter().for_each(|b| {
                    let b = Value::Bool(*b);
                    put_header(out, 1, any_len(&b));
                    put_any(out, &b);
                }),
                Array::I64(v) => v.iter().for_each(|i| {
                    let i = Value::I64(*i);
                    put_header(out, 1, any_len(&i));
                    put_any(out, &i);
                }),
                Array::F64(v) => v.iter().for_each(|f| {
                    let f = Value::F64(*f);
                    put_header(out, 1, any_len(&f));
                    put_any(out, &f);
                }),
                Array::String(v) => v.iter().for_each(|s| {
                    put_header(out, 1, delimited_len(1, s.as_str().len()));
                    put_bytes(out, 1, s.as_str().as_bytes());
                }),
                _ => {}
            }
        }
        _ => {}
    }
}

fn put_attribute(out: &mut Vec<u8>, tag: u32, key: &str, v: &Value) {
    // The value's length, summed once for both headers.
    let any = any_len(v);
    put_header(out, tag, kv_len_with(key, any));
    put_string(out, 1, key);
    put_header(out, 2, any);
    put_any(out, v);
}

fn put_attributes(out: &mut Vec<u8>, tag: u32, kvs: &[KeyValue]) {
    for kv in kvs {
        put_attribute(out, tag, kv.key.as_str(), &kv.value);
    }
}

fn put_span(out: &mut Vec<u8>, s: &SpanData) {
    let cx = &s.span_context;
    put_bytes(out, 1, &cx.trace_id().to_bytes());
    put_bytes(out, 2, &cx.span_id().to_bytes());
    if cx.trace_state() != &Default::default() {
        put_string(out, 3, &cx.trace_state().header());
    }
    if s.parent_span_id != SpanId::INVALID {
        put_bytes(out, 4, &s.parent_span_id.to_bytes());
    }
    put_string(out, 5, &s.name);
    put_varint(out, 6, kind(&s.span_kind));
    put_fixed64(out, 7, nanos(s.start_time));
    put_fixed64(out, 8, nanos(s.end_time));
    put_attributes(out, 9, &s.attributes);
    put_varint(out, 10, s.dropped_attributes_count as u64);
    for e in s.events.events.iter() {
        put_header(out, 11, event_len(e));
        put_fixed64(out, 1, nanos(e.timestamp));
        put_string(out, 2, &e.name);
        put_attributes(out, 3, &e.attributes);
        put_varint(out, 4, e.dropped_attributes_count as u64);
    }
    put_varint(out, 12, s.events.dropped_count as u64);
    for l in s.links.links.iter() {
        put_header(out, 13, link_len(l));
        put_bytes(out, 1, &l.span_context.trace_id().to_bytes());
        put_bytes(out, 2, &l.span_context.span_id().to_bytes());
        put_string(out, 3, &l.span_context.trace_state().header());
        put_attributes(out, 4, &l.attributes);
        put_varint(out, 5, l.dropped_attributes_count as u64);
        put_fixed32(out, 6, flags(&l.span_context, l.span_context.is_remote()));
    }
    put_varint(out, 14, s.links.dropped_count as u64);
    put_header(out, 15, status_len(&s.status));
    match &s.status {
        Status::Unset => {}
        Status::Ok => put_varint(out, 3, 1),
        Status::Error { description } => {
            put_string(out, 2, description);
            put_varint(out, 3, 2);
        }
    }
    // Fields go out in tag order, as prost writes them.
    put_fixed32(out, 16, flags(cx, s.parent_span_is_remote));
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use opentelemetry::trace::{TraceFlags, TraceId, TraceState};
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
    use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};
    use prost::Message;
    use std::time::Duration;

    fn cx(trace: u128, span: u64, sampled: bool, remote: bool, state: TraceState) -> SpanContext {
        let flags = if sampled { TraceFlags::SAMPLED } else { TraceFlags::default() };
        SpanContext::new(TraceId::from(trace), SpanId::from(span), flags, remote, state)
    }

    fn span(scope: &InstrumentationScope, name: &'static str, n: u64) -> SpanData {
        let t0 = UNIX_EPOCH + Duration::from_nanos(1_765_000_000_123_456_789 + n);
        SpanData {
            span_context: cx(0x0af7651916cd43dd8448eb211c80319c + n as u128, 0xb7ad6b7169203331 + n, true, false, TraceState::default()),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: name.into(),
            start_time: t0,
            end_time: t0 + Duration::from_micros(250 + n),
            attributes: vec![],
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: scope.clone(),
        }
    }

    /// Every shape of span the SDK can hand over, across two scopes.
    pub(crate) fn batch() -> (Resource, Vec<SpanData>) {
        let resource = Resource::builder_empty()
            .with_schema_url([KeyValue::new("service.name", "wasp"), KeyValue::new("wasp.version", "0.1.1")], "https://opentelemetry.io/schemas/1.30.0")
            .build();
        let wasp = InstrumentationScope::builder("wasp").with_version("0.1.1").build();
        let other =
            InstrumentationScope::builder("plugin").with_schema_url("https://example.test/s").with_attributes([KeyValue::new("lang", "python")]).build();

        let mut client = span(&wasp, "GET /cart", 1);
        client.span_kind = SpanKind::Client;
        client.parent_span_id = SpanId::from(0x1111);
        client.attributes = vec![
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("url.full", "http://127.0.0.1:8080/cart?x=%20é"),
            KeyValue::new("server.port", 8080i64),
            KeyValue::new("wasp.user.id", -7i64),
            KeyValue::new("zero", 0i64),
            KeyValue::new("no", false),
            KeyValue::new("yes", true),
            KeyValue::new("ratio", 0.25f64),
            KeyValue::new("nought", 0.0f64),
            KeyValue::new("empty", ""),
            KeyValue::new("", "a key left empty"),
            KeyValue::new("bools", Value::Array(Array::Bool(vec![true, false]))),
            KeyValue::new("ints", Value::Array(Array::I64(vec![0, -1, i64::MAX]))),
            KeyValue::new("floats", Value::Array(Array::F64(vec![1.5, 0.0]))),
            KeyValue::new("strings", Value::Array(Array::String(vec!["a".into(), "".into(), "ü".repeat(100).into()]))),
            KeyValue::new("none", Value::Array(Array::String(vec![]))),
        ];
        client.dropped_attributes_count = 3;
        client.status = Status::error("HTTP 503");

        let mut remote = span(&other, "task", 2);
        remote.parent_span_id = SpanId::from(0x2222);
        remote.parent_span_is_remote = true;
        remote.span_context = cx(5, 6, false, false, TraceState::from_key_value([("vendor", "v1"), ("wasp", "x")]).unwrap());
        remote.status = Status::Ok;
        remote.events.events.push(Event::new("exception", UNIX_EPOCH + Duration::from_secs(9), vec![KeyValue::new("exception.message", "boom")], 1));
        remote.events.events.push(Event::new("", UNIX_EPOCH, vec![], 0));
        remote.events.dropped_count = 4;
        remote.links.links.push(Link::new(cx(7, 8, true, true, TraceState::default()), vec![KeyValue::new("why", "follows")], 2));
        remote.links.links.push(Link::new(cx(9, 10, false, false, TraceState::from_key_value([("k", "v")]).unwrap()), vec![], 0));
        remote.links.dropped_count = 5;

        let mut unnamed = span(&wasp, "", 3);
        unnamed.span_kind = SpanKind::Server;
        unnamed.start_time = UNIX_EPOCH;
        let mut producer = span(&other, "send", 4);
        producer.span_kind = SpanKind::Producer;
        let mut consumer = span(&wasp, "receive", 5);
        consumer.span_kind = SpanKind::Consumer;
        (resource, vec![client, remote, unnamed, producer, consumer, span(&wasp, "last", 6)])
    }

    fn ours(resource: &Resource, spans: &[SpanData]) -> ExportTraceServiceRequest {
        let mut out = vec![0xff; 3];
        assert_eq!(encode_request(&EncodedResource::new(resource), spans, MAX_REQUEST_BYTES, &mut out), spans.len());
        ExportTraceServiceRequest::decode(out.as_slice()).expect("our bytes decode as an OTLP request")
    }

    pub(crate) fn sdk(resource: &Resource, spans: Vec<SpanData>) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest { resource_spans: group_spans_by_resource_and_scope(spans, &ResourceAttributesWithSchema::from(resource)) }
    }

    #[test]
    fn decodes_to_what_the_sdks_conversion_makes() {
        let (resource, spans) = batch();
        let got = ours(&resource, &spans);
        let want = sdk(&resource, spans);
        assert_eq!(got, want);
        // And the groups are as expected: two scopes, in first-seen order.
        let scopes = &got.resource_spans[0].scope_spans;
        assert_eq!(scopes.iter().map(|s| (s.scope.as_ref().unwrap().name.as_str(), s.spans.len())).collect::<Vec<_>>(), [("wasp", 4), ("plugin", 2)]);
    }

    #[test]
    fn bytes_equal_proto_encoding_of_the_sdks_messages() {
        // Field order matches the generated messages, so even the bytes agree.
        let (resource, spans) = batch();
        let mut out = Vec::new();
        encode_request(&EncodedResource::new(&resource), &spans, MAX_REQUEST_BYTES, &mut out);
        assert_eq!(out, sdk(&resource, spans).encode_to_vec());
    }

    #[test]
    fn an_empty_batch_and_an_empty_resource() {
        let resource = Resource::builder_empty().build();
        assert_eq!(ours(&resource, &[]), sdk(&resource, vec![]));
        let wasp = InstrumentationScope::builder("wasp").build();
        let one = vec![span(&wasp, "x", 0)];
        assert_eq!(ours(&resource, &one), sdk(&resource, one));
    }

    #[test]
    fn a_batch_past_the_request_limit_goes_out_in_several_requests() {
        let (resource, spans) = batch();
        let encoded = EncodedResource::new(&resource);
        let mut parts = Vec::new();
        let mut rest = &spans[..];
        while !rest.is_empty() {
            let mut out = Vec::new();
            // Room for about two small spans; the large first one goes alone.
            let n = encode_request(&encoded, rest, 260, &mut out);
            assert!(n >= 1);
            parts.push((n, ExportTraceServiceRequest::decode(out.as_slice()).unwrap()));
            rest = &rest[n..];
        }
        let sizes: Vec<usize> = parts.iter().map(|(n, _)| *n).collect();
        assert_eq!(sizes.iter().sum::<usize>(), spans.len());
        assert!(sizes.len() >= 3 && sizes[0] == 1, "{sizes:?}");
        // Each part is what the SDK makes of those spans.
        let mut at = 0;
        for (n, got) in parts {
            assert_eq!(got, sdk(&resource, spans[at..at + n].to_vec()));
            at += n;
        }
    }
}
