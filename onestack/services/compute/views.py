"""Response bodies as Nova builds them at each microversion.

``url`` is the caller's ``Call.url``: links are absolute under the service prefix, with ``/v2.1`` for
``self`` and without it for ``bookmark``, as Nova writes them.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
from collections.abc import Callable

from onestack.http.context import Context
from onestack.http.microversion import Version, at_least
from onestack.http.routing import Reply
from onestack.services.compute.models import (
    Aggregate,
    BlockDevice,
    ComputeHost,
    Flavor,
    Instance,
    InstanceAction,
    InstanceActionEvent,
    KeyPair,
    Migration,
    ServerGroup,
)
from onestack.services.compute.models import states as st
from onestack.services.compute.models.quota_resources import quota_set_resources
from onestack.services.image.public import ImageInfo
from onestack.services.network.public import (
    FloatingIPInfo,
    NetworkInfo,
    SecurityGroupInfo,
    SecurityGroupRuleInfo,
)
from onestack.services.volume.public import SnapshotInfo, VolumeInfo

Url = Callable[[str], str]


def disk_config(instance: Instance) -> str:
    return "AUTO" if instance.auto_disk_config else "MANUAL"


def links(url: Url, collection: str, ident: str) -> list[dict]:
    return [{"rel": "self", "href": url(f"/v2.1/{collection}/{ident}")},
            {"rel": "bookmark", "href": url(f"/{collection}/{ident}")}]


def stamp(value: datetime.datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") if value else None


def zulu(value: datetime.datetime | None) -> str | None:
    """Servers' ``created``/``updated`` and events: seconds and a Z, as Nova writes them."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


# -- flavors ---------------------------------------------------------------------------
def flavor_summary(flavor: Flavor, url: Url, version: Version | None) -> dict:
    body = {"id": flavor.flavorid, "name": flavor.name, "links": links(url, "flavors", flavor.flavorid)}
    if at_least(version, "2.55"):
        body["description"] = flavor.description
    return body


def flavor(flavor: Flavor, url: Url, version: Version | None, show_extra_specs: bool = True) -> dict:
    body = flavor_summary(flavor, url, version)
    body.update({
        "ram": flavor.memory_mb, "disk": flavor.root_gb, "vcpus": flavor.vcpus,
        # Until 2.75 a flavor without swap said "" rather than 0.
        "swap": flavor.swap if flavor.swap or at_least(version, "2.75") else "",
        "OS-FLV-EXT-DATA:ephemeral": flavor.ephemeral_gb, "OS-FLV-DISABLED:disabled": flavor.disabled,
        "os-flavor-access:is_public": flavor.is_public, "rxtx_factor": flavor.rxtx_factor,
    })
    if at_least(version, "2.61") and show_extra_specs:
        body["extra_specs"] = flavor.extra_specs
    return body


def flavor_access(flavorid: str, projects: list[str]) -> dict:
    return {"flavor_access": [{"flavor_id": flavorid, "tenant_id": project} for project in projects]}


# -- keypairs --------------------------------------------------------------------------
def keypair_summary(keypair: KeyPair, version: Version | None) -> dict:
    body = {"name": keypair.name, "public_key": keypair.public_key, "fingerprint": keypair.fingerprint}
    if at_least(version, "2.2"):
        body["type"] = keypair.type
    return body


def keypair_created(keypair: KeyPair, version: Version | None, private_key: str | None) -> dict:
    body = {**keypair_summary(keypair, version), "user_id": keypair.user_id}
    if private_key is not None:
        body["private_key"] = private_key
    return body


def keypair(keypair: KeyPair, version: Version | None) -> dict:
    # Nova soft-deletes keypairs, so its view carries the soft-delete columns of a live row.
    return {**keypair_created(keypair, version, None), "id": keypair.id, "created_at": stamp(keypair.created_at),
            "updated_at": stamp(keypair.updated_at), "deleted": False, "deleted_at": None}


# -- quotas and limits -----------------------------------------------------------------------
def limits_set(values: dict, resources: tuple[str, ...], ident: str | None = None) -> dict:
    """A quota set or quota class set body: ``id`` is shown by GET, not by PUT."""
    body = {"id": ident} if ident is not None else {}
    body.update({resource: values[resource] for resource in resources})
    return body


