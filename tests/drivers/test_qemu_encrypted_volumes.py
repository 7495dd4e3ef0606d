"""An encrypted volume (LUKS inside its qcow2) in real guests: hot-plugged into a running guest (its key given to
QEMU as a secret object over QMP), the guest writes a marker through the disk, a hard reboot (a new QEMU, the key
read from an inherited pipe) reads it back, detached the file holds no plaintext while qemu-img with the key reads
the marker and a wrong key opens nothing, and a second guest given the volume reads the marker; a server boots
from an encrypted volume made from the image.  The key is on
no QEMU command line, in no spec file and in no log."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from onestack.drivers.qemu.layout import InstanceDir
from tests.api.helpers import ok, wait
from tests.api.test_volumes_encryption import _passphrase
from tests.api.volume_helpers import volume_file
from tests.cloudfixture import Cloud
from tests.drivers import serial
from tests.drivers.test_qemu_server_volumes import (
    CLI_VERSION,
    active,
    cli,
    qemu_cloud_with_two_guests,
    shell,
    volume_status,
)

pytestmark = pytest.mark.qemu
MARKER = "onestack-encrypted-marker"
COPIES = 2000  # about 50 KiB of markers: a run ciphertext would never hold


def _write_markers(guest: serial.Shell) -> None:
    script = (f"i=0; while [ $i -lt {COPIES} ]; do echo {MARKER}; i=$((i+1)); done > /tmp/m && "
              f"dd if=/tmp/m of=/dev/vdb conv=fsync 2>/dev/null && echo written")
    assert guest.run(script, 60) == "written"


def _read_plain(path: Path, passphrase: str, out: Path) -> subprocess.CompletedProcess:
    """The volume's plaintext, as qemu-img opens it with ``passphrase`` (on its command line: a test's own
    key check, not how onestack hands keys over), written raw to ``out``."""
    return subprocess.run(["qemu-img", "convert", "-U", "--object", f"secret,id=k,data={passphrase}",
                           "--image-opts", f"driver=qcow2,file.filename={path},encrypt.key-secret=k",
                           "-O", "raw", str(out)], capture_output=True, text=True)


def _qemu_cmdline(cloud: Cloud, server_id: str) -> str:
    where = InstanceDir(cloud.data_dir / "compute" / "instances" / server_id)
    pid = int(where.pidfile.read_text().strip())
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def test_an_encrypted_volume_is_plaintext_to_guests_and_ciphertext_on_disk(tmp_path, tiny_image):
    cloud, nova, first, second = qemu_cloud_with_two_guests(tmp_path)
    shells: list[serial.Shell] = []
    try:
        cloud.openstack("volume", "type", "create", "--encryption-provider", "luks", "--encryption-cipher",
                        "aes-xts-plain64", "--encryption-key-size", "256", "--encryption-control-location",
                        "front-end", "luks")
        volume = cli(cloud, "volume", "create", "--size", "1", "--type", "luks", "ev")
        wait(lambda: volume_status(cloud, "ev") == "available", 60, "ev available")
        volume = cli(cloud, "--os-volume-api-version", "3.64", "volume", "show", "ev")
        assert volume["encrypted"] is True
        passphrase = _passphrase(cloud, volume["encryption_key_id"])
        path = volume_file(cloud, volume["id"])

        # hot-plugged into a running guest: the key reaches QEMU over QMP only
        active(nova, first)
        one = shell(nova, first)
        shells.append(one)
        cloud.openstack(*CLI_VERSION, "server", "add", "volume", "vm1", "ev")
        wait(lambda: "vdb" in one.run("ls /sys/block"), 30, "vm1 to see /dev/vdb")
        assert volume_status(cloud, "ev") == "in-use"
        _write_markers(one)
        assert one.run(f"head -c {len(MARKER)} /dev/vdb") == MARKER
        assert MARKER.encode() not in path.read_bytes()

        # a hard reboot is a new QEMU: the key comes through an inherited pipe, not its command line
        cloud.openstack("server", "reboot", "--hard", "--wait", "vm1")
        one.close()
        one = shell(nova, first)
        shells.append(one)
        assert one.run(f"head -c {len(MARKER)} /dev/vdb") == MARKER
        cmdline = _qemu_cmdline(cloud, first)
        assert passphrase not in cmdline and "file=/dev/fd/" in cmdline
        spec_file = InstanceDir(cloud.data_dir / "compute" / "instances" / first).spec_file
        assert passphrase not in spec_file.read_text()
        assert json.loads(spec_file.read_text())["volumes"][0]["encrypted"] is True

        cloud.openstack("server", "remove", "volume", "vm1", "ev")
        assert volume_status(cloud, "ev") == "available"
        assert one.run("ls /sys/block").split() == ["vda"]

        # on disk: no marker in clear; with the key qemu-img reads it, a wrong key opens nothing
        data = path.read_bytes()
        assert MARKER.encode() not in data and b"LUKS\xba\xbe" in data[:4 * 1024 * 1024]
        plain = tmp_path / "plain.raw"
        opened = _read_plain(path, passphrase, plain)
        assert opened.returncode == 0, opened.stderr
        with plain.open("rb") as raw:
            assert raw.read(len(MARKER) * COPIES + COPIES) == (MARKER + "\n").encode() * COPIES
        wrong = _read_plain(path, "00" * 32, tmp_path / "wrong.raw")
        assert wrong.returncode != 0 and "password" in wrong.stderr.lower(), wrong.stderr

        # a second guest given the volume reads the marker
        active(nova, second)
        two = shell(nova, second)
        shells.append(two)
        ok(nova.post(f"/servers/{second}/os-volume_attachments", json={"volumeAttachment": {"volumeId": volume["id"]}}))
        wait(lambda: "vdb" in two.run("ls /sys/block"), 30, "vm2 to see /dev/vdb")
        assert two.run(f"head -c {len(MARKER)} /dev/vdb") == MARKER
        assert passphrase not in _qemu_cmdline(cloud, second)

        # a boot from an encrypted volume made from the image: QEMU starts with it as its root disk, the key from
        # an inherited pipe
        cloud.openstack("volume", "create", "--image", "onestack-tiny", "--size", "1", "--type", "luks",
                        "--bootable", "bv")
        wait(lambda: volume_status(cloud, "bv") == "available", 120, "bv available")
        bootable = cli(cloud, "--os-volume-api-version", "3.64", "volume", "show", "bv")
        assert b"LUKS\xba\xbe" in volume_file(cloud, bootable["id"]).read_bytes()[:4 * 1024 * 1024]
        third = cli(cloud, *CLI_VERSION, "server", "create", "--volume", "bv", "--flavor", "m1.nano", "--nic", "none",
                    "vm3")["id"]
        active(nova, third)
        booted = shell(nova, third)
        shells.append(booted)
        assert booted.run("cat /sys/block/vda/serial") == bootable["id"][:20]
        assert _passphrase(cloud, bootable["encryption_key_id"]) not in _qemu_cmdline(cloud, third)

        cloud.openstack("server", "delete", "--wait", "vm1", "vm2", "vm3")
        assert volume_status(cloud, "ev") == "available"
        for log in [cloud.data_dir / "onestack.log", *(cloud.data_dir / "compute").rglob("*.log")]:
            if log.exists():
                assert passphrase not in log.read_text(errors="replace"), log
    finally:
        for one_shell in shells:
            one_shell.close()
        nova.close()
        cloud.openstack("server", "delete", "--wait", "vm1", "vm2", "vm3", check=False)
        cloud.stop()
