//! `wasp shop`: a stand-in for the OpenTelemetry demo's frontend, serving the
//! routes its load generator touches with the demo's own data (products, ads,
//! people's checkouts), so the otel-demo plugin (or any load generator) has
//! something real to talk to offline. Request bodies are validated (bad JSON
//! or a wrong shape → 400). An OFREP flag service serving a flagd flag file
//! listens on its own port, as flagd does beside the demo.
//!
//! `GET /_shop/stats` tells what the shop saw (requests per route, distinct
//! `session.id` baggage values, requests without `synthetic_request=true` or
//! `traceparent`, orders): the end-to-end tests read it.

use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use wasp_flags::FileProvider;

const PRODUCTS: &str = include_str!("../data/products.json");
const ADS: &str = include_str!("../data/ads.json");
/// The demo's flag file, served over OFREP when no other file is given.
pub const DEMO_FLAGS: &str = include_str!("../data/demo.flagd.json");

/// Carts kept at most; past it they are all dropped (most are abandoned ones).
const MAX_CARTS: usize = 100_000;

#[derive(Default)]
struct Seen {
    routes: BTreeMap<String, u64>,
    sessions: HashSet<String>,
    without_synthetic: u64,
    without_traceparent: u64,
    bad_requests: u64,
    orders: u64,
}

struct Shop {
    products: Vec<Value>,
    by_id: HashMap<String, Value>,
    ads: HashMap<String, Vec<Value>>,
    random_ads: usize,
    /// Carts by user id (the id the frontend's cart service keys them by).
    carts: Mutex<HashMap<String, Vec<(String, u64)>>>,
    seen: Mutex<Seen>,
    next: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shop {
    fn new() -> Shop {
        let catalogue: Value = serde_json::from_str(PRODUCTS).expect("embedded products.json is JSON");
        let products: Vec<Value> = catalogue["products"].as_array().cloned().unwrap_or_default();
        let by_id = products.iter().filter_map(|p| Some((p["id"].as_str()?.to_string(), p.clone()))).collect();
        let ads_doc: Value = serde_json::from_str(ADS).expect("embedded ads.json is JSON");
        let ads =
            ads_doc["ads"].as_object().map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_array().cloned().unwrap_or_default())).collect()).unwrap_or_default();
        let random_ads = ads_doc["max_random_ads"].as_u64().unwrap_or(2) as usize;
        Shop { products, by_id, ads, random_ads, carts: Mutex::default(), seen: Mutex::default(), next: AtomicU64::new(1) }
    }

    fn cart_json(&self, user: &str) -> Value {
        let carts = lock(&self.carts);
        let items: Vec<Value> = carts.get(user).map(|c| c.iter().map(|(id, q)| json!({"productId": id, "quantity": q})).collect()).unwrap_or_default();
        json!({ "userId": user, "items": items })
    }
}

/// A W3C baggage member's value.
fn baggage(headers: &HeaderMap, key: &str) -> Option<String> {
    headers.get_all("baggage").iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).find_map(|member| {
        let (k, v) = member.split(';').next()?.split_once('=')?;
        (k.trim() == key).then(|| percent_decode(v.trim()))
    })
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("v={s}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

fn bad_request(shop: &Shop, message: String) -> Response {
    lock(&shop.seen).bad_requests += 1;
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
}

/// Counts every request by route and notes its baggage and trace context.
async fn observe(State(shop): State<Arc<Shop>>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let route = if path.starts_with("/api/products/") { "/api/products/{id}" } else { path };
    let key = format!("{} {}", req.method(), route);
    {
        let mut seen = lock(&shop.seen);
        if path != "/_shop/stats" {
            *seen.routes.entry(key).or_default() += 1;
            if let Some(s) = baggage(req.headers(), "session.id") {
                seen.sessions.insert(s);
            }
            if baggage(req.headers(), "synthetic_request").as_deref() != Some("true") {
                seen.without_synthetic += 1;
            }
            if !req.headers().contains_key("traceparent") {
                seen.without_traceparent += 1;
            }
        }
    }
    next.run(req).await
}

async fn home() -> Html<&'static str> {
    Html(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Astronomy Shop (wasp stand-in)</title></head>\
         <body><h1>Astronomy Shop</h1><p>A stand-in for the OpenTelemetry demo's frontend, served by <code>wasp shop</code>.</p>\
         <ul><li><a href=\"api/products/OLJCESPC7Z\">a product</a></li><li><a href=\"api/data\">ads</a></li><li><a href=\"api/cart\">cart</a></li></ul></body></html>",
    )
}

