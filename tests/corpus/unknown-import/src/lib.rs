//! Claims wasp:plugin@0.1.0, but imports a `context` function the host does
//! not have (`frob`), as a plugin built against a newer contract would.
wit_bindgen::generate!({
    inline: r#"
        package wasp:plugin@0.1.0;
        interface context {
            user-id: func() -> u64;
            frob: func() -> u64;
        }
        interface behaviour {
            record task { name: string, weight: u32, tags: list<string> }
            variant wait { none, constant(u32), between(tuple<u32, u32>), pacing(u32) }
            record info { name: string, tasks: list<task>, wait: wait }
            describe: func() -> info;
            on-start: func() -> result<_, string>;
            run-task: func(index: u32) -> result<_, string>;
            on-stop: func();
        }
        world user { import context; export behaviour; }
    "#,
});

use exports::wasp::plugin::behaviour::{Guest, Info, Task, Wait};
struct Newer;
impl Guest for Newer {
    fn describe() -> Info {
        Info { name: "newer".into(), tasks: vec![Task { name: "t".into(), weight: 1, tags: vec![] }], wait: Wait::None }
    }
    fn on_start() -> Result<(), String> {
        Ok(())
    }
    fn run_task(_: u32) -> Result<(), String> {
        wasp::plugin::context::frob();
        Ok(())
    }
    fn on_stop() {}
}
export!(Newer);
