"""The file backend's pool as Cinder's scheduler weighs it: its capacity (the file system holding the volume
files), what its volumes provision (their sizes: the files are thin) and Cinder's capacity filter, which
refuses a volume that does not fit (``max_over_subscription_ratio``, 20.0 by default, for a thin backend, and
``reserved_percentage`` of the total kept free)."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from onestack.config import VolumeSettings
from onestack.services.volume.models import Volume

GiB = 1024 ** 3
FILE = "file"


def pool_stats(session: Session, root: Path, settings: VolumeSettings, exclude: str | None = None,
               backend: str = FILE) -> dict:
    """What the pool of the file backend ``backend`` reports (Cinder's capacity keys); ``exclude``: a volume
    being made, not counted."""
    root.mkdir(parents=True, exist_ok=True)
    usage = shutil.disk_usage(root)
    # every volume on the backend counts with its whole size, however little of it is written
    on_backend = or_(Volume.backend.is_(None), Volume.backend == FILE) if backend == FILE else Volume.backend == backend
    with session.no_autoflush:
        provisioned = session.scalar(select(func.coalesce(func.sum(Volume.size), 0)).where(
            on_backend, Volume.status.not_in(("error", "deleting")),
            Volume.id != (exclude or ""))) or 0
    return {"total_capacity_gb": round(usage.total / GiB, 2), "free_capacity_gb": round(usage.free / GiB, 2),
            "provisioned_capacity_gb": int(provisioned), "allocated_capacity_gb": int(provisioned),
            "reserved_percentage": settings.reserved_percentage,
            "max_over_subscription_ratio": settings.max_over_subscription_ratio,
            "thin_provisioning_support": True, "thick_provisioning_support": False}


def refusal(stats: dict, size: int) -> str | None:
    """Why a volume of ``size`` GiB does not fit the pool (Cinder's capacity filter), or None."""
    total = float(stats["total_capacity_gb"])
    if total <= 0:
        return "the backend reports no capacity"
    reserved = math.floor(total * stats["reserved_percentage"] / 100.0)
    free = math.floor(float(stats["free_capacity_gb"]) - reserved)
    ratio = float(stats["max_over_subscription_ratio"])
    if ratio >= 1:  # thin: what is promised may exceed what is there, up to the ratio
        provisioned_ratio = (stats["provisioned_capacity_gb"] + size) / total
        if provisioned_ratio > ratio:
            return (f"Insufficient free space for thin provisioning. The ratio of provisioned capacity over total "
                    f"capacity {provisioned_ratio:.2f} has exceeded the maximum over subscription ratio "
                    f"{ratio:.2f}.")
        if free * ratio < size:
            return (f"Insufficient free virtual space ({free * ratio:.0f}GB) to accommodate thin provisioned "
                    f"{size}GB volume.")
        return None
    if free < size:  # a ratio below 1 is taken as thick provisioning, as Cinder does
        return f"Insufficient free space for volume creation (requested / avail): {size}/{free}"
    return None
