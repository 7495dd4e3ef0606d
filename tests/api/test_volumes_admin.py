"""Block Storage's catalogue and accounting over HTTP: volume types (extra specs, private types and access,
project defaults), quotas and limits, zones and services."""

import uuid

from tests.api.helpers import ok
from tests.api.volume_helpers import Project, cinder


def type_name() -> str:
    return f"type-{uuid.uuid4().hex[:8]}"


def test_the_default_type_exists_and_is_used(storage, cinder_admin):
    default = ok(storage.http.get("/types/default"))["volume_type"]
    assert default["name"] == "__DEFAULT__" and "extra_specs" not in default
    assert default["id"] in {t["id"] for t in ok(storage.http.get("/types"))["volume_types"]}
    delete = cinder_admin.delete(f"/types/{default['id']}")
    assert delete.status_code == 400 and "Default volume type" in delete.text


def test_types_with_extra_specs(storage, cinder_admin):
    name = type_name()
    made = ok(cinder_admin.post("/types", json={"volume_type": {
        "name": name, "description": "fast", "extra_specs": {"multiattach": "<is> True", "n": 1}}}))["volume_type"]
    assert made["extra_specs"] == {"multiattach": "<is> True", "n": "1"} and made["is_public"] is True
    path = f"/types/{made['id']}"
    assert ok(cinder_admin.post(f"{path}/extra_specs", json={"extra_specs": {"k": "v"}}))["extra_specs"]["k"] == "v"
    assert ok(cinder_admin.put(f"{path}/extra_specs/k", json={"k": "w"})) == {"k": "w"}
    assert ok(cinder_admin.get(f"{path}/extra_specs/k")) == {"k": "w"}
    ok(cinder_admin.delete(f"{path}/extra_specs/k"), 202)
    assert cinder_admin.get(f"{path}/extra_specs/k").status_code == 404
    updated = ok(cinder_admin.put(path, json={"volume_type": {"description": "faster"}}))["volume_type"]
    assert updated["description"] == "faster"
    assert storage.http.post("/types", json={"volume_type": {"name": type_name()}}).status_code == 403
    assert cinder_admin.post("/types", json={"volume_type": {"name": name}}).status_code == 409
    volume = storage.volume(volume_type=name)
    assert (volume["volume_type"], volume["multiattach"]) == (name, True)
    in_use = cinder_admin.delete(path)
    assert in_use.status_code == 400 and "still in use" in in_use.text
    ok(storage.http.delete(f"/volumes/{volume['id']}"), 202)
    storage.gone(f"/volumes/{volume['id']}")
    ok(cinder_admin.delete(path), 202)
    assert cinder_admin.get(path).status_code == 404


def test_a_private_type_is_seen_by_the_projects_given_it(cloud, admin, storage, cinder_admin):
    made = ok(cinder_admin.post("/types", json={"volume_type": {
        "name": type_name(), "os-volume-type-access:is_public": False}}))["volume_type"]
    path = f"/types/{made['id']}"
    assert storage.http.get(path).status_code == 404
    assert storage.http.post("/volumes", json={"volume": {"size": 1, "volume_type": made["id"]}}).status_code == 404
    assert made["id"] not in {t["id"] for t in ok(storage.http.get("/types"))["volume_types"]}
    action = {"addProjectAccess": {"project": storage.id}}
    ok(cinder_admin.post(f"{path}/action", json=action), 202)
    assert cinder_admin.post(f"{path}/action", json=action).status_code == 409
    assert ok(cinder_admin.get(f"{path}/os-volume-type-access"))["volume_type_access"] == [
        {"volume_type_id": made["id"], "project_id": storage.id}]
    assert ok(storage.http.get(path))["volume_type"]["id"] == made["id"]
    assert made["id"] in {t["id"] for t in ok(storage.http.get("/types"))["volume_types"]}
    other = Project(cloud, admin)
    assert other.http.get(path).status_code == 404
    all_types = ok(cinder_admin.get("/types", params={"is_public": "none"}))["volume_types"]
    assert made["id"] in {t["id"] for t in all_types}
    ok(cinder_admin.post(f"{path}/action", json={"removeProjectAccess": {"project": storage.id}}), 202)
    assert storage.http.get(path).status_code == 404
    public = ok(storage.http.get("/types/default"))["volume_type"]["id"]
    assert cinder_admin.post(f"/types/{public}/action", json=action).status_code == 400


