// The OpenTelemetry demo's shopper in JavaScript: the same traffic as the Rust
// otel-demo plugin (and the demo's Locust file) — nine tasks by weight, their
// requests, bodies, random choices, span names and attributes, one INFO log per
// task, 1-10 s between tasks.
import { User, baggage, between, exportUser, flags, http, log, task, telemetry } from "wasp-sdk";
// The demo's data (generated from plugins/otel-demo/data), choices and tasks.
import { CATEGORIES, PEOPLE, PRODUCT_IDS, QUANTITIES, choice, shopperTasks, timeUuids } from "./shop.js";

const hex = (n) => Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => b.toString(16).padStart(2, "0")).join("");

const uuid1 = timeUuids(hex);

// The task's own span renamed, or a child span when called from another task.
function inSpan(name, nested, f) {
  if (nested) return telemetry.span(name, f);
  telemetry.setSpanName(name);
  return f();
}

class Shopper extends User {
  static behaviourName = "otel-demo shopper";
  static wait = between(1, 10);
  static tasks = shopperTasks(task, uuid1);

  onStart() {
    const session = crypto.randomUUID();
    baggage.set("session.id", session);
    baggage.set("synthetic_request", "true");
    telemetry.setSpanName("user_session_start");
    log.info(`new session ${session}`);
    this.index(true);
  }

  index(nested) {
    inSpan("user_index", nested, () => {
      log.info("user visits the home page");
      http.get("/");
    });
  }

  browseProduct() {
    telemetry.setSpanName("user_browse_product");
    const product = choice(PRODUCT_IDS);
    telemetry.setAttribute("product.id", product);
    log.info(`user browses product ${product}`);
    http.get(`/api/products/${product}`, { name: "/api/products/{id}" });
  }

  getRecommendations() {
    telemetry.setSpanName("user_get_recommendations");
    const product = choice(PRODUCT_IDS);
    telemetry.setAttribute("product.id", product);
    log.info(`user gets recommendations for product ${product}`);
    http.get(`/api/recommendations?productIds=${product}`);
  }

  getAds() {
    telemetry.setSpanName("user_get_ads");
    const category = choice(CATEGORIES);
    telemetry.setAttribute("category", category ?? "none");
    log.info(`user gets ads for category ${category ?? "none"}`);
    http.get(category ? `/api/data/?contextKeys=${category}` : "/api/data/");
  }

  viewCart() {
    telemetry.setSpanName("user_view_cart");
    log.info("user views the cart");
    http.get("/api/cart");
  }

  addToCart(user, nested) {
    inSpan("user_add_to_cart", nested, () => {
      const product = choice(PRODUCT_IDS);
      const quantity = choice(QUANTITIES);
      telemetry.setAttribute("product.id", product);
      telemetry.setAttribute("user.id", user);
      telemetry.setAttribute("quantity", quantity);
      log.info(`user ${user} adds ${quantity} of product ${product} to the cart`);
      http.get(`/api/products/${product}`, { name: "/api/products/{id}" });
      http.post("/api/cart", { json: { item: { productId: product, quantity }, userId: user } });
    });
  }

  sendCheckout(user) {
    http.post("/api/checkout", { json: { ...choice(PEOPLE), userId: user } });
  }

  checkout() {
    telemetry.setSpanName("user_checkout_single");
    const user = uuid1();
    telemetry.setAttribute("user.id", user);
    log.info(`user ${user} checks out one item`);
    this.addToCart(user, true);
    this.sendCheckout(user);
  }

  checkoutMulti() {
    telemetry.setSpanName("user_checkout_multi");
    const user = uuid1();
    const items = choice([2, 3, 4]);
    telemetry.setAttribute("user.id", user);
    telemetry.setAttribute("item.count", items);
    log.info(`user ${user} checks out ${items} items`);
    for (let i = 0; i < items; i++) this.addToCart(user, true);
    this.sendCheckout(user);
  }

  floodHome() {
    const count = Math.max(0, flags.int("loadGeneratorFloodHomepage", 0));
    log.info(`user floods the home page ${count} times`);
    if (count === 0) {
      // As the demo's generator: no span for a flood that sends nothing.
      telemetry.discardSpan();
      return;
    }
    telemetry.setSpanName("user_flood_home");
    telemetry.setAttribute("flood.count", count);
    for (let i = 0; i < count; i++) http.get("/");
  }
}

export const behaviour = exportUser(Shopper);
