//! A second version of the quickstart for the hot-swap test: same tasks, other paths.
use wasp_sdk::prelude::*;

#[derive(Default)]
struct Quickstart;

impl User for Quickstart {
    fn tasks() -> Vec<Task<Self>> {
        vec![task("index", 3, Self::index), task("create_item", 1, Self::create_item).tag("write")]
    }

    fn wait() -> Wait {
        between(0.5, 1.5)
    }
}

impl Quickstart {
    fn index(&mut self) -> TaskResult {
        http::get("/v2").send()?;
        Ok(())
    }

    fn create_item(&mut self) -> TaskResult {
        http::get("/v2").send()?;
        Ok(())
    }
}

export!(Quickstart);
