"""What a host offers to placement, measured: its CPUs, its memory and the free disk of a driver's state dir."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from onestack.drivers.compute import HostResources


def measure(state_dir: Path) -> HostResources:
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem_kb = int(next(line.split()[1] for line in meminfo if line.startswith("MemTotal:")))
    disk = shutil.disk_usage(state_dir)
    return HostResources(vcpus=os.cpu_count() or 1, memory_mb=mem_kb // 1024, disk_gb=disk.free // 1024**3)
