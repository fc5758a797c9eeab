//! `wasp:plugin/flags`: feature flags for guests, from the run's [`Flags`]
//! (`wasp_flags`). The evaluation context's targeting key is the user id; the
//! time spent waiting on the flag service is host time, not guest time.

use super::UserCtx;
use crate::bindings::wasp::plugin::flags::Host;
use open_feature::EvaluationContext;
use wasp_flags::FlagType;

impl UserCtx {
    async fn flag<T: FlagType>(&mut self, key: String, default: T) -> T {
        let ctx = EvaluationContext::default().with_targeting_key(self.id.to_string());
        let parent = self.telemetry.current();
        let _host = self.meter.host_wait();
        self.run.flags.get(&key, default, &ctx, &parent).await
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
