"""Image bytes on disk, written so that a crash never leaves a half image behind.

Data goes to ``.<id>.partial`` next to its final place, is fsync'ed, then
renamed over ``<id>`` and the directory fsync'ed: the final name only ever
holds complete data.  A partial file left by a crash is removed by
``discard_partials`` at start-up.  Other backends (the object store) can
implement the same four methods.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from onestack.http.errors import PayloadTooLarge

CHUNK = 1 << 20


@dataclasses.dataclass(frozen=True)
class Written:
    size: int
    md5: str
    sha512: str


class FileStore:
    name = "file"

    def __init__(self, root: Path):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)

    def path(self, image_id: str) -> Path:
        return self.root / image_id

    def _partial(self, image_id: str) -> Path:
        return self.root / f".{image_id}.partial"

    def write(self, image_id: str, chunks: Iterable[bytes], max_size: int) -> Written:
        md5, sha512, size = hashlib.md5(usedforsecurity=False), hashlib.sha512(), 0
        partial = self._partial(image_id)
        try:
            with open(partial, "wb") as fh:
                for chunk in chunks:
                    size += len(chunk)
                    if size > max_size:
                        raise PayloadTooLarge(f"Image exceeds the maximum size of {max_size} bytes.")
                    md5.update(chunk)
                    sha512.update(chunk)
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(partial, self.path(image_id))
            self._sync_dir()
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return Written(size, md5.hexdigest(), sha512.hexdigest())

    def read(self, image_id: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Bytes ``start``..``end`` (inclusive), in chunks, never the whole image in memory."""
        with open(self.path(image_id), "rb") as fh:
            fh.seek(start)
            left = None if end is None else end - start + 1
            while left is None or left > 0:
                chunk = fh.read(CHUNK if left is None else min(CHUNK, left))
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk

    def delete(self, image_id: str) -> None:
        self.path(image_id).unlink(missing_ok=True)
        self._partial(image_id).unlink(missing_ok=True)

    def ids(self) -> list[str]:
        """The images that have complete data here."""
        return [p.name for p in self.root.iterdir() if not p.name.startswith(".")]

    def discard_partials(self) -> list[str]:
        """Remove what interrupted uploads left; returns the image ids they belonged to."""
        found = []
        for partial in self.root.glob(".*.partial"):
            found.append(partial.name[1:-len(".partial")])
            partial.unlink(missing_ok=True)
        return found

    def _sync_dir(self) -> None:
        fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
