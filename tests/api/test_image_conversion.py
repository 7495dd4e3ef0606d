"""Glance's image_conversion import plugin over HTTP (``image_import.plugins: [image_conversion]``): a qcow2
imported with glance-direct is stored as raw (what RBD clones need), its disk_format, size, checksums and
virtual size those of the raw data; formats qemu-img does not convert and uploads by PUT .../file are
stored as they are; data that is not what it claims to be never reaches qemu-img convert."""

from __future__ import annotations

import hashlib
import subprocess

import httpx
import pytest

from tests.api.helpers import ok
from tests.api.test_image_import import only_task, stage, start_import, wait_for
from tests.api.test_images import new_image, upload
from tests.cloudfixture import Cloud

MiB = 1024**2


@pytest.fixture(scope="module")
def converting(tmp_path_factory):
    cloud = Cloud(tmp_path_factory.mktemp("converting"),
                  settings={"image_import": {"plugins": ["image_conversion"]}}).start()
    with httpx.Client(base_url=f"{cloud.url}/image", headers={"X-Auth-Token": cloud.token()}, timeout=60) as c:
        yield cloud, c
    cloud.stop()


def qcow2_with_data(tmp_path) -> tuple[bytes, bytes]:
    """A 16 MiB qcow2 holding a pattern at 1 MiB, and the raw disk it stands for (qemu-img's own conversion)."""
    path, raw = tmp_path / "disk.qcow2", tmp_path / "disk.raw"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), "16M"], check=True)
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x3c 1M 64k", str(path)], check=True,
                   capture_output=True)
    subprocess.run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw", str(path), str(raw)], check=True)
    return path.read_bytes(), raw.read_bytes()


def test_a_qcow2_import_is_stored_as_raw(converting, tmp_path):
    cloud, glance = converting
    qcow2, raw = qcow2_with_data(tmp_path)
    assert len(raw) == 16 * MiB and len(qcow2) < len(raw)
    image = new_image(glance, disk_format="qcow2", name="converted")
    ok(stage(glance, image["id"], qcow2), 204)
    assert start_import(glance, image["id"]).status_code == 202
    active = wait_for(glance, image["id"], "active", timeout=60)
    assert active["status"] == "active", active
    assert active["disk_format"] == "raw" and active["container_format"] == "bare"
    assert (active["size"], active["virtual_size"]) == (len(raw), len(raw))
    assert active["checksum"] == hashlib.md5(raw).hexdigest()
    assert active["os_hash_value"] == hashlib.sha512(raw).hexdigest()
    assert glance.get(f"/v2/images/{image['id']}/file").content == raw
    only_task(glance, image["id"], "success")
    # neither the staged qcow2 nor the conversion's scratch file is left
    assert list((cloud.data_dir / "staging").iterdir()) == []
    assert not [p.name for p in (cloud.data_dir / "images").iterdir() if p.name.startswith(".")]


def test_what_is_not_converted_is_stored_as_it_is(converting, tmp_path):
    _, glance = converting
    qcow2, _ = qcow2_with_data(tmp_path)
    uploaded = new_image(glance, disk_format="qcow2", name="uploaded")
    ok(upload(glance, uploaded["id"], qcow2), 204)  # PUT .../file: no import plugin runs, as in Glance
    shown = ok(glance.get(f"/v2/images/{uploaded['id']}"))
    assert (shown["disk_format"], shown["size"]) == ("qcow2", len(qcow2))
    iso = new_image(glance, disk_format="iso", name="iso")
    ok(stage(glance, iso["id"], b"an iso is not converted" * 100), 204)
    assert start_import(glance, iso["id"]).status_code == 202
    active = wait_for(glance, iso["id"], "active")
    assert (active["disk_format"], active["size"]) == ("iso", 2300)


def test_data_that_is_not_its_declared_format_fails_the_import_before_conversion(converting):
    _, glance = converting
    image = new_image(glance, disk_format="qcow2", name="liar")
    ok(stage(glance, image["id"], b"\0" * 65536), 204)
    assert start_import(glance, image["id"]).status_code == 202
    task = only_task(glance, image["id"], "failure")
    assert "not the declared disk_format qcow2" in task["message"]
    shown = wait_for(glance, image["id"], "queued")
    assert (shown["status"], shown["disk_format"]) == ("queued", "qcow2")
