"""Real guests behind a router: two guests of one project ping each other, a guest with no floating IP
reaches the outside through the router's SNAT, the outside reaches a guest's floating IP only once its
security group lets ICMP (and SSH) in, and a guest of another project on the same CIDR, with the same
address as one of them, reaches neither of the first project's guests.

Each guest's user data probes addresses from inside the guest and prints one line per probe on its
serial console; the outside world is a namespace of the test's own on the external bridge, holding the
external subnet's gateway address and no route to any tenant subnet.
"""

from __future__ import annotations

import random
import time
import uuid

import httpx
import pytest

from tests.api.helpers import console_output, member_of_new_project, ok, upload_image, wait
from tests.api.test_diagnose import diagnose
from tests.cloudfixture import Cloud
from tests.dataplane import probes
from tests.dataplane.kernel import Namespace, link_index, require_dataplane

pytestmark = [pytest.mark.qemu, pytest.mark.dataplane, pytest.mark.xdist_group("dataplane")]
NOVA = {"X-OpenStack-Nova-API-Version": "2.1"}
OUTSIDE = "203.0.113.1"
CIDR = "10.81.0.0/24"

class Tenant:
    """One project's view of the cloud: its Nova and Neutron clients."""

    def __init__(self, cloud: Cloud, token: str):
        headers = {"X-Auth-Token": token}
        self.nova = httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={**headers, **NOVA}, timeout=120)
        self.neutron = httpx.Client(base_url=f"{cloud.url}/network/v2.0", headers=headers, timeout=60)

    def create(self, plural: str, **body) -> dict:
        singular = plural[:-1].replace("-", "_")
        return ok(self.neutron.post(f"/{plural}", json={singular: body}), 201)[singular]

    def boot(self, name: str, image: str, port: dict, user_data: str) -> str:
        body = {"server": {"name": name, "imageRef": image, "flavorRef": "42", "user_data": user_data,
                           "networks": [{"port": port["id"]}]}}
        return ok(self.nova.post("/servers", json=body), 202)["server"]["id"]

    def console(self, server_id: str) -> str:
        return console_output(self.nova, server_id)

    def reports(self, server_id: str, count: int) -> dict[str, str]:
        """The guest's probe lines (``probes.found``) once it has printed ``count`` of them."""
        return wait(lambda: probes.found(self.console(server_id), count), 300,
                    f"{count} probe lines on {server_id}'s console", every=1)

    def close(self) -> None:
        self.nova.close()
        self.neutron.close()


def address(port: dict) -> str:
    return port["fixed_ips"][0]["ip_address"]


def answers_ssh(outside: Namespace, where: str) -> bool:
    """Whether a TCP connection from the outside to ``where``:22 gets dropbear's greeting."""
    code = (f"import socket; s = socket.create_connection(({where!r}, 22), timeout=2); "
            "print(s.recv(64).decode(errors='replace'))")
    done = outside.run("python3", "-c", code, check=False, timeout=15)
    return done.returncode == 0 and done.stdout.startswith("SSH-2.0-")


