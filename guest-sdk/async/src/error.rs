//! Errors: those of `wasp-sdk-core`, and the conversion of this version's
//! `http-error`.

pub use wasp_sdk_core::{Error, HttpError, TaskResult};

wasp_sdk_core::__http_error_from!(crate::bindings::wasp::plugin::types::HttpError);
