"""Block Storage on Ceph RBD, against the throwaway one-node cluster (``tests/cephcluster.py``) through the
real server and the real clients: a volume type whose ``volume_backend_name`` is the cluster's puts
volumes in the pool as RBD images, beside file volumes of the default type; snapshots are RBD snapshots and
volumes from them copy-on-write clones; the pool holds exactly the images the database says; the data
written reach the cluster and come back (qemu-io through librbd), through a snapshot, a clone, an image, a
backup and its restore; an attachment's connection names the image for QEMU's librbd."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml

from tests.api.helpers import name, ok, wait
from tests.api.test_volumes_images import make_image, qcow2_image
from tests.api.volume_helpers import Project, volume_file, write_pattern
from tests.clients.test_volume_crash import admin_clients
from tests.cloudfixture import Cloud, free_port

pytestmark = [pytest.mark.ceph, pytest.mark.xdist_group("ceph")]
GiB = 1024**3


@pytest.fixture(scope="module")
def rbd_cloud(ceph_cluster, tmp_path_factory):
    """A server of its own whose ceph section names the cluster, with a type ``rbd`` on it."""
    # image_conversion on: a qcow2 imported is stored raw, so the image store keeps it in the cluster too
    cloud = Cloud(tmp_path_factory.mktemp("rbd-cloud"), settings={
        "ceph": ceph_cluster.settings(), "image_import": {
            "plugins": ["image_conversion"], "enabled_methods": ["glance-direct", "web-download", "copy-image"]}}
    ).start()
    cloud.openstack("volume", "type", "create", "--property", "volume_backend_name=ceph", "rbd")
    yield cloud
    cloud.stop()


@pytest.fixture
def rbd_project(rbd_cloud):
    with rbd_cloud.client() as admin:
        yield Project(rbd_cloud, admin)


def uri(cluster, image: str) -> str:
    return f"rbd:volumes/{image}:id={cluster.client}:conf={cluster.conf}"


def write_rbd(cluster, image: str, byte: int, offset: int = 0) -> None:
    done = subprocess.run(["qemu-io", "-f", "raw", "-c", f"write -P {byte} {offset} 64k", uri(cluster, image)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "wrote 65536/65536" in done.stdout, done.stderr


def holds(cluster, image: str, byte: int, offset: int = 0) -> bool:
    out = subprocess.run(["qemu-io", "-r", "-f", "raw", "-c", f"read -P {byte} {offset} 64k", uri(cluster, image)],
                         capture_output=True, text=True, timeout=60).stdout
    return "read 65536/65536" in out and "Pattern verification failed" not in out


def rbd_info(cluster, image: str) -> dict:
    return json.loads(cluster.rbd("info", "--format", "json", f"volumes/{image}"))


def rbd_snaps(cluster, image: str) -> dict[str, dict]:
    return {s["name"]: s for s in json.loads(cluster.rbd("snap", "ls", "--format", "json", f"volumes/{image}"))}


def create_fails(project: Project, volume_type: str, seconds: float) -> dict:
    """A volume of ``volume_type`` whose create ends in ``error``, with a user message for the project."""
    created = ok(project.http.post("/volumes", json={"volume": {"size": 1, "volume_type": volume_type}}),
                 202)["volume"]

    def errored():
        volume = ok(project.http.get(f"/volumes/{created['id']}"))["volume"]
        return volume if volume["status"] == "error" else None
    wait(errored, seconds, f"the create of a {volume_type} volume to fail")
    messages = ok(project.http.get("/messages"))["messages"]
    assert [m["event_id"] for m in messages if m["resource_uuid"] == created["id"]]
    return created


def test_volumes_snapshots_and_clones_are_rbd_images_the_database_names(rbd_cloud, ceph_cluster):
    cli = rbd_cloud.openstack
    # the CLI acts; its admin project's volumes are watched over HTTP (a CLI call a poll costs seconds)
    volumes, images = admin_clients(rbd_cloud)
    images.close()

    def status(kind: str, made: dict) -> str:
        return ok(volumes.get(f"/{kind}s/{made['id']}"))[kind]["status"]
    before = ceph_cluster.images("volumes")
    source = json.loads(cli("volume", "create", "--type", "rbd", "--size", "1", "-f", "json", name("v")).stdout)
    wait(lambda: status("volume", source) == "available", 60, "rbd volume available")
    image = f"volume-{source['id']}"
    assert ceph_cluster.images("volumes") - before == {image}
    assert rbd_info(ceph_cluster, image)["size"] == GiB
    write_rbd(ceph_cluster, image, 0x11)

    snap = json.loads(cli("volume", "snapshot", "create", "--volume", source["id"], "-f", "json", name("s")).stdout)
    wait(lambda: status("snapshot", snap) == "available", 60, "snapshot available")
    assert rbd_snaps(ceph_cluster, image)[f"snapshot-{snap['id']}"]["protected"] == "true"

    clone = json.loads(cli("volume", "create", "--snapshot", snap["id"], "--size", "2", "-f", "json",
                           name("c")).stdout)
    wait(lambda: status("volume", clone) == "available", 60, "clone available")
    clone_info = rbd_info(ceph_cluster, f"volume-{clone['id']}")
    # copy-on-write: a child of the snapshot, nothing copied, and as large as asked
    assert clone_info["parent"]["image"] == image and clone_info["parent"]["snapshot"] == f"snapshot-{snap['id']}"
    assert clone_info["size"] == 2 * GiB
    write_rbd(ceph_cluster, image, 0x22)  # the source changes after the snapshot: the clone does not
    assert holds(ceph_cluster, f"volume-{clone['id']}", 0x11) and holds(ceph_cluster, image, 0x22)

    # the file backend stays beside it: a default-type volume is a qcow2 file, not an RBD image
    plain = json.loads(cli("volume", "create", "--size", "1", "-f", "json", name("f")).stdout)
    wait(lambda: status("volume", plain) == "available", 60, "file volume available")
    assert (rbd_cloud.data_dir / "volumes" / f"volume-{plain['id']}.qcow2").exists()
    assert ceph_cluster.images("volumes") - before == {image, f"volume-{clone['id']}"}

    # extend: the RBD image grows
    cli("volume", "set", "--size", "3", clone["id"])
    wait(lambda: rbd_info(ceph_cluster, f"volume-{clone['id']}")["size"] == 3 * GiB, 60, "rbd image extended")

    # deleting the snapshot first flattens its clone (which keeps its data), then the snapshot goes
    wait(lambda: status("volume", clone) == "available", 60, "clone available after extend")
    cli("volume", "snapshot", "delete", snap["id"])
    wait(lambda: f"snapshot-{snap['id']}" not in rbd_snaps(ceph_cluster, image), 60, "rbd snapshot gone")
    assert "parent" not in rbd_info(ceph_cluster, f"volume-{clone['id']}")
    assert holds(ceph_cluster, f"volume-{clone['id']}", 0x11)
    # the RBD snapshot goes before the snapshot's row: the source is deletable once the API no longer lists it
    wait(lambda: volumes.get(f"/snapshots/{snap['id']}").status_code == 404, 60, "snapshot gone from the API")
    assert snap["id"] not in cli("volume", "snapshot", "list", "-f", "value", "-c", "ID").stdout

    for volume in (source, clone, plain):
        cli("volume", "delete", volume["id"])
    wait(lambda: ceph_cluster.images("volumes") == before, 60, "rbd images gone with their volumes")
    wait(lambda: not (rbd_cloud.data_dir / "volumes" / f"volume-{plain['id']}.qcow2").exists(), 30, "file gone")
    volumes.close()


def test_a_clone_of_a_volume_then_deleting_the_source_keeps_the_clone(rbd_cloud, ceph_cluster, rbd_project):
    http = rbd_project.http
    source = rbd_project.volume(volume_type="rbd")
    write_rbd(ceph_cluster, f"volume-{source['id']}", 0x33, offset=GiB - 65536)
    clone = rbd_project.volume(source_volid=source["id"])
    assert rbd_info(ceph_cluster, f"volume-{clone['id']}")["parent"]["image"] == f"volume-{source['id']}"
    ok(http.delete(f"/volumes/{source['id']}"), 202)
    rbd_project.gone(f"/volumes/{source['id']}")
    assert f"volume-{source['id']}" not in ceph_cluster.images("volumes")
    assert holds(ceph_cluster, f"volume-{clone['id']}", 0x33, offset=GiB - 65536)
    ok(http.delete(f"/volumes/{clone['id']}"), 202)
    rbd_project.gone(f"/volumes/{clone['id']}")
    assert f"volume-{clone['id']}" not in ceph_cluster.images("volumes")


def test_volume_from_an_image_clones_the_imported_image_and_backups_round_trip(rbd_cloud, ceph_cluster,
                                                                               rbd_project, tmp_path):
    http = rbd_project.http
    data = tmp_path / "image.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(data), "64M"], check=True)
    write_pattern(data, 0x5A)
    with httpx.Client(base_url=f"{rbd_cloud.url}/image/v2", headers={"X-Auth-Token": rbd_project.token},
                      timeout=60) as glance:
        image = ok(glance.post("/images", json={"name": name("img"), "disk_format": "qcow2",
                                                "container_format": "bare"}), 201)
        ok(glance.put(f"/images/{image['id']}/file", content=data.read_bytes(),
                      headers={"Content-Type": "application/octet-stream"}), 204)
    first = rbd_project.volume(volume_type="rbd", imageRef=image["id"])
    second = rbd_project.volume(volume_type="rbd", imageRef=image["id"])
    assert first["bootable"] == "true"
    cached = f"image-{image['id']}"
    for volume in (first, second):
        parent = rbd_info(ceph_cluster, f"volume-{volume['id']}")["parent"]
        assert (parent["image"], parent["snapshot"]) == (cached, "snap")
        assert holds(ceph_cluster, f"volume-{volume['id']}", 0x5A)

    # a backup reads the RBD image; its restore writes into another RBD volume
    write_rbd(ceph_cluster, f"volume-{first['id']}", 0x6B, offset=1024 * 1024)
    backup = rbd_project.backup(first["id"])
    target = rbd_project.volume(volume_type="rbd")
    restored = ok(http.post(f"/backups/{backup['id']}/restore", json={"restore": {"volume_id": target["id"]}}),
                  202)["restore"]
    assert restored["volume_id"] == target["id"]
    rbd_project.wait(restored["volume_id"], "available")
    assert f"volume-{restored['volume_id']}" in ceph_cluster.images("volumes")
    assert holds(ceph_cluster, f"volume-{restored['volume_id']}", 0x5A)
    assert holds(ceph_cluster, f"volume-{restored['volume_id']}", 0x6B, offset=1024 * 1024)

    # an incremental backup of the RBD volume holds only what changed, and restores the whole of it
    write_rbd(ceph_cluster, f"volume-{first['id']}", 0x7E, offset=8 * 1024 * 1024)
    increment = rbd_project.backup(first["id"], incremental=True)
    assert increment["is_incremental"] is True
    assert increment["object_count"] == 2  # the one 4 MiB chunk that changed, and its manifest
    again = rbd_project.volume(volume_type="rbd")
    restored_again = ok(http.post(f"/backups/{increment['id']}/restore",
                                  json={"restore": {"volume_id": again["id"]}}), 202)["restore"]
    rbd_project.wait(restored_again["volume_id"], "available")
    for byte, offset in ((0x5A, 0), (0x6B, 1024 * 1024), (0x7E, 8 * 1024 * 1024)):
        assert holds(ceph_cluster, f"volume-{again['id']}", byte, offset=offset)
    ok(http.delete(f"/backups/{increment['id']}"), 202)
    ok(http.delete(f"/volumes/{again['id']}"), 202)
    rbd_project.gone(f"/volumes/{again['id']}")
    rbd_project.gone(f"/backups/{increment['id']}")

    # an attachment's connection names the image for QEMU's librbd
    attachment = ok(http.post("/attachments", json={"attachment": {
        "volume_uuid": first["id"], "instance_uuid": None,
        "connector": {"host": "h1", "mountpoint": "/dev/vdb"}}}), 200)["attachment"]
    connection = attachment["connection_info"]
    assert connection["driver_volume_type"] == "rbd"
    assert connection["name"] == f"volumes/volume-{first['id']}"
    assert connection["conf"] == ceph_cluster.conf and connection["auth_username"] == ceph_cluster.client
    ok(http.delete(f"/attachments/{attachment['id']}"), 200)

    for volume_id in (first["id"], second["id"], restored["volume_id"]):
        ok(http.delete(f"/volumes/{volume_id}"), 202)
    for volume_id in (first["id"], second["id"], restored["volume_id"]):
        rbd_project.gone(f"/volumes/{volume_id}")
    ok(http.delete(f"/backups/{backup['id']}"), 202)
    # the cached image goes with its last clone
    wait(lambda: cached not in ceph_cluster.images("volumes"), 30, "cached image pruned")


def test_a_type_naming_no_backend_fails_the_create_with_the_reason(rbd_cloud, rbd_project):
    rbd_cloud.openstack("volume", "type", "create", "--property", "volume_backend_name=nowhere", "nowhere")
    create_fails(rbd_project, "nowhere", 30)


def test_a_retype_between_backends_moves_the_data_only_on_demand(rbd_cloud, ceph_cluster, rbd_project):
    volume = rbd_project.volume(volume_type="rbd")
    image, action = f"volume-{volume['id']}", f"/volumes/{volume['id']}/action"
    write_rbd(ceph_cluster, image, 0x5A, offset=1024**2)
    resp = rbd_project.http.post(action, json={"os-retype": {"new_type": "__DEFAULT__", "migration_policy": "never"}})
    assert resp.status_code == 400 and "backend" in resp.json()["badRequest"]["message"]
    assert image in ceph_cluster.images("volumes")
    ok(rbd_project.http.post(action, json={"os-retype": {"new_type": "__DEFAULT__",
                                                         "migration_policy": "on-demand"}}), 202)

    def retyped():
        shown = ok(rbd_project.http.get(f"/volumes/{volume['id']}"))["volume"]
        return shown["volume_type"] == "__DEFAULT__" and shown["status"] == "available" and shown
    wait(retyped, 120, "the retype to move the volume to the file backend")
    # the data moved out of the cluster into the file backend's qcow2, under the same volume id
    assert image not in ceph_cluster.images("volumes")
    read = subprocess.run(["qemu-io", "-r", "-f", "qcow2", "-c", f"read -P {0x5A} {1024**2} 64k",
                           str(volume_file(rbd_cloud, volume["id"]))], capture_output=True, text=True, timeout=60)
    assert "read 65536/65536" in read.stdout and "Pattern verification failed" not in read.stdout, read.stderr
    ok(rbd_project.http.delete(f"/volumes/{volume['id']}"), 202)
    rbd_project.gone(f"/volumes/{volume['id']}")


def test_a_raw_image_lives_in_the_rbd_store_and_volumes_clone_it(rbd_cloud, ceph_cluster, rbd_project, tmp_path):
    http = rbd_project.http
    data = tmp_path / "image.raw"
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(data), "32M"], check=True)
    subprocess.run(["qemu-io", "-f", "raw", "-c", "write -P 0x7c 0 64k", str(data)], check=True,
                   capture_output=True)
    with httpx.Client(base_url=f"{rbd_cloud.url}/image/v2", headers={"X-Auth-Token": rbd_project.token},
                      timeout=60) as glance:
        stores = {s["id"] for s in ok(glance.get("/info/stores"))["stores"]}
        assert stores == {"file", "rbd"}
        image = ok(glance.post("/images", json={"name": name("raw"), "disk_format": "raw",
                                                "container_format": "bare"}), 201)
        ok(glance.put(f"/images/{image['id']}/file", content=data.read_bytes(),
                      headers={"Content-Type": "application/octet-stream"}), 204)
        shown = ok(glance.get(f"/images/{image['id']}"))
        assert shown["stores"] == "file,rbd" and "os_onestack_rbd_location" not in shown
        snaps = json.loads(ceph_cluster.rbd("snap", "ls", "--format", "json", f"images/{image['id']}"))
        assert [(s["name"], s["protected"]) for s in snaps] == [("snap", "true")]

        before = ceph_cluster.images("volumes")
        volume = rbd_project.volume(volume_type="rbd", imageRef=image["id"])
        parent = rbd_info(ceph_cluster, f"volume-{volume['id']}")["parent"]
        # a clone of the image store's snapshot: nothing downloaded, nothing imported into the volumes pool
        assert (parent["pool"], parent["image"], parent["snapshot"]) == ("images", image["id"], "snap")
        assert ceph_cluster.images("volumes") - before == {f"volume-{volume['id']}"}
        # measured: the clone holds no data of its own (``rbd du``: the RADOS objects it owns), yet reads the image's
        usage = json.loads(ceph_cluster.rbd("du", "--format", "json", f"volumes/volume-{volume['id']}"))["images"]
        assert [(u["name"], u["used_size"]) for u in usage] == [(f"volume-{volume['id']}", 0)]
        assert usage[0]["provisioned_size"] == volume["size"] * 1024**3
        assert holds(ceph_cluster, f"volume-{volume['id']}", 0x7C)

        # the image cannot go while a volume is its clone (Glance's RBD store answers the same)
        assert glance.delete(f"/images/{image['id']}").status_code == 409
        ok(http.delete(f"/volumes/{volume['id']}"), 202)
        rbd_project.gone(f"/volumes/{volume['id']}")
        ok(glance.delete(f"/images/{image['id']}"), 204)
    assert image["id"] not in ceph_cluster.images("images")


def test_a_qcow2_imported_is_converted_to_raw_kept_in_the_cluster_and_cloned(rbd_cloud, ceph_cluster, rbd_project,
                                                                              tmp_path):
    """Glance's image_conversion import step: the qcow2 a user imports becomes a raw image, which the RBD
    store keeps as images/<id>@snap, so a volume from it is a clone (no download, no import)."""
    data = tmp_path / "image.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(data), "32M"], check=True)
    write_pattern(data, 0x4D)
    with httpx.Client(base_url=f"{rbd_cloud.url}/image/v2", headers={"X-Auth-Token": rbd_project.token},
                      timeout=60) as glance:
        image = ok(glance.post("/images", json={"name": name("qcow2"), "disk_format": "qcow2",
                                                "container_format": "bare"}), 201)
        ok(glance.put(f"/images/{image['id']}/stage", content=data.read_bytes(),
                      headers={"Content-Type": "application/octet-stream"}), 204)
        ok(glance.post(f"/images/{image['id']}/import", json={"method": {"name": "glance-direct"}}), 202)

        def kept_in_the_cluster():
            shown = ok(glance.get(f"/images/{image['id']}"))
            return shown if shown["status"] == "active" and shown.get("stores") == "file,rbd" else None
        shown = wait(kept_in_the_cluster, 60, "the imported image active in both stores")
        assert (shown["disk_format"], shown["size"]) == ("raw", 32 * 1024**2)
        volume = rbd_project.volume(volume_type="rbd", imageRef=image["id"])
        parent = rbd_info(ceph_cluster, f"volume-{volume['id']}")["parent"]
        assert (parent["pool"], parent["image"], parent["snapshot"]) == ("images", image["id"], "snap")
        assert holds(ceph_cluster, f"volume-{volume['id']}", 0x4D)
        ok(rbd_project.http.delete(f"/volumes/{volume['id']}"), 202)
        rbd_project.gone(f"/volumes/{volume['id']}")
        ok(glance.delete(f"/images/{image['id']}"), 204)
    assert image["id"] not in ceph_cluster.images("images")


def test_the_rbd_store_is_chosen_and_copied_to_by_copy_image(rbd_cloud, ceph_cluster, tmp_path):
    """Multi-store with rbd: ``X-Image-Meta-Store: rbd`` for raw data only (400 otherwise); a copy into the
    cluster that fails (here: its name taken) leaves the image active in the file store with
    ``os_glance_failed_import: rbd``; copy-image with ``stores: [rbd]`` puts it there afterwards, and asking
    again answers that it is there."""
    raw = tmp_path / "image.raw"
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(raw), "8M"], check=True)
    with httpx.Client(base_url=f"{rbd_cloud.url}/image/v2", headers={"X-Auth-Token": rbd_cloud.token()},
                      timeout=60) as glance:
        def new_image(disk_format: str) -> dict:
            return ok(glance.post("/images", json={"name": name("store"), "disk_format": disk_format,
                                                   "container_format": "bare"}), 201)

        def put(image_id: str, data: bytes):
            return glance.put(f"/images/{image_id}/file", content=data,
                              headers={"Content-Type": "application/octet-stream", "X-Image-Meta-Store": "rbd"})
        qcow2 = new_image("qcow2")
        refused = put(qcow2["id"], b"QFI\xfb")
        assert refused.status_code == 400 and "raw images only" in refused.text
        chosen = new_image("raw")
        ok(put(chosen["id"], raw.read_bytes()), 204)
        assert ok(glance.get(f"/images/{chosen['id']}"))["stores"] == "file,rbd"

        blocked = new_image("raw")
        ceph_cluster.rbd("create", "--size", "1M", f"images/{blocked['id']}")  # the name the copy needs
        ok(put(blocked["id"], raw.read_bytes()), 204)
        shown = ok(glance.get(f"/images/{blocked['id']}"))
        assert (shown["status"], shown["stores"], shown["os_glance_failed_import"]) == ("active", "file", "rbd")
        ceph_cluster.rbd("rm", "--no-progress", f"images/{blocked['id']}")
        ok(glance.post(f"/images/{blocked['id']}/import", json={"method": {"name": "copy-image"},
                                                                "stores": ["rbd"]}), 202)

        def copied():
            shown = ok(glance.get(f"/images/{blocked['id']}"))
            return shown if shown["stores"] == "file,rbd" and "os_glance_import_task" not in shown else None
        shown = wait(copied, 60, "copy-image into the rbd store")
        assert shown["os_glance_failed_import"] == "" and shown["status"] == "active"
        snaps = json.loads(ceph_cluster.rbd("snap", "ls", "--format", "json", f"images/{blocked['id']}"))
        assert [(s["name"], s["protected"]) for s in snaps] == [("snap", "true")]
        again = glance.post(f"/images/{blocked['id']}/import", json={"method": {"name": "copy-image"},
                                                                     "stores": ["rbd"]})
        assert again.status_code == 400 and "already present at store 'rbd'" in again.text
        for image in (qcow2, chosen, blocked):
            ok(glance.delete(f"/images/{image['id']}"), 204)
    assert not {chosen["id"], blocked["id"]} & ceph_cluster.images("images")


def test_up_refuses_a_ceph_cluster_that_does_not_answer(tmp_path):
    """A ceph section whose monitors do not answer stops ``onestack up`` with the reason, before serving."""
    conf = tmp_path / "ceph.conf"
    conf.write_text(f"[global]\nfsid = {'0' * 8}-0000-0000-0000-{'0' * 12}\nmon host = v2:127.0.0.1:{free_port()}\n")
    keyring = tmp_path / "ceph.client.onestack.keyring"
    keyring.write_text("[client.onestack]\n\tkey = AQBvtGVnAAAAABAAk3bSNWLDMJ7A7dRX8gArxw==\n")
    cloud = Cloud(tmp_path / "cloud", settings={"ceph": {"conf": str(conf), "keyring": str(keyring), "timeout": 3}})
    cloud.home.mkdir(parents=True)
    (cloud.data_dir / "onestack.yaml").write_text(yaml.safe_dump(cloud.settings))
    started = cloud.onestack("up", "--bind", f"127.0.0.1:{cloud.port}", "--detach", "--no-user-clouds", check=False)
    assert started.returncode == 1
    assert "Ceph cluster" in started.stdout and "cannot be reached" in started.stdout
    assert not (cloud.data_dir / "onestack.pid").exists()


def read_rbd(cluster, spec: str, count: int, work: Path) -> bytes:
    """The first ``count`` bytes of an RBD image (or ``image@snapshot``), read through librbd."""
    out = work / "read.raw"
    out.unlink(missing_ok=True)
    block = 1024**2 if count % 1024**2 == 0 else 512  # a read of 512 bytes at a time is 60 s of librbd calls
    done = subprocess.run(["qemu-img", "dd", "-f", "raw", "-O", "raw", f"if={uri(cluster, spec)}", f"of={out}",
                           f"bs={block}", f"count={-(-count // block)}"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return out.read_bytes()[:count]


def test_a_reimaged_rbd_volume_holds_the_new_image_and_its_snapshot_the_old_data(rbd_cloud, ceph_cluster,
                                                                                 rbd_project, tmp_path):
    """os-reimage (3.68) of a volume on RBD: the image's bytes written over the volume's image in place
    (exactly, and nothing of the old data left past the image's end), the volume's RBD snapshot (and a volume
    made from it) keeping the old data; Cinder's statuses and image metadata; no work file left behind."""
    http = rbd_project.http
    first = make_image(rbd_cloud, rbd_project.token, qcow2_image(tmp_path, 0x5A, "64M").read_bytes(),
                       os_distro="first")
    data = os.urandom(2 * 1024 * 1024)
    second = make_image(rbd_cloud, rbd_project.token, data, disk_format="raw", os_distro="second")
    volume = rbd_project.volume(volume_type="rbd", imageRef=first["id"])
    image = f"volume-{volume['id']}"
    write_rbd(ceph_cluster, image, 0x6B, offset=100 * 1024 * 1024)  # the user's data, past both images' ends
    snapshot = rbd_project.snapshot(volume["id"])

    reimage = {"os-reimage": {"image_id": second["id"]}}
    assert http.post(f"/volumes/{volume['id']}/action", json=reimage,
                     headers={"OpenStack-API-Version": "volume 3.67"}).status_code == 404  # before 3.68
    assert ok(http.post(f"/volumes/{volume['id']}/action", json=reimage), 202) is not None
    after = rbd_project.wait(volume["id"], "available")
    assert after["volume_image_metadata"]["image_id"] == second["id"]
    assert after["volume_image_metadata"]["os_distro"] == "second" and after["bootable"] == "true"
    assert (after["id"], after["size"], after["volume_type"]) == (volume["id"], 1, "rbd")
    assert read_rbd(ceph_cluster, image, len(data), tmp_path) == data  # the new image's bytes, exactly
    assert holds(ceph_cluster, image, 0, offset=100 * 1024 * 1024)  # the old data gone: zeros
    # the snapshot keeps what the volume held, and so does a volume made from it afterwards
    kept = f"{image}@snapshot-{snapshot['id']}"
    assert holds(ceph_cluster, kept, 0x5A) and holds(ceph_cluster, kept, 0x6B, offset=100 * 1024 * 1024)
    from_snapshot = rbd_project.volume(volume_type="rbd", snapshot_id=snapshot["id"])
    assert holds(ceph_cluster, f"volume-{from_snapshot['id']}", 0x6B, offset=100 * 1024 * 1024)
    assert list((rbd_cloud.data_dir).rglob(f"*{volume['id']}*.partial")) == []

    # an image larger than the volume is refused (400), the volume left as it was
    big = make_image(rbd_cloud, rbd_project.token, None, min_disk=2)
    refused = http.post(f"/volumes/{volume['id']}/action", json={"os-reimage": {"image_id": big["id"]}})
    assert refused.status_code == 400, refused.text
    for volume_id in (from_snapshot["id"], volume["id"]):
        ok(http.delete(f"/volumes/{volume_id}", params={"cascade": "true"}), 202)
        rbd_project.gone(f"/volumes/{volume_id}")
    wait(lambda: not {image, f"volume-{from_snapshot['id']}"} & ceph_cluster.images("volumes"), 30,
         "the volumes' images removed")


def writers_of(path: Path) -> list[int]:
    """The processes whose command line names ``path`` (a qemu-img the killed server left writing)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and str(path).encode() in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:
            pass  # gone meanwhile
    return found


def test_a_kill_9_mid_rbd_reimage_is_finished_after_the_restart(rbd_cloud, ceph_cluster, tmp_path):
    """The server killed while qemu-img writes a 64 MiB image over an RBD volume: the restart resumes the
    re-image with the token its task keeps, and the volume ends ``available`` with the image's bytes exactly
    (nothing stays ``downloading``, no work file is left).  The module's server, restarted for the tests after
    it (this one is the module's last)."""
    cloud = rbd_cloud
    with cloud.client() as admin:
        project = Project(cloud, admin)
    data = os.urandom(64 * 1024 * 1024)
    image = make_image(cloud, project.token, data, disk_format="raw")
    volume = project.volume(volume_type="rbd")
    write_rbd(ceph_cluster, f"volume-{volume['id']}", 0x6B, offset=100 * 1024 * 1024)
    overlay = cloud.data_dir / "volumes" / f".volume-{volume['id']}.reimage.partial"
    ok(project.http.post(f"/volumes/{volume['id']}/action", json={"os-reimage": {"image_id": image["id"]}}), 202)
    wait(overlay.exists, 120, "the re-image's write to start", every=0.005)
    cloud.kill_9()
    cloud.onestack("up", "--bind", f"127.0.0.1:{cloud.port}", "--detach", "--no-user-clouds")

    def settled():
        found = ok(project.http.get(f"/volumes/{volume['id']}"))["volume"]
        assert found["status"] in ("downloading", "available"), found
        return found if found["status"] == "available" else None
    after = wait(settled, 180, "the re-image to be finished after the restart")
    assert after["volume_image_metadata"]["image_id"] == image["id"]
    wait(lambda: not writers_of(overlay), 60, "the killed server's qemu-img to end")
    assert read_rbd(ceph_cluster, f"volume-{volume['id']}", len(data), tmp_path) == data
    assert holds(ceph_cluster, f"volume-{volume['id']}", 0, offset=100 * 1024 * 1024)
    assert not overlay.exists()
    ok(project.http.delete(f"/volumes/{volume['id']}"), 202)
    project.gone(f"/volumes/{volume['id']}")
    assert f"volume-{volume['id']}" not in ceph_cluster.images("volumes")
