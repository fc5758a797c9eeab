//! `wasp:plugin/context`: who this user is and where the run stands.

use super::UserCtx;
use crate::bindings::wasp::plugin::context::Host;

impl Host for UserCtx {
    async fn user_id(&mut self) -> u64 {
        self.id
    }

    async fn host(&mut self) -> String {
        self.run.host.clone()
    }

    async fn elapsed_ms(&mut self) -> u64 {
        self.run.start.elapsed().as_millis() as u64
    }
}
