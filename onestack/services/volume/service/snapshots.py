"""Snapshots: frozen copies of a volume's data (of an available volume, or with ``force`` of an in-use one),
their metadata, and deleting them."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import BadRequest, NotFound
from onestack.http.microversion import Version, at_least
from onestack.services.volume.models import Snapshot, Volume
from onestack.services.volume.policies import authorize
from onestack.services.volume.service import quotas
from onestack.services.volume.service.access import load, scoped
from onestack.services.volume.service.lists import Page, listing, query

RESETTABLE = ("available", "error", "creating", "deleting", "error_deleting")
# os-update_snapshot_status: the statuses a snapshot may be moved to from each
UPDATABLE = {"creating": ("available", "error"), "deleting": ("deleting", "error_deleting")}
FILTERS = {"name": "name", "status": "status", "volume_id": "volume_id", "id": "id"}
SORTABLE = {"id": "id", "status": "status", "size": "size", "created_at": "created_at",
            "updated_at": "updated_at", "volume_id": "volume_id", "name": "name", "display_name": "name"}
# the list's query string (``listing`` below), as the OpenAPI description publishes it
QUERY = {**query(FILTERS, SORTABLE), **dict.fromkeys(("all_tenants", "project_id"), {"type": "string"})}


def take(session: Session, ctx: Context, volume: Volume, asked: dict, version: Version | None,
         group_snapshot_id: str | None = None) -> Snapshot:
    """A snapshot of ``volume`` to be made (``creating``; the reconciler takes it), checked as Cinder checks
    one; ``group_snapshot_id``: the group snapshot it is part of."""
    authorize(ctx, "volume:create_snapshot", volume.project_id)
    force = asked.get("force", False)
    in_use_ok = force or at_least(version, "3.66")
    if volume.task is not None or volume.status not in (("available", "in-use") if in_use_ok
                                                        else ("available",)):
        raise BadRequest(f"Invalid volume: Volume {volume.id} status must be available"
                         f"{' or in-use' if in_use_ok else ''}, but current status is: {volume.status}.")
    if volume.encryption_key_id is not None and volume.status != "available":
        raise BadRequest(f"Invalid volume: Volume {volume.id} is encrypted and {volume.status}: an encrypted "
                         f"volume's snapshot is a whole copy of its file, taken while no guest writes it (detach "
                         f"it first).")
    quotas.check(session, volume.project_id, volume.volume_type.name, snapshots=1, gigabytes=volume.size)
    snapshot = Snapshot(id=str(uuid.uuid4()), project_id=volume.project_id, user_id=ctx.user_id,
                        volume_id=volume.id, name=asked.get("name"), description=asked.get("description"),
                        size=volume.size, status="creating", task="create",
                        metadata_=dict(asked.get("metadata") or {}), backend=volume.backend,
                        group_snapshot_id=group_snapshot_id)
    session.add(snapshot)
    session.flush()
    return snapshot


class Snapshots:
    def __init__(self, db: Database):
        self.db = db

    def create(self, ctx: Context, asked: dict, version: Version | None) -> Snapshot:
        if asked["volume_id"] is None:
            raise NotFound("Volume None could not be found.")
        with self.db.write() as session:
            volume = load(session, Volume, asked["volume_id"], ctx, "Volume")
            return take(session, ctx, volume, asked, version)

    def show(self, ctx: Context, snapshot_id: str) -> Snapshot:
        with self.db.read() as session:
            snapshot = load(session, Snapshot, snapshot_id, ctx, "Snapshot")
            authorize(ctx, "volume:get_snapshot", snapshot.project_id)
            return snapshot

    def listing(self, ctx: Context, query, version: Version | None) -> Page:
        authorize(ctx, "volume:get_all_snapshots")
        all_projects = (query.get("all_tenants") or "0").lower() not in ("0", "false", "no", "off")
        with self.db.read() as session:
            stmt = scoped(select(Snapshot), Snapshot, ctx, all_projects).where(Snapshot.hidden.is_(False))
            if all_projects and "project_id" in query:
                stmt = stmt.where(Snapshot.project_id == query["project_id"])
            return listing(session, stmt, Snapshot, query, version, filters=FILTERS, sortable=SORTABLE)

    def update(self, ctx: Context, snapshot_id: str, changes: dict) -> Snapshot:
        with self.db.write() as session:
            snapshot = load(session, Snapshot, snapshot_id, ctx, "Snapshot")
            authorize(ctx, "volume:update_snapshot", snapshot.project_id)
            for field in ("name", "description"):
                if field in changes:
                    setattr(snapshot, field, changes[field])
            return snapshot

    def delete(self, ctx: Context, snapshot_id: str, *, force: bool = False) -> None:
        with self.db.write() as session:
            snapshot = load(session, Snapshot, snapshot_id, ctx, "Snapshot", lock=True)
            action = "volume_extension:snapshot_admin_actions:force_delete" if force else "volume:delete_snapshot"
            authorize(ctx, action, snapshot.project_id)
            if snapshot.task == "delete":
                return
            if snapshot.group_snapshot_id is not None and not force:
                raise BadRequest(f"Invalid snapshot: Snapshot {snapshot.id} is part of group snapshot "
                                 f"{snapshot.group_snapshot_id}: delete the group snapshot instead.")
            if not force and (snapshot.status not in ("available", "error") or snapshot.task is not None):
                raise BadRequest(f"Invalid snapshot: Volume Snapshot status must be available or error "
                                 f"(it is {snapshot.status}).")
            snapshot.status, snapshot.task = "deleting", "delete"

    def reset_status(self, ctx: Context, snapshot_id: str, status: str) -> None:
        with self.db.write() as session:
            snapshot = load(session, Snapshot, snapshot_id, ctx, "Snapshot")
            authorize(ctx, "volume_extension:snapshot_admin_actions:reset_status", snapshot.project_id)
            snapshot.status = status

    def update_status(self, ctx: Context, snapshot_id: str, status: str, progress: str | None) -> None:
        """What a backend reports of a snapshot it is making or deleting (Cinder's os-update_snapshot_status):
        only the moves Cinder allows from ``creating`` and ``deleting``."""
        with self.db.write() as session:
            snapshot = load(session, Snapshot, snapshot_id, ctx, "Snapshot")
            authorize(ctx, "snapshot_extension:snapshot_actions:update_snapshot_status", snapshot.project_id)
            allowed = UPDATABLE.get(snapshot.status)
            if allowed is None:
                raise BadRequest(f"Invalid snapshot: Snapshot status {snapshot.status} not allowed for "
                                 f"update_snapshot_status.")
            if status not in allowed:
                raise BadRequest(f"Invalid snapshot: Provided snapshot status {status} not allowed for snapshot "
                                 f"with status {snapshot.status}.")
            snapshot.status = status
            if progress:
                snapshot.progress = progress

    def metadata(self, ctx: Context, snapshot_id: str) -> dict[str, str]:
        """Read with the snapshot's own rule, as Cinder does."""
        return dict(self.show(ctx, snapshot_id).metadata_)

    def set_metadata(self, ctx: Context, snapshot_id: str, values: dict[str, str], *, replace: bool) -> dict:
        with self.db.write() as session:
            snapshot = load(session, Snapshot, snapshot_id, ctx, "Snapshot")
            authorize(ctx, "volume:update_snapshot_metadata", snapshot.project_id)
            snapshot.metadata_ = dict(values) if replace else {**snapshot.metadata_, **values}
            return dict(snapshot.metadata_)

    def unset_metadata(self, ctx: Context, snapshot_id: str, key: str) -> None:
        with self.db.write() as session:
            snapshot = load(session, Snapshot, snapshot_id, ctx, "Snapshot")
            authorize(ctx, "volume:update_snapshot_metadata", snapshot.project_id)
            if key not in snapshot.metadata_:
                raise NotFound(f"Snapshot {snapshot.id} has no metadata with key {key}.")
            snapshot.metadata_ = {k: v for k, v in snapshot.metadata_.items() if k != key}
