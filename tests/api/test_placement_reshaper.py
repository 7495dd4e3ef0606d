"""POST /reshaper over HTTP (Placement 1.30): a host's VGPUs move from its root provider to a child provider
with the allocations against them, in one transaction; stale generations, bad input and older microversions
are refused and change nothing."""

import pytest

from tests.api import test_placement
from tests.api.helpers import member_of_new_project, ok
from tests.api.test_placement import error, new_uuid

# the placement module's fixture: a client as the admin, at the newest microversion unless told otherwise
pl = test_placement.pl


@pytest.fixture
def host(pl):
    """A root provider with memory and 4 VGPUs, an instance holding 512 MB and 2 VGPUs of it, and an empty
    child provider where the VGPUs are to go."""
    root = pl.provider(MEMORY_MB=2048, VGPU=4)["uuid"]
    child = pl.provider(parent=root)["uuid"]
    consumer = new_uuid()
    assert pl.claim(consumer, {root: {"MEMORY_MB": 512, "VGPU": 2}}).status_code == 204
    return root, child, consumer


def generation(pl, rp: str) -> int:
    return ok(pl("GET", f"/resource_providers/{rp}"))["generation"]


def inventories(pl, rp: str) -> dict:
    return ok(pl("GET", f"/resource_providers/{rp}/inventories"))["inventories"]


def reshape_body(pl, root: str, child: str, consumer: str, **override) -> dict:
    """The VGPUs (inventory and the consumer's 2) from ``root`` to ``child``, at the current generations."""
    body = {
        "inventories": {
            root: {"resource_provider_generation": generation(pl, root), "inventories": {"MEMORY_MB": {"total": 2048}}},
            child: {"resource_provider_generation": generation(pl, child), "inventories": {"VGPU": {"total": 4}}},
        },
        "allocations": {
            consumer: {"allocations": {root: {"resources": {"MEMORY_MB": 512}}, child: {"resources": {"VGPU": 2}}},
                       "project_id": "p1", "user_id": "u1", "consumer_generation": 1, "consumer_type": "INSTANCE"},
        },
    }
    body.update(override)
    return body


def unchanged(pl, root: str, child: str, consumer: str) -> None:
    """Nothing of a refused reshape happened: the VGPUs and the consumer's claim are still on the root."""
    assert set(inventories(pl, root)) == {"MEMORY_MB", "VGPU"} and inventories(pl, child) == {}
    held = ok(pl("GET", f"/allocations/{consumer}"))
    assert held["allocations"] == {root: {"resources": {"MEMORY_MB": 512, "VGPU": 2},
                                          "generation": generation(pl, root)}}
    assert held["consumer_generation"] == 1


def test_a_reshape_moves_inventory_and_allocations_to_the_child(pl, host):
    root, child, consumer = host
    before = generation(pl, root), generation(pl, child)
    resp = pl("POST", "/reshaper", version="1.30", json=reshape_body(pl, root, child, consumer, allocations={
        consumer: {"allocations": {root: {"resources": {"MEMORY_MB": 512}}, child: {"resources": {"VGPU": 2}}},
                   "project_id": "p1", "user_id": "u1", "consumer_generation": 1}}))
    assert resp.status_code == 204 and not resp.content
    assert set(inventories(pl, root)) == {"MEMORY_MB"}
    assert inventories(pl, child)["VGPU"]["total"] == 4
    held = ok(pl("GET", f"/allocations/{consumer}"))
    assert {rp: a["resources"] for rp, a in held["allocations"].items()} == {
        root: {"MEMORY_MB": 512}, child: {"VGPU": 2}}
    assert held["consumer_generation"] == 2
    assert ok(pl("GET", f"/resource_providers/{root}/usages"))["usages"] == {"MEMORY_MB": 512}
    assert ok(pl("GET", f"/resource_providers/{child}/usages"))["usages"] == {"VGPU": 2}
    after = generation(pl, root), generation(pl, child)
    assert after[0] > before[0] and after[1] > before[1]
    # the moved VGPUs are the child's now: candidates for 2 more come from the child, none for 3
    found = ok(pl("GET", "/allocation_candidates", params={"resources": "VGPU:2"}))["allocation_requests"]
    assert [list(a["allocations"]) for a in found] == [[child]]
    assert ok(pl("GET", "/allocation_candidates", params={"resources": "VGPU:3"}))["allocation_requests"] == []


