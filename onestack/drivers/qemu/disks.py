"""The guest's disks, all made with qemu-img (plus mkfs/mkswap for ephemeral and swap).

The root disk is a qcow2 overlay on a cached copy of the image: many guests of one image share
one read-only base (``<state dir>/_base``), and the image service's own copy can go away.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from onestack.drivers.compute import DriverError, InstanceSpec
from onestack.drivers.qemu.layout import InstanceDir

GiB = 1024**3


def run(*argv: str) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise DriverError(f"{argv[0]} is not installed") from exc
    if done.returncode != 0:
        raise DriverError(f"{' '.join(argv[:2])} failed: {done.stderr.strip()[-300:]}")
    return done.stdout


@contextlib.contextmanager
def making(final: Path, tmp: Path | None = None) -> Iterator[Path]:
    """Make ``final`` through a partial file (``<final>.partial`` unless named), renamed into place only
    once whole: what a failing step (a qemu-img convert that cannot read its source, a mkfs) wrote half is
    removed, so nothing but complete disks is ever left in the instance's directory, and a partial file a
    killed try left is started over, not appended to."""
    tmp = tmp if tmp is not None else final.with_suffix(".partial")
    tmp.unlink(missing_ok=True)
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(final)


def info(path: Path, force_share: bool = False) -> dict:
    argv = ["qemu-img", "info", "--output=json"] + (["-U"] if force_share else []) + [str(path)]
    return json.loads(run(*argv))


def cached_base(image_path: str, image_format: str | None, base_dir: Path) -> tuple[Path, str]:
    """A read-only copy of the image under ``base_dir`` (made once), and its format."""
    source = Path(image_path)
    try:
        st = source.stat()
    except OSError as exc:
        raise DriverError(f"image data {image_path} is not readable: {exc}") from exc
    # Named after the file's identity rather than its contents: hashing gigabytes on every spawn
    # costs more than it protects against (the image service never rewrites an image's data).
    key = hashlib.sha256(f"{source.resolve()}\0{st.st_size}\0{st.st_mtime_ns}".encode()).hexdigest()[:32]
    base = base_dir / key
    if not base.exists():
        base_dir.mkdir(parents=True, exist_ok=True)
        with making(base, base_dir / f".{key}.{os.getpid()}.partial") as tmp:
            shutil.copyfile(source, tmp)
            tmp.chmod(0o444)
    found = info(base)
    fmt = found["format"]
    if image_format and image_format != fmt:
        raise DriverError(f"image declared {image_format} but its data is {fmt}")
    if fmt not in ("raw", "qcow2"):
        raise DriverError(f"image format {fmt} is not supported (raw or qcow2)")
    if found.get("backing-filename") or found.get("format-specific", {}).get("data", {}).get("data-file"):
        raise DriverError("image refers to other files (backing or data file): refused")
    return base, fmt


def create_root(spec: InstanceSpec, where: InstanceDir, base_dir: Path) -> None:
    if where.root_disk.exists() or spec.boot_volume is not None:
        return
    if not spec.image_path:
        raise DriverError("no image and no volume to boot from")
    base, fmt = cached_base(spec.image_path, spec.image_format, base_dir)
    virtual = int(info(base)["virtual-size"])
    wanted = spec.root_gb * GiB
    if wanted and wanted < virtual:
        raise DriverError(f"flavor's root disk ({spec.root_gb} GB) is smaller than the image "
                          f"({virtual / GiB:.1f} GB)")
    with making(where.root_disk) as tmp:
        argv = ["qemu-img", "create", "-q", "-f", "qcow2", "-F", fmt, "-b", str(base), str(tmp)]
        run(*(argv + ([str(wanted)] if wanted else [])))


def create_rescue(spec: InstanceSpec, where: InstanceDir, base_dir: Path) -> None:
    """The rescue disk: a qcow2 overlay on the cached rescue image, so the guest's own root disk is untouched
    by the rescue system's boot (made once: a rescue retried after a crash boots the same disk)."""
    if where.rescue_disk.exists():
        return
    if not spec.rescue_image_path:
        raise DriverError("the rescue image has no data on this host")
    base, fmt = cached_base(spec.rescue_image_path, None, base_dir)
    # the flavor's root size, as the root disk has (never smaller than the image)
    size = max(spec.root_gb * GiB, int(info(base)["virtual-size"]))
    with making(where.rescue_disk) as tmp:
        run("qemu-img", "create", "-q", "-f", "qcow2", "-F", fmt, "-b", str(base), str(tmp), str(size))


def create_ephemeral_and_swap(spec: InstanceSpec, where: InstanceDir) -> None:
    """The flavor's ephemeral and swap disks as local files, those not made yet."""
    if spec.ephemeral_gb and not where.ephemeral_disk.exists():
        with making(where.ephemeral_disk) as tmp:
            format_ephemeral(tmp, spec.ephemeral_gb)
    if spec.swap_mb and not where.swap_disk.exists():
        with making(where.swap_disk) as tmp:
            format_swap(tmp, spec.swap_mb)


# Sparse raw files formatted in place (mkfs works on a plain file): ext4 and swap labelled as Nova labels them,
# so a guest finds them by label; they cost no space until written.

def format_ephemeral(path: Path, size_gb: int) -> None:
    with open(path, "wb") as f:
        f.truncate(size_gb * GiB)
    run("mkfs.ext4", "-q", "-F", "-L", "ephemeral0", "-E", "lazy_itable_init=1,lazy_journal_init=1", str(path))


def format_swap(path: Path, size_mb: int) -> None:
    with open(path, "wb") as f:
        f.truncate(size_mb * 1024 * 1024)
    run("mkswap", "-L", "swap0", str(path))


def copy_config_drive(spec: InstanceSpec, where: InstanceDir) -> None:
    """Kept in the instance dir so a restart does not depend on the caller's file still existing."""
    if spec.config_drive:
        shutil.copyfile(spec.config_drive, where.config_drive)


def grow_root(spec: InstanceSpec, where: InstanceDir) -> None:
    """Grow (never shrink: the guest's filesystem would be cut) the root disk to the flavor's size."""
    wanted = spec.root_gb * GiB
    if spec.boot_volume is not None:
        return  # the root disk is the volume's: a flavor's root_gb does not apply (as in Nova)
    if wanted and wanted > int(info(where.root_disk)["virtual-size"]):
        run("qemu-img", "resize", "-q", str(where.root_disk), str(wanted))


def snapshot(where: InstanceDir, target: Path) -> None:
    """Overlay and base flattened into one standalone qcow2 (``-U``: QEMU may hold the disk open;
    the caller pauses the guest so the data is consistent)."""
    snapshot_of(str(where.root_disk), target, share=True)


def snapshot_of(source: str, target: Path, share: bool = False, fmt: str = "qcow2") -> None:
    """A disk (a file, or an ``rbd:`` name qemu-img opens through librbd) as one standalone ``fmt`` image
    (a raw one sparse: what the guest never wrote takes no room)."""
    with making(target, target.with_name(f".{target.name}.partial")) as tmp:
        run("qemu-img", "convert", *(["-U"] if share else []), "-O", fmt, source, str(tmp))
