"""Backups of RBD volumes into the object store on RADOS: with ``volume.backup_driver: swift`` and
``ceph.object_store`` on, a backup's chunks go through the Swift API into the cluster's objects pool, so a
volume and its backups both live in the cluster (none under the data dir); a backup is the volume's
``rbd export-diff`` stream and an incremental one the diff since the last backup, each a small object here; a restore into another RBD volume brings the data back; deleting the backups
empties the pool of them."""

from __future__ import annotations

import pytest

from tests.api.helpers import ok, wait
from tests.api.test_object_rados import pool_names
from tests.api.test_volumes_rbd import holds, write_rbd
from tests.api.volume_helpers import Project
from tests.cephcluster import long_test
from tests.cloudfixture import Cloud

pytestmark = [pytest.mark.ceph, pytest.mark.xdist_group("ceph")]
MiB = 1024**2


@pytest.fixture(scope="module")
def cloud(ceph_cluster, tmp_path_factory):
    made = Cloud(tmp_path_factory.mktemp("rbd-rados-backups"), settings={
        "ceph": {**ceph_cluster.settings(), "object_store": True}, "volume": {"backup_driver": "swift"}}).start()
    made.openstack("volume", "type", "create", "--property", "volume_backend_name=ceph", "rbd")
    yield made
    made.stop()


@long_test
def test_rbd_volume_backups_live_in_the_objects_pool(cloud, ceph_cluster):
    with cloud.client() as admin:
        project = Project(cloud, admin)
    volume = project.volume(volume_type="rbd", size=1)
    image = f"volume-{volume['id']}"
    write_rbd(ceph_cluster, image, 0x21)
    write_rbd(ceph_cluster, image, 0x22, offset=12 * MiB)
    before = pool_names(ceph_cluster)
    full = project.backup(volume["id"])
    assert full["object_count"] == 2  # the stream of the two 64 KiB written (one piece) and the manifest
    added = pool_names(ceph_cluster) - before
    assert len(added) == 2  # each a small object: one RADOS object apiece
    assert not (cloud.data_dir / "backups").exists() or not list((cloud.data_dir / "backups").rglob("*"))
    write_rbd(ceph_cluster, image, 0x23, offset=12 * MiB)
    increment = project.backup(volume["id"], incremental=True)
    assert increment["is_incremental"] is True and increment["object_count"] == 2
    assert len(pool_names(ceph_cluster) - before) == 4
    target = project.volume(volume_type="rbd", size=1)
    ok(project.http.post(f"/backups/{increment['id']}/restore", json={"restore": {"volume_id": target["id"]}}), 202)
    project.wait(target["id"], "available")
    assert holds(ceph_cluster, f"volume-{target['id']}", 0x21)
    assert holds(ceph_cluster, f"volume-{target['id']}", 0x23, offset=12 * MiB)
    for backup in (increment, full):
        ok(project.http.delete(f"/backups/{backup['id']}"), 202)
        project.gone(f"/backups/{backup['id']}")
    wait(lambda: not pool_names(ceph_cluster) - before, 60, "the backups' RADOS objects removed")
    for made in (volume, target):
        ok(project.http.delete(f"/volumes/{made['id']}"), 202)
        project.gone(f"/volumes/{made['id']}")
