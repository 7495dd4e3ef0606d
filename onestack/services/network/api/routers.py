"""Router actions beyond the five generic routes: interfaces (``add_router_interface``,
``remove_router_interface``) and atomic extra-route edits (``add_extraroutes``, ``remove_extraroutes``)."""

from __future__ import annotations

from onestack.http.routing import Call, route
from onestack.services.network.schemas import ROUTES_BODY

BASE = "/v2.0/routers/{id}"


def add_router_interface(call: Call) -> dict:
    return call.runtime.network.routers.add_interface(call.ctx, call.path["id"], call.body)


def remove_router_interface(call: Call) -> dict:
    return call.runtime.network.routers.remove_interface(call.ctx, call.path["id"], call.body)


def add_extraroutes(call: Call) -> dict:
    return {"router": call.runtime.network.routers.edit_routes(
        call.ctx, call.path["id"], "add_extraroutes",
        lambda current, asked: [*current, *(r for r in asked if r not in current)], call.body["router"]["routes"])}


def remove_extraroutes(call: Call) -> dict:
    return {"router": call.runtime.network.routers.edit_routes(
        call.ctx, call.path["id"], "remove_extraroutes",
        lambda current, asked: [r for r in current if r not in asked], call.body["router"]["routes"])}


ACTIONS = [
    route(f"{BASE}/add_router_interface", "PUT", add_router_interface),
    route(f"{BASE}/remove_router_interface", "PUT", remove_router_interface),
    route(f"{BASE}/add_extraroutes", "PUT", add_extraroutes, schema=ROUTES_BODY),
    route(f"{BASE}/remove_extraroutes", "PUT", remove_extraroutes, schema=ROUTES_BODY),
]
