"""What a guest is told about itself, in the formats cloud-init's OpenStack sources read: the config
drive now, the metadata service (169.254.169.254) with the data plane."""

from __future__ import annotations

import base64

from onestack.drivers.compute import NIC
from onestack.services.compute.models import Instance


def meta_data(instance: Instance) -> dict:
    """``openstack/latest/meta_data.json``."""
    body = {"uuid": instance.id, "name": instance.name, "hostname": instance.hostname,
            "launch_index": instance.launch_index, "availability_zone": instance.availability_zone or "nova",
            "project_id": instance.project_id, "meta": instance.metadata_ or {}, "devices": []}
    if instance.key_name and instance.key_data:
        body["public_keys"] = {instance.key_name: instance.key_data}
        body["keys"] = [{"name": instance.key_name, "type": "ssh", "data": instance.key_data}]
    return body


def network_data(nics: list[NIC], network_ids: dict[str, str]) -> dict:
    """``openstack/latest/network_data.json``: one link per NIC, addressed by DHCP."""
    links = [{"id": nic.tap_name, "type": "phy", "ethernet_mac_address": nic.mac_address, "mtu": nic.mtu,
              "vif_id": nic.port_id} for nic in nics]
    networks = [{"id": f"network{i}", "type": "ipv4_dhcp", "link": nic.tap_name,
                 "network_id": network_ids.get(nic.port_id, "")} for i, nic in enumerate(nics)]
    return {"links": links, "networks": networks, "services": []}


def user_data(instance: Instance) -> bytes | None:
    return base64.b64decode(instance.user_data) if instance.user_data else None
