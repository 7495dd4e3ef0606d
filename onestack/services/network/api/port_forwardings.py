"""``/v2.0/floatingips/{floatingip_id}/port_forwardings``: a sub-resource of a floating IP, reached
only through a floating IP the caller can see."""

from __future__ import annotations

from onestack.http.errors import BadRequest
from onestack.http.routing import Call, Reply, route

BASE = "/v2.0/floatingips/{fip}/port_forwardings"
ITEM = f"{BASE}/{{id}}"


def _forwardings(call: Call):
    return call.runtime.network.port_forwardings


def _body(call: Call, creating: bool) -> dict:
    body = call.body
    if not isinstance(body, dict) or not isinstance(body.get("port_forwarding"), dict):
        raise BadRequest("Unable to find 'port_forwarding' in request body", kind="HTTPBadRequest")
    return _forwardings(call).table.check(body["port_forwarding"], creating=creating, is_admin=call.ctx.is_admin)


def list_port_forwardings(call: Call) -> dict:
    return {"port_forwardings": _forwardings(call).read_list(call.ctx, call.path["fip"], call.query)}


def show_port_forwarding(call: Call) -> dict:
    return {"port_forwarding": _forwardings(call).read_one(call.ctx, call.path["fip"], call.path["id"])}


def create_port_forwarding(call: Call) -> Reply:
    body = _body(call, creating=True)
    return Reply({"port_forwarding": _forwardings(call).create_one(call.ctx, call.path["fip"], body)}, 201)


def update_port_forwarding(call: Call) -> dict:
    changes = _body(call, creating=False)
    return {"port_forwarding": _forwardings(call).update_one(call.ctx, call.path["fip"], call.path["id"], changes)}


def delete_port_forwarding(call: Call) -> Reply:
    _forwardings(call).delete_one(call.ctx, call.path["fip"], call.path["id"])
    return Reply(status=204)


ROUTES = [route(BASE, "GET", list_port_forwardings), route(BASE, "POST", create_port_forwarding, status=201),
          route(ITEM, "GET", show_port_forwarding), route(ITEM, "PUT", update_port_forwarding),
          route(ITEM, "DELETE", delete_port_forwarding)]
