//! A plugin of the first contract, wasp:plugin@0.1.0, built from that WIT as it
//! was released: one task that sends `GET /v2` with a baggage entry and a span.
wit_bindgen::generate!({ path: "wit", world: "wasp:plugin/user@0.1.0" });

use exports::wasp::plugin::behaviour::{Guest, Info, Task, Wait};
use wasp::plugin::types::{Method, Request};
use wasp::plugin::{baggage, http, telemetry};

struct Legacy;
impl Guest for Legacy {
    fn describe() -> Info {
        Info { name: "legacy".into(), tasks: vec![Task { name: "legacy".into(), weight: 1, tags: vec![] }], wait: Wait::Constant(20) }
    }
    fn on_start() -> Result<(), String> {
        baggage::set("legacy", "0.1.0");
        Ok(())
    }
    fn run_task(_: u32) -> Result<(), String> {
        telemetry::set_span_name("legacy_task");
        let req = Request { method: Method::Get, url: "/v2".into(), headers: vec![], body: None, name: None, timeout_ms: None };
        http::send(&req).map(|_| ()).map_err(|e| format!("{e:?}"))
    }
    fn on_stop() {}
}
export!(Legacy);
