"""Unified limits: /v3/registered_limits (defaults per service and resource) and /v3/limits
(a project's or domain's own value)."""

from __future__ import annotations

from onestack.http.routing import Call, Reply, route
from onestack.services.identity import schemas
from onestack.services.identity.api.common import check, identity, resource, views
from onestack.services.identity.policies import authorize
from onestack.services.identity.service.limits import MODEL, Limits
from onestack.services.identity.views import Views

REGISTERED = resource("/v3/registered_limits", "registered_limit", "limit_id", lambda i: i.limits,
                      Views.registered_limit)
LIMITS = resource("/v3/limits", "limit", "limit_id", lambda i: i.limits, Views.limit)


def create_registered_limits(call: Call) -> Reply:
    authorize(call.ctx, "identity:manage_registered_limits")
    v = views(call)
    rows = identity(call).limits.register(call.body["registered_limits"])
    return Reply({"registered_limits": [v.registered_limit(r) for r in rows]}, 201)


def list_registered_limits(call: Call) -> dict:
    authorize(call.ctx, "identity:get_registered_limit")
    v = views(call)
    rows = identity(call).limits.registered(call.query)
    return v.listing("registered_limits", [v.registered_limit(r) for r in rows], call.url("/v3/registered_limits"))


def create_limits(call: Call) -> Reply:
    authorize(call.ctx, "identity:manage_limits")
    v = views(call)
    rows = identity(call).limits.create(call.body["limits"])
    return Reply({"limits": [v.limit(m) for m in rows]}, 201)


def list_limits(call: Call) -> dict:
    v = views(call)
    rows = identity(call).limits.list(call.ctx, call.query)
    return v.listing("limits", [v.limit(m) for m in rows], call.url("/v3/limits"))


def get_limit(call: Call) -> dict:
    row = identity(call).limits.get(call.path["limit_id"], check(call, "identity:get_limit"))
    return {"limit": views(call).limit(row)}


def limit_model(call: Call) -> dict:
    authorize(call.ctx, "identity:get_limit_model")
    return {"model": MODEL}


ROUTES = [
    route("/v3/registered_limits", "POST", create_registered_limits, schema=schemas.registered_limits_create),
    route("/v3/registered_limits", "GET", list_registered_limits),
    REGISTERED.show("identity:get_registered_limit", Limits.get_registered),
    REGISTERED.update("identity:manage_registered_limits", Limits.update_registered,
                      schemas.registered_limit_update),
    REGISTERED.delete("identity:manage_registered_limits", Limits.delete_registered),
    route("/v3/limits", "POST", create_limits, schema=schemas.limits_create),
    route("/v3/limits", "GET", list_limits),
    route("/v3/limits/model", "GET", limit_model),
    route("/v3/limits/{limit_id}", "GET", get_limit),
    LIMITS.update("identity:manage_limits", Limits.update, schemas.limit_update),
    LIMITS.delete("identity:manage_limits", Limits.delete),
]
