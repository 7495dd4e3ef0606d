"""The container's root: an overlay of the cached image (read-only, shared) and the instance's own upper
directory, mounted on the bundle's ``rootfs`` while the container runs."""

from __future__ import annotations

import subprocess
from pathlib import Path

from onestack.drivers.compute import DriverError


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def mounted(path: Path) -> bool:
    target = str(path)
    with open("/proc/self/mountinfo") as info:
        return any(_unescape(line.split()[4]) == target for line in info)


def mount(lower: Path, upper: Path, work: Path, target: Path) -> None:
    if mounted(target):
        return
    for folder in (upper, work, target):
        folder.mkdir(exist_ok=True)
    options = f"lowerdir={lower},upperdir={upper},workdir={work}"
    done = subprocess.run(["mount", "-t", "overlay", "overlay", "-o", options, str(target)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise DriverError(f"cannot mount the container's root (overlayfs): {done.stderr.strip()}")


def unmount(target: Path) -> None:
    while mounted(target):  # mounted twice (two racing starts) takes two
        done = subprocess.run(["umount", str(target)], capture_output=True, text=True)
        if done.returncode != 0:
            raise DriverError(f"cannot unmount the container's root: {done.stderr.strip()}")
