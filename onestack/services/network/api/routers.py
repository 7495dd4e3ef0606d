"""Router actions beyond the five generic routes: interfaces (``add_router_interface``,
``remove_router_interface``) and atomic extra-route edits (``add_extraroutes``, ``remove_extraroutes``)."""

from __future__ import annotations

from collections.abc import Callable

from onestack.http.policy import enforce
from onestack.http.routing import Call, route
from onestack.services.network import ipam, policies
from onestack.services.network.subnets import ROUTES

BASE = "/v2.0/routers/{id}"
ROUTES_BODY = {"type": "object", "required": ["router"], "properties": {
    "router": {"type": "object", "required": ["routes"], "additionalProperties": False,
               "properties": {"routes": ROUTES}}}}


def _act(call: Call, action: str, work: Callable) -> dict:
    """``work(net, session, router)`` on a router the caller sees, if policy lets the caller change it."""
    net = call.runtime.network
    with net.db.write() as session:
        router = net.routers.get(session, call.ctx, call.path["id"])
        enforce(call.ctx, action, policies.rule("update", "router"), net.routers.target(router))
        return work(net, session, router)


def add_router_interface(call: Call) -> dict:
    return _act(call, "add_router_interface",
                lambda net, session, router: net.router_interfaces.add(session, call.ctx, router, call.body))


def remove_router_interface(call: Call) -> dict:
    return _act(call, "remove_router_interface",
                lambda net, session, router: net.router_interfaces.remove(session, call.ctx, router, call.body))


def _edit_routes(call: Call, action: str, combine: Callable[[list[dict], list[dict]], list[dict]]) -> dict:
    """extraroute-atomic: change the route list in one transaction, whatever else edits it meanwhile."""

    def work(net, session, router):
        asked = ipam.routes(call.body["router"]["routes"])
        router.routes = net.routers.checked_routes(session, router, combine(router.routes, asked))
        session.flush()
        view = net.routers.view(session, call.ctx, router)
        return {"router": net.routers.table.shown(view, [], call.ctx.is_admin)}

    return _act(call, action, work)


def add_extraroutes(call: Call) -> dict:
    return _edit_routes(call, "add_extraroutes",
                        lambda current, asked: [*current, *(r for r in asked if r not in current)])


def remove_extraroutes(call: Call) -> dict:
    return _edit_routes(call, "remove_extraroutes", lambda current, asked: [r for r in current if r not in asked])


ACTIONS = [
    route(f"{BASE}/add_router_interface", "PUT", add_router_interface),
    route(f"{BASE}/remove_router_interface", "PUT", remove_router_interface),
    route(f"{BASE}/add_extraroutes", "PUT", add_extraroutes, schema=ROUTES_BODY),
    route(f"{BASE}/remove_extraroutes", "PUT", remove_extraroutes, schema=ROUTES_BODY),
]
