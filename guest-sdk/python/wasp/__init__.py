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

import json as _json

from componentize_py_types import Err
from wit_world.exports import behaviour as _wit
from wit_world.imports import baggage, context, log as _log, telemetry as _telemetry
from wit_world.imports import flags as _flags
from wit_world.imports import http as _http
from wit_world.imports import types as _types

WIT_VERSION = "0.1.1"

__all__ = [
    "User", "task", "tag", "between", "constant", "constant_pacing", "export",
    "Response", "HttpError", "baggage", "context", "log", "telemetry", "flags",
]


# ---- waits (seconds, as in Locust) -------------------------------------------------

def _ms(seconds):
    return max(0, int(round(seconds * 1000)))


def between(min_wait, max_wait):
    """Wait uniformly between ``min_wait`` and ``max_wait`` seconds."""
    return _wit.Wait_Between((_ms(min_wait), _ms(max_wait)))


def constant(wait):
    """Wait ``wait`` seconds between tasks."""
    return _wit.Wait_Constant(_ms(wait)) if wait > 0 else _wit.Wait_None_()


def constant_pacing(period):
    """Start a task every ``period`` seconds."""
    return _wit.Wait_Pacing(_ms(period))


# ---- tasks ---------------------------------------------------------------------------

def task(weight=1):
    """Marks a method as a task, with a weight (``@task`` or ``@task(3)``)."""
    if callable(weight):
        weight.wasp_weight = 1
        return weight

    def mark(fn):
        fn.wasp_weight = int(weight)
        return fn
    return mark


def tag(*tags):
    """Tags a task, for ``wasp run --tags/--exclude-tags``."""
    def mark(fn):
        fn.wasp_tags = list(getattr(fn, "wasp_tags", [])) + list(tags)
        return fn
    return mark


# ---- HTTP ----------------------------------------------------------------------------

class HttpError(Exception):
    """No answer came: timeout, connect, protocol, denied or invalid."""

    def __init__(self, kind, message):
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


class Headers:
    """A response's headers, as ``requests`` keeps them: names case-insensitive,
    a repeated header (``Set-Cookie``) kept — ``headers[name]`` joins its values
    with ", ", ``get_all(name)`` lists them."""

    def __init__(self, pairs):
        self._pairs = [(str(k), str(v)) for k, v in pairs]

    def get_all(self, name):
        n = name.lower()
        return [v for k, v in self._pairs if k.lower() == n]

    def __getitem__(self, name):
        values = self.get_all(name)
        if not values:
            raise KeyError(name)
        return ", ".join(values)

    def get(self, name, default=None):
        try:
            return self[name]
        except KeyError:
            return default

    def __contains__(self, name):
        return bool(self.get_all(str(name)))

    def keys(self):
        seen = []
        for k, _ in self._pairs:
            if k.lower() not in seen:
                seen.append(k.lower())
        return seen

    def __iter__(self):
        return iter(self.keys())

    def __len__(self):
        return len(self.keys())

    def items(self):
        return [(k, self[k]) for k in self.keys()]

    def __repr__(self):
        return f"Headers({self._pairs!r})"


class Response:
    """An answer. ``status_code < 400`` is a success unless you call ``failure``."""

    def __init__(self, r):
        self.id = r.id
        self.status_code = r.status
        self.headers = Headers(r.headers)
        self.content = r.body
        self.truncated = r.truncated
        self.url = r.url
        self.elapsed = r.elapsed_us / 1e6

    @property
    def ok(self):
        return self.status_code < 400

    @property
    def text(self):
        return self.content.decode("utf-8", "replace")

    def json(self):
        return _json.loads(self.content)

    def failure(self, message):
        """Counts this response as failed (Locust's ``catch_response`` ``failure``)."""
        _http.fail(self.id, str(message))

    def success(self):
        """Counts this response as a success, whatever its status."""
        _http.pass_(self.id)

    def raise_for_status(self):
        if not self.ok:
            raise Exception(f"HTTP {self.status_code} from {self.url}")
        return self


_METHODS = {m.name: m for m in _types.Method}


class Client:
    """``self.client``: requests through the host (cookies per user, redirects
    followed, relative URLs joined to ``--host``)."""

    def request(self, method, url, name=None, headers=None, json=None, data=None, timeout=None):
        hdrs = [(str(k), str(v)) for k, v in (headers or {}).items()]
        body = None
        if json is not None:
            body = _json.dumps(json, separators=(",", ":")).encode()
            if not any(k.lower() == "content-type" for k, _ in hdrs):
                hdrs.append(("content-type", "application/json"))
        elif data is not None:
            body = data.encode() if isinstance(data, str) else bytes(data)
        req = _types.Request(
            method=_METHODS[method.upper()],
            url=url,
            headers=hdrs,
            body=body,
            name=name,
            timeout_ms=None if timeout is None else _ms(timeout),
        )
        try:
            return Response(_http.send(req))
        except Err as e:
            kind = type(e.value).__name__.split("_")[-1].lower()
            raise HttpError(kind, e.value.value) from None

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


def _value(v):
    if isinstance(v, bool):
        return _telemetry.Value_Boolean(v)
    if isinstance(v, int):
        return _telemetry.Value_Int(v)
    if isinstance(v, float):
        return _telemetry.Value_Float(v)
    return _telemetry.Value_Str(str(v))


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
        _telemetry.set_attribute(key, _value(value))

    def span(self, name):
        return _Span(name)

    def event(self, name, **attrs):
        _telemetry.add_event(name, [(k, _value(v)) for k, v in attrs.items()])

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


def _tasks(cls):
    seen, out = set(), []
    for klass in reversed(cls.__mro__):
        for attr, fn in vars(klass).items():
            if callable(fn) and hasattr(fn, "wasp_weight"):
                if attr in seen:
                    out = [t for t in out if t[0] != attr]
                seen.add(attr)
                out.append((attr, fn))
    return out


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
    tasks = _tasks(cls)
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
            wait = cls.wait if cls.wait is not None else _wit.Wait_None_()
            return _wit.Info(
                name=cls.name or cls.__name__,
                tasks=[_wit.Task(name=n, weight=fn.wasp_weight, tags=list(getattr(fn, "wasp_tags", []))) for n, fn in tasks],
                wait=wait,
            )

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
