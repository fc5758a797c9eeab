from wit_world.exports import behaviour
from wit_world.imports import http
from componentize_py_types import Err


class User(behaviour.User):
    def __init__(self, id: int) -> None:
        self.id = id
        self.done = 0

    async def run_task(self, index: int) -> int:
        status = await http.get(f"/?u={self.id}&t={index}")
        if status != 200:
            raise Err(f"status {status}")
        self.done += 1
        return self.done
