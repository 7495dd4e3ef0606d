"""Real Ansible playbooks (ansible-core and the openstack.cloud collection, from PyPI) against onestack.

The collection's modules are openstacksdk underneath, but they lean on it their own way: they look resources
up by name before deciding what to change, wait on statuses, and compare what they asked for with what came
back to report `changed`.  So every play here is run twice: the second run must change nothing.  What the
modules return is checked, and so is the cloud's state, read through the API with openstacksdk.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.api.helpers import name
from tests.clients import sdk_connection

ROOT = Path(__file__).resolve().parents[2]


class Ansible:
    """ansible-playbook against the cloud, through a clouds.yaml of its own (the demo project's member and
    the admin, as the cloud's own clouds.yaml names them)."""

    def __init__(self, cloud, home: Path):
        made = subprocess.run([str(ROOT / "scripts/ansible-venv.sh")], capture_output=True, text=True,
                              timeout=300, check=False)
        assert made.returncode == 0, made.stderr
        self.bin = Path(made.stdout.strip().splitlines()[-1])
        self.home = home
        entries = {"ansible-demo": cloud.clouds["onestack"], "ansible-admin": cloud.clouds["onestack-admin"]}
        (home / "clouds.yaml").write_text(yaml.safe_dump({"clouds": entries}))
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "ANSIBLE_"))}
        self.env.update(HOME=str(home), OS_CLIENT_CONFIG_FILE=str(home / "clouds.yaml"),
                        ANSIBLE_HOME=str(home / ".ansible"), ANSIBLE_LOCAL_TEMP=str(home / "tmp"),
                        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".ansible/collections"),
                        ANSIBLE_PYTHON_INTERPRETER=str(self.bin / "python"), ANSIBLE_NOCOLOR="1",
                        ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_DEPRECATION_WARNINGS="0")
        self.runs = 0

    def play(self, tasks: list[dict], cloud: str = "ansible-demo") -> list[dict]:
        """Run `tasks` as one play on localhost; what each task's module returned, in order."""
        self.runs += 1
        out = self.home / f"results-{self.runs}.json"
        registered = []
        for i, task in enumerate(tasks):
            module = next(k for k in task if k.startswith("openstack.cloud."))
            task[module].setdefault("cloud", cloud)
            registered.append(dict(task, register=f"r{i}"))
        dump = "{{ [" + ", ".join(f"r{i}" for i in range(len(tasks))) + "] | to_json }}"
        registered.append({"ansible.builtin.copy": {"content": dump, "dest": str(out)}})
        book = self.home / f"play-{self.runs}.yaml"
        book.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": registered}],
                                       sort_keys=False))
        ran = subprocess.run([str(self.bin / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(book)],
                             env=self.env, cwd=self.home, capture_output=True, text=True, timeout=300,
                             check=False)
        assert ran.returncode == 0, ran.stdout[-6000:] + ran.stderr[-3000:]
        return json.loads(out.read_text())

    def twice(self, tasks: list[dict], cloud: str = "ansible-demo") -> list[dict]:
        """The play, then the same play again, which must find nothing to change."""
        first = self.play(tasks, cloud)
        again = self.play(tasks, cloud)
        assert [r["changed"] for r in again] == [False] * len(tasks), [r.get("changed") for r in again]
        return first


@pytest.fixture(scope="module")
def ansible(cloud, tmp_path_factory):
    return Ansible(cloud, tmp_path_factory.mktemp("ansible"))


@pytest.fixture(scope="module")
def sdk(cloud):
    """The demo project, through the API, to check what the playbooks did."""
    conn = sdk_connection(cloud)
    yield conn
    conn.close()


def os_task(module: str, **args) -> dict:
    return {"name": f"{module} {args.get('name', '')}".strip(), f"openstack.cloud.{module}": args}


def test_network_subnet_router_and_image(ansible, sdk, tmp_path):
    net, sub, router, image = name("ans-net"), name("ans-sub"), name("ans-router"), name("ans-img")
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"ansible image\n" * 4096)
    present = [
        os_task("network", name=net),
        os_task("subnet", name=sub, network=net, cidr="10.61.0.0/24", dns_nameservers=["10.61.0.2"]),
        os_task("router", name=router, interfaces=[sub]),
        os_task("image", name=image, filename=str(disk), disk_format="raw", container_format="bare",
                min_disk=1),
    ]
    made_net, made_sub, made_router, made_image = ansible.twice(present)
    assert all(r["changed"] for r in (made_net, made_sub, made_router, made_image))
    # Custom properties are never idempotent with openstack.cloud.image, against any Glance: it asks
    # `name in image` of openstacksdk's Image, which keeps extra properties under .properties.  So they are
    # set by a play of their own, run once.
    (tagged,) = ansible.play([os_task("image", name=image, properties={"purpose": "ansible"})])
    assert tagged["changed"] and tagged["image"]["id"] == made_image["image"]["id"]

    network = sdk.network.get_network(made_net["network"]["id"])
    assert network.name == net and network.status == "ACTIVE" and network.subnet_ids == [made_sub["subnet"]["id"]]
    subnet = sdk.network.get_subnet(made_sub["subnet"]["id"])
    assert subnet.cidr == "10.61.0.0/24" and subnet.gateway_ip == "10.61.0.1"
    assert subnet.dns_nameservers == ["10.61.0.2"] and made_sub["subnet"]["cidr"] == "10.61.0.0/24"
    assert made_router["router"]["name"] == router
    ports = list(sdk.network.ports(device_id=made_router["router"]["id"]))
    assert [p.fixed_ips[0]["ip_address"] for p in ports] == ["10.61.0.1"]
    assert ports[0].device_owner == "network:router_interface"
    uploaded = sdk.image.get_image(made_image["image"]["id"])
    assert uploaded.status == "active" and uploaded.size == disk.stat().st_size and uploaded.min_disk == 1
    assert made_image["image"]["status"] == "active" and made_image["image"]["disk_format"] == "raw"
    assert uploaded.properties["purpose"] == "ansible"
    assert b"".join(sdk.image.download_image(uploaded, stream=True).iter_content(65536)) == disk.read_bytes()

    absent = [os_task("router", name=router, state="absent"), os_task("subnet", name=sub, state="absent"),
              os_task("network", name=net, state="absent"), os_task("image", name=image, state="absent")]
    gone = ansible.twice(absent)
    assert all(r["changed"] for r in gone)
    assert sdk.network.find_network(net) is None and sdk.network.find_router(router) is None
    assert sdk.image.find_image(image) is None


