//! A user resource whose task awaits the host's HTTP import: many of them
//! live in one instance, each with its own state.
use std::cell::Cell;

wit_bindgen::generate!({ path: "../wit", world: "plugin" });

use exports::wasp::spike::behaviour::{Guest, GuestUser};
use wasp::spike::http;

struct Plugin;

struct User {
    id: u64,
    done: Cell<u64>,
}

impl Guest for Plugin {
    type User = User;
}

impl GuestUser for User {
    fn new(id: u64) -> Self {
        User { id, done: Cell::new(0) }
    }

    async fn run_task(&self, index: u32) -> Result<u64, String> {
        let status = http::get(format!("/?u={}&t={index}", self.id)).await?;
        if status != 200 {
            return Err(format!("status {status}"));
        }
        self.done.set(self.done.get() + 1);
        Ok(self.done.get())
    }
}

export!(Plugin);
