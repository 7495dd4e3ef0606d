"""Orchestration: a 100-resource stack (networks, subnets, ports and servers on the fake compute driver)
created, updated in one property, and deleted through the Heat API, each timed from the request to the
stack's ``*_COMPLETE``.  The update changes one server's metadata through a parameter only that server
reads: the figure is how many resources the update touched (events of an ``UPDATE`` action), which
should be one, with every physical resource kept.  Quotas are lifted for the admin project."""

from __future__ import annotations

import json
import time
import urllib.request

import yaml

from bench.targets import Onestack, password_body, rss_mb

NETWORKS = 10
PORTS_PER_NETWORK = 4  # each with a server on it: 10 + 10 + 40 + 40 = 100 resources
POLL = 0.1


class Client:
    def __init__(self, target: Onestack):
        req = urllib.request.Request(f"{target.identity}/auth/tokens", method="POST",
                                     data=password_body("admin", target.admin_password(), "admin"),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            self.token = resp.headers["X-Subject-Token"]
            self.project = json.loads(resp.read())["token"]["project"]["id"]
        self.base = target.base

    def call(self, method: str, path: str, body=None, headers: dict | None = None, data: bytes | None = None):
        req = urllib.request.Request(f"{self.base}{path}", method=method,
                                     data=data if data is not None else (json.dumps(body).encode() if body else None),
                                     headers={"X-Auth-Token": self.token, "Content-Type": "application/json",
                                              **(headers or {})})
        with urllib.request.urlopen(req, timeout=120) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else {}

    def heat(self, method: str, path: str, body=None):
        return self.call(method, f"/orchestration/v1/{self.project}{path}", body)


def template() -> str:
    """``NETWORKS`` networks with a subnet each, ``PORTS_PER_NETWORK`` ports on each and a server per port.
    Only ``server-0-0`` reads the ``tag`` parameter."""
    resources: dict = {}
    for n in range(NETWORKS):
        resources[f"net-{n}"] = {"type": "OS::Neutron::Net"}
        resources[f"subnet-{n}"] = {"type": "OS::Neutron::Subnet", "properties": {
            "network": {"get_resource": f"net-{n}"}, "cidr": f"10.{n}.0.0/24"}}
        for p in range(PORTS_PER_NETWORK):
            resources[f"port-{n}-{p}"] = {"type": "OS::Neutron::Port",
                                          "properties": {"network": {"get_resource": f"net-{n}"}}}
            metadata = {"tag": {"get_param": "tag"}} if (n, p) == (0, 0) else {"tag": "fixed"}
            resources[f"server-{n}-{p}"] = {"type": "OS::Nova::Server", "properties": {
                "image": {"get_param": "image"}, "flavor": "m1.tiny", "metadata": metadata,
                "networks": [{"port": {"get_resource": f"port-{n}-{p}"}}]}}
    return yaml.safe_dump({"heat_template_version": "2018-08-31",
                           "parameters": {"image": {"type": "string"}, "tag": {"type": "string"}},
                           "resources": resources,
                           "outputs": {"address": {"value": {"get_attr": ["server-0-0", "first_address"]}}}})


def _settle(api: Client, path: str, action: str) -> float:
    """Poll the stack until ``action`` is over; the moment it was seen over."""
    while True:
        stack = api.heat("GET", path)["stack"]
        if stack["stack_status"] != f"{action}_IN_PROGRESS":
            if stack["stack_status"] != f"{action}_COMPLETE":
                raise RuntimeError(f"{stack['stack_status']}: {stack['stack_status_reason']}")
            return time.perf_counter()
        time.sleep(POLL)


def _physical(api: Client, path: str) -> dict[str, str]:
    return {r["resource_name"]: r["physical_resource_id"] for r in api.heat("GET", f"{path}/resources")["resources"]}


def measure(quick: bool) -> dict:
    target = Onestack({"compute": {"driver": "fake", "fake_hosts": 10},
                       "network": {"quotas": {"port": -1, "network": -1, "subnet": -1}}},
                      name="onestack-orchestration")
    target.start()
    try:
        api = Client(target)
        api.call("PUT", f"/compute/v2.1/os-quota-sets/{api.project}",
                 {"quota_set": {"instances": -1, "cores": -1, "ram": -1}})
        image = api.call("POST", "/image/v2/images", {"name": "bench", "disk_format": "raw",
                                                      "container_format": "bare", "visibility": "public"})["id"]
        api.call("PUT", f"/image/v2/images/{image}/file", data=b"\0" * 4096,
                 headers={"Content-Type": "application/octet-stream"})
        runs = []
        for attempt in range(1 if quick else 3):
            name = f"bench-{attempt}"
            text = template()
            started = time.perf_counter()
            made = api.heat("POST", "/stacks", {"stack_name": name, "template": text, "timeout_mins": 10,
                                                "parameters": {"image": image, "tag": "a"}})["stack"]
            path = f"/stacks/{name}/{made['id']}"
            created = _settle(api, path, "CREATE") - started
            before = _physical(api, path)
            if len(before) != 2 * NETWORKS * (1 + PORTS_PER_NETWORK):
                raise RuntimeError(f"the stack has {len(before)} resources")
            events_before = {e["id"] for e in api.heat("GET", f"{path}/events?limit=10000")["events"]}
            started = time.perf_counter()
            api.heat("PATCH", path, {"parameters": {"tag": "b"}})
            updated = _settle(api, path, "UPDATE") - started
            events = [e for e in api.heat("GET", f"{path}/events?limit=10000")["events"]
                      if e["id"] not in events_before and e["resource_name"] != name]
            touched = sorted({e["resource_name"] for e in events})
            if _physical(api, path) != before:
                raise RuntimeError("the update replaced resources")
            server = api.call("GET", f"/compute/v2.1/servers/{before['server-0-0']}")["server"]
            if server["metadata"] != {"tag": "b"}:
                raise RuntimeError(f"the update did not reach the server: {server['metadata']}")
            started = time.perf_counter()
            api.heat("DELETE", path)
            deleted = _settle(api, path, "DELETE") - started
            if api.call("GET", "/compute/v2.1/servers")["servers"]:
                raise RuntimeError("servers remain after the stack's delete")
            runs.append({"create_seconds": round(created, 2), "update_seconds": round(updated, 2),
                         "delete_seconds": round(deleted, 2), "update_touched": touched})
        best = min(runs, key=lambda r: r["create_seconds"] + r["update_seconds"] + r["delete_seconds"])
        return {"resources": len(before), "driver": "fake", "runs": runs,
                "create_seconds": best["create_seconds"], "update_seconds": best["update_seconds"],
                "delete_seconds": best["delete_seconds"], "update_touched": best["update_touched"],
                "rss_mb_after": rss_mb(target.pids())}
    finally:
        target.stop()


def table(found: dict) -> str:
    lines = [f"orchestration: a {found['resources']}-resource stack (networks, subnets, ports, servers on the "
             f"fake driver), best of {len(found['runs'])}"]
    lines.append(f"  create -> CREATE_COMPLETE: {found['create_seconds']} s")
    lines.append(f"  one-property update -> UPDATE_COMPLETE: {found['update_seconds']} s, touching "
                 f"{len(found['update_touched'])} resource(s): {', '.join(found['update_touched'])}")
    lines.append(f"  delete -> DELETE_COMPLETE: {found['delete_seconds']} s")
    lines.append(f"  RSS after: {found['rss_mb_after']} MB")
    return "\n".join(lines)


# -- a real guest: stack create -> first ping, beside the same resources made one by one with the CLI -------
GUEST_TEMPLATE = """
heat_template_version: 2018-08-31
parameters:
  public_net: {type: string}
  image: {type: string}
  cidr: {type: string}
  address: {type: string}
resources:
  net: {type: OS::Neutron::Net}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: {get_param: cidr}}
  router:
    type: OS::Neutron::Router
    properties: {external_gateway_info: {network: {get_param: public_net}}}
  iface:
    type: OS::Neutron::RouterInterface
    properties: {router: {get_resource: router}, subnet: {get_resource: subnet}}
  guard:
    type: OS::Neutron::SecurityGroup
    properties: {rules: [{protocol: icmp}]}
  port:
    type: OS::Neutron::Port
    properties: {network: {get_resource: net}, security_groups: [{get_resource: guard}]}
  server:
    type: OS::Nova::Server
    properties: {image: {get_param: image}, flavor: m1.nano, networks: [{port: {get_resource: port}}]}
  fip:
    type: OS::Neutron::FloatingIP
    properties: {floating_network: {get_param: public_net}, port_id: {get_resource: port},
                 floating_ip_address: {get_param: address}}
"""


def _openstack(target: Onestack, *args: str) -> str:
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    exe = shutil.which("openstack", path=str(Path(sys.executable).parent)) or "openstack"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["OS_CLIENT_CONFIG_FILE"] = str(target.data_dir / "clouds.yaml")
    done = subprocess.run([exe, "--os-cloud", "onestack-admin", *args], env=env, capture_output=True, text=True,
                          timeout=300)
    if done.returncode:
        raise RuntimeError(f"openstack {' '.join(args)}: {done.stderr}")
    return done.stdout.strip()


def _by_hand(target: Onestack, image: str, cidr: str, address: str, tag: str) -> None:
    """The stack's resources, one `openstack` command each, as a user without Heat would make them."""
    o = _openstack
    o(target, "network", "create", f"net-{tag}")
    o(target, "subnet", "create", "--network", f"net-{tag}", "--subnet-range", cidr, f"subnet-{tag}")
    o(target, "router", "create", "--external-gateway", "public", f"router-{tag}")
    o(target, "router", "add", "subnet", f"router-{tag}", f"subnet-{tag}")
    o(target, "security", "group", "create", f"guard-{tag}")
    o(target, "security", "group", "rule", "create", "--protocol", "icmp", f"guard-{tag}")
    o(target, "port", "create", "--network", f"net-{tag}", "--security-group", f"guard-{tag}", f"port-{tag}")
    o(target, "server", "create", "--image", image, "--flavor", "m1.nano", "--port", f"port-{tag}", f"vm-{tag}")
    o(target, "floating", "ip", "create", "--floating-ip-address", address, "--port", f"port-{tag}", "public")


def measure_guest(quick: bool) -> dict:
    """A cloud with QEMU guests and the kernel data plane; the outside world is a namespace on the external
    bridge.  Each round: `openstack stack create` (no --wait) of the template above -> the first ping reply
    on its floating IP; then the same resources made one by one with the CLI -> the first reply."""
    import random
    import statistics
    import subprocess
    import tempfile
    import uuid

    from bench.compute import Client as Nova
    from bench.compute import _token
    from bench.dataplane import OUTSIDE
    from tests.dataplane.kernel import Namespace

    rounds = 1 if quick else 2
    tag = uuid.uuid4().hex[:6]
    vni = random.randrange(100000, 16000000)
    bridge = f"brs{tag}"
    target = Onestack({"compute": {"driver": "qemu"}, "network": {
        "dataplane": True, "defaults": False, "physical_networks": {"public": bridge},
        "vni_ranges": [[vni, vni + 49]]}}, name="onestack-stack-guest")
    target.start()
    outside = None
    stack_runs, cli_runs = [], []
    try:
        target._run("image", "register")
        api = Nova(target.base, _token(target))
        image = api.call("GET", "/image/v2/images?name=onestack-tiny")["images"][0]["id"]
        ext = api.call("POST", "/network/v2.0/networks", {"network": {
            "name": "public", "router:external": True, "provider:network_type": "flat",
            "provider:physical_network": "public"}})["network"]
        api.call("POST", "/network/v2.0/subnets", {"subnet": {
            "network_id": ext["id"], "cidr": "203.0.113.0/24", "ip_version": 4, "enable_dhcp": False,
            "gateway_ip": OUTSIDE, "allocation_pools": [{"start": "203.0.113.10", "end": "203.0.113.200"}]}})
        # the external bridge, made now as an operator makes br-ex (the data plane uses it as it is): the
        # outside's namespace must be on it before the first router is
        subprocess.run(["ip", "link", "add", bridge, "type", "bridge", "forward_delay", "0", "stp_state", "0"],
                       check=True)
        subprocess.run(["ip", "link", "set", bridge, "up"], check=True)
        outside = Namespace(bridge)
        outside.address(f"{OUTSIDE}/24")
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write(GUEST_TEMPLATE)
        for i in range(rounds):
            address = f"203.0.113.{150 + 2 * i}"
            stack_runs.append(outside.first_reply(address, lambda i=i, address=address: _openstack(
                target, "stack", "create", "-t", f.name, "--parameter", "public_net=public", "--parameter",
                f"image={image}", "--parameter", f"cidr=10.{100 + 2 * i}.0.0/24", "--parameter",
                f"address={address}", f"guest-{i}"), seconds=400))
            address = f"203.0.113.{151 + 2 * i}"
            cli_runs.append(outside.first_reply(address, lambda i=i, address=address: _by_hand(
                target, image, f"10.{101 + 2 * i}.0.0/24", address, f"{tag}{i}"), seconds=400))
    finally:
        if outside is not None:
            outside.close()
        target.purge()
        subprocess.run(["ip", "link", "del", bridge], capture_output=True)
    return {"rounds": rounds,
            "stack_create_to_first_ping_seconds": [round(s, 2) for s in stack_runs],
            "stack_create_to_first_ping_median": round(statistics.median(stack_runs), 2),
            "cli_one_by_one_to_first_ping_seconds": [round(s, 2) for s in cli_runs],
            "cli_one_by_one_to_first_ping_median": round(statistics.median(cli_runs), 2)}


def guest_table(found: dict) -> str:
    return "\n".join([
        "orchestration with a real guest (TCG, kernel data plane; network, subnet, router, group, port, server, "
        "floating IP)",
        f"  `openstack stack create` -> first ping reply on the floating IP (s)  "
        f"{found['stack_create_to_first_ping_median']:>8}",
        f"  the same, one `openstack` command per resource (s)                    "
        f"{found['cli_one_by_one_to_first_ping_median']:>8}",
    ])
