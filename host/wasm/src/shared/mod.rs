//! Users of `wasp:plugin@0.2.0` plugins: many per instance.
//!
//! - [`bindings`]: the 0.2.0 world's generated bindings;
//! - [`imports`]: its imports, by session, on the 0.1 host code;
//! - [`instance`]: one shared instance and the task that drives it;
//! - [`users`]: placing users into instances, and their handles.

pub mod bindings;
pub mod imports;
pub mod instance;
pub mod users;

pub use users::SharedUser;

/// Users per instance when `--users-per-instance` is not given: the spike
/// measured 1.7 KiB per Rust user at 63 per instance against 81 KiB one per
/// instance, with every user's tasks concurrent.
pub const DEFAULT_USERS_PER_INSTANCE: u32 = 64;
