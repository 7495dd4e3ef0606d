"""A stack with a real guest, through the `openstack stack ...` CLI: a network behind a router to the external
network, a security group letting ICMP and SSH in, a key pair, a port, a QEMU server whose user data (a
script: onestack-tiny has no cloud-init) prints a line and signals a wait condition, and a floating IP.
`openstack stack create --wait` completes only once the guest has signalled, the output gives the floating
IP, the guest answers ping on it, its console shows the user data ran, and `stack delete` leaves nothing.

The guest signals the handle's endpoint, a URL under the cloud's ``public_url``: the cloud serves on an
address the host holds on the external bridge (as an operator's ``br-ex`` holds the public gateway), which
the guest reaches through its router's SNAT, as a guest reaches Heat's public endpoint in OpenStack.
"""

from __future__ import annotations

import json
import random
import subprocess
import time
import uuid

import httpx
import pytest
import yaml

from tests.api.helpers import ok, upload_image, wait
from tests.cloudfixture import Cloud
from tests.dataplane.kernel import require_dataplane, sh
from tests.drivers.conftest import tiny_image  # noqa: F401
from tests.openstackcli import openstack_cli

pytestmark = [pytest.mark.qemu, pytest.mark.dataplane, pytest.mark.xdist_group("dataplane")]

GATEWAY = "100.77.0.1"  # the host's address on the external bridge, where the cloud serves

TEMPLATE = """
heat_template_version: 2018-08-31
description: a guest behind a router, reachable on a floating IP, that tells the stack it booted
parameters:
  public_net: {type: string}
  image: {type: string}
  flavor: {type: string, default: m1.nano}
resources:
  key:
    type: OS::Nova::KeyPair
    properties: {name: {get_param: "OS::stack_name"}}
  net: {type: OS::Neutron::Net}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: 10.83.0.0/24}
  router:
    type: OS::Neutron::Router
    properties: {external_gateway_info: {network: {get_param: public_net}}}
  iface:
    type: OS::Neutron::RouterInterface
    properties: {router: {get_resource: router}, subnet: {get_resource: subnet}}
  guard:
    type: OS::Neutron::SecurityGroup
    properties:
      rules:
        - {protocol: icmp}
        - {protocol: tcp, port_range_min: 22, port_range_max: 22}
  port:
    type: OS::Neutron::Port
    properties: {network: {get_resource: net}, security_groups: [{get_resource: guard}]}
  handle: {type: OS::Heat::WaitConditionHandle}
  booted:
    type: OS::Heat::WaitCondition
    properties: {handle: {get_resource: handle}, timeout: 600}
  server:
    type: OS::Nova::Server
    depends_on: iface
    properties:
      image: {get_param: image}
      flavor: {get_param: flavor}
      key_name: {get_resource: key}
      networks: [{port: {get_resource: port}}]
      user_data_format: RAW
      user_data:
        str_replace:
          template: |
            #!/bin/sh
            echo "onestack-test: user-data ran on $(hostname)"
            n=0
            while [ $n -lt 90 ]; do
                if timeout 10 wget -q -O /dev/null --header "X-Auth-Token: $TOKEN" \\
                        --header "Content-Type: application/json" \\
                        --post-data '{"status": "SUCCESS", "reason": "booted", "data": "ran", "id": "guest"}' \\
                        "$ENDPOINT"; then
                    echo "onestack-test: signalled"
                    exit 0
                fi
                n=$((n + 1))
                sleep 2
            done
            echo "onestack-test: could not signal"
          params:
            $TOKEN: {get_attr: [handle, token]}
            $ENDPOINT: {get_attr: [handle, endpoint]}
  fip:
    type: OS::Neutron::FloatingIP
    depends_on: iface
    properties: {floating_network: {get_param: public_net}, port_id: {get_resource: port}}
outputs:
  floating_ip: {value: {get_attr: [fip, floating_ip_address]}}
  signalled: {value: {get_attr: [booted, data]}}
  server: {value: {get_resource: server}}
"""


class BridgedCloud(Cloud):
    """A cloud serving on the host's address on the external bridge (its ``public_url``), not on loopback."""

    @property
    def url(self) -> str:
        return f"http://{GATEWAY}:{self.port}"

    def start(self) -> BridgedCloud:
        self.home.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "onestack.yaml").write_text(yaml.safe_dump({**self.settings, "public_url": self.url}))
        self.onestack("up", "--bind", f"{GATEWAY}:{self.port}", "--detach", "--no-user-clouds")
        return self


