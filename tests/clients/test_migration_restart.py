"""A live migration cut by a kill -9 of the cloud: after the restart the engine picks it up from its row and
ends it (nothing stays MIGRATING); the guest is on exactly one host, where its port is bound (the
destination's inactive binding dropped) and its room held."""


import httpx

from tests.api.helpers import name, ok, upload_image, wait
from tests.cloudfixture import Cloud

V280 = {"X-OpenStack-Nova-API-Version": "2.80"}


def test_a_live_migration_cut_by_kill_9_ends_on_one_host_after_the_restart(tmp_path):
    cloud = Cloud(tmp_path / "data").start()
    try:
        headers = {"X-Auth-Token": cloud.token()}
        http = httpx.Client(base_url=cloud.url, headers=headers, timeout=60)
        nova = httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={**headers, **V280}, timeout=60)
        image = upload_image(http, image_name=name("img"))
        net = ok(http.post("/network/v2.0/networks", json={"network": {"name": name("net")}}), 201)["network"]
        ok(http.post("/network/v2.0/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 4,
                                                              "cidr": "10.81.0.0/24"}}), 201)
        server = ok(nova.post("/servers", json={"server": {
            "name": name("vm"), "imageRef": image["id"], "flavorRef": "4",  # 8 GB: an 8 s pass on fake hosts
            "networks": [{"uuid": net["id"]}]}}), 202)["server"]
        shown = wait(lambda: (s := ok(nova.get(f"/servers/{server['id']}"))["server"])["status"] == "ACTIVE" and s,
                     60, "the server ACTIVE")
        source = shown["OS-EXT-SRV-ATTR:host"]
        ok(nova.post(f"/servers/{server['id']}/action",
                     json={"os-migrateLive": {"host": None, "block_migration": "auto"}}), 202)
        (running,) = wait(lambda: [m for m in ok(nova.get(f"/servers/{server['id']}/migrations"))["migrations"]
                                   if m["status"] == "running"], 30, "the migration running")
        (port,) = ok(http.get("/network/v2.0/ports", params={"device_id": server["id"]}))["ports"]
        bindings = f"/network/v2.0/ports/{port['id']}/bindings"
        # cut while the port is bound on both hosts: ACTIVE on the source, INACTIVE on the destination
        assert [(b["host"], b["status"]) for b in ok(http.get(bindings))["bindings"]] == [
            (source, "ACTIVE"), (running["dest_compute"], "INACTIVE")]

        cloud.kill_9()
        cloud.onestack("up", "--bind", f"127.0.0.1:{cloud.port}", "--detach", "--no-user-clouds")
        nova.headers["X-Auth-Token"] = http.headers["X-Auth-Token"] = cloud.token()

        settled = wait(lambda: (s := ok(nova.get(f"/servers/{server['id']}"))["server"])["status"] != "MIGRATING"
                       and s, 60, "the migration to end after the restart")
        (migration,) = ok(nova.get("/os-migrations", params={"instance_uuid": server["id"]}))["migrations"]
        # the fake hosts' guests lived in the killed process: the migration cannot have completed
        assert migration["status"] == "failed" and settled["OS-EXT-SRV-ATTR:host"] == source
        assert ok(nova.get(f"/servers/{server['id']}/migrations"))["migrations"] == []
        (port,) = ok(http.get("/network/v2.0/ports", params={"device_id": server["id"]}))["ports"]
        assert port["binding:host_id"] == source
        assert [(b["host"], b["status"]) for b in ok(http.get(bindings))["bindings"]] == [(source, "ACTIVE")]
        with httpx.Client(base_url=f"{cloud.url}/placement",
                          headers={**headers, "X-Auth-Token": cloud.token(),
                                   "OpenStack-API-Version": "placement 1.28"}) as placement:
            assert len(ok(placement.get(f"/allocations/{server['id']}"))["allocations"]) == 1
            assert ok(placement.get(f"/allocations/{migration['uuid']}"))["allocations"] == {}
        ok(nova.delete(f"/servers/{server['id']}"), 204)
        wait(lambda: nova.get(f"/servers/{server['id']}").status_code == 404, 60, "the server gone")
    finally:
        cloud.stop()
