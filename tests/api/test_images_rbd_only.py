"""Images only in RBD (``ceph.image_store_only``), as Glance keeps them with ``rbd`` as its store: a raw image's
data are ``images/<id>@snap`` in the cluster and nothing under the data dir; its download (whole and a range)
reads the cluster; an RBD volume from it is a copy-on-write clone of that snapshot, and a file volume gets
the data through the download; the image cannot go while a clone exists (409), and takes its RBD image with
it.  An image the cluster cannot keep (a qcow2: clones need raw data) stays a file."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess

import httpx
import pytest

from tests.api.helpers import name, ok
from tests.api.test_volumes_rbd import holds, rbd_info
from tests.api.volume_helpers import Project, holds_pattern, volume_file
from tests.cloudfixture import Cloud

pytestmark = [pytest.mark.ceph, pytest.mark.xdist_group("ceph")]
MiB = 1024**2


@pytest.fixture(scope="module")
def cloud(ceph_cluster, tmp_path_factory):
    made = Cloud(tmp_path_factory.mktemp("rbd-only-images"), settings={
        "ceph": {**ceph_cluster.settings(), "image_store_only": True}}).start()
    made.openstack("volume", "type", "create", "--property", "volume_backend_name=ceph", "rbd")
    yield made
    made.stop()


def test_a_raw_image_lives_only_in_the_cluster(cloud, ceph_cluster, tmp_path):
    with cloud.client() as admin:
        project = Project(cloud, admin)
    raw = tmp_path / "image.raw"
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(raw), "16M"], check=True)
    subprocess.run(["qemu-io", "-f", "raw", "-c", "write -P 0x3e 0 64k", str(raw)], check=True, capture_output=True)
    with open(raw, "r+b") as f:  # random data past the pattern, so that a wrong byte anywhere shows
        f.seek(MiB)
        f.write(os.urandom(2 * MiB))
    data = raw.read_bytes()
    with httpx.Client(base_url=f"{cloud.url}/image/v2", headers={"X-Auth-Token": project.token},
                      timeout=120) as glance:
        image = ok(glance.post("/images", json={"name": name("only"), "disk_format": "raw",
                                                "container_format": "bare"}), 201)
        ok(glance.put(f"/images/{image['id']}/file", content=data,
                      headers={"Content-Type": "application/octet-stream"}), 204)
        shown = ok(glance.get(f"/images/{image['id']}"))
        assert (shown["status"], shown["stores"]) == ("active", "rbd")
        assert shown["os_hash_value"] == hashlib.sha512(data).hexdigest()
        assert not (cloud.data_dir / "images" / image["id"]).exists()
        snaps = json.loads(ceph_cluster.rbd("snap", "ls", "--format", "json", f"images/{image['id']}"))
        assert [(s["name"], s["protected"]) for s in snaps] == [("snap", "true")]

        # the download reads the cluster: the whole, and a range
        whole = glance.get(f"/images/{image['id']}/file")
        assert whole.status_code == 200 and hashlib.sha256(whole.content).digest() == hashlib.sha256(data).digest()
        part = glance.get(f"/images/{image['id']}/file", headers={"Range": f"bytes={MiB}-{MiB + 999}"})
        assert part.status_code == 206 and part.content == data[MiB:MiB + 1000]

        # an RBD volume is a clone of the snapshot; a file volume gets the data through the download
        clone = project.volume(volume_type="rbd", imageRef=image["id"])
        parent = rbd_info(ceph_cluster, f"volume-{clone['id']}")["parent"]
        assert (parent["pool"], parent["image"], parent["snapshot"]) == ("images", image["id"], "snap")
        assert holds(ceph_cluster, f"volume-{clone['id']}", 0x3E)
        copied = project.volume(imageRef=image["id"])
        assert holds_pattern(volume_file(cloud, copied["id"]), 0x3E)
        assert not (cloud.data_dir / "images" / image["id"]).exists()

        # Glance's "image in use" while a clone exists; then the image goes with its RBD image
        refused = glance.delete(f"/images/{image['id']}")
        assert refused.status_code == 409 and "in use" in refused.text
        for volume in (clone, copied):
            ok(project.http.delete(f"/volumes/{volume['id']}"), 202)
            project.gone(f"/volumes/{volume['id']}")
        ok(glance.delete(f"/images/{image['id']}"), 204)
        assert image["id"] not in ceph_cluster.images("images")

        # a qcow2 cannot be cloned: it stays a file
        qcow2 = tmp_path / "image.qcow2"
        subprocess.run(["qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", str(raw), str(qcow2)], check=True)
        kept = ok(glance.post("/images", json={"name": name("qcow2"), "disk_format": "qcow2",
                                               "container_format": "bare"}), 201)
        ok(glance.put(f"/images/{kept['id']}/file", content=qcow2.read_bytes(),
                      headers={"Content-Type": "application/octet-stream"}), 204)
        assert ok(glance.get(f"/images/{kept['id']}"))["stores"] == "file"
        assert (cloud.data_dir / "images" / kept["id"]).exists()
        ok(glance.delete(f"/images/{kept['id']}"), 204)
