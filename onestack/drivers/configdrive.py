"""The config drive: an ISO9660 image labelled ``config-2`` with the instance's metadata.

The caller gives the files by their paths on the drive (``openstack/latest/meta_data.json`` ...): the
compute service writes what its metadata module says, the driver tests a few files of their own.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from onestack.drivers.compute import DriverError

LABEL = "config-2"


class ConfigDriveError(DriverError):
    """Final, as any driver error: a build whose drive cannot be made ends in ERROR with this as its fault
    (no ISO tool installed does not mend itself by retrying)."""


def _iso_tool() -> list[str]:
    if shutil.which("genisoimage"):
        return ["genisoimage"]
    if shutil.which("xorriso"):
        return ["xorriso", "-as", "mkisofs"]
    raise ConfigDriveError("neither genisoimage nor xorriso is installed")


def build(target: Path | str, files: dict[str, bytes]) -> Path:
    """Write the ISO holding ``files`` (path on the drive -> content) to ``target``; return its path."""
    target = Path(target)
    with tempfile.TemporaryDirectory(prefix="configdrive-") as tmp:
        root = Path(tmp).resolve()
        for relative, content in files.items():
            path = root / relative
            if root not in path.resolve().parents:
                raise ConfigDriveError(f"{relative!r} is not a path inside the drive")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        # Rock Ridge (-r) and Joliet (-J) keep lower-case names and dots as written;
        # -V is the label guests look for.
        argv = _iso_tool() + ["-o", str(target), "-V", LABEL, "-r", "-J", "-l", "-ldots",
                              "-allow-lowercase", "-allow-multidot", "-quiet", str(root)]
        done = subprocess.run(argv, capture_output=True, text=True)
        if done.returncode != 0:
            raise ConfigDriveError(f"{argv[0]} failed: {done.stderr.strip()[-300:]}")
    return target
