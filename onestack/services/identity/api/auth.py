"""/v3/auth/*: tokens and what a token may be used for."""

from __future__ import annotations

from sqlalchemy import select

from onestack.http.errors import NotFound, Unauthorized
from onestack.http.routing import Call, Reply, route
from onestack.services.identity import assignments, schemas
from onestack.services.identity.api.common import authorize, identity, truthy, views
from onestack.services.identity.api.oauth1 import signed
from onestack.services.identity.authentication import WrongPassword
from onestack.services.identity.models import Assignment, Project
from onestack.services.identity.tokens import InvalidToken


def issue_token(call: Call) -> Reply:
    svc = identity(call)
    auth = call.body["auth"]
    scope = auth.get("scope")
    unscoped = scope == "unscoped"
    try:
        with svc.store.read() as session:
            who = svc.authenticator.identify(session, auth["identity"], signed(call, "/v3/auth/tokens"))
            data = svc.authenticator.scope(session, who, None if unscoped else scope, unscoped=unscoped)
    except WrongPassword as failed:
        with svc.store.write() as session:
            svc.authenticator.record_failure(session, failed.user_id)
        raise Unauthorized() from None
    if who.had_failures:
        with svc.store.write() as session:
            svc.authenticator.clear_failures(session, who.user.id)
    if data.context.trust_id:
        with svc.store.write() as session:
            svc.authenticator.consume_trust(session, data.context.trust_id)
    body = svc.token_body(data, _catalog(call, data))
    return Reply(body, 201, {"X-Subject-Token": data.context.token})


def _catalog(call: Call, data) -> list | None:
    if truthy(call.query.get("nocatalog")):
        return None
    return identity(call).catalog(data.payload.project_id)


def _subject(call: Call):
    svc = identity(call)
    subject = call.headers.get("x-subject-token")
    if not subject:
        raise NotFound("Could not find token: the X-Subject-Token header is missing.")
    try:
        data = svc.tokens.validate(subject, allow_expired=truthy(call.query.get("allow_expired")))
    except InvalidToken:
        raise NotFound("Could not find token.") from None
    return svc, data


def validate_token(call: Call) -> Reply:
    svc, data = _subject(call)
    authorize(call, "identity:validate_token", {"user_id": data.payload.user_id})
    return Reply(svc.token_body(data, _catalog(call, data)), 200, {"X-Subject-Token": data.context.token})


def validate_token_from_memory(call: Call) -> Reply | None:
    """The common case, answered on the event loop: both tokens and the catalog already validated."""
    svc = identity(call)
    subject = svc.tokens.peek(call.headers.get("x-subject-token") or "")
    if subject is None or call.cached_ctx() is None or "allow_expired" in call.query:
        return None
    authorize(call, "identity:validate_token", {"user_id": subject.payload.user_id})
    catalog = None
    if not truthy(call.query.get("nocatalog")):
        catalog = svc.cached_catalog(subject.payload.project_id)
        if catalog is None:
            return None
    return Reply(svc.token_body(subject, catalog), 200, {"X-Subject-Token": subject.context.token})


def revoke_token(call: Call) -> Reply:
    svc, data = _subject(call)
    authorize(call, "identity:revoke_token", {"user_id": data.payload.user_id})
    with svc.store.write() as session:
        svc.tokens.revoke(session, audit_id=data.payload.audit_ids[0])
    return Reply(status=204)


def auth_catalog(call: Call) -> dict:
    ctx = call.ctx
    if not (ctx.project_id or ctx.domain_id or ctx.is_system):
        raise Unauthorized("An unscoped token has no catalog.")
    return {"catalog": identity(call).catalog(ctx.project_id), "links": {"self": call.url("/v3/auth/catalog")}}


def _reachable(call: Call, want_domains: bool) -> list[Project]:
    ctx = call.ctx
    with identity(call).store.read() as session:
        if want_domains:
            groups = assignments.group_ids(session, ctx.user_id)
            ids = set(session.scalars(select(Assignment.target_id).where(
                Assignment.actor_id.in_([ctx.user_id, *groups]), Assignment.type.in_(("UserDomain", "GroupDomain")),
                Assignment.inherited.is_(False))))
        else:
            ids = assignments.projects_with_roles(session, ctx.user_id)
        rows = session.scalars(select(Project).where(Project.enabled, Project.is_domain == want_domains,
                                                     Project.id.in_(ids)).order_by(Project.name))
        return list(rows)


def auth_projects(call: Call) -> dict:
    v = views(call)
    return v.collection("projects", [v.project(p) for p in _reachable(call, False)], "auth/projects")


def auth_domains(call: Call) -> dict:
    v = views(call)
    return v.collection("domains", [v.domain(d) for d in _reachable(call, True)], "auth/domains")


def auth_system(call: Call) -> dict:
    ctx = call.ctx
    with identity(call).store.read() as session:
        has = bool(assignments.system_role_ids(session, ctx.user_id))
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
