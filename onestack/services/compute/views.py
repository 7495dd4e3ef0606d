"""Server bodies as Nova writes them; every microversion difference in output lives here."""

from __future__ import annotations

import hashlib

from onestack.http.context import Context
from onestack.services.compute import states as st
from onestack.services.compute.models import Instance
from onestack.services.compute.versions import at_least


def stamp(moment) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def links(url: str, kind: str, ident: str, bookmark: str) -> list[dict]:
    return [{"rel": "self", "href": f"{url}/v2.1/{kind}/{ident}"},
            {"rel": "bookmark", "href": f"{bookmark}/{kind}/{ident}"}]


def host_id(instance: Instance) -> str:
    """Nova's opaque ``hostId``: the host hashed with the project, so projects cannot compare hosts."""
    if not instance.host:
        return ""
    return hashlib.sha224(f"{instance.project_id}{instance.host}".encode()).hexdigest()


def brief(instance: Instance, url: str) -> dict:
    return {"id": instance.id, "name": instance.name, "links": links(url, "servers", instance.id, url)}


def server(instance: Instance, ctx: Context, url: str, version, addresses: dict, *, detail: bool = True) -> dict:
    status = st.status(instance.vm_state, instance.task_state)
    body = {
        "id": instance.id, "name": instance.name, "status": status, "tenant_id": instance.project_id,
        "user_id": instance.user_id, "metadata": instance.metadata_, "hostId": host_id(instance),
        "image": {"id": instance.image_ref, "links": [{"rel": "bookmark", "href": f"{url}/images/{instance.image_ref}"}]}
        if instance.image_ref else "",
        "flavor": {"id": instance.flavor.get("id"),
                   "links": [{"rel": "bookmark", "href": f"{url}/flavors/{instance.flavor.get('id')}"}]},
        "created": stamp(instance.created_at), "updated": stamp(instance.updated_at),
        "addresses": addresses, "accessIPv4": instance.access_ip_v4 or "", "accessIPv6": instance.access_ip_v6 or "",
        "links": links(url, "servers", instance.id, url), "OS-DCF:diskConfig": "MANUAL",
    }
    if status in ("ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE"):
        body["progress"] = instance.progress if status != "BUILD" else 0
    if instance.fault and status in ("ERROR", "DELETED"):
        fault = dict(instance.fault)
        if not ctx.is_admin:
            fault.pop("details", None)
        body["fault"] = fault
    if detail:
        body.update({
            "key_name": instance.key_name, "security_groups": [{"name": n} for n in instance.security_groups],
            "OS-SRV-USG:launched_at": stamp(instance.launched_at)[:-1] + ".000000" if instance.launched_at else None,
            "OS-SRV-USG:terminated_at": stamp(instance.terminated_at)[:-1] + ".000000"
            if instance.terminated_at else None,
            "OS-EXT-AZ:availability_zone": instance.availability_zone or "nova",
            "OS-EXT-STS:task_state": instance.task_state, "OS-EXT-STS:vm_state": instance.vm_state,
            "OS-EXT-STS:power_state": instance.power_state,
            "os-extended-volumes:volumes_attached": [],
            "config_drive": "True" if instance.config_drive else "",
        })
        if ctx.is_admin:
            body.update({"OS-EXT-SRV-ATTR:host": instance.host, "OS-EXT-SRV-ATTR:instance_name":
                         f"instance-{instance.number:08x}", "OS-EXT-SRV-ATTR:hypervisor_hostname": instance.host})
    if at_least(version, "2.9"):
        body["locked"] = instance.locked
    return body
