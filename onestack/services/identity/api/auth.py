"""/v3/auth/*: tokens and what a token may be used for."""

from __future__ import annotations

import threading
import time

import orjson
from starlette.responses import Response

from onestack.bounded import pruned
from onestack.http.errors import NotFound, Unauthorized
from onestack.http.routing import Call, Reply, route
from onestack.services.identity import schemas
from onestack.services.identity.api.common import identity, truthy, views
from onestack.services.identity.api.oauth1 import signed
from onestack.services.identity.policies import authorize
from onestack.services.identity.service.tokens import CACHE_LIMIT, InvalidToken, TokenData
from onestack.services.identity.views import token_body


def issue_token(call: Call) -> Reply:
    data = identity(call).authenticator.authenticate(call.body["auth"], signed(call, "/v3/auth/tokens"))
    return Reply(token_body(data, _catalog(call, data)), 201, {"X-Subject-Token": data.context.token})


def _catalog(call: Call, data: TokenData) -> list | None:
    if truthy(call.query.get("nocatalog")):
        return None
    return identity(call).catalog.for_project(data.payload.project_id)


def _subject(call: Call) -> TokenData:
    """The token asked about, once the caller's own token has counted: an expired, revoked or invalid
    X-Auth-Token is a 401 whatever the subject (Keystone's middleware answers before the handler), so a
    caller who is no one never learns whether a subject token is valid."""
    call.ctx  # noqa: B018 - authenticates the caller first
    subject = call.headers.get("x-subject-token")
    if not subject:
        raise NotFound("Could not find token: the X-Subject-Token header is missing.")
    try:
        return identity(call).tokens.validate(subject, allow_expired=truthy(call.query.get("allow_expired")))
    except InvalidToken:
        raise NotFound("Could not find token.") from None


def validate_token(call: Call) -> Reply:
    data = _subject(call)
    authorize(call.ctx, "identity:validate_token", {"user_id": data.payload.user_id})
    return Reply(token_body(data, _catalog(call, data)), 200, {"X-Subject-Token": data.context.token})


class RenderedBodies:
    """Validation bodies already serialised, held beside the validation they render.

    Keyed by the cached ``TokenData`` object itself: ``tokens.peek`` hands out the same object only while the
    identity revision it was validated at is current, and any identity write (a revocation, a disabled user,
    a removed role, a catalog change) moves the revision, so the next validation makes a new object and the
    old body can never be served again.  What stays here is the JSON encoding and the catalog filtering,
    most of an answer from memory."""

    def __init__(self, limit: int = CACHE_LIMIT):
        self.limit = limit
        self._bodies: dict[tuple[int, bool], tuple[TokenData, bytes]] = {}
        self._lock = threading.Lock()

    def get(self, subject: TokenData, with_catalog: bool) -> bytes | None:
        held = self._bodies.get((id(subject), with_catalog))
        return held[1] if held is not None and held[0] is subject else None

    def put(self, subject: TokenData, with_catalog: bool, body: bytes) -> None:
        with self._lock:
            self._bodies = pruned(self._bodies, self.limit, _unexpired)
            self._bodies[(id(subject), with_catalog)] = (subject, body)

    def __len__(self) -> int:
        return len(self._bodies)


def _unexpired(held: tuple[TokenData, bytes]) -> bool:
    return held[0].payload.expires_at > time.time()


RENDERED = RenderedBodies()


def validate_token_from_memory(call: Call) -> Response | None:
    """The common case, answered on the event loop: both tokens and the catalog already validated."""
    svc = identity(call)
    subject = svc.tokens.peek(call.headers.get("x-subject-token") or "")
    if subject is None or call.cached_ctx() is None or "allow_expired" in call.query:
        return None
    authorize(call.ctx, "identity:validate_token", {"user_id": subject.payload.user_id})
    with_catalog = not truthy(call.query.get("nocatalog"))
    body = RENDERED.get(subject, with_catalog)
    if body is None:
        catalog = None
        if with_catalog:
            catalog = svc.catalog.cached(subject.payload.project_id)
            if catalog is None:
                return None
        body = orjson.dumps(token_body(subject, catalog))
        RENDERED.put(subject, with_catalog, body)
    return Response(body, 200, {"X-Subject-Token": subject.context.token}, media_type="application/json")


def revoke_token(call: Call) -> Reply:
    data = _subject(call)
    authorize(call.ctx, "identity:revoke_token", {"user_id": data.payload.user_id})
    identity(call).tokens.revoke_token(data)
    return Reply(status=204)


def auth_catalog(call: Call) -> dict:
    ctx = call.ctx
    if not (ctx.project_id or ctx.domain_id or ctx.is_system):
        raise Unauthorized("An unscoped token has no catalog.")
    return {"catalog": identity(call).catalog.for_project(ctx.project_id),
            "links": {"self": call.url("/v3/auth/catalog")}}


def auth_projects(call: Call) -> dict:
    v = views(call)
    return v.collection("projects", [v.project(p) for p in identity(call).assignments.projects_of(call.ctx.user_id)],
                        "auth/projects")


def auth_domains(call: Call) -> dict:
    v = views(call)
    return v.collection("domains", [v.domain(d) for d in identity(call).assignments.domains_of(call.ctx.user_id)],
                        "auth/domains")


def auth_system(call: Call) -> dict:
    has = identity(call).assignments.has_system_roles(call.ctx.user_id)
    return {"system": [{"all": True}] if has else [], "links": {"self": call.url("/v3/auth/system")}}


ROUTES = [
    route("/v3/auth/tokens", "POST", issue_token, schema=schemas.auth, public=True),
    route("/v3/auth/tokens", "GET", validate_token, fast=validate_token_from_memory),
    route("/v3/auth/tokens", "DELETE", revoke_token),
    route("/v3/auth/catalog", "GET", auth_catalog),
    route("/v3/auth/projects", "GET", auth_projects),
    route("/v3/auth/domains", "GET", auth_domains),
    route("/v3/auth/system", "GET", auth_system),
]
