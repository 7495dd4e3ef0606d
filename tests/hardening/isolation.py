"""The tenant-isolation sweep: every route and method of every service, called by everyone but project A with
A's identifiers in its path.

Each call is checked against ``personas.DEFAULTS`` (what OpenStack's defaults answer) and against a twin
call that names fresh random identifiers instead of A's: an answer that differs from its twin's confirms that
A's object exists, whatever its status.  No answer may show an identifier of A's that its URL did not carry.

The callers without a valid token also try, on every path of the route tables, a method no route of that
path takes and a path one segment longer than any route's (``unrouted``): keystonemiddleware answers those
401 too, before the service knows they lead nowhere.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx

from onestack.http.openapi import openapi_path
from onestack.http.routing import BODY_METHODS, Endpoint, Service, Versioned
from onestack.registry import services
from tests.hardening.personas import DEFAULTS, Defaults
from tests.hardening.world import World

_PARAM = re.compile(r"{([A-Za-z_]+)(?::[a-z]+)?}")
PROJECT_PARAMS = frozenset({"project_id", "tenant_id", "target_project"})


@dataclasses.dataclass(frozen=True)
class Caller:
    name: str
    token: str | None
    project_id: str | None = None
    reader: bool = False
    scoped: bool = True
    domain: bool = False  # scoped to a domain (another than A's), holding a role there
    manager: bool = False  # ... the manager role


@dataclasses.dataclass
class Call:
    """One cell of the matrix: a caller on a route, with the path and body it sends."""

    service: Service
    defaults: Defaults
    ep: Endpoint
    method: str
    route: str  # "METHOD /template"
    caller: Caller
    url: str
    twin_url: str | None  # the same call naming random identifiers instead of A's
    foreign: bool  # the path names an object of A's (or A's project, where the URL's project counts)
    names_object: bool  # ... and an object of A's, not only A's project
    version: str | None
    body: object = None
    status: int = 0
    twin_status: int = 0
    text: str = ""
    location: str = ""
    # "method" or "path" for a call to a method or path no route takes (see ``unrouted``)
    unrouted: str = ""


@dataclasses.dataclass
class Leak:
    call: str
    caller: str
    status: int
    why: str

    def __str__(self) -> str:
        return f"{self.caller:10} {self.call} -> {self.status}: {self.why}"


# Callers whose token no longer counts, or never did: each must get 401.
NOT_AUTHENTICATED = ("revoked", "expired", "invalid")


def callers(world: World, unscoped: str, revoked: str, expired: str, domain_reader: str,
            domain_manager: str) -> list[Caller]:
    b = world.b
    return [Caller("b-member", b.member_token, b.project["id"]),
            Caller("b-reader", b.reader_token, b.project["id"], reader=True),
            Caller("d-reader", domain_reader, None, reader=True, scoped=False, domain=True),
            Caller("d-manager", domain_manager, None, scoped=False, domain=True, manager=True),
            Caller("unscoped", unscoped, None, scoped=False),
            Caller("revoked", revoked), Caller("expired", expired),
            Caller("invalid", "not-a-token-" + uuid.uuid4().hex), Caller("none", None)]


def minimal(schema, depth: int = 0):
    """A small instance of a JSON Schema (the first enum, the required properties only), so that a call gets
    past its body check to the question of who is asking."""
    if not isinstance(schema, dict) or depth > 12:
        return {}
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("oneOf", "anyOf", "allOf"):
        if schema.get(key):
            return minimal(schema[key][0], depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else ("array" if "items" in schema else None)
    if kind == "object":
        props = schema.get("properties", {})
        return {k: minimal(props.get(k, {}), depth + 1) for k in schema.get("required", [])}
    if kind == "array":
        return [minimal(schema.get("items", {}), depth + 1) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        if schema.get("format") == "uuid":
            return str(uuid.uuid4())
        return "x" * max(1, schema.get("minLength", 1))
    if kind in ("integer", "number"):
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return {}


def _body(ep: Endpoint, method: str):
    if method not in BODY_METHODS or ep.stream_body:
        return None
    schema = ep.schema
    if isinstance(schema, Versioned):
        schema = schema[max(schema, key=lambda v: tuple(int(x) for x in v.split(".")))]
    return minimal(schema) if schema else {}


def _versions(service: Service) -> list[str | None]:
    mv = service.microversions
    return [None] if mv is None else [f"{mv.service} {mv.minimum}", f"{mv.service} latest"]


# Services whose callers carry no Keystone token, so the token sweep has nothing to say about them.
NOT_SWEPT = {"s3": "S3 signs each request with an EC2 credential instead of sending a token; its tenancy is "
                   "tested in tests/clients/test_object_s3.py (test_tenants_are_walls_and_keys_are_checked)"}


def plan(world: World, everyone: list[Caller]) -> Iterator[Call]:
    """Every cell: each route and method of each service, each caller (the project's personas at the oldest
    and newest microversion), each way of naming A's objects in the path."""
    for service in services():
        if service.name in NOT_SWEPT:
            continue
        defaults = DEFAULTS[service.name]
        for ep in service.endpoints:
            for method in ep.methods:
                route = f"{method} {openapi_path(ep.path)}"
                for caller in everyone:
                    versions = _versions(service) if caller.scoped and caller.token else _versions(service)[:1]
                    for version in versions:
                        for url, twin, foreign, names_object in _paths(world, service, defaults, ep, caller):
                            yield Call(service, defaults, ep, method, route, caller, url, twin, foreign,
                                       names_object, version, _body(ep, method))


