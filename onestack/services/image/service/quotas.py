"""Per-project image quotas, read from unified limits as Glance reads them (service type ``image``).

A resource with neither a registered default nor a project limit is not limited; -1 means unlimited.
Sizes are in MiB, as Glance's ``image_size_total`` and ``image_stage_total`` are.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestack.http.errors import PayloadTooLarge
from onestack.services.image.models import Image

LimitLookup = Callable[[str, str, str], int | None]
MIB = 1024 * 1024
MAX_IMAGE_SIZE = 1 << 40  # Glance's image_size_cap default: 1 TiB
UPLOADING = ("saving", "uploading", "importing")
STAGED = ("uploading", "importing")
RESOURCES = ("image_size_total", "image_stage_total", "image_count_total", "image_count_uploading")


class Quotas:
    def __init__(self, lookup: LimitLookup):
        self.lookup = lookup

    def limit(self, resource: str, project_id: str) -> int | None:
        value = self.lookup("image", resource, project_id)
        return None if value is None or value < 0 else value

    @staticmethod
    def _bytes_used(session: Session, project_id: str, *where) -> int:
        # int(): PostgreSQL sums a bigint column as numeric (a Decimal, which JSON does not take)
        return int(session.scalar(select(func.coalesce(func.sum(Image.size), 0))
                                  .where(Image.owner == project_id, *where)) or 0)

    def usage(self, session: Session, project_id: str) -> dict[str, int]:
        mine = Image.owner == project_id
        size = self._bytes_used(session, project_id)
        return {
            "image_size_total": -(-size // MIB),  # whole MiB, rounded up
            # Staged data counts until its import ends, as Glance counts it.
            "image_stage_total": -(-self._bytes_used(session, project_id, Image.status.in_(STAGED)) // MIB),
            "image_count_total": session.scalar(select(func.count()).select_from(Image).where(mine)) or 0,
            "image_count_uploading": session.scalar(select(func.count()).select_from(Image).where(
                mine, Image.status.in_(UPLOADING))) or 0,
        }

    def report(self, session: Session, project_id: str) -> dict:
        used = self.usage(session, project_id)
        return {name: {"limit": self.lookup("image", name, project_id), "usage": used[name]} for name in RESOURCES}

    def check_count(self, session: Session, project_id: str, resource: str) -> None:
        limit = self.limit(resource, project_id)
        if limit is not None and self.usage(session, project_id)[resource] >= limit:
            raise PayloadTooLarge(f"Resource {resource} is over limit of {limit} for project {project_id}.")

    def bytes_left(self, session: Session, project_id: str, resource: str = "image_size_total") -> int:
        """How many more bytes of image data (or of staged data) the project may send now."""
        limit = self.limit(resource, project_id)
        if limit is None:
            return MAX_IMAGE_SIZE
        used = self._bytes_used(session, project_id, *([Image.status.in_(STAGED)] if resource == "image_stage_total"
                                                        else []))
        return max(0, min(MAX_IMAGE_SIZE, limit * MIB - used))
