//! A plugin of wasp:plugin@0.2.0, built from that WIT as it was released
//! (before `send-packed`): its users share instances; each sends `GET /v2`
//! with a baggage entry and reads a header of the answer from `send`'s pairs.
wit_bindgen::generate!({ path: "wit", world: "wasp:plugin/user@0.2.0" });

use exports::wasp::plugin::behaviour::{Guest, GuestUser, Info, Task, Wait};
use wasp::plugin::session::Session;
use wasp::plugin::types::{Method, Request};
use wasp::plugin::{baggage, http};

struct Legacy;

struct LegacyUser {
    s: Session,
}

impl Guest for Legacy {
    type User = LegacyUser;

    fn describe() -> Info {
        Info { name: "legacy".into(), tasks: vec![Task { name: "legacy".into(), weight: 1, tags: vec![] }], wait: Wait::Constant(20) }
    }
}

impl GuestUser for LegacyUser {
    fn new(s: Session) -> Self {
        LegacyUser { s }
    }

    async fn on_start(&self) -> Result<(), String> {
        baggage::set(&self.s, "legacy", "0.2.0");
        Ok(())
    }

    async fn run_task(&self, _: u32) -> Result<(), String> {
        let req = Request { method: Method::Get, url: "/v2".into(), headers: vec![], body: None, name: None, timeout_ms: None };
        let r = http::send(&self.s, req).await.map_err(|e| format!("{e:?}"))?;
        match r.headers.iter().find(|(k, _)| k == "content-length") {
            Some((_, v)) if v == "6" => Ok(()),
            other => Err(format!("content-length: {other:?} in {:?}", r.headers)),
        }
    }

    async fn on_stop(&self) {}
}

export!(Legacy);
