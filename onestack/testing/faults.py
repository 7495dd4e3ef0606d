"""Fault injection for a test cloud: failed builds, slow services, APIs that answer an error.

A test arms a fault through ``cloud.faults``; the cloud consults it at two seams only: the fake compute
driver asks ``build_fault`` before each spawn (its ``spawn_fault`` hook), and ``FaultLayer``, the outermost
ASGI layer of the test cloud's app, asks ``delay`` and ``error`` for each request.  Nothing here exists in a
cloud started with ``onestack up``.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import fnmatch
import http
import threading
import uuid

import orjson

from onestack.bootstrap import CATALOG

DEFAULT_BUILD_FAULT = "Build of instance aborted: injected by onestack.testing"
# service type or name (as the catalog has them: "compute" or "nova") -> the path prefix it is served under
PREFIXES = {key: "/" + path.split("/")[1] for kind, name, path in CATALOG for key in (kind, name)}


def prefix_of(service: str) -> str:
    """The path prefix of a service named by its catalog type or name, or given as ``/prefix``."""
    if service.startswith("/"):
        return service.rstrip("/") or "/"
    try:
        return PREFIXES[service]
    except KeyError:
        raise ValueError(f"no service {service!r}: name one of {', '.join(sorted(PREFIXES))} "
                         f"or give a path prefix such as /compute") from None


def _under(path: str, prefix: str) -> bool:
    return prefix == "/" or path == prefix or path.startswith(prefix + "/")


@dataclasses.dataclass
class _Delay:
    prefix: str
    seconds: float
    left: int | None


@dataclasses.dataclass
class _Error:
    pattern: str
    method: str | None
    status: int
    body: bytes
    content_type: str
    left: int | None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and fnmatch.fnmatchcase(path, self.pattern)


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _spend(rule) -> bool:
    """Count one use of a rule; True when it has none left."""
    if rule.left is None:
        return False
    rule.left -= 1
    return rule.left <= 0


class Faults:
    """What a test cloud should do wrong next.  Every method is safe from any thread."""

    def __init__(self):
        self._lock = threading.Lock()
        self._builds: collections.deque[str] = collections.deque()
        self._delays: list[_Delay] = []
        self._errors: list[_Error] = []

    def fail_builds(self, count: int = 1, fault: str = DEFAULT_BUILD_FAULT) -> None:
        """The next ``count`` server builds (spawns on a host) fail: the server goes to ERROR and its
        ``fault.message`` is ``fault``."""
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._builds.extend([fault] * count)

    def add_latency(self, service: str, seconds: float, count: int | None = None) -> None:
        """Every request to ``service`` (catalog type or name, e.g. ``"compute"``, ``"neutron"``, or a path
        prefix such as ``"/image"``) waits ``seconds`` before it is handled; only the next ``count`` of
        them when ``count`` is given."""
        if seconds < 0:
            raise ValueError("seconds cannot be negative")
        with self._lock:
            self._delays.append(_Delay(prefix_of(service), seconds, count))

    def fail_requests(self, path: str, status: int, body: dict | list | str | bytes | None = None, *,
                      method: str | None = None, count: int | None = None) -> None:
        """Requests whose path matches ``path`` (the path from the cloud's root, without the query, e.g.
        ``/compute/v2.1/flavors/detail``; ``*`` and ``?`` as in shell patterns) answer ``status`` with
        ``body`` (JSON for a dict or list; default: a Keystone-style error) instead of being handled; only
        requests of ``method`` when given, only the next ``count`` when given."""
        if not 100 <= status <= 599:
            raise ValueError(f"{status} is not an HTTP status")
        if body is None:
            body = {"error": {"code": status, "title": _phrase(status), "message": "injected by onestack.testing"}}
        if isinstance(body, (dict, list)):
            data, content_type = orjson.dumps(body), "application/json"
        else:
            data, content_type = (body.encode() if isinstance(body, str) else body), "text/plain; charset=utf-8"
        with self._lock:
            self._errors.append(_Error(path, method.upper() if method else None, status, data, content_type,
                                       count))

    def clear(self) -> None:
        """Forget every fault armed and not yet spent."""
        with self._lock:
            self._builds.clear()
            self._delays.clear()
            self._errors.clear()

    # -- what the seams ask ---------------------------------------------------------------------------------
    def build_fault(self, _spec) -> str | None:
        """The fault this spawn should fail with, if one is armed (the fake driver's ``spawn_fault``)."""
        with self._lock:
            return self._builds.popleft() if self._builds else None

    def delay(self, path: str) -> float:
        with self._lock:
            total = 0.0
            for rule in list(self._delays):
                if _under(path, rule.prefix):
                    total += rule.seconds
                    if _spend(rule):
                        self._delays.remove(rule)
            return total

    def error(self, method: str, path: str) -> _Error | None:
        with self._lock:
            for rule in self._errors:
                if rule.matches(method, path):
                    if _spend(rule):
                        self._errors.remove(rule)
                    return rule
            return None


class FaultLayer:
    """ASGI: the latency and errors ``faults`` holds, in front of the cloud's application."""

    def __init__(self, app, faults: Faults):
        self.app = app
        self.faults = faults

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            seconds = self.faults.delay(scope["path"])
            if seconds:
                await asyncio.sleep(seconds)
            error = self.faults.error(scope["method"], scope["path"])
            if error is not None:
                await send({"type": "http.response.start", "status": error.status, "headers": [
                    (b"content-type", error.content_type.encode()),
                    (b"content-length", str(len(error.body)).encode()),
                    (b"x-openstack-request-id", f"req-{uuid.uuid4()}".encode())]})
                await send({"type": "http.response.body", "body": error.body})
                return
        await self.app(scope, receive, send)
