"""/os-aggregates: host aggregates (admin only), their hosts and metadata."""

from __future__ import annotations

from onestack.http.errors import BadRequest
from onestack.http.routing import Call, route
from onestack.services.compute import schemas, views
from onestack.services.compute.api.servers import compute
from onestack.services.compute.policies import authorize


def list_aggregates(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-aggregates:index")
    return {"aggregates": [views.aggregate(a, call.version) for a in compute(call).aggregates.listing()]}


def create_aggregate(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-aggregates:create")
    wanted = call.body["aggregate"]
    made = compute(call).aggregates.create(wanted["name"], wanted.get("availability_zone"))
    return {"aggregate": views.aggregate(made, call.version, full=False)}


def show_aggregate(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-aggregates:show")
    return {"aggregate": views.aggregate(compute(call).aggregates.get(call.path["aggregate_id"]), call.version)}


def update_aggregate(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-aggregates:update")
    wanted = call.body["aggregate"]
    found = compute(call).aggregates.update(call.path["aggregate_id"], wanted.get("name"),
                                            wanted.get("availability_zone"), "availability_zone" in wanted)
    return {"aggregate": views.aggregate(found, call.version)}


def delete_aggregate(call: Call) -> None:
    authorize(call.ctx, "os_compute_api:os-aggregates:delete")
    compute(call).aggregates.delete(call.path["aggregate_id"])


def aggregate_action(call: Call) -> dict:
    body = call.body
    if not isinstance(body, dict) or len(body) != 1 or next(iter(body)) not in schemas.AGGREGATE_ACTIONS:
        raise BadRequest("Invalid request body: one of add_host, remove_host or set_metadata is expected.")
    (action, args), = body.items()
    authorize(call.ctx, f"os_compute_api:os-aggregates:{action}")
    found = compute(call).aggregates.act(call.path["aggregate_id"], action, args)
    return {"aggregate": views.aggregate(found, call.version)}


ROUTES = [
    route("/v2.1/os-aggregates", "GET", list_aggregates),
    route("/v2.1/os-aggregates", "POST", create_aggregate, schema=schemas.AGGREGATE_CREATE),
    route("/v2.1/os-aggregates/{aggregate_id}", "GET", show_aggregate),
    route("/v2.1/os-aggregates/{aggregate_id}", "PUT", update_aggregate, schema=schemas.AGGREGATE_UPDATE),
    route("/v2.1/os-aggregates/{aggregate_id}", "DELETE", delete_aggregate),
    route("/v2.1/os-aggregates/{aggregate_id}/action", "POST", aggregate_action, schema=schemas.AGGREGATE_ACTION),
]
