"""Volumes and snapshots as RBD images in a Ceph pool, driven through the ``rbd`` tool and ``qemu-img``.

The layout is Cinder's RBD driver's: ``volume-<id>`` is a volume's image; a snapshot is an RBD snapshot
``snapshot-<id>`` of its volume's image, protected, so volumes are made from it as copy-on-write clones
(RBD layering) whatever the size.  ``image-<id>`` is an image's data imported once (the image-volume cache)
with a protected snapshot ``snap``, which every volume from that image clones; when the image service keeps
the image in the same cluster (Glance's RBD store layout, ``<pool>/<id>@snap``), volumes clone that instead
and nothing is imported.

Deleting a snapshot (or a volume, which takes the RBD snapshots it still holds) first flattens the clones
made from it (they copy in what they read through it), so no image ever depends on data that goes: the
only place data are copied, as the file backend copies only when a snapshot others back on goes.

Why the ``rbd`` tool and not librbd in this process: the Python bindings are Debian packages built for
``/usr/bin/python3`` and absent from PyPI, so a virtualenv sees them only by reaching into the system's
site-packages; a process per call also isolates the server from a cluster that hangs (every call has a
timeout, after which the process is killed) at about 0.1-0.4 s a call, which control-plane steps afford.
The data path never goes through this module: QEMU and qemu-img open images through librbd themselves.

Every step is safe to repeat after a crash at any point: new images are made whole under a temporary name
(``<name>.partial``) and renamed into place; a snapshot or clone that exists already is taken as done.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from onestack.drivers.volumefiles import (
    IMAGE_FORMATS,
    UPLOAD_FORMATS,
    VolumeFileError,
    VolumeFiles,
    inspect_image,
)

GiB = 1024**3
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_OWNER = re.compile(rf"^(volume|image)-({_UUID})(\.partial)?$")
IMAGE_SNAP = "snap"
# The RBD snapshot a backup reads (Cinder's Ceph backup driver's backup.<id>.snap.<time>, less the time): the
# latest backup's stays on the volume, so the next incremental is the diff from it.
BACKUP_SNAP = "backup."


class CephError(VolumeFileError):
    """The cluster refused, or could not be reached within the timeout; the message says which."""


class Ceph:
    """How to reach a cluster: a ceph.conf, a client name (``onestack`` for ``client.onestack``) and its
    keyring; every call gives up after ``timeout`` seconds."""

    def __init__(self, conf: str, client: str, keyring: str = "", timeout: float = 60):
        self.conf, self.client, self.keyring, self.timeout = conf, client, keyring, timeout

    def args(self) -> list[str]:
        found = ["-c", self.conf, "--id", self.client]
        return found + (["--keyring", self.keyring] if self.keyring else [])

    def run(self, tool: str, *argv: str) -> str:
        # client_mount_timeout bounds the wait for the monitors; the process timeout bounds everything else.
        cmd = [tool, *self.args(), "--client-mount-timeout", str(int(min(self.timeout, 30))), *argv]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=self.timeout)
        except FileNotFoundError as exc:
            raise CephError(f"{tool} is not installed (Debian's ceph-common)") from exc
        except subprocess.TimeoutExpired as exc:
            raise CephError(f"the Ceph cluster did not answer {tool} {argv[0]} within {self.timeout:g} s") from exc
        if done.returncode != 0:
            raise CephError(f"{tool} {' '.join(argv[:2])} failed: {done.stderr.strip()[-300:]}")
        return done.stdout

    def rbd(self, *argv: str) -> str:
        return self.run("rbd", *argv)

    def _stream_cmd(self, argv: tuple[str, ...]) -> list[str]:
        # a stream has no overall timeout (its length is the data's): each operation on the cluster has one
        seconds = str(int(self.timeout))
        return ["rbd", *self.args(), "--client-mount-timeout", str(int(min(self.timeout, 30))),
                "--rados-osd-op-timeout", seconds, "--rados-mon-op-timeout", seconds, *argv]

    @contextlib.contextmanager
    def rbd_out(self, *argv: str) -> Iterator[BinaryIO]:
        """The standard output of ``rbd argv`` to read as it comes (``export-diff ... -``); ``CephError`` after
        the block when the tool failed, so what was read counts only if the block ends normally."""
        with tempfile.TemporaryFile() as errors:
            proc = subprocess.Popen(self._stream_cmd(argv), stdout=subprocess.PIPE, stderr=errors)
            try:
                yield proc.stdout
            except BaseException:
                proc.kill()
                proc.wait()
                raise
            finally:
                proc.stdout.close()
            self._check(proc, errors, argv)

    def rbd_in(self, data: Iterable[bytes], *argv: str) -> None:
        """Run ``rbd argv`` with ``data`` on its standard input (``import-diff - ...``)."""
        with tempfile.TemporaryFile() as errors:
            proc = subprocess.Popen(self._stream_cmd(argv), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                    stderr=errors)
            try:
                for piece in data:
                    proc.stdin.write(piece)
                proc.stdin.close()
            except BrokenPipeError:
                pass  # the tool stopped reading: its status and message say why
            except BaseException:
                proc.kill()
                proc.wait()
                raise
            self._check(proc, errors, argv)

    def _check(self, proc: subprocess.Popen, errors, argv: tuple[str, ...]) -> None:
        try:
            code = proc.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired as exc:
            proc.kill()
            proc.wait()
            raise CephError(f"rbd {argv[0]} did not finish within {self.timeout:g} s") from exc
        if code != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace").strip()[-300:]
            raise CephError(f"rbd {' '.join(argv[:2])} failed: {message}")

    def rbd_json(self, *argv: str):
        return json.loads(self.rbd(*argv, "--format", "json") or "null")

    def qemu_uri(self, pool: str, name: str, snapshot: str | None = None) -> str:
        """The name qemu-img opens an image (or a snapshot of it, read-only) by, through librbd."""
        at = f"@{snapshot}" if snapshot else ""
        uri = f"rbd:{pool}/{name}{at}:id={self.client}:conf={self.conf}"
        return uri + (f":keyring={self.keyring}" if self.keyring else "")

    def check(self) -> str:
        """The cluster's fsid, or ``CephError`` saying why it cannot be reached (a start-up check)."""
        return self.run("ceph", "fsid").strip()


