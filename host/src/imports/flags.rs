//! `wasp:plugin/flags`: feature flags for guests, from the run's [`Flags`]
//! (crate::flags). The evaluation context's targeting key is the user id; the
//! time spent waiting on the flag service is host time, not guest time.

use super::UserCtx;
use crate::bindings::wasp::plugin::flags::Host;
use crate::flags::FlagType;
use open_feature::EvaluationContext;
use std::time::Instant;

impl UserCtx {
    async fn flag<T: FlagType>(&mut self, key: String, default: T) -> T {
        let t0 = Instant::now();
        let ctx = EvaluationContext::default().with_targeting_key(self.id.to_string());
        let parent = self.telemetry.current();
        let v = self.run.flags.get(&key, default, &ctx, &parent).await;
        self.host_wait += t0.elapsed();
        v
    }
}

impl Host for UserCtx {
    async fn get_bool(&mut self, key: String, default: bool) -> bool {
        self.flag(key, default).await
    }

    async fn get_int(&mut self, key: String, default: i64) -> i64 {
        self.flag(key, default).await
    }

    async fn get_float(&mut self, key: String, default: f64) -> f64 {
        self.flag(key, default).await
    }

    async fn get_string(&mut self, key: String, default: String) -> String {
        self.flag(key, default).await
    }
}

#[cfg(test)]
mod tests {
    use crate::flags::{Flags, Source};
    use open_feature::EvaluationContext;
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry::Context;
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};

    /// The demo's own flag file loads, targeting included; a change to the file
    /// is seen by the next evaluation; unknown flags and types give the default.
    #[tokio::test]
    async fn a_flagd_file_is_evaluated_and_followed() {
        let dir = std::env::temp_dir().join(format!("wasp-flags-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("demo.flagd.json");
        let demo = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../plugins/otel-demo/data/demo.flagd.json")).unwrap();
        std::fs::write(&file, &demo).unwrap();
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
        let flags = Flags::new(&Source::File(file.clone()), Some(provider.tracer("t"))).await.unwrap();
        let ctx = EvaluationContext::default().with_targeting_key("1");
        let root = Context::new();
        assert_eq!(flags.get("loadGeneratorVUs", 0i64, &ctx, &root).await, 5);
        assert_eq!(flags.get("loadGeneratorFloodHomepage", 7i64, &ctx, &root).await, 0);
        let product = ctx.clone().with_custom_field("product_id", "OLJCESPC7Z");
        assert!(!flags.get("productCatalogFailure", true, &product, &root).await, "targeting picks the 'off' variant");
        assert_eq!(flags.get("cartFailure", 1.0f64, &ctx, &root).await, 0.0);
        assert_eq!(flags.get("noSuchFlag", 42i64, &ctx, &root).await, 42, "unknown: default");
        assert_eq!(flags.get("adFailure", 9i64, &ctx, &root).await, 9, "a bool asked as an int: default");

        // Edit the file: the next evaluation follows (mtime granularity: make it differ).
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&file, demo.replace("\"defaultVariant\": \"5\"", "\"defaultVariant\": \"25\"")).unwrap();
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(2);
        std::fs::File::options().write(true).open(&file).unwrap().set_modified(later).unwrap();
        assert_eq!(flags.get("loadGeneratorVUs", 0i64, &ctx, &root).await, 25);

        let spans = exporter.get_finished_spans().unwrap();
        assert!(spans.len() >= 7);
        assert!(spans.iter().all(|s| s.name == "feature_flag.evaluate"));
        assert!(spans.iter().any(|s| s.attributes.iter().any(|kv| kv.key.as_str() == "feature_flag.key" && kv.value.as_str() == "loadGeneratorVUs")));
        std::fs::remove_dir_all(dir).unwrap();
    }

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
