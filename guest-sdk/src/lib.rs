//! # wasp-sdk: write wasp users in Rust
//!
//! A plugin is one type implementing [`User`] and one [`export!`]:
//!
//! ```ignore
//! use wasp_sdk::prelude::*;
//!
//! #[derive(Default)]
//! struct Shopper;
//!
//! impl User for Shopper {
//!     fn tasks() -> Vec<Task<Self>> {
//!         vec![task("index", 3, Self::index)]
//!     }
//!     fn wait() -> Wait { between(1.0, 5.0) }
//! }
//!
//! impl Shopper {
//!     fn index(&mut self) -> TaskResult {
//!         http::get("/").send()?;
//!         Ok(())
//!     }
//! }
//!
//! export!(Shopper);
//! ```
//!
//! The host picks tasks by weight and waits between them; one value of your
//! type lives per simulated user, made with `Default` before `on_start`.

extern crate self as wasp_sdk;

#[doc(hidden)]
pub use wit_bindgen as __wit_bindgen;

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "wasp:plugin/user",
        pub_export_macro: true,
        export_macro_name: "__export_wasp_user",
        default_bindings_module: "wasp_sdk::bindings",
        runtime_path: "wasp_sdk::__wit_bindgen::rt",
    });
}

pub mod baggage;
pub mod context;
mod error;
pub mod flags;
#[doc(hidden)]
pub mod glue;
pub mod http;
pub mod log;
pub use wasp_sdk_core::random;
pub mod telemetry;

pub use error::{Error, HttpError, TaskResult};

/// The host/WIT contract this SDK speaks.
pub const WIT_VERSION: &str = "0.1.2";

pub use wasp_sdk_core::{between, constant, constant_pacing, Wait};

/// One task: a name, a weight, optional tags, and the method that runs it.
pub type Task<U> = wasp_sdk_core::Task<fn(&mut U) -> TaskResult>;

/// A task with a name and a weight (relative to the other tasks' weights).
pub fn task<U>(name: &str, weight: u32, run: fn(&mut U) -> TaskResult) -> Task<U> {
    Task::new(name, weight, run)
}

/// A simulated user. Only [`User::tasks`] is required.
pub trait User: Default + 'static {
    /// The behaviour's name, shown by the host.
    fn name() -> String {
        wasp_sdk_core::short_type_name::<Self>()
    }

    /// The tasks the host picks from, by weight.
    fn tasks() -> Vec<Task<Self>>;

    /// The wait between tasks. Default: none.
    fn wait() -> Wait {
        Wait::None
    }

    /// Runs once per user before its first task. The default does nothing
    /// and exports no span for it.
    fn on_start(&mut self) -> TaskResult {
        telemetry::discard_span();
        Ok(())
    }

    /// Runs once per user when the run stops. The default does nothing and
    /// exports no span for it.
    fn on_stop(&mut self) {
        telemetry::discard_span();
    }
}

/// Exports a [`User`] type as the plugin's behaviour.
#[macro_export]
macro_rules! export {
    ($user:ty) => {
        type __WaspGlue = $crate::glue::Glue<$user>;
        $crate::bindings::__export_wasp_user!(__WaspGlue with_types_in $crate::bindings);
    };
}

/// Everything a plugin usually needs.
pub mod prelude {
    pub use crate::http::{Build as _, Verdict as _};
    pub use crate::{
        baggage, between, constant, constant_pacing, context, export, flags, http, log, random, task, telemetry, Error, Task, TaskResult, User, Wait,
    };
    pub use serde_json::json;
}
