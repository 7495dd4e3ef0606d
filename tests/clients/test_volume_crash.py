"""Block Storage across kill -9: a volume being made from an image when the process dies ends in error
with the reason after restart, and no file of it is left (Cinder's start-up cleanup); a revert to a snapshot
cut short is finished after the restart (its step is safe to repeat), nothing stays ``reverting`` or
``restoring``.  The reverted volume is encrypted and its snapshot holds 256 MiB, so the whole copy a revert
makes takes long enough for the kill to land in it.  A backup cut short ends ``error`` with the reason, the
objects it wrote purged, its volume ``available`` again."""

import hashlib
import os
import subprocess
import time

import httpx
import pytest

from tests.api.helpers import ok, wait
from tests.api.test_volumes_encryption import SPEC, _holds_mark, _passphrase, _qemu_io
from tests.api.volume_helpers import volume_file
from tests.cloudfixture import Cloud


@pytest.fixture
def crash_cloud(tmp_path):
    cloud = Cloud(tmp_path / "data").start()
    yield cloud
    cloud.stop()


def admin_clients(cloud) -> tuple[httpx.Client, httpx.Client]:
    issued = cloud.issue()
    token, project = issued.headers["X-Subject-Token"], issued.json()["token"]["project"]["id"]
    return (httpx.Client(base_url=f"{cloud.url}/volume/v3/{project}", headers={"X-Auth-Token": token}, timeout=60),
            httpx.Client(base_url=f"{cloud.url}/image/v2", headers={"X-Auth-Token": token}, timeout=120))


def up_again(cloud) -> tuple[httpx.Client, httpx.Client]:
    """The killed server started again on its port, and new admin clients of it."""
    cloud.onestack("up", "--bind", f"127.0.0.1:{cloud.port}", "--detach", "--no-user-clouds")
    return admin_clients(cloud)


def volume_of_noise(cloud, volumes: httpx.Client, tmp_path) -> tuple[dict, str]:
    """A 1 GiB volume whose first 256 MiB do not compress (its backups' chunks take a while to write), and the
    SHA-256 of those 256 MiB."""
    volume = ok(volumes.post("/volumes", json={"volume": {"size": 1}}), 202)["volume"]
    wait(lambda: ok(volumes.get(f"/volumes/{volume['id']}"))["volume"]["status"] == "available", 60, "available")
    noise = tmp_path / "noise.raw"
    noise.write_bytes(data := os.urandom(256 * 1024 * 1024))
    subprocess.run(["qemu-img", "convert", "-n", "-f", "raw", "-O", "qcow2", str(noise),
                    str(volume_file(cloud, volume["id"]))], check=True, capture_output=True)
    noise.unlink()
    return volume, hashlib.sha256(data).hexdigest()


def test_kill_9_during_a_create_from_an_image(crash_cloud):
    cloud = crash_cloud
    volumes, images = admin_clients(cloud)
    # Large enough that its download takes a while: the kill lands while it runs.
    data = os.urandom(1024 * 1024) * 256
    image = ok(images.post("/images", json={"name": "big", "disk_format": "raw", "container_format": "bare"}), 201)
    ok(images.put(f"/images/{image['id']}/file", content=data, headers={"Content-Type": "application/octet-stream"}),
       204)
    volume = ok(volumes.post("/volumes", json={"volume": {"size": 1, "imageRef": image["id"]}}), 202)["volume"]
    store = cloud.data_dir / "volumes"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(p.name.startswith(".image-") for p in
                                                   (store.iterdir() if store.exists() else ())):
        time.sleep(0.005)
    assert any(p.name.startswith(".image-") for p in store.iterdir()), "the download never started"
    cloud.kill_9()
    volumes, images = up_again(cloud)
    ended = ok(volumes.get(f"/volumes/{volume['id']}"))["volume"]
    assert ended["status"] == "error"
    assert list(store.iterdir()) == []
    # The reason is kept where the project finds it (a user message, 3.3) and an operator too (the log).
    (message,) = ok(volumes.get("/messages", params={"resource_uuid": volume["id"]},
                                headers={"OpenStack-API-Version": "volume 3.3"}))["messages"]
    assert message["event_id"] == "VOLUME_VOLUME_005_001"
    assert f"restarted while creating it from image {image['id']}" in message["user_message"]
    log = (cloud.data_dir / "onestack.log").read_text()
    assert f"volume {volume['id']}: Block Storage restarted while creating it from image {image['id']}" in log
    # The error volume deletes, and the image still makes a volume.
    ok(volumes.delete(f"/volumes/{volume['id']}"), 202)
    again = ok(volumes.post("/volumes", json={"volume": {"size": 1, "imageRef": image["id"]}}), 202)["volume"]
    wait(lambda: ok(volumes.get(f"/volumes/{again['id']}"))["volume"]["status"] == "available", 60,
         "a volume from the image after the restart")


