"""/resource_providers/{uuid}/aggregates: a list before 1.19, an object with the generation from 1.19."""

from __future__ import annotations

from onestack.http.routing import Call, Reply, route
from onestack.services.placement import schemas, views
from onestack.services.placement.api.common import placement, reply, since
from onestack.services.placement.policies import authorize


def _reply(call: Call, provider, names: list[str]) -> Reply:
    return reply(call, views.aggregates(provider, names, call.version), provider.updated_at)


def list_aggregates(call: Call) -> Reply:
    since(call, "1.1")
    authorize(call.ctx, "aggregates")
    return _reply(call, *placement(call).aggregates(call.path["uuid"]))


def set_aggregates(call: Call) -> Reply:
    since(call, "1.1")
    authorize(call.ctx, "aggregates")
    if call.version.at_least("1.19"):
        aggregates, generation = call.body["aggregates"], call.body["resource_provider_generation"]
    else:
        aggregates, generation = call.body, None
    return _reply(call, *placement(call).set_aggregates(call.path["uuid"], aggregates, generation))


ROUTES = [
    route("/resource_providers/{uuid}/aggregates", "GET", list_aggregates),
    route("/resource_providers/{uuid}/aggregates", "PUT", set_aggregates, schema=schemas.AGGREGATES),
]
