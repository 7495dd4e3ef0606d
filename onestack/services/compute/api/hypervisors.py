"""/os-hypervisors: the compute hosts as Nova's hypervisors API shows them (admins only).

Before 2.53 hypervisors are named by integer ids, from 2.53 by uuid; the search and servers
sub-resources went at 2.53 for query parameters, the statistics and uptime at 2.88 (the uptime is in
each hypervisor's body then).
"""

from __future__ import annotations

from onestack.http.errors import NotFound
from onestack.http.microversion import at_least
from onestack.http.routing import Call, route
from onestack.services.compute import schemas, views
from onestack.services.compute.api.servers import compute
from onestack.services.compute.policies import authorize
from onestack.services.compute.service.host_records import uptime_text


def _uptime(call: Call) -> str | None:
    return uptime_text() if at_least(call.version, "2.88") else None


def _hypervisors(call: Call, detail: bool) -> dict:
    authorize(call.ctx, "os_compute_api:os-hypervisors:list")
    pattern, with_servers = None, False
    if at_least(call.version, "2.53"):
        pattern = call.query.get("hypervisor_hostname_pattern")
        with_servers = schemas.as_bool(call.query.get("with_servers", "false"))
    found = compute(call).host_records.hypervisors(pattern, with_usage=True, with_servers=with_servers)
    uptime = _uptime(call) if detail else None
    return {"hypervisors": [views.hypervisor(h, detail, call.version, uptime) for h in found]}


def list_hypervisors(call: Call) -> dict:
    return _hypervisors(call, detail=False)


def list_hypervisors_detail(call: Call) -> dict:
    return _hypervisors(call, detail=True)


def show_hypervisor(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-hypervisors:list")
    by_uuid = at_least(call.version, "2.53")
    found = compute(call).host_records.hypervisor(
        call.path["hypervisor_id"], by_uuid,
        with_servers=by_uuid and schemas.as_bool(call.query.get("with_servers", "false")))
    return {"hypervisor": views.hypervisor(found, True, call.version, _uptime(call))}


def hypervisor_uptime(call: Call) -> dict:
    if at_least(call.version, "2.88"):  # the uptime is in the hypervisor's body from 2.88
        raise NotFound("The resource could not be found.")
    authorize(call.ctx, "os_compute_api:os-hypervisors:uptime")
    found = compute(call).host_records.hypervisor(call.path["hypervisor_id"], at_least(call.version, "2.53"),
                                                  with_usage=False)
    return {"hypervisor": {**views.hypervisor(found, False, call.version), "uptime": uptime_text()}}


def _matching(call: Call, policy: str, servers: bool) -> dict:
    """Before 2.53: hypervisors whose hostname contains the pattern (404 if none), with their servers."""
    if at_least(call.version, "2.53"):
        raise NotFound("The resource could not be found.")
    authorize(call.ctx, policy)
    found = compute(call).host_records.hypervisors(call.path["pattern"], with_usage=False, with_servers=servers)
    return {"hypervisors": [views.hypervisor(h, False, call.version) for h in found]}


def search_hypervisors(call: Call) -> dict:
    return _matching(call, "os_compute_api:os-hypervisors:search", servers=False)


def hypervisor_servers(call: Call) -> dict:
    return _matching(call, "os_compute_api:os-hypervisors:servers", servers=True)


def statistics(call: Call) -> dict:
    if at_least(call.version, "2.88"):
        raise NotFound("The resource could not be found.")
    found = _hypervisors(call, detail=True)["hypervisors"]
    stats = {k: sum(h[k] for h in found) for k in views.HYPERVISOR_RESOURCES}
    stats["count"] = len(found)
    return {"hypervisor_statistics": stats}


ROUTES = [
    route("/v2.1/os-hypervisors", "GET", list_hypervisors),
    route("/v2.1/os-hypervisors/detail", "GET", list_hypervisors_detail),
    route("/v2.1/os-hypervisors/statistics", "GET", statistics),
    route("/v2.1/os-hypervisors/{hypervisor_id}", "GET", show_hypervisor),
    route("/v2.1/os-hypervisors/{hypervisor_id}/uptime", "GET", hypervisor_uptime),
    route("/v2.1/os-hypervisors/{pattern}/search", "GET", search_hypervisors),
    route("/v2.1/os-hypervisors/{pattern}/servers", "GET", hypervisor_servers),
]
