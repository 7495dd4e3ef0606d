"""/os-services and /os-hypervisors: the compute hosts as Nova's admin APIs show them.

Before 2.53 services and hypervisors are named by integer ids (``ComputeHost.number``), from 2.53 by
uuid; the search and servers sub-resources of a hypervisor went at 2.53 for query parameters.
"""

from __future__ import annotations

import os
import time

from sqlalchemy import select

from onestack.http.errors import BadRequest, NotFound
from onestack.http.microversion import Version, at_least
from onestack.http.routing import Call, route
from onestack.services.compute import schemas
from onestack.services.compute.api.servers import compute
from onestack.services.compute.models import ComputeHost, Instance
from onestack.services.compute.service.host_drivers import is_up
from onestack.services.compute.service.servers import authorize
from onestack.services.compute.views import zulu as stamp


def public_id(host: ComputeHost, version: Version | None) -> int | str:
    return host.id if at_least(version, "2.53") else host.number


def host_by_id(session, ident: str, version: Version | None, kind: str = "Hypervisor") -> ComputeHost:
    """A host by the id its microversion shows (uuid from 2.53, integer before)."""
    if at_least(version, "2.53"):
        host = session.get(ComputeHost, ident)
    else:
        # Integers beyond the column name nothing (and must not reach PostgreSQL out of range).
        host = session.scalar(select(ComputeHost).where(ComputeHost.number == int(ident))) \
            if ident.isdigit() and int(ident) < 2**31 else None
    if host is None:
        raise NotFound(f"{kind} with ID '{ident}' could not be found." if kind == "Hypervisor"
                       else f"Service {ident} could not be found.")
    return host


def _service_view(host: ComputeHost, running: set[str], version: Version | None) -> dict:
    up = is_up(host, running)
    body = {"id": public_id(host, version), "binary": "nova-compute", "host": host.host,
            "zone": host.availability_zone, "status": "disabled" if host.disabled else "enabled",
            "state": "up" if up else "down", "updated_at": stamp(host.heartbeat_at),
            "disabled_reason": host.disabled_reason}
    if at_least(version, "2.11"):
        body["forced_down"] = host.forced_down
    return body


