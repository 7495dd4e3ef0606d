"""Backups: copies of a volume's (or a snapshot's) data in a backup store, full or incremental; restoring
one into a new or an existing volume; deleting; and exporting and importing their records.

Records change here, in one transaction per call; the backup reconciler moves the data and writes the
status reached.  The store a backup goes to is the ``volume.backup_driver`` setting when it is made
(``posix``: files under ``DATA_DIR/backups``; ``swift``: the owner's Object Storage account, reached over
HTTP with the caller's token); each backup keeps which, so changing the setting strands none.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import datetime
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.config import VolumeSettings
from onestack.db.base import utcnow
from onestack.db.engine import Database
from onestack.drivers.backups import BackupError, BackupStore
from onestack.drivers.backups.posix import PosixStore
from onestack.drivers.backups.swift import SwiftStore
from onestack.http.context import Context
from onestack.http.errors import BadRequest
from onestack.http.microversion import Version
from onestack.services.volume.models import AVAILABILITY_ZONE, Backup, Snapshot, Volume
from onestack.services.volume.policies import authorize
from onestack.services.volume.service import images, quotas, stores, types
from onestack.services.volume.service.access import load, scoped
from onestack.services.volume.service.catalog import Catalog, PeerError
from onestack.services.volume.service.keys import KeyManager
from onestack.services.volume.service.lists import Page, listing

DRIVERS = {"posix": "cinder.backup.drivers.posix", "swift": "cinder.backup.drivers.swift"}
FILTERS = {"name": "name", "status": "status", "volume_id": "volume_id", "id": "id",
           "availability_zone": "availability_zone"}
SORTABLE = {"id": "id", "name": "name", "status": "status", "size": "size", "created_at": "created_at",
            "updated_at": "updated_at", "volume_id": "volume_id", "container": "container",
            "data_timestamp": "data_timestamp"}
RESETTABLE = ("available", "error")
# What an exported record carries: enough to find the data again and describe them.
RECORD_FIELDS = ("id", "volume_id", "snapshot_id", "size", "driver", "store_url", "container", "object_prefix",
                 "object_count", "parent_id", "is_incremental", "name", "description", "availability_zone",
                 "metadata", "data_timestamp")


@dataclasses.dataclass
class Shown:
    """Backups and which of them later incremental backups build on (Cinder's has_dependent_backups)."""

    rows: list[Backup]
    with_dependents: set[str]
    count: int | None = None
    next_marker: str | None = None


class BackupStores:
    """Opens the store a backup row names."""

    def __init__(self, root: Path):
        self.posix = PosixStore(root)

    @contextlib.contextmanager
    def open(self, backup: Backup, token: str | None) -> Iterator[BackupStore]:
        if backup.driver == "posix":
            yield self.posix
            return
        if backup.driver != "swift" or not backup.store_url or not token:
            raise BackupError(f"backup {backup.id} is in a store that cannot be reached ({backup.driver})")
        with SwiftStore(backup.store_url, token) as store:
            yield store


def _prefix(volume_id: str, backup_id: str, when: datetime.datetime) -> str:
    """Cinder's object prefix: volume_<volume>/<timestamp>/az_<zone>_backup_<backup>."""
    return f"volume_{volume_id}/{when.strftime('%Y%m%d%H%M%S')}/az_{AVAILABILITY_ZONE}_backup_{backup_id}"


class Backups:
    def __init__(self, db: Database, settings: VolumeSettings, catalog: Catalog, keys: KeyManager):
        self.db = db
        self.settings = settings
        self.catalog = catalog
        self.keys = keys

    def _store_url(self, ctx: Context, driver: str) -> str | None:
        if driver != "swift":
            return None
        try:
            return self.catalog.endpoint(ctx.token, "object-store")
        except PeerError as exc:
            raise images.peer_error(exc, "backup store") from exc

    # -- create ----------------------------------------------------------------------------------------
    def create(self, ctx: Context, asked: dict) -> Backup:
        authorize(ctx, "backup:create")
        if asked.get("availability_zone") not in (None, AVAILABILITY_ZONE):
            raise BadRequest(f"Invalid input received: Availability zone '{asked['availability_zone']}' is "
                             f"invalid.")
        driver = self.settings.backup_driver
        store_url = self._store_url(ctx, driver)
        with self.db.write() as session:
            volume = load(session, Volume, asked["volume_id"], ctx, "Volume", lock=True)
            authorize(ctx, "backup:create", volume.project_id)
            snapshot = self._source_snapshot(session, ctx, volume, asked.get("snapshot_id"))
            if snapshot is None:
                allowed = ("available", "in-use") if asked.get("force") else ("available",)
                if volume.status not in allowed or volume.task is not None:
                    raise BadRequest(f"Invalid volume: Volume to be backed up must be available or in-use (with "
                                     f"force), but the current status is \"{volume.status}\".")
            parent = self._parent(session, volume.id, driver) if asked.get("incremental") else None
            quotas.check_backup(session, volume.project_id, volume.size)
            backup_id = str(uuid.uuid4())
            backup = Backup(
                id=backup_id, project_id=volume.project_id, user_id=ctx.user_id, volume_id=volume.id,
                snapshot_id=snapshot.id if snapshot else None, name=asked.get("name"),
                description=asked.get("description"), size=volume.size, status="creating", task="create",
                availability_zone=AVAILABILITY_ZONE, driver=driver, store_url=store_url,
                container=asked.get("container") or self.settings.backup_container,
                object_prefix=_prefix(volume.id, backup_id, utcnow()), object_count=0,
                parent_id=parent.id if parent else None, is_incremental=parent is not None,
                metadata_=dict(asked.get("metadata") or {}),
                data_timestamp=snapshot.created_at if snapshot else utcnow(), task_token=ctx.token)
            if volume.encryption_key_id is not None:
                # the backup holds the encrypted bytes: it keeps a copy of the key (Cinder clones it)
                backup.encryption_key_id = self.keys.clone(session, volume.encryption_key_id)
            if snapshot is not None:
                snapshot.status = "backing-up"
            else:
                volume.previous_status, volume.status = volume.status, "backing-up"
            session.add(backup)
            session.flush()
            return backup

    @staticmethod
    def _source_snapshot(session: Session, ctx: Context, volume: Volume, snapshot_id: str | None) -> Snapshot | None:
        if snapshot_id is None:
            return None
        snapshot = load(session, Snapshot, snapshot_id, ctx, "Snapshot", lock=True)
        if snapshot.volume_id != volume.id:
            raise BadRequest(f"Invalid input received: snapshot {snapshot.id} is not of volume {volume.id}.")
        if snapshot.status != "available" or snapshot.task is not None:
            raise BadRequest(f"Invalid snapshot: Snapshot to be backed up must be available, but the current "
                             f"status is \"{snapshot.status}\".")
        return snapshot

    @staticmethod
    def _parent(session: Session, volume_id: str, driver: str) -> Backup:
        """The latest available backup of the volume, which an incremental one builds on."""
        parent = session.scalars(select(Backup).where(Backup.volume_id == volume_id, Backup.status == "available")
                                 .order_by(Backup.data_timestamp.desc(), Backup.created_at.desc())).first()
        if parent is None:
            raise BadRequest("Invalid backup: No backups available to do an incremental backup.")
        if parent.driver != driver:
            raise BadRequest(f"Invalid backup: the latest backup of the volume is in the {parent.driver} store, "
                             f"not the {driver} one new backups go to: make a full backup first.")
        return parent

    # -- read ------------------------------------------------------------------------------------------
    @staticmethod
    def _with_dependents(session: Session, ids: list[str]) -> set[str]:
        if not ids:
            return set()
        return set(session.scalars(select(Backup.parent_id).where(Backup.parent_id.in_(ids))))

    def show(self, ctx: Context, backup_id: str) -> Shown:
        with self.db.read() as session:
            backup = load(session, Backup, backup_id, ctx, "Backup")
            authorize(ctx, "backup:get", backup.project_id)
            return Shown([backup], self._with_dependents(session, [backup.id]))

    def listing(self, ctx: Context, query, version: Version | None) -> Shown:
        authorize(ctx, "backup:get_all")
        all_projects = (query.get("all_tenants") or "0").lower() not in ("0", "false", "no", "off")
        with self.db.read() as session:
            stmt = scoped(select(Backup), Backup, ctx, all_projects)
            if all_projects and "project_id" in query:
                stmt = stmt.where(Backup.project_id == query["project_id"])
            found: Page = listing(session, stmt, Backup, query, version, filters=FILTERS, sortable=SORTABLE)
            return Shown(found.rows, self._with_dependents(session, [r.id for r in found.rows]), found.count,
                         found.next_marker)

    # -- change ----------------------------------------------------------------------------------------
    def update(self, ctx: Context, backup_id: str, changes: dict) -> Backup:
        with self.db.write() as session:
            backup = load(session, Backup, backup_id, ctx, "Backup")
            authorize(ctx, "backup:update", backup.project_id)
            for field in ("name", "description"):
                if field in changes:
                    setattr(backup, field, changes[field])
            if "metadata" in changes:
                backup.metadata_ = dict(changes["metadata"] or {})
            return backup

    def delete(self, ctx: Context, backup_id: str, *, force: bool = False) -> None:
        with self.db.write() as session:
            backup = load(session, Backup, backup_id, ctx, "Backup", lock=True)
            authorize(ctx, "volume_extension:backup_admin_actions:force_delete" if force else "backup:delete",
                      backup.project_id)
            if backup.task == "delete":
                return
            allowed = ("available", "error", "creating", "restoring") if force else ("available", "error")
            # a failed backup still purging its pieces is in error to its owner, who may delete it at once:
            # the delete removes the same pieces
            busy = backup.task is not None and backup.task != "purge"
            if backup.status not in allowed or (busy and not force):
                raise BadRequest(f"Invalid backup: Backup status must be available or error (it is "
                                 f"{backup.status}).")
            if session.scalars(select(Backup.id).where(Backup.parent_id == backup.id)).first() is not None:
                raise BadRequest("Invalid backup: Incremental backups exist for this backup.")
            backup.status, backup.task, backup.task_token = "deleting", "delete", ctx.token

    def reset_status(self, ctx: Context, backup_id: str, status: str) -> None:
        with self.db.write() as session:
            backup = load(session, Backup, backup_id, ctx, "Backup")
            authorize(ctx, "volume_extension:backup_admin_actions:reset_status", backup.project_id)
            if status not in RESETTABLE:
                raise BadRequest(f"Invalid input received: '{status}' is not a status a backup may be reset to "
                                 f"(available or error).")
            backup.status = status

    # -- restore ---------------------------------------------------------------------------------------
    def restore(self, ctx: Context, backup_id: str, volume_id: str | None, name: str | None) -> tuple[Backup, Volume]:
        """Restore into the volume ``volume_id``, or a new one; (the backup, the volume)."""
        with self.db.write() as session:
            backup = load(session, Backup, backup_id, ctx, "Backup", lock=True)
            authorize(ctx, "backup:restore", backup.project_id)
            _restorable(backup)
            volume = self._restore_target(session, ctx, backup, volume_id, name)
            if volume_id is not None:
                self._take_key(session, backup, volume)
            restore_into(ctx, backup, volume)
            session.flush()
            return backup, volume

    def _restore_target(self, session: Session, ctx: Context, backup: Backup, volume_id: str | None,
                        name: str | None) -> Volume:
        status = "restoring-backup"
        if volume_id is not None:
            volume = load(session, Volume, volume_id, ctx, "Volume", lock=True)
            authorize(ctx, "volume:update", volume.project_id)
            if volume.status != "available" or volume.task is not None:
                raise BadRequest(f"Invalid volume: Volume to be restored to must be available (it is "
                                 f"{volume.status}).")
            if volume.size < backup.size:
                raise BadRequest(f"Invalid volume: volume size {volume.size}GB is too small to restore backup of "
                                 f"size {backup.size}GB.")
            volume.status = status
            return volume
        volume_type = self._type_for_new(session, ctx, backup)
        quotas.check(session, ctx.project_id, volume_type.name, volumes=1, gigabytes=backup.size, size=backup.size)
        volume = Volume(id=str(uuid.uuid4()), project_id=ctx.project_id, user_id=ctx.user_id,
                        name=name or f"restore_backup_{backup.id}", size=backup.size, status=status,
                        availability_zone=AVAILABILITY_ZONE, volume_type=volume_type, type_id=volume_type.id,
                        metadata_={}, image_metadata={}, attachments=[],
                        backend=stores.backend_for(volume_type.extra_specs, self.settings.default_backend))
        if backup.encryption_key_id is not None:
            volume.encryption_key_id = self.keys.clone(session, backup.encryption_key_id)
        session.add(volume)
        return volume

    @staticmethod
    def _type_for_new(session: Session, ctx: Context, backup: Backup):
        """The type of a volume a restore makes: the project's default, or for an encrypted backup the type of
        the volume it was taken of (its data open only as an encrypted volume)."""
        if backup.encryption_key_id is None:
            return types.default_for(session, ctx.project_id)
        source = session.get(Volume, backup.volume_id)
        if source is None or source.volume_type.encryption is None:
            raise BadRequest(f"Invalid backup: backup {backup.id} is of an encrypted volume; restore it into an "
                             f"encrypted volume (name one, or make one from the backup with an encrypted type).")
        return source.volume_type

    def _take_key(self, session: Session, backup: Backup, volume: Volume) -> None:
        """An existing volume a backup is restored into opens with the backup's key afterwards: its own goes
        and a clone of the backup's takes its place (Cinder's restore of an encrypted backup)."""
        if (backup.encryption_key_id is None) != (volume.encryption_key_id is None):
            raise BadRequest(f"Invalid volume: backup {backup.id} is {'' if backup.encryption_key_id else 'not '}"
                             f"encrypted and volume {volume.id} is {'' if volume.encryption_key_id else 'not '}: "
                             f"encrypted and clear data do not mix.")
        if backup.encryption_key_id is not None:
            old = volume.encryption_key_id
            volume.encryption_key_id = self.keys.clone(session, backup.encryption_key_id)
            self.keys.delete(session, old)

    # -- records ---------------------------------------------------------------------------------------
    def _own_swift(self, ctx: Context, store_url) -> str:
        """An account of this cloud's Object Storage: a record is never a way to send a token elsewhere."""
        mine = self._store_url(ctx, "swift")
        root = mine.rsplit("/AUTH_", 1)[0] + "/AUTH_"
        if not isinstance(store_url, str) or not store_url.startswith(root) or "/" in store_url[len(root):]:
            raise BadRequest("Invalid input received: the backup record names an account outside this cloud's "
                             "Object Storage.")
        return store_url

    def export_record(self, ctx: Context, backup_id: str) -> dict:
        with self.db.read() as session:
            backup = load(session, Backup, backup_id, ctx, "Backup")
            authorize(ctx, "backup:backup-export", backup.project_id)
            if backup.status != "available":
                raise BadRequest(f"Invalid backup: Backup status must be available (it is {backup.status}).")
            record = {field: getattr(backup, "metadata_" if field == "metadata" else field) for field in RECORD_FIELDS}
            record["data_timestamp"] = backup.data_timestamp.isoformat() if backup.data_timestamp else None
        url = base64.b64encode(json.dumps(record).encode()).decode()
        return {"backup_service": DRIVERS[backup.driver], "backup_url": url}

    def import_record(self, ctx: Context, service: str, url: str) -> Backup:
        authorize(ctx, "backup:backup-import")
        record = _decoded(url)
        if DRIVERS.get(record["driver"]) != service:
            raise BadRequest(f"Invalid input received: the record is of {DRIVERS.get(record['driver'])}, not "
                             f"{service}.")
        if record["driver"] == "swift":
            record["store_url"] = self._own_swift(ctx, record.get("store_url"))
        with self.db.write() as session:
            if session.get(Backup, record["id"]) is not None:
                raise BadRequest(f"Invalid backup: Backup {record['id']} already exists in database.")
            backup = Backup(
                id=record["id"], project_id=ctx.project_id, user_id=ctx.user_id, volume_id=record["volume_id"],
                snapshot_id=record.get("snapshot_id"), name=record.get("name"),
                description=record.get("description"), size=record["size"], status="creating", task="import",
                availability_zone=AVAILABILITY_ZONE, driver=record["driver"], store_url=record.get("store_url"),
                container=record["container"], object_prefix=record["object_prefix"],
                object_count=record.get("object_count") or 0, parent_id=record.get("parent_id"),
                is_incremental=bool(record.get("is_incremental")), metadata_=dict(record.get("metadata") or {}),
                data_timestamp=_moment(record.get("data_timestamp")), task_token=ctx.token)
            session.add(backup)
            session.flush()
            return backup


def _restorable(backup: Backup) -> None:
    if backup.status != "available" or backup.task is not None:
        raise BadRequest(f"Invalid backup: Backup status must be available (it is {backup.status}).")


def source(session: Session, ctx: Context, backup_id: str) -> Backup:
    """The backup a new volume is made from (3.47), if the caller may restore it."""
    backup = load(session, Backup, backup_id, ctx, "Backup", lock=True)
    authorize(ctx, "backup:restore", backup.project_id)
    _restorable(backup)
    return backup


def restore_into(ctx: Context, backup: Backup, volume: Volume) -> None:
    """The backup's restore task, writing ``volume`` with the caller's token."""
    backup.status, backup.task, backup.task_token = "restoring", "restore", ctx.token
    backup.restore_volume_id = volume.id


def _decoded(url: str) -> dict:
    try:
        record = json.loads(base64.b64decode(url, validate=True))
    except (binascii.Error, ValueError):
        raise BadRequest("Invalid input received: backup_url is not an exported backup record.") from None
    if not isinstance(record, dict):
        raise BadRequest("Invalid input received: backup_url is not an exported backup record.")
    for field, kind in (("id", str), ("volume_id", str), ("size", int), ("driver", str), ("container", str),
                        ("object_prefix", str)):
        if not isinstance(record.get(field), kind) or isinstance(record.get(field), bool):
            raise BadRequest(f"Invalid input received: the backup record's {field} is missing or malformed.")
    try:
        uuid.UUID(record["id"])
    except ValueError:
        raise BadRequest("Invalid input received: the backup record's id is not a UUID.") from None
    if record["size"] < 1 or record["driver"] not in DRIVERS:
        raise BadRequest("Invalid input received: the backup record's size or store is not valid.")
    if any(part in ("", ".", "..") for part in record["object_prefix"].split("/")) or \
            record["container"] in ("", ".", "..") or "/" in record["container"]:
        raise BadRequest("Invalid input received: the backup record's container or object_prefix is not valid.")
    return record


def _moment(text: str | None) -> datetime.datetime | None:
    try:
        return datetime.datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        raise BadRequest("Invalid input received: the backup record's data_timestamp is malformed.") from None
