"""Compute flavors over HTTP: defaults, listing, create rules, microversion shapes, extra specs, access."""

import uuid

import httpx
import pytest

from tests.api.helpers import member_of_new_project, name, nova, nova_error, ok

DETAIL_KEYS = {"id", "name", "links", "ram", "vcpus", "disk", "swap", "OS-FLV-EXT-DATA:ephemeral",
               "OS-FLV-DISABLED:disabled", "os-flavor-access:is_public", "rxtx_factor"}


@pytest.fixture
def admin_nova(cloud):
    with nova(cloud) as c:
        yield c


@pytest.fixture
def member(cloud, admin):
    project, _, token = member_of_new_project(cloud, admin)
    with nova(cloud, token) as c:
        c.project_id = project["id"]
        yield c


def make_flavor(client, **body) -> dict:
    body = {"name": name("fl"), "ram": 512, "vcpus": 1, "disk": 1, **body}
    return ok(client.post("/flavors", json={"flavor": body}))["flavor"]


def test_default_flavors_are_seeded(admin_nova):
    flavors = {f["id"]: f for f in ok(admin_nova.get("/flavors/detail"))["flavors"]}
    expected = {"1": ("m1.tiny", 1, 512, 1), "2": ("m1.small", 1, 2048, 20), "3": ("m1.medium", 2, 4096, 40),
                "4": ("m1.large", 4, 8192, 80), "5": ("m1.xlarge", 8, 16384, 160), "42": ("m1.nano", 1, 128, 1),
                "84": ("m1.micro", 1, 192, 1)}
    for flavorid, (fname, vcpus, ram, disk) in expected.items():
        f = flavors[flavorid]
        assert (f["name"], f["vcpus"], f["ram"], f["disk"]) == (fname, vcpus, ram, disk)


def test_v21_shapes_and_links(cloud, admin_nova):
    summary = ok(admin_nova.get("/flavors"))["flavors"]
    assert all(set(f) == {"id", "name", "links"} for f in summary)
    tiny = ok(admin_nova.get("/flavors/1"))["flavor"]
    assert set(tiny) == DETAIL_KEYS
    assert tiny["swap"] == "" and tiny["rxtx_factor"] == 1.0 and tiny["os-flavor-access:is_public"] is True
    assert tiny["links"] == [{"rel": "self", "href": f"{cloud.url}/compute/v2.1/flavors/1"},
                             {"rel": "bookmark", "href": f"{cloud.url}/compute/flavors/1"}]
    # show and the detailed list agree exactly (Tempest compares them)
    assert tiny in ok(admin_nova.get("/flavors/detail"))["flavors"]
    assert nova_error(admin_nova.get("/flavors/nope"), 404) == "Flavor nope could not be found."


def test_microversion_shapes(cloud):
    with nova(cloud, version="2.55") as c:
        assert all("description" in f for f in ok(c.get("/flavors"))["flavors"])
        assert "extra_specs" not in ok(c.get("/flavors/1"))["flavor"]
    with nova(cloud, version="2.61") as c:
        assert ok(c.get("/flavors/1"))["flavor"]["extra_specs"] == {}
    with nova(cloud, version="2.75") as c:
        assert ok(c.get("/flavors/1"))["flavor"]["swap"] == 0


def test_create_rules(admin_nova):
    numeric = make_flavor(admin_nova, id=987654, ram="1024", swap=10, rxtx_factor=2)
    assert numeric["id"] == "987654" and numeric["ram"] == 1024 and numeric["swap"] == 10
    assert numeric["rxtx_factor"] == 2.0
    generated = make_flavor(admin_nova, id=None)
    assert str(uuid.UUID(generated["id"])) == generated["id"]
    private = make_flavor(admin_nova, **{"os-flavor-access:is_public": "False"})
    assert private["os-flavor-access:is_public"] is False
    assert "already exists" in nova_error(admin_nova.post("/flavors", json={"flavor": {
        "name": numeric["name"], "ram": 1, "vcpus": 1, "disk": 0}}), 409)
    assert "already exists" in nova_error(admin_nova.post("/flavors", json={"flavor": {
        "name": name("fl"), "ram": 1, "vcpus": 1, "disk": 0, "id": "987654"}}), 409)
    ok(admin_nova.delete("/flavors/987654"), 202)
    nova_error(admin_nova.get("/flavors/987654"), 404)


