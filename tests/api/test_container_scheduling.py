"""Container instances scheduled like VMs, on the fake driver with two hosts of which only the first runs
containers: hosts report the trait, a container image (container_format docker or oci, or the property
hypervisor_type=container) or a flavor's trait extra spec requires it, and what a container cannot do
answers 409."""

from __future__ import annotations

import httpx
import pytest

from tests.api.helpers import name, nova_error, ok, wait
from tests.cloudfixture import Cloud

TRAIT = "CUSTOM_COMPUTE_CONTAINER"
NOVA = {"OpenStack-API-Version": "compute 2.37"}  # 'networks': 'none'


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    c = Cloud(tmp_path_factory.mktemp("containers"), settings={
        "compute": {"driver": "fake", "fake_hosts": 2, "fake_container_hosts": 1}}).start()
    yield c
    c.stop()


@pytest.fixture(scope="module")
def http(cloud):
    issued = cloud.issue()
    project = issued.json()["token"]["project"]["id"]
    with httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": issued.headers["X-Subject-Token"], **NOVA},
                      timeout=60) as client:
        ok(client.put(f"/compute/v2.1/os-quota-sets/{project}", json={"quota_set": {
            "instances": -1, "cores": -1, "ram": -1}}))
        yield client


@pytest.fixture(scope="module")
def hosts(http) -> tuple[str, str]:
    """(the host that runs containers, the one that does not), as placement reports them."""
    providers = ok(http.get("/placement/resource_providers"))["resource_providers"]
    traits = {p["name"]: ok(http.get(f"/placement/resource_providers/{p['uuid']}/traits",
                                     headers={"OpenStack-API-Version": "placement 1.6"}))["traits"]
              for p in providers}
    with_trait = sorted(n for n, t in traits.items() if TRAIT in t)
    without = sorted(n for n, t in traits.items() if TRAIT not in t)
    assert len(with_trait) == 1 and len(without) == 1, traits
    assert all("COMPUTE_NODE" in t for t in traits.values()), traits
    assert with_trait[0].endswith("-fake-1"), traits
    return with_trait[0], without[0]


def image(http, container_format: str = "bare", **properties) -> str:
    made = ok(http.post("/image/v2/images", json={"name": name("img"), "disk_format": "raw",
                                                  "container_format": container_format, **properties}), 201)
    ok(http.put(f"/image/v2/images/{made['id']}/file", content=b"\0" * 4096,
                headers={"Content-Type": "application/octet-stream"}), 204)
    return made["id"]


def flavor(http, **extra_specs) -> str:
    made = ok(http.post("/compute/v2.1/flavors", json={"flavor": {"name": name("f"), "ram": 64, "vcpus": 1,
                                                                  "disk": 0}}))["flavor"]
    ok(http.post(f"/compute/v2.1/flavors/{made['id']}/os-extra_specs", json={"extra_specs": extra_specs}))
    return made["id"]


def boot(http, image_id: str, flavor_id: str = "42", count: int = 1) -> list[str]:
    body = {"server": {"name": name("s"), "imageRef": image_id, "flavorRef": flavor_id, "networks": "none",
                       "min_count": count, "max_count": count, "return_reservation_id": True}}
    reservation = ok(http.post("/compute/v2.1/servers", json=body), 202)["reservation_id"]
    servers = ok(http.get("/compute/v2.1/servers", params={"reservation_id": reservation}))["servers"]
    assert len(servers) == count
    return [s["id"] for s in servers]


def settled(http, server_id: str) -> dict:
    def done():
        server = ok(http.get(f"/compute/v2.1/servers/{server_id}"))["server"]
        return server if server["status"] in ("ACTIVE", "ERROR") else None

    return wait(done, 30, f"server {server_id} to be ACTIVE or ERROR", every=0.05)


def host_of(http, server_id: str) -> str:
    server = settled(http, server_id)
    assert server["status"] == "ACTIVE", server.get("fault")
    return server["OS-EXT-SRV-ATTR:host"]


def test_container_images_land_only_on_the_host_that_runs_containers(http, hosts):
    container_host, _ = hosts
    by_property = image(http, hypervisor_type="container")
    oci, docker = image(http, "oci"), image(http, "docker")
    placed = [host_of(http, s) for s in boot(http, by_property, count=4) + boot(http, oci) + boot(http, docker)]
    assert set(placed) == {container_host}, placed


def test_vms_use_both_hosts_and_a_flavor_trait_decides_among_them(http, hosts):
    container_host, vm_only = hosts
    vm = image(http)
    # spread by free memory: four VMs of 2 GB (m1.small) cannot all pick the same host
    assert {host_of(http, s) for s in boot(http, vm, "2", count=4)} == {container_host, vm_only}
    required = flavor(http, **{f"trait:{TRAIT}": "required"})
    assert {host_of(http, s) for s in boot(http, vm, required, count=3)} == {container_host}
    forbidden = flavor(http, **{f"trait:{TRAIT}": "forbidden"})
    assert {host_of(http, s) for s in boot(http, vm, forbidden, count=3)} == {vm_only}
    # a container on a flavor forbidding the only trait that could take it: no host
    [refused] = boot(http, image(http, "oci"), forbidden)
    server = settled(http, refused)
    assert server["status"] == "ERROR" and "No valid host" in server["fault"]["message"], server


