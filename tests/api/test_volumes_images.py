"""Volumes and images over HTTP: a volume made from an image (downloaded through the Image API with the
caller's token, cached once, the volume an overlay on it), its image metadata and the actions on it, and a
volume uploaded into a new image."""

import hashlib
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.api.helpers import name, ok, wait
from tests.api.volume_helpers import (
    Project,
    cinder,
    holds_pattern,
    image_info,
    volume_file,
    write_pattern,
)

GiB = 1024**3


def glance(cloud, token: str) -> httpx.Client:
    return httpx.Client(base_url=f"{cloud.url}/image/v2", headers={"X-Auth-Token": token}, timeout=60)


def qcow2_image(tmp_path: Path, byte: int, size: str = "1G") -> Path:
    """A qcow2 file of ``size`` virtual bytes with ``byte`` written in its first 64 KiB."""
    path = tmp_path / f"image-{byte:x}.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), size], check=True)
    write_pattern(path, byte)
    return path


def make_image(cloud, token: str, data: bytes | None, disk_format: str = "qcow2", **fields) -> dict:
    with glance(cloud, token) as images:
        image = ok(images.post("/images", json={"name": name("img"), "disk_format": disk_format,
                                                "container_format": "bare", **fields}), 201)
        if data is not None:
            ok(images.put(f"/images/{image['id']}/file", content=data,
                          headers={"Content-Type": "application/octet-stream"}), 204)
            image = ok(images.get(f"/images/{image['id']}"))
    return image


@pytest.fixture
def image(cloud, storage, tmp_path) -> dict:
    """An active 1 GiB-virtual qcow2 image of the storage project holding 0x5a, with a property."""
    return make_image(cloud, storage.token, qcow2_image(tmp_path, 0x5A).read_bytes(), os_distro="tiny",
                      hw_disk_bus="virtio")


def test_a_volume_from_an_image_is_an_overlay_on_the_cached_image(cloud, storage, image):
    created = ok(storage.http.post("/volumes", json={"volume": {"size": 2, "imageRef": image["id"],
                                                                "name": "from-image"}}), 202)["volume"]
    volume = storage.wait(created["id"], "available")
    assert volume["bootable"] == "true" and volume["size"] == 2
    meta = volume["volume_image_metadata"]
    assert (meta["image_id"], meta["image_name"], meta["disk_format"]) == (image["id"], image["name"], "qcow2")
    assert (meta["os_distro"], meta["hw_disk_bus"], meta["checksum"]) == ("tiny", "virtio", image["checksum"])
    path = volume_file(cloud, volume["id"])
    info = image_info(path)
    assert info["virtual-size"] == 2 * GiB and info["backing-filename"] == f"image-{image['id']}.qcow2"
    assert holds_pattern(path, 0x5A)
    # A second volume from the same image reads the same cached file: nothing is downloaded again.
    cached = path.parent / f"image-{image['id']}.qcow2"
    before = cached.stat().st_mtime_ns
    again = storage.volume(size=1, imageRef=image["id"])
    assert image_info(volume_file(cloud, again["id"]))["backing-filename"] == cached.name
    assert cached.stat().st_mtime_ns == before
    # The cached image goes with the last volume that backs on it.
    for made in (volume, again):
        ok(storage.http.delete(f"/volumes/{made['id']}"), 202)
        storage.gone(f"/volumes/{made['id']}")
    wait(lambda: not cached.exists(), 10, "the cached image to go with its last volume")


def test_a_volume_from_an_image_takes_its_size_from_the_image_and_its_name(cloud, storage, tmp_path):
    big = make_image(cloud, storage.token, qcow2_image(tmp_path, 0x11, "3G").read_bytes(), min_disk=4)
    volume = storage.volume(size=None, imageRef=big["name"])  # a name works as imageRef
    assert volume["size"] == 4 and volume["volume_image_metadata"]["image_id"] == big["id"]
    copy = storage.volume(source_volid=volume["id"])
    assert copy["bootable"] == "true" and copy["volume_image_metadata"]["image_id"] == big["id"]


