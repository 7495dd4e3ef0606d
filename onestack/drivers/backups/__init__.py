"""Backup stores and the chunked backup engine over them (Cinder's chunked backup drivers).

A store keeps named objects in containers: ``posix.PosixStore`` as files under ``DATA_DIR/backups``,
``swift.SwiftStore`` in Object Storage through the Swift API.  ``chunked`` cuts a volume's raw data into
chunks and keeps each, compressed and checksummed, as one object, with a manifest object naming them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol


class BackupError(Exception):
    """A store failed or the data in it are not what the manifest says; the message says why."""


class MissingObject(BackupError):
    """The store has no object of that name."""


class BackupStore(Protocol):
    """Named objects in containers: what every backup store offers the chunked engine."""

    kind: str

    def put(self, container: str, name: str, data: bytes) -> None:
        """Keep ``data`` under ``name``, whole or not at all (a reader never sees part of it)."""

    def get(self, container: str, name: str) -> bytes:
        """The object's data; ``MissingObject`` when there is none."""

    def delete(self, container: str, name: str) -> None:
        """Remove the object if it is there."""

    def names(self, container: str, prefix: str) -> Iterator[str]:
        """The names of the objects whose names start with ``prefix``."""
