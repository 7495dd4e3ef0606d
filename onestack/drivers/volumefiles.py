"""Volumes and snapshots as qcow2 files in one directory, made with qemu-img.

``volume-<id>.qcow2`` is a volume's writable data; ``snapshot-<id>.qcow2`` is frozen.  A snapshot is
taken by turning the volume's file into the snapshot's and giving the volume a new, empty overlay on it;
a volume made from a snapshot is another overlay on the snapshot's file.  Either costs the same whatever
the size.  Backing names are relative, so the directory can move.

``image-<id>.qcow2`` is an image's data converted once (Cinder's image-volume cache): every volume made
from that image is an overlay on it, so a volume from a 10 GiB image costs what one from a 20 MB image
does.  It goes when no file backs on it any more.

Deleting a snapshot whose file others back on would break their chains: those files are first rebased
onto the snapshot's own backing (qemu-img copies in what they read through it), which is the only place
data are ever copied.  Volume files are always leaves: nothing backs on them.

An encrypted volume (``luks``: its passphrase and cipher) is a qcow2 file encrypted with QEMU's LUKS
(``encrypt.format=luks``: a LUKS header inside the qcow2 file, every data cluster encrypted).  Its files
never back on one another: a snapshot, a volume made from it and a restore are whole copies of the
encrypted bytes, so each file opens with the one passphrase and QEMU never has to be given keys for a
chain.  A volume made from an image is the image's data converted into a new encrypted file.

Every step is safe to repeat after a crash at any point (temporary files are made whole before they are
renamed into place), so a reconciler may simply call the same function again.

Temporary files start with a dot and end in ``.partial``: ``.<file>.<purpose>.partial`` while a file is made
(removed when the step fails, and at start-up whatever a crash left: nothing continues them), and the one
with a meaning of its own, ``.volume-<id>.qcow2.partial``, the overlay a snapshot being taken gives the
volume (a guest may write to it already, so start-up keeps it while a snapshot of the volume is being
taken or the volume is attached).
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

from onestack.drivers.secrets import Luks, secret_fd, secret_object

GiB = 1024**3
_QCOW2_MAGIC = b"QFI\xfb"
# kind-<uuid> at the start of every name this directory holds (temporary ones start with a dot).
_OWNER = re.compile(r"^\.?(volume|snapshot|image)-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")
# Image formats a volume may be made from (as the image service declares them) and qemu-img's names.
IMAGE_FORMATS = {"raw": "raw", "qcow2": "qcow2", "vmdk": "vmdk", "vdi": "vdi", "vhd": "vpc", "vhdx": "vhdx",
                 "iso": "raw"}
# Formats a volume may be uploaded to an image as.
UPLOAD_FORMATS = ("raw", "qcow2", "vmdk", "vdi", "vhd", "vhdx")


class VolumeFileError(Exception):
    """qemu-img failed or a file is not what it should be; the message says why."""


# Before it writes a LUKS header, QEMU times PBKDF2 rounds by the thread's CPU time, and gives up when a
# round it timed took 0 ms: the kernel's per-thread accounting reports that for about a third of the
# runs on this kind of host (measured: 13 of 40 with two at once), so a run that failed that way is retried.
_UNTIMED = "Unable to get accurate CPU usage"
_LUKS_ATTEMPTS = 8


def _run(*argv: str, cwd: Path | None = None, luks: Luks | None = None) -> str:
    """Run qemu-img; with ``luks``, the secret ``sec0`` holds its passphrase (read from an inherited pipe)."""
    if luks is None:
        return _run_with(argv, cwd, ())
    for attempt in range(1, _LUKS_ATTEMPTS + 1):
        with secret_fd(luks.secret) as fd:
            try:
                return _run_with(argv[:2] + ("--object", secret_object("sec0", fd)) + argv[2:], cwd, (fd,))
            except VolumeFileError as exc:
                if _UNTIMED not in str(exc) or attempt == _LUKS_ATTEMPTS:
                    raise
    raise AssertionError("unreachable")


def _run_with(argv: tuple[str, ...], cwd: Path | None, fds: tuple[int, ...]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, pass_fds=fds)
    except FileNotFoundError as exc:
        raise VolumeFileError(f"{argv[0]} is not installed") from exc
    if done.returncode != 0:
        raise VolumeFileError(f"{' '.join(argv[:2])} failed: {done.stderr.strip()[-300:]}")
    return done.stdout


def backing_of(path: Path) -> str | None:
    """The backing file name a qcow2 header records (read directly: no process per file), or None."""
    with open(path, "rb") as f:
        header = f.read(20)
        if len(header) < 20 or header[:4] != _QCOW2_MAGIC:
            raise VolumeFileError(f"{path.name} is not a qcow2 file")
        offset, size = struct.unpack(">QI", header[8:20])
        if not offset:
            return None
        f.seek(offset)
        return f.read(size).decode()


def inspect_image(path: Path, disk_format: str) -> int:
    """The virtual size of image data declared as ``disk_format``, after the checks that keep a hostile
    image from reading host files: no backing or external data file, single-file VMDK only, and the data
    really in the declared format."""
    if disk_format not in IMAGE_FORMATS:
        raise VolumeFileError(f"image disk_format {disk_format} cannot be made a volume")
    # Probed, not told: data that only claim a format must be seen for what they are.
    info = json.loads(_run("qemu-img", "info", "--output=json", str(path)))
    detected = info.get("format")
    if detected != IMAGE_FORMATS[disk_format]:
        raise VolumeFileError(f"the image data are {detected}, not the declared {disk_format}")
    specific = (info.get("format-specific") or {}).get("data") or {}
    if info.get("backing-filename") or specific.get("data-file"):
        raise VolumeFileError("the image names a backing or data file: refused for safety")
    if detected == "vmdk" and (specific.get("create-type") not in ("monolithicSparse", "streamOptimized")
                               or len(specific.get("extents") or []) > 1):
        raise VolumeFileError("only single-file VMDK images (monolithicSparse, streamOptimized) are taken")
    return int(info["virtual-size"])


def _backing_or_none(path: Path) -> str | None:
    try:
        return backing_of(path)
    except VolumeFileError:
        return None  # not a whole qcow2 file


def _encrypted(path: Path) -> str:
    """``--image-opts`` of an encrypted qcow2 file, opened with the secret ``sec0``."""
    return f"driver=qcow2,file.filename={path},encrypt.key-secret=sec0"


def virtual_size(path: Path) -> int:
    with open(path, "rb") as f:
        header = f.read(32)
    if len(header) < 32 or header[:4] != _QCOW2_MAGIC:
        raise VolumeFileError(f"{path.name} is not a qcow2 file")
    return struct.unpack(">Q", header[24:32])[0]


class VolumeFiles:
    def __init__(self, root: Path):
        self.root = root

    def volume(self, volume_id: str) -> Path:
        return self.root / f"volume-{volume_id}.qcow2"

    def snapshot(self, snapshot_id: str) -> Path:
        return self.root / f"snapshot-{snapshot_id}.qcow2"

    def image(self, image_id: str) -> Path:
        return self.root / f"image-{image_id}.qcow2"

    def download_target(self, image_id: str) -> Path:
        """Where an image's data are downloaded before they are converted (removed once cached)."""
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root / f".image-{image_id}.download.partial"

    @staticmethod
    def overlay(volume: Path) -> Path:
        """The overlay a snapshot being taken gives the volume (see the module's docstring)."""
        return volume.with_name(f".{volume.name}.partial")

    @contextlib.contextmanager
    def _making(self, final: Path, purpose: str) -> Iterator[Path]:
        """A temporary name for ``final`` while it is made: renamed into place when the block ends, removed
        when it fails (a qemu-img that failed leaves nothing behind; a crash's leftovers go at start-up)."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".{final.stem}.{purpose}.partial")
        try:
            yield tmp
            tmp.replace(final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def _create(self, final: Path, size_gb: int, backing: Path | None = None, luks: Luks | None = None) -> None:
        """A new qcow2 at ``final``, made whole under a temporary name first."""
        argv = ["qemu-img", "create", "-q", "-f", "qcow2"]
        if backing is not None:
            # -u: the backing file need not be opened (it may be renamed into place just after).
            argv += ["-F", "qcow2", "-b", backing.name, "-u"]
        if luks is not None:
            argv += ["-o", luks.create_options("sec0")]
        with self._making(final, "create") as tmp:
            _run(*argv, str(tmp), str(size_gb * GiB), luks=luks)

    def _copy(self, source: Path, final: Path, size_gb: int, luks: Luks) -> None:
        """An encrypted file as a whole copy of another (same passphrase), grown to ``size_gb`` if larger."""
        if not source.exists():
            raise VolumeFileError(f"the data of {source.name} are missing")
        with self._making(final, "copy") as tmp:
            shutil.copyfile(source, tmp)
            self._grow(tmp, size_gb, luks)

    @staticmethod
    def _grow(path: Path, size_gb: int, luks: Luks | None) -> None:
        if virtual_size(path) < size_gb * GiB:
            if luks is None:
                _run("qemu-img", "resize", "-q", "-f", "qcow2", str(path), str(size_gb * GiB))
            else:
                _run("qemu-img", "resize", "-q", "--image-opts", _encrypted(path), str(size_gb * GiB), luks=luks)

    # -- volumes ---------------------------------------------------------------------------------------
    def create_blank(self, volume_id: str, size_gb: int, luks: Luks | None = None) -> None:
        if not self.volume(volume_id).exists():
            self._create(self.volume(volume_id), size_gb, luks=luks)

    def create_from_snapshot(self, volume_id: str, snapshot_id: str, size_gb: int, *,
                             source_volume: str | None = None, luks: Luks | None = None) -> None:
        """An overlay on the snapshot's file, ``size_gb`` large (at least the snapshot's size); the
        snapshot's volume (``source_volume``) does not matter here: the file stands alone.  An encrypted
        snapshot is copied whole instead (``luks``: the passphrase it and the new volume share)."""
        if self.volume(volume_id).exists():
            return
        source = self.snapshot(snapshot_id)
        if not source.exists():
            raise VolumeFileError(f"the data of snapshot {snapshot_id} are missing")
        if luks is not None:
            self._copy(source, self.volume(volume_id), size_gb, luks)
            return
        self._create(self.volume(volume_id), size_gb, backing=source)

    def has_image(self, image_id: str) -> bool:
        return self.image(image_id).exists()

    def cache_image(self, image_id: str, downloaded: Path, disk_format: str) -> None:
        """Turn downloaded image data into the image's qcow2 file (once; the download is removed)."""
        final = self.image(image_id)
        if not final.exists():
            inspect_image(downloaded, disk_format)
            with self._making(final, "convert") as tmp:
                _run("qemu-img", "convert", "-q", "-f", IMAGE_FORMATS[disk_format], "-O", "qcow2",
                     str(downloaded), str(tmp))
        downloaded.unlink(missing_ok=True)

    def create_from_image(self, volume_id: str, image_id: str, size_gb: int, luks: Luks | None = None) -> None:
        """An overlay on the image's cached file, ``size_gb`` large (at least the image's virtual size); an
        encrypted volume is the image's data converted into a new encrypted file (as Cinder copies an image
        into an encrypted volume)."""
        if self.volume(volume_id).exists():
            return
        source = self._cached_image(image_id, size_gb)
        if luks is None:
            self._create(self.volume(volume_id), size_gb, backing=source)
            return
        with self._making(self.volume(volume_id), "create") as tmp:
            _run("qemu-img", "convert", "-q", "-f", "qcow2", "-O", "qcow2", "-o", luks.create_options("sec0"),
                 str(source), str(tmp), luks=luks)
            self._grow(tmp, size_gb, luks)

    def _cached_image(self, image_id: str, size_gb: int) -> Path:
        """The image's cached file, if it is there and fits in ``size_gb``."""
        source = self.image(image_id)
        if not source.exists():
            raise VolumeFileError(f"the data of image {image_id} are not cached")
        if virtual_size(source) > size_gb * GiB:
            raise VolumeFileError(f"image {image_id} is larger ({virtual_size(source)} bytes) than the volume "
                                  f"({size_gb} GiB)")
        return source

    def reimage(self, volume_id: str, image_id: str, size_gb: int, luks: Luks | None = None) -> None:
        """The volume's data become the image's (Cinder's re-image): a new file, as a volume made from the
        image's cached file is (an overlay on it, or the image converted into a new encrypted file), made whole
        under a temporary name and renamed over the volume's.  A crash before the rename leaves the old data
        whole, after it the new ones, so repeating the step is always right; nothing backs on a volume's file
        (its snapshots are files of their own), so nothing else changes."""
        source = self._cached_image(image_id, size_gb)
        with self._making(self.volume(volume_id), "reimage") as tmp:
            if luks is None:
                _run("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", source.name, "-u", str(tmp),
                     str(size_gb * GiB))
            else:
                _run("qemu-img", "convert", "-q", "-f", "qcow2", "-O", "qcow2", "-o", luks.create_options("sec0"),
                     str(source), str(tmp), luks=luks)
                self._grow(tmp, size_gb, luks)

    def export(self, volume_id: str, disk_format: str, dest: Path) -> None:
        """The volume's data, its chain flattened, as one file in ``disk_format`` (for an image upload)."""
        if disk_format not in UPLOAD_FORMATS:
            raise VolumeFileError(f"a volume cannot be uploaded as {disk_format}")
        _run("qemu-img", "convert", "-q", "-U", "-f", "qcow2", "-O", IMAGE_FORMATS[disk_format],
             str(self.volume(volume_id)), str(dest))

    def source(self, volume_id: str, snapshot_id: str | None = None) -> Path:
        """The file a volume's (or one of its snapshots') data are read from."""
        return self.snapshot(snapshot_id) if snapshot_id else self.volume(volume_id)

    def export_raw(self, source: Path, dest: Path, *, encrypted: bool = False) -> None:
        """The data of a volume or snapshot file, its chain flattened, as a sparse raw file (for a backup);
        an encrypted file's bytes as they are (Cinder backs up an encrypted volume's encrypted bytes)."""
        if not source.exists():
            raise VolumeFileError(f"the data of {source.name} are missing")
        if encrypted:
            shutil.copyfile(source, dest)
            return
        _run("qemu-img", "convert", "-q", "-U", "-f", "qcow2", "-O", "raw", str(source), str(dest))

    def import_raw(self, volume_id: str, raw: Path, size_gb: int, luks: Luks | None = None) -> None:
        """Replace the volume's data with a raw file's (a restore), as a thin qcow2 of ``size_gb``; with
        ``luks``, ``raw`` is an encrypted file's bytes (an encrypted backup), which open with its passphrase."""
        with self._making(self.volume(volume_id), "import") as tmp:
            if luks is not None:
                shutil.copyfile(raw, tmp)
                _run("qemu-img", "check", "-q", "--image-opts", _encrypted(tmp), luks=luks)  # opens: the key fits
            else:
                _run("qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", str(raw), str(tmp))
            self._grow(tmp, size_gb, luks)

    def copy_volume(self, volume_id: str, source: Path, size_gb: int, luks: Luks | None = None) -> None:
        """The volume's data from another directory's file (a migration between file backends), its chain
        flattened into one thin qcow2 here (an encrypted file, which backs on nothing, copied byte for byte:
        it opens with the same passphrase); made whole under a temporary name, so a repeat starts over."""
        if not source.exists():
            raise VolumeFileError(f"the data of {source.name} are missing")
        if luks is not None:
            self._copy(source, self.volume(volume_id), size_gb, luks)
            return
        with self._making(self.volume(volume_id), "migrate") as tmp:
            _run("qemu-img", "convert", "-q", "-f", "qcow2", "-O", "qcow2", str(source), str(tmp))
            self._grow(tmp, size_gb, None)

    def work_file(self, volume_id: str, purpose: str) -> Path:
        """A temporary file of the volume's for ``purpose`` (backup, restore, upload), gone after a crash."""
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root / f".volume-{volume_id}.{purpose}.partial"

    def discard_temporaries(self, kind: str, ident: str) -> None:
        """Every temporary file of the volume, snapshot or image ``ident`` (what a crash leaves)."""
        if self.root.exists():
            for path in self.root.glob(f".{kind}-{ident}*"):
                path.unlink(missing_ok=True)

    def prune_images(self) -> list[str]:
        """Remove cached images no file backs on any more; their ids."""
        used = {backing_of(path) for path in self.files()}
        pruned = []
        for path in self.files():
            if path.name.startswith("image-") and path.name not in used:
                path.unlink(missing_ok=True)
                pruned.append(path.name.removeprefix("image-").removesuffix(".qcow2"))
        return pruned

    def extend(self, volume_id: str, size_gb: int, luks: Luks | None = None) -> None:
        self._grow(self.volume(volume_id), size_gb, luks)

    def delete_volume(self, volume_id: str) -> None:
        self.volume(volume_id).unlink(missing_ok=True)
        self.discard_temporaries("volume", volume_id)

    # -- snapshots -------------------------------------------------------------------------------------
    def take_snapshot(self, volume_id: str, snapshot_id: str, luks: Luks | None = None) -> None:
        """Freeze the volume's data as the snapshot; the volume goes on in a new overlay on it.  An encrypted
        volume's file is copied whole as the snapshot's instead."""
        if luks is not None:
            if not self.snapshot(snapshot_id).exists():
                self._copy(self.volume(volume_id), self.snapshot(snapshot_id), 0, luks)
            return
        if self.snapshot_overlay(volume_id, snapshot_id) is not None:
            self.freeze(volume_id, snapshot_id)

    def revert_to_snapshot(self, volume_id: str, snapshot_id: str, luks: Luks | None = None) -> None:
        """The volume's data become the snapshot's again (Cinder's revert): a new file, an empty overlay on
        the snapshot's file (or, encrypted, a whole copy of it), is made whole under a temporary name and
        renamed over the volume's.  A crash before the rename leaves the old data whole, after it the
        reverted ones, so repeating the step is always right.  Nothing backs on a volume's file, so nothing
        else changes."""
        source, final = self.snapshot(snapshot_id), self.volume(volume_id)
        if not source.exists():
            raise VolumeFileError(f"the data of snapshot {snapshot_id} are missing")
        size = virtual_size(final) if final.exists() else virtual_size(source)
        with self._making(final, "revert") as tmp:
            if luks is not None:
                shutil.copyfile(source, tmp)
                self._grow(tmp, -(-size // GiB), luks)
            else:
                _run("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", source.name, "-u", str(tmp),
                     str(size))

    def snapshot_overlay(self, volume_id: str, snapshot_id: str) -> Path | None:
        """The empty overlay, backed by the snapshot's file-to-be, that the volume goes on in once its data are
        frozen as the snapshot (made whole under another name first, and kept if it exists: a guest may write
        to it already); None when the snapshot is taken already."""
        volume, frozen = self.volume(volume_id), self.snapshot(snapshot_id)
        overlay = self.overlay(volume)
        if frozen.exists():
            self.freeze(volume_id, snapshot_id)  # a crash came between the two renames
            return None
        if not volume.exists():
            raise VolumeFileError(f"the data of volume {volume_id} are missing")
        if not overlay.exists() or _backing_or_none(overlay) != frozen.name:  # else: what another task left
            with self._making(overlay, "new") as made:
                _run("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", frozen.name, "-u", str(made),
                     str(virtual_size(volume)))
        return overlay

    def freeze(self, volume_id: str, snapshot_id: str) -> None:
        """The volume's file becomes the snapshot's and the overlay the volume's (a guest that has them open
        keeps writing to the overlay under its new name).  Safe to repeat."""
        volume, frozen = self.volume(volume_id), self.snapshot(snapshot_id)
        overlay = self.overlay(volume)
        if not frozen.exists():
            volume.replace(frozen)
        if overlay.exists():
            overlay.replace(volume)

    def delete_snapshot(self, snapshot_id: str, *, volume_id: str | None = None) -> None:
        """Remove the snapshot's file after every file backing on it is rebased onto its own backing."""
        frozen = self.snapshot(snapshot_id)
        if not frozen.exists():
            return
        parent = backing_of(frozen)
        onto = ["-F", "qcow2", "-b", parent] if parent else ["-b", ""]
        for dependent in self._backing_on(frozen.name):
            # Safe mode (no -u): what the dependent read through this file is copied into it first.
            _run("qemu-img", "rebase", "-q", "-f", "qcow2", *onto, dependent.name, cwd=self.root)
        frozen.unlink()

    def _backing_on(self, name: str) -> list[Path]:
        return [path for path in self.files() if backing_of(path) == name]

    # -- inventory -------------------------------------------------------------------------------------
    def files(self) -> list[Path]:
        """Every whole volume and snapshot file (temporary ones excluded)."""
        if not self.root.exists():
            return []
        return sorted(p for p in self.root.iterdir() if p.suffix == ".qcow2" and not p.name.startswith("."))

    def owners(self) -> dict[Path, tuple[str, str]]:
        """Each file present, temporary ones included, with its (kind, id): ``("volume", id)``,
        ``("snapshot", id)`` or ``("image", id)``."""
        found = {}
        if self.root.exists():
            for path in self.root.iterdir():
                match = _OWNER.match(path.name)
                if match:
                    found[path] = (match.group(1), match.group(2))
        return found

    def remove(self, path: Path) -> None:
        path.unlink(missing_ok=True)
