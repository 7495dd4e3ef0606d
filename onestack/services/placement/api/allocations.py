"""/allocations/{consumer}, POST /allocations (1.13), /resource_providers/{uuid}/allocations, usages."""

from __future__ import annotations

from onestack.http.errors import BadRequest
from onestack.http.routing import Call, Reply, route
from onestack.services.placement import allocations, inventories, providers, schemas
from onestack.services.placement.allocations import UNCHECKED, ConsumerWrite
from onestack.services.placement.api.common import V, at_least, authorize, body, placement, reply, since
from onestack.services.placement.models import Consumer
from onestack.services.placement.queries import bad, only_known, single

# Placement's defaults for consumers written before 1.8, which named no project or user.
INCOMPLETE_PROJECT = INCOMPLETE_USER = "00000000-0000-0000-0000-000000000000"



def show_allocations(call: Call) -> Reply:
    authorize(call, "allocations")
    consumer = call.path["consumer"]
    with placement(call).read() as session:
        rows = allocations.consumer_allocations(session, consumer)
        held: dict[str, dict] = {}
        for alloc, provider in rows:
            entry = held.setdefault(provider.uuid, {"generation": provider.generation, "resources": {}})
            entry["resources"][alloc.resource_class] = alloc.used
        content: dict = {"allocations": held}
        row = session.get(Consumer, consumer) if rows else None
        if row is not None:
            if at_least(call, 1, 12):
                content.update(project_id=row.project_id, user_id=row.user_id)
            if at_least(call, 1, 28):
                content["consumer_generation"] = row.generation
            if at_least(call, 1, 38):
                content["consumer_type"] = row.consumer_type or "unknown"
        return reply(call, content, row.updated_at if row else None)


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
                         data["consumer_generation"] if at_least(call, 1, 28) else UNCHECKED,
                         data.get("consumer_type"))


def put_allocations(call: Call) -> Reply:
    authorize(call, "allocations")
    if not schemas.is_uuid(call.path["consumer"]):
        raise BadRequest(f"Malformed consumer_uuid: {call.path['consumer']}")
    data = body(call, schemas.put_allocations(call.version))
    placement(call).claim_many([consumer_write(call, call.path["consumer"], data)])
    return Reply(None, 204)


def post_allocations(call: Call) -> Reply:
    since(call, 1, 13)
    authorize(call, "allocations")
    data = body(call, schemas.post_allocations(call.version))
    placement(call).claim_many([consumer_write(call, consumer, entry) for consumer, entry in data.items()])
    return Reply(None, 204)


def delete_allocations(call: Call) -> Reply:
    authorize(call, "allocations")
    with placement(call).write() as session:
        allocations.release(session, call.path["consumer"])
    return Reply(None, 204)


def provider_allocations(call: Call) -> Reply:
    authorize(call, "allocations")
    with placement(call).read() as session:
        provider = providers.get(session, call.path["uuid"])
        held: dict[str, dict] = {}
        for alloc, consumer in allocations.provider_allocations(session, provider):
            entry = held.setdefault(consumer.uuid, {"resources": {}})
            if at_least(call, 1, 28):
                entry["consumer_generation"] = consumer.generation
            entry["resources"][alloc.resource_class] = alloc.used
        return reply(call, {"resource_provider_generation": provider.generation, "allocations": held},
                     provider.updated_at)


def provider_usages(call: Call) -> Reply:
    authorize(call, "usages")
    with placement(call).read() as session:
        provider = providers.get(session, call.path["uuid"])
        used = {rc: 0 for rc in inventories.listed(session, provider)}
        used.update(inventories.usage(session, provider))
        return reply(call, {"resource_provider_generation": provider.generation, "usages": used})


def total_usages(call: Call) -> Reply:
    since(call, 1, 9)
    q = call.query
    only_known(q, {"project_id": V(1, 9), "user_id": V(1, 9), "consumer_type": V(1, 38)}, call.version)
    project_id = single(q, "project_id")
    if not project_id:
        raise bad("Invalid query string parameters: 'project_id' is a required property")
    authorize(call, "total_usages", {"project_id": project_id})
    with placement(call).read() as session:
        usages = allocations.totals_for(session, project_id, single(q, "user_id"), single(q, "consumer_type"),
                                        by_type=at_least(call, 1, 38))
    return reply(call, {"usages": usages})


ROUTES = [
    route("/allocations", "POST", post_allocations),
    route("/allocations/{consumer}", "GET", show_allocations),
    route("/allocations/{consumer}", "PUT", put_allocations),
    route("/allocations/{consumer}", "DELETE", delete_allocations),
    route("/resource_providers/{uuid}/allocations", "GET", provider_allocations),
    route("/resource_providers/{uuid}/usages", "GET", provider_usages),
    route("/usages", "GET", total_usages),
]
