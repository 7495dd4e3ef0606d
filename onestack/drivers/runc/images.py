"""Per-image cached root filesystems: an image is unpacked once, then every container of it shares the
tree read-only as the lower layer of its own overlay.

``<state dir>/_images/<key>/rootfs`` holds the tree and ``image.json`` the image's configuration.  The
key names the image file (its path, size and modification time) rather than hashing its contents on
every spawn: the image service never rewrites an image's data.  An unpack goes to a partial directory
renamed into place, so a crash or a concurrent spawn of the same image never leaves half a tree; the
partial directory names the process unpacking it, and a new driver removes those of processes gone (a
``kill -9`` mid-unpack), which no later unpack would ever reuse.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from pathlib import Path

from onestack.drivers import pidfiles
from onestack.drivers.compute import DriverError
from onestack.drivers.runc import archive


@dataclasses.dataclass(frozen=True)
class CachedImage:
    rootfs: Path
    config: dict  # the image configuration's "config" (Entrypoint, Cmd, Env, WorkingDir, User ...)
    format: str  # "docker" or "oci"


def _key(source: Path) -> str:
    st = source.stat()
    return hashlib.sha256(f"{source.resolve()}\0{st.st_size}\0{st.st_mtime_ns}".encode()).hexdigest()[:32]


def _partial(cache_dir: Path, key: str, pid: int) -> Path:
    return cache_dir / f".{key}.{pid}.partial"


def remove_abandoned(cache_dir: Path) -> list[Path]:
    """Remove the partial unpacks of processes that are gone (killed mid-unpack); those of a live process (a
    spawn under way in another worker) stay.  Returns what was removed."""
    removed = []
    for partial in cache_dir.glob(".*.partial") if cache_dir.is_dir() else ():
        pid = partial.name.removesuffix(".partial").rsplit(".", 1)[-1]
        if pid.isdigit() and pidfiles.alive(int(pid)):
            continue
        shutil.rmtree(partial, ignore_errors=True)
        removed.append(partial)
    return removed


def cached(image_path: str, cache_dir: Path) -> CachedImage:
    source = Path(image_path)
    try:
        key = _key(source)
    except OSError as exc:
        raise DriverError(f"image data {image_path} is not readable: {exc}") from exc
    folder = cache_dir / key
    if not (folder / "image.json").exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = _partial(cache_dir, key, os.getpid())
        shutil.rmtree(partial, ignore_errors=True)
        (partial / "rootfs").mkdir(parents=True)
        try:
            image = archive.unpack(source, partial / "rootfs")
            (partial / "image.json").write_text(json.dumps({"format": image.format, "config": image.config}))
            try:
                partial.rename(folder)
            except OSError:
                if not (folder / "image.json").exists():  # not another spawn's tree that won the race
                    raise
        except archive.ImageError as exc:
            raise DriverError(f"cannot use the image as a container image: {exc}") from exc
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    described = json.loads((folder / "image.json").read_text())
    return CachedImage(folder / "rootfs", described["config"].get("config") or {}, described["format"])


@dataclasses.dataclass(frozen=True)
class Described:
    format: str  # "docker" or "oci"
    config: dict  # the whole image configuration, as the image had it


def described(rootfs: Path) -> Described:
    """What the cached tree at ``rootfs`` was unpacked from (a snapshot writes it again)."""
    try:
        body = json.loads((rootfs.parent / "image.json").read_text())
    except (OSError, ValueError) as exc:
        raise DriverError(f"the container's cached image is gone from the host: {exc}") from exc
    return Described(body["format"], body["config"])
