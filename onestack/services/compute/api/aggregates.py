"""/os-aggregates: host aggregates (admin only), their hosts and metadata."""

from __future__ import annotations

from onestack.http.errors import BadRequest
from onestack.http.microversion import at_least
from onestack.http.routing import Call, route
from onestack.services.compute import schemas
from onestack.services.compute.api.servers import compute
from onestack.services.compute.models import Aggregate
from onestack.services.compute.policies import authorize
from onestack.services.compute.service import aggregates
from onestack.services.compute.views import stamp

# Nova's zone names: like a name, and no ':' (it separates zone and host in a boot request).
_ZONE = {"type": ["string", "null"], "minLength": 1, "maxLength": 255, "pattern": r"^(?!\s)[^:\x00-\x1f\x7f]*(?<!\s)$"}
CREATE = {"type": "object", "required": ["aggregate"], "additionalProperties": False, "properties": {
    "aggregate": {"type": "object", "required": ["name"], "additionalProperties": False,
                  "properties": {"name": schemas.NAME, "availability_zone": _ZONE}}}}
UPDATE = {"type": "object", "required": ["aggregate"], "additionalProperties": False, "properties": {
    "aggregate": {"type": "object", "minProperties": 1, "additionalProperties": False,
                  "properties": {"name": schemas.NAME, "availability_zone": _ZONE}}}}
_HOST = {"type": "object", "required": ["host"], "additionalProperties": False,
         "properties": {"host": {"type": "string", "minLength": 1, "maxLength": 255}}}
_METADATA = {"type": "object", "required": ["metadata"], "additionalProperties": False, "properties": {
    "metadata": {"type": "object", "patternProperties": {"^[a-zA-Z0-9-_:. ]{1,255}$": {
        "type": ["string", "null"], "maxLength": 255}}, "additionalProperties": False}}}
ACTIONS = {"add_host": _HOST, "remove_host": _HOST, "set_metadata": _METADATA}


def _view(call: Call, aggregate: Aggregate, full: bool = True) -> dict:
    body = {"id": aggregate.id, "name": aggregate.name, "availability_zone": aggregate.availability_zone,
            "created_at": stamp(aggregate.created_at), "updated_at": stamp(aggregate.updated_at),
            "deleted": False, "deleted_at": None}
    if full:  # create answers without hosts and metadata, as Nova does
        body.update({"hosts": aggregate.hosts, "metadata": aggregate.metadata_})
    if at_least(call.version, "2.41"):
        body["uuid"] = aggregate.uuid
    return body


def list_aggregates(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-aggregates:index")
    with compute(call).db.read() as session:
        return {"aggregates": [_view(call, a) for a in aggregates.listing(session)]}


def create_aggregate(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-aggregates:create")
    schemas.check(call.body, CREATE)
    wanted = call.body["aggregate"]
    with compute(call).db.write() as session:
        made = aggregates.create(session, wanted["name"], wanted.get("availability_zone"))
        return {"aggregate": _view(call, made, full=False)}


def show_aggregate(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-aggregates:show")
    with compute(call).db.read() as session:
        return {"aggregate": _view(call, aggregates.get(session, call.path["aggregate_id"]))}


def update_aggregate(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-aggregates:update")
    schemas.check(call.body, UPDATE)
    wanted = call.body["aggregate"]
    with compute(call).db.write() as session:
        found = aggregates.get(session, call.path["aggregate_id"])
        aggregates.update(session, found, wanted.get("name"), wanted.get("availability_zone"),
                          "availability_zone" in wanted)
        return {"aggregate": _view(call, found)}


def delete_aggregate(call: Call) -> None:
    authorize(call.ctx, "os_compute_api:os-aggregates:delete")
    with compute(call).db.write() as session:
        aggregates.delete(session, aggregates.get(session, call.path["aggregate_id"]))


def aggregate_action(call: Call) -> dict:
    body = call.body
    if not isinstance(body, dict) or len(body) != 1 or next(iter(body)) not in ACTIONS:
        raise BadRequest("Invalid request body: one of add_host, remove_host or set_metadata is expected.")
    (action, args), = body.items()
    authorize(call.ctx, f"os_compute_api:os-aggregates:{action}")
    schemas.check(args, ACTIONS[action])
    svc = compute(call)
    provider = None
    with svc.db.write() as session:
        found = aggregates.get(session, call.path["aggregate_id"])
        if action == "set_metadata":
            aggregates.set_metadata(session, found, args["metadata"])
        elif action == "add_host":
            provider = aggregates.add_host(session, found, args["host"])
        else:
            provider = aggregates.remove_host(session, found, args["host"])
        reply, aggregate_uuid = {"aggregate": _view(call, found)}, found.uuid
    # Placement writes in its own transaction, after ours (one writer at a time on SQLite).
    if action == "add_host":
        svc.placement.add_to_aggregate(provider, aggregate_uuid)
    elif action == "remove_host":
        svc.placement.remove_from_aggregate(provider, aggregate_uuid)
    return reply


ROUTES = [
    route("/v2.1/os-aggregates", "GET", list_aggregates),
    route("/v2.1/os-aggregates", "POST", create_aggregate),
    route("/v2.1/os-aggregates/{aggregate_id}", "GET", show_aggregate),
    route("/v2.1/os-aggregates/{aggregate_id}", "PUT", update_aggregate),
    route("/v2.1/os-aggregates/{aggregate_id}", "DELETE", delete_aggregate),
    route("/v2.1/os-aggregates/{aggregate_id}/action", "POST", aggregate_action),
]
