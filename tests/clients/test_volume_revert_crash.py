"""kill -9 in the middle of reverting a volume to its snapshot: after the restart the revert is finished (the step
is safe to repeat: the new data are made whole under a temporary name, then renamed over the volume's), nothing
stays ``reverting`` or ``restoring``, and no temporary file is left.  The volume is encrypted and its snapshot holds
256 MiB, so the whole copy a revert makes takes long enough for the kill to land in it."""

import time

import httpx
import pytest

from tests.api.helpers import ok, wait
from tests.api.test_volumes_encryption import SPEC, _holds_mark, _passphrase, _qemu_io
from tests.api.volume_helpers import volume_file
from tests.cloudfixture import Cloud

V340 = {"OpenStack-API-Version": "volume 3.40"}


@pytest.fixture
def crash_cloud(tmp_path):
    cloud = Cloud(tmp_path / "data").start()
    yield cloud
    cloud.stop()


def admin_volumes(cloud) -> httpx.Client:
    issued = cloud.issue()
    token, project = issued.headers["X-Subject-Token"], issued.json()["token"]["project"]["id"]
    return httpx.Client(base_url=f"{cloud.url}/volume/v3/{project}", headers={"X-Auth-Token": token, **V340},
                        timeout=60)


def test_kill_9_during_a_revert(crash_cloud):
    cloud = crash_cloud
    volumes = admin_volumes(cloud)
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
    cloud.onestack("up", "--bind", f"127.0.0.1:{cloud.port}", "--detach", "--no-user-clouds")
    volumes = admin_volumes(cloud)
    wait(lambda: ok(volumes.get(f"/volumes/{volume['id']}"))["volume"]["status"] != "reverting", 60,
         "the revert finished after the restart")
    assert ok(volumes.get(f"/volumes/{volume['id']}"))["volume"]["status"] == "available"
    assert ok(volumes.get(f"/snapshots/{snapshot['id']}"))["snapshot"]["status"] == "available"
    assert _holds_mark(path, passphrase)  # the snapshot's data, not what was written after it
    assert not partial.exists()
    volumes.close()
