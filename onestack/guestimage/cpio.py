"""A minimal writer for the "newc" cpio format the kernel unpacks as initramfs.

Written here rather than with cpio(1) so every entry has the same owner and time whatever the
build machine: the same inputs give the same bytes.
"""

from __future__ import annotations

import dataclasses
import stat


@dataclasses.dataclass(frozen=True)
class Entry:
    path: str  # inside the archive, without a leading slash
    mode: int  # file type and permission bits
    data: bytes = b""  # file contents, or the target of a symlink


def directory(path: str) -> Entry:
    return Entry(path, stat.S_IFDIR | 0o755)


def file(path: str, data: bytes, executable: bool = False) -> Entry:
    return Entry(path, stat.S_IFREG | (0o755 if executable else 0o644), data)


def symlink(path: str, target: str) -> Entry:
    return Entry(path, stat.S_IFLNK | 0o777, target.encode())


def _pad(length: int) -> bytes:
    return b"\0" * (-length % 4)


def _header(ino: int, entry: Entry, name: bytes) -> bytes:
    fields = [ino, entry.mode, 0, 0, 1, 0, len(entry.data), 0, 0, 0, 0, len(name) + 1, 0]
    return b"070701" + b"".join(b"%08X" % f for f in fields)


def archive(entries: list[Entry]) -> bytes:
    """The archive of ``entries`` (sorted by path, so parents come before children)."""
    out = bytearray()
    for ino, entry in enumerate(sorted(entries, key=lambda e: e.path), start=1):
        name = entry.path.encode()
        head = _header(ino, entry, name) + name + b"\0"
        out += head + _pad(len(head)) + entry.data + _pad(len(entry.data))
    trailer = b"070701" + b"%08X" % 0 * 11 + b"%08X" % 11 + b"%08X" % 0 + b"TRAILER!!!\0"
    out += trailer + _pad(len(trailer))
    return bytes(out)
