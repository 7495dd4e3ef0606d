"""kill -9 of the data-plane agent (a thread of the serving process, so the kill is the process's) while it
converges a burst of changes; more changes made while no agent runs (the cloud back up with the data plane
off); then the agent restarted: the kernel converges to exactly what the database says, nothing of the
deleted objects left behind and nothing of the live ones missing."""

from __future__ import annotations

import random
import uuid

import httpx
import pytest

from onestack.drivers.netns import converge
from tests.api.helpers import ok, wait
from tests.cloudfixture import Cloud
from tests.dataplane.kernel import require_dataplane, sh

pytestmark = [pytest.mark.dataplane, pytest.mark.xdist_group("dataplane")]


@pytest.fixture
def cloud(tmp_path):
    require_dataplane()
    tag = uuid.uuid4().hex[:6]
    vni = random.randrange(100000, 16000000)
    c = Cloud(tmp_path, settings={"network": {
        "dataplane": True, "physical_networks": {"public": f"brx{tag}"}, "vni_ranges": [[vni, vni + 99]]}})
    c.start()
    c.ext_bridge = f"brx{tag}"
    yield c
    c.settings["network"]["dataplane"] = True  # so purge knows the data plane is ours to clear
    c.start()
    owner = (c.data_dir / "dataplane" / "owner").read_text().strip()
    c.purge()
    assert converge.owned_objects(owner, c.data_dir / "dataplane") == {
        "namespaces": set(), "links": set(), "dnsmasq": set(), "proxies": set(), "radvd": set()}
    assert f":os-{owner}-" not in sh("iptables-save").stdout


def owned(c: Cloud) -> dict[str, set[str]]:
    owner = (c.data_dir / "dataplane" / "owner").read_text().strip()
    return converge.owned_objects(owner, c.data_dir / "dataplane")


def client(c: Cloud) -> httpx.Client:
    return httpx.Client(base_url=f"{c.url}/network/v2.0", headers={"X-Auth-Token": c.token()}, timeout=60)


def create(http, plural: str, **body) -> dict:
    return ok(http.post(f"/{plural}", json={plural[:-1]: body}), 201)[plural[:-1]]


def network_with_router(http, ext: dict, n: int) -> tuple[dict, dict]:
    net = create(http, "networks", name=f"crash-{n}")
    subnet = create(http, "subnets", network_id=net["id"], cidr=f"10.60.{n}.0/24", ip_version=4)
    router = create(http, "routers", name=f"crash-{n}", external_gateway_info={"network_id": ext["id"]})
    ok(http.put(f"/routers/{router['id']}/add_router_interface", json={"subnet_id": subnet["id"]}))
    create(http, "ports", network_id=net["id"], name=f"crash-{n}-port")
    return net, router


def drop_router(http, router_id: str) -> None:
    for port in ok(http.get("/ports", params={"device_id": router_id,
                                              "device_owner": "network:router_interface"}))["ports"]:
        ok(http.put(f"/routers/{router_id}/remove_router_interface", json={"port_id": port["id"]}))
    ok(http.delete(f"/routers/{router_id}"), 204)


def expected(http) -> dict[str, set[str]]:
    """What the database says this host's kernel holds: a ``qdhcp-`` namespace and dnsmasq per network with
    a DHCP subnet, a ``qrouter-`` namespace per router, and the ids every owned link must belong to."""
    nets = ok(http.get("/networks"))["networks"]
    subnets = ok(http.get("/subnets"))["subnets"]
    dhcp = {s["network_id"] for s in subnets if s["enable_dhcp"]}
    routers = ok(http.get("/routers"))["routers"]
    ports = ok(http.get("/ports"))["ports"]
    return {"namespaces": {f"qdhcp-{n}" for n in dhcp} | {f"qrouter-{r['id']}" for r in routers},
            "dnsmasq": dhcp,
            "ids": {n["id"][:11] for n in nets} | {p["id"][:11] for p in ports},
            "segments": {str(n.get("provider:segmentation_id")) for n in nets}}


