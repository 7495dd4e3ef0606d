"""The network data plane with real guests: from ``server create`` to the first ping reply on the server's
floating IP from a namespace on the external network (the user's "my first instance answers ping"), and
from ``security-group-rule create`` to the first reply from a guest whose group let nothing in before.
Pings go out every 50 ms; every packet stays inside this machine's namespaces.

Beside each VM, in the same rounds: onestack-tiny-container as a container instance on the same private
network, in a group letting HTTP and ICMP in, behind a floating IP of its own: ``server create`` →
``ACTIVE``, and → the first HTTP answer (its page, with its marker) on the floating IP, asked every 50 ms
from the same outside namespace, each try on a new connection.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import time
import uuid

from bench.compute import Client, _token
from bench.targets import Onestack
from onestack.drivers.runc import runtime
from onestack.guestimage import container
from tests.dataplane.kernel import Namespace

NOVA = {"X-OpenStack-Nova-API-Version": "2.1"}
OUTSIDE = "203.0.113.1"


def _setup(api: Client, bridge: str) -> dict:
    """The external network on ``bridge``, a private network routed to it, a group that lets ICMP in."""
    def make(plural: str, **body) -> dict:
        singular = plural[:-1].replace("-", "_")
        return api.call("POST", f"/network/v2.0/{plural}", {singular: body})[singular]

    ext = make("networks", name="public", **{"router:external": True, "provider:network_type": "flat",
                                            "provider:physical_network": "public"})
    make("subnets", network_id=ext["id"], cidr="203.0.113.0/24", ip_version=4, enable_dhcp=False,
         gateway_ip=OUTSIDE, allocation_pools=[{"start": "203.0.113.10", "end": "203.0.113.200"}])
    net = make("networks", name="private")
    subnet = make("subnets", network_id=net["id"], cidr="10.0.0.0/24", ip_version=4)
    router = make("routers", name="router1", external_gateway_info={"network_id": ext["id"]})
    api.call("PUT", f"/network/v2.0/routers/{router['id']}/add_router_interface", {"subnet_id": subnet["id"]})
    pingable = make("security-groups", name="pingable")
    make("security-group-rules", security_group_id=pingable["id"], direction="ingress", ethertype="IPv4",
         protocol="icmp")
    web = make("security-groups", name="web")  # the container's: its page and ping
    make("security-group-rules", security_group_id=web["id"], direction="ingress", ethertype="IPv4",
         protocol="tcp", port_range_min=80, port_range_max=80)
    make("security-group-rules", security_group_id=web["id"], direction="ingress", ethertype="IPv4",
         protocol="icmp")
    bare = make("security-groups", name="bare")  # egress only, as every new group
    return {"make": make, "external": ext["id"], "network": net["id"], "pingable": pingable["id"],
            "web": web["id"], "bare": bare["id"]}


def _port(where: dict, group: str) -> tuple[dict, dict]:
    """A port on the private network in ``group``, and a floating IP on it."""
    port = where["make"]("ports", network_id=where["network"], security_groups=[group])
    return port, where["make"]("floatingips", floating_network_id=where["external"], port_id=port["id"])


def _boot(api: Client, image_id: str, port: dict) -> str:
    body = {"server": {"name": "bench", "imageRef": image_id, "flavorRef": "42",
                       "networks": [{"port": port["id"]}]}}
    return api.call("POST", "/compute/v2.1/servers", body, NOVA)["server"]["id"]


def _delete(api: Client, server_id: str, fip: dict) -> None:
    api.call("DELETE", f"/compute/v2.1/servers/{server_id}", headers=NOVA)
    api.call("DELETE", f"/network/v2.0/floatingips/{fip['id']}")


def _container_round(api: Client, image_id: str, where: dict, outside: Namespace) -> tuple[float, float]:
    """(create → ACTIVE, create → first HTTP answer on its floating IP) of one container, then deleted."""
    port, fip = _port(where, where["web"])
    address = fip["floating_ip_address"]
    probe = outside.first_http_answer(address, container.MARKER, seconds=120)
    server_id = None
    try:
        posted = time.monotonic()
        server_id = _boot(api, image_id, port)
        active = api.wait_active(server_id, NOVA, posted, 120, 0.02)
        answered = outside.answered(probe, seconds=120)
        if answered < posted:
            raise RuntimeError(f"{address} answered before its container was asked for")
        return active, answered - posted
    finally:
        probe.kill()
        probe.wait()
        if server_id:
            _delete(api, server_id, fip)
        else:
            api.call("DELETE", f"/network/v2.0/floatingips/{fip['id']}")
        api.call("DELETE", f"/network/v2.0/ports/{port['id']}")


def measure(quick: bool) -> dict:
    rounds = 2 if quick else 5
    tag = uuid.uuid4().hex[:6]
    vni = random.randrange(100000, 16000000)
    bridge = f"brx{tag}"
    target = Onestack({"compute": {"driver": "qemu"}, "network": {
        "dataplane": True, "defaults": False, "physical_networks": {"public": bridge},
        "vni_ranges": [[vni, vni + 9]]}}, name="onestack-dataplane")
    target.start()
    outside = None
    try:
        target._run("image", "register")
        api = Client(target.base, _token(target))
        image_id = api.call("GET", "/image/v2/images?name=onestack-tiny")["images"][0]["id"]
        container_id = api.call("GET", f"/image/v2/images?name={container.IMAGE_NAME}")["images"][0]["id"]
        runs_containers = runtime.installed() and os.geteuid() == 0  # as compute.containers "auto" decides
        where = _setup(api, bridge)
        deadline = time.monotonic() + 30
        while subprocess.run(["ip", "link", "show", bridge], capture_output=True).returncode:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the data plane did not make {bridge}")
            time.sleep(0.1)
        outside = Namespace(bridge)
        outside.address(f"{OUTSIDE}/24")

        first_ping, container_active, container_http = [], [], []
        for _ in range(rounds):  # a VM then a container each round: both see the same machine load
            port, fip = _port(where, where["pingable"])
            booted: list[str] = []
            first_ping.append(outside.first_reply(fip["floating_ip_address"],
                                                  lambda port=port, booted=booted: booted.append(
                                                      _boot(api, image_id, port)), seconds=240))
            _delete(api, booted[0], fip)
            if runs_containers:
                active, http = _container_round(api, container_id, where, outside)
                container_active.append(active)
                container_http.append(http)

        port, fip = _port(where, where["bare"])
        server_id = _boot(api, image_id, port)
        api.wait_active(server_id, NOVA, time.monotonic(), 240, 0.2)
        time.sleep(10)  # booted and quiet: only the rule stands between the outside and the guest
        rule_effect = []
        for _ in range(rounds):
            rule: list[str] = []

            def allow(rule=rule):
                rule.append(where["make"]("security-group-rules", security_group_id=where["bare"],
                                          direction="ingress", ethertype="IPv4", protocol="icmp")["id"])

            rule_effect.append(outside.first_reply(fip["floating_ip_address"], allow, seconds=30))
            api.call("DELETE", f"/network/v2.0/security-group-rules/{rule[0]}")
            deadline = time.monotonic() + 30
            while outside.pings(fip["floating_ip_address"]):  # closed again before the next round
                if time.monotonic() > deadline:
                    raise RuntimeError("the guest still answers with its rule deleted")
        _delete(api, server_id, fip)
    finally:
        if outside is not None:
            outside.close()
        target.purge()

    def series(name: str, runs: list[float]) -> dict:
        return {f"{name}_median": round(statistics.median(runs), 2), name: [round(s, 2) for s in runs]}

    return {**series("create_to_first_ping_seconds", first_ping),
            **series("rule_create_to_first_reply_seconds", rule_effect),
            **({**series("container_create_to_active_seconds", container_active),
                **series("container_create_to_first_http_seconds", container_http),
                "vm_ping_over_container_http": round(statistics.median(first_ping)
                                                     / statistics.median(container_http), 1)}
               if container_http else {"container": "runc cannot run containers on this machine"})}


def table(found: dict) -> str:
    return "\n".join([
        "network data plane (real guests, TCG, ping every 50 ms from a namespace on the external network)",
        f"  server create → first reply on its floating IP (s)    {found['create_to_first_ping_seconds_median']:>8}",
        f"  security-group-rule create → first reply (s)          "
        f"{found['rule_create_to_first_reply_seconds_median']:>8}",
        *([f"  container create → ACTIVE (s)                         "
           f"{found['container_create_to_active_seconds_median']:>8}",
           f"  container create → first HTTP answer on its FIP (s)   "
           f"{found['container_create_to_first_http_seconds_median']:>8}",
           f"  VM first ping / container first HTTP answer           "
           f"{found['vm_ping_over_container_http']:>8}x"]
          if "container_create_to_first_http_seconds_median" in found else [f"  container: {found.get('container')}"]),
    ])
