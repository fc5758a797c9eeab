//! The OpenTelemetry demo's shopper for `wasp:plugin@0.2`: the same traffic
//! as `plugins/otel-demo` (described in its README.md), task for task, with
//! many shoppers in one instance. Every task runs in the span the host opens
//! for it, renamed `user_<task>`; a task called from another (index from
//! on-start, add_to_cart from the checkouts) opens a child span of that name.

#[path = "../../otel-demo/src/data.rs"]
mod data;

use wasp_sdk_async::prelude::*;

#[derive(Default)]
struct Shopper;

/// Names the work that follows: the task's own span when `nested` is false,
/// a child span (ended by [`leave`]) when the task is called from another.
fn enter(c: &Client, name: &str, nested: bool) {
    if nested {
        c.start_span(name);
    } else {
        c.set_span_name(name);
    }
}

fn leave(c: &Client, nested: bool, r: TaskResult) -> TaskResult {
    if nested {
        c.end_span();
    }
    r
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
            task!("index", 1, Self::index),
            task!("browse_product", 10, Self::browse_product),
            task!("get_recommendations", 3, Self::get_recommendations),
            task!("get_ads", 3, Self::get_ads),
            task!("view_cart", 3, Self::view_cart),
            task!("add_to_cart", 2, Self::add_to_cart),
            task!("checkout", 1, Self::checkout),
            task!("checkout_multi", 1, Self::checkout_multi),
            task!("flood_home", 5, Self::flood_home),
        ]
    }

    fn wait() -> Wait {
        between(1.0, 10.0)
    }

    async fn on_start(&mut self, c: &Client) -> TaskResult {
        let session = random::uuid_v4();
        c.set_baggage("session.id", &session);
        c.set_baggage("synthetic_request", "true");
        c.set_span_name("user_session_start");
        c.info(&format!("new session {session}"));
        index(c, true).await
    }
}

async fn index(c: &Client, nested: bool) -> TaskResult {
    enter(c, "user_index", nested);
    c.info("user visits the home page");
    let r = c.get("/").send().await.map(drop);
    leave(c, nested, r.map_err(Into::into))
}

async fn add_to_cart(c: &Client, user: &str, nested: bool) -> TaskResult {
    enter(c, "user_add_to_cart", nested);
    let r = async {
        let product = random_product();
        let quantity = *random::choice(&data::QUANTITIES).unwrap_or(&1);
        c.set_attribute("product.id", product);
        c.set_attribute("user.id", user);
        c.set_attribute("quantity", quantity);
        c.info(&format!("user {user} adds {quantity} of product {product} to the cart"));
        c.get(&format!("/api/products/{product}")).name("/api/products/{id}").send().await?;
        let item = json!({ "item": { "productId": product, "quantity": quantity }, "userId": user });
        c.post("/api/cart").json(&item).send().await?;
        Ok(())
    }
    .await;
    leave(c, nested, r)
}

async fn place_order(c: &Client, user: &str) -> TaskResult {
    let person = random::choice(&data::PEOPLE).copied().unwrap_or("{}");
    let mut person: serde_json::Value = serde_json::from_str(person)?;
    person["userId"] = json!(user);
    c.post("/api/checkout").json(&person).send().await?;
    Ok(())
}

impl Shopper {
    async fn index(&mut self, c: &Client) -> TaskResult {
        index(c, false).await
    }

    async fn add_to_cart(&mut self, c: &Client) -> TaskResult {
        add_to_cart(c, &random::uuid_v1(), false).await
    }

    async fn browse_product(&mut self, c: &Client) -> TaskResult {
        c.set_span_name("user_browse_product");
        let product = random_product();
        c.set_attribute("product.id", product);
        c.info(&format!("user browses product {product}"));
        c.get(&format!("/api/products/{product}")).name("/api/products/{id}").send().await?;
        Ok(())
    }

    async fn get_recommendations(&mut self, c: &Client) -> TaskResult {
        c.set_span_name("user_get_recommendations");
        let product = random_product();
        c.set_attribute("product.id", product);
        c.info(&format!("user gets recommendations for product {product}"));
        c.get(&format!("/api/recommendations?productIds={product}")).send().await?;
        Ok(())
    }

    async fn get_ads(&mut self, c: &Client) -> TaskResult {
        c.set_span_name("user_get_ads");
        let category = *random::choice(&data::CATEGORIES).unwrap_or(&None);
        c.set_attribute("category", category.unwrap_or("none"));
        c.info(&format!("user gets ads for category {}", category.unwrap_or("none")));
        match category {
            Some(cat) => c.get(&format!("/api/data/?contextKeys={cat}")).send().await?,
            None => c.get("/api/data/").send().await?,
        };
        Ok(())
    }

    async fn view_cart(&mut self, c: &Client) -> TaskResult {
        c.set_span_name("user_view_cart");
        c.info("user views the cart");
        c.get("/api/cart").send().await?;
        Ok(())
    }

    async fn checkout(&mut self, c: &Client) -> TaskResult {
        c.set_span_name("user_checkout_single");
        let user = random::uuid_v1();
        c.set_attribute("user.id", user.as_str());
        c.info(&format!("user {user} checks out one item"));
        add_to_cart(c, &user, true).await?;
        place_order(c, &user).await
    }

    async fn checkout_multi(&mut self, c: &Client) -> TaskResult {
        c.set_span_name("user_checkout_multi");
        let user = random::uuid_v1();
        let items = random::range(2, 4);
        c.set_attribute("user.id", user.as_str());
        c.set_attribute("item.count", items);
        c.info(&format!("user {user} checks out {items} items"));
        for _ in 0..items {
            add_to_cart(c, &user, true).await?;
        }
        place_order(c, &user).await
    }

    async fn flood_home(&mut self, c: &Client) -> TaskResult {
        let count = c.flag_int("loadGeneratorFloodHomepage", 0).await.max(0);
        c.info(&format!("user floods the home page {count} times"));
        if count == 0 {
            // As the demo's generator: no span for a flood that sends nothing.
            c.discard_span();
            return Ok(());
        }
        c.set_span_name("user_flood_home");
        c.set_attribute("flood.count", count);
        for _ in 0..count {
            c.get("/").send().await?;
        }
        Ok(())
    }
}

export!(Shopper);
