"""wasp-sdk for Python: write wasp users the way you write a Locust file.

    from wasp import User, task, between, export

    class Quickstart(User):
        wait = between(0.5, 1.5)

        @task(3)
        def index(self):
            self.client.get("/")

    Behaviour = export(Quickstart)

Built into a WebAssembly component with componentize-py against wasp's WIT
(world ``wasp:plugin/user``); see ``scripts/build-python-plugins``. One instance
of the component is one simulated user, so one object of your class lives in it.
The host picks tasks by weight, waits between them, times and traces every
request (``traceparent`` and ``baggage`` included).
"""


from componentize_py_types import Err
from wit_world.imports import baggage, context, log as _log, telemetry as _telemetry
from wit_world.imports import flags as _flags
from wit_world.imports import http as _http

import wasp_common as _common
from wasp_common import HttpError, between, constant, constant_pacing, tag, task

WIT_VERSION = "0.1.2"

__all__ = [
    "User", "task", "tag", "between", "constant", "constant_pacing", "export",
    "Response", "HttpError", "baggage", "context", "log", "telemetry", "flags",
]


# ---- HTTP ----------------------------------------------------------------------------

class Response(_common.Answer):
    """An answer. ``status_code < 400`` is a success unless you call ``failure``.
    ``headers`` keeps every header, names case-insensitive (``get_all`` for repeats)."""

    def failure(self, message):
        """Counts this response as failed (Locust's ``catch_response`` ``failure``)."""
        _http.fail(self.id, str(message))

    def success(self):
        """Counts this response as a success, whatever its status."""
        _http.pass_(self.id)


class Client:
    """``self.client``: requests through the host (cookies per user, redirects
    followed, relative URLs joined to ``--host``)."""

    def request(self, method, url, name=None, headers=None, json=None, data=None, timeout=None):
        req = _common.request(method, url, name=name, headers=headers, json=json, data=data, timeout=timeout)
        try:
            return Response(_http.send(req))
        except Err as e:
            raise _common.http_error(e) from None

    def get(self, url, **kw):
        return self.request("GET", url, **kw)

    def post(self, url, **kw):
        return self.request("POST", url, **kw)

    def put(self, url, **kw):
        return self.request("PUT", url, **kw)

    def patch(self, url, **kw):
        return self.request("PATCH", url, **kw)

    def delete(self, url, **kw):
        return self.request("DELETE", url, **kw)

    def head(self, url, **kw):
        return self.request("HEAD", url, **kw)

    def options(self, url, **kw):
        return self.request("OPTIONS", url, **kw)


# ---- logs, spans, flags --------------------------------------------------------------

class _Log:
    """``log.info("...")`` etc.: lines in the host's log, tied to the current span."""

    def _emit(self, level, message, attrs):
        _log.log(level, str(message), [(str(k), str(v)) for k, v in attrs.items()])

    def trace(self, message, **attrs):
        self._emit(_log.Level.TRACE, message, attrs)

    def debug(self, message, **attrs):
        self._emit(_log.Level.DEBUG, message, attrs)

    def info(self, message, **attrs):
        self._emit(_log.Level.INFO, message, attrs)

    def warning(self, message, **attrs):
        self._emit(_log.Level.WARN, message, attrs)

    warn = warning

    def error(self, message, **attrs):
        self._emit(_log.Level.ERROR, message, attrs)


log = _Log()


class _Span:
    def __init__(self, name):
        self.name = name

    def __enter__(self):
        _telemetry.start_span(self.name)
        return self

    def __exit__(self, *exc):
        _telemetry.end_span()
        return False


class _Telemetry:
    """Spans: ``telemetry.set_span_name``, ``set_attribute``, ``with telemetry.span("x"):``."""

    def set_span_name(self, name):
        _telemetry.set_span_name(name)

    def set_attribute(self, key, value):
        _telemetry.set_attribute(key, _common.value(value))

    def span(self, name):
        return _Span(name)

    def event(self, name, **attrs):
        _telemetry.add_event(name, [(k, _common.value(v)) for k, v in attrs.items()])

    def exception(self, message):
        _telemetry.record_exception(str(message))

    def discard_span(self):
        """Drop the span of the current task (or on_start/on_stop): it is not exported."""
        _telemetry.discard_span()


telemetry = _Telemetry()


class _Flags:
    """Feature flags evaluated by the host (OpenFeature); the default when unknown."""

    def bool(self, key, default=False):
        return _flags.get_bool(key, default)

    def int(self, key, default=0):
        return _flags.get_int(key, default)

    def float(self, key, default=0.0):
        return _flags.get_float(key, default)

    def string(self, key, default=""):
        return _flags.get_string(key, default)


flags = _Flags()


# ---- the user and its export ---------------------------------------------------------

class User:
    """Subclass it; mark tasks with ``@task``; set ``wait``. Optional
    ``on_start``/``on_stop``. ``name`` defaults to the class name."""

    wait = None
    name = None

    def __init__(self):
        self.client = Client()

    def on_start(self):
        # Nothing done: no span for it.
        _telemetry.discard_span()

    def on_stop(self):
        # Nothing done: no span for it.
        _telemetry.discard_span()


def _guard(call):
    try:
        call()
    except Err:
        raise
    except Exception as e:  # a task's exception is a task error, not a trap
        raise Err(f"{type(e).__name__}: {e}") from None


def export(cls):
    """Returns the ``Behaviour`` class componentize-py exports: assign it to a
    module-level name ``Behaviour`` in your app module."""
    tasks = _common.tasks_of(cls)
    state = {}

    def user():
        if "user" not in state:
            # The component was pre-initialised at build time, `random` with it:
            # reseed from the host's randomness (per user; fixed by --seed).
            import os
            import random
            random.seed(int.from_bytes(os.urandom(16), "little"))
            state["user"] = cls()
        return state["user"]

    class Behaviour(_wit_protocol()):
        def describe(self):
            return _common.info(cls, tasks)

        def on_start(self):
            _guard(lambda: user().on_start())

        def run_task(self, index):
            # The lookup too: a fault of the SDK's own is a task error, not a trap.
            _guard(lambda: tasks[index][1](user()))

        def on_stop(self):
            try:
                user().on_stop()
            except Exception as e:
                log.warning(f"on_stop: {type(e).__name__}: {e}")

    return Behaviour


def _wit_protocol():
    from wit_world import exports
    return exports.Behaviour