def list_services(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-services:list")
    svc = compute(call)
    stmt = select(ComputeHost).order_by(ComputeHost.host)
    if call.query.get("host"):
        stmt = stmt.where(ComputeHost.host == call.query["host"])
    if call.query.get("binary") not in (None, "nova-compute"):
        return {"services": []}
    with svc.db.read() as session:
        return {"services": [_service_view(h, set(svc.hosts.names()), call.version) for h in session.scalars(stmt)]}


def host_by_name(session, name: str) -> ComputeHost:
    host = session.scalar(select(ComputeHost).where(ComputeHost.host == name))
    if host is None:
        raise NotFound(f"Compute host {name} could not be found.")
    return host


def _set_status(call: Call, disabled: bool) -> dict:
    if at_least(call.version, "2.53"):  # replaced by PUT /os-services/{id}
        raise NotFound("The resource could not be found.")
    authorize(call.ctx, "os_compute_api:os-services:list")
    body = call.body or {}
    if not isinstance(body, dict) or "host" not in body:
        raise BadRequest("Invalid input: 'host' and 'binary' are required.")
    svc = compute(call)
    with svc.db.write() as session:
        host = host_by_name(session, body["host"])
        host.disabled = disabled
        host.disabled_reason = body.get("disabled_reason") if disabled else None
        reply = {"host": host.host, "binary": "nova-compute", "status": "disabled" if disabled else "enabled"}
        if disabled and body.get("disabled_reason"):
            reply["disabled_reason"] = body["disabled_reason"]
        return {"service": reply}


def enable_service(call: Call) -> dict:
    return _set_status(call, False)


def disable_service(call: Call) -> dict:
    return _set_status(call, True)


def usage_by_host(session) -> dict[str, dict]:
    """What the live servers of each host use (vcpus, ram, disk in GB) and how many there are."""
    used: dict[str, dict] = {}
    rows = session.execute(select(Instance.host, Instance.flavor).where(Instance.deleted.is_(False),
                                                                        Instance.host.is_not(None)))
    for host, flavor in rows:
        entry = used.setdefault(host, {"vcpus": 0, "ram": 0, "disk": 0, "running": 0})
        entry["vcpus"] += flavor["vcpus"]
        entry["ram"] += flavor["ram"]
        entry["disk"] += flavor["disk"] + flavor.get("ephemeral", 0)
        entry["running"] += 1
    return used


# What 2.88 dropped from hypervisor bodies (placement is where resources are read now).
_RESOURCE_FIELDS = ("vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used", "local_gb_used", "free_ram_mb",
                    "free_disk_gb", "current_workload", "running_vms", "disk_available_least")


def _hypervisor(host: ComputeHost, running: set[str], used: dict, detail: bool, version: Version | None) -> dict:
    body = {"id": public_id(host, version), "hypervisor_hostname": host.host,
            "state": "up" if is_up(host, running) else "down", "status": "disabled" if host.disabled else "enabled"}
    if detail:
        mine = used.get(host.host, {"vcpus": 0, "ram": 0, "disk": 0, "running": 0})
        body.update({
            "vcpus": host.vcpus, "memory_mb": host.memory_mb, "local_gb": host.disk_gb, "vcpus_used": mine["vcpus"],
            "memory_mb_used": mine["ram"], "local_gb_used": mine["disk"], "free_ram_mb": host.memory_mb - mine["ram"],
            "free_disk_gb": host.disk_gb - mine["disk"], "current_workload": 0, "running_vms": mine["running"],
            "disk_available_least": host.disk_gb - mine["disk"], "hypervisor_type": "QEMU" if host.driver == "qemu"
            else "fake", "hypervisor_version": 1000, "host_ip": host.host_ip,
            # A JSON string before 2.28, an object after.
            "cpu_info": {} if at_least(version, "2.28") else "{}",
            "service": {"host": host.host, "id": public_id(host, version), "disabled_reason": host.disabled_reason}})
        if at_least(version, "2.88"):
            for field in _RESOURCE_FIELDS:
                del body[field]
            body["uptime"] = _uptime_text()
    return body


def _with_servers(session, body: dict, host: ComputeHost) -> dict:
    """Nova leaves ``servers`` out when the host has none."""
    found = session.execute(select(Instance.id, Instance.number).where(
        Instance.host == host.host, Instance.deleted.is_(False)).order_by(Instance.number)).all()
    if found:
        body["servers"] = [{"uuid": ident, "name": f"instance-{number:08x}"} for ident, number in found]
    return body


def _hypervisors(call: Call, detail: bool) -> dict:
    authorize(call.ctx, "os_compute_api:os-hypervisors:list")
    svc = compute(call)
    stmt = select(ComputeHost).order_by(ComputeHost.host)
    with_servers = False
    if at_least(call.version, "2.53"):
        pattern = call.query.get("hypervisor_hostname_pattern")
        if pattern:
            stmt = stmt.where(ComputeHost.host.contains(pattern, autoescape=True))
        with_servers = schemas.as_bool(call.query.get("with_servers", "false"))
    with svc.db.read() as session:
        used = usage_by_host(session)
        hosts = session.scalars(stmt).all()
        if at_least(call.version, "2.53") and call.query.get("hypervisor_hostname_pattern") and not hosts:
            raise NotFound(f"No hypervisor matching '{call.query['hypervisor_hostname_pattern']}' could be found.")
        found = [_hypervisor(h, set(svc.hosts.names()), used, detail, call.version) for h in hosts]
        if with_servers:
            found = [_with_servers(session, body, h) for body, h in zip(found, hosts, strict=True)]
        return {"hypervisors": found}


def list_hypervisors(call: Call) -> dict:
    return _hypervisors(call, detail=False)


def list_hypervisors_detail(call: Call) -> dict:
    return _hypervisors(call, detail=True)


def show_hypervisor(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-hypervisors:list")
    svc = compute(call)
    with svc.db.read() as session:
        host = host_by_id(session, call.path["hypervisor_id"], call.version)
        body = _hypervisor(host, set(svc.hosts.names()), usage_by_host(session), True, call.version)
        if at_least(call.version, "2.53") and schemas.as_bool(call.query.get("with_servers", "false")):
            _with_servers(session, body, host)
        return {"hypervisor": body}


def _uptime_text() -> str:
    """The machine's ``uptime`` line: every host of this process runs on it (the fake ones too)."""
    with open("/proc/uptime") as f:
        seconds = int(float(f.read().split()[0]))
    days, rest = divmod(seconds, 86400)
    load = os.getloadavg()
    up = (f"{days} day{'s' if days != 1 else ''}, " if days else "") + f"{rest // 3600:2d}:{rest % 3600 // 60:02d}"
    return (f" {time.strftime('%H:%M:%S')} up {up},  0 users,  load average: "
            f"{load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}")


def hypervisor_uptime(call: Call) -> dict:
    if at_least(call.version, "2.88"):  # the uptime is in the hypervisor's body from 2.88
        raise NotFound("The resource could not be found.")
    authorize(call.ctx, "os_compute_api:os-hypervisors:uptime")
    svc = compute(call)
    with svc.db.read() as session:
        host = host_by_id(session, call.path["hypervisor_id"], call.version)
        body = _hypervisor(host, set(svc.hosts.names()), {}, False, call.version)
    body["uptime"] = _uptime_text()
    return {"hypervisor": body}


def _matching(call: Call, policy: str, servers: bool) -> dict:
    """Before 2.53: hypervisors whose hostname contains the pattern (404 if none), with their servers."""
    if at_least(call.version, "2.53"):
        raise NotFound("The resource could not be found.")
    authorize(call.ctx, policy)
    pattern = call.path["pattern"]
    svc = compute(call)
    with svc.db.read() as session:
        hosts = session.scalars(select(ComputeHost).where(ComputeHost.host.contains(pattern, autoescape=True))
                                .order_by(ComputeHost.host)).all()
        if not hosts:
            raise NotFound(f"No hypervisor matching '{pattern}' could be found.")
        found = [_hypervisor(h, set(svc.hosts.names()), {}, False, call.version) for h in hosts]
        if servers:
            found = [_with_servers(session, body, h) for body, h in zip(found, hosts, strict=True)]
        return {"hypervisors": found}


def search_hypervisors(call: Call) -> dict:
    return _matching(call, "os_compute_api:os-hypervisors:search", servers=False)


def hypervisor_servers(call: Call) -> dict:
    return _matching(call, "os_compute_api:os-hypervisors:servers", servers=True)


def statistics(call: Call) -> dict:
    if at_least(call.version, "2.88"):
        raise NotFound("The resource could not be found.")
    found = _hypervisors(call, detail=True)["hypervisors"]
    stats = {k: sum(h[k] for h in found) for k in _RESOURCE_FIELDS}
    stats["count"] = len(found)
    return {"hypervisor_statistics": stats}


# PUT /os-services/{id} (2.53): status, disabled_reason and forced_down of one service by uuid.
SERVICE_UPDATE = {"type": "object", "minProperties": 1, "additionalProperties": False, "properties": {
    "status": {"type": "string", "enum": ["enabled", "disabled"]},
    "disabled_reason": {"type": "string", "minLength": 1, "maxLength": 255}, "forced_down": schemas.BOOLEAN}}


def update_service(call: Call) -> dict:
    if not at_least(call.version, "2.53"):
        raise NotFound("The resource could not be found.")
    authorize(call.ctx, "os_compute_api:os-services:update")
    schemas.check(call.body, SERVICE_UPDATE)
    body = call.body
    if "disabled_reason" in body and body.get("status") != "disabled":
        raise BadRequest("Specifying 'disabled_reason' with status other than 'disabled' is invalid.")
    svc = compute(call)
    with svc.db.write() as session:
        host = host_by_id(session, call.path["service_id"], call.version, kind="Service")
        if "status" in body:
            host.disabled = body["status"] == "disabled"
            host.disabled_reason = body.get("disabled_reason") if host.disabled else None
        if "forced_down" in body:
            host.forced_down = schemas.as_bool(body["forced_down"])
        return {"service": _service_view(host, set(svc.hosts.names()), call.version)}


def force_down(call: Call) -> dict:
    """PUT /os-services/force-down (2.11 to 2.52)."""
    if not at_least(call.version, "2.11") or at_least(call.version, "2.53"):
        raise NotFound("The resource could not be found.")
    authorize(call.ctx, "os_compute_api:os-services:update")
    body = call.body or {}
    if not isinstance(body, dict) or "host" not in body or "forced_down" not in body:
        raise BadRequest("Invalid input: 'host', 'binary' and 'forced_down' are required.")
    schemas.check(body["forced_down"], schemas.BOOLEAN)
    with compute(call).db.write() as session:
        host = host_by_name(session, body["host"])
        host.forced_down = schemas.as_bool(body["forced_down"])
        return {"service": {"host": host.host, "binary": "nova-compute", "forced_down": host.forced_down}}


ROUTES = [
    route("/v2.1/os-services", "GET", list_services),
    route("/v2.1/os-services/enable", "PUT", enable_service),
    route("/v2.1/os-services/disable", "PUT", disable_service),
    route("/v2.1/os-services/disable-log-reason", "PUT", disable_service),
    route("/v2.1/os-services/force-down", "PUT", force_down),
    route("/v2.1/os-services/{service_id}", "PUT", update_service),
    route("/v2.1/os-hypervisors", "GET", list_hypervisors),
    route("/v2.1/os-hypervisors/detail", "GET", list_hypervisors_detail),
    route("/v2.1/os-hypervisors/statistics", "GET", statistics),
    route("/v2.1/os-hypervisors/{hypervisor_id}", "GET", show_hypervisor),
    route("/v2.1/os-hypervisors/{hypervisor_id}/uptime", "GET", hypervisor_uptime),
    route("/v2.1/os-hypervisors/{pattern}/search", "GET", search_hypervisors),
    route("/v2.1/os-hypervisors/{pattern}/servers", "GET", hypervisor_servers),
]
