"""Guests' root disks as RBD images (Nova's ``images_type = rbd``): ``<pool>/<uuid>_disk``, a copy-on-write
clone of the image's ``<images pool>/<id>@snap`` that the image service keeps in the same cluster, so a boot
copies nothing and every host of the cloud reaches the disk.  QEMU opens it through librbd
(``-blockdev driver=rbd``).  The instance directory records it in ``root.rbd`` (the disk's pool/name), so
every later start, snapshot and resize of the guest finds the disk where it was made, whatever the spec says
now.  The flavor's ephemeral and swap disks go beside it as ``<uuid>_disk.local`` and ``<uuid>_disk.swap``
(Nova's names), formatted in a sparse local file first and copied in (only what mkfs wrote travels), and
named in ``eph0.rbd`` and ``swap.rbd``: so a guest moved to another host finds all its disks where they were.
The config drive and saved state stay local files.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from onestack.drivers.compute import DriverError, InstanceSpec
from onestack.drivers.qemu import disks
from onestack.drivers.qemu.layout import InstanceDir
from onestack.drivers.volumerbd import Ceph, CephError

GiB = 1024**3
# The guest's disks besides the root, in the guest's order: kind -> the RBD image's suffix (Nova's)
EXTRAS = {"ephemeral": "_disk.local", "swap": "_disk.swap"}
_MARKERS = {"ephemeral": "eph0.rbd", "swap": "swap.rbd"}


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

    def create_root(self, spec: InstanceSpec, instance_dir: Path, base_dir: Path) -> None:
        """The clone of the image's snapshot, grown to the flavor's root_gb; the marker written last, so a
        crash before it leaves a clone the next try takes as done.  An image the image service does not keep
        in the cluster (a qcow2 one, say: clones need raw data) is copied in whole and converted to raw, as
        Nova's rbd image backend imports what it cannot clone, from the host's cached copy (``base_dir``)."""
        name = self.name(spec.uuid)
        try:
            cloned = self._info(name) is None
            if cloned and spec.image_rbd:
                self.ceph.rbd("clone", spec.image_rbd, name)
            elif cloned:
                self._import_root(spec, name, base_dir)
            # a disk made before (by a crashed try, or by the host the guest moves from) may be larger
            # than the flavor now (a resize reverted): it stays as it is
            self.grow(name, spec.root_gb, refuse_smaller=cloned)
            if spec.flatten_root and (self._info(name) or {}).get("parent"):
                self.ceph.rbd("flatten", "--no-progress", name)  # its image may go now
        except CephError as exc:
            raise DriverError(f"cannot make the root disk {name}: {exc}") from exc
        self.marker(instance_dir).write_text(name + "\n")

    def _import_root(self, spec: InstanceSpec, name: str, base_dir: Path) -> None:
        """The image's data as a raw RBD image ``name``, converted in under a temporary name and renamed, so a
        half-copied disk never has the real name."""
        if not spec.image_path:
            raise DriverError("no image and no volume to boot from")
        base, fmt = disks.cached_base(spec.image_path, spec.image_format, base_dir)
        size = int(disks.info(base)["virtual-size"])
        partial = name + ".partial"
        self._remove_image(partial)  # an earlier try's, cut short
        self.ceph.rbd("create", "--size", f"{-(-size // (1024 * 1024))}M", partial)
        # qemu-img skips what reads as zeros: only the image's data go over the network
        disks.run("qemu-img", "convert", "-q", "-n", "-f", fmt, "-O", "raw", str(base), self.qemu_uri(partial))
        self.ceph.rbd("rename", partial, name)

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

    # -- ephemeral and swap -----------------------------------------------------------------------------

    def extra_name(self, uuid: str, kind: str) -> str:
        return f"{self.pool}/{uuid}{EXTRAS[kind]}"

    @staticmethod
    def extra_marker(instance_dir: Path, kind: str) -> Path:
        return instance_dir / _MARKERS[kind]

    def extras_of(self, instance_dir: Path) -> dict[str, str]:
        """kind -> pool/name of the guest's ephemeral and swap disks that are in Ceph (guest's order)."""
        found = {}
        for kind in EXTRAS:
            marker = self.extra_marker(instance_dir, kind)
            if marker.exists():
                found[kind] = marker.read_text().strip()
        return found

    def create_extras(self, spec: InstanceSpec, where: InstanceDir) -> None:
        """The flavor's ephemeral and swap disks in Ceph, those not made yet: a guest that has one as a local
        file (made before its host kept them in Ceph) keeps that file."""
        wanted = (("ephemeral", spec.ephemeral_gb, where.ephemeral_disk,
                   functools.partial(disks.format_ephemeral, size_gb=spec.ephemeral_gb)),
                  ("swap", spec.swap_mb, where.swap_disk, functools.partial(disks.format_swap, size_mb=spec.swap_mb)))
        for kind, size, local_file, format_into in wanted:
            if size and not local_file.exists() and not self.extra_marker(where.root, kind).exists():
                self.create_extra(spec.uuid, kind, where.root, format_into)

    def create_extra(self, uuid: str, kind: str, instance_dir: Path, format_into: Callable[[Path], None]) -> None:
        """The guest's ``kind`` disk in Ceph: one there already (made by the host the guest moves from, or by a
        try that crashed before its marker) is taken as it is; else ``format_into`` makes a sparse formatted
        file, which is copied in under a temporary name and renamed, so a half-copied disk never has the
        real name.  The marker is written last."""
        name = self.extra_name(uuid, kind)
        try:
            if self._info(name) is None:
                partial = name + ".partial"
                self._remove_image(partial)  # an earlier try's, cut short
                local = instance_dir / f"{kind}.rbd-partial"
                try:
                    format_into(local)
                    # qemu-img skips the file's holes: only what mkfs wrote goes over the network
                    disks.run("qemu-img", "convert", "-q", "-f", "raw", "-O", "raw", str(local),
                              self.ceph.qemu_uri(*partial.split("/", 1)))
                finally:
                    local.unlink(missing_ok=True)
                self.ceph.rbd("rename", partial, name)
        except CephError as exc:
            raise DriverError(f"cannot make the {kind} disk {name}: {exc}") from exc
        self.extra_marker(instance_dir, kind).write_text(name + "\n")

    # -- removal --------------------------------------------------------------------------------------

    def _remove_image(self, name: str) -> None:
        try:
            self.ceph.rbd("rm", "--no-progress", name)
        except CephError as exc:
            if "No such file or directory" not in str(exc):
                raise DriverError(f"cannot remove the disk {name}: {exc}") from exc

    def remove(self, instance_dir: Path) -> None:
        """Every disk of the guest in Ceph: those its markers name, and those named after it that a crash
        left before their marker was written (a clone, a copied-in or half-copied ephemeral or swap disk).
        Nothing when the guest is not on this host (no directory): its disks are its other host's."""
        uuid = instance_dir.name
        if not instance_dir.is_dir():
            return
        named = [self.root_of(instance_dir), *self.extras_of(instance_dir).values()]
        try:  # one listing rather than a failed rm (0.4 s) per name that was never made
            present = {f"{self.pool}/{image}" for image in self.ceph.rbd("ls", self.pool).split()}
        except CephError as exc:
            raise DriverError(f"cannot list the disks of {uuid}: {exc}") from exc
        derived = [self.name(uuid), self.name(uuid) + ".partial"] + [self.extra_name(uuid, kind) + tail for kind in EXTRAS for tail in ("", ".partial")]
        for name in dict.fromkeys(n for n in named + derived if n and (n in present or n not in derived)):
            self._remove_image(name)
        for marker in [self.marker(instance_dir), *(self.extra_marker(instance_dir, kind) for kind in EXTRAS)]:
            marker.unlink(missing_ok=True)

    def block_node(self, name: str, node_name: str) -> dict:
        pool, image = name.split("/", 1)
        return {"driver": "raw", "node-name": node_name, "discard": "unmap",
                "file": {"driver": "rbd", "pool": pool, "image": image, "conf": self.ceph.conf,
                         "user": self.ceph.client}}

    def qemu_uri(self, name: str) -> str:
        pool, image = name.split("/", 1)
        return self.ceph.qemu_uri(pool, image)
