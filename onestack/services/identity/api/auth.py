"""/v3/auth/*: tokens and what a token may be used for."""

from __future__ import annotations

from onestack.http.errors import NotFound, Unauthorized
from onestack.http.routing import Call, Reply, route
from onestack.services.identity import schemas
from onestack.services.identity.api.common import identity, truthy, views
from onestack.services.identity.api.oauth1 import signed
from onestack.services.identity.policies import authorize
from onestack.services.identity.service.tokens import InvalidToken, TokenData
from onestack.services.identity.views import token_body


def issue_token(call: Call) -> Reply:
    data = identity(call).authenticator.authenticate(call.body["auth"], signed(call, "/v3/auth/tokens"))
    return Reply(token_body(data, _catalog(call, data)), 201, {"X-Subject-Token": data.context.token})


def _catalog(call: Call, data: TokenData) -> list | None:
    if truthy(call.query.get("nocatalog")):
        return None
    return identity(call).catalog.for_project(data.payload.project_id)


def _subject(call: Call) -> TokenData:
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


def validate_token_from_memory(call: Call) -> Reply | None:
    """The common case, answered on the event loop: both tokens and the catalog already validated."""
    svc = identity(call)
    subject = svc.tokens.peek(call.headers.get("x-subject-token") or "")
    if subject is None or call.cached_ctx() is None or "allow_expired" in call.query:
        return None
    authorize(call.ctx, "identity:validate_token", {"user_id": subject.payload.user_id})
    catalog = None
    if not truthy(call.query.get("nocatalog")):
        catalog = svc.catalog.cached(subject.payload.project_id)
        if catalog is None:
            return None
    return Reply(token_body(subject, catalog), 200, {"X-Subject-Token": subject.context.token})


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
    route("/v3/auth/tokens", "POST", issue_token, schema=schemas.auth),
    route("/v3/auth/tokens", "GET", validate_token, fast=validate_token_from_memory),
    route("/v3/auth/tokens", "DELETE", revoke_token),
    route("/v3/auth/catalog", "GET", auth_catalog),
    route("/v3/auth/projects", "GET", auth_projects),
    route("/v3/auth/domains", "GET", auth_domains),
    route("/v3/auth/system", "GET", auth_system),
]
