"""Which network a server gets when its request names none (a boot before 2.37, ``networks: auto`` from
2.37, an interface attach with an empty body), on a cloud of this module's own.

Nova takes the one network the project may use and refuses when there are several: 409 on a boot, 400 on
an attach. A shared network is one more the project may use, so these tests cannot run on the worker's
shared cloud, where other tests' shared networks come and go; here every project sees exactly the networks
its test made.
"""

import httpx
import pytest

from tests.api import test_servers
from tests.api.helpers import name, nova_error, ok
from tests.api.test_servers import boot, wait
from tests.cloudfixture import own_cloud

# the servers module's fixtures (a project with one network of its own, a public image), on this cloud
tenant, image_id = test_servers.tenant, test_servers.image_id
cloud = own_cloud("network-choice")


@pytest.fixture
def neutron(cloud, tenant):
    with httpx.Client(base_url=f"{cloud.url}/network/v2.0", headers={"X-Auth-Token": tenant.headers["X-Auth-Token"]},
                      timeout=60) as client:
        yield client


def at(version: str) -> dict:
    return {"X-OpenStack-Nova-API-Version": version}


def network_with_subnet(http: httpx.Client, cidr: str, **extra) -> str:
    net = ok(http.post("/networks", json={"network": {"name": name("net"), **extra}}), 201)["network"]
    ok(http.post("/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 4, "cidr": cidr}}), 201)
    return net["id"]


def unnamed(image_id: str, **extra) -> dict:
    return {"server": {"name": name("vm"), "imageRef": image_id, "flavorRef": "1", **extra}}


def networks_of(tenant, server_id: str) -> list[str]:
    return [i["net_id"] for i in ok(tenant.get(f"/servers/{server_id}/os-interface"))["interfaceAttachments"]]


def test_a_boot_naming_no_network_takes_the_projects_only_one(tenant, image_id):
    made = ok(tenant.post("/servers", json=unnamed(image_id)), 202)["server"]
    assert wait(tenant, made["id"], "ACTIVE")["addresses"]
    assert networks_of(tenant, made["id"]) == [tenant.network_id]
    auto = ok(tenant.post("/servers", json=unnamed(image_id, networks="auto"), headers=at("2.37")), 202)["server"]
    wait(tenant, auto["id"], "ACTIVE")
    assert networks_of(tenant, auto["id"]) == [tenant.network_id]


def test_an_attach_naming_no_network_takes_the_projects_only_one(tenant, image_id):
    server = wait(tenant, boot(tenant, image_id)["id"], "ACTIVE")
    auto = ok(tenant.post(f"/servers/{server['id']}/os-interface", json={"interfaceAttachment": {}}))
    assert auto["interfaceAttachment"]["net_id"] == tenant.network_id
    assert networks_of(tenant, server["id"]) == [tenant.network_id, tenant.network_id]


def test_two_networks_of_its_own_make_the_choice_ambiguous(tenant, neutron, image_id):
    server = wait(tenant, boot(tenant, image_id)["id"], "ACTIVE")
    network_with_subnet(neutron, "10.21.0.0/24")
    assert "Multiple possible networks" in nova_error(tenant.post("/servers", json=unnamed(image_id)), 409)
    auto = tenant.post("/servers", json=unnamed(image_id, networks="auto"), headers=at("2.37"))
    assert "Multiple possible networks" in nova_error(auto, 409)
    attach = tenant.post(f"/servers/{server['id']}/os-interface", json={"interfaceAttachment": {}})
    assert "Multiple possible networks" in nova_error(attach, 400)  # Nova's attach answers 400, not 409
    assert networks_of(tenant, server["id"]) == [tenant.network_id]


def test_a_shared_network_is_one_more_the_project_may_use(cloud, tenant, image_id):
    with httpx.Client(base_url=f"{cloud.url}/network/v2.0", headers={"X-Auth-Token": cloud.token()},
                      timeout=60) as nadmin:
        shared = network_with_subnet(nadmin, "10.22.0.0/24", shared=True)
        try:
            assert "Multiple possible networks" in nova_error(tenant.post("/servers", json=unnamed(image_id)), 409)
        finally:  # the next test's project must see only its own network again
            ok(nadmin.delete(f"/networks/{shared}"), 204)
    made = ok(tenant.post("/servers", json=unnamed(image_id)), 202)["server"]
    wait(tenant, made["id"], "ACTIVE")
    assert networks_of(tenant, made["id"]) == [tenant.network_id]


def test_an_attach_to_a_network_no_one_has_is_404(tenant, image_id):
    server = wait(tenant, boot(tenant, image_id)["id"], "ACTIVE")
    missing = {"interfaceAttachment": {"net_id": "00000000-0000-0000-0000-000000000000"}}
    assert "could not be found" in nova_error(tenant.post(f"/servers/{server['id']}/os-interface", json=missing), 404)
    # a boot on it is Nova's 400: the request is wrong, the server does not exist yet
    body = unnamed(image_id, networks=[{"uuid": "00000000-0000-0000-0000-000000000000"}])
    assert "could not be found" in nova_error(tenant.post("/servers", json=body), 400)
