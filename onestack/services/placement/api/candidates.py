"""GET /allocation_candidates (1.10) and POST /reshaper (1.30)."""

from __future__ import annotations

from onestack.http.routing import Call, Reply, route
from onestack.services.placement import schemas
from onestack.services.placement.api.allocations import consumer_write
from onestack.services.placement.api.common import placement, reply, since
from onestack.services.placement.policies import authorize


def list_candidates(call: Call) -> Reply:
    since(call, "1.10")
    authorize(call.ctx, "allocation_candidates")
    return reply(call, placement(call).candidates_for(call.query, call.version))


def post_reshaper(call: Call) -> Reply:
    since(call, "1.30")
    authorize(call.ctx, "reshaper")
    writes = [consumer_write(call, consumer, entry) for consumer, entry in call.body["allocations"].items()]
    placement(call).reshape(call.body["inventories"], writes, call.version.at_least("1.26"))
    return Reply(None, 204)


ROUTES = [
    route("/allocation_candidates", "GET", list_candidates),
    route("/reshaper", "POST", post_reshaper, schema=schemas.RESHAPER),
]