def test_what_a_container_cannot_do_is_a_conflict(http, hosts):
    [server_id] = boot(http, image(http, "oci"))
    host_of(http, server_id)
    images_before = {i["id"] for i in ok(http.get("/image/v2/images"))["images"]}
    actions = {"suspend": None, "rescue": None}
    for action, args in actions.items():
        message = nova_error(http.post(f"/compute/v2.1/servers/{server_id}/action", json={action: args}), 409)
        assert f"Cannot '{action}' instance {server_id}: it is a container" in message, message
    # refused before anything was made
    assert {i["id"] for i in ok(http.get("/image/v2/images"))["images"]} == images_before
    # a rebuild keeps the kind of guest: not from a VM image
    message = nova_error(http.post(f"/compute/v2.1/servers/{server_id}/action",
                                   json={"rebuild": {"imageRef": image(http)}}), 400)
    assert "which makes a vm" in message, message
    # what a container can do goes on as for a VM, and the server stays ACTIVE after the refusals
    ok(http.post(f"/compute/v2.1/servers/{server_id}/action", json={"pause": None}), 202)
    wait(lambda: ok(http.get(f"/compute/v2.1/servers/{server_id}"))["server"]["status"] == "PAUSED", 30, "PAUSED")
    # a VM suspends as before
    [vm_id] = boot(http, image(http))
    host_of(http, vm_id)
    ok(http.post(f"/compute/v2.1/servers/{vm_id}/action", json={"suspend": None}), 202)
    wait(lambda: ok(http.get(f"/compute/v2.1/servers/{vm_id}"))["server"]["status"] == "SUSPENDED", 30, "SUSPENDED")


def in_group(http, image_id: str, group_id: str) -> dict:
    body = {"server": {"name": name("g"), "imageRef": image_id, "flavorRef": "42", "networks": "none"},
            "os:scheduler_hints": {"group": group_id}}
    return settled(http, ok(http.post("/compute/v2.1/servers", json=body), 202)["server"]["id"])


def group(http, policy: str) -> str:
    return ok(http.post("/compute/v2.1/os-server-groups", json={"server_group": {
        "name": name(policy), "policies": [policy]}}))["server_group"]["id"]


def test_server_groups_bind_containers_and_vms_alike(http, hosts):
    container_host, vm_only = hosts
    oci, vm = image(http, "oci"), image(http)
    # anti-affinity: the container takes the only container host, so a VM of its group goes to the other one,
    # and a second container of the group finds no host at all
    apart = group(http, "anti-affinity")
    first = in_group(http, oci, apart)
    assert (first["status"], first["OS-EXT-SRV-ATTR:host"]) == ("ACTIVE", container_host), first
    beside = in_group(http, vm, apart)
    assert (beside["status"], beside["OS-EXT-SRV-ATTR:host"]) == ("ACTIVE", vm_only), beside
    second = in_group(http, oci, apart)
    assert second["status"] == "ERROR" and "No valid host" in second["fault"]["message"], second
    # affinity: a container first, then every VM of its group joins it on the container host
    together = group(http, "affinity")
    assert in_group(http, oci, together)["OS-EXT-SRV-ATTR:host"] == container_host
    for _ in range(3):
        joined = in_group(http, vm, together)
        assert (joined["status"], joined["OS-EXT-SRV-ATTR:host"]) == ("ACTIVE", container_host), joined


def test_availability_zones_bind_containers_as_vms(http, hosts):
    """Last in the module: it puts each host in a zone of its own, and takes them out again."""
    container_host, vm_only = hosts
    zones = {container_host: name("az-containers"), vm_only: name("az-vms")}
    aggregates = []
    try:
        for host, zone in zones.items():
            made = ok(http.post("/compute/v2.1/os-aggregates", json={"aggregate": {
                "name": name("agg"), "availability_zone": zone}}))["aggregate"]
            aggregates.append((made["id"], host))
            ok(http.post(f"/compute/v2.1/os-aggregates/{made['id']}/action", json={"add_host": {"host": host}}))
        oci, vm = image(http, "oci"), image(http)

        def in_zone(image_id: str, zone: str) -> dict:
            body = {"server": {"name": name("z"), "imageRef": image_id, "flavorRef": "42", "networks": "none",
                               "availability_zone": zone}}
            return settled(http, ok(http.post("/compute/v2.1/servers", json=body), 202)["server"]["id"])

        # a container asked into the zone of the host that runs no containers finds no host
        stranded = in_zone(oci, zones[vm_only])
        assert stranded["status"] == "ERROR" and "No valid host" in stranded["fault"]["message"], stranded
        placed = in_zone(oci, zones[container_host])
        assert (placed["status"], placed["OS-EXT-AZ:availability_zone"]) == ("ACTIVE", zones[container_host])
        assert placed["OS-EXT-SRV-ATTR:host"] == container_host
        # VMs go where their zone says, either one
        for host, zone in zones.items():
            assert in_zone(vm, zone)["OS-EXT-SRV-ATTR:host"] == host
    finally:
        for aggregate_id, host in aggregates:
            http.post(f"/compute/v2.1/os-aggregates/{aggregate_id}/action", json={"remove_host": {"host": host}})
            http.delete(f"/compute/v2.1/os-aggregates/{aggregate_id}")
