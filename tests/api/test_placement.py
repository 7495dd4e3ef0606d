"""Placement API over HTTP: providers, inventories, classes, traits, aggregates, allocations, usages,
allocation candidates, microversions, policy and malformed input."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.api.helpers import member_of_new_project, name, ok

LATEST = "1.39"


class Placement:
    """An httpx client that speaks one microversion unless told otherwise."""

    def __init__(self, client: httpx.Client, version: str = LATEST):
        self.http = client
        self.version = version

    def __call__(self, method: str, path: str, version: str | None = None, **kw) -> httpx.Response:
        headers = {"OpenStack-API-Version": f"placement {version or self.version}", **kw.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kw)

    def provider(self, parent: str | None = None, **inventory) -> dict:
        body = {"name": name("rp")}
        if parent:
            body["parent_provider_uuid"] = parent
        rp = ok(self("POST", "/resource_providers", json=body))
        if inventory:
            self.inventory(rp["uuid"], **inventory)
        return ok(self("GET", f"/resource_providers/{rp['uuid']}"))

    def inventory(self, rp: str, **totals) -> dict:
        generation = ok(self("GET", f"/resource_providers/{rp}"))["generation"]
        invs = {rc: ({"total": t} if isinstance(t, int) else t) for rc, t in totals.items()}
        return ok(self("PUT", f"/resource_providers/{rp}/inventories",
                       json={"resource_provider_generation": generation, "inventories": invs}))

    def claim(self, consumer: str, allocations: dict, generation=None, version: str | None = None,
              **extra) -> httpx.Response:
        body = {"allocations": {rp: {"resources": res} for rp, res in allocations.items()},
                "project_id": extra.get("project_id", "p1"), "user_id": extra.get("user_id", "u1"),
                "consumer_generation": generation, "consumer_type": extra.get("consumer_type", "INSTANCE")}
        return self("PUT", f"/allocations/{consumer}", version=version, json=body)


@pytest.fixture
def pl(cloud):
    with httpx.Client(base_url=f"{cloud.url}/placement", headers={"X-Auth-Token": cloud.token()},
                      timeout=60) as c:
        yield Placement(c)


def error(resp: httpx.Response, status: int) -> dict:
    assert resp.status_code == status, f"{resp.status_code}: {resp.text}"
    entry = resp.json()["errors"][0]
    assert entry["status"] == status and entry["title"] and entry["detail"]
    assert entry["request_id"] == resp.headers["x-openstack-request-id"]
    return entry


def new_uuid() -> str:
    return str(uuid.uuid4())


# -- version document and microversions -----------------------------------------------------------------------
def test_root_needs_no_token_and_declares_the_range(cloud):
    resp = httpx.get(f"{cloud.url}/placement/")
    version = ok(resp)["versions"][0]
    assert version["id"] == "v1.0" and version["status"] == "CURRENT"
    assert (version["min_version"], version["max_version"]) == ("1.0", LATEST)
    assert resp.headers["openstack-api-version"] == "placement 1.0"


def test_microversion_negotiation(cloud, pl):
    assert pl("GET", "/resource_providers", version="latest").headers["openstack-api-version"] == \
        f"placement {LATEST}"
    assert pl("GET", "/resource_providers", version="1.14").headers["openstack-api-version"] == "placement 1.14"
    refused = error(pl("GET", "/resource_providers", version="1.99"), 406)
    assert refused["max_version"] == LATEST and refused["min_version"] == "1.0"
    assert error(pl("GET", "/resource_providers", version="1.x"), 400)
    # Routes newer than the negotiated version do not exist.
    assert error(pl("GET", "/traits", version="1.5"), 404)
    assert ok(pl("GET", "/traits", version="1.6"))["traits"]
    # No token: 401, even for a valid microversion.
    assert httpx.get(f"{cloud.url}/placement/resource_providers").status_code == 401


def test_error_codes_appear_from_1_23(pl):
    rp = pl.provider()
    dup = {"name": rp["name"]}
    assert "code" not in error(pl("POST", "/resource_providers", version="1.22", json=dup), 409)
    assert error(pl("POST", "/resource_providers", json=dup), 409)["code"] == "placement.duplicate_name"
    assert error(pl("GET", f"/resource_providers/{new_uuid()}"), 404)["code"] == "placement.undefined_code"


# -- providers ----------------------------------------------------------------------------------------------------
def test_provider_crud_and_shapes_per_version(cloud, pl):
    old = pl("POST", "/resource_providers", version="1.0", json={"name": name("rp")})
    assert old.status_code == 201 and not old.content
    rp_uuid = old.headers["location"].rsplit("/", 1)[1]
    assert old.headers["location"] == f"{cloud.url}/placement/resource_providers/{rp_uuid}"
    v10 = ok(pl("GET", f"/resource_providers/{rp_uuid}", version="1.0"))
    assert set(v10) == {"uuid", "name", "generation", "links"}
    assert {link["rel"] for link in v10["links"]} == {"self", "inventories", "usages"}
    assert "last-modified" not in pl("GET", f"/resource_providers/{rp_uuid}", version="1.14").headers
    latest = pl("GET", f"/resource_providers/{rp_uuid}")
    assert latest.headers["cache-control"] == "no-cache" and latest.headers["last-modified"]
    body = ok(latest)
    assert body["root_provider_uuid"] == rp_uuid and body["parent_provider_uuid"] is None
    assert {link["rel"] for link in body["links"]} >= {"aggregates", "traits", "allocations"}
    renamed = ok(pl("PUT", f"/resource_providers/{rp_uuid}", json={"name": "renamed-" + rp_uuid}))
    assert renamed["name"] == "renamed-" + rp_uuid
    listed = ok(pl("GET", "/resource_providers", params={"name": "renamed-" + rp_uuid}))["resource_providers"]
    assert [p["uuid"] for p in listed] == [rp_uuid]
    assert ok(pl("GET", "/resource_providers", params={"uuid": rp_uuid}))["resource_providers"][0]["uuid"] == rp_uuid
    assert pl("DELETE", f"/resource_providers/{rp_uuid}").status_code == 204
    assert error(pl("GET", f"/resource_providers/{rp_uuid}"), 404)
    # A chosen uuid is kept; a second provider with it conflicts.
    chosen = new_uuid()
    assert ok(pl("POST", "/resource_providers", json={"name": name(), "uuid": chosen}))["uuid"] == chosen
    assert error(pl("POST", "/resource_providers", json={"name": name(), "uuid": chosen}), 409)


def test_nested_providers_tree_rules(pl):
    root = pl.provider()
    child = pl.provider(parent=root["uuid"])
    grandchild = pl.provider(parent=child["uuid"])
    assert grandchild["root_provider_uuid"] == root["uuid"] and grandchild["parent_provider_uuid"] == child["uuid"]
    tree = ok(pl("GET", "/resource_providers", params={"in_tree": child["uuid"]}))["resource_providers"]
    assert {p["uuid"] for p in tree} == {root["uuid"], child["uuid"], grandchild["uuid"]}
    assert error(pl("DELETE", f"/resource_providers/{root['uuid']}"), 409)["code"] == \
        "placement.resource_provider.cannot_delete_parent"
    other = pl.provider()
    move = {"name": grandchild["name"], "parent_provider_uuid": other["uuid"]}
    assert error(pl("PUT", f"/resource_providers/{grandchild['uuid']}", version="1.36", json=move), 400)
    moved = ok(pl("PUT", f"/resource_providers/{grandchild['uuid']}", version="1.37", json=move))
    assert moved["root_provider_uuid"] == other["uuid"]
    loop = {"name": root["name"], "parent_provider_uuid": child["uuid"]}
    assert "loop" in error(pl("PUT", f"/resource_providers/{root['uuid']}", json=loop), 400)["detail"]
    missing_parent = {"name": name(), "parent_provider_uuid": new_uuid()}
    assert error(pl("POST", "/resource_providers", json=missing_parent), 400)


# -- inventories -------------------------------------------------------------------------------------------------
def test_inventories_defaults_generations_and_validation(pl):
    rp = pl.provider()
    base = f"/resource_providers/{rp['uuid']}/inventories"
    got = pl.inventory(rp["uuid"], VCPU=8, MEMORY_MB={"total": 4096, "reserved": 512, "allocation_ratio": 1.5})
    assert got["resource_provider_generation"] == 1
    assert got["inventories"]["VCPU"] == {"total": 8, "reserved": 0, "min_unit": 1, "max_unit": 2147483647,
                                          "step_size": 1, "allocation_ratio": 1.0}
    stale = {"resource_provider_generation": 0, "inventories": {"VCPU": {"total": 4}}}
    assert error(pl("PUT", base, json=stale), 409)["code"] == "placement.concurrent_update"
    one = ok(pl("PUT", f"{base}/VCPU", json={"resource_provider_generation": 1, "total": 16, "max_unit": 4}))
    assert one["total"] == 16 and one["max_unit"] == 4 and one["resource_provider_generation"] == 2
    assert ok(pl("GET", f"{base}/MEMORY_MB"))["reserved"] == 512
    for bad in ({"total": 0}, {"total": 8, "step_size": 0}, {"total": 8, "allocation_ratio": 0},
                {"total": "8"}, {"total": 8, "colour": "red"}):
        body = {"resource_provider_generation": 2, "inventories": {"DISK_GB": bad}}
        assert error(pl("PUT", base, json=body), 400)
    over = {"resource_provider_generation": 2, "inventories": {"DISK_GB": {"total": 10, "reserved": 10}}}
    assert error(pl("PUT", base, version="1.25", json=over), 400)
    assert ok(pl("PUT", base, version="1.26", json=over))["inventories"]["DISK_GB"]["reserved"] == 10
    unknown = {"resource_provider_generation": 3, "inventories": {"CUSTOM_NOPE": {"total": 1}}}
    assert "Unknown resource class" in error(pl("PUT", base, json=unknown), 400)["detail"]
    assert error(pl("PUT", f"{base}/DISK_GB", json={"total": 1}), 400)  # the generation is required
    assert pl("DELETE", f"{base}/DISK_GB").status_code == 204
    assert error(pl("GET", f"{base}/DISK_GB"), 404)
    assert error(pl("DELETE", base, version="1.4"), 404)
    assert pl("DELETE", base, version="1.5").status_code == 204
    assert ok(pl("GET", base))["inventories"] == {}


# -- resource classes and traits -----------------------------------------------------------------------------------
def test_resource_classes(pl):
    names = [c["name"] for c in ok(pl("GET", "/resource_classes"))["resource_classes"]]
    assert names[:3] == ["VCPU", "MEMORY_MB", "DISK_GB"]
    custom = "CUSTOM_" + uuid.uuid4().hex[:8].upper()
    assert pl("POST", "/resource_classes", json={"name": custom}).status_code == 201
    assert error(pl("POST", "/resource_classes", json={"name": custom}), 409)
    assert error(pl("POST", "/resource_classes", json={"name": "NOT_CUSTOM"}), 400)
    assert ok(pl("GET", f"/resource_classes/{custom}"))["name"] == custom
    assert pl("PUT", f"/resource_classes/{custom}", version="1.7").status_code == 204
    other = custom + "_B"
    assert pl("PUT", f"/resource_classes/{other}", version="1.7").status_code == 201
    renamed = other + "_C"
    assert ok(pl("PUT", f"/resource_classes/{other}", version="1.6", json={"name": renamed}))["name"] == renamed
    assert error(pl("DELETE", "/resource_classes/VCPU"), 400)
    rp = pl.provider(**{custom: 3})
    assert error(pl("DELETE", f"/resource_classes/{custom}"), 409)
    pl("DELETE", f"/resource_providers/{rp['uuid']}/inventories")
    assert pl("DELETE", f"/resource_classes/{custom}").status_code == 204
    assert error(pl("GET", f"/resource_classes/{custom}"), 404)


def test_traits_and_provider_traits(pl):
    custom = "CUSTOM_" + uuid.uuid4().hex[:8].upper()
    assert pl("PUT", f"/traits/{custom}").status_code == 201
    assert pl("PUT", f"/traits/{custom}").status_code == 204
    assert error(pl("PUT", "/traits/lowercase"), 400)
    assert pl("GET", f"/traits/{custom}").status_code == 204
    assert pl("GET", "/traits/HW_CPU_X86_AVX2").status_code == 204
    assert ok(pl("GET", "/traits", params={"name": f"in:{custom},HW_CPU_X86_AVX2"}))["traits"] == \
        [custom, "HW_CPU_X86_AVX2"]
    assert custom in ok(pl("GET", "/traits", params={"name": "startswith:CUSTOM_"}))["traits"]
    rp = pl.provider()
    path = f"/resource_providers/{rp['uuid']}/traits"
    set_ = ok(pl("PUT", path, json={"traits": [custom, "HW_CPU_X86_AVX2"], "resource_provider_generation": 0}))
    assert set_ == {"traits": [custom, "HW_CPU_X86_AVX2"], "resource_provider_generation": 1}
    assert error(pl("PUT", path, json={"traits": [], "resource_provider_generation": 0}), 409)["code"] == \
        "placement.concurrent_update"
    assert "No such trait" in error(pl("PUT", path, json={"traits": ["CUSTOM_NOT_THERE"],
                                                         "resource_provider_generation": 1}), 400)["detail"]
    assert custom in ok(pl("GET", "/traits", params={"associated": "true"}))["traits"]
    assert error(pl("DELETE", f"/traits/{custom}"), 409)
    assert error(pl("DELETE", "/traits/HW_CPU_X86_AVX2"), 400)
    listed = ok(pl("GET", "/resource_providers", params={"required": f"{custom},!HW_CPU_X86_SSE"}))
    assert [p["uuid"] for p in listed["resource_providers"]] == [rp["uuid"]]
    assert pl("DELETE", path).status_code == 204
    assert ok(pl("GET", path)) == {"traits": [], "resource_provider_generation": 2}
    assert pl("DELETE", f"/traits/{custom}").status_code == 204


def test_aggregates_list_form_and_generation_form(pl):
    rp = pl.provider()
    path = f"/resource_providers/{rp['uuid']}/aggregates"
    agg1, agg2 = sorted([new_uuid(), new_uuid()])
    assert ok(pl("PUT", path, version="1.1", json=[agg1])) == {"aggregates": [agg1]}
    assert ok(pl("GET", path, version="1.18")) == {"aggregates": [agg1]}
    assert error(pl("GET", path, version="1.0"), 404)
    generation = ok(pl("GET", path))["resource_provider_generation"]
    body = {"aggregates": [agg1, agg2], "resource_provider_generation": generation}
    assert ok(pl("PUT", path, json=body)) == {"aggregates": [agg1, agg2],
                                              "resource_provider_generation": generation + 1}
    assert error(pl("PUT", path, json=body), 409)["code"] == "placement.concurrent_update"
    assert error(pl("PUT", path, json=[agg1]), 400)  # 1.19 wants the object form
    member = ok(pl("GET", "/resource_providers", params={"member_of": f"in:{agg2},{new_uuid()}"}))
    assert [p["uuid"] for p in member["resource_providers"]] == [rp["uuid"]]
    assert ok(pl("GET", "/resource_providers", params=[("member_of", agg1), ("member_of", f"!{agg2}")])) == \
        {"resource_providers": []}


# -- allocations and usages ----------------------------------------------------------------------------------------
def test_allocations_capacity_units_and_consumer_generations(pl):
    rp = pl.provider(VCPU={"total": 4, "allocation_ratio": 2.0, "max_unit": 4},
                     MEMORY_MB={"total": 1024, "reserved": 512, "step_size": 256})
    u = rp["uuid"]
    c1, c2 = new_uuid(), new_uuid()
    assert pl.claim(c1, {u: {"VCPU": 4, "MEMORY_MB": 256}}).status_code == 204
    got = ok(pl("GET", f"/allocations/{c1}"))
    assert got["allocations"][u]["resources"] == {"VCPU": 4, "MEMORY_MB": 256}
    assert got["consumer_generation"] == 1 and got["project_id"] == "p1" and got["consumer_type"] == "INSTANCE"
    assert got["allocations"][u]["generation"] == ok(pl("GET", f"/resource_providers/{u}"))["generation"]
    # (4 - 0) * 2.0 = 8 VCPU: 4 more fit, a fifth does not; memory has (1024 - 512) = 512 MB.
    assert "exceed the capacity" in error(pl.claim(c2, {u: {"VCPU": 4, "MEMORY_MB": 512}}), 409)["detail"]
    assert error(pl.claim(c2, {u: {"VCPU": 5}}), 409)  # over max_unit
    assert error(pl.claim(c2, {u: {"MEMORY_MB": 100}}), 409)  # not a multiple of step_size
    assert error(pl.claim(c2, {u: {"DISK_GB": 1}}), 409)  # no such inventory here
    assert error(pl.claim(c2, {new_uuid(): {"VCPU": 1}}), 400)
    assert error(pl.claim(c2, {u: {"VCPU": 0}}), 400)
    assert "Malformed consumer_uuid" in error(pl.claim("not-a-uuid", {u: {"VCPU": 1}}), 400)["detail"]
    assert pl.claim(c2, {u: {"VCPU": 4, "MEMORY_MB": 256}}).status_code == 204
    # Consumer generations: null means "new", a stale one conflicts.
    assert error(pl.claim(c1, {u: {"VCPU": 2}}, generation=None), 409)["code"] == "placement.concurrent_update"
    assert error(pl.claim(c1, {u: {"VCPU": 2}}, generation=7), 409)
    assert pl.claim(c1, {u: {"VCPU": 2}}, generation=1).status_code == 204
    held = ok(pl("GET", f"/resource_providers/{u}/allocations"))["allocations"]
    assert held[c1] == {"resources": {"VCPU": 2}, "consumer_generation": 2}
    assert ok(pl("GET", f"/resource_providers/{u}/usages"))["usages"] == {"VCPU": 6, "MEMORY_MB": 256}
    # What is allocated can be neither deleted nor removed from the inventory, nor its provider.
    assert error(pl("DELETE", f"/resource_providers/{u}/inventories/VCPU"), 409)["code"] == \
        "placement.inventory.inuse"
    gen = ok(pl("GET", f"/resource_providers/{u}"))["generation"]
    drop = {"resource_provider_generation": gen, "inventories": {"MEMORY_MB": {"total": 1024}}}
    assert error(pl("PUT", f"/resource_providers/{u}/inventories", json=drop), 409)["code"] == \
        "placement.inventory.inuse"
    assert error(pl("DELETE", f"/resource_providers/{u}"), 409)["code"] == "placement.resource_provider.inuse"
    # An empty map with the current generation releases safely (1.28); DELETE is unconditional.
    assert pl.claim(c1, {}, generation=2).status_code == 204
    assert ok(pl("GET", f"/allocations/{c1}")) == {"allocations": {}}
    assert pl("DELETE", f"/allocations/{c2}").status_code == 204
    assert error(pl("DELETE", f"/allocations/{c2}"), 404)
    assert pl("DELETE", f"/resource_providers/{u}").status_code == 204


def test_allocation_formats_of_older_microversions(pl):
    rp = pl.provider(VCPU=4)
    consumer = new_uuid()
    listed = {"allocations": [{"resource_provider": {"uuid": rp["uuid"]}, "resources": {"VCPU": 1}}]}
    assert error(pl("PUT", f"/allocations/{consumer}", version="1.8", json=listed), 400)  # project/user needed
    assert pl("PUT", f"/allocations/{consumer}", version="1.0", json=listed).status_code == 204
    old = ok(pl("GET", f"/allocations/{consumer}", version="1.11"))
    assert set(old) == {"allocations"} and old["allocations"][rp["uuid"]]["resources"] == {"VCPU": 1}
    mid = ok(pl("GET", f"/allocations/{consumer}", version="1.12"))
    assert mid["project_id"] == "00000000-0000-0000-0000-000000000000" and "consumer_generation" not in mid
    dict_form = {"allocations": {rp["uuid"]: {"resources": {"VCPU": 2}}}, "project_id": "p", "user_id": "u"}
    assert pl("PUT", f"/allocations/{consumer}", version="1.12", json=dict_form).status_code == 204
    assert error(pl("PUT", f"/allocations/{consumer}", version="1.28", json=dict_form), 400)  # generation needed
    assert error(pl("PUT", f"/allocations/{consumer}", version="1.38",
                    json={**dict_form, "consumer_generation": 2}), 400)  # consumer_type needed
    unknown = ok(pl("GET", f"/allocations/{consumer}"))
    assert unknown["consumer_type"] == "unknown" and unknown["project_id"] == "p"


def test_post_allocations_is_all_or_nothing(pl):
    rp = pl.provider(VCPU=2)
    a, b = new_uuid(), new_uuid()

    def entry(n):
        return {"allocations": {rp["uuid"]: {"resources": {"VCPU": n}}}, "project_id": "p", "user_id": "u",
                "consumer_generation": None, "consumer_type": "INSTANCE"}

    assert error(pl("POST", "/allocations", json={a: entry(1), b: entry(2)}), 409)
    assert ok(pl("GET", f"/allocations/{a}")) == {"allocations": {}}
    assert error(pl("POST", "/allocations", version="1.12", json={a: entry(1)}), 404)
    assert pl("POST", "/allocations", json={a: entry(1), b: entry(1)}).status_code == 204
    assert ok(pl("GET", f"/resource_providers/{rp['uuid']}/usages"))["usages"] == {"VCPU": 2}
    # Moving: one request takes from one consumer and gives to another.
    move = {a: {**entry(2), "consumer_generation": 1}, b: {**entry(0), "allocations": {}, "consumer_generation": 1}}
    assert pl("POST", "/allocations", json=move).status_code == 204
    assert ok(pl("GET", f"/allocations/{a}"))["allocations"][rp["uuid"]]["resources"] == {"VCPU": 2}
    assert ok(pl("GET", f"/allocations/{b}")) == {"allocations": {}}


def test_total_usages_by_project_user_and_type(pl, cloud, admin):
    rp = pl.provider(VCPU=64, MEMORY_MB=65536)
    project = new_uuid()
    pl.claim(new_uuid(), {rp["uuid"]: {"VCPU": 2, "MEMORY_MB": 512}}, project_id=project, user_id="alice")
    pl.claim(new_uuid(), {rp["uuid"]: {"VCPU": 1}}, project_id=project, user_id="bob", consumer_type="MIGRATION")
    assert error(pl("GET", "/usages", version="1.8", params={"project_id": project}), 404)
    assert error(pl("GET", "/usages"), 400)
    flat = ok(pl("GET", "/usages", version="1.9", params={"project_id": project}))
    assert flat == {"usages": {"VCPU": 3, "MEMORY_MB": 512}}
    assert ok(pl("GET", "/usages", version="1.9", params={"project_id": project, "user_id": "bob"})) == \
        {"usages": {"VCPU": 1}}
    typed = ok(pl("GET", "/usages", params={"project_id": project}))["usages"]
    assert typed == {"INSTANCE": {"consumer_count": 1, "VCPU": 2, "MEMORY_MB": 512},
                     "MIGRATION": {"consumer_count": 1, "VCPU": 1}}
    everything = ok(pl("GET", "/usages", params={"project_id": project, "consumer_type": "all"}))["usages"]
    assert everything == {"all": {"consumer_count": 2, "VCPU": 3, "MEMORY_MB": 512}}


# -- allocation candidates ---------------------------------------------------------------------------------------
def _in_agg(pl, rp: str, agg: str) -> None:
    """Tests share one cloud: each puts its providers in a fresh aggregate and asks for that one."""
    gen = ok(pl("GET", f"/resource_providers/{rp}"))["generation"]
    ok(pl("PUT", f"/resource_providers/{rp}/aggregates",
          json={"aggregates": [agg], "resource_provider_generation": gen}))


def test_candidates_traits_member_of_limit_and_shapes(pl):
    agg = new_uuid()
    fast = pl.provider(VCPU=8, MEMORY_MB=8192, DISK_GB=100)
    slow = pl.provider(VCPU=8, MEMORY_MB=8192, DISK_GB=100)
    full = pl.provider(VCPU=1, MEMORY_MB=8192, DISK_GB=100)
    for rp in (fast, slow, full):
        _in_agg(pl, rp["uuid"], agg)
    gen = ok(pl("GET", f"/resource_providers/{fast['uuid']}"))["generation"]
    ok(pl("PUT", f"/resource_providers/{fast['uuid']}/traits",
          json={"traits": ["HW_CPU_X86_AVX2"], "resource_provider_generation": gen}))
    query = {"resources": "VCPU:2,MEMORY_MB:512,DISK_GB:1", "member_of": agg}
    body = ok(pl("GET", "/allocation_candidates", params=query))
    found = {next(iter(r["allocations"])) for r in body["allocation_requests"]}
    assert found == {fast["uuid"], slow["uuid"]}  # `full` has one VCPU
    request = body["allocation_requests"][0]
    assert request["mappings"] == {"": list(request["allocations"])}
    summary = body["provider_summaries"][fast["uuid"]]
    assert summary["resources"]["VCPU"] == {"capacity": 8, "used": 0}
    assert summary["traits"] == ["HW_CPU_X86_AVX2"] and summary["root_provider_uuid"] == fast["uuid"]
    required = ok(pl("GET", "/allocation_candidates", params={**query, "required": "HW_CPU_X86_AVX2"}))
    assert [next(iter(r["allocations"])) for r in required["allocation_requests"]] == [fast["uuid"]]
    forbidden = ok(pl("GET", "/allocation_candidates", params={**query, "required": "!HW_CPU_X86_AVX2"}))
    assert [next(iter(r["allocations"])) for r in forbidden["allocation_requests"]] == [slow["uuid"]]
    any_of = ok(pl("GET", "/allocation_candidates", params={**query, "required": "in:HW_CPU_X86_AVX2,HW_GPU_API_VULKAN"}))
    assert len(any_of["allocation_requests"]) == 1
    assert len(ok(pl("GET", "/allocation_candidates", params={**query, "limit": 1}))["allocation_requests"]) == 1
    # 1.10 shape: a list of allocations, summaries without traits; nothing newer is accepted.
    old = ok(pl("GET", "/allocation_candidates", version="1.10", params={"resources": query["resources"]}))
    assert isinstance(old["allocation_requests"][0]["allocations"], list)
    assert all(set(s) == {"resources"} for s in old["provider_summaries"].values())
    assert error(pl("GET", "/allocation_candidates", version="1.15", params={**query, "limit": 1}), 400)
    assert error(pl("GET", "/allocation_candidates", version="1.9", params=query), 404)
    assert "No such trait" in error(pl("GET", "/allocation_candidates",
                                       params={**query, "required": "CUSTOM_NEVER_MADE"}), 400)["detail"]
    assert error(pl("GET", "/allocation_candidates", params={"resources": "VCPU"}), 400)
    assert error(pl("GET", "/allocation_candidates", params={"resources": "NOT_A_CLASS:1"}), 400)
    assert error(pl("GET", "/allocation_candidates", params={"member_of": agg}), 400)


def test_candidates_in_nested_trees_and_granular_groups(pl):
    agg = new_uuid()
    host = pl.provider(MEMORY_MB=4096, DISK_GB=50)
    numa0 = pl.provider(parent=host["uuid"], VCPU=4)
    numa1 = pl.provider(parent=host["uuid"], VCPU=4)
    _in_agg(pl, host["uuid"], agg)  # an aggregate on the root spans the tree for the unnumbered group
    query = {"resources": "VCPU:2,MEMORY_MB:1024", "member_of": agg}
    body = ok(pl("GET", "/allocation_candidates", params=query))
    assert len(body["allocation_requests"]) == 2
    for request in body["allocation_requests"]:
        assert request["allocations"][host["uuid"]]["resources"] == {"MEMORY_MB": 1024}
        numa = next(u for u in request["allocations"] if u != host["uuid"])
        assert numa in (numa0["uuid"], numa1["uuid"])
        assert request["allocations"][numa]["resources"] == {"VCPU": 2}
    assert set(body["provider_summaries"]) == {host["uuid"], numa0["uuid"], numa1["uuid"]}
    assert body["provider_summaries"][numa0["uuid"]]["parent_provider_uuid"] == host["uuid"]
    # Before 1.29 a candidate may use one provider per tree: this tree has none.
    assert ok(pl("GET", "/allocation_candidates", version="1.28", params=query))["allocation_requests"] == []
    # Granular: two groups of 3 VCPU each fit only on different NUMA nodes.
    granular = {"resources": "MEMORY_MB:1024", "member_of": agg, "resources1": "VCPU:3",
                "resources_B": "VCPU:3", "group_policy": "isolate"}
    found = ok(pl("GET", "/allocation_candidates", params=granular))["allocation_requests"]
    assert len(found) == 2
    assert {tuple(r["mappings"]["1"] + r["mappings"]["_B"]) for r in found} == \
        {(numa0["uuid"], numa1["uuid"]), (numa1["uuid"], numa0["uuid"])}
    assert error(pl("GET", "/allocation_candidates", params={k: v for k, v in granular.items()
                                                             if k != "group_policy"}), 400)
    assert error(pl("GET", "/allocation_candidates", version="1.32", params=granular), 400)  # string suffix
    # With group_policy=none both groups of 2 may land on one NUMA node.
    shared = {**granular, "resources1": "VCPU:2", "resources_B": "VCPU:2", "group_policy": "none"}
    assert len(ok(pl("GET", "/allocation_candidates", params=shared))["allocation_requests"]) == 4
    in_tree = ok(pl("GET", "/allocation_candidates", params={"resources": "VCPU:1", "in_tree": numa1["uuid"]}))
    assert {u for r in in_tree["allocation_requests"] for u in r["allocations"]} == {numa0["uuid"], numa1["uuid"]}
    gen = ok(pl("GET", f"/resource_providers/{host['uuid']}"))["generation"]
    ok(pl("PUT", f"/resource_providers/{host['uuid']}/traits",
          json={"traits": ["COMPUTE_STATUS_DISABLED"], "resource_provider_generation": gen}))
    disabled = {**query, "root_required": "!COMPUTE_STATUS_DISABLED"}
    assert ok(pl("GET", "/allocation_candidates", params=disabled))["allocation_requests"] == []


# -- policy and malformed input --------------------------------------------------------------------------------------
def test_non_admins_are_refused_but_read_their_own_usages(cloud, admin):
    project, _, token = member_of_new_project(cloud, admin)
    headers = {"X-Auth-Token": token, "OpenStack-API-Version": "placement latest"}
    with httpx.Client(base_url=f"{cloud.url}/placement", headers=headers, timeout=30) as member:
        assert error(member.get("/resource_providers"), 403)
        assert error(member.post("/resource_providers", json={"name": name()}), 403)
        assert error(member.get("/allocation_candidates", params={"resources": "VCPU:1"}), 403)
        assert error(member.get("/usages", params={"project_id": new_uuid()}), 403)
        assert ok(member.get("/usages", params={"project_id": project["id"]})) == {"usages": {}}


@pytest.mark.parametrize("path, payload", [
    ("/resource_providers", b"{not json"),
    ("/resource_providers", b'{"name": 5}'),
    ("/resource_providers", b'{"name": "x", "uuid": "not-a-uuid"}'),
    ("/resource_providers", b'["a", "list"]'),
    ("/allocations", b'{"not-a-uuid": {}}'),
    ("/allocations", b"{}"),
])
def test_malformed_bodies_are_400(pl, path, payload):
    resp = pl("POST", path, content=payload, headers={"Content-Type": "application/json"})
    assert error(resp, 400)


def test_a_bad_body_is_checked_after_the_version_the_policy_and_the_path(cloud, admin, pl):
    """Placement's order: a route newer than the microversion is a 404, a caller without the role a 403 and a
    malformed consumer a 400 naming it, whatever the body says."""
    bad = {"bogus": True}
    assert error(pl("POST", "/allocations", version="1.12", json=bad), 404)
    assert error(pl("PUT", "/resource_providers/x/traits", version="1.5", json=bad), 404)
    assert "Malformed consumer_uuid" in error(pl("PUT", "/allocations/not-a-uuid", json=bad), 400)["detail"]
    assert "Invalid input" in error(pl("PUT", f"/allocations/{new_uuid()}", json=bad), 400)["detail"]
    _, _, token = member_of_new_project(cloud, admin)
    headers = {"X-Auth-Token": token, "OpenStack-API-Version": "placement latest"}
    with httpx.Client(base_url=f"{cloud.url}/placement", headers=headers, timeout=30) as member:
        assert error(member.post("/resource_providers", json=bad), 403)
    assert httpx.post(f"{cloud.url}/placement/resource_providers", json=bad).status_code == 401


def test_parallel_claims_on_the_last_units(pl):
    """Capacity N, many concurrent claimants: exactly N win, the rest get 409, never more than N used."""
    capacity = 5
    rp = pl.provider(VCPU=capacity)

    def claim(_):
        return pl.claim(new_uuid(), {rp["uuid"]: {"VCPU": 1}}).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        codes = list(pool.map(claim, range(24)))
    assert codes.count(204) == capacity and codes.count(409) == 24 - capacity
    assert ok(pl("GET", f"/resource_providers/{rp['uuid']}/usages"))["usages"] == {"VCPU": capacity}
