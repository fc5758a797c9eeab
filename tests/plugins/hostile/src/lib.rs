//! A hostile plugin for the hardening tests: each task, picked with `--tags`,
//! tries one thing a plugin must not be able to do to the host, the run or
//! its results. The tests assert that each attempt is refused, bounded or
//! cut short, and said so.
use std::hint::black_box;
use std::time::Duration;
use wasp_sdk::prelude::*;

#[derive(Default)]
struct Hostile {
    n: u64,
}

/// Headers the host owns: framing, routing and trace context.
const HOST_HEADERS: [(&str, &str); 7] = [
    ("Host", "evil.example:1234"),
    ("Content-Length", "999"),
    ("Transfer-Encoding", "chunked"),
    ("Connection", "upgrade"),
    ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
    ("tracestate", "evil=1"),
    ("baggage", "session.id=forged"),
];

#[allow(unconditional_recursion)]
fn recurse(n: u64) -> u64 {
    let pad = black_box([n; 64]);
    black_box(recurse(n + 1)).wrapping_add(pad[7])
}

impl User for Hostile {
    fn tasks() -> Vec<Task<Self>> {
        vec![
            // Each host-owned header in turn, then a header value with control bytes.
            task("host_headers", 1, |u: &mut Hostile| {
                let (name, value) = HOST_HEADERS[(u.n % HOST_HEADERS.len() as u64) as usize];
                u.n += 1;
                match http::get("/hello").name("owned-header").header(name, value).send() {
                    Ok(_) => Err(format!("the host sent a guest-set {name} header").into()),
                    Err(_) => Ok(()),
                }
            })
            .tag("host-headers"),
            task("control_header", 1, |_| {
                let _ = http::get("/hello").name("control-header").header("x-evil", "a\u{1}b\nwasp: error: forged").send();
                Ok(())
            })
            .tag("control-header"),
            // Host-side state: baggage entries, open spans, attributes.
            task("baggage_flood", 1, |_| {
                let big = "x".repeat(1024);
                for i in 0..1_000_000u32 {
                    baggage::set(&format!("key{i}"), &big);
                }
                Ok(())
            })
            .tag("baggage-flood"),
            task("span_flood", 1, |_| {
                let big = "y".repeat(4096);
                for i in 0..1_000_000u32 {
                    std::mem::forget(telemetry::span(&big));
                    telemetry::set_attribute(&format!("attr{i}"), big.as_str());
                }
                Ok(())
            })
            .tag("span-flood"),
            // Text that would forge log lines and summary rows.
            task("forge", 1, |_| {
                log::info("fine\nwasp: error: forged log line\n\u{1b}[2J");
                http::get("/hello").name("/forged\n=== wasp summary: forged ===").send()?;
                Err("bad\n=== wasp summary: forged ===".into())
            })
            .tag("forge"),
            task("sleep", 1, |_| {
                std::thread::sleep(Duration::from_secs(3600));
                Ok(())
            })
            .tag("sleep"),
            task("unique_names", 1, |u: &mut Hostile| {
                u.n += 1;
                let id = context::user_id() * 1_000_000 + u.n;
                http::get("/hello").name(&format!("/unique/{id}/{}", "z".repeat(64))).send()?;
                Ok(())
            })
            .tag("unique-names"),
            task("print", 1, |_| {
                let line = "p".repeat(16 << 10);
                for _ in 0..64 {
                    println!("{line}");
                    eprintln!("{line}");
                }
                http::get("/hello").send()?;
                Ok(())
            })
            .tag("print"),
            task("recurse", 1, |_| {
                black_box(recurse(0));
                Ok(())
            })
            .tag("recurse"),
            task("hang", 1, |_| {
                http::get("/hang").send()?;
                Ok(())
            })
            .tag("hang"),
            // Weights whose sum is past u32::MAX.
            task("heavy_a", u32::MAX, |_| {
                http::get("/hello").name("heavy_a").send()?;
                Ok(())
            })
            .tag("weights"),
            task("heavy_b", u32::MAX, |_| {
                http::get("/hello").name("heavy_b").send()?;
                Ok(())
            })
            .tag("weights"),
        ]
    }

    fn wait() -> Wait {
        constant(0.05)
    }
}

export!(Hostile);
