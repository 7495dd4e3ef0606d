"""Guests' root disks as RBD images (Nova's ``images_type = rbd``): ``<pool>/<uuid>_disk``, a copy-on-write
clone of the image's ``<images pool>/<id>@snap`` that the image service keeps in the same cluster, so a boot
copies nothing and every host of the cloud reaches the disk.  QEMU opens it through librbd
(``-blockdev driver=rbd``).  The instance directory records it in ``root.rbd`` (the disk's pool/name), so
every later start, snapshot and resize of the guest finds the disk where it was made, whatever the spec says
now.  Ephemeral and swap disks, the config drive and saved state stay local files.
"""

from __future__ import annotations

from pathlib import Path

from onestack.drivers.compute import DriverError, InstanceSpec
from onestack.drivers.volumerbd import Ceph, CephError

GiB = 1024**3


class RBDDisks:
    def __init__(self, ceph: Ceph, pool: str):
        self.ceph = ceph
        self.pool = pool

    def name(self, uuid: str) -> str:
        return f"{self.pool}/{uuid}_disk"

    @staticmethod
    def marker(instance_dir: Path) -> Path:
        return instance_dir / "root.rbd"

    def root_of(self, instance_dir: Path) -> str | None:
        """The guest's RBD root disk (pool/name), or None when its root disk is a local file."""
        marker = self.marker(instance_dir)
        return marker.read_text().strip() if marker.exists() else None

    def _info(self, spec: str) -> dict | None:
        try:
            return self.ceph.rbd_json("info", spec)
        except CephError as exc:
            if "No such file or directory" in str(exc):
                return None
            raise DriverError(str(exc)) from exc

    def exists(self, name: str) -> bool:
        return self._info(name) is not None

    def create_root(self, spec: InstanceSpec, instance_dir: Path) -> None:
        """The clone of the image's snapshot, grown to the flavor's root_gb; the marker written last, so a
        crash before it leaves a clone the next try takes as done."""
        name = self.name(spec.uuid)
        try:
            cloned = self._info(name) is None
            if cloned:
                self.ceph.rbd("clone", spec.image_rbd, name)
            # a disk made before (by a crashed try, or by the host the guest moves from) may be larger
            # than the flavor now (a resize reverted): it stays as it is
            self.grow(name, spec.root_gb, refuse_smaller=cloned)
            if spec.flatten_root and (self._info(name) or {}).get("parent"):
                self.ceph.rbd("flatten", "--no-progress", name)  # its image may go now
        except CephError as exc:
            raise DriverError(f"cannot make the root disk {name}: {exc}") from exc
        self.marker(instance_dir).write_text(name + "\n")

    def grow(self, name: str, root_gb: int, refuse_smaller: bool = False) -> None:
        """Grow (never shrink: the guest's filesystem would be cut) the disk to ``root_gb``; with
        ``refuse_smaller``, a flavor smaller than the disk (a fresh clone: the image) is refused."""
        info = self._info(name)
        if info is None:
            raise DriverError(f"the root disk {name} is missing")
        if refuse_smaller and root_gb and root_gb * GiB < info["size"]:
            raise DriverError(f"flavor's root disk ({root_gb} GB) is smaller than the image "
                              f"({info['size'] / GiB:.1f} GB)")
        if root_gb and root_gb * GiB > info["size"]:
            self.ceph.rbd("resize", "--size", f"{root_gb * 1024}M", name)

    def remove(self, instance_dir: Path) -> None:
        name = self.root_of(instance_dir)
        if name is None:
            return
        try:
            self.ceph.rbd("rm", "--no-progress", name)
        except CephError as exc:
            if "No such file or directory" not in str(exc):
                raise DriverError(f"cannot remove the root disk {name}: {exc}") from exc
        self.marker(instance_dir).unlink(missing_ok=True)

    def block_node(self, name: str, node_name: str) -> dict:
        pool, image = name.split("/", 1)
        return {"driver": "raw", "node-name": node_name, "discard": "unmap",
                "file": {"driver": "rbd", "pool": pool, "image": image, "conf": self.ceph.conf,
                         "user": self.ceph.client}}

    def qemu_uri(self, name: str) -> str:
        pool, image = name.split("/", 1)
        return self.ceph.qemu_uri(pool, image)
