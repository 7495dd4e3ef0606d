"""/os-hosts (microversions 2.1 to 2.42; gone from 2.43 as in Nova): compute hosts with their zone,
their resources per project, and the host actions the driver may or may not support."""

from __future__ import annotations

from onestack.http.errors import NotFound
from onestack.http.microversion import at_least
from onestack.http.routing import Call, route
from onestack.services.compute import schemas, views
from onestack.services.compute.api.servers import compute
from onestack.services.compute.policies import authorize


def _check_version(call: Call) -> None:
    if at_least(call.version, "2.43"):
        raise NotFound("The resource could not be found.")


def list_hosts(call: Call) -> dict:
    _check_version(call)
    authorize(call.ctx, "os_compute_api:os-hosts:list")
    return {"hosts": [{"host_name": h.host, "service": "compute", "zone": h.availability_zone}
                      for h in compute(call).host_records.in_zone(call.query.get("zone"))]}


def show_host(call: Call) -> dict:
    _check_version(call)
    authorize(call.ctx, "os_compute_api:os-hosts:show")
    return {"host": views.host_resources(*compute(call).host_records.usage_of(call.path["host_name"]))}


def update_host(call: Call) -> dict:
    _check_version(call)
    authorize(call.ctx, "os_compute_api:os-hosts:update")
    return compute(call).host_records.update_host(call.path["host_name"], call.body.get("status"),
                                                  call.body.get("maintenance_mode"))


def _power_action(call: Call, action: str, rule: str) -> dict:
    _check_version(call)
    authorize(call.ctx, f"os_compute_api:os-hosts:{rule}")
    return compute(call).host_records.power_action(call.path["host_name"], action)


def startup_host(call: Call) -> dict:
    return _power_action(call, "startup", "start")


def shutdown_host(call: Call) -> dict:
    return _power_action(call, "shutdown", "shutdown")


def reboot_host(call: Call) -> dict:
    return _power_action(call, "reboot", "reboot")


ROUTES = [
    route("/v2.1/os-hosts", "GET", list_hosts),
    route("/v2.1/os-hosts/{host_name}", "GET", show_host),
    route("/v2.1/os-hosts/{host_name}", "PUT", update_host, schema=schemas.HOST_UPDATE),
    route("/v2.1/os-hosts/{host_name}/startup", "GET", startup_host),
    route("/v2.1/os-hosts/{host_name}/shutdown", "GET", shutdown_host),
    route("/v2.1/os-hosts/{host_name}/reboot", "GET", reboot_host),
]
