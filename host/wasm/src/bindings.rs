//! The generated bindings for `wit/` (the `wasp:plugin/user` world), in one place.

wasmtime::component::bindgen!({
    path: "wit",
    world: "wasp:plugin/user",
    imports: { default: async },
    exports: { default: async },
});

/// The WIT package version this host implements.
pub const WIT_VERSION: &str = "0.1.0";
/// The export every plugin must have.
pub const BEHAVIOUR_EXPORT: &str = "wasp:plugin/behaviour";
