"""``/v2.0/ports/{port_id}/bindings`` (``binding-extended``): a port's bindings to hosts, reached only
through a port the caller can see, and only by admins (and services) as Neutron's policy says."""

from __future__ import annotations

from onestack.http.errors import BadRequest
from onestack.http.routing import Call, Reply, route
from onestack.services.network.api.collections import fields

BASE = "/v2.0/ports/{port}/bindings"
ITEM = f"{BASE}/{{host}}"


def _bindings(call: Call):
    return call.runtime.network.port_bindings


def _body(call: Call, creating: bool) -> dict:
    body = call.body
    if not isinstance(body, dict) or not isinstance(body.get("binding"), dict):
        raise BadRequest("Unable to find 'binding' in request body", kind="HTTPBadRequest")
    return _bindings(call).table.check(body["binding"], creating=creating, is_admin=call.ctx.is_admin)


def list_bindings(call: Call) -> dict:
    return {"bindings": _bindings(call).read_list(call.ctx, call.path["port"], call.query, fields(call))}


def show_binding(call: Call) -> dict:
    return {"binding": _bindings(call).read_one(call.ctx, call.path["port"], call.path["host"], fields(call))}


def create_binding(call: Call) -> Reply:
    body = _body(call, creating=True)
    return Reply({"binding": _bindings(call).create_one(call.ctx, call.path["port"], body)}, 201)


def update_binding(call: Call) -> dict:
    changes = _body(call, creating=False)
    return {"binding": _bindings(call).update_one(call.ctx, call.path["port"], call.path["host"], changes)}


def delete_binding(call: Call) -> Reply:
    _bindings(call).delete_one(call.ctx, call.path["port"], call.path["host"])
    return Reply(status=204)


def activate_binding(call: Call) -> dict:
    return {"binding": _bindings(call).activate_one(call.ctx, call.path["port"], call.path["host"])}


ROUTES = [route(BASE, "GET", list_bindings), route(BASE, "POST", create_binding, status=201),
          route(ITEM, "GET", show_binding), route(ITEM, "PUT", update_binding),
          route(ITEM, "DELETE", delete_binding), route(f"{ITEM}/activate", "PUT", activate_binding)]