def test_a_project_default_type(storage, cinder_admin):
    made = ok(cinder_admin.post("/types", json={"volume_type": {"name": type_name()}}))["volume_type"]
    body = {"default_type": {"volume_type": made["name"]}}
    assert ok(cinder_admin.put(f"/default-types/{storage.id}", json=body))["default_type"] == {
        "project_id": storage.id, "volume_type_id": made["id"]}
    assert storage.http.put(f"/default-types/{storage.id}", json=body).status_code == 403
    assert ok(storage.http.get("/types/default"))["volume_type"]["id"] == made["id"]
    assert storage.volume()["volume_type"] == made["name"]
    ok(cinder_admin.delete(f"/default-types/{storage.id}"), 204)
    assert ok(storage.http.get("/types/default"))["volume_type"]["name"] == "__DEFAULT__"
    with cinder(storage.cloud, cinder_admin.headers["X-Auth-Token"], None, version="3.61") as older:
        assert older.get(f"/default-types/{storage.id}").status_code == 404


def test_quotas_limit_volumes_gigabytes_and_snapshots(storage, cinder_admin):
    path = f"/os-quota-sets/{storage.id}"
    shown = ok(storage.http.get(path))["quota_set"]
    assert (shown["id"], shown["volumes"], shown["gigabytes"], shown["snapshots"]) == (storage.id, 10, 1000, 10)
    assert shown["volumes___DEFAULT__"] == -1
    assert storage.http.put(path, json={"quota_set": {"volumes": 1}}).status_code == 403
    updated = ok(cinder_admin.put(path, json={"quota_set": {"volumes": 2, "gigabytes": 3, "snapshots": 1}}))
    assert updated["quota_set"]["volumes"] == 2
    first = storage.volume(size=2)
    too_big = storage.http.post("/volumes", json={"volume": {"size": 2}})
    assert too_big.status_code == 413 and "gigabytes" in too_big.json()["overLimit"]["message"]
    storage.volume(size=1)
    too_many = storage.http.post("/volumes", json={"volume": {"size": 1}})
    assert too_many.status_code == 413 and "VolumeLimitExceeded" in too_many.text
    ok(cinder_admin.put(path, json={"quota_set": {"gigabytes": 10}}))
    storage.snapshot(first["id"])
    assert storage.http.post("/snapshots", json={"snapshot": {"volume_id": first["id"]}}).status_code == 413
    usage = ok(storage.http.get(path, params={"usage": "true"}))["quota_set"]
    assert usage["volumes"] == {"limit": 2, "in_use": 2, "reserved": 0, "allocated": 0}
    assert usage["gigabytes"]["in_use"] == 5 and usage["snapshots"]["in_use"] == 1
    below = cinder_admin.put(path, json={"quota_set": {"volumes": 1}})
    assert below.status_code == 400
    assert cinder_admin.put(path, json={"quota_set": {"bogus": 1}}).status_code == 400
    assert cinder_admin.put(path, json={"quota_set": {"volumes": "many"}}).status_code == 400
    limits = ok(storage.http.get("/limits"))["limits"]["absolute"]
    assert (limits["maxTotalVolumes"], limits["totalVolumesUsed"], limits["totalGigabytesUsed"]) == (2, 2, 5)
    ok(cinder_admin.delete(path))
    assert ok(storage.http.get(path))["quota_set"]["volumes"] == 10
    assert ok(storage.http.get(f"{path}/defaults"))["quota_set"]["volumes"] == 10


def test_per_type_quota(storage, cinder_admin):
    made = ok(cinder_admin.post("/types", json={"volume_type": {"name": type_name()}}))["volume_type"]
    ok(cinder_admin.put(f"/os-quota-sets/{storage.id}", json={"quota_set": {f"volumes_{made['name']}": 1}}))
    storage.volume(volume_type=made["name"])
    refused = storage.http.post("/volumes", json={"volume": {"size": 1, "volume_type": made["name"]}})
    assert refused.status_code == 413 and f"volumes_{made['name']}" in refused.text
    storage.volume()  # the default type is not limited


