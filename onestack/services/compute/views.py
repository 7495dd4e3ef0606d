"""Response bodies as Nova builds them at each microversion.

``url`` is the caller's ``Call.url``: links are absolute under the service prefix, with ``/v2.1`` for
``self`` and without it for ``bookmark``, as Nova writes them.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
from collections.abc import Callable
from urllib.parse import urlencode

from onestack.http.context import Context
from onestack.http.microversion import Version, at_least
from onestack.http.routing import Reply
from onestack.services.compute.models import ComputeHost, Flavor, Instance, KeyPair
from onestack.services.compute.models import states as st
from onestack.services.compute.models.quota_resources import quota_set_resources

Url = Callable[[str], str]


def links(url: Url, collection: str, ident: str) -> list[dict]:
    return [{"rel": "self", "href": url(f"/v2.1/{collection}/{ident}")},
            {"rel": "bookmark", "href": url(f"/{collection}/{ident}")}]


def next_link(url: Url, path: str, query, marker: str) -> list[dict]:
    """``*_links`` for a full page: the same query, continued after ``marker``."""
    kept = [(k, v) for k, v in query.multi_items() if k != "marker"]
    return [{"rel": "next", "href": url(f"/v2.1/{path}?" + urlencode([*kept, ("marker", marker)]))}]


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


def _plain_addresses(addresses: dict) -> dict:
    """Addresses without their OS-EXT-IPS type and MAC, as Nova's basic view has them."""
    return {net: [{"version": a["version"], "addr": a["addr"]} for a in entries] for net, entries in addresses.items()}


def server(instance: Instance, ctx: Context, url: Url, version, addresses: dict, *, detail: bool = True,
           single: bool = False, host_status: str | None = None, groups: list[str] | None = None) -> dict:
    """A server as Nova shows it: ``detail`` adds the extended attributes of show and list detail (update
    and rebuild answer without them until 2.75); ``single`` is one server shown by itself (show, update,
    rebuild), which alone carries its server groups; ``host_status`` is shown to admins from 2.16;
    ``groups``: the security groups of its ports."""
    status = st.status(instance.vm_state, instance.task_state)
    body = {
        "id": instance.id, "name": instance.name, "status": status, "tenant_id": instance.project_id,
        "user_id": instance.user_id, "metadata": instance.metadata_, "hostId": host_id(instance),
        "image": _image(instance, url), "flavor": _flavor(instance, url, version),
        "created": zulu(instance.created_at), "updated": zulu(instance.updated_at),
        "addresses": addresses if detail else _plain_addresses(addresses),
        "accessIPv4": instance.access_ip_v4 or "", "accessIPv6": _canonical_ipv6(instance.access_ip_v6),
        "links": links(url, "servers", instance.id), "OS-DCF:diskConfig": "MANUAL",
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
        "os-extended-volumes:volumes_attached": [],
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
