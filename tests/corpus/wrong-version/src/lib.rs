//! A plugin built against a future contract, wasp:plugin@0.9.0.
wit_bindgen::generate!({
    inline: r#"
        package wasp:plugin@0.9.0;
        interface behaviour {
            record task { name: string, weight: u32, tags: list<string> }
            variant wait { none, constant(u32), between(tuple<u32, u32>), pacing(u32) }
            record info { name: string, tasks: list<task>, wait: wait }
            describe: func() -> info;
            on-start: func() -> result<_, string>;
            run-task: func(index: u32) -> result<_, string>;
            on-stop: func();
        }
        world user { export behaviour; }
    "#,
});

use exports::wasp::plugin::behaviour::{Guest, Info, Wait};
struct Future;
impl Guest for Future {
    fn describe() -> Info {
        Info { name: "future".into(), tasks: vec![], wait: Wait::None }
    }
    fn on_start() -> Result<(), String> {
        Ok(())
    }
    fn run_task(_: u32) -> Result<(), String> {
        Ok(())
    }
    fn on_stop() {}
}
export!(Future);
