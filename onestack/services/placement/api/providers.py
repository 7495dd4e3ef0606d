"""/resource_providers: create, list with filters, show, update, delete."""

from __future__ import annotations

from onestack.http.listing import query_parameters
from onestack.http.routing import Call, Reply, Versioned, route
from onestack.services.placement import responses, schemas, views
from onestack.services.placement.api.common import href, placement, reply
from onestack.services.placement.policies import authorize
from onestack.services.placement.service import Placed
from onestack.services.placement.service.queries import only_known

LIST_FILTERS = {"name": "1.0", "uuid": "1.0", "member_of": "1.3", "resources": "1.4", "in_tree": "1.14",
                "required": "1.18"}
# Placement pages no list: its query string is the filters alone
LIST_QUERY = query_parameters(LIST_FILTERS, paging=())


def _shown(call: Call, placed: Placed) -> dict:
    return views.placed(placed, call.version, href(call, ""))


def create_provider(call: Call) -> Reply:
    authorize(call.ctx, "resource_providers")
    data = call.body
    placed = placement(call).create_provider(data.get("uuid"), data["name"], data.get("parent_provider_uuid"))
    provider = placed.provider
    location = {"Location": call.url(f"/resource_providers/{provider.uuid}")}
    if call.version.at_least("1.20"):
        return reply(call, _shown(call, placed), provider.updated_at, 200, location)
    return Reply(None, 201, location)


def list_providers(call: Call) -> Reply:
    authorize(call.ctx, "resource_providers")
    only_known(call.query, LIST_FILTERS, call.version)
    found = placement(call).find_providers(call.query, call.version)
    return reply(call, {"resource_providers": [_shown(call, placed) for placed in found]})


def show_provider(call: Call) -> Reply:
    authorize(call.ctx, "resource_providers")
    placed = placement(call).provider(call.path["uuid"])
    return reply(call, _shown(call, placed), placed.provider.updated_at)


def update_provider(call: Call) -> Reply:
    authorize(call.ctx, "resource_providers")
    data = call.body
    placed = placement(call).update_provider(call.path["uuid"], data["name"], data.get("parent_provider_uuid"),
                                             "parent_provider_uuid" in data,
                                             may_reparent=call.version.at_least("1.37"))
    return reply(call, _shown(call, placed), placed.provider.updated_at)


def delete_provider(call: Call) -> Reply:
    authorize(call.ctx, "resource_providers")
    placement(call).delete_provider(call.path["uuid"])
    return Reply(None, 204)


ROUTES = [
    # 201 without a body until 1.20, then 200 with the provider
    route("/resource_providers", "POST", create_provider, schema=schemas.PROVIDER_CREATE,
          status=Versioned({"1.0": 201, "1.20": 200}), response=Versioned({"1.0": None, "1.20": responses.PROVIDER})),
    route("/resource_providers", "GET", list_providers, query=LIST_QUERY, response=responses.PROVIDERS),
    route("/resource_providers/{uuid}", "GET", show_provider, response=responses.PROVIDER),
    route("/resource_providers/{uuid}", "PUT", update_provider, schema=schemas.PROVIDER_UPDATE,
          response=responses.PROVIDER),
    route("/resource_providers/{uuid}", "DELETE", delete_provider),
]