def test_volume_attached_to_a_server_and_detached(ansible, sdk, tmp_path):
    net, sub, image, server, vol = (name("ans-vnet"), name("ans-vsub"), name("ans-vimg"), name("ans-vm"),
                                    name("ans-vol"))
    disk = tmp_path / "root.raw"
    disk.write_bytes(b"\0" * 65536)
    base = [os_task("network", name=net), os_task("subnet", name=sub, network=net, cidr="10.62.0.0/24"),
            os_task("image", name=image, filename=str(disk), disk_format="raw", container_format="bare")]
    present = [
        *base,
        os_task("server", name=server, image=image, flavor="m1.tiny", network=net, auto_ip=False, wait=True,
                timeout=120, security_groups=["default"]),
        os_task("volume", name=vol, size=1, description="from ansible", metadata={"tier": "gold"}, wait=True),
        os_task("server_volume", server=server, volume=vol, wait=True),
    ]
    results = ansible.twice(present)
    made_server, made_vol, attached = results[3:]
    assert made_server["changed"] and made_server["server"]["status"] == "ACTIVE"
    assert made_vol["changed"] and made_vol["volume"]["size"] == 1 and made_vol["volume"]["status"] == "available"
    assert attached["changed"] and attached["volume"]["id"] == made_vol["volume"]["id"]

    volume = sdk.block_storage.get_volume(made_vol["volume"]["id"])
    assert volume.status == "in-use" and volume.description == "from ansible"
    assert volume.metadata == {"tier": "gold"}
    assert [a["server_id"] for a in volume.attachments] == [made_server["server"]["id"]]
    assert attached["volume"]["status"] == "in-use"
    assert sdk.compute.get_server(made_server["server"]["id"]).status == "ACTIVE"
    seen_by_nova = list(sdk.compute.volume_attachments(made_server["server"]["id"]))
    assert [a.volume_id for a in seen_by_nova] == [volume.id]

    # detaching needs the server and the volume to exist (server_volume fails on a missing one): a play apart
    (detached,) = ansible.twice([os_task("server_volume", server=server, volume=vol, state="absent", wait=True)])
    assert detached["changed"]
    volume = sdk.block_storage.get_volume(volume.id)
    assert volume.status == "available" and volume.attachments == []
    assert list(sdk.compute.volume_attachments(made_server["server"]["id"])) == []

    # a detached volume extended (the one change openstack.cloud.volume makes to a volume) and snapshotted
    extended, snapped = ansible.twice([
        os_task("volume", name=vol, size=2, wait=True),
        os_task("volume_snapshot", name=f"{vol}-snap", volume=vol, description="before deletion", wait=True)])
    assert extended["changed"] and extended["volume"]["size"] == 2
    assert snapped["changed"] and snapped["snapshot"]["volume_id"] == volume.id
    assert snapped["snapshot"]["status"] == "available"
    assert sdk.block_storage.get_volume(volume.id).size == 2
    snapshot = sdk.block_storage.get_snapshot(snapped["snapshot"]["id"])
    assert snapshot.size == 2 and snapshot.description == "before deletion"

    absent = [os_task("volume_snapshot", name=f"{vol}-snap", state="absent", wait=True),
              os_task("volume", name=vol, state="absent", wait=True),
              os_task("server", name=server, state="absent", wait=True),
              os_task("subnet", name=sub, state="absent"), os_task("network", name=net, state="absent"),
              os_task("image", name=image, state="absent")]
    assert all(r["changed"] for r in ansible.twice(absent))
    assert sdk.block_storage.find_volume(vol) is None and sdk.block_storage.find_snapshot(f"{vol}-snap") is None
    assert sdk.compute.find_server(server) is None and sdk.network.find_network(net) is None


