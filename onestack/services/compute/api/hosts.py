"""/os-services and /os-hypervisors: the compute hosts as Nova's admin APIs show them."""

from __future__ import annotations

from sqlalchemy import select

from onestack.http.errors import BadRequest, NotFound
from onestack.http.routing import Call, route
from onestack.services.compute.api.servers import compute
from onestack.services.compute.models import ComputeHost, Instance
from onestack.services.compute.servers import authorize
from onestack.services.compute.views import zulu as stamp


def _service_view(host: ComputeHost, running: set[str]) -> dict:
    up = not host.forced_down and host.host in running
    return {"id": host.id, "binary": "nova-compute", "host": host.host, "zone": host.availability_zone,
            "status": "disabled" if host.disabled else "enabled", "state": "up" if up else "down",
            "updated_at": stamp(host.heartbeat_at), "disabled_reason": host.disabled_reason}


def list_services(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-services:list")
    svc = compute(call)
    stmt = select(ComputeHost).order_by(ComputeHost.host)
    if call.query.get("host"):
        stmt = stmt.where(ComputeHost.host == call.query["host"])
    if call.query.get("binary") not in (None, "nova-compute"):
        return {"services": []}
    with svc.db.read() as session:
        return {"services": [_service_view(h, set(svc.hosts.names())) for h in session.scalars(stmt)]}


def _host_by_name(session, name: str) -> ComputeHost:
    host = session.scalar(select(ComputeHost).where(ComputeHost.host == name))
    if host is None:
        raise NotFound(f"Compute host {name} could not be found.")
    return host


def _set_status(call: Call, disabled: bool) -> dict:
    authorize(call.ctx, "os_compute_api:os-services:list")
    body = call.body or {}
    if not isinstance(body, dict) or "host" not in body:
        raise BadRequest("Invalid input: 'host' and 'binary' are required.")
    svc = compute(call)
    with svc.db.write() as session:
        host = _host_by_name(session, body["host"])
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


def _usage(session) -> dict[str, dict]:
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


def _hypervisor(host: ComputeHost, running: set[str], used: dict, detail: bool) -> dict:
    body = {"id": host.id, "hypervisor_hostname": host.host, "state": "up" if host.host in running else "down",
            "status": "disabled" if host.disabled else "enabled"}
    if detail:
        mine = used.get(host.host, {"vcpus": 0, "ram": 0, "disk": 0, "running": 0})
        body.update({
            "vcpus": host.vcpus, "memory_mb": host.memory_mb, "local_gb": host.disk_gb, "vcpus_used": mine["vcpus"],
            "memory_mb_used": mine["ram"], "local_gb_used": mine["disk"], "free_ram_mb": host.memory_mb - mine["ram"],
            "free_disk_gb": host.disk_gb - mine["disk"], "current_workload": 0, "running_vms": mine["running"],
            "disk_available_least": host.disk_gb - mine["disk"], "hypervisor_type": "QEMU" if host.driver == "qemu"
            else "fake", "hypervisor_version": 1000, "host_ip": host.host_ip, "cpu_info": "{}",
            "service": {"host": host.host, "id": host.id, "disabled_reason": host.disabled_reason}})
    return body


def _hypervisors(call: Call, detail: bool) -> dict:
    authorize(call.ctx, "os_compute_api:os-hypervisors:list")
    svc = compute(call)
    with svc.db.read() as session:
        used = _usage(session)
        hosts = session.scalars(select(ComputeHost).order_by(ComputeHost.host)).all()
        return {"hypervisors": [_hypervisor(h, set(svc.hosts.names()), used, detail) for h in hosts]}


def list_hypervisors(call: Call) -> dict:
    return _hypervisors(call, detail=False)


def list_hypervisors_detail(call: Call) -> dict:
    return _hypervisors(call, detail=True)


def show_hypervisor(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-hypervisors:list")
    svc = compute(call)
    with svc.db.read() as session:
        host = session.get(ComputeHost, call.path["hypervisor_id"])
        if host is None:
            raise NotFound(f"Hypervisor with ID '{call.path['hypervisor_id']}' could not be found.")
        return {"hypervisor": _hypervisor(host, set(svc.hosts.names()), _usage(session), True)}


def statistics(call: Call) -> dict:
    found = _hypervisors(call, detail=True)["hypervisors"]
    keys = ("vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used", "local_gb_used", "free_ram_mb",
            "free_disk_gb", "current_workload", "running_vms", "disk_available_least")
    stats = {k: sum(h[k] for h in found) for k in keys}
    stats["count"] = len(found)
    return {"hypervisor_statistics": stats}


ROUTES = [
    route("/v2.1/os-services", "GET", list_services),
    route("/v2.1/os-services/enable", "PUT", enable_service),
    route("/v2.1/os-services/disable", "PUT", disable_service),
    route("/v2.1/os-services/disable-log-reason", "PUT", disable_service),
    route("/v2.1/os-hypervisors", "GET", list_hypervisors),
    route("/v2.1/os-hypervisors/detail", "GET", list_hypervisors_detail),
    route("/v2.1/os-hypervisors/statistics", "GET", statistics),
    route("/v2.1/os-hypervisors/{hypervisor_id}", "GET", show_hypervisor),
]
