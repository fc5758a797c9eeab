//! # wasp-wasm
//!
//! Simulated users made of WebAssembly components, and the host capabilities
//! they import:
//!
//! - [`engine`]: the wasmtime engine (pooling allocator sized from the
//!   component, epoch interruption);
//! - [`component`]: reading, checking and compiling a plugin, asking it what
//!   it does; [`cache`]: compiled plugins kept on disk; [`reload`]: `--watch`;
//! - [`limits`]: the process limits (memory mappings) that size the pool;
//! - [`user`]: a `Store` per user behind the runner's `User` trait;
//! - [`bindings`]: the generated bindings of `wit/` (the `wasp:plugin/user`
//!   world), in one place; [`imports`]: one module per WIT interface.

pub mod bindings;
pub mod budget;
pub mod cache;
pub mod component;
pub mod engine;
pub mod error;
pub mod imports;
pub mod ledger;
pub mod limits;
pub mod output;
pub mod reload;
pub mod shared;
pub mod user;

pub use component::Plugin;
pub use engine::{EngineOptions, WASMTIME_VERSION};
pub use error::LoadError;
pub use user::{WasmUser, WasmUsers};
