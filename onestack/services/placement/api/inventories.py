"""/resource_providers/{uuid}/inventories, whole and per resource class."""

from __future__ import annotations

from onestack.http.errors import BadRequest
from onestack.http.routing import Call, Reply, route
from onestack.services.placement import inventories, providers, schemas, views
from onestack.services.placement.api.common import (
    at_least,
    authorize,
    body,
    latest,
    placement,
    reply,
    since,
)


def _reserved_may_equal_total(call: Call) -> bool:
    return at_least(call, 1, 26)


def _all(call: Call, session, provider) -> Reply:
    rows = inventories.listed(session, provider)
    content = {"resource_provider_generation": provider.generation,
               "inventories": {rc: views.inventory(inv) for rc, inv in rows.items()}}
    return reply(call, content, latest(provider.updated_at, *(i.updated_at for i in rows.values())))


def _one(call: Call, provider, inv, status: int = 200, headers: dict | None = None) -> Reply:
    content = {"resource_provider_generation": provider.generation, **views.inventory(inv)}
    return reply(call, content, latest(provider.updated_at, inv.updated_at), status, headers)


def list_inventories(call: Call) -> Reply:
    authorize(call, "inventories")
    with placement(call).read() as session:
        return _all(call, session, providers.get(session, call.path["uuid"]))


def replace_inventories(call: Call) -> Reply:
    authorize(call, "inventories")
    data = body(call, schemas.INVENTORIES)
    with placement(call).write() as session:
        provider = providers.get(session, call.path["uuid"])
        inventories.replace_all(session, provider, data["resource_provider_generation"], data["inventories"],
                                _reserved_may_equal_total(call))
        return _all(call, session, provider)


def delete_inventories(call: Call) -> Reply:
    since(call, 1, 5)
    authorize(call, "inventories")
    with placement(call).write() as session:
        inventories.delete_all(session, providers.get(session, call.path["uuid"]))
    return Reply(None, 204)


def create_inventory(call: Call) -> Reply:
    authorize(call, "inventories")
    data = body(call, schemas.NEW_INVENTORY)
    with placement(call).write() as session:
        provider = providers.get(session, call.path["uuid"])
        rc = data["resource_class"]
        inv = inventories.add_one(session, provider, data["resource_provider_generation"], rc, data,
                                  _reserved_may_equal_total(call))
        location = {"Location": call.url(f"/resource_providers/{provider.uuid}/inventories/{rc}")}
        return _one(call, provider, inv, 201, location)


def show_inventory(call: Call) -> Reply:
    authorize(call, "inventories")
    with placement(call).read() as session:
        provider = providers.get(session, call.path["uuid"])
        return _one(call, provider, inventories.get_one(session, provider, call.path["rc"]))


def update_inventory(call: Call) -> Reply:
    authorize(call, "inventories")
    data = body(call, schemas.ONE_INVENTORY)
    with placement(call).write() as session:
        provider = providers.get(session, call.path["uuid"])
        if call.path["rc"] not in inventories.listed(session, provider):
            raise BadRequest(f"No inventory record with resource class {call.path['rc']} for resource provider "
                             f"{provider.uuid}")
        inv = inventories.set_one(session, provider, data["resource_provider_generation"], call.path["rc"], data,
                                  _reserved_may_equal_total(call))
        return _one(call, provider, inv)


def delete_inventory(call: Call) -> Reply:
    authorize(call, "inventories")
    with placement(call).write() as session:
        provider = providers.get(session, call.path["uuid"])
        inventories.delete_one(session, provider, call.path["rc"])
    return Reply(None, 204)


BASE = "/resource_providers/{uuid}/inventories"
ROUTES = [
    route(BASE, "GET", list_inventories),
    route(BASE, "PUT", replace_inventories),
    route(BASE, "POST", create_inventory),
    route(BASE, "DELETE", delete_inventories),
    route(BASE + "/{rc}", "GET", show_inventory),
    route(BASE + "/{rc}", "PUT", update_inventory),
    route(BASE + "/{rc}", "DELETE", delete_inventory),
]
