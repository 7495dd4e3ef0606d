"""GET /allocation_candidates (1.10) and POST /reshaper (1.30)."""

from __future__ import annotations

from onestack.http.routing import Call, Reply, route
from onestack.services.placement import candidates, catalog, schemas
from onestack.services.placement.api.allocations import consumer_write
from onestack.services.placement.api.common import at_least, authorize, body, placement, reply, since
from onestack.services.placement.reshaper import reshape


def list_candidates(call: Call) -> Reply:
    since(call, 1, 10)
    authorize(call, "allocation_candidates")
    svc = placement(call)
    with svc.read() as session:
        known_class = lambda rc: catalog.resource_class_exists(session, rc)  # noqa: E731
        request = candidates.parse(call.query, call.version, known_class, catalog.known_traits(session))
    return reply(call, svc.search_at(request, call.version))


def post_reshaper(call: Call) -> Reply:
    since(call, 1, 30)
    authorize(call, "reshaper")
    data = body(call, schemas.reshaper(call.version))
    writes = [consumer_write(call, consumer, entry) for consumer, entry in data["allocations"].items()]
    with placement(call).write() as session:
        reshape(session, data["inventories"], writes, at_least(call, 1, 26))
    return Reply(None, 204)


ROUTES = [
    route("/allocation_candidates", "GET", list_candidates),
    route("/reshaper", "POST", post_reshaper),
]
