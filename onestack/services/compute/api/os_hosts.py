"""/os-hosts (microversions 2.1 to 2.42; gone from 2.43 as in Nova): compute hosts with their zone,
their resources per project, and the host actions the driver may or may not support."""

from __future__ import annotations

from sqlalchemy import select

from onestack.http.errors import NotFound, NotImplemented_
from onestack.http.microversion import at_least
from onestack.http.routing import Call, route
from onestack.services.compute import schemas
from onestack.services.compute.api.hosts import host_by_name, usage_by_host
from onestack.services.compute.api.servers import compute
from onestack.services.compute.models import ComputeHost, Instance
from onestack.services.compute.policies import authorize

_SWITCH = {"type": "string", "enum": ["enable", "disable", "Enable", "Disable", "ENABLE", "DISABLE"]}
UPDATE = {"type": "object", "additionalProperties": False, "anyOf": [{"required": ["status"]},
                                                                     {"required": ["maintenance_mode"]}],
          "properties": {"status": _SWITCH, "maintenance_mode": _SWITCH}}


def _check_version(call: Call) -> None:
    if at_least(call.version, "2.43"):
        raise NotFound("The resource could not be found.")


def list_hosts(call: Call) -> dict:
    _check_version(call)
    authorize(call.ctx, "os_compute_api:os-hosts:list")
    stmt = select(ComputeHost).order_by(ComputeHost.host)
    if call.query.get("zone"):  # an empty zone lists every host, as in Nova
        stmt = stmt.where(ComputeHost.availability_zone == call.query["zone"])
    with compute(call).db.read() as session:
        return {"hosts": [{"host_name": h.host, "service": "compute", "zone": h.availability_zone}
                          for h in session.scalars(stmt)]}


def _resource(host: str, project: str, cpu: int, memory_mb: int, disk_gb: int) -> dict:
    return {"resource": {"host": host, "project": project, "cpu": cpu, "memory_mb": memory_mb, "disk_gb": disk_gb}}


def show_host(call: Call) -> dict:
    """The host's capacity, what its servers use (now, and at most), then the use of each project."""
    _check_version(call)
    authorize(call.ctx, "os_compute_api:os-hosts:show")
    with compute(call).db.read() as session:
        host = host_by_name(session, call.path["host_name"])
        used = usage_by_host(session).get(host.host, {"vcpus": 0, "ram": 0, "disk": 0})
        per_project: dict[str, list[int]] = {}
        rows = session.execute(select(Instance.project_id, Instance.flavor).where(
            Instance.host == host.host, Instance.deleted.is_(False)).order_by(Instance.project_id))
        for project, flavor in rows:
            sums = per_project.setdefault(project, [0, 0, 0])
            sums[0] += flavor["vcpus"]
            sums[1] += flavor["ram"]
            sums[2] += flavor["disk"] + flavor.get("ephemeral", 0)
        resources = [_resource(host.host, "(total)", host.vcpus, host.memory_mb, host.disk_gb),
                     _resource(host.host, "(used_now)", used["vcpus"], used["ram"], used["disk"]),
                     _resource(host.host, "(used_max)", used["vcpus"], used["ram"], used["disk"])]
        resources += [_resource(host.host, project, *sums) for project, sums in per_project.items()]
        return {"host": resources}


def update_host(call: Call) -> dict:
    """``status`` enables or disables the host's compute service; ``maintenance_mode`` is the driver's
    business: Nova's fake driver acknowledges it, libvirt (our QEMU) does not implement it (501)."""
    _check_version(call)
    authorize(call.ctx, "os_compute_api:os-hosts:update")
    schemas.check(call.body, UPDATE)
    status, maintenance = call.body.get("status"), call.body.get("maintenance_mode")
    reply = {}
    with compute(call).db.write() as session:
        host = host_by_name(session, call.path["host_name"])
        reply["host"] = host.host
        if status is not None:
            host.disabled = status.lower() == "disable"
            reply["status"] = "disabled" if host.disabled else "enabled"
        if maintenance is not None:
            if host.driver != "fake":
                raise NotImplemented_("Virt driver does not implement host maintenance mode.")
            reply["maintenance_mode"] = "on_maintenance" if maintenance.lower() == "enable" else "off_maintenance"
    return reply


def _power_action(call: Call, action: str, rule: str) -> dict:
    _check_version(call)
    authorize(call.ctx, f"os_compute_api:os-hosts:{rule}")
    with compute(call).db.read() as session:
        host = host_by_name(session, call.path["host_name"])
        # Nova's fake driver answers the action without doing anything; libvirt cannot power its host.
        if host.driver != "fake":
            raise NotImplemented_("Virt driver does not implement host power management.")
        return {"host": host.host, "power_action": action}


def startup_host(call: Call) -> dict:
    return _power_action(call, "startup", "start")


def shutdown_host(call: Call) -> dict:
    return _power_action(call, "shutdown", "shutdown")


def reboot_host(call: Call) -> dict:
    return _power_action(call, "reboot", "reboot")


ROUTES = [
    route("/v2.1/os-hosts", "GET", list_hosts),
    route("/v2.1/os-hosts/{host_name}", "GET", show_host),
    route("/v2.1/os-hosts/{host_name}", "PUT", update_host),
    route("/v2.1/os-hosts/{host_name}/startup", "GET", startup_host),
    route("/v2.1/os-hosts/{host_name}/shutdown", "GET", shutdown_host),
    route("/v2.1/os-hosts/{host_name}/reboot", "GET", reboot_host),
]
