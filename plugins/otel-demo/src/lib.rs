//! The OpenTelemetry demo's shopper: the traffic of the demo's Locust load
//! generator (described in this crate's README.md), task
//! for task — weights, requests, bodies, random choices, span names and
//! attributes, one INFO log per task, 1–10 s between tasks.
//!
//! Every task runs in the span the host opens for it, renamed `user_<task>`;
//! a task called from another (index from on-start, add_to_cart from the
//! checkouts) opens a child span of that name instead.

mod data;

use wasp_sdk::prelude::*;

#[derive(Default)]
struct Shopper;

/// Runs `body` in a span named `name`: the task's own span when `nested` is
/// false, a child span when the task is called from another.
fn in_span<T>(name: &str, nested: bool, body: impl FnOnce() -> T) -> T {
    if nested {
        let _span = telemetry::span(name);
        body()
    } else {
        telemetry::set_span_name(name);
        body()
    }
}

fn random_product() -> &'static str {
    random::choice(&data::PRODUCT_IDS).copied().unwrap_or("OLJCESPC7Z")
}

impl User for Shopper {
    fn name() -> String {
        "otel-demo shopper".into()
    }

    fn tasks() -> Vec<Task<Self>> {
        vec![
            task("index", 1, |_| index(false)),
            task("browse_product", 10, Self::browse_product),
            task("get_recommendations", 3, Self::get_recommendations),
            task("get_ads", 3, Self::get_ads),
            task("view_cart", 3, Self::view_cart),
            task("add_to_cart", 2, |_| add_to_cart(&random::uuid_v1(), false)),
            task("checkout", 1, Self::checkout),
            task("checkout_multi", 1, Self::checkout_multi),
            task("flood_home", 5, Self::flood_home),
        ]
    }

    fn wait() -> Wait {
        between(1.0, 10.0)
    }

    fn on_start(&mut self) -> TaskResult {
        let session = random::uuid_v4();
        baggage::set("session.id", &session);
        baggage::set("synthetic_request", "true");
        telemetry::set_span_name("user_session_start");
        log::info(&format!("new session {session}"));
        index(true)
    }
}

fn index(nested: bool) -> TaskResult {
    in_span("user_index", nested, || {
        log::info("user visits the home page");
        http::get("/").send()?;
        Ok(())
    })
}

fn add_to_cart(user: &str, nested: bool) -> TaskResult {
    in_span("user_add_to_cart", nested, || {
        let product = random_product();
        let quantity = *random::choice(&data::QUANTITIES).unwrap_or(&1);
        telemetry::set_attribute("product.id", product);
        telemetry::set_attribute("user.id", user);
        telemetry::set_attribute("quantity", quantity);
        log::info(&format!("user {user} adds {quantity} of product {product} to the cart"));
        http::get(&format!("/api/products/{product}")).name("/api/products/{id}").send()?;
        let item = json!({ "item": { "productId": product, "quantity": quantity }, "userId": user });
        http::post("/api/cart").json(&item).send()?;
        Ok(())
    })
}

fn checkout(user: &str) -> TaskResult {
    let person = random::choice(&data::PEOPLE).copied().unwrap_or("{}");
    let mut person: serde_json::Value = serde_json::from_str(person)?;
    person["userId"] = json!(user);
    http::post("/api/checkout").json(&person).send()?;
    Ok(())
}

impl Shopper {
    fn browse_product(&mut self) -> TaskResult {
        telemetry::set_span_name("user_browse_product");
        let product = random_product();
        telemetry::set_attribute("product.id", product);
        log::info(&format!("user browses product {product}"));
        http::get(&format!("/api/products/{product}")).name("/api/products/{id}").send()?;
        Ok(())
    }

    fn get_recommendations(&mut self) -> TaskResult {
        telemetry::set_span_name("user_get_recommendations");
        let product = random_product();
        telemetry::set_attribute("product.id", product);
        log::info(&format!("user gets recommendations for product {product}"));
        http::get(&format!("/api/recommendations?productIds={product}")).send()?;
        Ok(())
    }

    fn get_ads(&mut self) -> TaskResult {
        telemetry::set_span_name("user_get_ads");
        let category = *random::choice(&data::CATEGORIES).unwrap_or(&None);
        telemetry::set_attribute("category", category.unwrap_or("none"));
        log::info(&format!("user gets ads for category {}", category.unwrap_or("none")));
        match category {
            Some(c) => http::get(&format!("/api/data/?contextKeys={c}")).send()?,
            None => http::get("/api/data/").send()?,
        };
        Ok(())
    }

    fn view_cart(&mut self) -> TaskResult {
        telemetry::set_span_name("user_view_cart");
        log::info("user views the cart");
        http::get("/api/cart").send()?;
        Ok(())
    }

    fn checkout(&mut self) -> TaskResult {
        telemetry::set_span_name("user_checkout_single");
        let user = random::uuid_v1();
        telemetry::set_attribute("user.id", user.as_str());
        log::info(&format!("user {user} checks out one item"));
        add_to_cart(&user, true)?;
        checkout(&user)
    }

    fn checkout_multi(&mut self) -> TaskResult {
        telemetry::set_span_name("user_checkout_multi");
        let user = random::uuid_v1();
        let items = random::range(2, 4);
        telemetry::set_attribute("user.id", user.as_str());
        telemetry::set_attribute("item.count", items);
        log::info(&format!("user {user} checks out {items} items"));
        for _ in 0..items {
            add_to_cart(&user, true)?;
        }
        checkout(&user)
    }

    fn flood_home(&mut self) -> TaskResult {
        let count = flags::int("loadGeneratorFloodHomepage", 0).max(0);
        log::info(&format!("user floods the home page {count} times"));
        if count == 0 {
            // As the demo's generator: no span for a flood that sends nothing.
            telemetry::discard_span();
            return Ok(());
        }
        telemetry::set_span_name("user_flood_home");
        telemetry::set_attribute("flood.count", count);
        for _ in 0..count {
            http::get("/").send()?;
        }
        Ok(())
    }
}

export!(Shopper);
