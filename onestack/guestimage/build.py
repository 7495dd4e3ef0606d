"""``onestack image build``: onestack-tiny.qcow2 from the installed Debian packages, cached.

The cache key is a hash of everything that goes in (package versions, the kernel, the boot
scripts, this builder's format): a second build with the same inputs does nothing, a new kernel
or script builds again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from onestack.guestimage import disk, initramfs

IMAGE_NAME = "onestack-tiny"
FORMAT_VERSION = 1  # bump when the builder's output changes for the same inputs
PACKAGES = ("linux-image-cloud-amd64", "busybox-static", "dropbear-bin", "syslinux", "syslinux-common")
TOOLS = ("mkfs.fat", "mcopy", "syslinux", "qemu-img")


class BuildError(RuntimeError):
    pass


@dataclasses.dataclass(frozen=True)
class BuiltImage:
    path: Path
    size_bytes: int
    virtual_size_bytes: int
    kernel_version: str
    sha256: str
    built: bool  # False when the cached image was reused

    def as_dict(self) -> dict:
        return {**dataclasses.asdict(self), "path": str(self.path)}


def default_cache_dir() -> Path:
    """Shared by every data dir, the tests and the benchmark: the image depends only on the host's packages."""
    env = os.environ.get("ONESTACK_IMAGE_CACHE")
    if env:
        return Path(env)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "onestack" / "images"


def cloud_kernel() -> tuple[str, Path, Path]:
    """(version, vmlinuz, modules dir) of the newest installed Debian cloud kernel."""
    found = sorted(Path("/boot").glob("vmlinuz-*-cloud-amd64"))
    for vmlinuz in reversed(found):
        version = vmlinuz.name.removeprefix("vmlinuz-")
        modules = Path("/lib/modules") / version
        if (modules / "modules.dep").exists():
            return version, vmlinuz, modules
    raise BuildError("no Debian cloud kernel installed (apt-get install linux-image-cloud-amd64; make install does)")


def _package_versions() -> dict[str, str]:
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}\\n", *PACKAGES],
                         capture_output=True, text=True)
    return dict(line.split(" ", 1) for line in out.stdout.splitlines() if " " in line)


def _build_key(kernel_version: str, vmlinuz: Path) -> str:
    h = hashlib.sha256()
    h.update(json.dumps({"format": FORMAT_VERSION, "kernel": kernel_version, "cmdline": disk.KERNEL_CMDLINE,
                         "packages": _package_versions()}, sort_keys=True).encode())
    h.update(hashlib.sha256(vmlinuz.read_bytes()).digest())
    for script in sorted(initramfs.FILES.iterdir()):
        h.update(script.name.encode() + script.read_bytes())
    for source in sorted(Path(__file__).parent.glob("*.py")):
        h.update(source.read_bytes())
    return h.hexdigest()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(2**20):
            h.update(chunk)
    return h.hexdigest()


def _virtual_size(path: Path) -> int:
    out = subprocess.run(["qemu-img", "info", "--output=json", str(path)], capture_output=True, text=True,
                         check=True).stdout
    return int(json.loads(out)["virtual-size"])


def build(cache_dir: Path | None = None, force: bool = False) -> BuiltImage:
    """Build (or reuse) ``<cache_dir>/onestack-tiny.qcow2``; its facts are kept beside it as JSON."""
    missing = [tool for tool in TOOLS if not shutil.which(tool)]
    if missing:
        raise BuildError(f"missing tools {', '.join(missing)} (make install installs them)")
    cache_dir = (cache_dir or default_cache_dir()).resolve()
    cache_dir.mkdir(parents=True, exist_ok=True)
    version, vmlinuz, modules = cloud_kernel()
    key = _build_key(version, vmlinuz)
    target = cache_dir / f"{IMAGE_NAME}.qcow2"
    facts_file = cache_dir / f"{IMAGE_NAME}.json"
    if not force and target.exists() and facts_file.exists():
        facts = json.loads(facts_file.read_text())
        if facts.get("build_key") == key:
            return BuiltImage(target, facts["size_bytes"], facts["virtual_size_bytes"], version,
                              facts["sha256"], built=False)
    started = time.monotonic()
    # Built next to the target and renamed into place: a reader never sees half an image, and two
    # builders racing (parallel test workers) each rename a whole one.
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".build-") as tmp:
        raw = Path(tmp) / "disk.raw"
        disk.build(vmlinuz, initramfs.build(modules), raw)
        qcow2 = Path(tmp) / "disk.qcow2"
        subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(qcow2)],
                       check=True, capture_output=True)
        image = BuiltImage(target, qcow2.stat().st_size, _virtual_size(qcow2), version, _sha256(qcow2), built=True)
        facts = {**image.as_dict(), "build_key": key, "build_seconds": round(time.monotonic() - started, 2),
                 "kernel_cmdline": disk.KERNEL_CMDLINE}
        os.replace(qcow2, target)
        tmp_facts = Path(tmp) / "facts.json"
        tmp_facts.write_text(json.dumps(facts, indent=2) + "\n")
        os.replace(tmp_facts, facts_file)
    return image
