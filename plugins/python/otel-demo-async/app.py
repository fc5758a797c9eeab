"""The OpenTelemetry demo's shopper in Python for wasp:plugin@0.2 (many
shoppers per instance): the same traffic as plugins/python/otel-demo, with
``async def`` tasks that await the host."""

import random
import uuid

from wasp_async import User, between, export, task

from shop import CATEGORIES, CHECKOUT_ITEMS, PRODUCT_IDS, QUANTITIES, cart_item, checkout_body


class Shopper(User):
    name = "otel-demo shopper"
    wait = between(1, 10)

    def _enter(self, name, nested):
        """The task's own span renamed, or a child span when called from another task."""
        if nested:
            self.telemetry.start_span(name)
        else:
            self.telemetry.set_span_name(name)

    def _leave(self, nested):
        if nested:
            self.telemetry.end_span()

    async def on_start(self):
        session = str(uuid.uuid4())
        self.baggage.set("session.id", session)
        self.baggage.set("synthetic_request", "true")
        self.telemetry.set_span_name("user_session_start")
        self.log.info(f"new session {session}")
        await self._index(nested=True)

    async def _index(self, nested):
        self._enter("user_index", nested)
        try:
            self.log.info("user visits the home page")
            await self.client.get("/")
        finally:
            self._leave(nested)

    @task(1)
    async def index(self):
        await self._index(nested=False)

    @task(10)
    async def browse_product(self):
        self.telemetry.set_span_name("user_browse_product")
        product = random.choice(PRODUCT_IDS)
        self.telemetry.set_attribute("product.id", product)
        self.log.info(f"user browses product {product}")
        await self.client.get(f"/api/products/{product}", name="/api/products/{id}")

    @task(3)
    async def get_recommendations(self):
        self.telemetry.set_span_name("user_get_recommendations")
        product = random.choice(PRODUCT_IDS)
        self.telemetry.set_attribute("product.id", product)
        self.log.info(f"user gets recommendations for product {product}")
        await self.client.get(f"/api/recommendations?productIds={product}")

    @task(3)
    async def get_ads(self):
        self.telemetry.set_span_name("user_get_ads")
        category = random.choice(CATEGORIES)
        self.telemetry.set_attribute("category", category or "none")
        self.log.info(f"user gets ads for category {category or 'none'}")
        if category:
            await self.client.get(f"/api/data/?contextKeys={category}")
        else:
            await self.client.get("/api/data/")

    @task(3)
    async def view_cart(self):
        self.telemetry.set_span_name("user_view_cart")
        self.log.info("user views the cart")
        await self.client.get("/api/cart")

    async def _add_to_cart(self, user, nested):
        self._enter("user_add_to_cart", nested)
        try:
            product = random.choice(PRODUCT_IDS)
            quantity = random.choice(QUANTITIES)
            self.telemetry.set_attribute("product.id", product)
            self.telemetry.set_attribute("user.id", user)
            self.telemetry.set_attribute("quantity", quantity)
            self.log.info(f"user {user} adds {quantity} of product {product} to the cart")
            await self.client.get(f"/api/products/{product}", name="/api/products/{id}")
            await self.client.post("/api/cart", json=cart_item(product, quantity, user))
        finally:
            self._leave(nested)

    @task(2)
    async def add_to_cart(self):
        await self._add_to_cart(str(uuid.uuid1()), nested=False)

    async def _checkout(self, user):
        await self.client.post("/api/checkout", json=checkout_body(user))

    @task(1)
    async def checkout(self):
        self.telemetry.set_span_name("user_checkout_single")
        user = str(uuid.uuid1())
        self.telemetry.set_attribute("user.id", user)
        self.log.info(f"user {user} checks out one item")
        await self._add_to_cart(user, nested=True)
        await self._checkout(user)

    @task(1)
    async def checkout_multi(self):
        self.telemetry.set_span_name("user_checkout_multi")
        user = str(uuid.uuid1())
        items = random.choice(CHECKOUT_ITEMS)
        self.telemetry.set_attribute("user.id", user)
        self.telemetry.set_attribute("item.count", items)
        self.log.info(f"user {user} checks out {items} items")
        for _ in range(items):
            await self._add_to_cart(user, nested=True)
        await self._checkout(user)

    @task(5)
    async def flood_home(self):
        count = max(0, await self.flags.int("loadGeneratorFloodHomepage", 0))
        self.log.info(f"user floods the home page {count} times")
        if count == 0:
            # As the demo's generator: no span for a flood that sends nothing.
            self.telemetry.discard_span()
            return
        self.telemetry.set_span_name("user_flood_home")
        self.telemetry.set_attribute("flood.count", count)
        for _ in range(count):
            await self.client.get("/")


Behaviour = export(Shopper)
