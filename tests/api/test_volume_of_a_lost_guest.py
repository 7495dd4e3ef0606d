"""A volume attached to a fake guest that a restart lost (the fake driver keeps its guests in memory; the
server is then SHUTOFF, as a QEMU guest that died with its host) is snapshotted and extended as a volume no
running guest holds, as QEMU's driver does it: the chaos run once found the snapshot failed ("instance does
not exist") and the overlay made for it left in the volumes directory. On a cloud of this module's own, which
the test kills."""

from tests.api import test_server_volumes, test_servers
from tests.api.helpers import ok
from tests.api.helpers import wait as settle
from tests.api.test_server_volumes import a_server_with_a_volume, wait_volume
from tests.api.test_servers import wait
from tests.cloudfixture import own_cloud

# the servers' and server volumes' fixtures, on this cloud
tenant, image_id, volumes = test_servers.tenant, test_servers.image_id, test_server_volumes.volumes
cloud = own_cloud("lost-guest")


def test_a_volume_whose_guest_a_restart_lost_is_snapshotted_and_extended_as_it_lies(cloud, tenant, image_id,
                                                                                    volumes):
    server, volume = a_server_with_a_volume(tenant, image_id, volumes)
    cloud.kill_9()
    cloud.onestack("up", "--bind", f"127.0.0.1:{cloud.port}", "--detach", "--no-user-clouds")
    wait(tenant, server["id"], "SHUTOFF")

    snapshot = ok(volumes.post("/snapshots", json={"snapshot": {"volume_id": volume["id"], "force": True}}),
                  202)["snapshot"]

    def settled():
        found = ok(volumes.get(f"/snapshots/{snapshot['id']}"))["snapshot"]
        return found if found["status"] in ("available", "error") else None

    assert settle(settled, 30, "the snapshot to settle")["status"] == "available"
    ok(volumes.post(f"/volumes/{volume['id']}/action", json={"os-extend": {"new_size": 2}},
                    headers={"OpenStack-API-Version": "volume 3.42"}), 202)
    settle(lambda: ok(volumes.get(f"/volumes/{volume['id']}"))["volume"]["size"] == 2, 30, "the volume extended")
    assert wait_volume(volumes, volume["id"], "in-use")
    left = sorted(p.name for p in (cloud.data_dir / "volumes").iterdir() if p.name.endswith(".partial"))
    assert left == []
