"""Re-image a volume (Cinder's ``os-reimage`` action, 3.68): the volume's data are replaced by an image's, in
place (same id, type, size and attachments), as Nova's rebuild of a volume-backed server asks.

Checked as Cinder checks it: the image must be one the caller reads, ``active``, of a format a volume is made
from and no larger than the volume (400; an unknown image 404); the volume ``available`` or ``error``, or
``reserved`` when ``reimage_reserved`` says so (another status is Cinder's ``InvalidVolume``, 400).  Then the
volume is ``downloading`` until the reconciler has replaced its data (the image fetched once into the image
cache, a new file made from it and renamed over the volume's, so a step safe to repeat) and it goes back to
the status it had (``available`` for one that was ``error``), its ``volume_image_metadata`` the new image's.
A re-image that fails leaves the volume ``error`` with a user message, as Cinder's.
"""

from __future__ import annotations

from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import BadRequest
from onestack.services.volume.models import Volume
from onestack.services.volume.policies import authorize
from onestack.services.volume.service import images
from onestack.services.volume.service.access import load
from onestack.services.volume.service.imageapi import ImageAPI

REIMAGEABLE = ("available", "error")


def status_after(previous: str | None, attach_statuses: set[str]) -> str:
    """Where a finished re-image leaves the volume: where it was, an ``error`` volume ``available`` (its data
    are whole again); a ``reserved`` one only while an attachment still holds it (the server may have gone
    meanwhile, its attachment with it)."""
    if previous == "reserved":
        return "reserved" if "reserved" in attach_statuses else "available"
    return "available" if previous in (None, "error") else previous


class Reimages:
    def __init__(self, db: Database, image_api: ImageAPI):
        self.db = db
        self.image_api = image_api

    def reimage(self, ctx: Context, volume_id: str, image_id: str, reimage_reserved: bool) -> Volume:
        with self.db.read() as session:
            volume = load(session, Volume, volume_id, ctx, "Volume")
            authorize(ctx, "volume:reimage", volume.project_id)
            if reimage_reserved:
                authorize(ctx, "volume:reimage_reserved", volume.project_id)
        image = images.usable(self.image_api, ctx, image_id)  # asked before the transaction opens
        with self.db.write() as session:
            volume = load(session, Volume, volume_id, ctx, "Volume", lock=True)
            allowed = REIMAGEABLE + (("reserved",) if reimage_reserved else ())
            if volume.status not in allowed or volume.task is not None:
                raise BadRequest(f"Invalid volume: Volume {volume.id} status must be {', '.join(allowed)}, but "
                                 f"current status is: {volume.status}.")
            images.volume_size(image, volume.size)  # the image's min_disk and data must fit (400)
            volume.previous_status, volume.status = volume.status, "downloading"
            volume.task, volume.task_token = "reimage", ctx.token
            volume.task_args = {"image_id": image["id"], "image_metadata": images.volume_image_metadata(image)}
            return volume
