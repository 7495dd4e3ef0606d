"""Which kernel modules the guest needs, with their dependencies, in loading order."""

from __future__ import annotations

import lzma
from pathlib import Path

# virtio_pci finds the devices; then the NIC, the disks, the ISO9660 config drive and the
# ACPI power button (evdev gives busybox acpid something to read).
WANTED = ("virtio_pci", "virtio_net", "virtio_blk", "isofs", "button", "evdev")


def _dependencies(modules_dir: Path) -> dict[str, list[str]]:
    deps: dict[str, list[str]] = {}
    for line in (modules_dir / "modules.dep").read_text().splitlines():
        path, _, rest = line.partition(":")
        deps[path] = rest.split()
    return deps


def _module_name(path: str) -> str:
    return Path(path).name.split(".ko")[0].replace("-", "_")


def resolve(modules_dir: Path, wanted: tuple[str, ...] = WANTED) -> list[str]:
    """Paths (relative to ``modules_dir``) of ``wanted`` and what they need, dependencies first.

    A wanted module that is built into this kernel needs nothing and is skipped.
    """
    deps = _dependencies(modules_dir)
    by_name = {_module_name(path): path for path in deps}
    builtin_file = modules_dir / "modules.builtin"
    builtin = {_module_name(p) for p in builtin_file.read_text().split()} if builtin_file.exists() else set()
    ordered: list[str] = []

    def visit(path: str) -> None:
        if path in ordered:
            return
        for dep in deps.get(path, []):
            visit(dep)
        ordered.append(path)

    for name in wanted:
        if name in builtin:
            continue
        if name not in by_name:
            raise LookupError(f"kernel module {name} is neither built in nor in {modules_dir}")
        visit(by_name[name])
    return ordered


def read_module(modules_dir: Path, path: str) -> tuple[str, bytes]:
    """The module's file name as loaded in the guest (uncompressed) and its bytes.

    busybox insmod cannot load compressed modules, so .ko.xz is unpacked here.
    """
    data = (modules_dir / path).read_bytes()
    name = Path(path).name
    if name.endswith(".ko.xz"):
        data, name = lzma.decompress(data), name[:-3]
    elif not name.endswith(".ko"):
        raise ValueError(f"unsupported module compression: {path}")
    return name, data
