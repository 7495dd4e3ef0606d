"""``onestack down --purge`` and a configured Ceph cluster: the cluster's data is left alone (it is not the
host's, and may outlive the cloud) unless ``--purge-ceph`` asks for it, which empties the cloud's pools:
guests' root disks and volumes that are clones, the images they are clones of (protected snapshots and
all), and the objects pool's objects; the pools themselves stay."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
import yaml

from tests.cephcluster import CephCluster

pytestmark = [pytest.mark.ceph, pytest.mark.xdist_group("ceph")]


def cloud_dir(tmp_path, cluster: CephCluster):
    data_dir = tmp_path / f"cloud-{uuid.uuid4().hex[:6]}"
    data_dir.mkdir()
    (data_dir / "onestack.yaml").write_text(yaml.safe_dump({"ceph": cluster.settings()}))
    return data_dir


def down(data_dir, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "onestack", "down", "--data-dir", str(data_dir), *flags],
                          capture_output=True, text=True, timeout=300)


def rados_objects(cluster: CephCluster) -> set[str]:
    return set(subprocess.run(["rados", "-c", cluster.conf, "--id", cluster.client, "-p", "objects", "ls"],
                              capture_output=True, text=True, check=True, timeout=60).stdout.split())


def test_purge_leaves_the_clusters_pools_alone_unless_asked(ceph_cluster, tmp_path):
    image, volume, disk, blob = (f"purge-test-{uuid.uuid4().hex[:8]}" for _ in range(4))
    ceph_cluster.rbd("create", "--size", "8M", f"images/{image}")
    ceph_cluster.rbd("snap", "create", "--no-progress", f"images/{image}@snap")
    ceph_cluster.rbd("snap", "protect", f"images/{image}@snap")
    ceph_cluster.rbd("clone", f"images/{image}@snap", f"vms/{disk}")
    ceph_cluster.rbd("clone", f"images/{image}@snap", f"volumes/{volume}")
    subprocess.run(["rados", "-c", ceph_cluster.conf, "--id", ceph_cluster.client, "-p", "objects", "put", blob,
                    "/etc/hostname"], check=True, timeout=60)
    try:
        data_dir = cloud_dir(tmp_path, ceph_cluster)
        done = down(data_dir, "--purge")
        assert done.returncode == 0, done.stdout + done.stderr
        assert not data_dir.exists()  # the cloud went ...
        assert image in ceph_cluster.images("images") and volume in ceph_cluster.images("volumes")
        assert disk in ceph_cluster.images("vms") and blob in rados_objects(ceph_cluster)  # ... its data stayed

        assert down(cloud_dir(tmp_path, ceph_cluster), "--purge-ceph").returncode == 2  # only with --purge
        data_dir = cloud_dir(tmp_path, ceph_cluster)
        done = down(data_dir, "--purge", "--purge-ceph")
        assert done.returncode == 0, done.stdout + done.stderr
        assert not data_dir.exists()
        assert ceph_cluster.images("images") == ceph_cluster.images("volumes") == ceph_cluster.images("vms") \
            == set()
        assert rados_objects(ceph_cluster) == set()
    finally:  # what a failed purge left
        for spec in (f"vms/{disk}", f"volumes/{volume}"):
            subprocess.run(["rbd", "-c", ceph_cluster.conf, "--id", ceph_cluster.client, "rm", spec],
                           capture_output=True, timeout=60)
        subprocess.run(["rbd", "-c", ceph_cluster.conf, "--id", ceph_cluster.client, "snap", "unprotect",
                        f"images/{image}@snap"], capture_output=True, timeout=60)
        subprocess.run(["rbd", "-c", ceph_cluster.conf, "--id", ceph_cluster.client, "snap", "purge",
                        f"images/{image}"], capture_output=True, timeout=60)
        subprocess.run(["rbd", "-c", ceph_cluster.conf, "--id", ceph_cluster.client, "rm", f"images/{image}"],
                       capture_output=True, timeout=60)
