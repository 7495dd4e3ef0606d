"""A qemu-img that fails half-way leaves no ``.partial`` file behind: the disks the QEMU driver makes go
through a partial file renamed into place only once whole (``disks.making``).  The failures are real ones:
an image whose first L2 table pointer is corrupt (``qemu-img info`` and ``create`` accept it, reading its
data fails with EIO), converted into a snapshot and copied over NBD as a cold move's destination does."""

from __future__ import annotations

import struct
import subprocess
import uuid
from pathlib import Path

import pytest

from onestack.drivers.compute import DriverError, InstanceSpec
from onestack.drivers.qemu import coldmove, disks
from onestack.drivers.qemu.layout import InstanceDir

pytestmark = pytest.mark.qemu


def corrupt_image(path: Path) -> Path:
    """A qcow2 image with data whose L1 table's first entry points at an unaligned L2 table."""
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), "64M"], check=True)
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 7 0 8M", str(path)], check=True, capture_output=True)
    with open(path, "r+b") as f:
        f.seek(40)  # the header's l1_table_offset
        (l1,) = struct.unpack(">Q", f.read(8))
        f.seek(l1)
        f.write(struct.pack(">Q", (1 << 63) | 0x200))
    return path


def partials(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.rglob("*partial*"))


@pytest.fixture
def instance(tmp_path) -> tuple[InstanceSpec, InstanceDir]:
    """A stopped guest's directory whose root disk is an overlay on the corrupt image, with an ephemeral disk."""
    spec = InstanceSpec(uuid=str(uuid.uuid4()), name="instance-000000b1", hostname="partial", vcpus=1,
                        memory_mb=128, root_gb=1, ephemeral_gb=1,
                        image_path=str(corrupt_image(tmp_path / "broken.qcow2")), image_format="qcow2")
    where = InstanceDir(tmp_path / "source" / spec.uuid)
    where.root.mkdir(parents=True)
    disks.create_root(spec, where, tmp_path / "source-base")
    disks.create_ephemeral_and_swap(spec, where)
    return spec, where


def test_a_failed_snapshot_conversion_leaves_no_partial_file(instance, tmp_path):
    _, where = instance
    target = tmp_path / "staging" / "snapshot.qcow2"
    target.parent.mkdir()
    with pytest.raises(DriverError, match="qemu-img convert failed"):
        disks.snapshot(where, target)
    assert list(target.parent.iterdir()) == []
    assert partials(where.root) == []


def test_a_failed_cold_move_copy_leaves_no_partial_file(instance, tmp_path):
    spec, source = instance
    destination = InstanceDir(tmp_path / "destination" / spec.uuid)
    destination.root.mkdir(parents=True)
    # what a killed earlier try left: started over, then removed with the failed copy
    destination.root_disk.with_suffix(".partial").write_bytes(b"left by a killed try")
    uri = coldmove.serve(spec, source, "127.0.0.1")
    try:
        with pytest.raises(DriverError, match="qemu-img convert failed"):
            coldmove.fetch(spec, destination, tmp_path / "destination-base", uri)
    finally:
        coldmove.stop(source)
    assert partials(destination.root) == []
    assert not destination.root_disk.exists()
    assert partials(tmp_path / "destination-base") == []


def test_disks_that_can_be_made_are_still_renamed_into_place(tmp_path):
    """The same path with a sound image: the disks are there, whole, and no partial file is."""
    image = tmp_path / "sound.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(image), "64M"], check=True)
    spec = InstanceSpec(uuid=str(uuid.uuid4()), name="instance-000000b2", hostname="sound", vcpus=1, memory_mb=128,
                        root_gb=1, swap_mb=16, image_path=str(image), image_format="qcow2")
    where = InstanceDir(tmp_path / spec.uuid)
    where.root.mkdir()
    disks.create_root(spec, where, tmp_path / "base")
    disks.create_ephemeral_and_swap(spec, where)
    disks.snapshot(where, tmp_path / "snapshot.qcow2")
    assert disks.info(where.root_disk)["virtual-size"] == 1024 ** 3
    assert where.swap_disk.stat().st_size == 16 * 1024 ** 2
    assert disks.info(tmp_path / "snapshot.qcow2")["format"] == "qcow2"
    assert partials(tmp_path) == []
