"""Generic volume groups (3.13) and group snapshots (3.14): records over the volumes and snapshots they
hold.  A group's volumes carry its ``group_id``; a group snapshot takes a snapshot of each through the
snapshot path (``snapshots.take``), each carrying its ``group_snapshot_id``, so no storage step is new.

A group made from a group snapshot or another group is filled by volume creates from each snapshot or
volume (``task`` ``fill`` while this call makes them, then ``create`` until the reconciler sees them all
made); a group or group snapshot deleted with members is ``deleting`` until the reconciler has removed
them, and then goes.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import APIError, BadRequest
from onestack.http.microversion import Version
from onestack.services.volume.models import AVAILABILITY_ZONE, Group, GroupSnapshot, Snapshot, Volume
from onestack.services.volume.policies import authorize
from onestack.services.volume.service import grouptypes, quotas, snapshots, types
from onestack.services.volume.service.access import load, scoped
from onestack.services.volume.service.lists import Page, listing
from onestack.services.volume.service.volumes import DELETABLE, Volumes

LOG = logging.getLogger("onestack.volume")
GROUP_STATUSES = ("creating", "available", "deleting", "error", "error_deleting", "updating", "in-use")
GROUP_SNAPSHOT_STATUSES = ("creating", "available", "deleting", "error", "error_deleting")
FILTERS = {"name": "name", "status": "status", "id": "id"}
SNAPSHOT_FILTERS = {**FILTERS, "group_id": "group_id"}
SORTABLE = {"id": "id", "name": "name", "status": "status", "created_at": "created_at",
            "updated_at": "updated_at"}


def members(session: Session, group: Group) -> list[Volume]:
    return list(session.scalars(select(Volume).where(Volume.group_id == group.id).order_by(Volume.created_at)))


def _all_projects(query) -> bool:
    return (query.get("all_tenants") or "0").lower() not in ("0", "false", "no", "off")


def _ids(value: str | None) -> list[str]:
    """Cinder's add_volumes/remove_volumes: volume ids separated by commas."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class Groups:
    def __init__(self, db: Database, volumes: Volumes):
        self.db = db
        self.volumes = volumes

    def create(self, ctx: Context, asked: dict) -> Group:
        authorize(ctx, "group:create")
        if asked.get("availability_zone") not in (None, AVAILABILITY_ZONE):
            raise BadRequest(f"Invalid input received: Availability zone '{asked['availability_zone']}' is invalid.")
        with self.db.write() as session:
            group_type = grouptypes.find(session, ctx, asked["group_type"])
            volume_types = [types.find(session, ctx, ref).id for ref in asked["volume_types"]]
            quotas.check_group(session, ctx.project_id)
            group = Group(id=str(uuid.uuid4()), project_id=ctx.project_id, user_id=ctx.user_id,
                          name=asked.get("name"), description=asked.get("description"), status="available",
                          availability_zone=AVAILABILITY_ZONE, group_type_id=group_type.id,
                          volume_type_ids=list(dict.fromkeys(volume_types)))
            session.add(group)
            session.flush()
            return group

    def create_from_source(self, ctx: Context, asked: dict) -> Group:
        """A new group with a volume made from each snapshot of a group snapshot, or from each volume of a
        source group (3.14)."""
        authorize(ctx, "group:create")
        snapshot_id, source_id = asked.get("group_snapshot_id"), asked.get("source_group_id")
        if bool(snapshot_id) == bool(source_id):
            raise BadRequest("Invalid input received: Either 'group_snapshot_id' or 'source_group_id' must be "
                             "provided to create a group from a source, not both.")
        with self.db.write() as session:
            if snapshot_id:
                group_snapshot = load(session, GroupSnapshot, snapshot_id, ctx, "GroupSnapshot")
                if group_snapshot.status != "available" or group_snapshot.task is not None:
                    raise BadRequest(f"Invalid group snapshot: Group snapshot {snapshot_id} status must be "
                                     f"available (it is {group_snapshot.status}).")
                source = load(session, Group, group_snapshot.group_id, ctx, "Group")
                taken = session.scalars(select(Snapshot).where(Snapshot.group_snapshot_id == snapshot_id)
                                        .order_by(Snapshot.created_at)).all()
                plans = [{"snapshot_id": s.id, "size": s.size, "name": s.name,
                          "volume_type": session.get(Volume, s.volume_id).type_id} for s in taken]
            else:
                source = load(session, Group, source_id, ctx, "Group")
                if source.status != "available" or source.task is not None:
                    raise BadRequest(f"Invalid group: Source group {source_id} status must be available (it is "
                                     f"{source.status}).")
                plans = [{"source_volid": v.id, "size": v.size, "name": v.name, "volume_type": v.type_id}
                         for v in members(session, source)]
            quotas.check_group(session, ctx.project_id)
            group = Group(id=str(uuid.uuid4()), project_id=ctx.project_id, user_id=ctx.user_id,
                          name=asked.get("name"), description=asked.get("description"), status="creating",
                          task="fill", availability_zone=AVAILABILITY_ZONE, group_type_id=source.group_type_id,
                          volume_type_ids=list(source.volume_type_ids), group_snapshot_id=snapshot_id,
                          source_group_id=source_id)
            session.add(group)
            group_id = group.id
        task, status = "create", "creating"
        for plan in plans:
            try:
                self.volumes.create(ctx, {**plan, "group_id": group_id}, filling_group=True)
            except APIError as error:
                LOG.warning("group %s: a volume from %s could not be made: %s", group_id, plan, error.message)
                task, status = None, "error"
                break
        with self.db.write() as session:
            row = session.get(Group, group_id)
            row.task, row.status = task, status
            session.flush()
            return row

    def show(self, ctx: Context, group_id: str) -> tuple[Group, list[str]]:
        """The group and its volumes' ids."""
        with self.db.read() as session:
            group = load(session, Group, group_id, ctx, "Group")
            authorize(ctx, "group:get", group.project_id)
            return group, [v.id for v in members(session, group)]

    def listing(self, ctx: Context, query, version: Version | None) -> tuple[Page, dict[str, list[str]]]:
        """A page of groups and each one's volumes' ids."""
        authorize(ctx, "group:get_all")
        with self.db.read() as session:
            stmt = scoped(select(Group), Group, ctx, _all_projects(query))
            found = listing(session, stmt, Group, query, version, filters=FILTERS, sortable=SORTABLE,
                            metadata=False)
            ids = [g.id for g in found.rows]
            held: dict[str, list[str]] = {i: [] for i in ids}
            for volume_id, group_id in session.execute(select(Volume.id, Volume.group_id)
                                                       .where(Volume.group_id.in_(ids))):
                held[group_id].append(volume_id)
            return found, held

    def update(self, ctx: Context, group_id: str, changes: dict) -> None:
        add, remove = _ids(changes.get("add_volumes")), _ids(changes.get("remove_volumes"))
        if not (add or remove or "name" in changes or "description" in changes):
            raise BadRequest("Name, description, add_volumes, and remove_volumes can not be all empty in the "
                             "request body.")
        with self.db.write() as session:
            group = load(session, Group, group_id, ctx, "Group", lock=True)
            authorize(ctx, "group:update", group.project_id)
            if group.status != "available" or group.task is not None:
                raise BadRequest(f"Invalid group: Group {group.id} status must be available, but current status is: "
                                 f"{group.status}.")
            for volume_id in add:
                volume = session.get(Volume, volume_id)
                if volume is None or volume.project_id != group.project_id:
                    raise BadRequest(f"Invalid volume: Cannot add volume {volume_id} to group {group.id} because "
                                     f"volume cannot be found.")
                if volume.group_id is not None:
                    raise BadRequest(f"Invalid volume: Cannot add volume {volume_id} to group {group.id} because it "
                                     f"is already in group {volume.group_id}.")
                if volume.status not in ("available", "in-use") or volume.task is not None:
                    raise BadRequest(f"Invalid volume: Cannot add volume {volume_id} to group {group.id} because "
                                     f"volume is in an invalid state: {volume.status}.")
                if volume.type_id not in group.volume_type_ids:
                    raise BadRequest(f"Invalid volume: Cannot add volume {volume_id} to group {group.id} because "
                                     f"volume type {volume.type_id} is not supported by the group.")
                volume.group_id = group.id
            for volume_id in remove:
                volume = session.get(Volume, volume_id)
                if volume is None or volume.group_id != group.id:
                    raise BadRequest(f"Invalid volume: Cannot remove volume {volume_id} from group {group.id} "
                                     f"because it is not in the group.")
                if volume.task is not None:
                    raise BadRequest(f"Invalid volume: Cannot remove volume {volume_id} from group {group.id} "
                                     f"because volume is in an invalid state: {volume.status}.")
                volume.group_id = None
            for field in ("name", "description"):
                if field in changes:
                    setattr(group, field, changes[field])

    def delete(self, ctx: Context, group_id: str, delete_volumes: bool) -> None:
        with self.db.write() as session:
            group = load(session, Group, group_id, ctx, "Group", lock=True)
            authorize(ctx, "group:delete", group.project_id)
            if group.task == "delete":
                return
            if group.task is not None or group.status not in ("available", "error", "error_deleting"):
                raise BadRequest(f"Invalid group: Group status must be available or error, but current status "
                                 f"is: {group.status}.")
            held = members(session, group)
            if held and not delete_volumes:
                raise BadRequest(f"Invalid group: Group {group.id} still contains volumes. The delete-volumes flag "
                                 f"is required to delete it.")
            if session.scalars(select(GroupSnapshot.id).where(GroupSnapshot.group_id == group.id)).first():
                raise BadRequest(f"Invalid group: Group {group.id} still has dependent group snapshots.")
            for volume in held:
                if any(a.attach_status != "detached" for a in volume.attachments):
                    raise BadRequest(f"Invalid volume: Volume in group {group.id} is attached. Need to detach first.")
                if session.scalars(select(Snapshot.id).where(Snapshot.volume_id == volume.id,
                                                             Snapshot.hidden.is_(False))).first():
                    raise BadRequest(f"Invalid volume: Volume in group {group.id} still has dependent snapshots.")
                if volume.task not in (None, "delete") or (volume.task is None and volume.status not in DELETABLE):
                    raise BadRequest(f"Invalid volume: Volume {volume.id} in group {group.id} cannot be deleted "
                                     f"(it is {volume.status}).")
            if not held:
                session.delete(group)
                return
            for volume in held:
                volume.status, volume.task, volume.cascade = "deleting", "delete", False
            group.status, group.task = "deleting", "delete"

    def reset_status(self, ctx: Context, group_id: str, status: str) -> None:
        if status not in GROUP_STATUSES:
            raise BadRequest(f"Invalid input received: Group status {status} is not one of "
                             f"{', '.join(GROUP_STATUSES)}.")
        with self.db.write() as session:
            group = load(session, Group, group_id, ctx, "Group", lock=True)
            authorize(ctx, "group:reset_status", group.project_id)
            group.status = status


