"""Block checksums every store keeps the same way: MD5 of the whole blob and CRC-32 of each ``block_size``
bytes, taken while the bytes arrive and checked again on every read."""

from __future__ import annotations

import hashlib
import struct
import zlib

from onestack.drivers.objectstore import Corrupt, Missing


class Summer:
    """Fed the blob's bytes in order, in chunks of any size."""

    def __init__(self, block_size: int):
        self.block_size = block_size
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.sums = bytearray()
        self.size = 0
        self._crc, self._filled = 0, 0

    def update(self, chunk: bytes) -> None:
        self.digest(chunk)
        self.checksum(chunk)

    def digest(self, chunk: bytes) -> None:
        """The MD5 and size half of ``update`` (a thread of its own may take the other half, in order)."""
        self.size += len(chunk)
        self.md5.update(chunk)

    def checksum(self, chunk: bytes) -> None:
        """The block checksums half of ``update``."""
        view = memoryview(chunk)
        while view:
            take = min(len(view), self.block_size - self._filled)
            self._crc = zlib.crc32(view[:take], self._crc)
            self._filled += take
            view = view[take:]
            if self._filled == self.block_size:
                self.sums += struct.pack(">I", self._crc)
                self._crc, self._filled = 0, 0

    def finish(self) -> tuple[str, bytes]:
        """(MD5 hex digest, the block checksums)."""
        if self._filled:
            self.sums += struct.pack(">I", self._crc)
            self._crc, self._filled = 0, 0
        return self.md5.hexdigest(), bytes(self.sums)


def check(blob_id: str, data: bytes, index: int, blocks: bytes, want: int) -> None:
    """``Corrupt`` unless ``data`` is block ``index`` whole (``want`` bytes) with its recorded checksum."""
    expected = blocks[index * 4:index * 4 + 4]
    if len(data) != want or len(expected) != 4 or struct.pack(">I", zlib.crc32(data)) != expected:
        raise Corrupt(blob_id)


def verify(store, blob_id: str | None, blocks: bytes, size: int, md5: str) -> bool:
    """Whether the blob still holds exactly what was written (the auditor's check): every block read and
    checked, the whole compared with its MD5, and the store's own idea of its size."""
    if blob_id is None:
        return size == 0
    digest = hashlib.md5(usedforsecurity=False)
    try:
        for chunk in store.get(blob_id, blocks, size):
            digest.update(chunk)
        return store.stat(blob_id) == size and digest.hexdigest() == md5
    except (Corrupt, Missing):
        return False
