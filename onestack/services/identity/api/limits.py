"""Unified limits: /v3/registered_limits (defaults per service and resource) and /v3/limits
(a project's or domain's own value)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from onestack.http.routing import Call, Reply, route
from onestack.services.identity import schemas
from onestack.services.identity.api.common import check, identity, resource, views
from onestack.services.identity.policies import authorize
from onestack.services.identity.service.limits import MODEL, Limits
from onestack.services.identity.views import Views

REGISTERED = resource("/v3/registered_limits", "registered_limit", "limit_id", lambda i: i.limits,
                      Views.registered_limit)
LIMITS = resource("/v3/limits", "limit", "limit_id", lambda i: i.limits, Views.limit)


def _batch_create(action: str, key: str, view: Callable[[Views, Any], dict],
                  method: Callable[[Limits, list], list]) -> Callable[[Call], Reply]:
    """POST a batch of limits under ``key``: ``method(limits, items)``; 201 with each row's view."""
    def create(call: Call) -> Reply:
        authorize(call.ctx, action)
        v = views(call)
        return Reply({key: [view(v, row) for row in method(identity(call).limits, call.body[key])]}, 201)
    create.__name__ = f"create_{key}"
    return create


def list_registered_limits(call: Call) -> dict:
    authorize(call.ctx, "identity:get_registered_limit")
    v = views(call)
    rows = identity(call).limits.registered(call.query)
    return v.listing("registered_limits", [v.registered_limit(r) for r in rows], call.url("/v3/registered_limits"))


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
    route("/v3/registered_limits", "POST",
          _batch_create("identity:manage_registered_limits", "registered_limits", Views.registered_limit,
                        Limits.register), schema=schemas.registered_limits_create),
    route("/v3/registered_limits", "GET", list_registered_limits),
    REGISTERED.show("identity:get_registered_limit", Limits.get_registered),
    REGISTERED.update("identity:manage_registered_limits", Limits.update_registered,
                      schemas.registered_limit_update),
    REGISTERED.delete("identity:manage_registered_limits", Limits.delete_registered),
    route("/v3/limits", "POST", _batch_create("identity:manage_limits", "limits", Views.limit, Limits.create),
          schema=schemas.limits_create),
    route("/v3/limits", "GET", list_limits),
    route("/v3/limits/model", "GET", limit_model),
    route("/v3/limits/{limit_id}", "GET", get_limit),
    LIMITS.update("identity:manage_limits", Limits.update, schemas.limit_update),
    LIMITS.delete("identity:manage_limits", Limits.delete),
]
