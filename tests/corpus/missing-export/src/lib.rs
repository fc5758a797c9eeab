//! Claims wasp:plugin@0.1.0, but its behaviour lacks `on-stop`.
wit_bindgen::generate!({
    inline: r#"
        package wasp:plugin@0.1.0;
        interface behaviour {
            record task { name: string, weight: u32, tags: list<string> }
            variant wait { none, constant(u32), between(tuple<u32, u32>), pacing(u32) }
            record info { name: string, tasks: list<task>, wait: wait }
            describe: func() -> info;
            on-start: func() -> result<_, string>;
            run-task: func(index: u32) -> result<_, string>;
        }
        world user { export behaviour; }
    "#,
});

use exports::wasp::plugin::behaviour::{Guest, Info, Wait};
struct Half;
impl Guest for Half {
    fn describe() -> Info {
        Info { name: "half".into(), tasks: vec![], wait: Wait::None }
    }
    fn on_start() -> Result<(), String> {
        Ok(())
    }
    fn run_task(_: u32) -> Result<(), String> {
        Ok(())
    }
}
export!(Half);