class GroupSnapshots:
    def __init__(self, db: Database):
        self.db = db

    def create(self, ctx: Context, asked: dict, version: Version | None) -> GroupSnapshot:
        with self.db.write() as session:
            group = load(session, Group, asked["group_id"], ctx, "Group", lock=True)
            authorize(ctx, "group:create_group_snapshot", group.project_id)
            if group.status != "available" or group.task is not None:
                raise BadRequest(f"Invalid group: Group {group.id} status must be available, but current status "
                                 f"is: {group.status}.")
            row = GroupSnapshot(id=str(uuid.uuid4()), project_id=group.project_id, user_id=ctx.user_id,
                                group_id=group.id, group_type_id=group.group_type_id, name=asked.get("name"),
                                description=asked.get("description"), status="creating", task="create")
            session.add(row)
            session.flush()
            held = members(session, group)
            for volume in held:
                # an attached volume is taken live, as a forced snapshot is
                snapshots.take(session, ctx, volume, {"name": row.name, "force": True}, version,
                               group_snapshot_id=row.id)
            if not held:
                row.status, row.task = "available", None
            return row

    def show(self, ctx: Context, group_snapshot_id: str) -> GroupSnapshot:
        with self.db.read() as session:
            row = load(session, GroupSnapshot, group_snapshot_id, ctx, "GroupSnapshot")
            authorize(ctx, "group:get_group_snapshot", row.project_id)
            return row

    def listing(self, ctx: Context, query, version: Version | None) -> Page:
        authorize(ctx, "group:get_all_group_snapshots")
        with self.db.read() as session:
            stmt = scoped(select(GroupSnapshot), GroupSnapshot, ctx, _all_projects(query))
            return listing(session, stmt, GroupSnapshot, query, version, filters=SNAPSHOT_FILTERS,
                           sortable=SORTABLE, metadata=False)

    def delete(self, ctx: Context, group_snapshot_id: str) -> None:
        with self.db.write() as session:
            row = load(session, GroupSnapshot, group_snapshot_id, ctx, "GroupSnapshot", lock=True)
            authorize(ctx, "group:delete_group_snapshot", row.project_id)
            if row.task == "delete":
                return
            if row.task is not None or row.status not in ("available", "error", "error_deleting"):
                raise BadRequest(f"Invalid group snapshot: Group snapshot status must be available or error, "
                                 f"but current status is: {row.status}.")
            taken = list(session.scalars(select(Snapshot).where(Snapshot.group_snapshot_id == row.id)))
            if any(s.task == "create" for s in taken):
                raise BadRequest(f"Invalid group snapshot: a snapshot of group snapshot {row.id} is still being "
                                 f"made.")
            if not taken:
                session.delete(row)
                return
            for snapshot in taken:
                snapshot.status, snapshot.task = "deleting", "delete"
            row.status, row.task = "deleting", "delete"

    def reset_status(self, ctx: Context, group_snapshot_id: str, status: str) -> None:
        if status not in GROUP_SNAPSHOT_STATUSES:
            raise BadRequest(f"Invalid input received: Group snapshot status {status} is not one of "
                             f"{', '.join(GROUP_SNAPSHOT_STATUSES)}.")
        with self.db.write() as session:
            row = load(session, GroupSnapshot, group_snapshot_id, ctx, "GroupSnapshot", lock=True)
            authorize(ctx, "group:reset_group_snapshot_status", row.project_id)
            row.status = status
