//! Feature flags through OpenFeature. The provider is the OFREP one (flagd's
//! remote evaluation protocol) when a flag service is named, or a flagd flag
//! file evaluated by flagd's own engine (targeting included); with neither,
//! every flag is its default. A failing or slow service gives the default and
//! one warning per flag, never an error. Each evaluation is a
//! `feature_flag.evaluate` span, as OpenFeature's OpenTelemetry hook makes.

mod file;

pub use file::FileProvider;
use open_feature::{EvaluationContext, EvaluationDetails, EvaluationReason, EvaluationResult};
use opentelemetry::trace::{Span as _, SpanKind, Status, Tracer as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::SdkTracer;
use opentelemetry_semantic_conventions::attribute as semconv;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;
use wasp_runner::text::printable;

/// Where flags come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    None,
    /// An OFREP base URL, e.g. `http://flagd:8016`.
    Ofrep(String),
    /// A flagd flag file (JSON), re-read when it changes.
    File(PathBuf),
}

impl Source {
    /// `--flags-file`, else `--ofrep-url`, else the demo's `FLAGD_HOST` (+
    /// `FLAGD_OFREP_PORT`, default 8016), else none.
    pub fn choose(file: Option<PathBuf>, ofrep_url: Option<String>) -> Source {
        if let Some(f) = file {
            return Source::File(f);
        }
        if let Some(u) = ofrep_url.filter(|u| !u.trim().is_empty()) {
            return Source::Ofrep(u.trim().trim_end_matches('/').to_string());
        }
        match std::env::var("FLAGD_HOST").ok().filter(|h| !h.trim().is_empty()) {
            Some(host) => {
                let port = std::env::var("FLAGD_OFREP_PORT").ok().filter(|p| !p.trim().is_empty()).unwrap_or_else(|| "8016".into());
                Source::Ofrep(format!("http://{}:{}", host.trim(), port.trim()))
            }
            None => Source::None,
        }
    }
}

/// Flags warned about at most (after that, failures are silent: a plugin
/// asking for ever new keys must not grow the host's memory).
const MAX_WARNED: usize = 256;

/// Longest a flag evaluation may take before its default is used.
pub const EVALUATION_TIMEOUT: Duration = Duration::from_secs(2);

pub struct Flags {
    client: Option<open_feature::Client>,
    provider: String,
    tracer: Option<SdkTracer>,
    warned: Mutex<HashSet<String>>,
}

/// A flag value of one of the four types guests ask for.
pub trait FlagType: Sized + Clone + Send + Sync + std::fmt::Debug + 'static {
    fn details(
        client: &open_feature::Client,
        key: &str,
        ctx: &EvaluationContext,
    ) -> impl std::future::Future<Output = EvaluationResult<EvaluationDetails<Self>>> + Send;
    fn attribute(&self) -> opentelemetry::Value;
}

macro_rules! flag_type {
    ($t:ty, $method:ident, $conv:expr) => {
        impl FlagType for $t {
            async fn details(client: &open_feature::Client, key: &str, ctx: &EvaluationContext) -> EvaluationResult<EvaluationDetails<Self>> {
                client.$method(key, Some(ctx), None).await
            }
            fn attribute(&self) -> opentelemetry::Value {
                let conv: fn(&$t) -> opentelemetry::Value = $conv;
                conv(self)
            }
        }
    };
}
flag_type!(bool, get_bool_details, |v| (*v).into());
flag_type!(i64, get_int_details, |v| (*v).into());
flag_type!(f64, get_float_details, |v| (*v).into());
flag_type!(String, get_string_details, |v| v.clone().into());

impl Flags {
    /// No flag service: every flag is its default.
    pub fn none() -> Flags {
        Flags { client: None, provider: "none".into(), tracer: None, warned: Mutex::default() }
    }

