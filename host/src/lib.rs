//! wasp: a load-testing host whose simulated users are WebAssembly components.
//!
//! Data flows one way: [`cli`] → [`config`] → [`runner`] → users ([`plugin`])
//! → host [`imports`] → [`stats`] → [`report`].

pub mod behaviour;
pub mod cache;
pub mod bindings;
pub mod cli;
pub mod config;
pub mod error;
pub mod flags;
pub mod imports;
pub mod inspect;
pub mod merge;
pub mod otel;
pub mod plugin;
pub mod reload;
pub mod report;
pub mod run;
pub mod runner;
pub mod signals;
pub mod stats;
pub mod thresholds;
pub mod web;
pub mod shop;
pub mod demo;
