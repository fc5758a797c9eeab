"""The OpenTelemetry demo's shopper in Python: the same traffic as the Rust
otel-demo plugin (and the demo's Locust file) — nine tasks by weight, their
requests, bodies, random choices, span names and attributes, one INFO log per
task, 1-10 s between tasks."""

import random
import uuid

from wasp import User, baggage, between, export, flags, log, task, telemetry

from shop import CATEGORIES, CHECKOUT_ITEMS, PRODUCT_IDS, QUANTITIES, cart_item, checkout_body


class _Nested:
    """The task's own span renamed, or a child span when called from another task."""

    def __init__(self, name, nested):
        self.name, self.nested, self.span = name, nested, None

    def __enter__(self):
        if self.nested:
            self.span = telemetry.span(self.name).__enter__()
        else:
            telemetry.set_span_name(self.name)
        return self

    def __exit__(self, *exc):
        if self.span:
            self.span.__exit__(*exc)
        return False


class Shopper(User):
    name = "otel-demo shopper"
    wait = between(1, 10)

    def on_start(self):
        session = str(uuid.uuid4())
        baggage.set("session.id", session)
        baggage.set("synthetic_request", "true")
        telemetry.set_span_name("user_session_start")
        log.info(f"new session {session}")
        self._index(nested=True)

    def _index(self, nested):
        with _Nested("user_index", nested):
            log.info("user visits the home page")
            self.client.get("/")

    @task(1)
    def index(self):
        self._index(nested=False)

    @task(10)
    def browse_product(self):
        telemetry.set_span_name("user_browse_product")
        product = random.choice(PRODUCT_IDS)
        telemetry.set_attribute("product.id", product)
        log.info(f"user browses product {product}")
        self.client.get(f"/api/products/{product}", name="/api/products/{id}")

    @task(3)
    def get_recommendations(self):
        telemetry.set_span_name("user_get_recommendations")
        product = random.choice(PRODUCT_IDS)
        telemetry.set_attribute("product.id", product)
        log.info(f"user gets recommendations for product {product}")
        self.client.get(f"/api/recommendations?productIds={product}")

    @task(3)
    def get_ads(self):
        telemetry.set_span_name("user_get_ads")
        category = random.choice(CATEGORIES)
        telemetry.set_attribute("category", category or "none")
        log.info(f"user gets ads for category {category or 'none'}")
        if category:
            self.client.get(f"/api/data/?contextKeys={category}")
        else:
            self.client.get("/api/data/")

    @task(3)
    def view_cart(self):
        telemetry.set_span_name("user_view_cart")
        log.info("user views the cart")
        self.client.get("/api/cart")

    def _add_to_cart(self, user, nested):
        with _Nested("user_add_to_cart", nested):
            product = random.choice(PRODUCT_IDS)
            quantity = random.choice(QUANTITIES)
            telemetry.set_attribute("product.id", product)
            telemetry.set_attribute("user.id", user)
            telemetry.set_attribute("quantity", quantity)
            log.info(f"user {user} adds {quantity} of product {product} to the cart")
            self.client.get(f"/api/products/{product}", name="/api/products/{id}")
            self.client.post("/api/cart", json=cart_item(product, quantity, user))

    @task(2)
    def add_to_cart(self):
        self._add_to_cart(str(uuid.uuid1()), nested=False)

    def _checkout(self, user):
        self.client.post("/api/checkout", json=checkout_body(user))

    @task(1)
    def checkout(self):
        telemetry.set_span_name("user_checkout_single")
        user = str(uuid.uuid1())
        telemetry.set_attribute("user.id", user)
        log.info(f"user {user} checks out one item")
        self._add_to_cart(user, nested=True)
        self._checkout(user)

    @task(1)
    def checkout_multi(self):
        telemetry.set_span_name("user_checkout_multi")
        user = str(uuid.uuid1())
        items = random.choice(CHECKOUT_ITEMS)
        telemetry.set_attribute("user.id", user)
        telemetry.set_attribute("item.count", items)
        log.info(f"user {user} checks out {items} items")
        for _ in range(items):
            self._add_to_cart(user, nested=True)
        self._checkout(user)

    @task(5)
    def flood_home(self):
        count = max(0, flags.int("loadGeneratorFloodHomepage", 0))
        log.info(f"user floods the home page {count} times")
        if count == 0:
            # As the demo's generator: no span for a flood that sends nothing.
            telemetry.discard_span()
            return
        telemetry.set_span_name("user_flood_home")
        telemetry.set_attribute("flood.count", count)
        for _ in range(count):
            self.client.get("/")


Behaviour = export(Shopper)
