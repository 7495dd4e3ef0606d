"""Groups and group snapshots follow their members: a group made from a source is ``available`` once its
volumes are made (``error`` if one failed), a group snapshot once its snapshots are; a group or group
snapshot being deleted goes with its last member (``error_deleting`` if one failed to go).  Level-triggered:
each step reads the members' rows, so a restart simply resumes."""

from __future__ import annotations

import logging

from sqlalchemy import select, update

from onestack.db.engine import Database
from onestack.services.volume.models import Group, GroupSnapshot, Snapshot, Volume

LOG = logging.getLogger("onestack.volume")
# the loop's key prefix of each (the row's class name, lowered) -> (model, member model, member's link)
KINDS = {"group": (Group, Volume, Volume.group_id),
         "groupsnapshot": (GroupSnapshot, Snapshot, Snapshot.group_snapshot_id)}


class GroupSteps:
    def __init__(self, db: Database, wait: float):
        self.db = db
        self.wait = wait

    def pending(self) -> list[str]:
        with self.db.read() as session:
            return [f"{kind}:{ident}" for kind, (model, _, _) in KINDS.items()
                    for ident in session.scalars(select(model.id).where(model.task.in_(("create", "delete"))))]

    def step(self, kind: str, ident: str) -> float | None:
        model, member, link = KINDS[kind]
        with self.db.write() as session:
            row = session.get(model, ident, with_for_update=True)
            if row is None or row.task not in ("create", "delete"):
                return None
            held = list(session.scalars(select(member).where(link == ident)))
            if any(m.task == row.task for m in held):
                return self.wait
            if row.task == "create":
                failed = any(m.status.startswith("error") for m in held)
                row.status, row.task = ("error" if failed else "available"), None
            elif not held:
                session.delete(row)
            else:  # a member failed to go and stays
                row.status, row.task = "error_deleting", None
        return None

    def recover(self) -> None:
        """A group whose volumes the API call was still making when the process died is ``error`` (Cinder's
        start-up cleanup); the volumes that were made stay in it."""
        with self.db.write() as session:
            stopped = session.execute(update(Group).where(Group.task == "fill")
                                      .values(status="error", task=None)).rowcount
        if stopped:
            LOG.warning("%d groups being made from a source when Block Storage stopped are in error", stopped)
