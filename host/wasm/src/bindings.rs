//! The generated bindings for `wit/` (the `wasp:plugin/user` world), in one place.
//!
//! Every import is async. The imports through which a plugin could make the
//! host hold more and more (baggage entries, open spans, span attributes and
//! events) are also trappable: past their bound the guest traps with a clear
//! message instead.

wasmtime::component::bindgen!({
    path: "wit",
    world: "wasp:plugin/user",
    imports: {
        "wasp:plugin/baggage.set": async | trappable,
        "wasp:plugin/telemetry.start-span": async | trappable,
        "wasp:plugin/telemetry.set-attribute": async | trappable,
        "wasp:plugin/telemetry.add-event": async | trappable,
        "wasp:plugin/telemetry.record-exception": async | trappable,
        "wasp:plugin/telemetry.discard-span": async,
        default: async,
    },
    exports: { default: async },
});

/// The WIT package version this host implements.
pub const WIT_VERSION: &str = "0.1.2";
/// The versions of plugins it runs: its own and the earlier ones of the same
/// minor version (wasmtime links a 0.1.0 or 0.1.1 plugin's imports to the 0.1.2 ones).
/// 0.2.0 is the world of users sharing instances (`crate::shared`).
pub const ACCEPTED_VERSIONS: &[&str] = &["0.1.0", "0.1.1", "0.1.2", "0.2.0", "0.2.1"];
/// The export every plugin must have.
pub const BEHAVIOUR_EXPORT: &str = "wasp:plugin/behaviour";
