"""The request chain every service shares.

A service is a list of ``Route``s whose endpoints are plain functions
``fn(call: Call) -> Reply | dict | None``.  ``Service.asgi()`` wraps each one
so that the body is read with a size limit, parsed and schema-checked, the
microversion negotiated, the function run in a worker thread (database and
bcrypt work never block the event loop) and every error rendered once in the
service's own fault shape.

Before any of that, the service's token gate authenticates the caller, as
keystonemiddleware does in front of every OpenStack service: without a valid
token, a request that is not for one of the service's public routes is answered
401 before its route, method, microversion or body is looked at (see
``Service``'s ``token_gate``).
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import anyio.from_thread
import orjson
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Mount, Route

from onestack.http import errors
from onestack.http.context import Context
from onestack.http.jsonbody import parse_json, read_limited, validate
from onestack.http.microversion import Microversions, Version, pick
from onestack.http.readahead import ReadAhead

LOG = logging.getLogger("onestack.http")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# A streamed body this small (with its Content-Length) is read whole on the event loop before the handler
# runs: one read instead of a hop from the worker thread to the loop for each chunk.
SMALL_BODY = 64 << 10
OPENAPI_PATH = "/openapi.json"
# where the token gate leaves the caller it authenticated, for ``Call.ctx``
CONTEXT_KEY = "onestack.context"
# what a service's token gate covers (see ``Service``)
GATES = ("prefix", "routes", None)


@dataclasses.dataclass(frozen=True)
class VersionChoices:
    """What a service answers, with or without a token and whatever the method, for a path under its prefix
    that lies outside every API version it serves, as Nova's and Glance's version apps do: Nova's urlmap
    sends any path but ``/v2.1`` and ``/v2`` (and what is under them) to its versions app, which answers 300
    with its choices; Glance's version negotiation runs before keystonemiddleware and answers a first
    segment that names no version it serves with its 300 version list.

    ``serves(segment)``: whether the path's first segment names one of the service's API versions (its
    paths are the API's, behind the token gate); ``answer(call, segment)``: the reply otherwise."""

    serves: Callable[[str], bool]
    answer: Callable[[Call, str], Reply]


@dataclasses.dataclass
class Reply:
    body: Any = None
    status: int = 200
    headers: dict[str, str] | None = None


class Call:
    """One API call as a handler sees it."""

    __slots__ = ("request", "_body", "_unchecked", "version", "runtime", "_ctx", "_whole", "_reader")

    def __init__(self, request: Request, body: Any, version: Version | None, unchecked: dict | None = None,
                 whole: bytes | None = None):
        """``unchecked``: the schema ``body`` must satisfy when the handler first reads it (services that
        check bodies on read, see ``Service``); ``whole``: a streamed body already read (a small one)."""
        self.request = request
        self._body = body
        self._whole = whole
        self._unchecked = unchecked
        self.version = version
        self.runtime = request.scope["onestack.runtime"]
        self._ctx: Context | None = None
        self._reader: ReadAhead | None = None

    @property
    def body(self) -> Any:
        if self._unchecked is not None:
            schema, self._unchecked = self._unchecked, None
            validate(self._body, schema)
        return self._body

    @property
    def path(self) -> dict[str, str]:
        return self.request.path_params

    @property
    def query(self):
        return self.request.query_params

    @property
    def headers(self):
        return self.request.headers

    @property
    def ctx(self) -> Context:
        """The caller, authenticated from ``X-Auth-Token`` on first use."""
        if self._ctx is None:
            self._ctx = self.request.scope.get(CONTEXT_KEY)
        if self._ctx is None:
            token = self.request.headers.get("x-auth-token")
            if not token:
                raise errors.Unauthorized()
            self._ctx = self.runtime.authenticate(token)
        return self._ctx

    def cached_ctx(self) -> Context | None:
        """The caller if its token is known without blocking I/O (see ``Endpoint.fast``), else None."""
        if self._ctx is None:
            self._ctx = self.request.scope.get(CONTEXT_KEY)
        token = self.request.headers.get("x-auth-token")
        if self._ctx is None and token:
            self._ctx = self.runtime.peek_context(token)
        return self._ctx

    def chunks(self) -> Iterator[bytes]:
        """The request body as it arrives, for endpoints declared with ``stream_body`` (runs in the worker
        thread; the event loop receives ahead of it, a bounded amount, so a large upload is never whole in
        memory and its receipt overlaps what the handler does with the bytes: ``readahead``)."""
        if self._whole is not None:
            if self._whole:
                yield self._whole
            return
        if self._reader is None:
            self._reader = ReadAhead(self.request.receive)
            anyio.from_thread.run_sync(self._reader.start)
        while True:
            chunks, more = self._reader.take()
            yield from chunks
            if not more:
                self._whole = b""  # read to its end: a second reader gets nothing, not a wait for more
                return

    def stop_reading(self) -> None:
        """On the event loop, once the handler has returned: receive no more of the body for it."""
        if self._reader is not None:
            self._reader.stop()

    def url(self, path: str = "") -> str:
        """Absolute URL under this service's prefix, as clients saw the host."""
        return f"{self.runtime.base_url(self.request)}{self.request.scope.get('root_path', '')}{path}"


def _small_body(request: Request) -> bool:
    """Whether the request announces a body of at most ``SMALL_BODY`` bytes (and is not chunked)."""
    length = request.headers.get("content-length")
    return (length is not None and length.isdecimal() and int(length) <= SMALL_BODY
            and "transfer-encoding" not in request.headers)


def json_response(body: Any, status: int = 200, headers: dict | None = None) -> Response:
    if status in (204, 205, 304) or body is None:
        return Response(status_code=status, headers=headers)
    return Response(orjson.dumps(body), status_code=status, headers=headers, media_type="application/json")


@dataclasses.dataclass
class Endpoint:
    """One operation.  ``fast``, if given, runs on the event loop first and answers from memory alone
    (returning None when it cannot); ``fn`` then runs in a worker thread.  Hot read paths use it to skip
    the thread hop, which otherwise costs more than the work.  ``public``: callable without a token (version
    discovery, issuing a token); its handler authenticates the caller itself if it needs one."""

    path: str
    methods: tuple[str, ...]
    fn: Callable[[Call], Any]
    schema: dict | Versioned | None = None
    # the success status, or a ``Versioned`` map of them (Nova's key pair creation: 200, then 201 from 2.2)
    status: int | Versioned = 200
    fast: Callable[[Call], Any] | None = None
    stream_body: bool = False
    public: bool = False
    # the JSON Schema of the success body, or a ``Versioned`` map of them (None: no body at those versions),
    # published in the OpenAPI description (None: not declared)
    response: dict | Versioned | None = None
    # the query parameters the route reads, name -> JSON Schema (``listing.query_parameters``), published too
    query: dict[str, dict] | None = None

    def status_at(self, version: Version | None) -> int:
        """The success status at ``version``: what a handler's plain (non-``Reply``) answer is sent with."""
        return pick(self.status, version) if isinstance(self.status, Versioned) else self.status


class Versioned(dict):
    """Values by microversion, each in force from its key to the next: ``Versioned({"2.1": s, "2.19": s2})``.

    - A request ``schema``: the body is checked against the newest schema whose version the call negotiated
      (Nova's schema-per-range, declared once per route).  A version below every key leaves the body
      unchecked (the route's handler decides what it means).
    - A ``status``: the success status a plain answer is sent with; its first key is the service's oldest
      version.
    - A ``response``: the success body's schema (None: the versions that answer no body).

    The OpenAPI description publishes each status with the body of the versions that answer it."""


def route(path: str, method: str, fn: Callable[[Call], Any], *, schema: dict | Versioned | None = None,
          status: int | Versioned = 200, fast: Callable[[Call], Any] | None = None, stream_body: bool = False,
          public: bool = False, response: dict | Versioned | None = None,
          query: dict[str, dict] | None = None) -> Endpoint:
    """``schema``: a JSON Schema, or a ``Versioned`` map of them, the body must satisfy before ``fn`` runs.
    ``stream_body``: leave the body unread; the handler consumes ``call.chunks()``.  A handler may return
    a Starlette ``Response`` (a streamed download, say) instead of a JSON body.  ``public``: no token needed
    (see ``Endpoint``).  ``status``: the success status of an answer that is not a ``Reply``, or a
    ``Versioned`` map of them where it changes with the microversion.  ``response``: the JSON Schema of the
    success body (the OpenAPI description's, which the fuzzer checks every success against), or a
    ``Versioned`` map of them (None for the versions that answer none): generated from what the service owns
    (an attribute table, a published schema) or its ``responses`` module, never written beside the route.
    ``query``: the query parameters it reads (``listing.query_parameters``), from the definitions its list uses."""
    return Endpoint(path, (method,), fn, schema, status, fast, stream_body, public, response, query)


# deadlock_detected and serialization_failure: the transaction was rolled back whole
RETRY_SQLSTATES = frozenset({"40P01", "40001"})


class AnyPathConvertor(Convertor):
    """``{name:anypath}``: the rest of the path, newlines included (Starlette's ``path`` stops at one; Swift
    takes any UTF-8 but NUL in an object name, so ``o%0A`` is an object of its own)."""

    regex = "(?s:.*)"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("anypath", AnyPathConvertor())


class WholePathRoute(Route):
    """A route whose pattern matches the whole path.  Starlette ends its patterns with ``$``, which also
    matches before a final newline, so ``GET /servers%0A`` would list the servers and ``PUT /v1/a/c/o%0A``
    would write object ``o``."""

    def __init__(self, path: str, endpoint: Callable, **kwargs):
        super().__init__(path, endpoint, **kwargs)
        self.path_regex = _WholeMatch(self.path_regex)


class _WholeMatch:
    """A compiled pattern whose ``match`` takes the whole string or nothing (``fullmatch``: a ``$`` before a
    final newline leaves that newline unmatched, so it fails), as a pattern ending in ``\\Z`` would, without
    compiling each route's pattern a second time: a thousand routes' second compilation was a tenth of a
    second of every start."""

    __slots__ = ("match", "pattern")

    def __init__(self, compiled: re.Pattern):
        self.pattern = compiled.pattern
        self.match = compiled.fullmatch


class WholePathMount(Mount):
    """A mount that takes every path under its prefix, newlines included, so that its app answers them in
    its own shape (Starlette's ``.*`` stops at a newline: ``/compute/a%0A/b`` reached no service and got a
    plain-text 404, and ``/compute/a%0A`` reached it with a wrong root path)."""

    def __init__(self, path: str, app: Callable, **kwargs):
        super().__init__(path, app=app, **kwargs)
        self.path_regex = re.compile(self.path_regex.pattern.removesuffix("$") + r"\Z", re.DOTALL)


class Service:
    def __init__(self, name: str, prefix: str, fault: errors.FaultFormat, endpoints: list[Endpoint],
                 microversions: Microversions | None = None, body_limit: int | None = None,
                 trailing_slash_ok: bool = False, check_body_on_read: bool = False, bare_prefix: bool = False,
                 validate: Callable[[Any, dict], None] = validate, token_gate: str | None = "prefix",
                 version_choices: VersionChoices | None = None):
        """``trailing_slash_ok``: ``/things/`` means ``/things`` (Keystone's routing); otherwise it is
        a 404, as Glance, Nova and Neutron answer.  ``check_body_on_read``: a route's schema is checked
        when its handler first reads ``call.body``, after the handler's own gates (Placement answers a
        route newer than the microversion, the policy and a malformed path before a bad body).
        ``validate(body, schema)`` raises the service's 400 for a body a route's schema refuses before the
        handler runs (Keystone's wording unless the service words it its own way).  ``bare_prefix``: the prefix
        itself (no ``/`` after it) is answered as ``<prefix>/`` rather than redirected there (S3 clients list
        buckets at the bare endpoint and follow no redirect).

        ``token_gate``: which requests need a valid ``X-Auth-Token`` before anything else is looked at (a
        missing, malformed, expired or revoked one is answered 401 in the service's fault shape, with
        ``WWW-Authenticate``):

        - ``"prefix"`` (keystonemiddleware in front of the service, as Nova, Neutron, Glance, Cinder,
          Placement and Heat deploy it): every path under the prefix but a public route's, unknown paths and
          wrong methods included;
        - ``"routes"`` (Keystone, which authenticates in each resource after its router): a request that
          matches a route and its method, unless the route is public; an unknown path or method is still
          answered 404 or 405;
        - ``None``: the handlers decide (Swift, whose ``delay_auth_decision`` lets ACLs and temp URLs in,
          and S3, which checks its own signatures).

        ``version_choices``: how the service answers a path outside its API versions (``VersionChoices``);
        without it such a path is one more path under the prefix (the token gate's 401, then a 404)."""
        if token_gate not in GATES:
            raise ValueError(f"token_gate must be one of {GATES}")
        self.token_gate = token_gate
        self.version_choices = version_choices
        self.validate = validate
        self.trailing_slash_ok = trailing_slash_ok
        self.bare_prefix = bare_prefix
        self.check_body_on_read = check_body_on_read
        self.name = name
        self.prefix = prefix
        self.fault = fault
        self.endpoints = endpoints
        self.microversions = microversions
        self.body_limit = body_limit
        self._description: bytes | None = None

    def fault_content(self) -> dict:
        """The media type and schema of this service's error bodies, for its OpenAPI description (``{}``: not
        declared); the JSON services' come from their fault format (``errors.shaped``)."""
        schema = getattr(self.fault, "schema", None)
        return {} if schema is None else {"application/json": {"schema": schema}}

    def claims(self, scope: dict, settings) -> dict | None:
        """Whether this service takes a request whatever its path (by its ``Host``, say): the scope entries
        to add before its app sees it, or None (the usual routing by prefix)."""
        return None

    def asgi(self) -> Starlette:
        # The description first, so that no route of the service (Swift's catch-all, say) takes its path.
        routes = [WholePathRoute(OPENAPI_PATH, self._describe, methods=["GET"])]
        routes += [WholePathRoute(e.path, self._wrap(e), methods=list(e.methods)) for e in self.endpoints]
        # the description is public, as version discovery is
        public = [True, *(e.public for e in self.endpoints)]
        app = Starlette(
            routes=routes,
            exception_handlers={errors.APIError: self._api_error, HTTPException: self._http_error,
                                IntegrityError: self._integrity_error, DataError: self._data_error,
                                OperationalError: self._operational_error, StaleDataError: self._stale_data,
                                Exception: self._crash},
        )
        # Never a redirect: clients such as Tempest's do not follow them.
        app.router.redirect_slashes = False
        app = self._gate(app, list(zip(routes, public, strict=True)))
        if not self.trailing_slash_ok:
            return app

        async def without_trailing_slash(scope, receive, send):
            path = scope.get("path", "")
            if path.endswith("/") and path.rstrip("/") not in ("", scope.get("root_path", "")):
                scope = {**scope, "path": path.rstrip("/")}
            await app(scope, receive, send)

        return without_trailing_slash

    def _gate(self, app, routes: list[tuple[Route, bool]]):
        """``app`` behind the service's token gate (see ``token_gate``), and its version choices in front of
        both (see ``version_choices``)."""
        if self.token_gate is None and self.version_choices is None:
            return app

        async def gated(scope, receive, send):
            if scope["type"] == "http" and (segment := self._outside_versions(scope, routes)) is not None:
                request = Request(scope)
                reply = self.version_choices.answer(Call(request, None, None), segment)
                return await json_response(reply.body, reply.status, reply.headers)(scope, receive, send)
            if scope["type"] == "http" and self.token_gate is not None and self._needs_token(scope, routes):
                request = Request(scope)
                try:
                    scope[CONTEXT_KEY] = await _authenticate(request)
                except errors.APIError as err:
                    return await self.render(err, request)(scope, receive, send)
                except Exception as exc:  # outside the app's handlers: answered here in the service's shape
                    return await (await self._crash(request, exc))(scope, receive, send)
            await app(scope, receive, send)

        return gated

    def _outside_versions(self, scope, routes: list[tuple[Route, bool]]) -> str | None:
        """The first segment of a path outside the service's API versions that no route of its own takes (the
        root, the OpenAPI description and Glance's ``/versions`` keep theirs), else None."""
        if self.version_choices is None:
            return None
        path = _relative_path(scope)
        segment = path.removeprefix("/").split("/", 1)[0]
        if path == "/" or self.version_choices.serves(segment):
            return None
        if any(candidate.matches(scope)[0] is not Match.NONE for candidate, _ in routes):
            return None
        return segment

    def _needs_token(self, scope, routes: list[tuple[Route, bool]]) -> bool:
        # A public route's call passes (a handler that needs a caller still authenticates it on first use of
        # ``call.ctx``); keystonemiddleware knows no other routes and asks a token of everything else.
        if any(public and candidate.matches(scope)[0] is Match.FULL for candidate, public in routes):
            return False
        # The service root is version discovery, deployed outside keystonemiddleware for every method (Nova's
        # api-paste maps ``/`` to a pipeline without authtoken, Placement's auth lets ``/`` through by path):
        # a method its route does not take is the router's 405, with or without a token.
        if _relative_path(scope) == "/" and any(public and candidate.matches(scope)[0] is Match.PARTIAL
                                                for candidate, public in routes):
            return False
        if self.token_gate == "prefix":
            return True
        # Keystone routes first: a path or method no route takes is its 404 or 405, without a token too.
        return any(candidate.matches(scope)[0] is Match.FULL for candidate, _ in routes)

    def _wrap(self, ep: Endpoint):
        mv = self.microversions

        async def endpoint(request: Request) -> Response:
            version = mv.negotiate(request.headers) if mv else None
            # Errors raised later are rendered at the negotiated version (Placement's codes depend on it).
            request.scope["onestack.version"] = version
            body, schema = None, None
            if request.method in BODY_METHODS and not ep.stream_body:
                runtime = request.scope["onestack.runtime"]
                raw = await read_limited(request, self.body_limit or runtime.settings.max_request_body_size)
                body = parse_json(raw)
                schema = pick(ep.schema, version) if isinstance(ep.schema, Versioned) else ep.schema
                if schema is not None and not self.check_body_on_read:
                    self.validate(body, schema)
                    schema = None
            whole = None
            if ep.stream_body and request.method in BODY_METHODS and _small_body(request):
                whole = await request.body()
            call = Call(request, body, version, schema, whole)
            result = ep.fast(call) if ep.fast is not None else None
            if result is None:
                try:
                    result = await run_in_threadpool(ep.fn, call)
                finally:
                    call.stop_reading()
            if isinstance(result, Response):
                return result
            if not isinstance(result, Reply):
                result = Reply(result, ep.status_at(version))
            headers = dict(result.headers or {})
            if mv:
                headers.update(mv.response_headers(version))
            return json_response(result.body, result.status, headers)

        endpoint.__name__ = ep.fn.__name__
        return endpoint

    async def _describe(self, request: Request) -> Response:
        """``<prefix>/openapi.json``: the OpenAPI description of this service's routes, built on first ask."""
        if self._description is None:
            # openapi reads this module's route tables, so it is imported where it is needed
            from onestack.http.openapi import document

            self._description = orjson.dumps(document(self))
        return Response(self._description, media_type="application/json")

    def render(self, err: errors.APIError, request: Request | None = None) -> Response:
        headers = dict(err.headers)
        if request is not None:
            err.request_id = request.scope.get("onestack.request_id")
            err.version = request.scope.get("onestack.version")
        if self.microversions and request is not None:
            headers.update(self.microversions.response_headers(err.version or self.microversions.minimum))
        if err.status == 401:
            headers.setdefault("WWW-Authenticate", f'Keystone uri="{_identity_uri(request)}"')
        return json_response(self.fault(err), err.status, headers)

    async def _api_error(self, request: Request, exc: errors.APIError) -> Response:
        return self.render(exc, request)

    async def _http_error(self, request: Request, exc: HTTPException) -> Response:
        cls = {404: errors.NotFound, 405: errors.MethodNotAllowed}.get(exc.status_code, errors.BadRequest)
        return self.render(cls(), request)

    async def _integrity_error(self, request: Request, exc: IntegrityError) -> Response:
        # Two requests raced past a uniqueness check; the database kept exactly one.
        LOG.info("integrity error on %s %s: %s", request.method, request.url.path, exc.orig)
        return self.render(errors.Conflict("The request conflicts with an existing resource."), request)

    async def _data_error(self, request: Request, exc: DataError) -> Response:
        # A value the schema let through but the column cannot hold (e.g. too long for PostgreSQL).
        LOG.info("data error on %s %s: %s", request.method, request.url.path, exc.orig)
        return self.render(errors.BadRequest("A value in the request does not fit its field."), request)

    async def _operational_error(self, request: Request, exc: OperationalError) -> Response:
        # PostgreSQL broke a deadlock, or could not serialise, by rolling this request's transaction back:
        # the other one went through, this one changed nothing and may be sent again.
        if getattr(exc.orig, "sqlstate", None) in RETRY_SQLSTATES:
            LOG.info("transaction given up on %s %s: %s", request.method, request.url.path, exc.orig)
            return self.render(errors.Conflict("The request collided with a concurrent change and was not "
                                               "applied; send it again."), request)
        if exc.connection_invalidated:
            # The database server closed a pooled connection in use (a restart): the pool opens new ones
            # for the next requests (onestack.db.engine checks only connections that sat idle).
            LOG.warning("database connection lost on %s %s: %s", request.method, request.url.path, exc.orig)
            return self.render(errors.ServiceUnavailable("The database connection was lost; send the request "
                                                         "again."), request)
        return await self._crash(request, exc)

    async def _stale_data(self, request: Request, exc: StaleDataError) -> Response:
        # A versioned row (a network resource's revision_number) changed under this request's read-modify-write
        # more times than Database.write_retrying runs it again, or on a path that does not: rolled back whole.
        LOG.info("concurrent change on %s %s: %s", request.method, request.url.path, exc)
        return self.render(errors.Conflict("The request collided with a concurrent change and was not applied; "
                                           "send it again."), request)

    async def _crash(self, request: Request, exc: Exception) -> Response:
        LOG.exception("unexpected error in %s %s", request.method, request.url.path)
        err = errors.APIError("An unexpected error prevented the server from fulfilling your request.")
        return json_response(self.fault(err), 500)


def _relative_path(scope) -> str:
    """The path under the service's prefix (Starlette's mount leaves the prefix in ``root_path``)."""
    return scope.get("path", "").removeprefix(scope.get("root_path", "")) or "/"


ANY_METHOD = ("GET", "POST", "PUT", "PATCH", "DELETE")


def version_root(fn: Callable[[Call], Any]) -> Endpoint:
    """The root's version document for every method, as Nova's, Glance's, Cinder's and Heat's version apps
    answer whatever the method (their dispatch reads only the path)."""
    return Endpoint("/", ANY_METHOD, fn, public=True)


async def _authenticate(request: Request) -> Context:
    token = request.headers.get("x-auth-token")
    if not token:
        raise errors.Unauthorized()
    runtime = request.scope["onestack.runtime"]
    # a token validated since the last identity write is known without the database
    ctx = runtime.peek_context(token)
    return ctx if ctx is not None else await run_in_threadpool(runtime.authenticate, token)


def _identity_uri(request: Request | None) -> str:
    if request is None:
        return ""
    return f"{request.scope['onestack.runtime'].base_url(request)}/identity"
