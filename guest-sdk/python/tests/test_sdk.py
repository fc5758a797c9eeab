"""The Python SDK's own logic, outside a component: the WIT bindings
componentize-py generates are stood in for by plain modules."""

import enum
import sys
import types
import unittest
from types import SimpleNamespace


def _stub_bindings():
    class Err(Exception):
        def __init__(self, value):
            super().__init__(value)
            self.value = value

    cpt = types.ModuleType("componentize_py_types")
    cpt.Err = Err
    sys.modules["componentize_py_types"] = cpt
    world = types.ModuleType("wit_world")
    exports = types.ModuleType("wit_world.exports")
    imports = types.ModuleType("wit_world.imports")
    behaviour = types.ModuleType("wit_world.exports.behaviour")
    for name in ["Wait_Between", "Wait_Constant", "Wait_Pacing", "Wait_None_", "Info", "Task"]:
        setattr(behaviour, name, lambda *a, **k: (a, k))
    exports.behaviour = behaviour
    exports.Behaviour = object
    tmod = types.ModuleType("wit_world.imports.types")
    tmod.Method = enum.Enum("Method", "GET HEAD POST PUT PATCH DELETE OPTIONS")
    for name in ["baggage", "context", "log", "telemetry", "flags", "http"]:
        setattr(imports, name, types.ModuleType(f"wit_world.imports.{name}"))
    imports.types = tmod
    world.exports, world.imports = exports, imports
    sys.modules.update({
        "wit_world": world,
        "wit_world.exports": exports,
        "wit_world.exports.behaviour": behaviour,
        "wit_world.imports": imports,
        "wit_world.imports.types": tmod,
    })
    for name in ["baggage", "context", "log", "telemetry", "flags", "http"]:
        sys.modules[f"wit_world.imports.{name}"] = getattr(imports, name)
    return Err


Err = _stub_bindings()
# The SDKs' shared module lives beside them (componentize-py gets its folder with -p).
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent / "common"))
import wasp  # noqa: E402


class ResponseHeaders(unittest.TestCase):
    def test_repeated_headers_are_kept_as_requests_keeps_them(self):
        r = wasp.Response(SimpleNamespace(
            id=1, status=200, body=b"", truncated=False, url="http://t/", elapsed_us=5,
            headers=[("Set-Cookie", "a=1"), ("set-cookie", "b=2"), ("Content-Type", "text/plain")],
        ))
        self.assertEqual(r.headers["SET-COOKIE"], "a=1, b=2")
        self.assertEqual(r.headers.get_all("set-cookie"), ["a=1", "b=2"])
        self.assertEqual(r.headers.get("content-type"), "text/plain")
        self.assertIsNone(r.headers.get("x-missing"))
        self.assertIn("Content-Type", r.headers)
        self.assertEqual(len(r.headers), 2)
        self.assertEqual(dict(r.headers.items()), {"set-cookie": "a=1, b=2", "content-type": "text/plain"})
        with self.assertRaises(KeyError):
            r.headers["x-missing"]


class Tasks(unittest.TestCase):
    def test_a_fault_of_the_sdk_inside_run_task_is_a_task_error(self):
        class U(wasp.User):
            @wasp.task
            def only(self):
                raise ValueError("the task's own")

        b = wasp.export(U)()
        with self.assertRaises(Err) as e:
            b.run_task(5)
        self.assertIn("IndexError", str(e.exception.value))
        with self.assertRaises(Err) as e:
            b.run_task(0)
        self.assertIn("ValueError: the task's own", str(e.exception.value))

    def test_the_default_on_start_and_on_stop_discard_their_span_and_overrides_do_not(self):
        calls = []
        sys.modules["wit_world.imports.telemetry"].discard_span = lambda: calls.append("discard")

        class Quiet(wasp.User):
            @wasp.task
            def only(self):
                pass

        class Busy(wasp.User):
            @wasp.task
            def only(self):
                pass

            def on_start(self):
                calls.append("start")

            def on_stop(self):
                calls.append("stop")

        q = wasp.export(Quiet)()
        q.on_start()
        q.on_stop()
        self.assertEqual(calls, ["discard", "discard"])
        calls.clear()
        b = wasp.export(Busy)()
        b.on_start()
        b.on_stop()
        self.assertEqual(calls, ["start", "stop"])


if __name__ == "__main__":
    unittest.main()
