"""What an uploaded file really is, by ``qemu-img info`` (Glance's format-inspection safety check).

A qcow2 whose header points at a backing file or an external data file would make a hypervisor read
host files: such images are refused, as is data whose format differs from the declared disk_format.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from onestack.http.errors import BadRequest

INSPECTED = {"raw", "qcow2", "vmdk", "vdi", "vhd", "vhdx"}
# qemu-img names some formats differently from Glance.
QEMU_NAMES = {"vhd": "vpc"}


def inspect(path: Path, disk_format: str | None) -> int | None:
    """Check the file against its declared format; return its virtual size when known."""
    if disk_format not in INSPECTED or shutil.which("qemu-img") is None:
        return None
    out = subprocess.run(["qemu-img", "info", "--output=json", str(path)], capture_output=True, text=True,
                         timeout=60)
    if out.returncode != 0:
        raise BadRequest(f"The image data could not be read as {disk_format}.")
    info = json.loads(out.stdout)
    if info.get("backing-filename") or info.get("full-backing-filename"):
        raise BadRequest("Image has a backing file: refused for safety.")
    if ((info.get("format-specific") or {}).get("data") or {}).get("data-file"):
        raise BadRequest("Image has an external data file: refused for safety.")
    specific = (info.get("format-specific") or {}).get("data") or {}
    if info.get("format") == "vmdk" and (specific.get("create-type") not in ("monolithicSparse", "streamOptimized")
                                         or len(specific.get("extents") or []) > 1):
        # A VMDK descriptor can name extents anywhere on the host (CVE-2022-47951): single-file kinds only.
        raise BadRequest("Only monolithicSparse and streamOptimized VMDK images are accepted.")
    found = info.get("format")
    wanted = QEMU_NAMES.get(disk_format, disk_format)
    if found != wanted:
        raise BadRequest(f"Image data is {found}, not the declared disk_format {disk_format}.")
    if disk_format == "raw":
        return path.stat().st_size  # qemu-img rounds raw files up to whole sectors
    return info.get("virtual-size")
