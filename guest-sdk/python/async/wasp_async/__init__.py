"""wasp-sdk for Python, wasp:plugin@0.2: many users per instance, async tasks.

    from wasp_async import User, task, between, export

    class Quickstart(User):
        wait = between(0.5, 1.5)

        @task(3)
        async def index(self):
            await self.client.get("/")

    Behaviour = export(Quickstart)

One instance of the component runs many simulated users (``wasp run
--users-per-instance``): one object of your class per user. Tasks are
``async def`` and ``await`` the host's HTTP, so that while one user waits
for an answer the instance runs the others. Everything that acts for the
user hangs off it: ``self.client`` (HTTP with its own cookies),
``self.baggage``, ``self.log``, ``self.telemetry``, ``self.flags``,
``self.user_id``. Module-level state is the instance's, shared by its users.
"""


import contextvars as _contextvars
import random as _random

from componentize_py_types import Err
from wit_world.exports import behaviour as _wit
from wit_world.imports import baggage as _baggage, flags as _flags, http as _http
from wit_world.imports import log as _log, session as _session, telemetry as _telemetry

import wasp_common as _common
from wasp_common import HttpError, between, constant, constant_pacing, tag, task

WIT_VERSION = "0.2.1"

__all__ = ["User", "task", "tag", "between", "constant", "constant_pacing", "export", "Response", "HttpError"]


class Response(_common.Answer):
    """An answer. ``status_code < 400`` is a success unless you call ``failure``.
    ``headers`` keeps every header, names case-insensitive (``get_all`` for repeats)."""

    def __init__(self, session, r):
        super().__init__(r)
        self._session = session

    def failure(self, message):
        """Counts this response as failed (Locust's ``catch_response`` ``failure``)."""
        _http.fail(self._session, self.id, str(message))

    def success(self):
        """Counts this response as a success, whatever its status."""
        _http.pass_(self._session, self.id)


class Client:
    """``self.client``: this user's requests through the host (its own
    connections and cookies, redirects followed, relative URLs joined to
    ``--host``). Every method is a coroutine: ``await self.client.get("/")``."""

    def __init__(self, session):
        self._session = session

    async def request(self, method, url, name=None, headers=None, json=None, data=None, timeout=None):
        req = _common.request(method, url, name=name, headers=headers, json=json, data=data, timeout=timeout)
        try:
            return Response(self._session, await _http.send(self._session, req))
        except Err as e:
            raise _common.http_error(e) from None

    async def get(self, url, **kw):
        return await self.request("GET", url, **kw)

    async def post(self, url, **kw):
        return await self.request("POST", url, **kw)

    async def put(self, url, **kw):
        return await self.request("PUT", url, **kw)

    async def patch(self, url, **kw):
        return await self.request("PATCH", url, **kw)

    async def delete(self, url, **kw):
        return await self.request("DELETE", url, **kw)

    async def head(self, url, **kw):
        return await self.request("HEAD", url, **kw)

    async def options(self, url, **kw):
        return await self.request("OPTIONS", url, **kw)


class Baggage:
    """``self.baggage``: this user's W3C baggage, on all its later requests."""

    def __init__(self, session):
        self._session = session

    def set(self, key, value):
        _baggage.set(self._session, str(key), str(value))

    def get(self, key):
        return _baggage.get(self._session, str(key))

    def remove(self, key):
        _baggage.remove(self._session, str(key))

    def entries(self):
        return list(_baggage.entries(self._session))


class Log:
    """``self.log.info("...")`` etc.: lines in the host's log, tagged with the user and its span."""

    def __init__(self, session):
        self._session = session

    def _emit(self, level, message, attrs):
        _log.log(self._session, level, str(message), [(str(k), str(v)) for k, v in attrs.items()])

    def debug(self, message, **attrs):
        self._emit(_log.Level.DEBUG, message, attrs)

    def info(self, message, **attrs):
        self._emit(_log.Level.INFO, message, attrs)

    def warning(self, message, **attrs):
        self._emit(_log.Level.WARN, message, attrs)

    warn = warning

    def error(self, message, **attrs):
        self._emit(_log.Level.ERROR, message, attrs)


class _Span:
    def __init__(self, session, name):
        self._session, self.name = session, name

    def __enter__(self):
        _telemetry.start_span(self._session, self.name)
        return self

    def __exit__(self, *exc):
        _telemetry.end_span(self._session)
        return False


class Telemetry:
    """``self.telemetry``: this user's spans (``set_span_name``, ``set_attribute``, ``with span("x"):``)."""

    def __init__(self, session):
        self._session = session

    def set_span_name(self, name):
        _telemetry.set_span_name(self._session, name)

    def set_attribute(self, key, value):
        _telemetry.set_attribute(self._session, key, _common.value(value))

    def span(self, name):
        return _Span(self._session, name)

    def start_span(self, name):
        """Opens a child span of the innermost open one (``end_span`` ends it)."""
        _telemetry.start_span(self._session, name)

    def end_span(self):
        _telemetry.end_span(self._session)

    def event(self, name, **attrs):
        _telemetry.add_event(self._session, name, [(k, _common.value(v)) for k, v in attrs.items()])

    def exception(self, message):
        _telemetry.record_exception(self._session, str(message))

    def discard_span(self):
        """Drop the span of the current call: it is not exported."""
        _telemetry.discard_span(self._session)


