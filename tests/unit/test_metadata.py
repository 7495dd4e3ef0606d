"""What the config drive holds: the metadata service's files, version by version, without the password."""

import base64
import json

from onestack.drivers.compute import NIC
from onestack.services.compute.models import Instance
from onestack.services.compute.service import guest_metadata


def guest() -> guest_metadata.Guest:
    instance = Instance(id="8b0b9f5e-1f7c-4d36-9d0f-3f1c2a9e6b11", number=42, project_id="p", user_id="u",
                        name="web 1", hostname="web-1", reservation_id="r-1", launch_index=0, image_ref="",
                        flavor={"original_name": "m1.nano"}, key_name="k", key_data="ssh-ed25519 AAAA k",
                        user_data=base64.b64encode(b"#!/bin/sh\n").decode(), metadata_={"a": "b"},
                        security_groups=["default"], availability_zone=None)
    nic = NIC(port_id="c0ffee00-0000-4000-8000-000000000001", mac_address="fa:16:3e:00:00:01", tap_name="tapc0ffee00-00")
    return guest_metadata.Guest(instance, [nic], {nic.port_id: "net-1"}, ["10.0.0.5"], [])


def test_config_drive_holds_every_version_and_the_ec2_metadata():
    files = guest_metadata.config_drive_files(guest())
    for version in (*guest_metadata.OPENSTACK_VERSIONS, "latest"):
        assert json.loads(files[f"openstack/{version}/meta_data.json"])["uuid"] == guest().instance.id
        assert files[f"openstack/{version}/user_data"] == b"#!/bin/sh\n"
        assert f"openstack/{version}/password" not in files
    assert "network_data.json" not in {p.rsplit("/", 1)[1] for p in files if "/2013-10-17/" in p}
    network = json.loads(files["openstack/latest/network_data.json"])
    assert network["links"][0]["ethernet_mac_address"] == "fa:16:3e:00:00:01"
    assert network["networks"][0]["network_id"] == "net-1"
    ec2 = json.loads(files["ec2/latest/meta-data.json"])
    assert ec2["instance-id"] == "i-0000002a" and ec2["local-ipv4"] == "10.0.0.5" and ec2["public-ipv4"] == ""
    assert ec2["public-keys"] == {"0": {"_name": "0=k", "openssh-key": "ssh-ed25519 AAAA k"}}
    assert ec2["ami-id"] == "ami-00000000" and ec2["instance-type"] == "m1.nano"


def test_meta_data_keys_follow_the_version():
    instance = guest().instance
    oldest, newest = guest_metadata.meta_data(instance, "2012-08-10"), guest_metadata.meta_data(instance, "latest")
    assert not {"random_seed", "keys", "project_id", "devices", "dedicated_cpus"} & set(oldest)
    assert {"random_seed", "keys", "project_id", "devices", "dedicated_cpus"} <= set(newest)
    assert "dedicated_cpus" not in guest_metadata.meta_data(instance, "2018-08-27")
