"""The guest's initramfs: busybox, dropbear and its libraries, kernel modules, the boot scripts."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
from pathlib import Path

from onestack.guestimage import cpio, kmodules

FILES = Path(__file__).parent / "files"
BUSYBOX = Path("/bin/busybox")
DROPBEAR = Path("/usr/sbin/dropbear")


def _shared_libraries(binary: Path) -> list[Path]:
    """What the dynamic loader maps for ``binary`` (the loader itself included), from ldd."""
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
    return [Path(p) for p in re.findall(r"(/\S+)\s+\(0x", out)]


def _busybox_entries() -> list[cpio.Entry]:
    # The applet links are made from the binary's own list, so they always match the build.
    applets = subprocess.run([str(BUSYBOX), "--list-full"], capture_output=True, text=True,
                             check=True).stdout.split()
    entries = [cpio.file("bin/busybox", BUSYBOX.read_bytes(), executable=True)]
    for applet in applets:
        if applet != "bin/busybox":
            entries.append(cpio.symlink(applet, "/bin/busybox"))
    return entries


def _dropbear_entries() -> list[cpio.Entry]:
    if not DROPBEAR.exists():
        return []
    entries = [cpio.file("usr/sbin/dropbear", DROPBEAR.read_bytes(), executable=True)]
    for lib in _shared_libraries(DROPBEAR):
        entries.append(cpio.file(str(lib).lstrip("/"), lib.resolve().read_bytes(), executable=True))
    return entries


def _module_entries(modules_dir: Path) -> list[cpio.Entry]:
    entries, order = [], []
    for path in kmodules.resolve(modules_dir):
        name, data = kmodules.read_module(modules_dir, path)
        entries.append(cpio.file(f"lib/modules/{name}", data))
        order.append(name)
    entries.append(cpio.file("etc/modules.order", ("\n".join(order) + "\n").encode()))
    return entries


def _config_entries() -> list[cpio.Entry]:
    text = {
        "etc/passwd": "root:x:0:0:root:/root:/bin/sh\n",
        "etc/group": "root:x:0:\n",
        "etc/shadow": "root:*:1:0:99999:7:::\n",  # no password: keys only
        "etc/shells": "/bin/sh\n",
        "etc/hosts": "127.0.0.1 localhost\n",
    }
    entries = [cpio.file(path, body.encode()) for path, body in text.items()]
    entries += [
        cpio.file("etc/inittab", (FILES / "inittab").read_bytes()),
        cpio.file("etc/init.d/rcS", (FILES / "rcS").read_bytes(), executable=True),
        cpio.file("etc/udhcpc.script", (FILES / "udhcpc.script").read_bytes(), executable=True),
        cpio.file("etc/acpi/PWRF/00000080", (FILES / "power-button").read_bytes(), executable=True),
        cpio.file("usr/bin/sudo", (FILES / "sudo").read_bytes(), executable=True),
        cpio.file("usr/bin/curl", (FILES / "curl").read_bytes(), executable=True),
        # the kernel runs /init; busybox, called "init", is init and reads /etc/inittab
        cpio.symlink("init", "/bin/busybox"),
    ]
    return entries


def build(modules_dir: Path, with_dropbear: bool = True) -> bytes:
    """The gzip-compressed initramfs (gzip: the fastest for the kernel to unpack under TCG)."""
    entries = _busybox_entries() + _module_entries(modules_dir) + _config_entries()
    if with_dropbear:
        entries += _dropbear_entries()
    paths = {e.path for e in entries}
    parents = {str(Path(p).parent) for p in paths}
    for extra in ("dev", "proc", "sys", "run", "tmp", "root", "mnt", "etc/dropbear"):
        parents.add(extra)
    dirs = set()
    for parent in parents:
        while parent not in ("", "."):
            dirs.add(parent)
            parent = os.path.dirname(parent)
    entries += [cpio.directory(d) for d in sorted(dirs - paths)]
    return gzip.compress(cpio.archive(entries), compresslevel=9, mtime=0)