HOT = """\
heat_template_version: 2018-08-31
description: a volume and a network, sized and named by parameters
parameters:
  size:
    type: number
    default: 1
  label:
    type: string
resources:
  disk:
    type: OS::Cinder::Volume
    properties:
      size: {get_param: size}
      name: {list_join: ['-', [{get_param: label}, disk]]}
  net:
    type: OS::Neutron::Net
    properties:
      name: {list_join: ['-', [{get_param: label}, net]]}
outputs:
  volume_id:
    value: {get_resource: disk}
  volume_size:
    value: {get_attr: [disk, size]}
  network_name:
    value: {get_attr: [net, name]}
"""


def test_stack_created_read_updated_and_deleted(ansible, sdk, tmp_path):
    stack, label = name("ans-stack"), name("ans")
    template = tmp_path / "stack.yaml"
    template.write_text(HOT)

    def outputs(info: dict) -> dict:
        (only,) = info["stacks"]
        return {o["output_key"]: o["output_value"] for o in only["outputs"]}

    made, info = ansible.play([
        os_task("stack", name=stack, template=str(template), parameters={"size": 1, "label": label}),
        os_task("stack_info", name=stack),
    ])
    assert made["changed"] and made["stack"]["status"] == "CREATE_COMPLETE"
    assert made["stack"]["name"] == stack and made["stack"]["parameters"]["label"] == label
    out = outputs(info)
    assert out["volume_size"] == 1 and out["network_name"] == f"{label}-net"
    volume = sdk.block_storage.get_volume(out["volume_id"])
    assert volume.name == f"{label}-disk" and volume.size == 1 and volume.status == "available"
    assert sdk.orchestration.get_stack(made["stack"]["id"]).status == "CREATE_COMPLETE"

    # openstack.cloud.stack always updates a stack that exists (it cannot know whether an update would change
    # anything), so this play is not idempotent upstream either: it reports changed, as an in-place update.
    updated, info = ansible.play([
        os_task("stack", name=stack, template=str(template), parameters={"size": 2, "label": label}),
        os_task("stack_info", name=stack),
    ])
    assert updated["changed"] and updated["stack"]["status"] == "UPDATE_COMPLETE"
    assert updated["stack"]["id"] == made["stack"]["id"]
    out = outputs(info)
    assert out["volume_size"] == 2 and out["volume_id"] == volume.id
    assert sdk.block_storage.get_volume(volume.id).size == 2

    (deleted,) = ansible.twice([os_task("stack", name=stack, state="absent", wait=True)])
    assert deleted["changed"]
    assert sdk.block_storage.find_volume(f"{label}-disk") is None and sdk.network.find_network(f"{label}-net") is None
    (listed,) = ansible.play([os_task("stack_info", name=stack)])
    assert listed["stacks"] == [] and not listed["changed"]