def test_images_that_cannot_become_the_volume_are_refused(cloud, storage, tmp_path):
    big = make_image(cloud, storage.token, qcow2_image(tmp_path, 0x22, "3G").read_bytes())
    queued = make_image(cloud, storage.token, None)
    needy = make_image(cloud, storage.token, qcow2_image(tmp_path, 0x33).read_bytes(), min_disk=5)

    def refused(status: int, **asked) -> str:
        resp = storage.http.post("/volumes", json={"volume": {"size": 1, **asked}})
        assert resp.status_code == status, resp.text
        return next(iter(resp.json().values()))["message"]

    assert "larger than volume size" in refused(400, imageRef=big["id"])
    assert "not active" in refused(400, imageRef=queued["id"])
    assert "minDisk" in refused(400, imageRef=needy["id"], size=2)
    assert "could not be found" in refused(404, imageRef="7a1e8f2c-9c1b-4d56-8f55-bc1b3c7c0a11")
    assert "Invalid image identifier" in refused(400, imageRef=name("no-such-image"))
    assert "one source" in refused(400, imageRef=big["id"], source_volid="7a1e8f2c-9c1b-4d56-8f55-bc1b3c7c0a11")
    for bad in ({"imageRef": 42}, {"imageRef": ""}, {"imageRef": ["x"]}):
        resp = storage.http.post("/volumes", json={"volume": {"size": 1, **bad}})
        assert resp.status_code == 400, (bad, resp.text)
    twice = name("twice")
    for _ in range(2):
        make_image(cloud, storage.token, qcow2_image(tmp_path, 0x44).read_bytes(), name=twice)
    assert "Multiple matches" in refused(409, imageRef=twice)


def test_another_projects_private_image_is_not_there(cloud, admin, storage, image):
    other = Project(cloud, admin)
    resp = other.http.post("/volumes", json={"volume": {"size": 1, "imageRef": image["id"]}})
    assert resp.status_code == 404 and "could not be found" in resp.text
    # Shared with the other project, it may: the Image API's own rules decide.
    with glance(cloud, storage.token) as images:
        ok(images.patch(f"/images/{image['id']}", json=[{"op": "replace", "path": "/visibility", "value": "shared"}],
                        headers={"Content-Type": "application/openstack-images-v2.1-json-patch"}))
        ok(images.post(f"/images/{image['id']}/members", json={"member": other.id}))
    with glance(cloud, other.token) as images:
        ok(images.put(f"/images/{image['id']}/members/{other.id}", json={"status": "accepted"}))
    volume = other.volume(size=1, imageRef=image["id"])
    assert holds_pattern(volume_file(cloud, volume["id"]), 0x5A)


def test_image_metadata_actions(cloud, admin, storage, image):
    volume = storage.volume(size=1, imageRef=image["id"])
    path = f"/volumes/{volume['id']}/action"
    shown = ok(storage.http.post(path, json={"os-set_image_metadata": {"metadata": {"hw_qemu_guest_agent": "yes"}}}))
    assert shown["metadata"]["hw_qemu_guest_agent"] == "yes" and shown["metadata"]["os_distro"] == "tiny"
    ok(storage.http.post(path, json={"os-unset_image_metadata": {"key": "os_distro"}}))
    shown = ok(storage.http.post(path, json={"os-show_image_metadata": None}))["metadata"]
    assert "os_distro" not in shown and shown["image_id"] == image["id"]
    assert ok(storage.http.get(f"/volumes/{volume['id']}"))["volume"]["volume_image_metadata"] == shown
    missing = storage.http.post(path, json={"os-unset_image_metadata": {"key": "os_distro"}})
    assert missing.status_code == 404
    for bad in ({"os-set_image_metadata": {}}, {"os-set_image_metadata": {"metadata": {"k": 1}}},
                {"os-set_image_metadata": {"metadata": "x"}}, {"os-unset_image_metadata": {"key": ""}},
                {"os-unset_image_metadata": None}):
        assert storage.http.post(path, json=bad).status_code == 400, bad
    other = Project(cloud, admin)
    for action in ({"os-show_image_metadata": None}, {"os-set_image_metadata": {"metadata": {"a": "b"}}}):
        assert other.http.post(path.replace(storage.id, other.id), json=action).status_code == 404
    # A blank volume has none, and shows none.
    blank = storage.volume()
    assert ok(storage.http.post(f"/volumes/{blank['id']}/action", json={"os-show_image_metadata": {}})) == {
        "metadata": {}}
    assert "volume_image_metadata" not in blank