def _qemu_img(*argv: str, timeout: float | None = None) -> None:
    try:
        done = subprocess.run(["qemu-img", *argv], capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError as exc:
        raise VolumeFileError("qemu-img is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise CephError(f"qemu-img {argv[0]} did not finish within {timeout:g} s") from exc
    if done.returncode != 0:
        raise VolumeFileError(f"qemu-img {argv[0]} failed: {done.stderr.strip()[-300:]}")


class VolumeRBD:
    """The file backend's operations (``VolumeFiles``) on RBD images in ``pool``; ``work`` is a local
    directory for what passes through this host (an image download, a backup's raw data)."""

    def __init__(self, ceph: Ceph, pool: str, work: Path):
        self.ceph = ceph
        self.pool = pool
        # what passes through this host is kept as the file backend keeps its temporary files
        self.local = VolumeFiles(work)

    # -- names -----------------------------------------------------------------------------------------
    def _spec(self, name: str, snapshot: str | None = None) -> str:
        return f"{self.pool}/{name}" + (f"@{snapshot}" if snapshot else "")

    def volume_name(self, volume_id: str) -> str:
        return f"volume-{volume_id}"

    def _exists(self, name: str) -> bool:
        return name in self.names()

    def _info(self, name: str) -> dict | None:
        try:
            return self.ceph.rbd_json("info", self._spec(name))
        except CephError as exc:
            if "No such file or directory" in str(exc):
                return None
            raise

    def _snaps(self, name: str) -> dict[str, dict]:
        try:
            return {s["name"]: s for s in self.ceph.rbd_json("snap", "ls", self._spec(name))}
        except CephError as exc:
            if "No such file or directory" in str(exc):
                return {}
            raise

    def names(self) -> list[str]:
        """Every image in the pool."""
        return self.ceph.rbd_json("ls", self.pool) or []

    # -- volumes ---------------------------------------------------------------------------------------
    def create_blank(self, volume_id: str, size_gb: int) -> None:
        name = self.volume_name(volume_id)
        if not self._exists(name):
            self.ceph.rbd("create", "--size", f"{size_gb * 1024}M", self._spec(name))

    def _clone(self, parent: str, parent_snap: str, volume_id: str, size_gb: int, parent_pool: str | None = None):
        name = self.volume_name(volume_id)
        if not self._exists(name):
            source = f"{parent_pool or self.pool}/{parent}@{parent_snap}"
            self.ceph.rbd("clone", source, self._spec(name))
        self.extend(volume_id, size_gb)

    def create_from_snapshot(self, volume_id: str, snapshot_id: str, size_gb: int, *, source_volume: str) -> None:
        """A copy-on-write clone of the snapshot (of volume ``source_volume``), ``size_gb`` large."""
        if snapshot_id and f"snapshot-{snapshot_id}" not in self._snaps(self.volume_name(source_volume)) \
                and not self._exists(self.volume_name(volume_id)):
            raise VolumeFileError(f"the data of snapshot {snapshot_id} are missing")
        self._clone(self.volume_name(source_volume), f"snapshot-{snapshot_id}", volume_id, size_gb)

    def extend(self, volume_id: str, size_gb: int) -> None:
        info = self._info(self.volume_name(volume_id))
        if info is None:
            raise VolumeFileError(f"the data of volume {volume_id} are missing")
        if info["size"] < size_gb * GiB:
            self.ceph.rbd("resize", "--size", f"{size_gb * 1024}M", self._spec(self.volume_name(volume_id)))

    def delete_volume(self, volume_id: str) -> None:
        """The volume's image, after the snapshots it still holds (their clones flattened first)."""
        self._remove_image(self.volume_name(volume_id))
        self.discard_temporaries("volume", volume_id)

    # -- snapshots -------------------------------------------------------------------------------------
    def take_snapshot(self, volume_id: str, snapshot_id: str) -> None:
        name, snap = self.volume_name(volume_id), f"snapshot-{snapshot_id}"
        snaps = self._snaps(name)
        if snap not in snaps:
            if self._info(name) is None:
                raise VolumeFileError(f"the data of volume {volume_id} are missing")
            self.ceph.rbd("snap", "create", "--no-progress", self._spec(name, snap))
            snaps = self._snaps(name)
        if snaps[snap].get("protected") != "true":
            self.ceph.rbd("snap", "protect", self._spec(name, snap))

    def revert_to_snapshot(self, volume_id: str, snapshot_id: str) -> None:
        """The volume's image rolled back to the snapshot's data (``rbd snap rollback``: safe to repeat)."""
        name, snap = self.volume_name(volume_id), f"snapshot-{snapshot_id}"
        if snap not in self._snaps(name):
            raise VolumeFileError(f"the data of snapshot {snapshot_id} are missing")
        self.ceph.rbd("snap", "rollback", "--no-progress", self._spec(name, snap))

    def delete_snapshot(self, snapshot_id: str, *, volume_id: str) -> None:
        name = self.volume_name(volume_id)
        if f"snapshot-{snapshot_id}" in self._snaps(name):
            self._drop_snapshot(name, f"snapshot-{snapshot_id}")

    def _drop_snapshot(self, name: str, snap: str) -> None:
        """Flatten every clone of ``name@snap``, then unprotect and remove the snapshot."""
        for child in self.children(name, snap):
            self.ceph.rbd("flatten", "--no-progress", f"{child['pool']}/{child['image']}")
        try:
            self.ceph.rbd("snap", "unprotect", self._spec(name, snap))
        except CephError as exc:
            if not any(why in str(exc) for why in ("not protected", "already unprotected", "Invalid argument")):
                raise
        self.ceph.rbd("snap", "rm", "--no-progress", self._spec(name, snap))

    def children(self, name: str, snap: str, pool: str | None = None) -> list[dict]:
        """The clones of ``pool/name@snap``: [{"pool", "image"}...]."""
        return self.ceph.rbd_json("children", f"{pool or self.pool}/{name}@{snap}") or []

    def parent(self, volume_id: str) -> dict | None:
        """What the volume's image is a clone of ({"pool", "image", "snapshot"...}), or None."""
        info = self._info(self.volume_name(volume_id))
        return (info or {}).get("parent")

    # -- images ----------------------------------------------------------------------------------------
    def has_image(self, image_id: str) -> bool:
        return IMAGE_SNAP in self._snaps(f"image-{image_id}")

    def download_target(self, image_id: str) -> Path:
        return self.local.download_target(image_id)

    def cache_image(self, image_id: str, downloaded: Path, disk_format: str) -> None:
        """Import downloaded image data as ``image-<id>`` (raw) with its protected snapshot ``snap``."""
        final = f"image-{image_id}"
        if not self.has_image(image_id):
            size = inspect_image(downloaded, disk_format)
            partial = f"{final}.partial"
            self._remove_image(partial)
            self.ceph.rbd("create", "--size", f"{-(-size // (1024 * 1024))}M", self._spec(partial))
            _qemu_img("convert", "-q", "-n", "-f", IMAGE_FORMATS[disk_format], "-O", "raw", str(downloaded),
                      self.ceph.qemu_uri(self.pool, partial))
            self.ceph.rbd("snap", "create", "--no-progress", self._spec(partial, IMAGE_SNAP))
            self.ceph.rbd("snap", "protect", self._spec(partial, IMAGE_SNAP))
            self.ceph.rbd("rename", self._spec(partial), self._spec(final))
        downloaded.unlink(missing_ok=True)

    def create_from_image(self, volume_id: str, image_id: str, size_gb: int) -> None:
        """A clone of the cached image's ``snap``, ``size_gb`` large."""
        info = self._info(f"image-{image_id}")
        if info is None:
            raise VolumeFileError(f"the data of image {image_id} are not cached")
        self._check_fits(image_id, info["size"], size_gb)
        self._clone(f"image-{image_id}", IMAGE_SNAP, volume_id, size_gb)

    def clone_image_store(self, volume_id: str, pool: str, image_id: str, size_gb: int) -> bool:
        """A clone of ``pool/<image_id>@snap`` kept by the image service in this cluster; False (nothing
        done) when that snapshot is not there, so the caller downloads the image instead."""
        if not self._exists(self.volume_name(volume_id)):
            try:
                info = self.ceph.rbd_json("info", f"{pool}/{image_id}@{IMAGE_SNAP}")
            except CephError as exc:
                if "No such file or directory" in str(exc):
                    return False
                raise
            self._check_fits(image_id, info["size"], size_gb)
        self._clone(image_id, IMAGE_SNAP, volume_id, size_gb, parent_pool=pool)
        return True

    def reimage(self, volume_id: str, image_id: str, size_gb: int) -> None:
        """The volume's data become the cached image's (Cinder's re-image), written over the volume's image in
        place: a volume with snapshots cannot be replaced by another image (its RBD snapshots, and the clones
        made from them, keep the old data, as they should).  A local qcow2 overlay on the image's ``snap``, as
        large as the volume, reads as the image and then zeros, and qemu-img writes all of it through librbd,
        so nothing of the old data is left past the image's end.  A crash part-way leaves the task on the
        volume (``downloading``); the restart writes it all again, which always ends with the image's data."""
        info = self._info(f"image-{image_id}")
        if info is None:
            raise VolumeFileError(f"the data of image {image_id} are not cached")
        self._check_fits(image_id, info["size"], size_gb)
        volume = self._info(self.volume_name(volume_id))
        if volume is None:
            raise VolumeFileError(f"the data of volume {volume_id} are missing")
        overlay = self.local.work_file(volume_id, "reimage")
        overlay.unlink(missing_ok=True)
        try:
            _qemu_img("create", "-q", "-f", "qcow2", "-F", "raw", "-u", "-b",
                      self.ceph.qemu_uri(self.pool, f"image-{image_id}", IMAGE_SNAP), str(overlay),
                      str(volume["size"]))
            _qemu_img("convert", "-q", "-n", "-f", "qcow2", "-O", "raw", str(overlay), self.source(volume_id))
        finally:
            overlay.unlink(missing_ok=True)

    @staticmethod
    def _check_fits(image_id: str, size: int, size_gb: int) -> None:
        if size > size_gb * GiB:
            raise VolumeFileError(f"image {image_id} is larger ({size} bytes) than the volume ({size_gb} GiB)")

    def prune_images(self) -> list[str]:
        """Remove cached images no volume clones any more; their ids."""
        pruned = []
        for name in self.names():
            match = _OWNER.match(name)
            if match and match.group(1) == "image" and not match.group(3) \
                    and not self.children(name, IMAGE_SNAP):
                self._remove_image(name)
                pruned.append(match.group(2))
        return pruned

    def _remove_image(self, name: str) -> None:
        for snap in self._snaps(name):
            self._drop_snapshot(name, snap)
        try:
            self.ceph.rbd("rm", "--no-progress", self._spec(name))
        except CephError as exc:
            if "No such file or directory" not in str(exc):
                raise

    # -- data in and out -------------------------------------------------------------------------------
    def source(self, volume_id: str, snapshot_id: str | None = None) -> str:
        """What qemu-img reads a volume's (or one of its snapshots') data from."""
        return self.ceph.qemu_uri(self.pool, self.volume_name(volume_id),
                                  f"snapshot-{snapshot_id}" if snapshot_id else None)

    def export(self, volume_id: str, disk_format: str, dest: Path) -> None:
        if disk_format not in UPLOAD_FORMATS:
            raise VolumeFileError(f"a volume cannot be uploaded as {disk_format}")
        _qemu_img("convert", "-q", "-f", "raw", "-O", IMAGE_FORMATS[disk_format], self.source(volume_id),
                  str(dest))

    def export_raw(self, source: str, dest: Path) -> None:
        _qemu_img("convert", "-q", "-f", "raw", "-O", "raw", source, str(dest))

    def import_raw(self, volume_id: str, raw: Path, size_gb: int) -> None:
        """Replace the volume's data with a raw file's (a restore); the image is made if missing."""
        self.create_blank(volume_id, size_gb)
        self.extend(volume_id, size_gb)
        _qemu_img("convert", "-q", "-n", "-f", "raw", "-O", "raw", str(raw), self.source(volume_id))

    def work_file(self, volume_id: str, purpose: str) -> Path:
        return self.local.work_file(volume_id, purpose)

    def discard_temporaries(self, kind: str, ident: str) -> None:
        self.local.discard_temporaries(kind, ident)
        if kind == "image":
            self._remove_image(f"image-{ident}.partial")  # an image import cut short
        elif kind == "volume" and f"volume-{ident}.partial" in self.names():
            # a restore's temporary image, cut short (looked for first: one listing, not two failed calls)
            self._remove_image(f"volume-{ident}.partial")

    # -- backups: export-diff between backup snapshots, import-diff to restore ------------------------------
    @staticmethod
    def backup_snap(backup_id: str) -> str:
        return f"{BACKUP_SNAP}{backup_id}"

    def snapshots(self, volume_id: str) -> dict[str, dict]:
        """The volume's RBD snapshots by name (each with its ``size``); {} when the volume has no image."""
        return self._snaps(self.volume_name(volume_id))

    def take_backup_snapshot(self, volume_id: str, backup_id: str) -> int:
        """The snapshot a backup reads (made once: a backup resumed reads the same one); its size in bytes."""
        name, snap = self.volume_name(volume_id), self.backup_snap(backup_id)
        if snap not in self._snaps(name):
            try:
                self.ceph.rbd("snap", "create", "--no-progress", self._spec(name, snap))
            except CephError as exc:
                if "No such file or directory" in str(exc):
                    raise VolumeFileError(f"the data of volume {volume_id} are missing") from None
                raise
        return self._snaps(name)[snap]["size"]

    def drop_backup_snapshot(self, volume_id: str, backup_id: str) -> None:
        self._drop_backup_snapshots(volume_id, {self.backup_snap(backup_id)}.__contains__)

    def drop_backup_snapshots(self, volume_id: str, keep: str | None = None) -> None:
        """Remove the volume's backup snapshots but ``keep`` (the one the next incremental diffs from)."""
        self._drop_backup_snapshots(volume_id, lambda snap: snap.startswith(BACKUP_SNAP) and snap != keep)

    def _drop_backup_snapshots(self, volume_id: str, chosen) -> None:
        # never protected nor cloned: removed straight away (no children to flatten, nothing to unprotect)
        name = self.volume_name(volume_id)
        for snap in self._snaps(name):
            if chosen(snap):
                self.ceph.rbd("snap", "rm", "--no-progress", self._spec(name, snap))

    def export_diff(self, volume_id: str, snap: str, from_snap: str | None):
        """``rbd export-diff``'s stream of the volume at ``snap``: what changed since ``from_snap``, or all
        its data (and its parent's, for a clone) when None; a context manager giving the stream."""
        since = ("--from-snap", from_snap) if from_snap else ()
        return self.ceph.rbd_out("export-diff", "--no-progress", *since,
                                 self._spec(self.volume_name(volume_id), snap), "-")

    def restore_diffs(self, volume_id: str, diffs: list[Iterable[bytes]], size_gb: int) -> None:
        """The volume's data become a backup's: ``diffs``, a full ``export-diff`` stream then the incremental
        ones up to the backup, each applied by ``rbd import-diff``.  Straight into the volume when it holds
        nothing (no data, snapshot or parent: a new one), as Cinder restores a Ceph backup; otherwise into a
        temporary image whose data are then written over the volume's whole."""
        name = self.volume_name(volume_id)
        self.create_blank(volume_id, size_gb)
        info = self._info(name) or {}
        if info.get("parent") or self._snaps(name) or self._has_data(name):
            partial = f"{name}.partial"
            self._diffs_into(partial, diffs)
            _qemu_img("convert", "-q", "-n", "-f", "raw", "-O", "raw", self.ceph.qemu_uri(self.pool, partial),
                      self.source(volume_id))
            self._remove_image(partial)
        else:
            self._apply(name, diffs)
            self.drop_backup_snapshots(volume_id)  # import-diff made each diff's end snapshot
        self.extend(volume_id, size_gb)  # import-diff sets the backup's size

    def diffs_to_raw(self, volume_id: str, diffs: list[Iterable[bytes]], raw: Path) -> None:
        """A backup's ``diffs`` as a local raw file, through a temporary image (a restore into a file volume)."""
        partial = f"{self.volume_name(volume_id)}.partial"
        self._diffs_into(partial, diffs)
        try:
            self.export_raw(self.ceph.qemu_uri(self.pool, partial), raw)
        finally:
            self._remove_image(partial)

    def _diffs_into(self, partial: str, diffs: list[Iterable[bytes]]) -> None:
        self._remove_image(partial)
        self.ceph.rbd("create", "--size", "1M", self._spec(partial))
        self._apply(partial, diffs)

    def _apply(self, name: str, diffs: list[Iterable[bytes]]) -> None:
        for diff in diffs:
            self.ceph.rbd_in(diff, "import-diff", "--no-progress", "-", self._spec(name))

    def _has_data(self, name: str) -> bool:
        return bool(self.ceph.rbd_json("diff", self._spec(name)))

    # -- inventory -------------------------------------------------------------------------------------
    def owners(self) -> dict[str, tuple[str, str]]:
        """Each image of this layout in the pool, partial ones included, with its (kind, id)."""
        found = {}
        for name in self.names():
            match = _OWNER.match(name)
            if match:
                found[name] = (match.group(1), match.group(2))
        return found
