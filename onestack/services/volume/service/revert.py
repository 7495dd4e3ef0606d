"""Revert a volume to its latest snapshot (Cinder's ``revert`` action, 3.40): the volume's data become the
snapshot's again, in place.

Checked as Cinder checks it: only the volume's latest snapshot (400), of the volume's size (400, an extended
volume cannot go back), the volume ``available`` and the snapshot ``available`` (409).  Then the volume is
``reverting`` and the snapshot ``restoring`` until the reconciler has replaced the volume's data (a step safe
to repeat, so a restart finishes it), and both are ``available`` again; a revert that fails leaves the volume
``error`` and the snapshot ``available``.
"""

from __future__ import annotations

from sqlalchemy import select

from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict
from onestack.services.volume.models import Snapshot, Volume
from onestack.services.volume.policies import authorize
from onestack.services.volume.service.access import load


class Reverts:
    def __init__(self, db: Database):
        self.db = db

    def revert(self, ctx: Context, volume_id: str, snapshot_id: str | None) -> None:
        with self.db.write() as session:
            volume = load(session, Volume, volume_id, ctx, "Volume", lock=True)
            authorize(ctx, "volume:revert_to_snapshot", volume.project_id)
            latest = session.scalars(select(Snapshot).where(Snapshot.volume_id == volume.id,
                                                            Snapshot.hidden.is_(False))
                                     .order_by(Snapshot.created_at.desc(), Snapshot.id).limit(1)).first()
            if latest is None:
                raise BadRequest(f"Volume {volume.id} doesn't have any snapshots.")
            if snapshot_id != latest.id:
                raise BadRequest(f"Specified snapshot {snapshot_id} is None or not the latest one of volume "
                                 f"{volume.id}.")
            if volume.size != latest.size:
                raise BadRequest(f"Can't revert volume {volume.id} to its latest snapshot {latest.id}. The volume "
                                 f"size must be equal to the snapshot size.")
            if volume.status != "available" or volume.task is not None:
                raise Conflict(f"Invalid volume: Volume {volume.id} status must be available to revert, but the "
                               f"current status is: {volume.status}.")
            if latest.status != "available" or latest.task is not None:
                raise Conflict(f"Invalid snapshot: Snapshot {latest.id} status must be available to revert a "
                               f"volume to it, but the current status is: {latest.status}.")
            volume.status, volume.task, volume.task_args = "reverting", "revert", {"snapshot_id": latest.id}
            latest.status = "restoring"
