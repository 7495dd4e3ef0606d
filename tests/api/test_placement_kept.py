"""The serving process keeps providers' inventories and traits between allocation-candidate searches
(``snapshot.Stocks``): every way those, usage and aggregates change must show in the very next answer,
over HTTP, including the changes that move no generation."""

import uuid

import httpx
import pytest
from sqlalchemy import func, select
from starlette.datastructures import QueryParams

from onestack.db.engine import Database
from onestack.http.microversion import Version
from onestack.services.placement.models import Provider, Revision
from onestack.services.placement.service import PlacementService
from tests.api.helpers import ok
from tests.api.test_placement import Placement


@pytest.fixture
def pl(cloud):
    with httpx.Client(base_url=f"{cloud.url}/placement", headers={"X-Auth-Token": cloud.token()},
                      timeout=60) as c:
        yield Placement(c)


def custom_class(pl) -> str:
    name = "CUSTOM_KEPT_" + uuid.uuid4().hex[:8].upper()
    assert pl("POST", "/resource_classes", json={"name": name}).status_code == 201
    return name


def summaries(pl, query: str, version: str = "1.36") -> dict:
    """provider uuid -> its summary's resources, for the providers of the candidates found."""
    found = ok(pl("GET", f"/allocation_candidates?{query}", version=version))
    return {rp: entry["resources"] for rp, entry in found["provider_summaries"].items()}


def test_inventory_and_trait_changes_show_in_the_next_answer(pl):
    rc = custom_class(pl)
    rp = pl.provider(**{rc: 4})["uuid"]
    assert summaries(pl, f"resources={rc}:1")[rp][rc] == {"capacity": 4, "used": 0}  # now kept
    pl.inventory(rp, **{rc: 6})
    assert summaries(pl, f"resources={rc}:1")[rp][rc] == {"capacity": 6, "used": 0}
    assert summaries(pl, f"resources={rc}:5") == {rp: {rc: {"capacity": 6, "used": 0}}}
    assert pl("DELETE", f"/resource_providers/{rp}/inventories").status_code == 204
    assert summaries(pl, f"resources={rc}:1") == {}

    trait = "CUSTOM_KEPT_" + uuid.uuid4().hex[:8].upper()
    assert pl("PUT", f"/traits/{trait}").status_code == 201
    pl.inventory(rp, **{rc: 4})
    assert summaries(pl, f"resources={rc}:1&required={trait}") == {}
    generation = ok(pl("GET", f"/resource_providers/{rp}"))["generation"]
    ok(pl("PUT", f"/resource_providers/{rp}/traits",
          json={"resource_provider_generation": generation, "traits": [trait]}))
    assert list(summaries(pl, f"resources={rc}:1&required={trait}")) == [rp]
    assert summaries(pl, f"resources={rc}:1&required=!{trait}") == {}


def test_usage_released_without_a_generation_change_shows_at_once(pl):
    rc = custom_class(pl)
    rp = pl.provider(**{rc: 2})["uuid"]
    consumer = str(uuid.uuid4())
    assert pl.claim(consumer, {rp: {rc: 2}}).status_code == 204
    assert summaries(pl, f"resources={rc}:1") == {}
    generation = ok(pl("GET", f"/resource_providers/{rp}"))["generation"]
    assert pl("DELETE", f"/allocations/{consumer}").status_code == 204
    assert ok(pl("GET", f"/resource_providers/{rp}"))["generation"] == generation  # no bump, as in Placement
    assert summaries(pl, f"resources={rc}:2") == {rp: {rc: {"capacity": 2, "used": 0}}}


def test_aggregates_set_before_1_19_show_at_once(pl):
    rc = custom_class(pl)
    rp = pl.provider(**{rc: 2})["uuid"]
    aggregate = str(uuid.uuid4())
    assert summaries(pl, f"resources={rc}:1&member_of={aggregate}") == {}
    generation = ok(pl("GET", f"/resource_providers/{rp}"))["generation"]
    ok(pl("PUT", f"/resource_providers/{rp}/aggregates", version="1.18", json=[aggregate]))
    assert ok(pl("GET", f"/resource_providers/{rp}"))["generation"] == generation
    assert list(summaries(pl, f"resources={rc}:1&member_of={aggregate}")) == [rp]


def test_a_provider_made_again_with_the_same_uuid_is_read_again(pl):
    """Deleted and made again (same uuid, perhaps the same row id), with other inventory, at the same
    generation as the one kept."""
    rc, other = custom_class(pl), custom_class(pl)
    rp = pl.provider(**{rc: 3})["uuid"]
    assert summaries(pl, f"resources={rc}:1") == {rp: {rc: {"capacity": 3, "used": 0}}}
    generation = ok(pl("GET", f"/resource_providers/{rp}"))["generation"]
    assert pl("DELETE", f"/resource_providers/{rp}").status_code == 204
    ok(pl("POST", "/resource_providers", json={"uuid": rp, "name": f"again-{rp}"}))
    pl.inventory(rp, **{other: 7})
    assert ok(pl("GET", f"/resource_providers/{rp}"))["generation"] == generation
    assert summaries(pl, f"resources={rc}:1") == {}
    assert summaries(pl, f"resources={other}:1") == {rp: {other: {"capacity": 7, "used": 0}}}


