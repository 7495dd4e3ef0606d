"""DevStack's networks at a new cloud's first start: ``public`` (external, flat on physnet public,
172.24.4.0/24 with a floating-IP pool), ``private`` for project demo and ``router1`` joining them;
made once, so a restart neither duplicates them nor brings back what an operator deleted."""

from __future__ import annotations

import httpx

from tests.api.helpers import ok
from tests.cloudfixture import Cloud


def test_a_new_cloud_gets_devstacks_public_and_private_networks_and_router1(tmp_path):
    cloud = Cloud(tmp_path, settings={"network": {"defaults": True}}).start()
    try:
        with httpx.Client(base_url=f"{cloud.url}/network/v2.0", headers={"X-Auth-Token": cloud.token()}) as http:
            public = ok(http.get("/networks", params={"name": "public"}))["networks"]
            assert len(public) == 1 and public[0]["router:external"]
            assert (public[0]["provider:network_type"], public[0]["provider:physical_network"]) == ("flat", "public")
            (pub_subnet,) = ok(http.get("/subnets", params={"network_id": public[0]["id"]}))["subnets"]
            assert (pub_subnet["cidr"], pub_subnet["gateway_ip"], pub_subnet["enable_dhcp"]) == (
                "172.24.4.0/24", "172.24.4.1", False)
            (router,) = ok(http.get("/routers", params={"name": "router1"}))["routers"]
            assert router["external_gateway_info"]["network_id"] == public[0]["id"]
            demo = cloud.clouds["onestack"]["auth"]["project_name"]
            projects = {p["name"]: p["id"] for p in ok(cloud.client().get("/projects"))["projects"]}
            assert router["project_id"] == projects[demo]
            (private,) = ok(http.get("/networks", params={"name": "private"}))["networks"]
            assert private["project_id"] == projects[demo]
            interfaces = ok(http.get("/ports", params={"device_id": router["id"],
                                                       "device_owner": "network:router_interface"}))["ports"]
            assert [ip["ip_address"] for p in interfaces for ip in p["fixed_ips"]] == ["10.0.0.1"]

            ok(http.put(f"/routers/{router['id']}/remove_router_interface",
                        json={"subnet_id": interfaces[0]["fixed_ips"][0]["subnet_id"]}))
            ok(http.delete(f"/routers/{router['id']}"), 204)
        cloud.stop()
        cloud.start()
        with httpx.Client(base_url=f"{cloud.url}/network/v2.0", headers={"X-Auth-Token": cloud.token()}) as http:
            assert len(ok(http.get("/networks", params={"name": "public"}))["networks"]) == 1
            assert ok(http.get("/routers", params={"name": "router1"}))["routers"] == []
    finally:
        cloud.stop()
