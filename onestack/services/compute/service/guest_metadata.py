"""What a guest is told about itself, in the formats cloud-init's OpenStack and EC2 sources read.

Written once and served twice: the config drive holds ``config_drive_files`` and the metadata service
(``metadata_api``) answers from ``openstack_files`` and ``ec2_tree``, so both always say the same thing.
Versions, the files each one has and the keys of ``meta_data.json`` are Nova's.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os

from onestack.drivers.compute import NIC
from onestack.services.compute.models import Instance
from onestack.services.compute.service.networking import InstanceNetworking, nic

FOLSOM, GRIZZLY, HAVANA, LIBERTY = "2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15"
NEWTON_ONE, NEWTON_TWO, OCATA, ROCKY, VICTORIA = "2016-06-30", "2016-10-06", "2017-02-22", "2018-08-27", "2020-10-14"
OPENSTACK_VERSIONS = (FOLSOM, GRIZZLY, HAVANA, LIBERTY, NEWTON_ONE, NEWTON_TWO, OCATA, ROCKY, VICTORIA)
EC2_VERSIONS = ("1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10", "2007-12-15", "2008-02-01",
                "2008-09-01", "2009-04-04")
LATEST = "latest"
# Nova keeps the password a guest posts in 4 fields of 255 characters: longer is refused.
PASSWORD_MAX = 256


@dataclasses.dataclass(frozen=True)
class Guest:
    """Everything the metadata is made from: the instance row and what the network says of it."""

    instance: Instance
    nics: list[NIC]
    port_networks: dict[str, str]  # port id -> network id
    fixed_ips: list[str]
    floating_ips: list[str]


def _at_least(version: str, since: str) -> bool:
    return version == LATEST or version >= since


def meta_data(instance: Instance, version: str = LATEST) -> dict:
    """``openstack/<version>/meta_data.json``."""
    body = {"uuid": instance.id, "name": instance.name, "hostname": instance.hostname,
            "launch_index": instance.launch_index, "availability_zone": instance.availability_zone or "nova",
            "meta": instance.metadata_ or {}}
    if instance.key_name and instance.key_data:
        body["public_keys"] = {instance.key_name: instance.key_data}
        if _at_least(version, LIBERTY):
            body["keys"] = [{"name": instance.key_name, "type": "ssh", "data": instance.key_data}]
    if _at_least(version, GRIZZLY):
        # fresh entropy on every read, as Nova gives, for guests that seed their RNG from it
        body["random_seed"] = base64.b64encode(os.urandom(512)).decode()
    if _at_least(version, LIBERTY):
        body["project_id"] = instance.project_id
    if _at_least(version, NEWTON_ONE):
        body["devices"] = []
    if _at_least(version, VICTORIA):
        body["dedicated_cpus"] = []
    return body


def network_data(nics: list[NIC], network_ids: dict[str, str]) -> dict:
    """``openstack/<version>/network_data.json``: one link per NIC, addressed by DHCP."""
    links = [{"id": nic.tap_name, "type": "phy", "ethernet_mac_address": nic.mac_address, "mtu": nic.mtu,
              "vif_id": nic.port_id} for nic in nics]
    networks = [{"id": f"network{i}", "type": "ipv4_dhcp", "link": nic.tap_name,
                 "network_id": network_ids.get(nic.port_id, "")} for i, nic in enumerate(nics)]
    return {"links": links, "networks": networks, "services": []}


def user_data(instance: Instance) -> bytes | None:
    return base64.b64decode(instance.user_data) if instance.user_data else None


def openstack_files(guest: Guest, version: str, *, with_password: bool) -> dict[str, bytes]:
    """The files of ``openstack/<version>/`` by name, as that version has them.  The password file
    is the metadata service's alone (a guest posts to it); a config drive is read-only."""
    files = {"meta_data.json": json.dumps(meta_data(guest.instance, version)).encode()}
    data = user_data(guest.instance)
    if data is not None:
        files["user_data"] = data
    if with_password and _at_least(version, GRIZZLY):
        files["password"] = b""  # the content is the instance's; the caller reads it
    if _at_least(version, HAVANA):
        files["vendor_data.json"] = b"{}"  # no vendor data is configured
    if _at_least(version, LIBERTY):
        files["network_data.json"] = json.dumps(network_data(guest.nics, guest.port_networks)).encode()
    if _at_least(version, NEWTON_TWO):
        files["vendor_data2.json"] = b"{}"  # no dynamic vendor data targets
    return files


def ec2_id(kind: str, number: int) -> str:
    return f"{kind}-{number:08x}"


def ec2_tree(guest: Guest) -> dict:
    """``<version>/``: ``meta-data`` as a tree of dicts (directories) and strings or lists (files),
    and ``user-data`` when there is some.  Keys named ``_name`` give a directory's listed name
    (``public-keys/0=mykey``), as the EC2 API lists keys."""
    instance = guest.instance
    image = instance.image_ref or ""
    # EC2 ids are numbers; an image's is the first 32 bits of its UUID, an instance's its own number
    ami = f"ami-{image.replace('-', '')[:8]}" if image else "ami-00000000"
    v4 = [ip for ip in guest.fixed_ips if ":" not in ip]
    meta = {
        "ami-id": ami, "ami-launch-index": str(instance.launch_index), "ami-manifest-path": "FIXME",
        "block-device-mapping": {"ami": "vda", "root": "/dev/vda"},
        "hostname": instance.hostname, "instance-action": "none", "instance-id": ec2_id("i", instance.number),
        "instance-type": (instance.flavor or {}).get("original_name", ""), "local-hostname": instance.hostname,
        "local-ipv4": v4[0] if v4 else "", "placement": {"availability-zone": instance.availability_zone or "nova"},
        "public-hostname": instance.hostname, "public-ipv4": guest.floating_ips[0] if guest.floating_ips else "",
        "reservation-id": instance.reservation_id, "security-groups": list(instance.security_groups or ["default"]),
    }
    if instance.key_name and instance.key_data:
        meta["public-keys"] = {"0": {"_name": f"0={instance.key_name}", "openssh-key": instance.key_data}}
    tree: dict = {"meta-data": meta}
    data = user_data(instance)
    if data is not None:
        tree["user-data"] = data
    return tree


def config_drive_files(guest: Guest) -> dict[str, bytes]:
    """Every file of the ``config-2`` drive by its path: each OpenStack version, and the EC2 metadata
    as ``ec2/<version>/meta-data.json`` (Nova's layout)."""
    files = {}
    for version in (*OPENSTACK_VERSIONS, LATEST):
        for name, content in openstack_files(guest, version, with_password=False).items():
            files[f"openstack/{version}/{name}"] = content
    ec2 = json.dumps(ec2_tree(guest)["meta-data"]).encode()  # with the "_name" keys, as Nova writes it
    for version in (EC2_VERSIONS[-1], LATEST):
        files[f"ec2/{version}/meta-data.json"] = ec2
    return files


def guest(networking: InstanceNetworking, instance: Instance) -> Guest:
    """What the metadata service and the config drive tell the instance about itself."""
    ports = networking.ports(instance.id)
    fixed = [a.ip_address for p in ports for a in p.fixed_ips]
    floating = {address: outside for p in ports for address, outside in p.floating_ips.items()}
    return Guest(instance, [nic(p) for p in ports], {p.id: p.network_id for p in ports}, fixed,
                 [floating[ip] for ip in fixed if ip in floating])
