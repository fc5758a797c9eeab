"""The quickstart in Python: browse the home page, now and then post an item."""

from wasp import User, between, context, export, log, tag, task


class Quickstart(User):
    wait = between(0.5, 1.5)

    def on_start(self):
        self.created = 0

    @task(3)
    def index(self):
        log.info("browsing the home page")
        self.client.get("/")

    @task(1)
    @tag("write")
    def create_item(self):
        self.created += 1
        item = {"name": "wasp", "user": context.user_id(), "n": self.created}
        r = self.client.post("/items", json=item)
        if r.status_code not in (200, 201):
            r.failure("check failed: created")


Behaviour = export(Quickstart)
