"""A real guest on a tenant network: the data plane plugs its tap, DHCP gives it its address (its
console's marker line shows it), its port turns ACTIVE, and a namespace on the same network can ping it
only once its security group lets ICMP in.  Deleting it and its network leaves nothing of the cloud in
the kernel."""

from __future__ import annotations

import random
import time

import httpx
import pytest

from onestack.drivers.netns import converge
from tests.api.helpers import console_output, name, ok, upload_image, wait
from tests.cloudfixture import Cloud
from tests.dataplane.kernel import Namespace, link_index, require_dataplane

pytestmark = [pytest.mark.qemu, pytest.mark.dataplane, pytest.mark.xdist_group("dataplane")]
NOVA = {"X-OpenStack-Nova-API-Version": "2.1"}


def test_a_guest_gets_its_address_by_dhcp_and_answers_ping_once_its_group_allows_it(tmp_path, tiny_image):
    require_dataplane()
    vni = random.randrange(100000, 16000000)
    cloud = Cloud(tmp_path / "data", settings={"compute": {"driver": "qemu"}, "network": {
        "dataplane": True, "physical_networks": {}, "vni_ranges": [[vni, vni + 9]]}}).start()
    http = httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": cloud.token(), **NOVA}, timeout=120)
    neighbour = None
    try:
        image = upload_image(http, tiny_image.path)
        net = ok(http.post("/network/v2.0/networks", json={"network": {"name": name("net")}}), 201)["network"]
        ok(http.post("/network/v2.0/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 4,
                                                              "cidr": "10.78.0.0/24"}}), 201)
        bridge = f"brq{net['id'][:11]}"
        wait(lambda: link_index(bridge), 30, "the network's bridge")
        neighbour = Namespace(bridge)
        neighbour.address("10.78.0.250/24")
        body = {"server": {"name": "pinged", "imageRef": image["id"], "flavorRef": "42",
                           "networks": [{"uuid": net["id"]}]}}
        created = time.monotonic()
        server_id = ok(http.post("/compute/v2.1/servers", json=body), 202)["server"]["id"]
        wait(lambda: ok(http.get("/network/v2.0/ports", params={"device_id": server_id}))["ports"], 60, "the port")
        port = ok(http.get("/network/v2.0/ports", params={"device_id": server_id}))["ports"][0]
        address = port["fixed_ips"][0]["ip_address"]
        log = wait(lambda: "onestack-tiny: up" in (out := console_output(http, server_id, "/compute/v2.1")) and out,
                   240, "the guest's marker line")
        print(f"server create -> marker line: {time.monotonic() - created:.1f}s")
        assert f"addresses={address}" in log, log
        # no config drive: the guest learnt who it is through the network's metadata proxy
        assert "hostname=pinged" in log and "source=metadata-service" in log, log
        # reported at the end of the pass that plugged the tap, which may still be running
        wait(lambda: ok(http.get(f"/network/v2.0/ports/{port['id']}"))["port"]["status"] == "ACTIVE", 30,
             "the guest's port to be ACTIVE")
        # The default group lets in only its own members: the neighbour's pings go unanswered ...
        assert not neighbour.pings(address, count=3)
        [group] = port["security_groups"]
        # ... until an ICMP rule is in the group.
        effect = neighbour.first_reply(address, lambda: ok(http.post("/network/v2.0/security-group-rules", json={
            "security_group_rule": {"security_group_id": group, "direction": "ingress", "ethertype": "IPv4",
                                    "protocol": "icmp"}}), 201))
        print(f"security group rule create -> first ping reply: {effect:.2f}s")

        ok(http.delete(f"/compute/v2.1/servers/{server_id}"), 204)
        wait(lambda: http.get(f"/compute/v2.1/servers/{server_id}").status_code == 404, 120, "the server to go")
        neighbour.close()
        neighbour = None
        wait(lambda: http.delete(f"/network/v2.0/networks/{net['id']}").status_code in (204, 404), 30,
             "the network to be deleted")
        owner = (cloud.data_dir / "dataplane" / "owner").read_text().strip()
        wait(lambda: converge.owned_objects(owner, cloud.data_dir / "dataplane") == {
            "namespaces": set(), "links": set(), "dnsmasq": set(), "proxies": set(), "radvd": set()}, 30, "nothing left")
    finally:
        if neighbour is not None:
            neighbour.close()
        http.close()
        cloud.purge(check=False)  # guests too, whatever failed above
