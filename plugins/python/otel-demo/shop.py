"""What the two Python shoppers share (this folder's, for wasp:plugin@0.1, and
plugins/python/otel-demo-async, for 0.2): the demo's products, people and
choices, and the bodies of its cart and checkout requests. No SDK here: each
shopper brings its own."""

import json
import os
import random
import sys


def _load(name):
    # Read at build time: componentize-py runs this import while it builds the
    # component, so the shared data files end up inside it.
    for base in sys.path:
        path = os.path.join(base, "data", name)
        if os.path.exists(path):
            with open(path) as f:
                return json.load(f)
    raise FileNotFoundError(f"data/{name} (build with -p plugins/otel-demo)")


PRODUCT_IDS = [p["id"] for p in _load("products.json")["products"]]
PEOPLE = _load("people.json")
CATEGORIES = ["binoculars", "telescopes", "accessories", "assembly", "travel", "books", None]
QUANTITIES = [1, 2, 3, 4, 5, 10]
# How many items a multi-item checkout puts into the cart.
CHECKOUT_ITEMS = [2, 3, 4]


def cart_item(product, quantity, user):
    """The body of `POST /api/cart`."""
    return {"item": {"productId": product, "quantity": quantity}, "userId": user}


def checkout_body(user):
    """The body of `POST /api/checkout`: one of the demo's people, as `user`."""
    person = dict(random.choice(PEOPLE))
    person["userId"] = user
    return person