async fn product(State(shop): State<Arc<Shop>>, Path(id): Path<String>) -> Response {
    match shop.by_id.get(&id) {
        Some(p) => Json(p.clone()).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({ "error": format!("no product {id}") }))).into_response(),
    }
}

#[derive(Deserialize)]
struct Recommend {
    #[serde(rename = "productIds", default)]
    product_ids: Option<String>,
}

async fn recommendations(State(shop): State<Arc<Shop>>, Query(q): Query<Recommend>) -> Json<Vec<Value>> {
    let asked: HashSet<&str> = q.product_ids.as_deref().unwrap_or("").split(',').map(str::trim).collect();
    let start = shop.next.fetch_add(1, Ordering::Relaxed) as usize;
    let n = shop.products.len().max(1);
    let picks = (0..n).map(|i| &shop.products[(start + i) % n]).filter(|p| !asked.contains(p["id"].as_str().unwrap_or(""))).take(4).cloned().collect();
    Json(picks)
}

#[derive(Deserialize)]
struct AdQuery {
    #[serde(rename = "contextKeys", default)]
    context_keys: Option<String>,
}

async fn ads(State(shop): State<Arc<Shop>>, Query(q): Query<AdQuery>) -> Json<Vec<Value>> {
    let mut out: Vec<Value> = q.context_keys.as_deref().unwrap_or("").split(',').filter_map(|k| shop.ads.get(k.trim())).flatten().cloned().collect();
    if out.is_empty() {
        let all: Vec<&Value> = shop.ads.values().flatten().collect();
        let start = shop.next.fetch_add(1, Ordering::Relaxed) as usize;
        out = (0..shop.random_ads.min(all.len())).map(|i| all[(start + i) % all.len()].clone()).collect();
    }
    Json(out)
}

/// The frontend drops the trailing slash with a permanent redirect.
async fn ads_slash(RawQuery(q): RawQuery) -> Redirect {
    match q {
        Some(q) if !q.is_empty() => Redirect::permanent(&format!("/api/data?{q}")),
        _ => Redirect::permanent("/api/data"),
    }
}

#[derive(Deserialize)]
struct CartQuery {
    #[serde(rename = "sessionId", alias = "userId", default)]
    user: Option<String>,
}