# quota resource -> the absolute limits that show it (maxImageMeta went at 2.39)
MAXIMA = {"ram": "maxTotalRAMSize", "instances": "maxTotalInstances", "cores": "maxTotalCores",
          "key_pairs": "maxTotalKeypairs", "floating_ips": "maxTotalFloatingIps", "metadata_items": "maxServerMeta",
          "injected_files": "maxPersonality", "injected_file_content_bytes": "maxPersonalitySize",
          "security_groups": "maxSecurityGroups", "security_group_rules": "maxSecurityGroupRules",
          "server_groups": "maxServerGroups", "server_group_members": "maxServerGroupMembers"}
USED = {"ram": "totalRAMUsed", "cores": "totalCoresUsed", "instances": "totalInstancesUsed",
        "floating_ips": "totalFloatingIpsUsed", "security_groups": "totalSecurityGroupsUsed",
        "server_groups": "totalServerGroupsUsed"}


def limits(values: dict[str, int], used: dict[str, int], version: Version | None) -> dict:
    absolute = {}
    for resource in quota_set_resources(version):
        if resource in MAXIMA:
            absolute[MAXIMA[resource]] = values[resource]
        if resource in USED:
            absolute[USED[resource]] = used.get(resource, 0)
    if not at_least(version, "2.39"):
        absolute["maxImageMeta"] = values["metadata_items"]
    return {"limits": {"absolute": absolute, "rate": []}}


# -- servers -------------------------------------------------------------------------------
def host_id(instance: Instance) -> str:
    """Nova's opaque ``hostId``: the host hashed with the project, so projects cannot compare hosts."""
    if not instance.host:
        return ""
    return hashlib.sha224(f"{instance.project_id}{instance.host}".encode()).hexdigest()


def brief(instance: Instance, url: Url) -> dict:
    return {"id": instance.id, "name": instance.name, "links": links(url, "servers", instance.id)}


def _image(instance: Instance, url: Url):
    if not instance.image_ref:
        return ""
    return {"id": instance.image_ref, "links": [{"rel": "bookmark", "href": url(f"/images/{instance.image_ref}")}]}


def _flavor(instance: Instance, url: Url, version: Version | None) -> dict:
    """Until 2.47 a link to the flavor; from 2.47 the flavor the server was built with, embedded."""
    snapshot = instance.flavor
    if not at_least(version, "2.47"):
        return {"id": snapshot.get("id"), "links": [{"rel": "bookmark", "href": url(f"/flavors/{snapshot.get('id')}")}]}
    return {"original_name": snapshot.get("original_name"), "vcpus": snapshot.get("vcpus"), "ram": snapshot.get("ram"),
            "disk": snapshot.get("disk"), "ephemeral": snapshot.get("ephemeral", 0), "swap": snapshot.get("swap", 0),
            "extra_specs": snapshot.get("extra_specs") or {}}


def _canonical_ipv6(address: str | None) -> str:
    """Nova shows an IPv6 access address in its canonical (RFC 5952) form, whatever form it was given in."""
    if not address:
        return ""
    try:
        return str(ipaddress.IPv6Address(address))
    except ValueError:
        return address


def plain_addresses(addresses: dict) -> dict:
    """Addresses without their OS-EXT-IPS type and MAC, as Nova's basic view has them."""
    return {net: [{"version": a["version"], "addr": a["addr"]} for a in entries] for net, entries in addresses.items()}


