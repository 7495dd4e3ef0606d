"""A real guest booted from a volume is rebuilt (2.93) with another image: its root volume is re-imaged through
Block Storage's os-reimage and the guest boots again from the volume's new content.  The guest first writes a
marker on its root disk; after the rebuild the same volume (its serial) is the guest's root disk, it boots,
the marker is gone (in the guest and in the volume's file) and the volume carries the new image."""

from __future__ import annotations

import httpx
import pytest

from tests.api.helpers import ok
from tests.api.volume_helpers import read_at, volume_file
from tests.cloudfixture import Cloud
from tests.drivers.test_qemu_server_volumes import (
    CLI_VERSION,
    active,
    bootable_volume,
    cli,
    shell,
    volume_status,
)

pytestmark = pytest.mark.qemu
MiB = 1024 ** 2
MARK = "rebuild-marker-5e1f"
OFFSET_MIB = 900  # far past the image's data, inside the 1 GiB volume


def test_a_volume_backed_guest_boots_from_its_reimaged_volume(tmp_path, tiny_image):
    cloud = Cloud(tmp_path / "data", settings={"compute": {"driver": "qemu"}}).start()
    nova = httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={"X-Auth-Token": cloud.token()}, timeout=120)
    console = None
    try:
        cloud.onestack("image", "register")
        second = cli(cloud, "image", "create", "--disk-format", "qcow2", "--container-format", "bare",
                     "--file", str(tiny_image.path), "tiny-again")
        volume_id = bootable_volume(cloud, "bv", tiny_image)
        server = cli(cloud, *CLI_VERSION, "server", "create", "--volume", "bv", "--flavor", "m1.nano", "--nic",
                     "none", "bfv")
        active(nova, server["id"])
        console = shell(nova, server["id"])
        console.run(f"echo {MARK} | dd of=/dev/vda bs=1M seek={OFFSET_MIB} conv=fsync 2>/dev/null; sync")
        assert MARK.encode() in read_at(volume_file(cloud, volume_id), OFFSET_MIB * MiB, 64)
        console.close()
        console = None

        ok(nova.post(f"/servers/{server['id']}/action", json={"rebuild": {"imageRef": second["id"]}},
                     headers={"X-OpenStack-Nova-API-Version": "2.93"}), 202)
        active(nova, server["id"])
        assert volume_status(cloud, "bv") == "in-use"
        assert cli(cloud, "volume", "show", "bv")["volume_image_metadata"]["image_id"] == second["id"]
        console = shell(nova, server["id"])  # the guest booted again, from the re-imaged volume
        assert console.run("cat /sys/block/vda/serial") == volume_id[:20]
        seen = console.run(f"dd if=/dev/vda bs=1M skip={OFFSET_MIB} count=1 2>/dev/null | head -c 64 | od -c | head -2")
        assert MARK[:8] not in seen.replace(" ", "")
        assert MARK.encode() not in read_at(volume_file(cloud, volume_id), OFFSET_MIB * MiB, 64)
        cloud.openstack("server", "delete", "--wait", "bfv")
        assert volume_status(cloud, "bv") == "available"
    finally:
        if console is not None:
            console.close()
        nova.close()
        cloud.onestack("down", "--purge", check=False)
