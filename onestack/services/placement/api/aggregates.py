"""/resource_providers/{uuid}/aggregates: a list before 1.19, an object with the generation from 1.19."""

from __future__ import annotations

from onestack.http.routing import Call, Reply, route
from onestack.services.placement import catalog, providers, schemas
from onestack.services.placement.api.common import at_least, authorize, body, placement, reply, since


def _view(call: Call, session, provider) -> Reply:
    content: dict = {"aggregates": catalog.provider_aggregates(session, provider)}
    if at_least(call, 1, 19):
        content["resource_provider_generation"] = provider.generation
    return reply(call, content, provider.updated_at)


def list_aggregates(call: Call) -> Reply:
    since(call, 1, 1)
    authorize(call, "aggregates")
    with placement(call).read() as session:
        return _view(call, session, providers.get(session, call.path["uuid"]))


def set_aggregates(call: Call) -> Reply:
    since(call, 1, 1)
    authorize(call, "aggregates")
    if at_least(call, 1, 19):
        data = body(call, schemas.AGGREGATES_1_19)
        aggregates, generation = data["aggregates"], data["resource_provider_generation"]
    else:
        aggregates, generation = body(call, schemas.AGGREGATE_LIST), None
    with placement(call).write() as session:
        provider = providers.get(session, call.path["uuid"])
        catalog.set_provider_aggregates(session, provider, aggregates, generation)
        return _view(call, session, provider)


ROUTES = [
    route("/resource_providers/{uuid}/aggregates", "GET", list_aggregates),
    route("/resource_providers/{uuid}/aggregates", "PUT", set_aggregates),
]
