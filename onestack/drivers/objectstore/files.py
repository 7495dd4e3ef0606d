"""Blobs as files in one directory tree, written so that a crash never leaves a half blob under its name.

Layout under the root::

    data/<2 hex>/<blob id>   complete blobs, named by an id this store chose (never by an object name,
                             so no client-supplied string ever becomes part of a path)
    tmp/<blob id>            uploads in progress; renamed into data/ after fsync
    quarantine/<blob id>     blobs the auditor found damaged, kept for an operator to look at

A blob's block checksums (CRC-32 of every ``block_size`` bytes) are returned to the caller, who keeps
them with its own record and hands them back on read: each block is checked before any of its bytes
leave, so a flipped bit raises ``Corrupt`` rather than reaching a client.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

from onestack.drivers.objectstore import Missing, Stored
from onestack.drivers.objectstore.blocks import Summer, check, verify
from onestack.drivers.objectstore.spool import spool

BLOCK = 1 << 20


class FileStore:
    def __init__(self, root: Path, block_size: int = BLOCK):
        self.root = root
        self.block_size = block_size
        self.data = root / "data"
        self.tmp = root / "tmp"
        self.quarantined = root / "quarantine"
        for path in (self.data, self.tmp, self.quarantined):
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._known_dirs: set[str] = set()

    def path(self, blob_id: str) -> Path:
        return self.data / blob_id[:2] / blob_id

    def put(self, chunks: Iterable[bytes], max_size: int) -> Stored:
        """Write ``chunks`` durably (``spool``: on two threads once large); ``TooLarge`` once more than
        ``max_size`` bytes arrive."""
        blob_id = uuid.uuid4().hex
        partial = self.tmp / blob_id
        summer = Summer(self.block_size)
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                spool(fd, chunks, summer, max_size)
                size = summer.size
                if size:
                    os.fsync(fd)
            finally:
                os.close(fd)
            md5, sums = summer.finish()
            if not size:
                partial.unlink()
                return Stored(None, 0, md5, b"")
            final = self.path(blob_id)
            self._ensure_dir(final.parent)
            os.replace(partial, final)
            _fsync_dir(final.parent)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return Stored(blob_id, size, md5, sums)

    def get(self, blob_id: str | None, blocks: bytes, size: int, start: int = 0,
            end: int | None = None) -> Iterator[bytes]:
        """Bytes ``start``..``end`` (inclusive) of the blob, each block checked before it is yielded.

        The file is opened here, not on first iteration, so ``Missing`` comes before any response starts
        (and a concurrent delete after this call cannot cut the read short)."""
        end = size - 1 if end is None else end
        if blob_id is None or end < start:
            return iter(())
        try:
            fh = open(self.path(blob_id), "rb")  # noqa: SIM115 - the generator below owns and closes it
        except FileNotFoundError:
            raise Missing(blob_id) from None
        return self._blocks(fh, blob_id, blocks, size, start, end)

    def _blocks(self, fh, blob_id: str, blocks: bytes, size: int, start: int, end: int) -> Iterator[bytes]:
        with fh:
            first, last = start // self.block_size, end // self.block_size
            fh.seek(first * self.block_size)
            for index in range(first, last + 1):
                offset = index * self.block_size
                want = min(self.block_size, size - offset)
                data = fh.read(want)
                check(blob_id, data, index, blocks, want)
                lo = max(start - offset, 0)
                hi = min(end - offset + 1, want)
                yield data[lo:hi] if (lo, hi) != (0, want) else data

    def verify(self, blob_id: str | None, blocks: bytes, size: int, md5: str) -> bool:
        """Whether the blob still holds exactly what was written (the auditor's check)."""
        return verify(self, blob_id, blocks, size, md5)

    def copy(self, blob_id: str | None, blocks: bytes, size: int, md5: str) -> Stored:
        """A new blob of the same bytes (each block checked on the way)."""
        return self.put(self.get(blob_id, blocks, size), size)

    def delete(self, blob_id: str | None) -> None:
        if blob_id is not None:
            self.path(blob_id).unlink(missing_ok=True)

    def quarantine(self, blob_id: str) -> None:
        try:
            os.replace(self.path(blob_id), self.quarantined / blob_id)
        except FileNotFoundError:
            pass

    def stat(self, blob_id: str) -> int | None:
        try:
            return self.path(blob_id).stat().st_size
        except FileNotFoundError:
            return None

    def blobs(self) -> Iterator[tuple[str, float]]:
        """Every complete blob's id and modification time."""
        for bucket in self.data.iterdir():
            for entry in os.scandir(bucket):
                yield entry.name, entry.stat().st_mtime

    def discard_partials(self, older_than: float) -> int:
        """Remove uploads in progress last written before ``older_than`` (an epoch time): what a crash left."""
        removed = 0
        for entry in os.scandir(self.tmp):
            if entry.stat().st_mtime < older_than:
                Path(entry.path).unlink(missing_ok=True)
                removed += 1
        return removed

    def _ensure_dir(self, path: Path) -> None:
        if path.name not in self._known_dirs:
            path.mkdir(exist_ok=True, mode=0o700)
            self._known_dirs.add(path.name)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