def server(instance: Instance, ctx: Context, url: Url, version, addresses: dict, *, detail: bool = True,
           single: bool = False, host_status: str | None = None, groups: list[str] | None = None,
           volumes: list[BlockDevice] | None = None) -> dict:
    """A server as Nova shows it: ``detail`` adds the extended attributes of show and list detail (update
    and rebuild answer without them until 2.75); ``single`` is one server shown by itself (show, update,
    rebuild), which alone carries its server groups; ``host_status`` is shown to admins from 2.16;
    ``groups``: the security groups of its ports; ``volumes``: its block device rows."""
    status = st.status(instance.vm_state, instance.task_state)
    body = {
        "id": instance.id, "name": instance.name, "status": status, "tenant_id": instance.project_id,
        "user_id": instance.user_id, "metadata": instance.metadata_, "hostId": host_id(instance),
        "image": _image(instance, url), "flavor": _flavor(instance, url, version),
        "created": zulu(instance.created_at), "updated": zulu(instance.updated_at),
        "addresses": addresses if detail else plain_addresses(addresses),
        "accessIPv4": instance.access_ip_v4 or "", "accessIPv6": _canonical_ipv6(instance.access_ip_v6),
        "links": links(url, "servers", instance.id), "OS-DCF:diskConfig": disk_config(instance),
    }
    if status in ("ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE"):
        body["progress"] = instance.progress if status != "BUILD" else 0
    if instance.fault and status in ("ERROR", "DELETED"):
        fault = dict(instance.fault)
        if not ctx.is_admin:
            fault.pop("details", None)
        body["fault"] = fault
    if detail:
        body.update(_extended(instance, ctx, version, host_status, groups or []))
        body["os-extended-volumes:volumes_attached"] = volumes_attached(volumes or [], version)
    if at_least(version, "2.9"):
        body["locked"] = instance.locked
    if at_least(version, "2.19"):
        body["description"] = instance.description
    if at_least(version, "2.26"):
        body["tags"] = list(instance.tags or [])
    if at_least(version, "2.63"):
        body["trusted_image_certificates"] = instance.trusted_image_certificates
    if at_least(version, "2.71") and single:
        body["server_groups"] = [instance.server_group_id] if instance.server_group_id else []
    if at_least(version, "2.73"):
        body["locked_reason"] = instance.locked_reason
    if at_least(version, "2.96"):
        body["pinned_availability_zone"] = instance.requested_availability_zone
    return body


def _extended(instance: Instance, ctx: Context, version: Version | None, host_status: str | None,
              groups: list[str]) -> dict:
    """The attributes Nova's show and list detail add to the basic view (the OS-EXT-* extensions)."""
    body = {
        "key_name": instance.key_name,
        "OS-SRV-USG:launched_at": stamp(instance.launched_at),
        "OS-SRV-USG:terminated_at": stamp(instance.terminated_at),
        "OS-EXT-AZ:availability_zone": instance.availability_zone or "nova",
        "OS-EXT-STS:task_state": instance.task_state, "OS-EXT-STS:vm_state": instance.vm_state,
        "OS-EXT-STS:power_state": instance.power_state,
        "config_drive": "True" if instance.config_drive else "",
    }
    if groups:  # its ports' groups, as Nova shows them; the key is left out for a server without any
        body["security_groups"] = [{"name": n} for n in groups]
    if ctx.is_admin:
        body.update({"OS-EXT-SRV-ATTR:host": instance.host, "OS-EXT-SRV-ATTR:instance_name":
                     f"instance-{instance.number:08x}", "OS-EXT-SRV-ATTR:hypervisor_hostname": instance.host})
        if at_least(version, "2.3"):
            body.update({"OS-EXT-SRV-ATTR:reservation_id": instance.reservation_id,
                         "OS-EXT-SRV-ATTR:launch_index": instance.launch_index,
                         "OS-EXT-SRV-ATTR:hostname": instance.hostname,
                         # onestack boots whole-disk images: no separate kernel or ramdisk
                         "OS-EXT-SRV-ATTR:kernel_id": "", "OS-EXT-SRV-ATTR:ramdisk_id": "",
                         "OS-EXT-SRV-ATTR:root_device_name": ROOT_DEVICE if instance.launched_at else None,
                         "OS-EXT-SRV-ATTR:user_data": instance.user_data})
        if at_least(version, "2.16"):
            body["host_status"] = host_status or ""
    elif at_least(version, "2.90"):
        body["OS-EXT-SRV-ATTR:hostname"] = instance.hostname
    return body


# The guest's first disk: virtio, as both drivers attach it.
ROOT_DEVICE = "/dev/vda"


def host_status(host: ComputeHost | None, running: bool) -> str:
    """Nova's host_status: MAINTENANCE for a disabled service, DOWN for one not reporting, UP otherwise;
    empty for a server not on a host."""
    if host is None:
        return ""
    if host.disabled:
        return "MAINTENANCE"
    return "UP" if running and not host.forced_down else "DOWN"


# -- interfaces ------------------------------------------------------------------------------------
def interface(port, tag: str | None, version: Version | None) -> dict:
    body = {"port_state": port.status, "port_id": port.id, "net_id": port.network_id, "mac_addr": port.mac_address,
            "fixed_ips": [{"subnet_id": a.subnet_id, "ip_address": a.ip_address} for a in port.fixed_ips]}
    if at_least(version, "2.70"):
        body["tag"] = tag
    return body


