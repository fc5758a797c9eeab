// The OpenTelemetry demo's shopper in JavaScript for wasp:plugin@0.2 (many
// users per instance): the same traffic as plugins/js/otel-demo — nine tasks by
// weight, their requests, bodies, random choices, span names and attributes,
// one INFO log per task, 1-10 s between tasks — with async tasks.
import { User, between, exportUser, task } from "wasp-sdk/async";
// The demo's data (generated from plugins/otel-demo/data), choices and tasks.
import { CATEGORIES, PEOPLE, PRODUCT_IDS, QUANTITIES, choice, shopperTasks, timeUuids } from "../otel-demo/shop.js";

// Math.random draws from the running user's own stream (see the SDK).
const hex = (n) => Array.from({ length: n }, () => Math.floor(Math.random() * 256).toString(16).padStart(2, "0")).join("");

// A random (version 4) UUID.
function uuid4() {
  const h = hex(16).split("");
  h[12] = "4";
  h[16] = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  const s = h.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

const uuid1 = timeUuids(hex);

class Shopper extends User {
  static behaviourName = "otel-demo shopper";
  static wait = between(1, 10);
  static tasks = shopperTasks(task, uuid1);

  // The task's own span renamed, or a child span when called from another task.
  inSpan(name, nested, f) {
    if (nested) return this.telemetry.span(name, f);
    this.telemetry.setSpanName(name);
    return f();
  }

  async onStart() {
    const session = uuid4();
    this.baggage.set("session.id", session);
    this.baggage.set("synthetic_request", "true");
    this.telemetry.setSpanName("user_session_start");
    this.log.info(`new session ${session}`);
    await this.index(true);
  }

  async index(nested) {
    await this.inSpan("user_index", nested, async () => {
      this.log.info("user visits the home page");
      await this.client.get("/");
    });
  }

  async browseProduct() {
    this.telemetry.setSpanName("user_browse_product");
    const product = choice(PRODUCT_IDS);
    this.telemetry.setAttribute("product.id", product);
    this.log.info(`user browses product ${product}`);
    await this.client.get(`/api/products/${product}`, { name: "/api/products/{id}" });
  }

  async getRecommendations() {
    this.telemetry.setSpanName("user_get_recommendations");
    const product = choice(PRODUCT_IDS);
    this.telemetry.setAttribute("product.id", product);
    this.log.info(`user gets recommendations for product ${product}`);
    await this.client.get(`/api/recommendations?productIds=${product}`);
  }

  async getAds() {
    this.telemetry.setSpanName("user_get_ads");
    const category = choice(CATEGORIES);
    this.telemetry.setAttribute("category", category ?? "none");
    this.log.info(`user gets ads for category ${category ?? "none"}`);
    await this.client.get(category ? `/api/data/?contextKeys=${category}` : "/api/data/");
  }

  async viewCart() {
    this.telemetry.setSpanName("user_view_cart");
    this.log.info("user views the cart");
    await this.client.get("/api/cart");
  }

  async addToCart(user, nested) {
    await this.inSpan("user_add_to_cart", nested, async () => {
      const product = choice(PRODUCT_IDS);
      const quantity = choice(QUANTITIES);
      this.telemetry.setAttribute("product.id", product);
      this.telemetry.setAttribute("user.id", user);
      this.telemetry.setAttribute("quantity", quantity);
      this.log.info(`user ${user} adds ${quantity} of product ${product} to the cart`);
      await this.client.get(`/api/products/${product}`, { name: "/api/products/{id}" });
      await this.client.post("/api/cart", { json: { item: { productId: product, quantity }, userId: user } });
    });
  }

  async sendCheckout(user) {
    await this.client.post("/api/checkout", { json: { ...choice(PEOPLE), userId: user } });
  }

  async checkout() {
    this.telemetry.setSpanName("user_checkout_single");
    const user = uuid1();
    this.telemetry.setAttribute("user.id", user);
    this.log.info(`user ${user} checks out one item`);
    await this.addToCart(user, true);
    await this.sendCheckout(user);
  }

  async checkoutMulti() {
    this.telemetry.setSpanName("user_checkout_multi");
    const user = uuid1();
    const items = choice([2, 3, 4]);
    this.telemetry.setAttribute("user.id", user);
    this.telemetry.setAttribute("item.count", items);
    this.log.info(`user ${user} checks out ${items} items`);
    for (let i = 0; i < items; i++) await this.addToCart(user, true);
    await this.sendCheckout(user);
  }

  async floodHome() {
    const count = Math.max(0, await this.flags.int("loadGeneratorFloodHomepage", 0));
    this.log.info(`user floods the home page ${count} times`);
    if (count === 0) {
      // As the demo's generator: no span for a flood that sends nothing.
      this.telemetry.discardSpan();
      return;
    }
    this.telemetry.setSpanName("user_flood_home");
    this.telemetry.setAttribute("flood.count", count);
    for (let i = 0; i < count; i++) await this.client.get("/");
  }
}

export const behaviour = exportUser(Shopper);