@pytest.mark.parametrize("bad", [{"ram": 0}, {"ram": "0"}, {"vcpus": -1}, {"disk": "x"}, {"name": " padded"},
                                 {"name": ""}, {"rxtx_factor": 0}, {"id": "has/slash"}, {"extra": 1},
                                 {"os-flavor-access:is_public": "maybe"}, {"description": "only at 2.55"}])
def test_create_refuses_bad_bodies(admin_nova, bad):
    body = {"name": name("fl"), "ram": 512, "vcpus": 1, "disk": 1, **bad}
    assert nova_error(admin_nova.post("/flavors", json={"flavor": body}), 400)


def test_malformed_json_is_400(admin_nova):
    resp = admin_nova.post("/flavors", content=b"{not json", headers={"Content-Type": "application/json"})
    assert nova_error(resp, 400)


def test_members_read_but_do_not_manage(admin_nova, member):
    flavor = make_flavor(admin_nova)
    assert ok(member.get(f"/flavors/{flavor['id']}"))["flavor"]["name"] == flavor["name"]
    assert nova_error(member.post("/flavors", json={"flavor": {"name": "x", "ram": 1, "vcpus": 1, "disk": 0}}), 403)
    assert nova_error(member.delete(f"/flavors/{flavor['id']}"), 403)
    assert nova_error(member.post(f"/flavors/{flavor['id']}/os-extra_specs", json={"extra_specs": {"a": "b"}}),
                      403)


def test_description_update_from_255(cloud, admin_nova):
    flavor = make_flavor(admin_nova)
    assert nova_error(admin_nova.put(f"/flavors/{flavor['id']}", json={"flavor": {"description": "x"}}), 404)
    with nova(cloud, version="2.55") as c:
        created = ok(c.post("/flavors", json={"flavor": {"name": name("fl"), "ram": 1, "vcpus": 1, "disk": 0,
                                                          "description": "first"}}))["flavor"]
        assert created["description"] == "first"
        updated = ok(c.put(f"/flavors/{created['id']}", json={"flavor": {"description": "second"}}))["flavor"]
        assert updated["description"] == "second"
        assert nova_error(c.put(f"/flavors/{created['id']}", json={"flavor": {"name": "renamed"}}), 400)


def test_list_filters_sort_and_pages(cloud, admin_nova):
    big = make_flavor(admin_nova, ram=999999, disk=999)
    listed = ok(admin_nova.get("/flavors/detail", params={"minRam": 999999}))["flavors"]
    assert [f["id"] for f in listed] == [big["id"]]
    assert big["id"] not in [f["id"] for f in ok(admin_nova.get("/flavors", params={"minDisk": 1000}))["flavors"]]
    assert nova_error(admin_nova.get("/flavors", params={"minRam": "lots"}), 400)
    by_ram = ok(admin_nova.get("/flavors/detail", params={"sort_key": "memory_mb", "sort_dir": "desc"}))["flavors"]
    assert [f["ram"] for f in by_ram] == sorted((f["ram"] for f in by_ram), reverse=True)
    assert nova_error(admin_nova.get("/flavors", params={"sort_key": "colour"}), 400)
    first = ok(admin_nova.get("/flavors", params={"limit": 2}))
    assert len(first["flavors"]) == 2
    next_href = first["flavors_links"][0]["href"]
    assert next_href.startswith(f"{cloud.url}/compute/v2.1/flavors?") and "marker=" in next_href
    after = ok(admin_nova.get("/flavors", params={"marker": first["flavors"][-1]["id"]}))["flavors"]
    assert first["flavors"][-1]["id"] not in [f["id"] for f in after] and after
    assert nova_error(admin_nova.get("/flavors", params={"marker": "no-such-flavor"}), 400)