# -- volume attachments ------------------------------------------------------------------------------------
def volume_attachment(row: BlockDevice, version: Version | None, *, made: bool = False) -> dict:
    """An attachment as os-volume_attachments shows it; ``made``: the attach's own reply, which keeps ``id``
    after 2.89."""
    body = {"device": row.device_name, "serverId": row.instance_uuid, "volumeId": row.volume_id}
    if made or not at_least(version, "2.89"):
        body["id"] = row.volume_id
    if at_least(version, "2.70"):
        body["tag"] = row.tag
    if at_least(version, "2.79"):
        body["delete_on_termination"] = row.delete_on_termination
    if at_least(version, "2.89") and not made:
        body.update(attachment_id=row.attachment_id, bdm_uuid=row.id)
    return body


def volumes_attached(rows: list[BlockDevice], version: Version | None) -> list[dict]:
    """``os-extended-volumes:volumes_attached`` of a server: its volumes, with ``delete_on_termination`` from
    2.3."""
    return [{"id": row.volume_id, **({"delete_on_termination": row.delete_on_termination}
                                     if at_least(version, "2.3") else {})} for row in rows]


# -- server action replies ------------------------------------------------------------------------------
def rebuilt(server_body: dict, instance: Instance, version: Version | None) -> dict:
    """A rebuild's reply: the server view the caller's version gives update, plus the key (2.54) and the
    user data (2.57) the rebuild may have changed; from 2.75 that view is the full one, whose admin-only
    OS-EXT-SRV-ATTR:user_data the plain user_data replaces."""
    if at_least(version, "2.54"):
        server_body["key_name"] = instance.key_name
    if at_least(version, "2.57"):
        server_body.pop("OS-EXT-SRV-ATTR:user_data", None)
        server_body["user_data"] = instance.user_data
    return server_body


def image_created(image_id: str, base_url: str, version: Version | None) -> Reply:
    """createImage: the image's address in ``Location`` until 2.45, then ``{"image_id"}`` in the body."""
    if at_least(version, "2.45"):
        return Reply({"image_id": image_id}, 202)
    return Reply(None, 202, {"Location": f"{base_url}/image/v2/images/{image_id}"})


# -- diagnostics (2.48's standard format, and the driver's own before) ------------------------------------
# Power states as Nova's standard diagnostics name them (the values of ``drivers.compute.PowerState``).
STATE_NAMES = {0: "pending", 1: "running", 3: "paused", 4: "shutdown", 6: "crashed", 7: "suspended"}
# Nova's API names the driver among a fixed few; onestack's drivers run (or, the fake one, stand in for)
# QEMU guests, which is libvirt's family; ``hypervisor`` says which driver it is.
API_DRIVER = "libvirt"
_COUNTERS = ("rx_octets", "rx_errors", "rx_drop", "rx_packets", "rx_rate", "tx_octets", "tx_errors", "tx_drop",
             "tx_packets", "tx_rate")


def legacy_diagnostics(found) -> dict:
    """Before 2.48, the driver's own keys: memory (KiB) is all onestack's drivers report."""
    return {"memory": (found.info.memory_mb or found.instance.flavor["ram"]) * 1024}


def diagnostics(found) -> dict:
    """``found``: the guest's instance, what its driver says of it (``info``), the driver's name and its MACs."""
    instance, info = found.instance, found.info
    vcpus = info.vcpus or instance.flavor["vcpus"]
    memory_mb = info.memory_mb or instance.flavor["ram"]
    flavor = instance.flavor
    disks = [size for size in (flavor["disk"], flavor.get("ephemeral", 0), flavor.get("swap", 0)) if size]
    uptime = int((datetime.datetime.now(datetime.UTC) - instance.launched_at).total_seconds()) \
        if instance.launched_at else None
    return {
        "state": STATE_NAMES.get(int(info.power_state), "pending"), "driver": API_DRIVER,
        "hypervisor": found.hypervisor, "hypervisor_os": "linux", "uptime": uptime,
        "config_drive": instance.config_drive, "num_cpus": vcpus, "num_nics": len(found.macs),
        "num_disks": len(disks),
        "cpu_details": [{"id": i, "time": None, "utilisation": None} for i in range(vcpus)],
        "nic_details": [{"mac_address": mac, **dict.fromkeys(_COUNTERS)} for mac in found.macs],
        "disk_details": [{"read_bytes": None, "read_requests": None, "write_bytes": None, "write_requests": None,
                          "errors_count": None} for _ in disks],
        "memory_details": {"maximum": memory_mb, "used": None},
    }


