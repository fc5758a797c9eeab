//! Arbitrary bytes as a plugin: the checks before compiling, the pool's
//! sizing and wasmtime's own validation never panic; a real component with
//! bytes flipped is refused or loaded, never a crash.

use proptest::prelude::*;
use wasp_wasm::component::check_bytes;
use wasp_wasm::engine::PoolShape;

/// The smallest component header and a few sections' worth of noise.
fn component_like() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..400).prop_map(|mut tail| {
        let mut b = b"\0asm\x0d\0\x01\0".to_vec();
        b.append(&mut tail);
        b
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn checks_and_sizing_never_panic(bytes in prop_oneof![proptest::collection::vec(any::<u8>(), 0..400), component_like()]) {
        let _ = check_bytes(&bytes);
        let shape = PoolShape::of(&bytes);
        prop_assert!(shape.core_instances >= 1 && shape.memories >= 1);
        let _ = wasp_wasm::EngineOptions::for_component(&bytes, 4, 64 << 20);
    }

    #[test]
    fn wasmtime_refuses_noise_without_panicking(bytes in component_like()) {
        let mut config = wasmtime::Config::new();
        config.wasm_component_model(true);
        let engine = wasmtime::Engine::new(&config).unwrap();
        let _ = wasmtime::component::Component::new(&engine, &bytes);
    }
}
