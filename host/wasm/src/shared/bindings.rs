//! The generated bindings of `wit/v0.2/` (the `wasp:plugin@0.2.0` world:
//! many users per instance), in one place.
//!
//! The types that are the same as 0.1's are 0.1's Rust types, so both
//! versions share the host code behind them. A `session` is the user's
//! [`UserCtx`], kept in the instance's resource table. Every import is
//! trappable: a session handle that is not one the host gave traps.
//! `http.send` and the flag evaluations are concurrent (`async | store`):
//! while one user waits for them, the instance runs its other users.
//!
//! [`UserCtx`]: crate::imports::UserCtx

wasmtime::component::bindgen!({
    path: "wit/v0.2",
    world: "wasp:plugin/user",
    imports: {
        "wasp:plugin/http.send": async | store | trappable,
        "wasp:plugin/flags.get-bool": async | store | trappable,
        "wasp:plugin/flags.get-int": async | store | trappable,
        "wasp:plugin/flags.get-float": async | store | trappable,
        "wasp:plugin/flags.get-string": async | store | trappable,
        default: async | trappable,
    },
    exports: { default: async | store },
    with: {
        "wasp:plugin/types": crate::bindings::wasp::plugin::types,
        "wasp:plugin/session.session": crate::imports::UserCtx,
    },
});

/// The WIT package version of this world.
pub const WIT_VERSION: &str = "0.2.1";