# -- what hangs off a server -----------------------------------------------------------------------------
def instance_action(action: InstanceAction, events: list[InstanceActionEvent] | None = None) -> dict:
    body = {"action": action.action, "instance_uuid": action.instance_uuid, "request_id": action.request_id,
            "user_id": action.user_id, "project_id": action.project_id, "start_time": zulu(action.start_time),
            "message": action.message}
    if events is not None:
        body["events"] = [{"event": e.event, "start_time": zulu(e.start_time),
                           "finish_time": zulu(e.finish_time), "result": e.result, "traceback": e.traceback}
                          for e in events]
    return body


def server_group(group: ServerGroup, members: list[str], version: Version | None) -> dict:
    body = {"id": group.id, "name": group.name, "members": members}
    if at_least(version, "2.64"):
        body.update(policy=group.policy, rules=group.rules or {})
    else:
        body.update(policies=[group.policy], metadata={})
    if at_least(version, "2.13"):
        body.update(project_id=group.project_id, user_id=group.user_id)
    return body


# -- hosts: aggregates, services, hypervisors, os-hosts, zones --------------------------------------------
def aggregate(found: Aggregate, version: Version | None, full: bool = True) -> dict:
    body = {"id": found.id, "name": found.name, "availability_zone": found.availability_zone,
            "created_at": stamp(found.created_at), "updated_at": stamp(found.updated_at),
            "deleted": False, "deleted_at": None}
    if full:  # create answers without hosts and metadata, as Nova does
        body.update({"hosts": found.hosts, "metadata": found.metadata_})
    if at_least(version, "2.41"):
        body["uuid"] = found.uuid
    return body


def public_id(host: ComputeHost, version: Version | None) -> int | str:
    """Services and hypervisors are named by integer ids before 2.53, by uuid from it."""
    return host.id if at_least(version, "2.53") else host.number


def service(state, version: Version | None) -> dict:
    """``state``: a host's record (``row``) and whether it is ``up``."""
    host = state.row
    body = {"id": public_id(host, version), "binary": "nova-compute", "host": host.host,
            "zone": host.availability_zone, "status": "disabled" if host.disabled else "enabled",
            "state": "up" if state.up else "down", "updated_at": zulu(host.heartbeat_at),
            "disabled_reason": host.disabled_reason}
    if at_least(version, "2.11"):
        body["forced_down"] = host.forced_down
    return body


# What 2.88 dropped from hypervisor bodies (placement is where resources are read now).
HYPERVISOR_RESOURCES = ("vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used", "local_gb_used",
                        "free_ram_mb", "free_disk_gb", "current_workload", "running_vms", "disk_available_least")


def hypervisor(state, detail: bool, version: Version | None, uptime: str | None = None) -> dict:
    """``state``: a host's record (``row``), whether it is ``up``, what its servers use and, if asked for,
    its ``servers`` (Nova leaves ``servers`` out when the host has none); ``uptime``: the machine's line."""
    host, mine = state.row, state.used
    body = {"id": public_id(host, version), "hypervisor_hostname": host.host,
            "state": "up" if state.up else "down", "status": "disabled" if host.disabled else "enabled"}
    if detail:
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
            for field in HYPERVISOR_RESOURCES:
                del body[field]
            body["uptime"] = uptime
    if state.servers:
        body["servers"] = [{"uuid": ident, "name": f"instance-{number:08x}"} for ident, number in state.servers]
    return body


def host_resources(host: ComputeHost, used: dict[str, int], per_project: dict[str, list[int]]) -> list[dict]:
    """os-hosts' show: the host's capacity, what its servers use (now, and at most), then each project's."""
    def resource(project: str, cpu: int, memory_mb: int, disk_gb: int) -> dict:
        return {"resource": {"host": host.host, "project": project, "cpu": cpu, "memory_mb": memory_mb,
                             "disk_gb": disk_gb}}

    return [resource("(total)", host.vcpus, host.memory_mb, host.disk_gb),
            resource("(used_now)", used["vcpus"], used["ram"], used["disk"]),
            resource("(used_max)", used["vcpus"], used["ram"], used["disk"]),
            *(resource(project, *sums) for project, sums in per_project.items())]


def zones(found: dict[str, list[ComputeHost]]) -> list[dict]:
    return [{"zoneName": name, "zoneState": {"available": any(not h.disabled for h in hosts)}, "hosts": None}
            for name, hosts in found.items()]