# -- a revert: the new data made whole under a temporary name, then renamed over the volume's --------------
V340 = {"OpenStack-API-Version": "volume 3.40"}


def test_kill_9_during_a_revert(crash_cloud):
    cloud = crash_cloud
    volumes, images = admin_clients(cloud)
    images.close()
    volumes.headers.update(V340)
    kind = ok(volumes.post("/types", json={"volume_type": {"name": "luks"}}))["volume_type"]
    ok(volumes.post(f"/types/{kind['id']}/encryption", json={"encryption": SPEC}))
    volume = ok(volumes.post("/volumes", json={"volume": {"size": 1, "volume_type": "luks"}}), 202)["volume"]
    wait(lambda: ok(volumes.get(f"/volumes/{volume['id']}"))["volume"]["status"] == "available", 60, "available")
    volume = ok(volumes.get(f"/volumes/{volume['id']}", headers={"OpenStack-API-Version": "volume 3.64"}))["volume"]
    path, passphrase = volume_file(cloud, volume["id"]), _passphrase(cloud, volume["encryption_key_id"])
    assert _qemu_io(path, passphrase, "write -P 90 0 256M").returncode == 0
    snapshot = ok(volumes.post("/snapshots", json={"snapshot": {"volume_id": volume["id"]}}), 202)["snapshot"]
    wait(lambda: ok(volumes.get(f"/snapshots/{snapshot['id']}"))["snapshot"]["status"] == "available", 60,
         "snapshot available")
    assert _qemu_io(path, passphrase, "write -P 91 0 64k").returncode == 0

    ok(volumes.post(f"/volumes/{volume['id']}/action", json={"revert": {"snapshot_id": snapshot["id"]}}), 202)
    partial = path.with_name(f".volume-{volume['id']}.revert.partial")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not partial.exists():
        time.sleep(0.001)
    assert partial.exists(), "the revert's copy was never seen under way"
    cloud.kill_9()
    # killed mid-copy: the new data half made, the volume's own file untouched (what was written after the
    # snapshot still there) until the rename
    assert partial.exists() and _holds_mark(path, passphrase) is False
    volumes, images = up_again(cloud)
    images.close()
    volumes.headers.update(V340)
    wait(lambda: ok(volumes.get(f"/volumes/{volume['id']}"))["volume"]["status"] != "reverting", 60,
         "the revert finished after the restart")
    assert ok(volumes.get(f"/volumes/{volume['id']}"))["volume"]["status"] == "available"
    assert ok(volumes.get(f"/snapshots/{snapshot['id']}"))["snapshot"]["status"] == "available"
    assert _holds_mark(path, passphrase)  # the snapshot's data, not what was written after it
    assert not partial.exists()
    volumes.close()


