//! Feature flags through OpenFeature. The provider is the OFREP one (flagd's
//! remote evaluation protocol) when a flag service is named, or a flagd flag
//! file evaluated by flagd's own engine (targeting included); with neither,
//! every flag is its default. A failing or slow service gives the default and
//! one warning per flag, never an error. Each evaluation is a
//! `feature_flag.evaluate` span, as OpenFeature's OpenTelemetry hook makes.

use async_trait::async_trait;
use flagd_evaluation_engine::{FeatureFlag, FlagParser, Operator};
use open_feature::provider::{FeatureProvider, ProviderMetadata, ResolutionDetails};
use open_feature::{EvaluationContext, EvaluationDetails, EvaluationError, EvaluationErrorCode, EvaluationReason, EvaluationResult, StructValue};
use opentelemetry::trace::{Span as _, SpanKind, Status, Tracer as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::SdkTracer;
use opentelemetry_semantic_conventions::attribute as semconv;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

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
    fn details(client: &open_feature::Client, key: &str, ctx: &EvaluationContext) -> impl std::future::Future<Output = EvaluationResult<EvaluationDetails<Self>>> + Send;
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
                if self.warned.lock().unwrap_or_else(|e| e.into_inner()).insert(key.to_string()) {
                    tracing::warn!("flag {key} ({}): {msg}; using the default {default:?}", self.provider);
                }
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

fn reason(r: &EvaluationReason) -> String {
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

/// A flagd flag file as an OpenFeature provider: parsed by flagd's engine,
/// targeting evaluated by its JSONLogic operator, re-read when the file's
/// modification time changes (a bad new version keeps the last good one).
pub struct FileProvider {
    /// None: flags given as text, never re-read.
    path: Option<PathBuf>,
    metadata: ProviderMetadata,
    operator: Operator,
    state: Mutex<(Option<SystemTime>, Arc<HashMap<String, FeatureFlag>>)>,
}

fn err(code: EvaluationErrorCode, message: impl Into<String>) -> EvaluationError {
    EvaluationError { code, message: Some(message.into()) }
}

impl FileProvider {
    /// Opens and parses the file now, so a bad file is a usage error at start.
    pub fn open(path: PathBuf) -> Result<FileProvider, String> {
        let (mtime, flags) = Self::load(&path)?;
        Ok(FileProvider {
            path: Some(path),
            metadata: ProviderMetadata::new("flagd-file"),
            operator: Operator::new(),
            state: Mutex::new((mtime, Arc::new(flags))),
        })
    }

    /// Flags from the text of a flag file (e.g. one embedded in the binary).
    pub fn from_text(text: &str) -> Result<FileProvider, String> {
        let parsed = FlagParser::parse_string(text).map_err(|e| format!("not a flagd flag file: {e}"))?;
        Ok(FileProvider {
            path: None,
            metadata: ProviderMetadata::new("flagd-file"),
            operator: Operator::new(),
            state: Mutex::new((None, Arc::new(parsed.flags))),
        })
    }

    /// Evaluates `key` for an OFREP request's JSON context: the value, the
    /// variant and the reason (OFREP spelling), or an OFREP error code and details.
    pub fn evaluate_json(&self, key: &str, context: &serde_json::Value) -> Result<(serde_json::Value, String, String), (String, String)> {
        let mut ctx = EvaluationContext::default();
        if let Some(fields) = context.as_object() {
            for (k, v) in fields {
                match (k.as_str(), v) {
                    ("targetingKey", serde_json::Value::String(t)) => ctx = ctx.with_targeting_key(t.clone()),
                    (_, serde_json::Value::String(s)) => ctx = ctx.with_custom_field(k.clone(), s.clone()),
                    (_, serde_json::Value::Bool(b)) => ctx = ctx.with_custom_field(k.clone(), *b),
                    (_, serde_json::Value::Number(n)) => match n.as_i64() {
                        Some(i) => ctx = ctx.with_custom_field(k.clone(), i),
                        None => ctx = ctx.with_custom_field(k.clone(), n.as_f64().unwrap_or(0.0)),
                    },
                    _ => {}
                }
            }
        }
        match self.resolve(key, &ctx) {
            Ok((value, variant, r)) => Ok((value, variant, reason(&r).to_uppercase())),
            Err(e) => {
                let code = match e.code {
                    EvaluationErrorCode::FlagNotFound => "FLAG_NOT_FOUND",
                    EvaluationErrorCode::ParseError => "PARSE_ERROR",
                    EvaluationErrorCode::TypeMismatch => "TYPE_MISMATCH",
                    _ => "GENERAL",
                };
                Err((code.to_string(), e.message.unwrap_or_default()))
            }
        }
    }

    fn load(path: &std::path::Path) -> Result<(Option<SystemTime>, HashMap<String, FeatureFlag>), String> {
        let shown = path.display();
        let mtime = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read flag file {shown}: {e}"))?;
        let parsed = FlagParser::parse_string(&text).map_err(|e| format!("{shown} is not a flagd flag file: {e}"))?;
        Ok((mtime, parsed.flags))
    }

    fn flags(&self) -> Arc<HashMap<String, FeatureFlag>> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let Some(path) = &self.path else {
            return st.1.clone();
        };
        let now = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        if now != st.0 {
            match Self::load(path) {
                Ok((mtime, flags)) => *st = (mtime, Arc::new(flags)),
                Err(e) => {
                    tracing::warn!("{e}; keeping the flags read before");
                    st.0 = now;
                }
            }
        }
        st.1.clone()
    }

    /// The variant's value, its name and why it was chosen.
    fn resolve(&self, key: &str, ctx: &EvaluationContext) -> EvaluationResult<(serde_json::Value, String, EvaluationReason)> {
        let flags = self.flags();
        let flag = flags.get(key).ok_or_else(|| err(EvaluationErrorCode::FlagNotFound, format!("no flag {key}")))?;
        if flag.state.eq_ignore_ascii_case("DISABLED") {
            return Err(err(EvaluationErrorCode::FlagNotFound, format!("flag {key} is disabled")));
        }
        let targeting = flag.targeting.as_ref().filter(|t| !t.as_object().is_some_and(|o| o.is_empty()));
        let (variant, reason) = match targeting {
            None => (flag.default_variant.clone(), EvaluationReason::Static),
            Some(_) => match self.operator.apply(key, &flag.get_targeting(), ctx) {
                Ok(Some(v)) => (v, EvaluationReason::TargetingMatch),
                Ok(None) => (flag.default_variant.clone(), EvaluationReason::Default),
                Err(e) => return Err(err(EvaluationErrorCode::ParseError, format!("targeting of {key}: {e}"))),
            },
        };
        let value = flag
            .variants
            .get(&variant)
            .cloned()
            .ok_or_else(|| err(EvaluationErrorCode::General("no such variant".into()), format!("flag {key} has no variant {variant}")))?;
        Ok((value, variant, reason))
    }

    fn typed<T>(&self, key: &str, ctx: &EvaluationContext, conv: impl Fn(&serde_json::Value) -> Option<T>) -> EvaluationResult<ResolutionDetails<T>> {
        let (value, variant, reason) = self.resolve(key, ctx)?;
        let v = conv(&value).ok_or_else(|| err(EvaluationErrorCode::TypeMismatch, format!("flag {key} is {value}")))?;
        Ok(ResolutionDetails { value: v, variant: Some(variant), reason: Some(reason), flag_metadata: None })
    }
}

#[async_trait]
impl FeatureProvider for FileProvider {
    fn metadata(&self) -> &ProviderMetadata {
        &self.metadata
    }

    async fn resolve_bool_value(&self, key: &str, ctx: &EvaluationContext) -> EvaluationResult<ResolutionDetails<bool>> {
        self.typed(key, ctx, |v| v.as_bool())
    }

    async fn resolve_int_value(&self, key: &str, ctx: &EvaluationContext) -> EvaluationResult<ResolutionDetails<i64>> {
        self.typed(key, ctx, |v| v.as_i64().or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)))
    }

    async fn resolve_float_value(&self, key: &str, ctx: &EvaluationContext) -> EvaluationResult<ResolutionDetails<f64>> {
        self.typed(key, ctx, |v| v.as_f64())
    }

    async fn resolve_string_value(&self, key: &str, ctx: &EvaluationContext) -> EvaluationResult<ResolutionDetails<String>> {
        self.typed(key, ctx, |v| v.as_str().map(str::to_string))
    }

    async fn resolve_struct_value(&self, key: &str, _ctx: &EvaluationContext) -> EvaluationResult<ResolutionDetails<StructValue>> {
        Err(err(EvaluationErrorCode::TypeMismatch, format!("flag {key}: object flags are not supported")))
    }
}
