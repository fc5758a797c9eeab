"""What wasp's two Python SDKs share: ``wasp`` (wasp:plugin@0.1, one user
per instance) and ``wasp_async`` (@0.2, many users per instance, async
tasks). Waits, task marks, errors, answers and the records sent to the host
are the same in both worlds' bindings; only how a call reaches the host
differs, and that stays in each SDK."""

import json as _json

from wit_world.exports import behaviour as _wit
from wit_world.imports import telemetry as _telemetry, types as _types

# ---- waits (seconds, as in Locust) -------------------------------------------------


def ms(seconds):
    return max(0, int(round(seconds * 1000)))


def between(min_wait, max_wait):
    """Wait uniformly between ``min_wait`` and ``max_wait`` seconds."""
    return _wit.Wait_Between((ms(min_wait), ms(max_wait)))


def constant(wait):
    """Wait ``wait`` seconds between tasks."""
    return _wit.Wait_Constant(ms(wait)) if wait > 0 else _wit.Wait_None_()


def constant_pacing(period):
    """Start a task every ``period`` seconds."""
    return _wit.Wait_Pacing(ms(period))


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


def tasks_of(cls):
    """The tasks of a user class, base classes' first; a method overridden
    in a subclass counts once, as the subclass has it."""
    seen, out = set(), []
    for klass in reversed(cls.__mro__):
        for attr, fn in vars(klass).items():
            if callable(fn) and hasattr(fn, "wasp_weight"):
                if attr in seen:
                    out = [t for t in out if t[0] != attr]
                seen.add(attr)
                out.append((attr, fn))
    return out


def info(cls, tasks):
    """The ``describe`` record of a user class."""
    wait = cls.wait if cls.wait is not None else _wit.Wait_None_()
    return _wit.Info(
        name=cls.name or cls.__name__,
        tasks=[_wit.Task(name=n, weight=fn.wasp_weight, tags=list(getattr(fn, "wasp_tags", []))) for n, fn in tasks],
        wait=wait,
    )


# ---- HTTP ----------------------------------------------------------------------------


class HttpError(Exception):
    """No answer came: timeout, connect, protocol, denied or invalid."""

    def __init__(self, kind, message):
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


def http_error(err):
    """The ``HttpError`` of the host's ``http-error`` (in componentize-py's ``Err``)."""
    kind = type(err.value).__name__.split("_")[-1].lower()
    return HttpError(kind, err.value.value)


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


class Answer:
    """What both SDKs' ``Response`` have: the answer's fields, and reading it.
    ``status_code < 400`` is a success unless the SDK's ``failure`` says otherwise."""

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

    def raise_for_status(self):
        if not self.ok:
            raise Exception(f"HTTP {self.status_code} from {self.url}")
        return self


_METHODS = {m.name: m for m in _types.Method}


def request(method, url, name=None, headers=None, json=None, data=None, timeout=None):
    """The host's ``request`` record: ``json`` sent compact with its content
    type (unless one is given), ``data`` as bytes, ``timeout`` in seconds."""
    hdrs = [(str(k), str(v)) for k, v in (headers or {}).items()]
    body = None
    if json is not None:
        body = _json.dumps(json, separators=(",", ":")).encode()
        if not any(k.lower() == "content-type" for k, _ in hdrs):
            hdrs.append(("content-type", "application/json"))
    elif data is not None:
        body = data.encode() if isinstance(data, str) else bytes(data)
    return _types.Request(
        method=_METHODS[method.upper()], url=url, headers=hdrs, body=body, name=name,
        timeout_ms=None if timeout is None else ms(timeout),
    )


# ---- telemetry -----------------------------------------------------------------------


def value(v):
    """A span attribute's value, typed as the host's telemetry ``value``."""
    if isinstance(v, bool):
        return _telemetry.Value_Boolean(v)
    if isinstance(v, int):
        return _telemetry.Value_Int(v)
    if isinstance(v, float):
        return _telemetry.Value_Float(v)
    return _telemetry.Value_Str(str(v))