def zones_detail(found: dict[str, list[ComputeHost]]) -> list[dict]:
    shown = [{"zoneName": "internal", "zoneState": {"available": True}, "hosts": {}}]
    for name, hosts in found.items():
        shown.append({"zoneName": name, "zoneState": {"available": any(not h.disabled for h in hosts)},
                      "hosts": {h.host: {"nova-compute": {"available": not h.forced_down, "active": not h.disabled,
                                                          "updated_at": zulu(h.heartbeat_at)}} for h in hosts}})
    return shown


def migration(row: Migration, url: Url, version: Version | None) -> dict:
    body = {"id": row.id, "status": row.status, "instance_uuid": row.instance_uuid, "source_node": row.source_node,
            "source_compute": row.source_compute, "dest_node": row.dest_node, "dest_compute": row.dest_compute,
            "dest_host": row.dest_host, "old_instance_type_id": row.old_instance_type_id,
            "new_instance_type_id": row.new_instance_type_id, "created_at": stamp(row.created_at),
            "updated_at": stamp(row.updated_at)}
    if at_least(version, "2.23"):
        body["migration_type"] = row.migration_type
        if row.migration_type == "live-migration" and row.status in ("queued", "preparing", "running"):
            path = f"servers/{row.instance_uuid}/migrations/{row.id}"
            body["links"] = [{"rel": "self", "href": url(f"/v2.1/{path}")}, {"rel": "bookmark", "href": url(f"/{path}")}]
    if at_least(version, "2.59"):
        body["uuid"] = row.uuid
    if at_least(version, "2.80"):
        body["user_id"], body["project_id"] = row.user_id, row.project_id
    return body


def server_migration(row: Migration, version: Version | None) -> dict:
    """A live migration in progress as ``/servers/{id}/migrations`` shows it, with its bytes moved so far."""
    body = {"id": row.id, "server_uuid": row.instance_uuid, "status": row.status,
            "source_compute": row.source_compute, "source_node": row.source_node, "dest_compute": row.dest_compute,
            "dest_node": row.dest_node, "dest_host": row.dest_host, "created_at": stamp(row.created_at),
            "updated_at": stamp(row.updated_at)}
    for kind in ("memory", "disk"):
        for part in ("total", "processed", "remaining"):
            body[f"{kind}_{part}_bytes"] = getattr(row, f"{kind}_{part}")
    if at_least(version, "2.59"):
        body["uuid"] = row.uuid
    if at_least(version, "2.80"):
        body["user_id"], body["project_id"] = row.user_id, row.project_id
    return body


# -- Nova's proxy APIs: images, security groups, floating IPs, networks as Nova v2.1 showed them -----------
# Nova knows Glance's v1 statuses only: uploading, importing and deactivated are UNKNOWN to it.
IMAGE_STATUS = {"active": "ACTIVE", "queued": "SAVING", "saving": "SAVING", "deleted": "DELETED",
                "pending_delete": "DELETED", "killed": "ERROR"}
IMAGE_PROGRESS = {"queued": 25, "saving": 50, "active": 100}


def _image_links(image_id: str, url: Url, glance: str) -> list[dict]:
    """``url`` is the compute API's (links under ``/v2.1`` and bookmarks without it); ``glance`` is the
    image service's root, for the ``alternate`` link Nova gives."""
    return [{"rel": "self", "href": url(f"/v2.1/images/{image_id}")},
            {"rel": "bookmark", "href": url(f"/images/{image_id}")},
            {"rel": "alternate", "type": "application/vnd.openstack.image", "href": f"{glance}/images/{image_id}"}]


def proxied_image_brief(image: ImageInfo, url: Url, glance: str) -> dict:
    return {"id": image.id, "name": image.name, "links": _image_links(image.id, url, glance)}


def proxied_image(image: ImageInfo, url: Url, glance: str) -> dict:
    """A Glance image as Nova shows it: ``minRam``, the custom properties as ``metadata``, a v1 status, a
    ``server`` for snapshots."""
    meta = image.properties
    body = {"id": image.id, "name": image.name, "minRam": image.min_ram, "minDisk": image.min_disk,
            "metadata": meta, "created": zulu(image.created_at), "updated": zulu(image.updated_at),
            "status": IMAGE_STATUS.get(image.status, "UNKNOWN"), "progress": IMAGE_PROGRESS.get(image.status, 0),
            "OS-EXT-IMG-SIZE:size": image.size, "links": _image_links(image.id, url, glance)}
    server_id = meta.get("instance_uuid")
    if server_id is not None:
        body["server"] = {"id": server_id, "links": [
            {"rel": "self", "href": url(f"/v2.1/servers/{server_id}")},
            {"rel": "bookmark", "href": url(f"/servers/{server_id}")}]}
    disk_config = meta.get("auto_disk_config")
    if disk_config is not None:
        body["OS-DCF:diskConfig"] = "AUTO" if str(disk_config).lower() in ("true", "1", "yes", "on") else "MANUAL"
    return body