def test_quota_class_defaults(cinder_admin, storage):
    shown = ok(cinder_admin.get("/os-quota-class-sets/default"))["quota_class_set"]
    assert shown["id"] == "default" and shown["volumes"] == 10
    assert storage.http.get("/os-quota-class-sets/default").status_code == 403


def test_zones_and_services(storage, cinder_admin):
    zones = ok(storage.http.get("/os-availability-zone"))["availabilityZoneInfo"]
    assert zones == [{"zoneName": "nova", "zoneState": {"available": True}}]
    assert storage.http.get("/os-services").status_code == 403
    services = ok(cinder_admin.get("/os-services"))["services"]
    assert {s["binary"] for s in services} == {"cinder-scheduler", "cinder-volume"}
    assert all(s["state"] == "up" and s["status"] == "enabled" for s in services)
    (volume_service,) = ok(cinder_admin.get("/os-services", params={"binary": "cinder-volume"}))["services"]
    assert volume_service["host"].endswith("@file")


def test_the_backend_its_pool_capabilities_hosts_and_services(storage, cinder_admin):
    volume = storage.volume()
    shown = ok(cinder_admin.get(f"/volumes/{volume['id']}"))["volume"]
    pool_name = shown["os-vol-host-attr:host"]
    host = pool_name.split("@")[0]
    (pool,) = ok(cinder_admin.get("/scheduler-stats/get_pools"))["pools"]
    assert pool == {"name": pool_name}
    (pool,) = ok(cinder_admin.get("/scheduler-stats/get_pools", params={"detail": "True"}))["pools"]
    caps = pool["capabilities"]
    assert (caps["volume_backend_name"], caps["storage_protocol"], caps["vendor_name"]) == ("file", "file",
                                                                                            "Open Source")
    assert 0 < caps["free_capacity_gb"] <= caps["total_capacity_gb"]
    backend = ok(cinder_admin.get(f"/capabilities/{pool_name}"))
    assert (backend["volume_backend_name"], backend["namespace"]) == ("file", "OS::Storage::Capabilities::file")
    assert cinder_admin.get("/capabilities/elsewhere@file").status_code == 404
    hosts = ok(cinder_admin.get("/os-hosts"))["hosts"]
    assert {(h["service"], h["host_name"]) for h in hosts} == {("cinder-scheduler", host),
                                                               ("cinder-volume", f"{host}@file")}
    usage = ok(cinder_admin.get(f"/os-hosts/{host}@file"))["host"]
    total = usage[0]["resource"]
    assert total["project"] == "(total)" and int(total["volume_count"]) >= 1
    mine = next(r["resource"] for r in usage if r["resource"]["project"] == storage.id)
    assert (mine["volume_count"], mine["total_volume_gb"]) == ("1", "1")
    # a host filter matches the volume service on host@file too, as Cinder's does
    services = ok(cinder_admin.get("/os-services", params={"host": host}))["services"]
    assert sorted(s["binary"] for s in services) == ["cinder-scheduler", "cinder-volume"]
    assert ok(cinder_admin.get("/os-services", params={"host": host, "binary": "cinder-volume"}))["services"][0][
        "host"] == f"{host}@file"
    # service changes: checked as Cinder checks them; only enabling (a no-op) is provided
    put = cinder_admin.put
    assert put("/os-services/enable", json={"host": "nowhere", "binary": "cinder-volume"}).status_code == 404
    assert put("/os-services/disable", json={"host": host, "binary": "cinder-x"}).status_code == 404
    assert put("/os-services/disable-log-reason", json={"host": host, "binary": "cinder-scheduler",
                                                        "disabled_reason": None}).status_code == 400
    assert put("/os-services/freeze", json={"host": "nowhere"}).status_code == 400
    assert put("/os-services/thaw", json={"host": "nowhere"}).status_code == 400
    assert ok(put("/os-services/enable", json={"host": host, "binary": "cinder-scheduler"}))["status"] == "enabled"
    assert put("/os-services/disable", json={"host": host, "binary": "cinder-scheduler"}).status_code == 409
    # admins only
    assert storage.http.get("/scheduler-stats/get_pools").status_code == 403
    assert storage.http.get("/os-hosts").status_code == 403
    assert storage.http.get(f"/capabilities/{pool_name}").status_code == 403
    assert storage.http.put("/os-services/enable", json={"host": host, "binary": "cinder-volume"}).status_code == 403
