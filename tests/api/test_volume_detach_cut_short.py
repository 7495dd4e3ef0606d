"""A detach cut short by a crash right after its first write is finished at start-up. A detach marks the
server's row for the volume ``detaching`` first and the volume ``detaching`` after: the other order once left
a volume ``detaching`` for good (a CI run's `kill -9` landed between the two, the server's row still said
``attached``, so start-up found nothing to finish). On a cloud of this module's own, which the test kills and
whose database it sets as that crash leaves it."""

from tests.api import test_server_volumes, test_servers
from tests.api.helpers import ok
from tests.api.test_server_volumes import a_server_with_a_volume, wait_volume
from tests.cloudfixture import own_cloud

# the servers' and server volumes' fixtures, on this cloud
tenant, image_id, volumes = test_servers.tenant, test_servers.image_id, test_server_volumes.volumes
cloud = own_cloud("detach-cut-short")


def test_a_detach_cut_after_the_servers_row_said_detaching_is_finished_at_start_up(cloud, tenant, image_id,
                                                                                  volumes):
    server, volume = a_server_with_a_volume(tenant, image_id, volumes)
    cloud.kill_9()
    # what the detach's first write leaves: the server's row says detaching, the volume is still in use
    cloud.execute("update compute_block_device set status = 'detaching' where volume_id = :volume",
                  volume=volume["id"])
    cloud.onestack("up", "--bind", f"127.0.0.1:{cloud.port}", "--detach", "--no-user-clouds")

    # finished as the API started again: the volume free, the server without it
    assert ok(volumes.get(f"/volumes/{volume['id']}"))["volume"]["status"] == "available"
    assert ok(tenant.get(f"/servers/{server['id']}/os-volume_attachments"))["volumeAttachments"] == []
    ok(volumes.delete(f"/volumes/{volume['id']}"), 202)


def test_a_detach_the_volume_service_refuses_leaves_the_server_with_its_volume(cloud, tenant, image_id, volumes):
    server, volume = a_server_with_a_volume(tenant, image_id, volumes)
    path = f"/servers/{server['id']}/os-volume_attachments"
    # the volume service says no (the volume is not in use as far as it knows): the row the detach marked
    # first goes back to attached, so the server still has the volume and a later detach works
    cloud.execute("update volume set status = 'error' where id = :volume", volume=volume["id"])
    assert tenant.delete(f"{path}/{volume['id']}").status_code == 400
    assert [a["volumeId"] for a in ok(tenant.get(path))["volumeAttachments"]] == [volume["id"]]
    cloud.execute("update volume set status = 'in-use' where id = :volume", volume=volume["id"])
    ok(tenant.delete(f"{path}/{volume['id']}"), 202)
    wait_volume(volumes, volume["id"], "available")
    assert ok(tenant.get(path))["volumeAttachments"] == []
