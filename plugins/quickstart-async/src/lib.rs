//! The quickstart for `wasp:plugin@0.2`: browse the home page, now and then
//! post an item. Many of these users share one instance.
use wasp_sdk_async::prelude::*;

#[derive(Default)]
struct Quickstart {
    created: u32,
}

impl User for Quickstart {
    fn tasks() -> Vec<Task<Self>> {
        vec![task!("index", 3, Self::index), task!("create_item", 1, Self::create_item).tag("write")]
    }

    fn wait() -> Wait {
        between(0.5, 1.5)
    }
}

impl Quickstart {
    async fn index(&mut self, client: &Client) -> TaskResult {
        client.get("/").send().await?;
        Ok(())
    }

    async fn create_item(&mut self, client: &Client) -> TaskResult {
        self.created += 1;
        let item = json!({ "name": "wasp", "user": client.user_id(), "n": self.created });
        client.post("/items").json(&item).check("created", |r| r.status == 200 || r.status == 201).send().await?;
        Ok(())
    }
}

export!(Quickstart);
