//! # wasp-sdk-core
//!
//! What wasp's Rust SDKs share, whatever WIT version they speak: the waits
//! between tasks (in seconds, as in Locust), the errors a task returns, and
//! requests being built and their answers.
//! It has no WIT bindings: `wasp-sdk` (`wasp:plugin@0.1`) and
//! `wasp-sdk-async` (`@0.2`) re-export it and convert their bindings' types.

mod error;
mod headers;
pub mod random;
mod request;
mod task;
mod wait;

pub use error::{Error, HttpError, TaskResult};
pub use headers::Headers;
pub use request::{Build, Method, Response, Spec};
pub use task::{short_type_name, Task};
pub use wait::{between, constant, constant_pacing, wit_ms, Wait};

/// The SDKs make their bindings' telemetry `value` from Rust values with
/// this: strings, floats, booleans, and integers as `int`.
#[macro_export]
#[doc(hidden)]
macro_rules! __value_from {
    ($value:ty) => {
        impl From<&str> for $value {
            fn from(v: &str) -> Self {
                <$value>::Str(v.to_string())
            }
        }
        impl From<String> for $value {
            fn from(v: String) -> Self {
                <$value>::Str(v)
            }
        }
        impl From<f64> for $value {
            fn from(v: f64) -> Self {
                <$value>::Float(v)
            }
        }
        impl From<bool> for $value {
            fn from(v: bool) -> Self {
                <$value>::Boolean(v)
            }
        }
        $crate::__value_from!(@int $value; i32, i64, u32, u64, usize);
    };
    (@int $value:ty; $($t:ty),*) => {$(
        impl From<$t> for $value {
            fn from(v: $t) -> Self {
                <$value>::Int(v as i64)
            }
        }
    )*};
}
