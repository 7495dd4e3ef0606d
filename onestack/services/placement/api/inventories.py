"""/resource_providers/{uuid}/inventories, whole and per resource class."""

from __future__ import annotations

from onestack.http.routing import Call, Reply, route
from onestack.services.placement import responses, schemas, views
from onestack.services.placement.api.common import latest, placement, reply, since
from onestack.services.placement.policies import authorize


def _reserved_may_equal_total(call: Call) -> bool:
    return call.version.at_least("1.26")


def _all(call: Call, provider, rows: dict) -> Reply:
    return reply(call, views.inventories(provider, rows),
                 latest(provider.updated_at, *(i.updated_at for i in rows.values())))


def _one(call: Call, provider, inv, status: int = 200, headers: dict | None = None) -> Reply:
    return reply(call, views.one_inventory(provider, inv), latest(provider.updated_at, inv.updated_at), status,
                 headers)


def list_inventories(call: Call) -> Reply:
    authorize(call.ctx, "inventories")
    return _all(call, *placement(call).inventories(call.path["uuid"]))


def replace_inventories(call: Call) -> Reply:
    authorize(call.ctx, "inventories")
    data = call.body
    return _all(call, *placement(call).replace_inventories(
        call.path["uuid"], data["resource_provider_generation"], data["inventories"], _reserved_may_equal_total(call)))


def delete_inventories(call: Call) -> Reply:
    since(call, "1.5")
    authorize(call.ctx, "inventories")
    placement(call).delete_inventories(call.path["uuid"])
    return Reply(None, 204)


def create_inventory(call: Call) -> Reply:
    authorize(call.ctx, "inventories")
    data = call.body
    rc = data["resource_class"]
    provider, inv = placement(call).add_inventory(call.path["uuid"], data["resource_provider_generation"], rc, data,
                                                  _reserved_may_equal_total(call))
    location = {"Location": call.url(f"/resource_providers/{provider.uuid}/inventories/{rc}")}
    return _one(call, provider, inv, 201, location)


def show_inventory(call: Call) -> Reply:
    authorize(call.ctx, "inventories")
    return _one(call, *placement(call).inventory(call.path["uuid"], call.path["rc"]))


def update_inventory(call: Call) -> Reply:
    authorize(call.ctx, "inventories")
    data = call.body
    return _one(call, *placement(call).update_inventory(call.path["uuid"], data["resource_provider_generation"],
                                                        call.path["rc"], data, _reserved_may_equal_total(call)))


def delete_inventory(call: Call) -> Reply:
    authorize(call.ctx, "inventories")
    placement(call).delete_inventory(call.path["uuid"], call.path["rc"])
    return Reply(None, 204)


BASE = "/resource_providers/{uuid}/inventories"
ROUTES = [
    route(BASE, "GET", list_inventories, response=responses.INVENTORIES),
    route(BASE, "PUT", replace_inventories, schema=schemas.INVENTORIES, response=responses.INVENTORIES),
    route(BASE, "POST", create_inventory, schema=schemas.NEW_INVENTORY),
    route(BASE, "DELETE", delete_inventories),
    route(BASE + "/{rc}", "GET", show_inventory, response=responses.INVENTORY),
    route(BASE + "/{rc}", "PUT", update_inventory, schema=schemas.ONE_INVENTORY, response=responses.INVENTORY),
    route(BASE + "/{rc}", "DELETE", delete_inventory),
]