class Flags:
    """``await self.flags.bool("key", False)``: flags evaluated by the host; the default when unknown."""

    def __init__(self, session):
        self._session = session

    async def bool(self, key, default=False):
        return await _flags.get_bool(self._session, key, default)

    async def int(self, key, default=0):
        return await _flags.get_int(self._session, key, default)

    async def float(self, key, default=0.0):
        return await _flags.get_float(self._session, key, default)

    async def string(self, key, default=""):
        return await _flags.get_string(self._session, key, default)


class User:
    """Subclass it; mark ``async def`` tasks with ``@task``; set ``wait``.
    Optional ``async def on_start``/``on_stop``. ``name`` defaults to the class name."""

    wait = None
    name = None

    def __init__(self, session):
        self._session = session
        self.user_id = session.user_id()
        self.client = Client(session)
        self.baggage = Baggage(session)
        self.log = Log(session)
        self.telemetry = Telemetry(session)
        self.flags = Flags(session)

    async def on_start(self):
        # Nothing done: no span for it.
        self.telemetry.discard_span()

    async def on_stop(self):
        self.telemetry.discard_span()


# The plugin's user class and its tasks, set by `export` when the app module
# is imported (at build time: the component is pre-initialised with them).
_exported = {}


def export(cls):
    """Registers the user class and returns the ``Behaviour`` class
    componentize-py exports: assign it to ``Behaviour`` in your app module."""
    _exported["cls"] = cls
    _exported["tasks"] = _common.tasks_of(cls)
    tasks = _exported["tasks"]

    from wit_world import exports

    class Behaviour(exports.Behaviour):
        def describe(self):
            return _common.info(cls, tasks)

    return Behaviour


async def _guard(call):
    try:
        await call()
    except Err:
        raise
    except Exception as e:  # a task's exception is a task error, not a trap
        raise Err(f"{type(e).__name__}: {e}") from None


# Each user's random numbers (``wasp run --seed``): the ``random`` module's
# functions draw from the generator of the user whose call runs, made at its
# first draw from the instance's seed and the user's id; outside users'
# calls, from the module's own. The running user is a context variable set at
# the start of each call: componentize-py runs each call as a task of its
# own, with its own context, so it stays that user's across the call's awaits
# at no cost per step (copying the generator's state at each step cost 3-5x
# the requests per second). Use ``random.choice(...)`` (or import wasp_async
# before ``from random import ...``): names bound before this module patched
# ``random`` keep the shared generator.
_running = _contextvars.ContextVar("wasp_user", default=None)
_SHARED_RNG = _random._inst


def _rng():
    user = _running.get()
    if user is None:
        return _SHARED_RNG
    if user.rng is None:
        user.rng = _random.Random(user.seed)
    return user.rng


def _drawing(name):
    def draw(*args, **kwargs):
        return getattr(_rng(), name)(*args, **kwargs)
    draw.__name__ = draw.__qualname__ = name
    draw.__doc__ = getattr(_SHARED_RNG, name).__doc__
    return draw


for _name in ("random", "uniform", "triangular", "randint", "choice", "randrange", "sample", "shuffle", "choices",
              "normalvariate", "lognormvariate", "expovariate", "vonmisesvariate", "gammavariate", "gauss",
              "betavariate", "paretovariate", "weibullvariate", "getrandbits", "randbytes", "binomialvariate",
              "seed", "getstate", "setstate"):
    if hasattr(_SHARED_RNG, _name):
        setattr(_random, _name, _drawing(_name))


class _UserResource(_wit.User):
    """The ``user`` resource the host makes per simulated user (see ``behaviour``)."""

    def __init__(self, s):
        if "base" not in _exported:
            # The component was pre-initialised at build time, `random` with
            # it: reseed once per instance from the host's randomness (the
            # same in every instance of a run with --seed).
            import os
            _exported["base"] = int.from_bytes(os.urandom(16), "little")
            _SHARED_RNG.seed(_exported["base"])
        # This user's generator is made at its first draw, from the run's seed and its id.
        self.seed, self.rng = _exported["base"] ^ (s.user_id() * 0x9E3779B97F4A7C15), None
        token = _running.set(self)
        try:
            self._user = _exported["cls"](s)
        finally:
            _running.reset(token)

    async def on_start(self):
        _running.set(self)
        await _guard(lambda: self._user.on_start())

    async def run_task(self, index):
        tasks = _exported["tasks"]
        if index >= len(tasks):
            raise Err(f"no task #{index}")
        fn = tasks[index][1]
        _running.set(self)
        await _guard(lambda: fn(self._user))

    async def on_stop(self):
        try:
            _running.set(self)
            await self._user.on_stop()
        except Exception as e:
            self._user.log.warning(f"on_stop: {type(e).__name__}: {e}")
        # The user's last call: its object and its session go, so that an
        # instance holds only its live users.
        self._user = None