def test_guests_behind_a_router_reach_each_other_the_outside_and_are_reached_only_as_their_groups_allow(
        tmp_path, tiny_image):
    require_dataplane()
    tag = uuid.uuid4().hex[:6]
    vni = random.randrange(100000, 16000000)
    cloud = Cloud(tmp_path / "data", settings={"compute": {"driver": "qemu"}, "network": {
        "dataplane": True, "physical_networks": {"public": f"brx{tag}"}, "vni_ranges": [[vni, vni + 9]]}}).start()
    admin = Tenant(cloud, cloud.token())
    outside = None
    tenants = [admin]
    try:
        with httpx.Client(base_url=f"{cloud.url}/identity/v3", headers={"X-Auth-Token": cloud.token()}) as keystone:
            _, _, other_token = member_of_new_project(cloud, keystone)
        other = Tenant(cloud, other_token)
        tenants.append(other)
        with httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": cloud.token()}, timeout=120) as glance:
            image = upload_image(glance, tiny_image.path)["id"]
            ok(glance.patch(f"/image/v2/images/{image}", json=[{"op": "replace", "path": "/visibility",
                                                                 "value": "public"}],
                            headers={"Content-Type": "application/openstack-images-v2.1-json-patch"}))

        ext = admin.create("networks", name="public", **{"router:external": True, "provider:network_type": "flat",
                                                          "provider:physical_network": "public"})
        admin.create("subnets", network_id=ext["id"], cidr="203.0.113.0/24", ip_version=4, enable_dhcp=False,
                     gateway_ip=OUTSIDE, allocation_pools=[{"start": "203.0.113.10", "end": "203.0.113.99"}])
        net = admin.create("networks", name="private")
        subnet = admin.create("subnets", network_id=net["id"], cidr=CIDR, ip_version=4)
        router = admin.create("routers", name="router1", external_gateway_info={"network_id": ext["id"]})
        ok(admin.neutron.put(f"/routers/{router['id']}/add_router_interface", json={"subnet_id": subnet["id"]}))
        default = ok(admin.neutron.get("/security-groups", params={"name": "default",
                                                                   "project_id": net["project_id"]}))
        default = default["security_groups"][0]["id"]
        pingable = admin.create("security-groups", name="pingable")
        admin.create("security-group-rules", security_group_id=pingable["id"], direction="ingress",
                     ethertype="IPv4", protocol="icmp")
        a = admin.create("ports", network_id=net["id"], security_groups=[default, pingable["id"]])
        b = admin.create("ports", network_id=net["id"])

        other_net = other.create("networks", name="private")
        other_subnet = other.create("subnets", network_id=other_net["id"], cidr=CIDR, ip_version=4)
        # the same address as b, on the other project's network with the same CIDR
        c = other.create("ports", network_id=other_net["id"],
                         fixed_ips=[{"subnet_id": other_subnet["id"], "ip_address": address(b)}])
        other_dhcp = wait(lambda: ok(other.neutron.get("/ports", params={
            "network_id": other_net["id"], "device_owner": "network:dhcp"}))["ports"], 30, "the other DHCP port")

        wait(lambda: link_index(f"brx{tag}"), 30, "the external bridge")
        outside = Namespace(f"brx{tag}")
        outside.address(f"{OUTSIDE}/24")  # the "internet": no route to any tenant subnet
        a_fip = admin.create("floatingips", floating_network_id=ext["id"], port_id=a["id"])["floating_ip_address"]

        created = time.monotonic()
        a_id = admin.boot("a", image, a, probes.user_data((address(b), 90), (OUTSIDE, 30), neighbours=(address(b),)))
        wait(lambda: outside.pings(a_fip), 240, "the first guest to answer ping on its floating IP", every=0)
        first_ping = time.monotonic() - created
        b_id = admin.boot("b", image, b, probes.user_data((address(a), 90), (OUTSIDE, 30)))
        c_id = other.boot("c", image, c, probes.user_data((address(other_dhcp[0]), 90), (address(a), 3)))

        a_saw, b_saw, c_saw = admin.reports(a_id, 3), admin.reports(b_id, 2), other.reports(c_id, 2)
        # two guests of one network reach each other, and b's address there is b, not the other project's c
        assert a_saw[f"reach {address(b)}"] == "yes" and b_saw[f"reach {address(a)}"] == "yes", (a_saw, b_saw)
        assert a_saw[f"neigh {address(b)}"] == f"lladdr {b['mac_address']}", a_saw
        # b has no floating IP: only the router's SNAT can bring the outside's reply back
        assert b_saw[f"reach {OUTSIDE}"] == "yes", b_saw
        # the other project's guest, on the same CIDR, reaches its own network and nothing of this one
        assert c_saw == {f"reach {address(other_dhcp[0])}": "yes", f"reach {address(a)}": "no"}, c_saw
        assert "hostname=c " in other.console(c_id)

        # b's floating IP answers nothing while its group (default) lets nobody outside in ...
        b_fip = admin.create("floatingips", floating_network_id=ext["id"], port_id=b["id"])

        def wired() -> bool:
            # nothing answers while the router takes the address in, not even the router itself
            assert not outside.pings(b_fip["floating_ip_address"]), "answered before the group allowed it"
            return ok(admin.neutron.get(f"/floatingips/{b_fip['id']}"))["floatingip"]["status"] == "ACTIVE"

        # ACTIVE once the router has it: its DNAT and address are in place, so silence is the group's doing
        wait(wired, 30, "b's floating IP to be ACTIVE", every=0)
        b_fip = b_fip["floating_ip_address"]
        assert not outside.pings(b_fip, count=3)
        assert not answers_ssh(outside, b_fip)
        # `onestack diagnose` sees the real kernel: every hop in place but the group's rule
        code, hops = diagnose(cloud, b_id, "--from", "external")
        assert code == 1 and hops.pop("security groups (ingress)").startswith("MISSING"), hops
        assert all(state.startswith("ok") for state in hops.values()), hops
        # ... until ICMP and SSH are let in
        rules = ({"protocol": "icmp"}, {"protocol": "tcp", "port_range_min": 22, "port_range_max": 22})
        rule_to_ping = outside.first_reply(b_fip, lambda: [admin.create(
            "security-group-rules", security_group_id=default, direction="ingress", ethertype="IPv4", **rule)
            for rule in rules])
        wait(lambda: answers_ssh(outside, b_fip), 30, "b's SSH greeting through its floating IP")
        assert diagnose(cloud, b_id, "--from", "external")[0] == 0
        print(f"server create -> first ping reply on its floating IP: {first_ping:.1f}s; "
              f"security group rule create -> first ping reply: {rule_to_ping:.2f}s")
    finally:
        if outside is not None:
            outside.close()
        for tenant in tenants:
            tenant.close()
        cloud.purge(check=False)  # guests too, whatever failed above
