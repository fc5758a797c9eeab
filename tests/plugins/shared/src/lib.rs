//! A 0.2 plugin for the end-to-end tests: many users per instance.
//!
//! on-start logs the user in (a cookie of its own) and sets baggage naming
//! it. `hello` sends two requests that carry the user's id and task count as
//! headers, so the target can check that each user's cookie, baggage and
//! trace context stayed its own. on-stop says goodbye with one request. `trap`: user 2 traps the first time the
//! target says so (once per run); `spin`: user 3 computes without end, once;
//! `grow`: user 5 takes memory without end, once; `hoard`: every user hands
//! the host 8,000 bytes of baggage (within W3C's 8,192 per user); `dice`:
//! random numbers drawn before and after an await, sent as `x-r` headers;
//! `verdicts`: 40 requests with a long name, then a late verdict on the first.
//! Everyone else says hello.
use wasp_sdk_async::prelude::*;

#[derive(Default)]
struct Shared {
    /// This user's tasks so far: its own count, whatever its instance runs.
    done: u64,
}

impl User for Shared {
    fn tasks() -> Vec<Task<Self>> {
        vec![
            task!("hello", 1, Self::hello).tag("hello"),
            task!("trap", 1, Self::trap).tag("trap"),
            task!("spin", 1, Self::spin).tag("spin"),
            task!("grow", 1, Self::grow).tag("grow"),
            task!("hoard", 1, Self::hoard).tag("hoard"),
            task!("dice", 1, Self::dice).tag("dice"),
            task!("crumbs", 1, Self::crumbs).tag("crumbs"),
            task!("verdicts", 1, Self::verdicts).tag("verdicts"),
            task!("headers", 1, Self::headers).tag("headers"),
        ]
    }

    async fn on_start(&mut self, c: &Client) -> TaskResult {
        let me = c.user_id();
        c.get(&format!("/start?u={me}")).send().await?.error_for_status()?;
        c.get(&format!("/login?u={me}")).send().await?.error_for_status()?;
        c.set_baggage("wasp.test.user", &me.to_string());
        Ok(())
    }

    /// A request as it leaves: on-stop's span is exported, and the SDK lets
    /// go of the session during this call.
    async fn on_stop(&mut self, c: &Client) {
        let _ = c.get("/").name("bye").send().await;
    }
}

impl Shared {
    async fn hello(&mut self, c: &Client) -> TaskResult {
        self.done += 1;
        let (me, seq) = (c.user_id().to_string(), self.done.to_string());
        c.get(&format!("/hello?u={me}")).header("x-user", &me).header("x-seq", &seq).send().await?;
        c.get(&format!("/whoami?u={me}")).header("x-user", &me).header("x-seq", &seq).send().await?.error_for_status()?;
        Ok(())
    }

    async fn trap(&mut self, c: &Client) -> TaskResult {
        if c.user_id() == 2 && c.elapsed().as_millis() > 1000 && c.get("/once?key=trap").send().await?.text() == "first" {
            panic!("user 2 traps, once");
        }
        self.hello(c).await
    }
}

impl Shared {
    /// Reads `/headers` back (see `check_headers`).
    async fn headers(&mut self, c: &Client) -> TaskResult {
        let r = c.get("/headers").send().await?;
        check_headers(&r).map_err(|e| Error::from(e.as_str()))
    }
}

impl Shared {
    /// Asks for another cookie: the server fills the user's jar.
    async fn crumbs(&mut self, c: &Client) -> TaskResult {
        let me = c.user_id().to_string();
        c.get(&format!("/crumbs?u={me}")).header("x-user", &me).send().await?.error_for_status()?;
        Ok(())
    }
}

impl Shared {
    /// User 3 computes without end, once per run (after the first second):
    /// the task budget must stop it, and with it its instance.
    async fn spin(&mut self, c: &Client) -> TaskResult {
        if c.user_id() == 3 && c.elapsed().as_millis() > 1000 && c.get("/once?key=spin").send().await?.text() == "first" {
            let mut x = 0u64;
            loop {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        }
        self.hello(c).await
    }
}

impl Shared {
    /// User 5 takes memory 1 MiB at a time, keeping it, once per run (after
    /// the first second): its instance's memory cap must stop it.
    async fn grow(&mut self, c: &Client) -> TaskResult {
        if c.user_id() == 5 && c.elapsed().as_millis() > 1000 && c.get("/once?key=grow").send().await?.text() == "first" {
            let mut kept: Vec<Vec<u8>> = Vec::new();
            loop {
                kept.push(std::hint::black_box(vec![1u8; 1 << 20]));
            }
        }
        self.hello(c).await
    }
}

impl Shared {
    async fn hoard(&mut self, c: &Client) -> TaskResult {
        c.set_baggage("wasp.hoard", &"h".repeat(8000));
        self.hello(c).await
    }
}

impl Shared {
    async fn dice(&mut self, c: &Client) -> TaskResult {
        let me = c.user_id().to_string();
        for _ in 0..2 {
            let r = random::range(0, 1 << 40).to_string();
            c.get(&format!("/hello?u={me}")).header("x-user", &me).header("x-r", &r).send().await?;
        }
        Ok(())
    }
}

impl Shared {
    /// Forty responses await a verdict at once (each with a 250-byte name),
    /// then the first is failed: the host holds them all only if its
    /// instance's memory account has room.
    async fn verdicts(&mut self, c: &Client) -> TaskResult {
        let name = "v".repeat(250);
        let first = c.get("/").name(&name).send().await?;
        for _ in 1..40 {
            c.get("/").name(&name).send().await?;
        }
        c.fail(&first, "late verdict");
        Ok(())
    }
}

use wasp_sdk_async::Response;
include!("../../headers_check.rs");

export!(Shared);
