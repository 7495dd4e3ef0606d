"""Nova's proxy APIs over HTTP (microversion 2.1): images, security groups, floating IPs and networks as Nova
shows them, served by the image and network services; projects are walls; 2.36 and later answer 404."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.api.helpers import member_of_new_project, name, nova_error, ok
from tests.api.network_helpers import external_network, network_client

MV = {"X-OpenStack-Nova-API-Version": "2.1"}


class Project:
    """A member of a fresh project with compute, network and image clients, and a routed network."""

    def __init__(self, cloud, admin):
        project, _, token = member_of_new_project(cloud, admin)
        self.id = project["id"]
        self.nova = httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={"X-Auth-Token": token, **MV},
                                 timeout=60)
        self.neutron = network_client(cloud, token)
        self.glance = httpx.Client(base_url=f"{cloud.url}/image/v2", headers={"X-Auth-Token": token}, timeout=60)
        self.network = ok(self.neutron.post("/networks", json={"network": {"name": name("net")}}), 201)["network"]
        self.subnet = ok(self.neutron.post("/subnets", json={"subnet": {
            "network_id": self.network["id"], "ip_version": 4, "cidr": "10.30.0.0/24"}}), 201)["subnet"]

    def close(self):
        for client in (self.nova, self.neutron, self.glance):
            client.close()


@pytest.fixture
def make_project(cloud, admin):
    made = []

    def make() -> Project:
        made.append(Project(cloud, admin))
        return made[-1]

    yield make
    for project in made:
        project.close()


@pytest.fixture
def mine(make_project):
    return make_project()


@pytest.fixture
def theirs(make_project):
    return make_project()


@pytest.fixture(scope="module")
def public_image(cloud):
    with httpx.Client(base_url=f"{cloud.url}/image/v2", headers={"X-Auth-Token": cloud.token()}, timeout=60) as g:
        image = ok(g.post("/images", json={"name": name("boot"), "disk_format": "raw", "container_format": "bare",
                                           "visibility": "public"}), 201)
        ok(g.put(f"/images/{image['id']}/file", content=b"\0" * 4096,
                 headers={"Content-Type": "application/octet-stream"}), 204)
        return image["id"]


def private_image(project: Project, **properties) -> dict:
    image = ok(project.glance.post("/images", json={"name": name("img"), "disk_format": "raw",
                                                    "container_format": "bare", "min_ram": 64, **properties}), 201)
    ok(project.glance.put(f"/images/{image['id']}/file", content=b"*" * 1024,
                          headers={"Content-Type": "application/octet-stream"}), 204)
    return image


def boot(project: Project, image_id: str) -> dict:
    body = {"server": {"name": name("vm"), "imageRef": image_id, "flavorRef": "1",
                       "networks": [{"uuid": project.network["id"]}]}}
    server = ok(project.nova.post("/servers", json=body), 202)["server"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        shown = ok(project.nova.get(f"/servers/{server['id']}"))["server"]
        if shown["status"] == "ACTIVE":
            return shown
        time.sleep(0.1)
    raise AssertionError(f"server {server['id']} never became ACTIVE")


def action(project: Project, server_id: str, body: dict, **headers) -> httpx.Response:
    return project.nova.post(f"/servers/{server_id}/action", json=body, headers=headers)


# -- images ----------------------------------------------------------------------------------------
def test_images_as_nova_shows_them(mine):
    image = private_image(mine, os_distro="cirros")
    brief = ok(mine.nova.get("/images"))["images"]
    entry = next(i for i in brief if i["id"] == image["id"])
    assert set(entry) == {"id", "name", "links"}
    assert [link["rel"] for link in entry["links"]] == ["self", "bookmark", "alternate"]

    shown = ok(mine.nova.get(f"/images/{image['id']}"))["image"]
    assert shown["status"] == "ACTIVE" and shown["progress"] == 100
    assert shown["minRam"] == 64 and shown["minDisk"] == 0 and shown["OS-EXT-IMG-SIZE:size"] == 1024
    assert shown["metadata"] == {"os_distro": "cirros"} and "server" not in shown
    assert shown["created"].endswith("Z")

    detail = ok(mine.nova.get("/images/detail", params={"name": image["name"]}))["images"]
    assert [i["id"] for i in detail] == [image["id"]]
    assert ok(mine.nova.get("/images/detail", params={"name": image["name"], "status": "SAVING"}))["images"] == []
    assert ok(mine.nova.get("/images/detail", params={"name": image["name"], "minRam": "65"}))["images"] == []
    assert ok(mine.nova.get("/images", params={"type": "snapshot", "name": image["name"]}))["images"] == []


def test_image_list_pages_with_images_links(mine):
    first, second = private_image(mine), private_image(mine)
    page = ok(mine.nova.get("/images", params={"limit": "1"}))
    assert len(page["images"]) == 1 and page["images"][0]["id"] == second["id"]  # newest first
    href = page["images_links"][0]["href"]
    assert "marker=" + second["id"] in href
    following = ok(mine.nova.get("/images", params={"limit": "1", "marker": second["id"]}))["images"]
    assert following[0]["id"] == first["id"]


def test_snapshot_images_show_their_server_and_filter_by_it(mine):
    server_id = "0b5ea5b0-5f3b-4c8e-9d52-1e6d7c1a2b3c"
    image = private_image(mine, instance_uuid=server_id, image_type="snapshot")
    shown = ok(mine.nova.get(f"/images/{image['id']}"))["image"]
    assert shown["server"]["id"] == server_id
    assert shown["server"]["links"][0]["href"].endswith(f"/v2.1/servers/{server_id}")
    by_server = ok(mine.nova.get("/images", params={"server": f"http://x/servers/{server_id}"}))["images"]
    assert [i["id"] for i in by_server] == [image["id"]]
    by_type = ok(mine.nova.get("/images", params={"type": "snapshot"}))["images"]
    assert image["id"] in [i["id"] for i in by_type]


def test_image_metadata_maps_to_glance_properties(mine):
    image = private_image(mine, os_distro="cirros")
    path = f"/images/{image['id']}/metadata"
    assert ok(mine.nova.post(path, json={"metadata": {"os_version": "1"}}))["metadata"] == {
        "os_distro": "cirros", "os_version": "1"}
    assert ok(mine.nova.put(f"{path}/os_version", json={"meta": {"os_version": "2"}}))["meta"] == {"os_version": "2"}
    assert ok(mine.nova.get(f"{path}/os_version"))["meta"] == {"os_version": "2"}
    assert mine.glance.get(f"/images/{image['id']}").json()["os_version"] == "2"
    assert mine.nova.put(f"{path}/other", json={"meta": {"os_version": "3"}}).status_code == 400
    ok(mine.nova.put(path, json={"metadata": {"architecture": "x86_64"}}))
    assert ok(mine.nova.get(path))["metadata"] == {"architecture": "x86_64"}
    assert mine.nova.delete(f"{path}/architecture").status_code == 204
    assert ok(mine.nova.get(path))["metadata"] == {}
    nova_error(mine.nova.delete(f"{path}/architecture"), 404)
    nova_error(mine.nova.get(f"{path}/nothing"), 404)


def test_image_delete_and_missing_images(mine):
    image = private_image(mine)
    assert mine.nova.delete(f"/images/{image['id']}").status_code == 204
    assert mine.glance.get(f"/images/{image['id']}").status_code == 404
    assert nova_error(mine.nova.get(f"/images/{image['id']}"), 404) == "Image not found."
    nova_error(mine.nova.delete(f"/images/{image['id']}"), 404)
    nova_error(mine.nova.get(f"/images/{image['id']}/metadata"), 404)


def test_another_projects_private_image_is_invisible(mine, theirs):
    image = private_image(mine)
    assert image["id"] not in [i["id"] for i in ok(theirs.nova.get("/images/detail"))["images"]]
    nova_error(theirs.nova.get(f"/images/{image['id']}"), 404)
    nova_error(theirs.nova.delete(f"/images/{image['id']}"), 404)
    nova_error(theirs.nova.post(f"/images/{image['id']}/metadata", json={"metadata": {"a": "b"}}), 404)
    assert ok(mine.nova.get(f"/images/{image['id']}"))["image"]["metadata"] == {}


# -- security groups -------------------------------------------------------------------------------
def make_group(project: Project, **body) -> dict:
    body = {"name": name("sg"), "description": "web", **body}
    return ok(project.nova.post("/os-security-groups", json={"security_group": body}))["security_group"]


def test_security_groups_in_novas_shape(mine):
    group = make_group(mine, name=" spaced name ")
    # Neutron's egress rules have no Nova equivalent: a new group shows none.
    assert group["rules"] == [] and group["tenant_id"] == mine.id and group["name"] == " spaced name "
    assert ok(mine.nova.get(f"/os-security-groups/{group['id']}"))["security_group"] == group
    listed = ok(mine.nova.get("/os-security-groups"))["security_groups"]
    assert group in listed and "default" in [g["name"] for g in listed]

    updated = ok(mine.nova.put(f"/os-security-groups/{group['id']}", json={"security_group": {
        "name": "renamed", "description": "new"}}))["security_group"]
    assert (updated["name"], updated["description"]) == ("renamed", "new")

    for bad in ("", "   ", "x" * 256):
        nova_error(mine.nova.post("/os-security-groups", json={"security_group": {"name": bad,
                                                                                   "description": "d"}}), 400)
    nova_error(mine.nova.post("/os-security-groups", json={}), 400)
    nova_error(mine.nova.get("/os-security-groups/not-a-uuid"), 400)

    assert mine.nova.delete(f"/os-security-groups/{group['id']}").status_code == 202
    nova_error(mine.nova.get(f"/os-security-groups/{group['id']}"), 404)
    default = next(g for g in listed if g["name"] == "default")
    nova_error(mine.nova.delete(f"/os-security-groups/{default['id']}"), 400)


def test_security_group_rules(mine):
    group, peer = make_group(mine), make_group(mine)
    rules = "/os-security-group-rules"

    def add(**args):
        return mine.nova.post(rules, json={"security_group_rule": {"parent_group_id": group["id"], **args}})

    ssh = ok(add(ip_protocol="tcp", from_port=22, to_port=22))["security_group_rule"]
    assert ssh["ip_range"] == {"cidr": "0.0.0.0/0"} and ssh["group"] == {} and ssh["parent_group_id"] == group["id"]
    ping = ok(add(ip_protocol="icmp", from_port=-1, to_port=-1, cidr="10.0.0.0/8"))["security_group_rule"]
    assert (ping["from_port"], ping["to_port"], ping["ip_range"]) == (-1, -1, {"cidr": "10.0.0.0/8"})
    by_group = ok(add(ip_protocol="tcp", from_port=80, to_port=80, group_id=peer["id"]))["security_group_rule"]
    assert by_group["group"] == {"name": peer["name"], "tenant_id": mine.id} and by_group["ip_range"] == {}

    assert "already exists" in nova_error(add(ip_protocol="tcp", from_port=22, to_port=22), 400)
    nova_error(add(ip_protocol="tcp", from_port=22, to_port=21), 400)
    nova_error(add(ip_protocol="tcp", from_port=22, to_port=70000), 400)
    nova_error(add(ip_protocol="gre", from_port=1, to_port=2), 400)
    nova_error(add(cidr="10.0.0.0/8"), 400)
    nova_error(mine.nova.post(rules, json={"security_group_rule": {
        "parent_group_id": "nonsense", "ip_protocol": "tcp", "from_port": 1, "to_port": 2}}), 400)
    nova_error(mine.nova.post(rules, json={"security_group_rule": {
        "parent_group_id": "6b1e4e8a-9f0c-4a55-8d2f-5f0e0f6b7c11", "ip_protocol": "tcp", "from_port": 1,
        "to_port": 2}}), 404)

    shown = ok(mine.nova.get(f"/os-security-groups/{group['id']}"))["security_group"]["rules"]
    assert {r["id"] for r in shown} == {ssh["id"], ping["id"], by_group["id"]}
    assert mine.nova.delete(f"{rules}/{ssh['id']}").status_code == 202
    nova_error(mine.nova.delete(f"{rules}/{ssh['id']}"), 404)
    # A rule naming a peer group goes with that group, as in Neutron.
    assert mine.nova.delete(f"/os-security-groups/{peer['id']}").status_code == 202
    left = ok(mine.nova.get(f"/os-security-groups/{group['id']}"))["security_group"]["rules"]
    assert [r["id"] for r in left] == [ping["id"]]


def test_another_projects_security_groups_are_invisible(mine, theirs):
    group = make_group(mine)
    assert group["id"] not in [g["id"] for g in ok(theirs.nova.get("/os-security-groups"))["security_groups"]]
    all_tenants = ok(theirs.nova.get("/os-security-groups", params={"all_tenants": "1"}))["security_groups"]
    assert group["id"] not in [g["id"] for g in all_tenants]
    nova_error(theirs.nova.get(f"/os-security-groups/{group['id']}"), 404)
    nova_error(theirs.nova.delete(f"/os-security-groups/{group['id']}"), 404)
    nova_error(theirs.nova.post("/os-security-group-rules", json={"security_group_rule": {
        "parent_group_id": group["id"], "ip_protocol": "tcp", "from_port": 1, "to_port": 2}}), 404)


def test_server_security_group_actions(mine, theirs, public_image):
    server = boot(mine, public_image)
    group = make_group(mine)
    assert action(mine, server["id"], {"addSecurityGroup": {"name": group["name"]}}).status_code == 202
    listed = ok(mine.nova.get(f"/servers/{server['id']}/os-security-groups"))["security_groups"]
    assert {g["name"] for g in listed} == {"default", group["name"]}
    # The port now uses the group: Neutron refuses to delete it, which Nova says with a 400.
    nova_error(mine.nova.delete(f"/os-security-groups/{group['id']}"), 400)
    ports = ok(mine.neutron.get("/ports", params={"device_id": server["id"]}))["ports"]
    assert group["id"] in ports[0]["security_groups"]

    nova_error(action(mine, server["id"], {"addSecurityGroup": {"name": "no-such-group"}}), 404)
    nova_error(action(mine, server["id"], {"addSecurityGroup": {}}), 400)
    nova_error(action(theirs, server["id"], {"addSecurityGroup": {"name": "default"}}), 404)
    # Not a proxy API: still served at the latest microversion.
    latest = {"X-OpenStack-Nova-API-Version": "2.90"}
    assert action(mine, server["id"], {"removeSecurityGroup": {"name": group["name"]}}, **latest).status_code == 202
    nova_error(action(mine, server["id"], {"removeSecurityGroup": {"name": group["name"]}}), 404)
    assert mine.nova.delete(f"/os-security-groups/{group['id']}").status_code == 202


# -- floating IPs ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pool(cloud):
    with network_client(cloud, cloud.token()) as net_admin:
        network, _ = external_network(net_admin, "100.64.10.0/24", ("100.64.10.10", "100.64.10.20"))
    return network


def route_out(project: Project, pool: dict) -> None:
    router = ok(project.neutron.post("/routers", json={"router": {
        "name": name("r"), "external_gateway_info": {"network_id": pool["id"]}}}), 201)["router"]
    ok(project.neutron.put(f"/routers/{router['id']}/add_router_interface", json={"subnet_id": project.subnet["id"]}))


def test_floating_ips_allocate_show_list_release(mine, theirs, pool):
    assert {"name": pool["name"]} in ok(mine.nova.get("/os-floating-ip-pools"))["floating_ip_pools"]
    fip = ok(mine.nova.post("/os-floating-ips", json={"pool": pool["name"]}))["floating_ip"]
    assert fip["pool"] == pool["name"] and fip["instance_id"] is None and fip["fixed_ip"] is None
    assert fip["ip"].startswith("100.64.10.")
    assert ok(mine.nova.get(f"/os-floating-ips/{fip['id']}"))["floating_ip"] == fip
    assert fip in ok(mine.nova.get("/os-floating-ips"))["floating_ips"]
    by_id = ok(mine.nova.post("/os-floating-ips", json={"pool": pool["id"]}))["floating_ip"]
    assert by_id["pool"] == pool["name"]

    assert fip["id"] not in [f["id"] for f in ok(theirs.nova.get("/os-floating-ips"))["floating_ips"]]
    nova_error(theirs.nova.get(f"/os-floating-ips/{fip['id']}"), 404)
    nova_error(theirs.nova.delete(f"/os-floating-ips/{fip['id']}"), 404)

    nova_error(mine.nova.post("/os-floating-ips", json={"pool": "no-such-pool"}), 404)
    for made in (fip, by_id):
        assert mine.nova.delete(f"/os-floating-ips/{made['id']}").status_code == 202
    nova_error(mine.nova.get(f"/os-floating-ips/{fip['id']}"), 404)


def test_floating_ip_server_actions(mine, theirs, pool, public_image):
    route_out(mine, pool)
    server = boot(mine, public_image)
    fixed = next(iter(server["addresses"].values()))[0]["addr"]
    fip = ok(mine.nova.post("/os-floating-ips", json={"pool": pool["name"]}))["floating_ip"]

    nova_error(action(theirs, server["id"], {"addFloatingIp": {"address": fip["ip"]}}), 404)
    nova_error(action(mine, server["id"], {"addFloatingIp": {"address": ""}}), 400)
    nova_error(action(mine, server["id"], {"addFloatingIp": {"address": "0.0.0.0"}}), 404)
    nova_error(action(mine, server["id"], {"addFloatingIp": {"address": fip["ip"], "fixed_address": "10.9.9.9"}}),
               400)
    assert action(mine, server["id"], {"addFloatingIp": {"address": fip["ip"]}}).status_code == 202
    shown = ok(mine.nova.get(f"/os-floating-ips/{fip['id']}"))["floating_ip"]
    assert (shown["instance_id"], shown["fixed_ip"]) == (server["id"], fixed)
    addresses = ok(mine.nova.get(f"/servers/{server['id']}"))["server"]["addresses"]
    assert fip["ip"] in [a["addr"] for entries in addresses.values() for a in entries]

    # A second floating IP for the same fixed address is refused (Neutron's 409 is Nova's 400).
    second = ok(mine.nova.post("/os-floating-ips", json={"pool": pool["name"]}))["floating_ip"]
    nova_error(action(mine, server["id"], {"addFloatingIp": {"address": second["ip"]}}), 400)
    # Gone at 2.44.
    nova_error(action(mine, server["id"], {"removeFloatingIp": {"address": fip["ip"]}},
                      **{"X-OpenStack-Nova-API-Version": "2.44"}), 404)
    assert action(mine, server["id"], {"removeFloatingIp": {"address": fip["ip"]}}).status_code == 202
    assert ok(mine.nova.get(f"/os-floating-ips/{fip['id']}"))["floating_ip"]["instance_id"] is None
    nova_error(action(mine, server["id"], {"removeFloatingIp": {"address": fip["ip"]}}), 409)


# -- networks --------------------------------------------------------------------------------------
def test_tenant_networks_and_networks(mine, theirs, cloud):
    listed = ok(mine.nova.get("/os-tenant-networks"))["networks"]
    assert {"id": mine.network["id"], "cidr": "None", "label": mine.network["name"]} in listed
    assert mine.network["id"] not in [n["id"] for n in ok(theirs.nova.get("/os-tenant-networks"))["networks"]]
    shown = ok(mine.nova.get(f"/os-tenant-networks/{mine.network['id']}"))["network"]
    assert shown["label"] == mine.network["name"]
    nova_error(theirs.nova.get(f"/os-tenant-networks/{mine.network['id']}"), 404)
    nova_error(theirs.nova.get(f"/os-networks/{mine.network['id']}"), 404)

    network = ok(mine.nova.get(f"/os-networks/{mine.network['id']}"))["network"]
    assert network["label"] == mine.network["name"] and network["cidr"] is None and "project_id" not in network
    with httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={"X-Auth-Token": cloud.token(), **MV},
                      timeout=60) as admin_nova:
        as_admin = ok(admin_nova.get(f"/os-networks/{mine.network['id']}"))["network"]
        assert "project_id" in as_admin and as_admin["project_id"] is None
        assert admin_nova.post("/os-networks", json={"network": {"label": "x"}}).status_code == 410
    assert mine.nova.post("/os-tenant-networks", json={"network": {"label": "x"}}).status_code == 410


# -- microversions ---------------------------------------------------------------------------------
def test_proxies_are_gone_from_2_36(mine):
    image = private_image(mine)
    at = {"X-OpenStack-Nova-API-Version": "2.36"}
    for path in ("/images", f"/images/{image['id']}", "/os-security-groups", "/os-floating-ips",
                 "/os-floating-ip-pools", "/os-networks", "/os-tenant-networks"):
        nova_error(mine.nova.get(path, headers=at), 404)
        assert mine.nova.get(path).status_code == 200, path
    # Image metadata lasted until 2.38.
    metadata = f"/images/{image['id']}/metadata"
    assert mine.nova.get(metadata, headers={"X-OpenStack-Nova-API-Version": "2.38"}).status_code == 200
    nova_error(mine.nova.get(metadata, headers={"X-OpenStack-Nova-API-Version": "2.39"}), 404)