def test_private_flavor_visible_only_to_admins_and_granted_projects(admin_nova, member, cloud, admin):
    flavor = make_flavor(admin_nova, **{"os-flavor-access:is_public": False})
    fid = flavor["id"]
    assert fid not in [f["id"] for f in ok(member.get("/flavors/detail"))["flavors"]]
    nova_error(member.get(f"/flavors/{fid}"), 404)
    # admins choose with is_public: false lists private ones, none lists all
    assert fid in [f["id"] for f in ok(admin_nova.get("/flavors", params={"is_public": "false"}))["flavors"]]
    assert "1" not in [f["id"] for f in ok(admin_nova.get("/flavors", params={"is_public": "f"}))["flavors"]]
    assert fid in [f["id"] for f in ok(admin_nova.get("/flavors", params={"is_public": "none"}))["flavors"]]
    nova_error(admin_nova.get("/flavors", params={"is_public": "perhaps"}), 400)
    assert ok(admin_nova.get(f"/flavors/{fid}/os-flavor-access"))["flavor_access"] == []
    added = ok(admin_nova.post(f"/flavors/{fid}/action", json={"addTenantAccess": {"tenant": member.project_id}}))
    assert added["flavor_access"] == [{"flavor_id": fid, "tenant_id": member.project_id}]
    assert ok(member.get(f"/flavors/{fid}"))["flavor"]["id"] == fid
    assert fid in [f["id"] for f in ok(member.get("/flavors"))["flavors"]]
    # another project still does not see it
    _, _, other_token = member_of_new_project(cloud, admin)
    with nova(cloud, other_token) as other:
        nova_error(other.get(f"/flavors/{fid}"), 404)
    nova_error(admin_nova.post(f"/flavors/{fid}/action", json={"addTenantAccess": {"tenant": member.project_id}}),
               409)
    nova_error(member.post(f"/flavors/{fid}/action", json={"removeTenantAccess": {"tenant": member.project_id}}),
               403)
    removed = ok(admin_nova.post(f"/flavors/{fid}/action", json={"removeTenantAccess": {"tenant": member.project_id}}))
    assert removed["flavor_access"] == []
    nova_error(member.get(f"/flavors/{fid}"), 404)
    nova_error(admin_nova.post(f"/flavors/{fid}/action", json={"removeTenantAccess": {"tenant": "nobody"}}), 404)
    nova_error(admin_nova.post(f"/flavors/{fid}/action", json={"explode": {}}), 400)


def test_access_on_public_flavors(cloud, admin_nova):
    public = make_flavor(admin_nova)
    assert "public" in nova_error(admin_nova.get(f"/flavors/{public['id']}/os-flavor-access"), 404)
    with nova(cloud, version="2.7") as c:
        nova_error(c.post(f"/flavors/{public['id']}/action", json={"addTenantAccess": {"tenant": "p"}}), 409)


def test_extra_specs_crud(cloud, admin_nova, member):
    fid = make_flavor(admin_nova)["id"]
    specs = {"hw:numa_nodes": "1", "hw:cpu_policy": "shared"}
    assert ok(admin_nova.post(f"/flavors/{fid}/os-extra_specs", json={"extra_specs": specs}))["extra_specs"] == specs
    assert ok(member.get(f"/flavors/{fid}/os-extra_specs"))["extra_specs"] == specs
    assert ok(member.get(f"/flavors/{fid}/os-extra_specs/hw:numa_nodes")) == {"hw:numa_nodes": "1"}
    assert ok(admin_nova.put(f"/flavors/{fid}/os-extra_specs/hw:numa_nodes", json={"hw:numa_nodes": 2})) == {
        "hw:numa_nodes": "2"}
    nova_error(admin_nova.put(f"/flavors/{fid}/os-extra_specs/hw:numa_nodes", json={"hw:cpu_policy": "x"}), 400)
    nova_error(admin_nova.put(f"/flavors/{fid}/os-extra_specs/hw:numa_nodes", json={"hw:numa_nodes": "1",
                                                                                   "b": "2"}), 400)
    nova_error(member.put(f"/flavors/{fid}/os-extra_specs/hw:numa_nodes", json={"hw:numa_nodes": "3"}), 403)
    nova_error(admin_nova.post(f"/flavors/{fid}/os-extra_specs", json={"extra_specs": {"bad/key": "v"}}), 400)
    with nova(cloud, version="2.61") as c:
        assert ok(c.get(f"/flavors/{fid}"))["flavor"]["extra_specs"] == {"hw:numa_nodes": "2", "hw:cpu_policy": "shared"}
    ok(admin_nova.delete(f"/flavors/{fid}/os-extra_specs/hw:numa_nodes"))
    nova_error(admin_nova.delete(f"/flavors/{fid}/os-extra_specs/hw:numa_nodes"), 404)
    nova_error(member.get(f"/flavors/{fid}/os-extra_specs/hw:cpu_thread_policy"), 404)
    assert ok(admin_nova.get(f"/flavors/{fid}/os-extra_specs"))["extra_specs"] == {"hw:cpu_policy": "shared"}
    # deleting the flavor takes its specs along
    ok(admin_nova.delete(f"/flavors/{fid}"), 202)
    nova_error(admin_nova.get(f"/flavors/{fid}/os-extra_specs"), 404)


def test_unauthenticated_is_401(cloud):
    assert httpx.get(f"{cloud.url}/compute/v2.1/flavors").status_code == 401
