"""/allocations/{consumer}, POST /allocations (1.13), /resource_providers/{uuid}/allocations, usages."""

from __future__ import annotations

from onestack.http.errors import BadRequest
from onestack.http.listing import query_parameters
from onestack.http.routing import Call, Reply, route
from onestack.services.placement import responses, schemas, views
from onestack.services.placement.api.common import placement, reply, since
from onestack.services.placement.policies import authorize
from onestack.services.placement.service.allocations import UNCHECKED, ConsumerWrite
from onestack.services.placement.service.queries import bad, only_known, single

# ``GET /usages``'s filters (from the version each is known at)
USAGE_FILTERS = {"project_id": "1.9", "user_id": "1.9", "consumer_type": "1.38"}

# Placement's defaults for consumers written before 1.8, which named no project or user.
INCOMPLETE_PROJECT = INCOMPLETE_USER = "00000000-0000-0000-0000-000000000000"


def show_allocations(call: Call) -> Reply:
    authorize(call.ctx, "allocations")
    rows, consumer = placement(call).consumer_allocations(call.path["consumer"])
    return reply(call, views.consumer_allocations(rows, consumer, call.version),
                 consumer.updated_at if consumer else None)


def consumer_write(call: Call, consumer: str, data: dict) -> ConsumerWrite:
    raw = data["allocations"]
    if isinstance(raw, list):  # before 1.12
        by_provider: dict[str, dict[str, int]] = {}
        for item in raw:
            by_provider.setdefault(item["resource_provider"]["uuid"], {}).update(item["resources"])
    else:
        by_provider = {uuid: dict(entry["resources"]) for uuid, entry in raw.items()}
    return ConsumerWrite(consumer, by_provider, data.get("project_id", INCOMPLETE_PROJECT),
                         data.get("user_id", INCOMPLETE_USER),
                         data["consumer_generation"] if call.version.at_least("1.28") else UNCHECKED,
                         data.get("consumer_type"))


def put_allocations(call: Call) -> Reply:
    authorize(call.ctx, "allocations")
    if not schemas.is_uuid(call.path["consumer"]):
        raise BadRequest(f"Malformed consumer_uuid: {call.path['consumer']}")
    placement(call).claim_many([consumer_write(call, call.path["consumer"], call.body)])
    return Reply(None, 204)


def post_allocations(call: Call) -> Reply:
    since(call, "1.13")
    authorize(call.ctx, "allocations")
    placement(call).claim_many([consumer_write(call, consumer, entry) for consumer, entry in call.body.items()])
    return Reply(None, 204)


def delete_allocations(call: Call) -> Reply:
    authorize(call.ctx, "allocations")
    placement(call).delete_allocations(call.path["consumer"])
    return Reply(None, 204)


def provider_allocations(call: Call) -> Reply:
    authorize(call.ctx, "allocations")
    provider, rows = placement(call).provider_allocations(call.path["uuid"])
    return reply(call, views.provider_allocations(provider, rows, call.version), provider.updated_at)


def provider_usages(call: Call) -> Reply:
    authorize(call.ctx, "usages")
    provider, used = placement(call).provider_usages(call.path["uuid"])
    return reply(call, views.usages(provider, used))


def total_usages(call: Call) -> Reply:
    since(call, "1.9")
    q = call.query
    only_known(q, USAGE_FILTERS, call.version)
    project_id = single(q, "project_id")
    if not project_id:
        raise bad("Invalid query string parameters: 'project_id' is a required property")
    authorize(call.ctx, "total_usages", {"project_id": project_id})
    usages = placement(call).total_usages(project_id, single(q, "user_id"), single(q, "consumer_type"),
                                          by_type=call.version.at_least("1.38"))
    return reply(call, {"usages": usages})


ROUTES = [
    route("/allocations", "POST", post_allocations, schema=schemas.POST_ALLOCATIONS),
    route("/allocations/{consumer}", "GET", show_allocations),
    route("/allocations/{consumer}", "PUT", put_allocations, schema=schemas.PUT_ALLOCATIONS),
    route("/allocations/{consumer}", "DELETE", delete_allocations),
    route("/resource_providers/{uuid}/allocations", "GET", provider_allocations),
    route("/resource_providers/{uuid}/usages", "GET", provider_usages, response=responses.PROVIDER_USAGES),
    route("/usages", "GET", total_usages, query=query_parameters(USAGE_FILTERS, paging=())),
]
