"""Where object bytes live: one interface, served by files on a disk (``files``) or by a Ceph pool (``rados``).

A driver keeps opaque blobs named by ids it chooses; it knows nothing of accounts, containers, object
names, the database or HTTP.  ``put`` returns only once the blob is durable, and every read is checked
against the block checksums ``put`` returned, so a damaged blob raises ``Corrupt`` instead of yielding
wrong bytes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Protocol


class Corrupt(Exception):
    """A blob's bytes no longer match the checksums taken when it was written (or it vanished)."""


class TooLarge(Exception):
    """More bytes arrived than the caller allowed."""


class Missing(Exception):
    """No blob of that id."""


class Unavailable(Exception):
    """The store could not be reached, or did not answer in time (a cluster's OSD down): nothing was
    written, or what was is not visible."""


@dataclasses.dataclass(frozen=True)
class Stored:
    """A durable blob: its id (None for an empty one, which keeps no file), size, MD5 and block checksums."""

    blob_id: str | None
    size: int
    md5: str
    blocks: bytes


class BlobStore(Protocol):
    block_size: int

    def put(self, chunks: Iterable[bytes], max_size: int) -> Stored: ...

    def get(self, blob_id: str | None, blocks: bytes, size: int, start: int = 0,
            end: int | None = None) -> Iterator[bytes]: ...

    def verify(self, blob_id: str | None, blocks: bytes, size: int, md5: str) -> bool: ...

    def copy(self, blob_id: str | None, blocks: bytes, size: int, md5: str) -> Stored: ...

    def delete(self, blob_id: str | None) -> None: ...

    def quarantine(self, blob_id: str) -> None: ...

    def stat(self, blob_id: str) -> int | None: ...

    def blobs(self) -> Iterator[tuple[str, float]]: ...

    def discard_partials(self, older_than: float) -> int: ...