def run(cloud: Cloud, *args: str) -> str:
    """What an `openstack` command as the demo member prints."""
    done = openstack_cli(["--os-cloud", "onestack", *args], cloud.env)
    assert done.returncode == 0, f"openstack {' '.join(args)}: {done.stderr}"
    return done.stdout


def openstack(cloud: Cloud, *args: str):
    """The JSON answer of an `openstack` command (``--wait`` prints events before it)."""
    lines = run(cloud, *args, "-f", "json").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(("{", "[")))
    return json.loads("\n".join(lines[start:]))


def pings(address: str) -> bool:
    return subprocess.run(["busybox", "ping", "-c", "1", "-W", "1", address], capture_output=True).returncode == 0


def test_a_stack_with_a_real_guest_that_signals_answers_ping_on_its_floating_ip(tmp_path, tiny_image):  # noqa: F811
    require_dataplane()
    tag = uuid.uuid4().hex[:6]
    bridge, vni = f"brh{tag}", random.randrange(100000, 16000000)
    # the external bridge, as an operator makes br-ex: the host's address on it is the external gateway
    sh("ip", "link", "add", bridge, "type", "bridge", "forward_delay", "0", "stp_state", "0")
    cloud = None
    try:
        sh("ip", "addr", "add", f"{GATEWAY}/24", "dev", bridge)
        sh("ip", "link", "set", bridge, "up")
        cloud = BridgedCloud(tmp_path / "data", settings={"compute": {"driver": "qemu"}, "network": {
            "dataplane": True, "physical_networks": {"public": bridge}, "vni_ranges": [[vni, vni + 9]]}})
        cloud.start()
        public = f"public-{tag}"
        with httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": cloud.token()}, timeout=120) as admin:
            ext = ok(admin.post("/network/v2.0/networks", json={"network": {
                "name": public, "router:external": True, "provider:network_type": "flat",
                "provider:physical_network": "public"}}), 201)["network"]
            ok(admin.post("/network/v2.0/subnets", json={"subnet": {
                "network_id": ext["id"], "cidr": "100.77.0.0/24", "ip_version": 4, "enable_dhcp": False,
                "gateway_ip": GATEWAY, "allocation_pools": [{"start": "100.77.0.10", "end": "100.77.0.99"}]}}),
               201)
            image = upload_image(admin, tiny_image.path)["id"]
            ok(admin.patch(f"/image/v2/images/{image}", json=[{"op": "replace", "path": "/visibility",
                                                                "value": "public"}],
                           headers={"Content-Type": "application/openstack-images-v2.1-json-patch"}))
        template = tmp_path / "guest.yaml"
        template.write_text(TEMPLATE)

        started = time.monotonic()
        made = openstack(cloud, "stack", "create", "-t", str(template), "--parameter", f"public_net={public}",
                         "--parameter", f"image={image}", "--timeout", "15", "--wait", "guest")
        assert made["stack_status"] == "CREATE_COMPLETE", made
        created = time.monotonic() - started
        fip = openstack(cloud, "stack", "output", "show", "guest", "floating_ip")["output_value"]
        assert fip.startswith("100.77.0.")
        # the wait condition's data: the guest's own signal, sent through its router to the cloud
        assert json.loads(openstack(cloud, "stack", "output", "show", "guest", "signalled")["output_value"]) == \
            {"guest": "ran"}
        wait(lambda: pings(fip), 120, f"the guest to answer ping on {fip}", every=0.5)
        answered = time.monotonic() - started
        server = openstack(cloud, "stack", "output", "show", "guest", "server")["output_value"]
        console = run(cloud, "console", "log", "show", server)
        assert "onestack-test: user-data ran on guest-server-" in console, console
        assert "onestack-test: signalled" in console
        print(f"stack create --wait (guest signalled): {created:.1f}s; first ping on its floating IP: "
              f"{answered:.1f}s")

        run(cloud, "stack", "delete", "--yes", "--wait", "guest")
        assert openstack(cloud, "server", "list") == []
        assert openstack(cloud, "router", "list") == []
        assert openstack(cloud, "port", "list") == []
        assert not pings(fip)
    finally:
        if cloud is not None:
            cloud.purge(check=False)
        sh("ip", "link", "del", bridge, check=False)