UNROUTED_METHODS = ("DELETE", "PATCH", "PUT", "POST", "GET")
# services whose every path and method reaches a handler (Swift and S3 route by the path's shape)
ALL_ROUTED = frozenset({"object-store", "s3"})
# Keystone routes first (``Defaults.routes_first``): which of its paths an unknown segment still matches
# (``/v3/domains/no-such``) is its route table's business, so its unrouted calls are left to
# tests/api/test_token_gate.py


def unrouted(world: World, everyone: list[Caller]) -> Iterator[Call]:
    """For every path of every route table, by each caller without a valid token: a method no route of that
    path takes, and the path with one more segment that no route has."""
    anonymous = [c for c in everyone if not _authenticated(c)]
    for service in services():
        if service.name in NOT_SWEPT or service.name in ALL_ROUTED:
            continue
        defaults = DEFAULTS[service.name]
        if defaults.routes_first:
            continue
        taken: dict[str, set[str]] = {}
        first: dict[str, Endpoint] = {}
        for ep in service.endpoints:
            taken.setdefault(ep.path, set()).update(ep.methods)
            first.setdefault(ep.path, ep)
        for path, methods in taken.items():
            ep = first[path]
            other = next((m for m in UNROUTED_METHODS if m not in methods), None)
            probes = [("path", "GET", "/no-such-" + uuid.uuid4().hex[:8])]
            # an open path is public whatever the method (the versions app answers it)
            if other is not None and not any(defaults.is_open(f"{m} {openapi_path(path)}") for m in methods):
                probes.append(("method", other, ""))
            for caller in anonymous:
                url, _, _, _ = next(_paths(world, service, defaults, ep, caller))
                for kind, method, tail in probes:
                    route = f"{method} {openapi_path(path)}{tail and '/no-such-thing'}"
                    yield Call(service, defaults, ep, method, route, caller, url.rstrip("/") + tail if tail else url,
                               None, False, False, _versions(service)[0], {} if method in BODY_METHODS else None,
                               unrouted=kind)


def _authenticated(caller: Caller) -> bool:
    return caller.token is not None and caller.name not in NOT_AUTHENTICATED


def _paths(world: World, service: Service, defaults: Defaults, ep: Endpoint,
           caller: Caller) -> Iterator[tuple[str, str | None, bool, bool]]:
    """(path with A's identifiers, its twin with random ones, whether it names anything of A's, whether that
    is an object of A's rather than only A's project)."""
    prefix = service.prefix
    if ep.path.endswith("{rest:path}") and prefix == "/object-store":
        for rest in world.swift:
            head = ep.path.replace("{rest:path}", "")
            twin = "/".join(["AUTH_" + uuid.uuid4().hex, *rest.split("/")[1:]])
            yield f"{prefix}{head}{rest}", f"{prefix}{head}{twin}", True, "/" in rest
        return
    segments = ep.path.split("/")
    own_project_variants = [False]
    if caller.project_id and any(f"{{{p}}}" in segments for p in PROJECT_PARAMS):
        own_project_variants.append(True)
    for in_own_project in own_project_variants:
        real, twin, foreign, names_object = [], [], False, False
        for i, segment in enumerate(segments):
            m = _PARAM.fullmatch(segment)
            if not m:
                real.append(segment)
                twin.append(segment)
                continue
            param = m.group(1)
            if in_own_project and param in PROJECT_PARAMS:
                real.append(caller.project_id)
                twin.append(caller.project_id)
                continue
            value = world.value(prefix, segments[i - 1], param)
            if value is None:
                value = uuid.uuid4().hex
            owned = value in world.owned
            if owned and (param not in PROJECT_PARAMS or defaults.url_project_refused):
                foreign = True
                names_object = names_object or param not in PROJECT_PARAMS
            real.append(value)
            twin.append(uuid.uuid4().hex if owned else value)
        real_path, twin_path = "/".join(real), "/".join(twin)
        yield (f"{prefix}{real_path}", f"{prefix}{twin_path}" if twin_path != real_path else None, foreign,
               names_object)