def proxied_volume(volume: VolumeInfo) -> dict:
    """A Cinder volume as Nova's os-volumes shows it: an unattached volume's attachments are ``[{}]``."""
    attachments = [{"id": volume.id, "volumeId": volume.id, "serverId": server_id,
                    **({"device": device} if device else {})} for server_id, device in volume.attached_to]
    return {"id": volume.id, "status": volume.status, "size": volume.size,
            "availabilityZone": volume.availability_zone, "createdAt": zulu(volume.created_at),
            "attachments": attachments or [{}], "displayName": volume.name,
            "displayDescription": volume.description, "volumeType": volume.volume_type,
            "snapshotId": volume.snapshot_id, "metadata": volume.metadata}


def proxied_snapshot(snapshot: SnapshotInfo) -> dict:
    return {"id": snapshot.id, "volumeId": snapshot.volume_id, "status": snapshot.status, "size": snapshot.size,
            "createdAt": zulu(snapshot.created_at), "displayName": snapshot.name,
            "displayDescription": snapshot.description}


def proxied_rule(rule: SecurityGroupRuleInfo) -> dict:
    low, high = rule.port_range_min, rule.port_range_max
    if rule.protocol and low is None and high is None:
        # A Neutron rule without ports covers them all: Nova spells that 1-65535, or -1 for ICMP's type/code.
        low, high = (1, 65535) if rule.protocol.lower() in ("tcp", "udp") else (-1, -1)
    body = {"id": rule.id, "parent_group_id": rule.security_group_id, "ip_protocol": rule.protocol,
            "from_port": low, "to_port": high, "group": {}, "ip_range": {}}
    if rule.remote_group_id:
        if rule.remote_group_name is not None:
            body["group"] = {"name": rule.remote_group_name, "tenant_id": rule.remote_group_project_id}
    else:
        body["ip_range"] = {"cidr": rule.remote_ip_prefix}
    return body


def proxied_group(group: SecurityGroupInfo) -> dict:
    # Nova shows only what enters: Neutron's egress rules have no Nova equivalent.
    return {"id": group.id, "name": group.name, "description": group.description, "tenant_id": group.project_id,
            "rules": [proxied_rule(r) for r in group.rules if r.direction == "ingress"]}


def proxied_floating_ip(fip: FloatingIPInfo) -> dict:
    return {"id": fip.id, "ip": fip.floating_ip_address, "pool": fip.pool, "fixed_ip": fip.fixed_ip_address,
            "instance_id": fip.device_id}


# What os-networks shows everyone, and what it adds for admins (all null but id and label).
NETWORK_FIELDS = ("id", "cidr", "netmask", "gateway", "broadcast", "dns1", "dns2", "cidr_v6", "gateway_v6", "label",
                  "netmask_v6")
NETWORK_ADMIN_FIELDS = ("created_at", "updated_at", "deleted_at", "deleted", "injected", "bridge", "vlan",
                        "vpn_public_address", "vpn_public_port", "vpn_private_address", "dhcp_start", "project_id",
                        "host", "bridge_interface", "multi_host", "priority", "rxtx_base", "mtu", "dhcp_server",
                        "enable_dhcp", "share_address")


def proxied_network(network: NetworkInfo, is_admin: bool) -> dict:
    """Since nova-network is gone Nova fills only two of a network's fields (``id``, and the name as
    ``label``) and shows the rest as null."""
    body = dict.fromkeys(NETWORK_FIELDS + (NETWORK_ADMIN_FIELDS if is_admin else ()))
    body.update(id=network.id, label=network.name)
    return body


def tenant_network(network: NetworkInfo) -> dict:
    """``os-tenant-networks`` shows ``cidr`` as the string "None" (Nova stringifies a value Neutron's networks
    never had)."""
    return {"id": network.id, "cidr": "None", "label": network.name}
