//! `wasp:plugin/types`: the records and variants the other interfaces share;
//! nothing to call.

use super::UserCtx;

impl crate::bindings::wasp::plugin::types::Host for UserCtx {}
