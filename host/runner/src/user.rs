//! What the scheduler drives: a simulated user, and the factory that makes
//! them. The Wasm user (crate `wasp-wasm`) is one implementation; the tests
//! use native ones.

use std::future::Future;

/// A task, on-start or on-stop that went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserError {
    pub message: String,
    /// The user cannot go on as it is (a trap, a killed task): it is replaced
    /// by a fresh one, which runs on-start again.
    pub fatal: bool,
}

/// One simulated user.
pub trait User: Send + 'static {
    fn on_start(&mut self) -> impl Future<Output = Result<(), UserError>> + Send;
    fn run_task(&mut self, index: usize) -> impl Future<Output = Result<(), UserError>> + Send;
    fn on_stop(&mut self) -> impl Future<Output = Result<(), UserError>> + Send;
    /// True when this user should be replaced by a fresh one from its factory
    /// before its next task (e.g. its plugin was reloaded). It then runs
    /// on-stop, and the new one on-start.
    fn stale(&self) -> bool {
        false
    }
}

/// Who a new user is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserSpec {
    /// Unique in the run (across scenarios), from 1.
    pub id: u64,
    /// The scenario's index in the plan (and in the stats).
    pub scenario: usize,
}

/// Makes users.
pub trait UserFactory: Send + Sync + 'static {
    type User: User;
    fn create(&self, spec: UserSpec) -> impl Future<Output = Result<Self::User, String>> + Send;
}
