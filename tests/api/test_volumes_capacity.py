"""Cinder's capacity filter on the file backend over HTTP: get_pools shows the pool's capacity as Cinder's
scheduler stats do, a volume that fits is made (and counts as provisioned), one beyond the over-subscription
ratio ends in 'error' with Cinder's 'No valid backend was found' message."""

import math

from tests.api.helpers import ok
from tests.api.helpers import wait as settle


def pool(cinder_admin) -> dict:
    (found,) = ok(cinder_admin.get("/scheduler-stats/get_pools", params={"detail": "true"}))["pools"]
    return found["capabilities"]


def test_get_pools_capacity_and_the_capacity_filter(cinder_admin):
    caps = pool(cinder_admin)
    for key in ("total_capacity_gb", "free_capacity_gb", "provisioned_capacity_gb", "allocated_capacity_gb"):
        assert isinstance(caps[key], (int, float)) and caps[key] >= 0, key
    assert caps["max_over_subscription_ratio"] == 20.0 and caps["reserved_percentage"] == 0
    assert caps["thin_provisioning_support"] is True and caps["thick_provisioning_support"] is False

    project_id = str(cinder_admin.base_url).rstrip("/").rsplit("/", 1)[1]
    ok(cinder_admin.put(f"/os-quota-sets/{project_id}", json={"quota_set": {"gigabytes": -1}}))
    made = []
    try:
        fits = ok(cinder_admin.post("/volumes", json={"volume": {"size": 1, "name": "fits"}}), 202)["volume"]
        made.append(fits["id"])
        settle(lambda: ok(cinder_admin.get(f"/volumes/{fits['id']}"))["volume"]["status"] == "available", 30,
               "the volume that fits")
        assert pool(cinder_admin)["provisioned_capacity_gb"] >= caps["provisioned_capacity_gb"] + 1

        # past 20 times the file system's size: no backend takes it
        now = pool(cinder_admin)
        size = math.ceil(now["total_capacity_gb"] * 20) - now["provisioned_capacity_gb"] + 1
        big = ok(cinder_admin.post("/volumes", json={"volume": {"size": size, "name": "too-big"}}), 202)["volume"]
        made.append(big["id"])
        shown = settle(lambda: (v := ok(cinder_admin.get(f"/volumes/{big['id']}"))["volume"])["status"] == "error"
                       and v, 30, "the volume that does not fit in error")
        assert shown["size"] == size
        messages = ok(cinder_admin.get("/messages", headers={"OpenStack-API-Version": "volume 3.3"}))["messages"]
        found = [m for m in messages if m["resource_uuid"] == big["id"]]
        assert found and "No valid backend was found" in found[0]["user_message"], found
        assert "over subscription ratio" in found[0]["user_message"]
        # the refused volume promises nothing
        assert pool(cinder_admin)["provisioned_capacity_gb"] == now["provisioned_capacity_gb"]
    finally:
        for volume_id in made:
            cinder_admin.delete(f"/volumes/{volume_id}")
        cinder_admin.delete(f"/os-quota-sets/{project_id}")
