"""Re-image a volume (``os-reimage``, 3.68) over HTTP: the volume's data really become the new image's (read
back from its file and compared byte for byte), its image metadata follow, the statuses are Cinder's
(``downloading``, then back to where it was; ``reserved`` only with ``reimage_reserved``), and what Cinder
refuses is refused with its codes."""

import os
import subprocess

import httpx

from tests.api.helpers import grant, make_user, ok
from tests.api.test_volumes_encryption import _encrypted_type, _passphrase, _qemu_io
from tests.api.test_volumes_images import make_image, qcow2_image
from tests.api.volume_helpers import Project, cinder, holds_pattern, volume_file, write_pattern

MiB = 1024**2


def _reimage(storage, volume_id: str, image_id: str, version: str = "3.68", **extra) -> httpx.Response:
    return storage.http.post(f"/volumes/{volume_id}/action",
                             json={"os-reimage": {"image_id": image_id, **extra}},
                             headers={"OpenStack-API-Version": f"volume {version}"})


def volume_bytes(path, count: int) -> bytes:
    """The first ``count`` bytes the volume's whole chain holds, as a guest would read them."""
    raw = path.with_name(f"{path.name}.raw-test")
    try:
        subprocess.run(["qemu-img", "convert", "-U", "-O", "raw", str(path), str(raw)], check=True,
                       capture_output=True)
        with raw.open("rb") as f:
            return f.read(count)
    finally:
        raw.unlink(missing_ok=True)


def test_a_reimaged_volume_holds_the_new_images_bytes(cloud, storage, tmp_path):
    first = make_image(cloud, storage.token, qcow2_image(tmp_path, 0x5A).read_bytes(), os_distro="first")
    data = os.urandom(2 * MiB)
    second = make_image(cloud, storage.token, data, disk_format="raw", os_distro="second")
    created = ok(storage.http.post("/volumes", json={"volume": {"size": 1, "imageRef": first["id"]}}),
                 202)["volume"]
    volume = storage.wait(created["id"], "available")
    path = volume_file(cloud, volume["id"])
    write_pattern(path, 0x77, offset=4 * MiB)  # the user's own data, beyond the image's
    assert holds_pattern(path, 0x5A) and holds_pattern(path, 0x77, offset=4 * MiB)

    assert _reimage(storage, volume["id"], second["id"]).status_code == 202
    after = storage.wait(volume["id"], "available")
    assert after["volume_image_metadata"]["image_id"] == second["id"]
    assert after["volume_image_metadata"]["os_distro"] == "second" and after["bootable"] == "true"
    assert after["size"] == 1 and after["id"] == volume["id"]
    assert volume_bytes(path, 2 * MiB) == data  # the image's bytes, exactly
    assert not holds_pattern(path, 0x77, offset=4 * MiB)  # nothing of what was there before
    # and back to the first image: the cached qcow2 is converted the same way
    assert _reimage(storage, volume["id"], first["id"], reimage_reserved=False).status_code == 202
    storage.wait(volume["id"], "available")
    assert holds_pattern(path, 0x5A) and volume_bytes(path, 2 * MiB) != data


def test_statuses_and_refusals_are_cinders(cloud, admin, cinder_admin, storage, tmp_path):
    image = make_image(cloud, storage.token, os.urandom(MiB), disk_format="raw")
    volume = storage.volume()
    # not before 3.68; an unknown image 404; a malformed body 400 (never 500)
    assert _reimage(storage, volume["id"], image["id"], version="3.67").status_code == 404
    assert _reimage(storage, volume["id"], "9d5c4e57-3c66-4b5b-9d3d-2d0e3e1f4a10").status_code == 404
    for body in ({"os-reimage": {"image_id": "not-a-uuid"}}, {"os-reimage": {}},
                 {"os-reimage": {"image_id": image["id"], "reimage_reserved": "maybe"}},
                 {"os-reimage": {"image_id": image["id"], "other": 1}}, {"os-reimage": None}):
        resp = storage.http.post(f"/volumes/{volume['id']}/action", json=body,
                                 headers={"OpenStack-API-Version": "volume 3.68"})
        assert resp.status_code == 400, (body, resp.text)
    # an image larger than the volume (a 2 GiB minimum disk on a 1 GiB volume)
    big = make_image(cloud, storage.token, os.urandom(MiB), disk_format="raw", min_disk=2)
    too_big = _reimage(storage, volume["id"], big["id"])
    assert too_big.status_code == 400 and "minDisk" in too_big.text, too_big.text
    # another project sees no such volume; a reader of the project may not
    assert _reimage(Project(cloud, admin), volume["id"], image["id"]).status_code == 404
    reader = make_user(admin)
    grant(admin, storage.id, reader["id"], "reader")
    with cinder(cloud, cloud.token(reader["name"], "secret-pass-1", storage.project["name"]), storage.id) as http:
        denied = http.post(f"/volumes/{volume['id']}/action", json={"os-reimage": {"image_id": image["id"]}})
        assert denied.status_code == 403, denied.text

    # a reserved volume only with reimage_reserved, and it stays reserved
    reserved = ok(storage.http.post("/attachments", json={"attachment": {"volume_uuid": volume["id"]}}), 200)
    refused = _reimage(storage, volume["id"], image["id"])
    assert refused.status_code == 400 and "reserved" in refused.text, refused.text
    assert _reimage(storage, volume["id"], image["id"], reimage_reserved=True).status_code == 202
    storage.wait(volume["id"], "reserved")
    assert volume_bytes(volume_file(cloud, volume["id"]), MiB) == _image_data(cloud, storage, image)
    ok(storage.http.delete(f"/attachments/{reserved['attachment']['id']}"))
    storage.wait(volume["id"], "available")

    # an errored volume is re-imaged and available again
    ok(cinder_admin.post(f"/volumes/{volume['id']}/action", json={"os-reset_status": {"status": "error"}}), 202)
    assert _reimage(storage, volume["id"], image["id"]).status_code == 202
    storage.wait(volume["id"], "available")
    # a volume being re-imaged is downloading; a second re-image meanwhile is refused
    ok(cinder_admin.post(f"/volumes/{volume['id']}/action", json={"os-reset_status": {"status": "downloading"}}),
       202)
    busy = _reimage(storage, volume["id"], image["id"])
    assert busy.status_code == 400 and "downloading" in busy.text, busy.text


def _image_data(cloud, storage, image) -> bytes:
    with httpx.Client(base_url=f"{cloud.url}/image/v2", headers={"X-Auth-Token": storage.token}) as images:
        resp = images.get(f"/images/{image['id']}/file")
        assert resp.status_code == 200
        return resp.content


def test_an_encrypted_volume_is_reimaged_into_ciphertext(cloud, cinder_admin, storage, tmp_path):
    image = make_image(cloud, storage.token, qcow2_image(tmp_path, 0x5A).read_bytes())
    volume = storage.volume(volume_type=_encrypted_type(cinder_admin))
    path = volume_file(cloud, volume["id"])
    passphrase = _passphrase(cloud, volume["encryption_key_id"])
    assert _qemu_io(path, passphrase, "write -P 33 0 64k").returncode == 0
    assert _reimage(storage, volume["id"], image["id"]).status_code == 202
    after = storage.wait(volume["id"], "available")
    assert after["encryption_key_id"] == volume["encryption_key_id"] and after["encrypted"] is True
    read = _qemu_io(path, passphrase, "read -P 90 0 64k").stdout  # 0x5A, the image's, through the volume's key
    assert "read 65536/65536" in read and "Pattern verification failed" not in read, read
    assert b"\x5a" * 4096 not in path.read_bytes()  # never in clear in the file
