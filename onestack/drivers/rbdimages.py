"""Images in a Ceph pool in Glance's RBD store layout: image ``<pool>/<id>`` holding the image's bytes, with
a protected snapshot ``snap`` that Block Storage (and guest disks) clone copy-on-write.

An image is imported whole under ``<id>.partial`` (its snapshot taken and protected there) and renamed into
place, so ``<pool>/<id>`` only ever names complete data; ``discard_partials`` removes what a crash left.
An image others were cloned from is not removed (``ImageInUse``), as Glance's RBD store refuses.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from onestack.drivers.volumerbd import IMAGE_SNAP, Ceph, CephError

_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(\.partial)?$")


class ImageInUse(CephError):
    """Volumes or disks are clones of the image's snapshot."""


def _missing(exc: CephError) -> bool:
    return "No such file or directory" in str(exc)


class RBDImages:
    name = "rbd"

    def __init__(self, ceph: Ceph, pool: str):
        self.ceph = ceph
        self.pool = pool

    def location(self, image_id: str) -> str:
        """Glance's ``rbd://`` location of the image's snapshot, without the cluster's fsid."""
        return f"{self.pool}/{image_id}@{IMAGE_SNAP}"

    def has(self, image_id: str) -> bool:
        try:
            self.ceph.rbd("info", f"{self.pool}/{image_id}@{IMAGE_SNAP}")
        except CephError as exc:
            if _missing(exc):
                return False
            raise
        return True

    def put(self, image_id: str, data: Path) -> None:
        """The bytes of ``data`` as ``<pool>/<id>`` with its protected snapshot (nothing if there already)."""
        if self.has(image_id):
            return
        partial = f"{self.pool}/{image_id}.partial"
        self._remove(partial)
        self.ceph.rbd("import", "--no-progress", str(data), partial)
        self.ceph.rbd("snap", "create", "--no-progress", f"{partial}@{IMAGE_SNAP}")
        self.ceph.rbd("snap", "protect", f"{partial}@{IMAGE_SNAP}")
        self.ceph.rbd("rename", partial, f"{self.pool}/{image_id}")

    def read(self, image_id: str, start: int = 0, end: int | None = None, piece: int = 1 << 20) -> Iterator[bytes]:
        """The image's bytes ``start`` to ``end`` (inclusive, as the other stores read; None: to its end) as
        ``rbd export`` streams them."""
        end = None if end is None else end + 1
        offset = 0
        with self.ceph.rbd_out("export", "--no-progress", f"{self.pool}/{image_id}@{IMAGE_SNAP}", "-") as out:
            for data in iter(lambda: out.read(piece), b""):
                lo, hi = max(start - offset, 0), len(data) if end is None else min(end - offset, len(data))
                offset += len(data)
                if lo < hi:
                    yield data[lo:hi]
                if end is not None and offset >= end:
                    break
            else:
                return
            for _ in iter(lambda: out.read(piece), b""):
                pass  # a range's rest is drained (rbd export has no range), so that the tool ends well

    def clones(self, image_id: str) -> list[str]:
        try:
            found = self.ceph.rbd_json("children", f"{self.pool}/{image_id}@{IMAGE_SNAP}") or []
        except CephError as exc:
            if _missing(exc):
                return []
            raise
        return [f"{c['pool']}/{c['image']}" for c in found]

    def delete(self, image_id: str) -> None:
        clones = self.clones(image_id)
        if clones:
            raise ImageInUse(f"image {image_id} is in use: {', '.join(clones)} are clones of it")
        self._remove(f"{self.pool}/{image_id}")

    def _remove(self, spec: str) -> None:
        try:
            snaps = self.ceph.rbd_json("snap", "ls", spec) or []
        except CephError as exc:
            if _missing(exc):
                return
            raise
        for snap in snaps:
            if snap.get("protected") == "true":
                self.ceph.rbd("snap", "unprotect", f"{spec}@{snap['name']}")
            self.ceph.rbd("snap", "rm", "--no-progress", f"{spec}@{snap['name']}")
        try:
            self.ceph.rbd("rm", "--no-progress", spec)
        except CephError as exc:
            if not _missing(exc):
                raise

    def ids(self) -> list[str]:
        return [n for n in (self.ceph.rbd_json("ls", self.pool) or []) if _ID.match(n)]

    def discard_partials(self) -> list[str]:
        found = []
        for name in self.ids():
            if name.endswith(".partial"):
                self._remove(f"{self.pool}/{name}")
                found.append(name.removesuffix(".partial"))
        return found
