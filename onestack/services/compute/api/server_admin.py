"""Admin views of servers from outside the guest: diagnostics (what the driver knows of a guest) and
external events (Neutron and Cinder telling compute that something happened to a server)."""

from __future__ import annotations

import logging

from onestack.db.base import utcnow
from onestack.drivers.compute import DriverError, PowerState
from onestack.drivers.remote.wire import LinkError
from onestack.http.errors import Conflict, NotFound
from onestack.http.microversion import at_least
from onestack.http.routing import Call, Reply, route
from onestack.services.compute import schemas
from onestack.services.compute.api.servers import compute
from onestack.services.compute.models import Instance
from onestack.services.compute.policies import authorize

LOG = logging.getLogger("onestack.compute.events")

# Power states as Nova's standard diagnostics name them (2.48).
STATE_NAMES = {PowerState.NOSTATE: "pending", PowerState.RUNNING: "running", PowerState.PAUSED: "paused",
               PowerState.SHUTDOWN: "shutdown", PowerState.CRASHED: "crashed", PowerState.SUSPENDED: "suspended"}


def _nics(call: Call, instance: Instance) -> list[str]:
    """The server's MAC addresses, one per port."""
    found = compute(call).networking.addresses([instance.id])[instance.id]
    macs = {entry["OS-EXT-IPS-MAC:mac_addr"] for entries in found.values() for entry in entries}
    return sorted(macs)


def show_diagnostics(call: Call) -> dict:
    """Only what the driver interface tells (power state, vCPUs, memory) and what the records say (ports,
    disks, uptime); counters the driver does not report are null from 2.48 and absent before, as Nova's
    drivers leave out what they cannot measure."""
    svc = compute(call)
    with svc.db.read() as session:
        instance = svc.servers.get(session, call.ctx, call.path["server_id"])
        authorize(call.ctx, "os_compute_api:os-server-diagnostics", project_id=instance.project_id)
        session.expunge(instance)
    try:
        driver = svc.hosts.driver(instance.host)
    except LinkError:  # no process serves its host (or it has none yet)
        raise Conflict(f"Cannot 'get_diagnostics' instance {instance.id} while it is in vm_state "
                       f"{instance.vm_state}") from None
    try:
        info = driver.instance_info(instance.id)
    except DriverError as exc:
        raise Conflict(f"Cannot 'get_diagnostics' instance {instance.id}: {exc}") from None
    vcpus = info.vcpus or instance.flavor["vcpus"]
    memory_mb = info.memory_mb or instance.flavor["ram"]
    if not at_least(call.version, "2.48"):  # the driver's own keys: memory (KiB) is all ours reports
        return {"memory": memory_mb * 1024}
    macs = _nics(call, instance)
    flavor = instance.flavor
    disks = [size for size in (flavor["disk"], flavor.get("ephemeral", 0), flavor.get("swap", 0)) if size]
    uptime = int((utcnow() - instance.launched_at).total_seconds()) if instance.launched_at else None
    counters = ("rx_octets", "rx_errors", "rx_drop", "rx_packets", "rx_rate", "tx_octets", "tx_errors", "tx_drop",
                "tx_packets", "tx_rate")
    return {
        "state": STATE_NAMES.get(info.power_state, "pending"), "driver": API_DRIVER, "hypervisor": driver.name,
        "hypervisor_os": "linux", "uptime": uptime,
        "config_drive": instance.config_drive, "num_cpus": vcpus, "num_nics": len(macs), "num_disks": len(disks),
        "cpu_details": [{"id": i, "time": None, "utilisation": None} for i in range(vcpus)],
        "nic_details": [{"mac_address": mac, **dict.fromkeys(counters)} for mac in macs],
        "disk_details": [{"read_bytes": None, "read_requests": None, "write_bytes": None, "write_requests": None,
                          "errors_count": None} for _ in disks],
        "memory_details": {"maximum": memory_mb, "used": None},
    }


# Nova's API names the driver among a fixed few; onestack's drivers run (or, the fake one, stand in for)
# QEMU guests, which is libvirt's family; ``hypervisor`` says which driver it is.
API_DRIVER = "libvirt"

EVENT_NAMES = ["network-changed", "network-vif-plugged", "network-vif-unplugged", "network-vif-deleted"]
# Event names later microversions add, as Nova's schemas do.
LATER_EVENTS = {"2.51": "volume-extended", "2.76": "power-update", "2.82": "accelerator-request-bound",
                "2.93": "volume-reimaged"}


def _events_schema(call: Call) -> dict:
    names = EVENT_NAMES + [name for version, name in LATER_EVENTS.items() if at_least(call.version, version)]
    event = {"type": "object", "required": ["server_uuid", "name"], "additionalProperties": False, "properties": {
        "server_uuid": {"type": "string", "format": "uuid"}, "name": {"type": "string", "enum": names},
        "status": {"type": "string", "enum": ["failed", "completed", "in-progress"]},
        "tag": {"type": "string", "maxLength": 255}}}
    return {"type": "object", "required": ["events"], "additionalProperties": False,
            "properties": {"events": {"type": "array", "minItems": 1, "items": event}}}


def create_external_events(call: Call) -> Reply:
    """Each event answers for itself: 200 accepted, 404 unknown server, 422 server on no host; the
    request is 207 when some failed and 404 when none was accepted, as in Nova.  Nothing here waits for
    these events (servers go ACTIVE without waiting for vif-plugged), so accepting is acknowledging."""
    authorize(call.ctx, "os_compute_api:os-server-external-events:create")
    schemas.check(call.body, _events_schema(call))
    answered, accepted = [], 0
    with compute(call).db.read() as session:
        for wanted in call.body["events"]:
            event = {**wanted, "status": wanted.get("status", "completed")}
            instance = session.get(Instance, wanted["server_uuid"])
            if instance is None or instance.deleted:
                event.update(status="failed", code=404)
            elif instance.host is None:
                event.update(status="failed", code=422)
            else:
                event["code"] = 200
                accepted += 1
                LOG.info("external event %s (%s) for server %s", event["name"], event["status"], instance.id)
            answered.append(event)
    if not accepted:
        raise NotFound("No instances found for any event")
    return Reply({"events": answered}, 200 if accepted == len(answered) else 207)


ROUTES = [
    route("/v2.1/servers/{server_id}/diagnostics", "GET", show_diagnostics),
    route("/v2.1/os-server-external-events", "POST", create_external_events),
]
