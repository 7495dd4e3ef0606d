"""Admin views of servers from outside the guest: diagnostics (what the driver knows of a guest), external
events (Neutron and Cinder telling compute that something happened to a server) and assisted volume
snapshots (Cinder asking compute to snapshot a volume in use)."""

from __future__ import annotations

import json

from onestack.http.errors import BadRequest
from onestack.http.microversion import at_least
from onestack.http.routing import Call, Reply, route
from onestack.services.compute import schemas, views
from onestack.services.compute.api.servers import compute
from onestack.services.compute.policies import authorize


def show_diagnostics(call: Call) -> dict:
    """Only what the driver interface tells (power state, vCPUs, memory) and what the records say (ports,
    disks, uptime); counters the driver does not report are null from 2.48 and absent before, as Nova's
    drivers leave out what they cannot measure."""
    found = compute(call).guest_calls.diagnostics(call.ctx, call.path["server_id"])
    if not at_least(call.version, "2.48"):  # the driver's own keys: memory (KiB) is all ours reports
        return views.legacy_diagnostics(found)
    return views.diagnostics(found)


def create_external_events(call: Call) -> Reply:
    """Each event answers for itself; the request is 207 when some failed and 404 when none was accepted,
    as in Nova."""
    authorize(call.ctx, "os_compute_api:os-server-external-events:create")
    answered, accepted = compute(call).guest_calls.external_events(call.body["events"])
    return Reply({"events": answered}, 200 if accepted == len(answered) else 207)


def create_assisted_snapshot(call: Call) -> dict:
    asked = call.body["snapshot"]
    return {"snapshot": compute(call).assisted_snapshots.create(call.ctx, asked["volume_id"], asked["create_info"])}


def delete_assisted_snapshot(call: Call) -> Reply:
    try:
        delete_info = json.loads(call.query["delete_info"])
    except (KeyError, ValueError):
        raise BadRequest("delete_info must be given, as JSON naming the volume_id") from None
    compute(call).assisted_snapshots.delete(call.ctx, call.path["snapshot_id"], delete_info)
    return Reply(status=204)


ROUTES = [
    route("/v2.1/servers/{server_id}/diagnostics", "GET", show_diagnostics),
    route("/v2.1/os-server-external-events", "POST", create_external_events, schema=schemas.EXTERNAL_EVENTS),
    route("/v2.1/os-assisted-volume-snapshots", "POST", create_assisted_snapshot, schema=schemas.ASSISTED_SNAPSHOT),
    route("/v2.1/os-assisted-volume-snapshots/{snapshot_id}", "DELETE", delete_assisted_snapshot),
]