def send(http: httpx.Client, call: Call) -> Call:
    headers = {"X-Auth-Token": call.caller.token} if call.caller.token else {}
    if call.version:
        headers["OpenStack-API-Version"] = call.version
    kwargs = {"json": call.body} if call.body is not None else {}

    def one(url: str) -> httpx.Response:
        return http.request(call.method, url, headers=headers, follow_redirects=False, **kwargs)

    resp = one(call.url)
    call.status, call.text, call.location = resp.status_code, resp.text, resp.headers.get("location", "")
    if call.twin_url and call.foreign:
        call.twin_status = one(call.twin_url).status_code
    return call


def judge(call: Call, owned: set[str]) -> list[Leak]:
    """What the call's answer gets wrong, by OpenStack's defaults."""
    d, route, status, caller = call.defaults, call.route, call.status, call.caller
    label = f"{call.method} {call.url}" + (f" [{call.version}]" if call.version else "")

    def leak(why: str) -> list[Leak]:
        return [Leak(label, caller.name, status, f"{why}: {call.text[:200]}")]

    if status >= 500:
        return leak("server error")
    shown = {value for value in owned if value not in call.url and (value in call.text or value in call.location)}
    if shown:
        return leak(f"shows A's {sorted(shown)}")
    if d.is_open(route):
        return []
    authenticated = _authenticated(caller)
    if call.unrouted:
        # keystonemiddleware asks every path for a token, but one outside the API versions where the
        # service's version app answers it first (Nova, Glance)
        wanted = d.outside_versions_status(route.split(" ", 1)[1]) if call.unrouted == "path" else None
        wanted = wanted or 401
        return [] if status == wanted else leak(f"expected {wanted} for an unrouted {call.unrouted}")
    if call.foreign and call.twin_url and call.twin_status != status and not (
            authenticated and d.shows_missing(route)):
        return leak(f"answers differently ({call.twin_status}) for an object that does not exist")
    if not authenticated:
        expected = d.without_token(route)
        if status not in expected:
            return leak(f"expected {' or '.join(map(str, sorted(expected)))} without a valid token, before the "
                        "route, method, microversion or body")
        return []
    if not caller.scoped:
        # an unscoped token holds no role anywhere: its owner's own identity business, and what any
        # authenticated caller may read (public flavors, images, extensions), and nothing else; a token
        # scoped to another domain may also read that domain's identity listings (filtered to it)
        identity_may = (d.domain_manager_may if caller.manager else d.domain_reader_may) if caller.domain \
            else d.unscoped_may
        may = identity_may(route) if call.service.name == "identity" else (
            call.method in ("GET", "HEAD") and not d.refuses_project_personas(route))
        if call.foreign and not d.foreign_allowed(route) or not may:
            return [] if status >= 400 else leak("an unscoped token is refused here")
        return []
    if call.foreign and not d.foreign_allowed(route):
        if status < 400:
            return leak("another project's object answered")
        hides = d.foreign == 404 and call.names_object and not d.refuses_project_personas(route)
        if status == 403 and hides and not caller.reader:
            return leak("403 confirms another project's object exists; OpenStack answers 404")
        return []
    if d.refuses_project_personas(route) and status < 400:
        return leak("the defaults refuse this to a project's member and reader")
    if caller.reader and call.method not in ("GET", "HEAD") and not d.reader_may_write(route) and status < 400:
        return leak("the defaults refuse writes to a reader")
    return []


def sweep(base_url: str, world: World, everyone: list[Caller], threads: int = 6) -> tuple[list[Call], list[Leak]]:
    calls = [*plan(world, everyone), *unrouted(world, everyone)]
    with httpx.Client(base_url=base_url, timeout=60) as http, ThreadPoolExecutor(threads) as pool:
        done = list(pool.map(lambda c: send(http, c), calls))
    leaks = [leak for call in done for leak in judge(call, world.owned)]
    return done, leaks
