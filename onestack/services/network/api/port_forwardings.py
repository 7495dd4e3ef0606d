"""``/v2.0/floatingips/{floatingip_id}/port_forwardings``: a sub-resource of a floating IP, reached
only through a floating IP the caller can see."""

from __future__ import annotations

from collections.abc import Callable

from onestack.http.attrmap import matches
from onestack.http.errors import BadRequest
from onestack.http.policy import enforce
from onestack.http.routing import Call, Reply, route
from onestack.services.network import policies

BASE = "/v2.0/floatingips/{fip}/port_forwardings"
ITEM = f"{BASE}/{{id}}"


def _with_fip(call: Call, verb: str, work: Callable, write: bool = True):
    net = call.runtime.network
    with (net.db.write() if write else net.db.read()) as session:
        fip = net.floatingips.get(session, call.ctx, call.path["fip"])
        enforce(call.ctx, f"{verb}_floatingip_port_forwarding", policies.rule(verb, "floatingip"),
                net.floatingips.target(fip))
        return work(net.port_forwardings, session, fip)


def _body(call: Call, creating: bool) -> dict:
    body = call.body
    if not isinstance(body, dict) or not isinstance(body.get("port_forwarding"), dict):
        raise BadRequest("Unable to find 'port_forwarding' in request body", kind="HTTPBadRequest")
    return call.runtime.network.port_forwardings.table.check(body["port_forwarding"], creating=creating,
                                                            is_admin=call.ctx.is_admin)


def list_port_forwardings(call: Call) -> dict:
    def work(pfs, session, fip):
        filters = pfs.table.filters(call.query)
        return {"port_forwardings": [v for v in map(pfs.view, pfs.of(session, fip))
                                     if matches(v, filters, lambda _: False)]}

    return _with_fip(call, "get", work, write=False)


def show_port_forwarding(call: Call) -> dict:
    return _with_fip(call, "get", lambda pfs, session, fip: {
        "port_forwarding": pfs.view(pfs.get(session, fip, call.path["id"]))}, write=False)


def create_port_forwarding(call: Call) -> Reply:
    body = _body(call, creating=True)
    return Reply({"port_forwarding": _with_fip(
        call, "create", lambda pfs, session, fip: pfs.view(pfs.create(session, call.ctx, fip, body)))}, 201)


def update_port_forwarding(call: Call) -> dict:
    changes = _body(call, creating=False)

    def work(pfs, session, fip):
        row = pfs.get(session, fip, call.path["id"])
        pfs.update(session, call.ctx, fip, row, changes)
        return {"port_forwarding": pfs.view(row)}

    return _with_fip(call, "update", work)


def delete_port_forwarding(call: Call) -> Reply:
    _with_fip(call, "delete", lambda pfs, session, fip: pfs.delete(session, fip, pfs.get(session, fip, call.path["id"])))
    return Reply(status=204)


ROUTES = [route(BASE, "GET", list_port_forwardings), route(BASE, "POST", create_port_forwarding, status=201),
          route(ITEM, "GET", show_port_forwarding), route(ITEM, "PUT", update_port_forwarding),
          route(ITEM, "DELETE", delete_port_forwarding)]