# -- a backup: Cinder's start-up cleanup, the backup error and its objects purged, the volume as it was -------
def test_kill_9_during_a_backup(crash_cloud, tmp_path):
    cloud = crash_cloud
    volumes, images = admin_clients(cloud)
    images.close()
    volume, _ = volume_of_noise(cloud, volumes, tmp_path)  # its chunks take a while: the kill lands among them
    backup = ok(volumes.post("/backups", json={"backup": {"volume_id": volume["id"]}}), 202)["backup"]
    store = cloud.data_dir / "backups"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (store.exists() and any(store.rglob(f"*backup_{backup['id']}*"))):
        time.sleep(0.005)
    assert any(store.rglob(f"*backup_{backup['id']}*")), "the backup never started writing"
    assert ok(volumes.get(f"/volumes/{volume['id']}"))["volume"]["status"] == "backing-up"
    cloud.kill_9()
    volumes, images = up_again(cloud)
    images.close()
    assert ok(volumes.get(f"/volumes/{volume['id']}"))["volume"]["status"] == "available"
    ended = ok(volumes.get(f"/backups/{backup['id']}"))["backup"]
    assert ended["status"] == "error" and "restarted" in ended["fail_reason"], ended
    # the objects it had written are purged, and no temporary file of the volume is left
    wait(lambda: not any(store.rglob(f"*backup_{backup['id']}*")), 60, "the cut backup's objects purged")
    assert [p.name for p in (cloud.data_dir / "volumes").iterdir()] == [f"volume-{volume['id']}.qcow2"]
    # the errored backup deletes, and the volume backs up again
    ok(volumes.delete(f"/backups/{backup['id']}"), 202)
    again = ok(volumes.post("/backups", json={"backup": {"volume_id": volume["id"]}}), 202)["backup"]
    wait(lambda: ok(volumes.get(f"/backups/{again['id']}"))["backup"]["status"] == "available", 300,
         "a backup after the restart")
    volumes.close()


# -- a restore: the backup available again, the volume error_restoring, and a second restore whole ----------
def test_kill_9_during_a_restore(crash_cloud, tmp_path):
    cloud = crash_cloud
    volumes, images = admin_clients(cloud)
    images.close()
    volume, written = volume_of_noise(cloud, volumes, tmp_path)
    backup = ok(volumes.post("/backups", json={"backup": {"volume_id": volume["id"]}}), 202)["backup"]
    wait(lambda: ok(volumes.get(f"/backups/{backup['id']}"))["backup"]["status"] == "available", 300, "backed up")

    target = ok(volumes.post("/volumes", json={"volume": {"size": 1}}), 202)["volume"]
    wait(lambda: ok(volumes.get(f"/volumes/{target['id']}"))["volume"]["status"] == "available", 60, "available")
    ok(volumes.post(f"/backups/{backup['id']}/restore", json={"restore": {"volume_id": target["id"]}}), 202)
    partial = cloud.data_dir / "volumes" / f".volume-{target['id']}.restore.partial"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not partial.exists():
        time.sleep(0.002)
    assert partial.exists(), "the restore never started writing"
    assert ok(volumes.get(f"/volumes/{target['id']}"))["volume"]["status"] == "restoring-backup"
    cloud.kill_9()
    volumes, images = up_again(cloud)
    images.close()
    assert ok(volumes.get(f"/volumes/{target['id']}"))["volume"]["status"] == "error_restoring"
    assert ok(volumes.get(f"/backups/{backup['id']}"))["backup"]["status"] == "available"
    assert not partial.exists()
    # the backup is whole: restored again (the volume reset by an admin first, as after Cinder's cleanup)
    ok(volumes.post(f"/volumes/{target['id']}/action", json={"os-reset_status": {"status": "available"}}), 202)
    ok(volumes.post(f"/backups/{backup['id']}/restore", json={"restore": {"volume_id": target["id"]}}), 202)
    wait(lambda: ok(volumes.get(f"/volumes/{target['id']}"))["volume"]["status"] == "available", 300, "restored")
    raw = tmp_path / "restored.raw"
    subprocess.run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw", str(volume_file(cloud, target["id"])),
                    str(raw)], check=True, capture_output=True)
    with raw.open("rb") as restored:
        assert hashlib.sha256(restored.read(256 * 1024 * 1024)).hexdigest() == written
    raw.unlink()
    volumes.close()
