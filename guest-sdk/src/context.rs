//! Facts about the run and this user.

use crate::bindings::wasp::plugin::context as wit;
use std::time::Duration;

/// This user's id: 1, 2, ... unique in the run.
pub fn user_id() -> u64 {
    wit::user_id()
}

/// The run's `--host` (empty when none was given).
pub fn host() -> String {
    wit::host()
}

/// Time since the run started.
pub fn elapsed() -> Duration {
    Duration::from_millis(wit::elapsed_ms())
}
