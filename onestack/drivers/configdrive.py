"""The config drive: an ISO9660 image labelled ``config-2`` with the instance's metadata.

Layout as OpenStack guests expect it (cloud-init's ConfigDrive source, our onestack-tiny):
``openstack/latest/meta_data.json``, ``user_data`` (if any), ``network_data.json`` and
``vendor_data.json``; the same files under ``openstack/2012-08-10`` for guests that read the
oldest version.  Shared by the compute service (which writes the metadata) and the tests.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

LABEL = "config-2"
VERSIONS = ("2012-08-10", "latest")


class ConfigDriveError(RuntimeError):
    pass


def _iso_tool() -> list[str]:
    if shutil.which("genisoimage"):
        return ["genisoimage"]
    if shutil.which("xorriso"):
        return ["xorriso", "-as", "mkisofs"]
    raise ConfigDriveError("neither genisoimage nor xorriso is installed")


def build(target: Path | str, metadata: dict, user_data: bytes | str | None = None,
          network_data: dict | None = None, vendor_data: dict | None = None) -> Path:
    """Write the ISO to ``target`` and return its path."""
    target = Path(target)
    if isinstance(user_data, str):
        user_data = user_data.encode()
    with tempfile.TemporaryDirectory(prefix="configdrive-") as tmp:
        root = Path(tmp)
        for version in VERSIONS:
            folder = root / "openstack" / version
            folder.mkdir(parents=True)
            (folder / "meta_data.json").write_text(json.dumps(metadata))
            (folder / "network_data.json").write_text(json.dumps(network_data or {}))
            (folder / "vendor_data.json").write_text(json.dumps(vendor_data or {}))
            if user_data is not None:
                (folder / "user_data").write_bytes(user_data)
        # Rock Ridge (-r) and Joliet (-J) keep lower-case names and dots as written;
        # -V is the label guests look for.
        argv = _iso_tool() + ["-o", str(target), "-V", LABEL, "-r", "-J", "-l", "-ldots",
                              "-allow-lowercase", "-allow-multidot", "-quiet", str(root)]
        done = subprocess.run(argv, capture_output=True, text=True)
        if done.returncode != 0:
            raise ConfigDriveError(f"{argv[0]} failed: {done.stderr.strip()[-300:]}")
    return target
