"""A stopped guest's disks copied to another host (cold migration, resize to another host) over NBD.

The source serves each of the instance's writable disks read-only with ``qemu-nbd`` at its host's address
(one process per disk, pidfiles in the instance's directory); the destination reads them with
``qemu-img convert``: the root disk into a qcow2 overlay on the destination's own copy of the same image
(``-B``: only what differs from the image is written), the flavor's ephemeral and swap disks as sparse raw
files.  The source's files stay as they were, so a revert starts the guest there again.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from onestack.drivers import pidfiles
from onestack.drivers.compute import DriverError, InstanceSpec
from onestack.drivers.qemu import disks
from onestack.drivers.qemu.layout import InstanceDir
from onestack.drivers.qemu.migration import bound_to_a_free_port

SCHEME = "onestack-nbd"


def _files(spec: InstanceSpec, where: InstanceDir) -> dict[str, tuple[Path, str]]:
    """name -> (file, format) of the disks that travel."""
    found = {}
    if spec.boot_volume is None and where.root_disk.exists():
        found["root"] = (where.root_disk, "qcow2")
    if where.ephemeral_disk.exists():
        found["ephemeral"] = (where.ephemeral_disk, "raw")
    if where.swap_disk.exists():
        found["swap"] = (where.swap_disk, "raw")
    return found


def _pidfile(where: InstanceDir, disk: str) -> Path:
    return where.root / f"nbd-{disk}.pid"


def serve(spec: InstanceSpec, where: InstanceDir, address: str) -> str:
    """Serve the disks (again, if an earlier server is left) and say where."""
    stop(where)
    ports = {}
    try:
        for disk, (path, fmt) in _files(spec, where).items():
            ports[disk] = bound_to_a_free_port(address, lambda port, disk=disk, path=path, fmt=fmt: _serve_disk(
                where, disk, path, fmt, address, port))
    except DriverError:
        stop(where)
        raise
    return f"{SCHEME}://{address}?{urlencode(ports)}"


def _serve_disk(where: InstanceDir, disk: str, path: Path, fmt: str, address: str, port: int) -> None:
    done = subprocess.run(["qemu-nbd", "--read-only", "--shared=4", "--persistent", "--fork",
                           "--bind", address, "--port", str(port), "--export-name", disk, "--format", fmt,
                           "--pid-file", str(_pidfile(where, disk)), str(path)],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise DriverError(f"cannot serve the {disk} disk: {done.stderr.strip()[-300:]}")


def stop(where: InstanceDir) -> None:
    """The disks' servers gone (none left by an earlier try either)."""
    for pidfile in where.root.glob("nbd-*.pid"):
        pid = pidfiles.running(pidfile, "--persistent")  # a qemu-nbd of ours, not a pid reused since
        if pid is not None:
            pidfiles.kill(pid)
        pidfile.unlink(missing_ok=True)


def fetch(spec: InstanceSpec, where: InstanceDir, base_dir: Path, uri: str) -> None:
    """Copy the served disks into ``where`` (each through a partial file, so a repeat starts clean)."""
    parts = urlsplit(uri)
    if parts.scheme != SCHEME or not parts.hostname:
        raise DriverError(f"not a disk server: {uri}")
    ports = {k: int(v[0]) for k, v in parse_qs(parts.query).items()}
    targets = {"root": where.root_disk, "ephemeral": where.ephemeral_disk, "swap": where.swap_disk}
    for disk, port in ports.items():
        if disk not in targets:
            continue
        source = f"nbd://{parts.hostname}:{port}/{disk}"
        base, fmt = disks.cached_base(spec.image_path or "", spec.image_format, base_dir) if disk == "root" \
            else (None, "raw")
        with disks.making(targets[disk]) as tmp:
            if base is not None:
                disks.run("qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", "-B", str(base), "-F", fmt,
                          source, str(tmp))
            else:
                disks.run("qemu-img", "convert", "-q", "-f", "raw", "-O", "raw", "-S", "4k", source, str(tmp))
