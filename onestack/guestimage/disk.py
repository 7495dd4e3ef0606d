"""A bootable disk from a kernel and an initramfs: MBR (syslinux's) + one FAT partition.

No loop devices or mounts: mkfs.fat writes the filesystem to a file, mtools copies into it and
syslinux installs its boot sector and ldlinux through mtools too, so building needs no root.
The partition starts at 1 MiB, as partitioning tools place it.
"""

from __future__ import annotations

import os
import struct
import subprocess
import tempfile
from pathlib import Path

SECTOR = 512
PARTITION_START = 2048  # sectors
SYSLINUX_MBR = (Path("/usr/lib/syslinux/mbr/mbr.bin"), Path("/usr/lib/SYSLINUX/mbr.bin"))
FIXED_MTIME = 1_700_000_000  # every file on the FAT gets this time: same inputs, same disk
VOLUME_ID = "0e57ac00"

SYSLINUX_CFG = """\
DEFAULT onestack-tiny
PROMPT 0
TIMEOUT 0
LABEL onestack-tiny
  KERNEL /vmlinuz
  INITRD /initrd.gz
  APPEND {cmdline}
"""

# quiet: under TCG every console line costs; the guest's own lines are printed anyway.
KERNEL_CMDLINE = "console=ttyS0 quiet"


def _run(*argv: str, env: dict | None = None) -> None:
    subprocess.run(argv, check=True, capture_output=True, env=env)


def _mbr(total_sectors: int) -> bytes:
    boot_code = next(p for p in SYSLINUX_MBR if p.exists()).read_bytes()[:440]
    size = total_sectors - PARTITION_START
    # one bootable FAT16 (LBA) partition; CHS fields saturated, as for any disk past 8 GB
    entry = struct.pack("<B3sB3sII", 0x80, b"\xfe\xff\xff", 0x0E, b"\xfe\xff\xff", PARTITION_START, size)
    table = entry + b"\0" * 48
    return boot_code + bytes.fromhex(VOLUME_ID) + b"\0\0" + table + b"\x55\xaa"


def build(kernel: Path, initrd: bytes, target: Path, size_mb: int | None = None) -> None:
    """Write a raw bootable disk to ``target``."""
    payload = kernel.stat().st_size + len(initrd)
    size_mb = size_mb or (payload // 2**20 + 8)  # room for FAT tables and syslinux
    total_sectors = size_mb * 2**20 // SECTOR
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        part = work / "part.img"
        files = {"vmlinuz": kernel.read_bytes(), "initrd.gz": initrd,
                 "syslinux.cfg": SYSLINUX_CFG.format(cmdline=KERNEL_CMDLINE).encode()}
        for name, data in files.items():
            (work / name).write_bytes(data)
            os.utime(work / name, (FIXED_MTIME, FIXED_MTIME))
        part_kb = (total_sectors - PARTITION_START) * SECTOR // 1024
        _run("mkfs.fat", "-F", "16", "-n", "ONESTACK", "-i", VOLUME_ID, "--invariant",
             "-h", str(PARTITION_START), "-C", str(part), str(part_kb))
        env = {**os.environ, "MTOOLS_SKIP_CHECK": "1", "SOURCE_DATE_EPOCH": str(FIXED_MTIME)}
        _run("mcopy", "-m", "-i", str(part), *(str(work / n) for n in files), "::/", env=env)
        _run("syslinux", "--install", str(part), env=env)
        with open(target, "wb") as out:
            out.write(_mbr(total_sectors).ljust(PARTITION_START * SECTOR, b"\0"))
            with open(part, "rb") as src:
                while chunk := src.read(2**20):
                    out.write(chunk)
