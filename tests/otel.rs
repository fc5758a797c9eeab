//! End-to-end tests of the OpenTelemetry side: the real binary, a local
//! target that records request headers, and a real OTLP receiver.

mod common;

use common::otlp::{histogram_count, receiver, Received};
use common::*;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// (trace id, parent id) from a `traceparent` header.
fn traceparent(h: &axum::http::HeaderMap) -> Option<(String, String)> {
    let v = h.get("traceparent")?.to_str().ok()?;
    let parts: Vec<&str> = v.split('-').collect();
    (parts.len() == 4 && parts[0] == "00").then(|| (parts[1].to_string(), parts[2].to_string()))
}

fn baggage(h: &axum::http::HeaderMap) -> HashMap<String, String> {
    h.get_all("baggage")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|kv| kv.trim().split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.split(';').next().unwrap_or("").trim().to_string()))
        .collect()
}

const OTEL_ARGS: &[&str] = &["-T", "otel", "-u", "4", "-r", "100", "-t", "2s", "--wait", "20ms", "--stop-timeout", "5s"];

/// Every request the target saw carries a traceparent naming an exported CLIENT
/// span whose parent chain leads, in the same trace, to the task's span.
fn check_traces(t: &Target, got: &Received) {
    let spans: HashMap<(String, String), &opentelemetry_proto::tonic::trace::v1::Span> =
        got.spans.iter().map(|(_, s)| ((hex(&s.trace_id), hex(&s.span_id)), s)).collect();
    let seen = t.seen.lock().unwrap();
    let clients = got.spans.iter().filter(|(_, s)| s.kind == SpanKind::Client as i32).count() as u64;
    assert_eq!(clients, seen.total, "one CLIENT span per request served");
    for (path, h) in &seen.headers {
        let (trace, id) = traceparent(h).unwrap_or_else(|| panic!("{path}: no traceparent"));
        let client = spans.get(&(trace.clone(), id.clone())).unwrap_or_else(|| panic!("{path}: span {id} not exported"));
        assert_eq!(client.kind, SpanKind::Client as i32);
        let parent = spans.get(&(trace.clone(), hex(&client.parent_span_id))).expect("the parent span is exported, in the same trace");
        assert_eq!(parent.kind, SpanKind::Internal as i32);
        match path.as_str() {
            "/start" => assert_eq!(parent.name, "on_start"),
            "/hello" => assert_eq!(parent.name, "user_traced", "renamed task span"),
            "/landing" => {
                assert_eq!(parent.name, "inner");
                let task = spans.get(&(trace.clone(), hex(&parent.parent_span_id))).expect("inner's parent");
                assert_eq!(task.name, "user_traced");
                assert!(task.parent_span_id.is_empty(), "the task span is the trace's root");
            }
            other => panic!("unexpected request {other}"),
        }
        let attrs = common::otlp::text(&client.attributes);
        assert_eq!(attrs["http.request.method"], "GET");
        assert_eq!(attrs["http.response.status_code"], "200");
        assert_eq!(attrs["server.address"], "127.0.0.1");
        assert_eq!(attrs["server.port"], t.addr.port().to_string());
        assert!(attrs["url.full"].starts_with(&format!("{}{path}", t.url())));
        assert_eq!(attrs["network.protocol.version"], "1.1");
        assert!(attrs["user_agent.original"].starts_with("wasp/"));
        assert!(attrs.contains_key("wasp.user.id") && attrs.contains_key("wasp.request.name"));
    }
    let task = got.spans.iter().find(|(_, s)| s.name == "user_traced").expect("task spans exported").1.clone();
    assert_eq!(common::otlp::text(&task.attributes)["item.count"], "2");
}

