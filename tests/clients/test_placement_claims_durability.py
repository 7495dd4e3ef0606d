"""Placement claims across kill -9: concurrent claims share one commit on SQLite (``GroupCommit``), so a
claim answered 204 must be there after the crash, and no claim may be half there (a consumer without its
allocations, usage that disagrees with the allocations)."""

import sqlite3
import threading
import uuid

import httpx
import pytest

from tests.api.helpers import ok, wait
from tests.cloudfixture import Cloud

CLASS = "CUSTOM_DURABLE"


@pytest.fixture
def claims_cloud(tmp_path):
    cloud = Cloud(tmp_path / "data").start()
    yield cloud
    cloud.stop()


def placement(cloud) -> httpx.Client:
    return httpx.Client(base_url=f"{cloud.url}/placement", timeout=30, headers={
        "X-Auth-Token": cloud.token(), "OpenStack-API-Version": "placement 1.28"})


def test_kill_9_among_concurrent_claims_keeps_every_acknowledged_one_whole(claims_cloud):
    cloud = claims_cloud
    http = placement(cloud)
    assert http.put(f"/resource_classes/{CLASS}").status_code == 201
    rp = ok(http.post("/resource_providers", json={"name": "durable"}))["uuid"]
    ok(http.put(f"/resource_providers/{rp}/inventories", json={
        "resource_provider_generation": 0, "inventories": {CLASS: {"total": 100000}}}))
    acknowledged: list[str] = []
    stop = threading.Event()

    def claimer():
        with placement(cloud) as mine:
            while not stop.is_set():
                consumer = str(uuid.uuid4())
                try:
                    resp = mine.put(f"/allocations/{consumer}", json={
                        "allocations": {rp: {"resources": {CLASS: 1}}}, "project_id": "p", "user_id": "u",
                        "consumer_generation": None})
                except httpx.HTTPError:
                    return  # the server died under us: that is the point
                assert resp.status_code == 204, resp.text
                acknowledged.append(consumer)

    threads = [threading.Thread(target=claimer, daemon=True) for _ in range(8)]
    for thread in threads:
        thread.start()
    wait(lambda: len(acknowledged) >= 40, 60, "claims to be flowing")  # so the kill lands among commits
    cloud.kill_9()
    stop.set()
    for thread in threads:
        thread.join(30)
    answered = list(acknowledged)
    with sqlite3.connect(cloud.data_dir / "onestack.db") as db:
        held = dict(db.execute("SELECT consumer_id, SUM(used) FROM placement_allocation GROUP BY consumer_id"))
        consumers = {row[0] for row in db.execute("SELECT uuid FROM placement_consumer")}
    assert set(answered) <= set(held), "an acknowledged claim was lost"
    assert consumers == set(held), "a consumer without its allocations, or allocations without a consumer"
    assert set(held.values()) == {1}
    cloud.onestack("up", "--bind", f"127.0.0.1:{cloud.port}", "--detach", "--no-user-clouds")
    with placement(cloud) as again:
        usage = ok(again.get(f"/resource_providers/{rp}/usages"))["usages"][CLASS]
        assert usage == len(held)
        one = answered[0]
        assert ok(again.get(f"/allocations/{one}"))["allocations"][rp]["resources"] == {CLASS: 1}