def test_a_class_renamed_before_1_7_shows_under_its_new_name(pl):
    rc = custom_class(pl)
    rp = pl.provider(**{rc: 5})["uuid"]
    assert summaries(pl, f"resources={rc}:1") == {rp: {rc: {"capacity": 5, "used": 0}}}
    renamed = rc + "_NEW"
    ok(pl("PUT", f"/resource_classes/{rc}", version="1.6", json={"name": renamed}))
    assert summaries(pl, f"resources={renamed}:1") == {rp: {renamed: {"capacity": 5, "used": 0}}}
    assert pl("GET", f"/allocation_candidates?resources={rc}:1", version="1.36").status_code == 400


def test_provider_list_filters_see_changes_too(pl):
    rc = custom_class(pl)
    rp = pl.provider(**{rc: 2})["uuid"]
    listed = ok(pl("GET", f"/resource_providers?resources={rc}:2"))["resource_providers"]
    assert [p["uuid"] for p in listed] == [rp]
    pl.inventory(rp, **{rc: 1})
    assert ok(pl("GET", f"/resource_providers?resources={rc}:2"))["resource_providers"] == []



def test_what_is_kept_of_deleted_providers_goes(cloud, pl):
    """In-process, on the cloud's database: a search over every provider forgets the ones deleted since."""
    db = Database(cloud.database or f"sqlite:///{cloud.data_dir / 'onestack.db'}")
    try:
        service = PlacementService(db)
        rc = custom_class(pl)
        made = [pl.provider(**{rc: 1})["uuid"] for _ in range(3)]
        service.snapshot()
        with db.read() as session:
            count = session.scalar(select(func.count()).select_from(Provider))
        assert len(service.stocks) == count
        for rp in made:
            assert pl("DELETE", f"/resource_providers/{rp}").status_code == 204
        assert len(service.snapshot().nodes) == count - 3
        assert len(service.stocks) == count - 3
    finally:
        db.dispose()


def test_a_change_through_another_serving_process_shows_in_the_next_answer(cloud, pl):
    """Each serving process keeps the providers' trees while the placement revision in the database holds
    (``kept``): a second service on the cloud's database (another worker, or another host on PostgreSQL)
    sees what the server wrote at its next search, and the server what it wrote; a claim (usage only) shows
    too, without moving the revision."""
    db = Database(cloud.database or f"sqlite:///{cloud.data_dir / 'onestack.db'}")
    try:
        other = PlacementService(db)
        rc = custom_class(pl)
        rp = pl.provider(**{rc: 4})["uuid"]

        def seen_by_other(query: str) -> dict:
            found = other.candidates_for(QueryParams(query), Version(1, 36))["provider_summaries"]
            return {uuid_: entry["resources"] for uuid_, entry in found.items()}

        assert seen_by_other(f"resources={rc}:1") == {rp: {rc: {"capacity": 4, "used": 0}}}  # now kept
        with db.read() as session:
            revision = session.scalar(select(Revision.value))
        pl.inventory(rp, **{rc: 6})  # through the server
        assert seen_by_other(f"resources={rc}:1") == {rp: {rc: {"capacity": 6, "used": 0}}}
        consumer = str(uuid.uuid4())
        assert pl.claim(consumer, {rp: {rc: 5}}).status_code == 204
        with db.read() as session:
            assert session.scalar(select(Revision.value)) == revision + 1  # the inventory moved it, the claim not
        assert seen_by_other(f"resources={rc}:1") == {rp: {rc: {"capacity": 6, "used": 5}}}
        assert seen_by_other(f"resources={rc}:2") == {}
        assert pl("DELETE", f"/allocations/{consumer}").status_code == 204

        trait = "CUSTOM_KEPT_" + uuid.uuid4().hex[:8].upper()
        assert summaries(pl, f"resources={rc}:1") == {rp: {rc: {"capacity": 6, "used": 0}}}  # the server keeps
        other.ensure_trait(trait)  # through the other process: the server's next answer knows the name...
        assert summaries(pl, f"resources={rc}:1&required={trait}") == {}
        generation = ok(pl("GET", f"/resource_providers/{rp}"))["generation"]
        other.set_provider_traits(rp, [trait], generation)  # ...and the provider's new trait
        assert list(summaries(pl, f"resources={rc}:1&required={trait}")) == [rp]
        assert seen_by_other(f"resources={rc}:1&required=!{trait}") == {}
    finally:
        db.dispose()