def test_a_stale_provider_generation_is_409_and_changes_nothing(pl, host):
    root, child, consumer = host
    body = reshape_body(pl, root, child, consumer)
    body["inventories"][child]["resource_provider_generation"] += 1
    assert error(pl("POST", "/reshaper", json=body), 409)["code"] == "placement.concurrent_update"
    unchanged(pl, root, child, consumer)


def test_a_stale_consumer_generation_is_409_and_changes_nothing(pl, host):
    root, child, consumer = host
    body = reshape_body(pl, root, child, consumer)
    body["allocations"][consumer]["consumer_generation"] = 7
    assert error(pl("POST", "/reshaper", json=body), 409)["code"] == "placement.concurrent_update"
    unchanged(pl, root, child, consumer)


def test_allocations_beyond_the_new_inventory_are_409_and_change_nothing(pl, host):
    root, child, consumer = host
    body = reshape_body(pl, root, child, consumer)
    body["inventories"][child]["inventories"] = {"VGPU": {"total": 1}}
    assert "exceed the capacity" in error(pl("POST", "/reshaper", json=body), 409)["detail"]
    unchanged(pl, root, child, consumer)


@pytest.mark.parametrize("change", [
    "no inventories", "no allocations", "an unknown key", "a provider key that is no uuid",
    "an inventory without its generation", "a total of 0", "an unknown resource class",
])
def test_bad_input_is_400_and_changes_nothing(pl, host, change):
    root, child, consumer = host
    body = reshape_body(pl, root, child, consumer)
    if change == "no inventories":
        del body["inventories"]
    elif change == "no allocations":
        del body["allocations"]
    elif change == "an unknown key":
        body["colour"] = "red"
    elif change == "a provider key that is no uuid":
        body["inventories"]["not-a-uuid"] = body["inventories"].pop(child)
    elif change == "an inventory without its generation":
        del body["inventories"][child]["resource_provider_generation"]
    elif change == "a total of 0":
        body["inventories"][child]["inventories"] = {"VGPU": {"total": 0}}
    elif change == "an unknown resource class":
        body["inventories"][child]["inventories"] = {"VGPU": {"total": 4}, "CUSTOM_NOPE": {"total": 1}}
    error(pl("POST", "/reshaper", json=body), 400)
    unchanged(pl, root, child, consumer)


def test_providers_that_do_not_exist_are_400(pl, host):
    root, child, consumer = host
    body = reshape_body(pl, root, child, consumer)
    body["inventories"][new_uuid()] = body["inventories"].pop(child)
    assert error(pl("POST", "/reshaper", json=body), 400)["code"] == "placement.resource_provider.not_found"
    body = reshape_body(pl, root, child, consumer)
    body["allocations"][consumer]["allocations"][new_uuid()] = body["allocations"][consumer]["allocations"].pop(child)
    assert "does not exist" in error(pl("POST", "/reshaper", json=body), 400)["detail"]
    unchanged(pl, root, child, consumer)


def test_the_route_exists_from_1_30_and_for_admins_only(cloud, admin, pl, host):
    root, child, consumer = host
    body = reshape_body(pl, root, child, consumer)
    assert error(pl("POST", "/reshaper", version="1.29", json=body), 404)
    unchanged(pl, root, child, consumer)
    _, _, token = member_of_new_project(cloud, admin)
    member = pl.http.post("/reshaper", json=body, headers={"X-Auth-Token": token,
                                                           "OpenStack-API-Version": "placement 1.30"})
    assert error(member, 403)
    unchanged(pl, root, child, consumer)
    # from 1.38 every consumer says its type, as in PUT /allocations
    del body["allocations"][consumer]["consumer_type"]
    assert "consumer_type" in error(pl("POST", "/reshaper", version="1.38", json=body), 400)["detail"]
    unchanged(pl, root, child, consumer)
