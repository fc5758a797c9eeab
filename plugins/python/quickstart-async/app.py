"""The quickstart in Python for wasp:plugin@0.2: many users per instance."""

from wasp_async import User, between, export, tag, task


class Quickstart(User):
    wait = between(0.5, 1.5)

    async def on_start(self):
        self.created = 0
        self.telemetry.discard_span()

    @task(3)
    async def index(self):
        await self.client.get("/")

    @task(1)
    @tag("write")
    async def create_item(self):
        self.created += 1
        item = {"name": "wasp", "user": self.user_id, "n": self.created}
        r = await self.client.post("/items", json=item)
        if r.status_code not in (200, 201):
            r.failure("check failed: created")


Behaviour = export(Quickstart)
