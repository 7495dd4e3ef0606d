"""A backup store of files on this host (Cinder's posix backup driver): ``<root>/<container>/<name>``.

An object is written to a temporary name, flushed to disk and renamed, so it is whole or absent; names
are checked so that none reaches outside its container.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from onestack.drivers.backups import BackupError, MissingObject


class PosixStore:
    kind = "posix"

    def __init__(self, root: Path):
        self.root = root

    def _path(self, container: str, name: str) -> Path:
        parts = [container, *name.split("/")]
        if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
            raise BackupError(f"{container}/{name} is not a name a backup store takes")
        return self.root.joinpath(*parts)

    def put(self, container: str, name: str, data: bytes) -> None:
        final = self._path(container, name)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".{final.name}.partial")
        with open(tmp, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(final)

    def get(self, container: str, name: str) -> bytes:
        try:
            return self._path(container, name).read_bytes()
        except FileNotFoundError:
            raise MissingObject(f"the backup object {container}/{name} is missing") from None

    def delete(self, container: str, name: str) -> None:
        path = self._path(container, name)
        path.unlink(missing_ok=True)
        # Directories emptied by the delete go too, up to the container's.
        top = self.root / container
        parent = path.parent
        while parent != top and parent.is_relative_to(top):
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

    def names(self, container: str, prefix: str) -> Iterator[str]:
        top = self.root / container
        directory, _, start = prefix.rpartition("/")
        base = top.joinpath(*directory.split("/")) if directory else top
        if not base.is_dir():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                name = path.relative_to(top).as_posix()
                if name.startswith(prefix):
                    yield name

    def discard_partials(self) -> None:
        """Remove objects a crash left half written."""
        if self.root.exists():
            for path in self.root.rglob(".*.partial"):
                path.unlink(missing_ok=True)
