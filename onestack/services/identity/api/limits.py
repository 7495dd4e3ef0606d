"""Unified limits: /v3/registered_limits (defaults per service and resource) and /v3/limits
(a project's or domain's own value)."""

from __future__ import annotations

from onestack.http.routing import Call, Reply, route
from onestack.services.identity import schemas
from onestack.services.identity.api.common import check, identity, views
from onestack.services.identity.policies import authorize
from onestack.services.identity.service.limits import MODEL


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


def get_registered_limit(call: Call) -> dict:
    authorize(call.ctx, "identity:get_registered_limit")
    return {"registered_limit": views(call).registered_limit(identity(call).limits.get_registered(
        call.path["limit_id"]))}


def update_registered_limit(call: Call) -> dict:
    authorize(call.ctx, "identity:manage_registered_limits")
    row = identity(call).limits.update_registered(call.path["limit_id"], call.body["registered_limit"])
    return {"registered_limit": views(call).registered_limit(row)}


def delete_registered_limit(call: Call) -> Reply:
    authorize(call.ctx, "identity:manage_registered_limits")
    identity(call).limits.delete_registered(call.path["limit_id"])
    return Reply(status=204)


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


def update_limit(call: Call) -> dict:
    authorize(call.ctx, "identity:manage_limits")
    row = identity(call).limits.update(call.path["limit_id"], call.body["limit"])
    return {"limit": views(call).limit(row)}


def delete_limit(call: Call) -> Reply:
    authorize(call.ctx, "identity:manage_limits")
    identity(call).limits.delete(call.path["limit_id"])
    return Reply(status=204)


def limit_model(call: Call) -> dict:
    authorize(call.ctx, "identity:get_limit_model")
    return {"model": MODEL}


ROUTES = [
    route("/v3/registered_limits", "POST", create_registered_limits, schema=schemas.registered_limits_create),
    route("/v3/registered_limits", "GET", list_registered_limits),
    route("/v3/registered_limits/{limit_id}", "GET", get_registered_limit),
    route("/v3/registered_limits/{limit_id}", "PATCH", update_registered_limit,
          schema=schemas.registered_limit_update),
    route("/v3/registered_limits/{limit_id}", "DELETE", delete_registered_limit),
    route("/v3/limits", "POST", create_limits, schema=schemas.limits_create),
    route("/v3/limits", "GET", list_limits),
    route("/v3/limits/model", "GET", limit_model),
    route("/v3/limits/{limit_id}", "GET", get_limit),
    route("/v3/limits/{limit_id}", "PATCH", update_limit, schema=schemas.limit_update),
    route("/v3/limits/{limit_id}", "DELETE", delete_limit),
]