async fn view_cart(State(shop): State<Arc<Shop>>, headers: HeaderMap, Query(q): Query<CartQuery>) -> Json<Value> {
    let user = q.user.or_else(|| baggage(&headers, "session.id")).unwrap_or_default();
    Json(shop.cart_json(&user))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CartItem {
    #[serde(rename = "productId")]
    product_id: String,
    quantity: u64,
}

#[derive(Deserialize)]
struct AddToCart {
    item: CartItem,
    #[serde(rename = "userId")]
    user_id: String,
}

async fn add_to_cart(State(shop): State<Arc<Shop>>, body: Bytes) -> Response {
    let add: AddToCart = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => return bad_request(&shop, format!("cart item: {e}")),
    };
    if !shop.by_id.contains_key(&add.item.product_id) {
        return bad_request(&shop, format!("no product {}", add.item.product_id));
    }
    if add.item.quantity == 0 || add.user_id.is_empty() {
        return bad_request(&shop, "quantity must be above 0 and userId set".into());
    }
    {
        let mut carts = lock(&shop.carts);
        // The demo's shoppers fill carts they never check out: bound them.
        if carts.len() >= MAX_CARTS && !carts.contains_key(&add.user_id) {
            carts.clear();
        }
        carts.entry(add.user_id.clone()).or_default().push((add.item.product_id, add.item.quantity));
    }
    Json(shop.cart_json(&add.user_id)).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // the fields are read to validate the body's shape
struct Address {
    street_address: String,
    city: String,
    state: String,
    country: String,
    zip_code: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct CreditCard {
    credit_card_number: String,
    credit_card_cvv: u32,
    credit_card_expiration_year: u32,
    credit_card_expiration_month: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Checkout {
    user_id: String,
    email: String,
    address: Address,
    user_currency: String,
    #[allow(dead_code)]
    credit_card: CreditCard,
}

async fn checkout(State(shop): State<Arc<Shop>>, body: Bytes) -> Response {
    let order: Checkout = match serde_json::from_slice(&body) {
        Ok(o) => o,
        Err(e) => return bad_request(&shop, format!("checkout: {e}")),
    };
    if !order.email.contains('@') || order.user_currency.len() != 3 {
        return bad_request(&shop, "checkout: email or currency is malformed".into());
    }
    let items = lock(&shop.carts).remove(&order.user_id).unwrap_or_default();
    let n = shop.next.fetch_add(1, Ordering::Relaxed);
    lock(&shop.seen).orders += 1;
    let items: Vec<Value> =
        items.iter().map(|(id, q)| json!({ "item": { "productId": id, "quantity": q }, "cost": shop.by_id.get(id).map(|p| p["priceUsd"].clone()) })).collect();
    Json(json!({
        "orderId": format!("order-{n:08}"),
        "shippingTrackingId": format!("track-{n:08}"),
        "shippingCost": { "currencyCode": order.user_currency, "units": 8, "nanos": 990000000 },
        "shippingAddress": {
            "streetAddress": order.address.street_address,
            "city": order.address.city,
            "state": order.address.state,
            "country": order.address.country,
            "zipCode": order.address.zip_code,
        },
        "items": items,
    }))
    .into_response()
}

async fn shop_stats(State(shop): State<Arc<Shop>>) -> Json<Value> {
    let seen = lock(&shop.seen);
    let mut sessions: Vec<&String> = seen.sessions.iter().collect();
    sessions.sort();
    Json(json!({
        "routes": seen.routes,
        "sessions": sessions,
        "without_synthetic_request": seen.without_synthetic,
        "without_traceparent": seen.without_traceparent,
        "bad_requests": seen.bad_requests,
        "orders": seen.orders,
    }))
}

fn shop_router() -> Router {
    let shop = Arc::new(Shop::new());
    Router::new()
        .route("/", get(home))
        .route("/api/products/{id}", get(product))
        .route("/api/recommendations", get(recommendations))
        .route("/api/data", get(ads))
        .route("/api/data/", get(ads_slash))
        .route("/api/cart", get(view_cart).post(add_to_cart))
        .route("/api/checkout", post(checkout))
        .route("/_shop/stats", get(shop_stats))
        .layer(middleware::from_fn_with_state(shop.clone(), observe))
        .with_state(shop)
}

/// OFREP single-flag evaluation over a flagd flag file, as flagd serves it.
async fn ofrep_evaluate(State(flags): State<Arc<FileProvider>>, Path(key): Path<String>, body: Bytes) -> Response {
    let ctx: Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                return (StatusCode::BAD_REQUEST, Json(json!({"key": key, "errorCode": "INVALID_CONTEXT", "errorDetails": e.to_string()}))).into_response()
            }
        }
    };
    match flags.evaluate_json(&key, &ctx["context"]) {
        Ok((value, variant, reason)) => Json(json!({ "key": key, "value": value, "variant": variant, "reason": reason, "metadata": {} })).into_response(),
        Err((code, details)) => {
            let status = if code == "FLAG_NOT_FOUND" { StatusCode::NOT_FOUND } else { StatusCode::BAD_REQUEST };
            (status, Json(json!({ "key": key, "errorCode": code, "errorDetails": details }))).into_response()
        }
    }
}

fn ofrep_router(flags: Arc<FileProvider>) -> Router {
    Router::new()
        .route("/ofrep/v1/evaluate/flags/{key}", post(ofrep_evaluate))
        .route("/", get(|| async { (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], "OFREP flag service (wasp shop)\n") }))
        .with_state(flags)
}

