//! The trace-context headers every request carries, written without the
//! SDK's generic injector on the request path: `traceparent` straight into a
//! fixed buffer, `baggage` encoded by the SDK's own propagator once per change
//! of a user's entries (the caller keeps it). The tests hold both to the
//! SDK's output.

use crate::env::env;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanContext, TraceFlags};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::propagation::BaggagePropagator;
use std::collections::HashMap;

/// Which headers requests carry: `OTEL_PROPAGATORS` (default `tracecontext,baggage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Propagators {
    /// `traceparent` (and `tracestate` when the context has one).
    pub trace_context: bool,
    pub baggage: bool,
}

impl Default for Propagators {
    fn default() -> Self {
        Propagators { trace_context: true, baggage: true }
    }
}

impl Propagators {
    /// From `OTEL_PROPAGATORS`; unknown names are warned about and ignored.
    pub fn from_env() -> Propagators {
        match env("OTEL_PROPAGATORS") {
            Some(list) => Propagators::parse(&list),
            None => Propagators::default(),
        }
    }

    pub fn parse(list: &str) -> Propagators {
        let mut p = Propagators { trace_context: false, baggage: false };
        for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match name {
                "tracecontext" => p.trace_context = true,
                "baggage" => p.baggage = true,
                "none" => p = Propagators { trace_context: false, baggage: false },
                other => tracing::warn!("OTEL_PROPAGATORS: '{other}' is not supported (tracecontext, baggage, none); ignored"),
            }
        }
        p
    }
}

/// Length of a version-00 `traceparent`.
pub const TRACEPARENT_LEN: usize = 55;

/// `traceparent` for `sc` (`00-<trace id>-<span id>-<flags>`), none for an invalid context.
pub fn traceparent(sc: &SpanContext) -> Option<[u8; TRACEPARENT_LEN]> {
    if !sc.is_valid() {
        return None;
    }
    fn hex(out: &mut [u8], bytes: &[u8]) {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        for (i, b) in bytes.iter().enumerate() {
            out[2 * i] = DIGITS[(b >> 4) as usize];
            out[2 * i + 1] = DIGITS[(b & 15) as usize];
        }
    }
    let mut out = [b'-'; TRACEPARENT_LEN];
    out[..2].copy_from_slice(b"00");
    hex(&mut out[3..35], &sc.trace_id().to_bytes());
    hex(&mut out[36..52], &sc.span_id().to_bytes());
    hex(&mut out[53..55], &[(sc.trace_flags() & TraceFlags::SAMPLED).to_u8()]);
    Some(out)
}

/// The `baggage` header for these entries as the SDK's propagator writes it
/// (percent-encoded, its limits applied); none when nothing is left to send.
pub fn baggage_header(entries: &[(String, String)]) -> Option<String> {
    if entries.is_empty() {
        return None;
    }
    let cx = Context::new().with_baggage(entries.iter().map(|(k, v)| KeyValue::new(k.clone(), v.clone())));
    let mut out = HashMap::new();
    BaggagePropagator::new().inject_context(&cx, &mut out);
    out.remove("baggage").filter(|h| !h.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanId, TraceContextExt, TraceId, TraceState};
    use opentelemetry_sdk::propagation::TraceContextPropagator;

    fn sdk(cx: &Context) -> HashMap<String, String> {
        let mut out = HashMap::new();
        TraceContextPropagator::new().inject_context(cx, &mut out);
        BaggagePropagator::new().inject_context(cx, &mut out);
        out
    }

    #[test]
    fn traceparent_is_what_the_sdk_writes() {
        for (t, s, f) in [(1u128, 1u64, 1u8), (u128::MAX, u64::MAX, 0), (0x0af7651916cd43dd8448eb211c80319c, 0xb7ad6b7169203331, 1), (7, 9, 3)] {
            let sc = SpanContext::new(TraceId::from(t), SpanId::from(s), TraceFlags::new(f), false, TraceState::default());
            let cx = Context::new().with_remote_span_context(sc.clone());
            let ours = traceparent(&sc).map(|b| String::from_utf8(b.to_vec()).unwrap());
            assert_eq!(ours.as_ref(), sdk(&cx).get("traceparent"), "{t:x} {s:x} {f}");
        }
        assert!(traceparent(&SpanContext::empty_context()).is_none());
    }

    #[test]
    fn baggage_is_what_the_sdk_writes() {
        let cases: Vec<Vec<(String, String)>> = vec![
            vec![("synthetic_request".into(), "true".into())],
            vec![("synthetic_request".into(), "true".into()), ("session.id".into(), "1b7e-4f2a".into())],
            vec![("k".into(), "a value, with; specials=%é".into())],
            vec![("bad key".into(), "v".into()), ("ok".into(), "v".into())],
        ];
        for entries in cases {
            let cx = Context::new().with_baggage(entries.iter().map(|(k, v)| KeyValue::new(k.clone(), v.clone())));
            let theirs = sdk(&cx).remove("baggage");
            let ours = baggage_header(&entries);
            // The SDK's order follows its map: compare the members as sets.
            let members = |h: Option<String>| {
                let mut m: Vec<String> = h.unwrap_or_default().split(',').map(String::from).collect();
                m.sort();
                m
            };
            assert_eq!(members(ours), members(theirs), "{entries:?}");
        }
        assert_eq!(baggage_header(&[]), None);
    }

    #[test]
    fn propagators_parse_as_the_environment_names_them() {
        assert_eq!(Propagators::parse("tracecontext,baggage"), Propagators::default());
        assert_eq!(Propagators::parse("baggage"), Propagators { trace_context: false, baggage: true });
        assert_eq!(Propagators::parse("tracecontext, b3"), Propagators { trace_context: true, baggage: false });
        assert_eq!(Propagators::parse("tracecontext,none"), Propagators { trace_context: false, baggage: false });
    }
}