def test_upload_a_volume_into_a_new_image(cloud, storage, image):
    volume = storage.volume(size=1, imageRef=image["id"])
    write_pattern(volume_file(cloud, volume["id"]), 0x77, offset=1024 * 1024)
    resp = ok(storage.http.post(f"/volumes/{volume['id']}/action", json={"os-volume_upload_image": {
        "image_name": "uploaded", "disk_format": "qcow2", "visibility": "private"}}), 202)["os-volume_upload_image"]
    assert (resp["id"], resp["status"], resp["image_name"], resp["disk_format"]) == (
        volume["id"], "uploading", "uploaded", "qcow2")
    assert resp["volume_type"]["name"] == "__DEFAULT__" and resp["visibility"] == "private"
    storage.wait(volume["id"], "available")
    with glance(cloud, storage.token) as images:
        made = ok(images.get(f"/images/{resp['image_id']}"))
        assert (made["status"], made["disk_format"], made["min_disk"], made["visibility"]) == (
            "active", "qcow2", 1, "private")
        assert made["os_distro"] == "tiny" and "image_id" not in made  # properties travel; the old id does not
        data = images.get(f"/images/{made['id']}/file").content
    assert hashlib.md5(data).hexdigest() == made["checksum"]
    copy = Path(cloud.data_dir) / f"check-{made['id']}.qcow2"
    copy.write_bytes(data)
    try:
        info = image_info(copy)
        assert info["format"] == "qcow2" and "backing-filename" not in info  # the chain is flattened
        assert holds_pattern(copy, 0x5A) and holds_pattern(copy, 0x77, offset=1024 * 1024)
    finally:
        copy.unlink()


def test_upload_refusals(cloud, admin, storage):
    volume = storage.volume()
    path = f"/volumes/{volume['id']}/action"
    for bad in ({"os-volume_upload_image": {}}, {"os-volume_upload_image": {"image_name": ""}},
                {"os-volume_upload_image": {"image_name": "x", "disk_format": "iso"}},
                {"os-volume_upload_image": {"image_name": "x", "container_format": "ova"}},
                {"os-volume_upload_image": {"image_name": "x", "visibility": "everyone"}},
                {"os-volume_upload_image": {"image_name": "x", "force": "maybe"}}):
        assert storage.http.post(path, json=bad).status_code == 400, bad
    # A member may not publish an image; an admin may.
    resp = storage.http.post(path, json={"os-volume_upload_image": {"image_name": "x", "visibility": "public"}})
    assert resp.status_code == 403
    ok(storage.http.post(path, json={"os-reserve": None}), 202)  # busy: not available
    resp = storage.http.post(path, json={"os-volume_upload_image": {"image_name": "x"}})
    assert resp.status_code == 400 and "status must be available" in resp.text
    other = Project(cloud, admin)
    resp = other.http.post(f"/volumes/{volume['id']}/action", json={"os-volume_upload_image": {"image_name": "x"}})
    assert resp.status_code == 404
    with glance(cloud, storage.token) as images:
        assert not [i for i in ok(images.get("/images"))["images"] if i["name"] == "x"]  # none was left behind


def test_before_3_1_an_uploaded_image_is_private_whatever_is_asked(cloud, storage):
    volume = storage.volume()
    with cinder(cloud, storage.token, storage.id, version="3.0") as old:
        resp = ok(old.post(f"/volumes/{volume['id']}/action", json={"os-volume_upload_image": {
            "image_name": "old", "visibility": "shared"}}), 202)["os-volume_upload_image"]
    assert resp["visibility"] == "private" and resp["disk_format"] == "raw"
    storage.wait(volume["id"], "available")
    with glance(cloud, storage.token) as images:
        made = wait(lambda: (i := ok(images.get(f"/images/{resp['image_id']}")))["status"] == "active" and i, 30,
                    "the uploaded image")
    assert made["size"] == GiB and made["visibility"] == "private"