/// The shop and its flag service, listening.
pub struct Running {
    pub shop: SocketAddr,
    pub ofrep: SocketAddr,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    pub fn stop(&self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Binds the shop on `addr` and its OFREP service on `ofrep_addr`, serving
/// `flags_file` (the demo's flag file when none is given).
pub async fn start(addr: SocketAddr, ofrep_addr: SocketAddr, flags_file: Option<PathBuf>) -> Result<Running, String> {
    let provider = match flags_file {
        Some(p) => FileProvider::open(p)?,
        None => FileProvider::from_text(DEMO_FLAGS)?,
    };
    let shop_l = tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let ofrep_l = tokio::net::TcpListener::bind(ofrep_addr).await.map_err(|e| format!("cannot listen on {ofrep_addr}: {e}"))?;
    let (shop, ofrep) = (shop_l.local_addr().map_err(|e| e.to_string())?, ofrep_l.local_addr().map_err(|e| e.to_string())?);
    let t1 = tokio::spawn(async move {
        let _ = axum::serve(shop_l, shop_router()).await;
    });
    let flags = Arc::new(provider);
    let t2 = tokio::spawn(async move {
        let _ = axum::serve(ofrep_l, ofrep_router(flags)).await;
    });
    Ok(Running { shop, ofrep, tasks: vec![t1, t2] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baggage_members_are_found_and_decoded() {
        let mut h = HeaderMap::new();
        h.insert("baggage", "a=1, session.id=abc%20d;prop=x,synthetic_request=true".parse().unwrap());
        assert_eq!(baggage(&h, "session.id").as_deref(), Some("abc d"));
        assert_eq!(baggage(&h, "synthetic_request").as_deref(), Some("true"));
        assert_eq!(baggage(&h, "missing"), None);
    }
}

#[cfg(test)]
mod demo_flags {
    use open_feature::EvaluationContext;
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry::Context;
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    use wasp_flags::{Flags, Source};

    /// The demo's own flag file loads, targeting included; a change to the file
    /// is seen by the next evaluation; unknown flags and types give the default.
    #[tokio::test]
    async fn a_flagd_file_is_evaluated_and_followed() {
        let dir = std::env::temp_dir().join(format!("wasp-flags-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("demo.flagd.json");
        let demo = crate::DEMO_FLAGS.to_string();
        std::fs::write(&file, &demo).unwrap();
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
        let flags = Flags::new(&Source::File(file.clone()), Some(provider.tracer("t"))).await.unwrap();
        let ctx = EvaluationContext::default().with_targeting_key("1");
        let root = Context::new();
        assert_eq!(flags.get("loadGeneratorVUs", 0i64, &ctx, &root).await, 5);
        assert_eq!(flags.get("loadGeneratorFloodHomepage", 7i64, &ctx, &root).await, 0);
        let product = ctx.clone().with_custom_field("product_id", "OLJCESPC7Z");
        assert!(!flags.get("productCatalogFailure", true, &product, &root).await, "targeting picks the 'off' variant");
        assert_eq!(flags.get("cartFailure", 1.0f64, &ctx, &root).await, 0.0);
        assert_eq!(flags.get("noSuchFlag", 42i64, &ctx, &root).await, 42, "unknown: default");
        assert_eq!(flags.get("adFailure", 9i64, &ctx, &root).await, 9, "a bool asked as an int: default");

        // Edit the file: the next evaluation follows (mtime granularity: make it differ).
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&file, demo.replace("\"defaultVariant\": \"5\"", "\"defaultVariant\": \"25\"")).unwrap();
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(2);
        std::fs::File::options().write(true).open(&file).unwrap().set_modified(later).unwrap();
        assert_eq!(flags.get("loadGeneratorVUs", 0i64, &ctx, &root).await, 25);

        let spans = exporter.get_finished_spans().unwrap();
        assert!(spans.len() >= 7);
        assert!(spans.iter().all(|s| s.name == "feature_flag.evaluate"));
        assert!(spans.iter().any(|s| s.attributes.iter().any(|kv| kv.key.as_str() == "feature_flag.key" && kv.value.as_str() == "loadGeneratorVUs")));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
