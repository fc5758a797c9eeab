"""The Python twin of tests/plugins/shared (wasp:plugin@0.2): users sharing
instances, each with its own cookie, baggage, spans and task count."""

import random

from wasp_async import User, export, tag, task


class Shared(User):
    async def on_start(self):
        self.done = 0
        (await self.client.get(f"/start?u={self.user_id}")).raise_for_status()
        (await self.client.get(f"/login?u={self.user_id}")).raise_for_status()
        self.baggage.set("wasp.test.user", str(self.user_id))

    @task
    @tag("hello")
    async def hello(self):
        self.done += 1
        h = {"x-user": str(self.user_id), "x-seq": str(self.done)}
        await self.client.get(f"/hello?u={self.user_id}", headers=h)
        (await self.client.get(f"/whoami?u={self.user_id}", headers=h)).raise_for_status()

    @task
    @tag("spin")
    async def spin(self):
        # User 3 computes without end in its tenth task, once in the run (the
        # target answers "first" once); everyone else says hello.
        if self.user_id == 3 and self.done >= 9 and (await self.client.get("/once?key=spin")).text == "first":
            while True:
                pass
        await self.hello()

    @task
    @tag("dice")
    async def dice(self):
        # Random numbers drawn before and after an await, sent as x-r headers.
        for _ in range(2):
            h = {"x-user": str(self.user_id), "x-r": str(random.randrange(1 << 40))}
            await self.client.get(f"/hello?u={self.user_id}", headers=h)


Behaviour = export(Shared)
