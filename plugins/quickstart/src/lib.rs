//! The smallest useful wasp plugin: browse the home page, now and then post an item.
use wasp_sdk::prelude::*;

#[derive(Default)]
struct Quickstart {
    created: u32,
}

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
        http::get("/").send()?;
        Ok(())
    }

    fn create_item(&mut self) -> TaskResult {
        self.created += 1;
        let item = json!({ "name": "wasp", "user": context::user_id(), "n": self.created });
        http::post("/items").json(&item).check("created", |r| r.status == 200 || r.status == 201).send()?;
        Ok(())
    }
}

export!(Quickstart);
