//! A component of another world: it exports a plain `run` function.
wit_bindgen::generate!({
    inline: "package acme:other@1.0.0; world tool { export run: func() -> u32; }",
});

struct Tool;
impl Guest for Tool {
    fn run() -> u32 {
        42
    }
}
export!(Tool);
