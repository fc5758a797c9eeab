//! # wasp-sdk-async: wasp users in Rust, many per instance
//!
//! The SDK of `wasp:plugin@0.2`. One instance of the plugin runs many
//! simulated users (`wasp run --users-per-instance`, 64 by default): each is
//! a value of your [`User`] type, and its tasks are `async`, so that while one
//! user waits for an answer the instance runs the others.
//!
//! ```ignore
//! use wasp_sdk_async::prelude::*;
//!
//! #[derive(Default)]
//! struct Shopper;
//!
//! impl User for Shopper {
//!     fn tasks() -> Vec<Task<Self>> {
//!         vec![task!("index", 3, Self::index)]
//!     }
//!     fn wait() -> Wait { between(1.0, 5.0) }
//! }
//!
//! impl Shopper {
//!     async fn index(&mut self, client: &Client) -> TaskResult {
//!         client.get("/").send().await?;
//!         Ok(())
//!     }
//! }
//!
//! export!(Shopper);
//! ```
//!
//! Everything that acts for the user goes through its [`Client`]: HTTP (its
//! own connections and cookies), baggage, spans, logs and flags. A user's
//! state is its own; nothing in the plugin should be shared between users
//! unless meant to (a `static` is the instance's, seen by all its users).

extern crate self as wasp_sdk_async;

#[doc(hidden)]
pub use wit_bindgen as __wit_bindgen;

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "wasp:plugin/user",
        pub_export_macro: true,
        export_macro_name: "__export_wasp_user",
        default_bindings_module: "wasp_sdk_async::bindings",
        runtime_path: "wasp_sdk_async::__wit_bindgen::rt",
    });
}

mod client;
mod error;
#[doc(hidden)]
pub mod glue;

pub use client::{Client, Level, RequestBuilder, Value};
pub use error::{Error, HttpError, TaskResult};
pub use wasp_sdk_core::{random, Headers, Response};

use std::future::Future;
use std::pin::Pin;

/// The host/WIT contract this SDK speaks.
pub const WIT_VERSION: &str = "0.2.1";

pub use wasp_sdk_core::{between, constant, constant_pacing, Wait};

/// What a task method returns, boxed: `|u, c| Box::pin(u.index(c))`.
pub type TaskFuture<'a> = Pin<Box<dyn Future<Output = TaskResult> + 'a>>;

/// One task: a name, a weight, optional tags, and the method that runs it.
pub type Task<U> = wasp_sdk_core::Task<for<'a> fn(&'a mut U, &'a Client) -> TaskFuture<'a>>;

/// A task with a name and a weight (relative to the other tasks' weights).
pub fn task<U>(name: &str, weight: u32, run: for<'a> fn(&'a mut U, &'a Client) -> TaskFuture<'a>) -> Task<U> {
    Task::new(name, weight, run)
}

/// A simulated user. Only [`User::tasks`] is required. One value per user,
/// made with `Default` before `on_start`; the host runs one of its methods
/// at a time.
#[allow(async_fn_in_trait)]
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
    async fn on_start(&mut self, client: &Client) -> TaskResult {
        client.discard_span();
        Ok(())
    }

    /// Runs once per user when it stops. The default does nothing and
    /// exports no span for it.
    async fn on_stop(&mut self, client: &Client) {
        client.discard_span();
    }
}

/// A task of `Self` running the async method `$method(&mut self, &Client)`:
/// `task!("index", 3, Self::index)`. The same as
/// `task("index", 3, |u, c| Box::pin(u.index(c)))`.
#[macro_export]
macro_rules! task {
    ($name:expr, $weight:expr, $method:path) => {
        $crate::task::<Self>($name, $weight, |u, c| ::std::boxed::Box::pin($method(u, c)))
    };
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
    pub use crate::{between, constant, constant_pacing, export, random, task, Client, Error, Level, Task, TaskFuture, TaskResult, User, Value, Wait};
    pub use serde_json::json;
    pub use wasp_sdk_core::Build as _;
}
