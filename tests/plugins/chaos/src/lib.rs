//! A plugin for the end-to-end tests. Each task has its own tag, so a test
//! picks one behaviour with `--tags`. User 1 is the troublemaker in the
//! `spin` and `grow` tasks; the other users keep making requests.
use wasp_sdk::prelude::*;

#[derive(Default)]
struct Chaos;

fn me() -> u64 {
    context::user_id()
}

impl User for Chaos {
    fn tasks() -> Vec<Task<Self>> {
        vec![
            task("hello", 1, |_| hello()).tag("hello"),
            task("whoami", 1, |_| whoami()).tag("cookies"),
            task("redirect", 1, |_| {
                http::get("/redirect").send()?;
                Ok(())
            })
            .tag("redirect"),
            task("headers", 1, |_| {
                let r = http::get("/headers").send()?;
                check_headers(&r).map_err(|e| Error::from(e.as_str()))
            })
            .tag("headers"),
            task("fail500", 1, |_| {
                http::get("/status/500").send()?;
                Ok(())
            })
            .tag("errors"),
            task("refused", 1, |_| {
                let port = http::get("/refused-port").send()?.text();
                http::get(&format!("http://127.0.0.1:{port}/")).name("refused").send()?;
                Ok(())
            })
            .tag("errors"),
            task("slow", 1, |_| {
                http::get("/slow").timeout(std::time::Duration::from_millis(200)).send()?;
                Ok(())
            })
            .tag("errors"),
            task("checked", 1, |_| {
                http::get("/hello").name("checked").check("body says bye", |r| r.text() == "bye").send()?;
                Ok(())
            })
            .tag("errors"),
            task("spin", 1, |_| {
                if me() == 1 {
                    let mut x = 0u64;
                    loop {
                        x = std::hint::black_box(x.wrapping_add(1));
                    }
                }
                hello()
            })
            .tag("spin"),
            task("grow", 1, |_| {
                if me() == 1 {
                    let mut hoard: Vec<Vec<u8>> = Vec::new();
                    loop {
                        hoard.push(vec![1u8; 1 << 20]);
                        std::hint::black_box(&hoard);
                    }
                }
                hello()
            })
            .tag("grow"),
            task("denied", 1, |_| match http::get("http://denied.invalid/").send() {
                Err(e) => Err(Error::Message(format!("guest saw: {e}"))),
                Ok(_) => Err("a request outside the allow-list went out".into()),
            })
            .tag("denied"),
            task("guest_error", 1, |_| Err("guest said no".into())).tag("guest-error"),
            task("delay50", 1, |_| {
                http::get("/delay?ms=50").name("/delay").send()?;
                Ok(())
            })
            .tag("delay"),
            task("bimodal", 1, |_| {
                http::get("/bimodal").send()?;
                Ok(())
            })
            .tag("bimodal"),
            task("delay200", 1, |_| {
                http::get("/delay?ms=200").name("/delay200").send()?;
                Ok(())
            })
            .tag("delay200"),
            task("stall", 1, |_| {
                http::get("/stall").send()?;
                Ok(())
            })
            .tag("stall"),
            task("buy", 1, |_| {
                http::post("/buy").json(&json!({ "user": me() })).send()?;
                Ok(())
            })
            .tag("buy"),
            task("traced", 1, |_| {
                telemetry::set_span_name("user_traced");
                telemetry::set_attribute("item.count", 2);
                baggage::set("tenant", &format!("t{}", me()));
                log::info("traced task");
                hello()?;
                let _inner = telemetry::span("inner");
                http::get("/landing").send()?;
                Ok(())
            })
            .tag("otel"),
            // A body serde_json cannot write (a map with non-string keys): the task fails, nothing is sent.
            task("bad_json", 1, |_| {
                let mut m = std::collections::BTreeMap::new();
                m.insert((1, 2), "pair keys are not JSON");
                http::post("/buy").json(&m).send()?;
                Ok(())
            })
            .tag("bad-json"),
            // Forty responses await a verdict at once (each with a 250-byte
            // name), then the first is failed: the host holds them all only
            // if the user's memory account has room.
            task("verdicts", 1, |_| {
                let name = "v".repeat(250);
                let first = http::get("/").name(&name).send()?;
                for _ in 1..40 {
                    http::get("/").name(&name).send()?;
                }
                first.fail("late verdict");
                Ok(())
            })
            .tag("verdicts"),
        ]
    }

    fn on_start(&mut self) -> TaskResult {
        baggage::set("session.id", &random::uuid_v4());
        http::get(&format!("/start?u={}", me())).name("/start").send()?;
        log::info("started");
        Ok(())
    }

    fn wait() -> Wait {
        constant(0.05)
    }
}

fn hello() -> TaskResult {
    http::get(&format!("/hello?u={}", me())).name("/hello").send()?;
    Ok(())
}

/// Logs in as this user once, then asks the server who it is.
fn whoami() -> TaskResult {
    if baggage::get("logged-in").is_none() {
        http::get(&format!("/login?u={}", me())).name("/login").send()?;
        baggage::set("logged-in", "yes");
    }
    http::get(&format!("/whoami?u={}", me())).name("/whoami").expect_status(&[200]).send()?;
    Ok(())
}

use wasp_sdk::http::Response;
include!("../../headers_check.rs");

export!(Chaos);