    pub async fn new(source: &Source, tracer: Option<SdkTracer>) -> Result<Flags, String> {
        // OpenFeature's API is process-global: each Flags gets its own domain
        // (named provider and client), so two never share a provider.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let domain = format!("wasp-{}", NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        let provider = match source {
            Source::None => return Ok(Flags { tracer, ..Flags::none() }),
            Source::Ofrep(url) => {
                let p = open_feature_ofrep::OfrepProvider::new(open_feature_ofrep::OfrepOptions {
                    base_url: url.clone(),
                    connect_timeout: Duration::from_secs(1),
                    ..Default::default()
                })
                .await
                .map_err(|e| format!("flag service {url}: {e}"))?;
                open_feature::OpenFeature::singleton_mut().await.set_named_provider(&domain, p).await;
                format!("ofrep {url}")
            }
            Source::File(path) => {
                let p = FileProvider::open(path.clone())?;
                open_feature::OpenFeature::singleton_mut().await.set_named_provider(&domain, p).await;
                format!("flagd file {}", path.display())
            }
        };
        let client = open_feature::OpenFeature::singleton().await.create_named_client(&domain);
        tracing::info!("feature flags from {provider}");
        Ok(Flags { client: Some(client), provider, tracer, warned: Mutex::default() })
    }

    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// Evaluates `key`; the default on any failure. `parent` is the span the
    /// evaluation's span goes under (none: a root span).
    pub async fn get<T: FlagType>(&self, key: &str, default: T, ctx: &EvaluationContext, parent: &Context) -> T {
        let Some(client) = &self.client else {
            return default;
        };
        let mut span = self.tracer.as_ref().map(|t| {
            t.span_builder("feature_flag.evaluate")
                .with_kind(SpanKind::Internal)
                .with_attributes([
                    KeyValue::new(semconv::FEATURE_FLAG_KEY, key.to_string()),
                    KeyValue::new(semconv::FEATURE_FLAG_PROVIDER_NAME, self.provider.clone()),
                ])
                .start_with_context(t, parent)
        });
        let result = match tokio::time::timeout(EVALUATION_TIMEOUT, T::details(client, key, ctx)).await {
            Ok(r) => r.map_err(|e| format!("{:?}{}", e.code, e.message.map(|m| format!(": {m}")).unwrap_or_default())),
            Err(_) => Err(format!("no answer in {EVALUATION_TIMEOUT:?}")),
        };
        let value = match result {
            Ok(d) => {
                if let Some(s) = span.as_mut() {
                    s.set_attribute(KeyValue::new(semconv::FEATURE_FLAG_RESULT_VALUE, d.value.attribute()));
                    if let Some(v) = &d.variant {
                        s.set_attribute(KeyValue::new(semconv::FEATURE_FLAG_RESULT_VARIANT, v.clone()));
                    }
                    if let Some(r) = &d.reason {
                        s.set_attribute(KeyValue::new(semconv::FEATURE_FLAG_RESULT_REASON, reason(r)));
                    }
                }
                d.value
            }
            Err(msg) => {
                // One warning per flag; the keys are a plugin's, so they are
                // printed escaped and remembered up to a bound.
                let mut warned = self.warned.lock().unwrap_or_else(|e| e.into_inner());
                if warned.len() < MAX_WARNED && warned.insert(key.to_string()) {
                    let shown = printable(key, 128);
                    tracing::warn!("flag {shown} ({}): {}; using the default {}", self.provider, printable(&msg, 512), printable(&format!("{default:?}"), 128));
                }
                drop(warned);
                if let Some(s) = span.as_mut() {
                    s.set_attribute(KeyValue::new(semconv::ERROR_TYPE, "flag_evaluation_error"));
                    s.set_attribute(KeyValue::new(semconv::FEATURE_FLAG_ERROR_MESSAGE, msg.clone()));
                    s.set_status(Status::error(msg));
                }
                default
            }
        };
        if let Some(mut s) = span {
            s.end();
        }
        value
    }
}

pub(crate) fn reason(r: &EvaluationReason) -> String {
    match r {
        EvaluationReason::Static => "static".into(),
        EvaluationReason::Default => "default".into(),
        EvaluationReason::TargetingMatch => "targeting_match".into(),
        EvaluationReason::Split => "split".into(),
        EvaluationReason::Cached => "cached".into(),
        EvaluationReason::Disabled => "disabled".into(),
        EvaluationReason::Unknown => "unknown".into(),
        EvaluationReason::Error => "error".into(),
        EvaluationReason::Other(s) => s.to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flag service that is not there: defaults, no error.
    #[tokio::test]
    async fn a_missing_service_gives_defaults() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let flags = Flags::new(&Source::Ofrep(format!("http://127.0.0.1:{port}")), None).await.unwrap();
        let ctx = EvaluationContext::default();
        assert_eq!(flags.get("loadGeneratorFloodHomepage", 0i64, &ctx, &Context::new()).await, 0);
        assert!(flags.get("x", true, &ctx, &Context::new()).await);
    }
}