/// Every request carries synthetic_request=true and one session.id per user.
fn check_baggage(t: &Target) {
    let seen = t.seen.lock().unwrap();
    let mut sessions: HashMap<String, HashSet<String>> = HashMap::new();
    for (path, h) in &seen.headers {
        let b = baggage(h);
        assert_eq!(b.get("synthetic_request").map(String::as_str), Some("true"), "{path}: {b:?}");
        let session = b.get("session.id").expect("session.id set by the guest");
        if path != "/start" {
            let tenant = b.get("tenant").expect("tenant set by the guest in its task");
            sessions.entry(tenant.clone()).or_default().insert(session.clone());
        }
    }
    assert_eq!(sessions.len(), 4, "four users");
    assert!(sessions.values().all(|s| s.len() == 1), "one session.id per user: {sessions:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_export_links_requests_spans_logs_and_metrics() {
    let t = target().await;
    let rx = receiver(false).await;
    let endpoint = rx.grpc_url();
    let r = run_env(
        &plugin("chaos"),
        &[&["-H", &t.url()], OTEL_ARGS].concat(),
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_SERVICE_NAME", "wasp-under-test"),
            ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=ci,team=load"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "500"),
            ("OTEL_BSP_SCHEDULE_DELAY", "200"),
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("AfterShutdown"), "the SDK complained of a log after its shutdown: {}", r.stderr);
    let got = rx.store.lock().unwrap();
    assert!(got.requests.get("grpc").copied().unwrap_or(0) > 0);
    check_traces(&t, &got);
    check_baggage(&t);

    // Resource: the service name and OTEL_RESOURCE_ATTRIBUTES.
    let (res, _) = &got.spans[0];
    assert_eq!(res["service.name"], "wasp-under-test");
    assert_eq!(res["deployment.environment"], "ci");
    assert_eq!(res["team"], "load");

    // Logs: each carries a trace id and span id of an exported span, and the user.
    let span_ids: HashSet<(String, String)> = got.spans.iter().map(|(_, s)| (hex(&s.trace_id), hex(&s.span_id))).collect();
    let guest_logs: Vec<_> = got.logs.iter().filter(|(_, l)| format!("{:?}", l.body).contains("traced task")).collect();
    let (runs, _) = task_runs(&r.json, "traced");
    assert_eq!(guest_logs.len() as u64, runs, "one log record per task run");
    for (_, l) in &guest_logs {
        assert!(span_ids.contains(&(hex(&l.trace_id), hex(&l.span_id))), "log tied to an exported span");
        assert!(common::otlp::text(&l.attributes).contains_key("user"));
    }

    // The duration histogram counted every request.
    assert_eq!(histogram_count(&got.metrics, "http.client.request.duration"), t.total());
    assert_eq!(r.json["telemetry"]["spans_dropped"], 0);
    assert_eq!(r.json["telemetry"]["logs_dropped"], 0);

    // The process's own metrics, by their semantic-convention names (the demo's generator exports them).
    let values = |name: &str| common::otlp::values(&got.metrics, name);
    let cpu = values("process.cpu.time");
    let mode = |m: &str| cpu.iter().find(|(k, _)| k.contains(&format!("\"{m}\""))).map(|(_, v)| *v);
    assert!(mode("user").is_some_and(|s| s > 0.0) && mode("system").is_some(), "CPU time by mode: {cpu:?}");
    let rss = values("process.memory.usage").values().copied().fold(0.0, f64::max);
    let virt = values("process.memory.virtual").values().copied().fold(0.0, f64::max);
    assert!(rss > 4e6 && virt > rss, "resident {rss} B, virtual {virt} B");
    assert!(values("process.thread.count").values().any(|n| *n >= 2.0));
    assert!(values("process.open_file_descriptor.count").values().any(|n| *n >= 3.0));
    assert!(!values("process.cpu.utilization").is_empty(), "utilisation after the second collection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_protobuf_export_works_too() {
    let t = target().await;
    let rx = receiver(false).await;
    let endpoint = rx.http_url();
    let r = run_env(
        &plugin("chaos"),
        &[&["-H", &t.url()], OTEL_ARGS].concat(),
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint), ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"), ("OTEL_METRIC_EXPORT_INTERVAL", "500")],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("AfterShutdown"), "the SDK complained of a log after its shutdown: {}", r.stderr);
    let got = rx.store.lock().unwrap();
    assert!(got.requests.get("http").copied().unwrap_or(0) > 0, "{:?}", got.requests);
    assert_eq!(got.requests.get("grpc"), None);
    check_traces(&t, &got);
    assert_eq!(got.spans[0].0["service.name"], "wasp", "default service name");
    assert_eq!(histogram_count(&got.metrics, "http.client.request.duration"), t.total());
    assert!(!got.logs.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_exporter_none_exports_nothing_and_still_propagates() {
    let t = target().await;
    let rx = receiver(false).await;
    let endpoint = rx.grpc_url();
    let r = run_env(
        &plugin("chaos"),
        &[&["-H", &t.url()], OTEL_ARGS].concat(),
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint), ("OTEL_TRACES_EXPORTER", "none"), ("OTEL_METRICS_EXPORTER", "none"), ("OTEL_LOGS_EXPORTER", "none")],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let got = rx.store.lock().unwrap();
    assert!(got.spans.is_empty() && got.logs.is_empty() && got.metrics.is_empty());
    let seen = t.seen.lock().unwrap();
    assert!(seen.total > 20);
    let traces: HashSet<String> = seen.headers.iter().map(|(_, h)| traceparent(h).expect("traceparent still sent").0).collect();
    assert!(traces.len() > 10, "a trace per task");
    drop(seen);
    check_baggage(&t);
}

/// `traceidratio`: a trace is kept whole or not at all, about the ratio of
/// them are, and every request still carries its trace context, with the
/// sampled flag saying which.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sampler_decides_before_any_span_is_made() {
    let t = target().await;
    let rx = receiver(false).await;
    let endpoint = rx.grpc_url();
    let r = run_env(
        &plugin("chaos"),
        &["-H", &t.url(), "-T", "otel", "-u", "4", "-r", "100", "-t", "3s", "--wait", "5ms", "--stop-timeout", "5s"],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_LOGS_EXPORTER", "none"),
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let got = rx.store.lock().unwrap();
    let exported: HashSet<String> = got.spans.iter().map(|(_, s)| hex(&s.trace_id)).collect();
    let seen = t.seen.lock().unwrap();
    let mut sampled = HashSet::new();
    let mut unsampled = HashSet::new();
    for (_, h) in &seen.headers {
        let v = h.get("traceparent").expect("every request carries trace context").to_str().unwrap();
        let parts: Vec<&str> = v.split('-').collect();
        match parts[3] {
            "01" => sampled.insert(parts[1].to_string()),
            "00" => unsampled.insert(parts[1].to_string()),
            f => panic!("flags {f}"),
        };
    }
    let traces = sampled.len() + unsampled.len();
    assert!(traces > 200, "{traces} traces");
    // Exported: every sampled trace (some exported traces, of tasks that
    // sent nothing, have no request) and no unsampled one.
    assert!(sampled.is_subset(&exported), "{} of {} sampled traces exported", sampled.intersection(&exported).count(), sampled.len());
    assert_eq!(exported.intersection(&unsampled).count(), 0, "no span of an unsampled trace is exported");
    assert!(sampled.is_disjoint(&unsampled), "a trace is sampled whole");
    let share = sampled.len() as f64 / traces as f64;
    assert!((0.15..0.35).contains(&share), "{share} of {traces} traces kept at a ratio of 0.25");
    drop(seen);
    check_baggage(&t);
}

/// Requests made with the given OTEL settings, in a run whose rate is set by pacing.
async fn paced_run(t: &Target, envs: &[(&str, &str)]) -> (Finished, Duration) {
    let t0 = Instant::now();
    let r = run_env(
        &plugin("chaos"),
        &["-H", &t.url(), "-T", "hello", "-u", "5", "-r", "1000", "-t", "3s", "--wait", "pacing:20ms", "--telemetry-timeout", "1s"],
        envs,
    )
    .await;
    (r, t0.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_stalled_collector_never_slows_the_load() {
    let t = target().await;
    let (base, _) = paced_run(&t, &[("OTEL_SDK_DISABLED", "true")]).await;
    assert_eq!(base.code, 0, "{}", base.stderr);
    let base_n = base.json["total"]["count"].as_f64().unwrap();
    assert!(base_n > 500.0, "{base_n}");

    // No receiver at all: a loopback port nothing listens on.
    let closed = format!("http://127.0.0.1:{}", t.refused_port);
    let stalled = receiver(true).await;
    let stalled_url = stalled.grpc_url();
    for (what, endpoint) in [("missing", closed.as_str()), ("stalled", stalled_url.as_str())] {
        let (r, took) =
            paced_run(&t, &[("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint), ("OTEL_BSP_MAX_QUEUE_SIZE", "64"), ("OTEL_EXPORTER_OTLP_TIMEOUT", "500")]).await;
        assert_eq!(r.code, 0, "{what}: {}", r.stderr);
        let n = r.json["total"]["count"].as_f64().unwrap();
        assert!((n - base_n).abs() <= base_n * 0.05, "{what}: {n} requests, {base_n} without telemetry");
        let dropped = r.json["telemetry"]["spans_dropped"].as_u64().unwrap();
        assert!(dropped > 0, "{what}: the summary reports the drops");
        assert!(r.stdout.contains("dropped"), "{what}");
        // 3 s of load, a 1 s flush limit, start-up: never held up for the exporter's retries.
        assert!(took < Duration::from_secs(8), "{what}: took {took:?}");
    }
}

/// Span exports carry up to 2,048 spans each (wasp's default; the SDK's is
/// 512), unless `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` says otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn span_exports_are_as_large_as_wasps_default_or_the_environment_says() {
    for (batch, limit) in [(None, 2048), (Some("100"), 100)] {
        let t = target().await;
        let rx = receiver(false).await;
        let endpoint = rx.grpc_url();
        let mut envs = vec![("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()), ("OTEL_METRICS_EXPORTER", "none"), ("OTEL_LOGS_EXPORTER", "none")];
        if let Some(b) = batch {
            envs.push(("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", b));
        }
        let r = run_env(&plugin("chaos"), &["-H", &t.url(), "-T", "hello", "-u", "8", "-r", "1000", "-t", "2s", "--wait", "1ms"], &envs).await;
        assert_eq!(r.code, 0, "{}", r.stderr);
        let exported = r.json["telemetry"]["spans_exported"].as_u64().unwrap();
        let got = rx.store.lock().unwrap();
        let largest = got.span_batches.iter().copied().max().unwrap_or(0);
        assert_eq!(got.span_batches.iter().sum::<usize>() as u64, exported);
        assert!(exported > limit as u64, "enough spans to fill a batch: {exported}");
        assert_eq!(largest, limit, "exports fill up to the limit: {:?}", got.span_batches);
        drop(got);
        t.stop().await;
    }
}