def orphans(links: set[str], want: dict[str, set[str]], ext_bridge: str) -> set[str]:
    """Owned links whose name names no live network or port (a VXLAN device names its segment; the
    physical network's bridge the cloud made is its own)."""
    return {name for name in links if name != ext_bridge and not (name[3:] in want["ids"] or name[2:] in want["ids"]
                                           or name.split("-", 1)[-1] in want["segments"])}


def test_kill_9_of_the_agent_mid_converge_then_changes_while_down_converge_on_restart(cloud):
    with client(cloud) as http:
        ext = create(http, "networks", name="crash-ext", **{"router:external": True,
                                                            "provider:network_type": "flat",
                                                            "provider:physical_network": "public"})
        create(http, "subnets", network_id=ext["id"], cidr="203.0.113.0/24", ip_version=4, enable_dhcp=False,
               gateway_ip="203.0.113.1", allocation_pools=[{"start": "203.0.113.10", "end": "203.0.113.99"}])
        first = [network_with_router(http, ext, n) for n in range(3)]
        wait(lambda: {f"qrouter-{r['id']}" for _, r in first} <= owned(cloud)["namespaces"], 60, "the first routers")
        # a burst the agent is busy with when the kill comes: two more networks made, one router and one network gone
        more = [network_with_router(http, ext, n) for n in range(3, 5)]
        drop_router(http, first[0][1]["id"])
        ok(http.delete(f"/networks/{first[1][0]['id']}"), 409)  # still has a router interface: Neutron refuses
        drop_router(http, first[1][1]["id"])
        for port in ok(http.get("/ports", params={"network_id": first[1][0]["id"], "device_owner": ""}))["ports"]:
            ok(http.delete(f"/ports/{port['id']}"), 204)
        ok(http.delete(f"/networks/{first[1][0]['id']}"), 204)
    cloud.kill_9()
    mid = owned(cloud)

    # back up with no agent: the desired state moves on while nothing converges it
    cloud.settings["network"]["dataplane"] = False
    cloud.start()
    with client(cloud) as http:
        late = create(http, "networks", name="crash-late")
        create(http, "subnets", network_id=late["id"], cidr="10.61.0.0/24", ip_version=4)
        drop_router(http, more[0][1]["id"])
    assert owned(cloud) == mid, "with the data plane off the kernel is left as it was"
    cloud.kill_9()

    cloud.settings["network"]["dataplane"] = True
    cloud.start()
    with client(cloud) as http:
        want = expected(http)
        assert f"qdhcp-{late['id']}" in want["namespaces"] and f"qrouter-{more[0][1]['id']}" not in want["namespaces"]

        def converged() -> bool:
            now = owned(cloud)
            return (now["namespaces"] == want["namespaces"] and now["dnsmasq"] == want["dnsmasq"]
                    and not orphans(now["links"], want, cloud.ext_bridge))

        try:
            wait(converged, 60, "the kernel to converge to the database")
        except AssertionError:
            now = owned(cloud)
            raise AssertionError(f"extra {now['namespaces'] - want['namespaces']}, missing "
                                 f"{want['namespaces'] - now['namespaces']}, dnsmasq {now['dnsmasq']} != "
                                 f"{want['dnsmasq']}, orphan links {orphans(now['links'], want)}") from None
        now = owned(cloud)
        print(f"\nat the kill: {sorted(mid['namespaces'])}\nafter: {sorted(now['links'])}")
        assert now["namespaces"] == want["namespaces"] and now["dnsmasq"] == want["dnsmasq"]
        assert not orphans(now["links"], want, cloud.ext_bridge)
        stale = mid["namespaces"] - want["namespaces"]
        print(f"the kill left {len(stale)} namespaces of deleted routers/networks; the restart removed them")
        # nothing missing: every live network's bridge and every DHCP namespace's host-side veth is there
        for ns in want["namespaces"]:
            assert ns in now["namespaces"]
        dhcp_ports = ok(http.get("/ports", params={"device_owner": "network:dhcp"}))["ports"]
        assert {f"tap{p['id'][:11]}" for p in dhcp_ports} <= now["links"]
        nets = [n for n in ok(http.get("/networks"))["networks"] if not n["router:external"]]
        assert {f"brq{n['id'][:11]}" for n in nets} <= now["links"]
