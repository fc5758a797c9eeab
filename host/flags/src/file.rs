//! A flagd flag file as an OpenFeature provider.

use crate::reason;
use async_trait::async_trait;
use flagd_evaluation_engine::{FeatureFlag, FlagParser, Operator};
use open_feature::provider::{FeatureProvider, ProviderMetadata, ResolutionDetails};
use open_feature::{EvaluationContext, EvaluationError, EvaluationErrorCode, EvaluationReason, EvaluationResult, StructValue};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

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
