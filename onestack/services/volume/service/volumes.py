"""Volumes: create (blank, from a snapshot, another volume, an image or a backup), read, update, extend,
delete, metadata and image metadata, upload to an image, and the admin and owner actions that only change
records.

Each call is one transaction; a change the files must follow sets ``task`` (create, extend, delete,
upload) and the reconciler makes it so, then writes the status it reached.  What another service must
answer (the image a volume is made from, the image an upload fills) is asked over HTTP before the
transaction opens, never while it holds the database.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import BadRequest, NotFound
from onestack.http.microversion import Version
from onestack.http.numbers import decimal
from onestack.services.volume.models import AVAILABILITY_ZONE, Group, Snapshot, Volume
from onestack.services.volume.policies import authorize
from onestack.services.volume.service import backups, capacity, images, messages, migrations, quotas, types
from onestack.services.volume.service.access import load, scoped
from onestack.services.volume.service.catalog import PeerError
from onestack.services.volume.service.encryption import check_usable
from onestack.services.volume.service.imageapi import ImageAPI
from onestack.services.volume.service.lists import Page, listing, query
from onestack.services.volume.service.stores import FILE, VolumeStores

# Statuses os-reset_status may set (Cinder's list).
RESETTABLE = ("available", "error", "creating", "deleting", "in-use", "attaching", "detaching", "error_deleting",
              "maintenance", "reserved", "extending", "error_extending", "downloading", "uploading",
              "retyping", "backing-up", "restoring-backup", "error_restoring", "error_managing", "managing")
# Where a volume may be deleted from without force.
DELETABLE = ("available", "error", "error_restoring", "error_extending", "error_managing")
FILTERS = {"name": "name", "status": "status", "availability_zone": "availability_zone",
           "bootable": "bootable", "id": "id", "user_id": "user_id", "size": "size"}
SORTABLE = {"id": "id", "name": "name", "display_name": "name", "status": "status", "size": "size", "created_at": "created_at",
            "updated_at": "updated_at", "availability_zone": "availability_zone", "bootable": "bootable",
            "project_id": "project_id"}
# the list's query string (``listing`` below), as the OpenAPI description publishes it
QUERY = {**query(FILTERS, SORTABLE), **dict.fromkeys(("all_tenants", "project_id", "volume_type"), {"type": "string"})}


def uuid_or_404(ident: str, what: str) -> str:
    try:
        uuid.UUID(ident)
    except ValueError:
        raise NotFound(f"{what} {ident} could not be found.") from None
    return ident


def _size(value, floor: int | None = None) -> int | None:
    """Cinder takes a size as an integer or a string of digits; at least 1 GB (or the source's size)."""
    if value is None:
        return floor
    size = value if isinstance(value, int) and not isinstance(value, bool) else \
        decimal(value) if isinstance(value, str) else None
    if size is None:
        raise BadRequest(f"Invalid input received: size must be an integer (and greater than 0), got {value!r}.")
    if size <= 0 or size > 2147483647:
        raise BadRequest(f"Invalid input received: Volume size '{value}' must be an integer and greater than 0.")
    if floor is not None and size < floor:
        raise BadRequest(f"Invalid input received: Volume size '{size}'GB cannot be smaller than the source "
                         f"size {floor}GB. They must be >= original size.")
    return size


def _zone(asked: str | None) -> str:
    if asked not in (None, AVAILABILITY_ZONE):
        raise BadRequest(f"Invalid input received: Availability zone '{asked}' is invalid.")
    return AVAILABILITY_ZONE


def _group_for(session: Session, ctx: Context, group_id: str | None, volume_type, filling: bool) -> Group | None:
    """The group a new volume joins: the caller's, available (or being filled from its source), and made
    for the volume's type."""
    if not group_id:
        return None
    group = load(session, Group, group_id, ctx, "Group")
    if group.status != ("creating" if filling else "available"):
        raise BadRequest(f"Invalid group: Group {group.id} status must be available (it is {group.status}).")
    if volume_type.id not in group.volume_type_ids:
        raise BadRequest(f"Invalid input received: Invalid volume_type provided: {volume_type.id} (the group "
                         f"{group.id} takes {', '.join(group.volume_type_ids)}).")
    return group


def is_multiattach(extra_specs: dict) -> bool:
    return extra_specs.get("multiattach", "").strip().lower() == "<is> true"


class Volumes:
    def __init__(self, db: Database, image_api: ImageAPI, stores: VolumeStores):
        self.db = db
        self.image_api = image_api
        self.stores = stores

    # -- create ----------------------------------------------------------------------------------------
    def create(self, ctx: Context, asked: dict, *, filling_group: bool = False) -> Volume:
        """``filling_group``: made for a group being created from a source (which is ``creating``)."""
        authorize(ctx, "volume:create")
        image_ref = asked["imageRef"] if asked.get("imageRef") is not None else asked.get("image_id")
        sources = [k for k in ("snapshot_id", "source_volid", "backup_id") if asked.get(k)] + (
            ["imageRef"] if image_ref is not None else [])
        if len(sources) > 1:
            raise BadRequest(f"Invalid input received: a volume has one source, not {' and '.join(sources)}.")
        image = images.usable(self.image_api, ctx, image_ref) if image_ref is not None else None
        with self.db.write() as session:
            source_snapshot = self._source_snapshot(session, ctx, asked.get("snapshot_id"))
            source_volume = self._source_volume(session, ctx, asked.get("source_volid"))
            source_backup = backups.source(session, ctx, asked["backup_id"]) if asked.get("backup_id") else None
            origin = source_snapshot or source_volume or source_backup
            size = _size(asked.get("size"), origin.size if origin else None)
            if image is not None:
                size = images.volume_size(image, size)
            if size is None:
                raise BadRequest("Invalid input received: size is required for a blank volume.")
            # A snapshot's volume stays while the snapshot does (a delete takes its snapshots or waits).
            origin_volume = session.get(Volume, source_snapshot.volume_id) if source_snapshot else source_volume
            if asked.get("volume_type"):
                volume_type = types.find(session, ctx, asked["volume_type"])
            elif origin_volume is not None:
                volume_type = origin_volume.volume_type
            else:
                volume_type = types.default_for(session, ctx.project_id)
            group = _group_for(session, ctx, asked.get("group_id"), volume_type, filling_group)
            backend = self.stores.backend_for(volume_type.extra_specs)
            if origin_volume is not None and backend != (origin_volume.backend or FILE):
                raise BadRequest(f"Invalid input received: a volume on backend {backend} cannot be made from a "
                                 f"source on backend {origin_volume.backend or FILE} (choose a type of that "
                                 f"backend).")
            quotas.check(session, ctx.project_id, volume_type.name, volumes=1, gigabytes=size, size=size)
            volume = Volume(
                id=str(uuid.uuid4()), project_id=ctx.project_id, user_id=ctx.user_id, name=asked.get("name"),
                attachments=[],
                description=asked.get("description"), size=size, status="creating", task="create",
                availability_zone=_zone(asked.get("availability_zone")), volume_type=volume_type,
                type_id=volume_type.id, metadata_=dict(asked.get("metadata") or {}),
                multiattach=bool(asked.get("multiattach")) or is_multiattach(volume_type.extra_specs),
                snapshot_id=source_snapshot.id if source_snapshot else None,
                source_volid=source_volume.id if source_volume else None,
                bootable=bool(origin_volume and origin_volume.bootable),
                image_metadata=dict(origin_volume.image_metadata) if origin_volume else {}, backend=backend,
                group_id=group.id if group else None)
            volume.encryption_key_id = self._key_for(session, volume_type, backend, origin_volume, source_backup)
            unmet = types.unmet_capabilities(volume_type.extra_specs, self.stores.capabilities(backend))
            too_big = None if unmet or not self.stores.is_file(backend) else capacity.refusal(
                capacity.pool_stats(session, self.stores.of(backend).root, self.stores.settings, volume.id,
                                    backend), size)
            if unmet or too_big:
                # the scheduler finds no backend for the type, or none with room (Cinder's capacity filter):
                # Cinder's volume in error, with a message
                reason = f"No valid backend was found: none offers {', '.join(unmet)}." if unmet else \
                    f"No valid backend was found: {too_big}"
                volume.status, volume.task, volume.fault = "error", None, reason
                session.add(volume)
                session.flush()
                messages.record(session, volume.project_id, "VOLUME", volume.id, "create", reason)
                return volume
            if image is not None:
                volume.image_id, volume.bootable = image["id"], True
                volume.image_metadata = images.volume_image_metadata(image)
                volume.task_token = ctx.token
            if source_volume is not None:
                volume.clone_of = self._freeze_for_clone(session, source_volume).id
            if source_backup is not None:
                volume.task = None  # the backup's restore makes the data
                backups.restore_into(ctx, source_backup, volume)
            session.add(volume)
            session.flush()
            return volume

    def _key_for(self, session: Session, volume_type, backend: str, origin: Volume | None,
                 backup) -> str | None:
        """The new volume's encryption key, if its type is encrypted: a clone of its source's (Cinder clones
        the key of the volume, snapshot or backup a volume is made from: same bytes, a new id), else a new
        one.  Encrypted and clear data do not mix: a source of the other kind is refused (400)."""
        encryption = volume_type.encryption
        check_usable(encryption, backend, self.stores.is_file(backend))
        source_key = origin.encryption_key_id if origin is not None else backup.encryption_key_id if backup else None
        if (origin is not None or backup is not None) and bool(source_key) != (encryption is not None):
            raise BadRequest("Invalid input received: an encrypted volume is made only from an encrypted source, "
                             "and a volume that is not encrypted only from a source that is not "
                             f"(type {volume_type.name} is {'' if encryption else 'not '}encrypted).")
        if encryption is None:
            return None
        if source_key is not None:
            return self.stores.keys.clone(session, source_key)
        return self.stores.keys.create(session, encryption.key_size or 256)

    @staticmethod
    def _source_snapshot(session: Session, ctx: Context, snapshot_id: str | None) -> Snapshot | None:
        if snapshot_id is None:
            return None
        snapshot = load(session, Snapshot, snapshot_id, ctx, "Snapshot")
        if snapshot.status != "available":
            raise BadRequest(f"Invalid snapshot: Originating snapshot status must be one of 'available' values "
                             f"(it is {snapshot.status}).")
        return snapshot

    @staticmethod
    def _source_volume(session: Session, ctx: Context, volume_id: str | None) -> Volume | None:
        if volume_id is None:
            return None
        volume = load(session, Volume, volume_id, ctx, "Volume")
        if volume.status not in ("available", "in-use") or volume.task is not None:
            raise BadRequest(f"Invalid volume: Source volume status must be available or in-use "
                             f"(it is {volume.status}).")
        if volume.encryption_key_id is not None and volume.status != "available":
            raise BadRequest(f"Invalid volume: Source volume {volume.id} is encrypted and {volume.status}: it is "
                             f"cloned by a whole copy of its file, taken while no guest writes it.")
        return volume

    @staticmethod
    def _freeze_for_clone(session: Session, source: Volume) -> Snapshot:
        """A hidden snapshot of the source, which the clone's file backs on (and goes with its last clone)."""
        frozen = Snapshot(id=str(uuid.uuid4()), project_id=source.project_id, user_id=source.user_id,
                          volume_id=source.id, name=f"clone source of {source.id}", size=source.size,
                          status="creating", task="create", hidden=True, metadata_={}, backend=source.backend)
        session.add(frozen)
        return frozen

    # -- read ------------------------------------------------------------------------------------------
    def show(self, ctx: Context, volume_id: str) -> Volume:
        with self.db.read() as session:
            volume = load(session, Volume, volume_id, ctx, "Volume")
            authorize(ctx, "volume:get", volume.project_id)
            return volume

    def listing(self, ctx: Context, query, version: Version | None) -> Page:
        authorize(ctx, "volume:get_all")
        all_projects = (query.get("all_tenants") or "0").lower() not in ("0", "false", "no", "off")
        with self.db.read() as session:
            stmt = scoped(select(Volume), Volume, ctx, all_projects)
            if all_projects and "project_id" in query:
                stmt = stmt.where(Volume.project_id == query["project_id"])
            if "volume_type" in query:
                stmt = stmt.where(Volume.type_id == types.find(session, ctx, query["volume_type"]).id)
            return listing(session, stmt, Volume, query, version, filters=FILTERS, sortable=SORTABLE)

    def summary(self, ctx: Context, all_projects: bool) -> tuple[int, int, dict]:
        authorize(ctx, "volume:get_all")
        with self.db.read() as session:
            rows = list(session.scalars(scoped(select(Volume), Volume, ctx, all_projects)))
        metadata: dict[str, list[str]] = {}
        for row in rows:
            for key, value in row.metadata_.items():
                metadata.setdefault(key, []).append(value)
        return len(rows), sum(r.size for r in rows), {k: sorted(set(v)) for k, v in metadata.items()}

    # -- change ----------------------------------------------------------------------------------------
    def update(self, ctx: Context, volume_id: str, changes: dict) -> Volume:
        with self.db.write() as session:
            volume = load(session, Volume, volume_id, ctx, "Volume")
            authorize(ctx, "volume:update", volume.project_id)
            for field in ("name", "description"):
                if field in changes:
                    setattr(volume, field, changes[field])
            if "metadata" in changes:
                volume.metadata_ = dict(changes["metadata"])
            return volume

    def extend(self, ctx: Context, volume_id: str, new_size, *, attached: bool = False) -> None:
        """``attached`` (3.42): an ``in-use`` volume may grow too, through the guests that hold it (the
        reconciler asks compute), and goes back to ``in-use``."""
        with self.db.write() as session:
            volume = load(session, Volume, volume_id, ctx, "Volume", lock=True)
            online = attached and volume.status == "in-use"
            authorize(ctx, "volume:extend_attached_volume" if online else "volume:extend", volume.project_id)
            if volume.status not in (("available", "in-use") if attached else ("available",)) or \
                    volume.task is not None:
                raise BadRequest(f"Invalid volume: Volume {volume.id} status must be "
                                 f"{'available or in-use' if attached else 'available'} to extend, "
                                 f"but current status is: {volume.status}.")
            if new_size is None:
                raise BadRequest("Invalid input received: New size for extend must be specified as an integer.")
            size = _size(new_size)
            if size <= volume.size:
                raise BadRequest(f"Invalid input received: New size for extend must be greater than current size. "
                                 f"(current: {volume.size}, extended: {size}).")
            quotas.check(session, volume.project_id, volume.volume_type.name, gigabytes=size - volume.size, size=size)
            volume.previous_status = volume.status if online else None
            volume.size, volume.status, volume.task = size, "extending", "extend"

    def delete(self, ctx: Context, volume_id: str, *, cascade: bool = False, force: bool = False) -> None:
        with self.db.write() as session:
            volume = load(session, Volume, volume_id, ctx, "Volume", lock=True)
            if force:
                authorize(ctx, "volume_extension:volume_admin_actions:force_delete", volume.project_id)
            else:
                authorize(ctx, "volume:delete", volume.project_id)
            if volume.task == "delete":
                return
            if not force and (volume.status not in DELETABLE or volume.task is not None):
                raise BadRequest(f"Invalid volume: Volume status must be available or error or error_restoring "
                                 f"or error_extending or error_managing and must not be migrating, attached, "
                                 f"belong to a group, have snapshots, awaiting a transfer, or be disassociated "
                                 f"from snapshots after volume transfer (it is {volume.status}).")
            if volume.group_id is not None and not force:
                raise BadRequest(f"Invalid volume: Volume {volume.id} belongs to group {volume.group_id}: remove "
                                 f"it from the group or delete the group with its volumes.")
            if any(a.attach_status != "detached" for a in volume.attachments) and not force:
                raise BadRequest("Invalid volume: Volume must not be attached to be deleted.")
            snapshots = list(session.scalars(select(Snapshot).where(Snapshot.volume_id == volume.id,
                                                                   Snapshot.hidden.is_(False))))
            if snapshots and not cascade:
                raise BadRequest(f"Invalid volume: Volume {volume.id} still has {len(snapshots)} dependent "
                                 f"snapshots.")
            if cascade and any(s.status not in ("available", "error") or s.task == "create" for s in snapshots):
                raise BadRequest("Invalid volume: Snapshots of the volume must be available or error to cascade.")
            for snapshot in snapshots:
                snapshot.status, snapshot.task = "deleting", "delete"
            volume.status, volume.task, volume.cascade = "deleting", "delete", cascade

    # -- metadata --------------------------------------------------------------------------------------
    def metadata(self, ctx: Context, volume_id: str) -> dict[str, str]:
        with self.db.read() as session:
            volume = load(session, Volume, volume_id, ctx, "Volume")
            authorize(ctx, "volume:get_volume_metadata", volume.project_id)
            return dict(volume.metadata_)

    def set_metadata(self, ctx: Context, volume_id: str, values: dict[str, str], *, replace: bool) -> dict[str, str]:
        with self.db.write() as session:
            volume = load(session, Volume, volume_id, ctx, "Volume")
            authorize(ctx, "volume:update_volume_metadata", volume.project_id)
            _no_change_while_busy(volume)
            volume.metadata_ = dict(values) if replace else {**volume.metadata_, **values}
            return dict(volume.metadata_)

    def unset_metadata(self, ctx: Context, volume_id: str, key: str) -> None:
        with self.db.write() as session:
            volume = load(session, Volume, volume_id, ctx, "Volume")
            authorize(ctx, "volume:update_volume_metadata", volume.project_id)
            if key not in volume.metadata_:
                raise NotFound(f"Volume {volume.id} has no metadata with key {key}.")
            volume.metadata_ = {k: v for k, v in volume.metadata_.items() if k != key}

    def retype(self, ctx: Context, volume_id: str, new_type: str, migration_policy: str | None = None) -> None:
        """Give the volume another type.  A type of the same backend is taken in place, whatever the policy
        (Cinder's driver-side retype: the data never move); a type of another backend needs
        ``migration_policy: on-demand`` and moves the volume there (``migrations``: the volume ``retyping``
        until its data are on the new backend, which then takes the type)."""
        with self.db.write() as session:
            volume = load(session, Volume, volume_id, ctx, "Volume", lock=True)
            authorize(ctx, "volume:retype", volume.project_id)
            if volume.status not in ("available", "in-use") or volume.task is not None:
                raise BadRequest(f"Invalid volume: Volume {volume.id} status must be available or in-use to "
                                 f"retype, but the current status is {volume.status}.")
            target = types.find(session, ctx, new_type)
            if target.id == volume.type_id:
                raise BadRequest("Invalid input received: Retype requires a different volume type.")
            multiattach = is_multiattach(target.extra_specs)
            if volume.status == "in-use" and multiattach != volume.multiattach:
                raise BadRequest("Invalid input received: an in-use volume cannot change between multiattach and "
                                 "single attach types.")
            backend = self.stores.backend_for(target.extra_specs)
            moving = backend != (volume.backend or FILE)
            if moving and migration_policy != "on-demand":
                raise BadRequest(f"Invalid volume: type {target.name} lives on backend {backend}, the volume on "
                                 f"{volume.backend or FILE}: a retype with migration_policy never does not move it.")
            if (target.encryption is None) != (volume.encryption_key_id is None):
                raise BadRequest(f"Invalid input received: type {target.name} is {'not ' if target.encryption is None else ''}"
                                 f"encrypted and the volume is {'' if volume.encryption_key_id else 'not '}: "
                                 f"encrypting or decrypting the data in a retype is not provided.")
            if moving:
                if backend not in self.stores.names():
                    raise BadRequest(f"Invalid volume: No valid backend was found: no volume backend is named "
                                     f"{backend!r}.")
                migrations.check_movable(session, self.stores, volume, backend)
            quotas.check_retype(session, volume.project_id, target.name, volume.size)
            if moving:
                migrations.start(volume, backend, target, status="retyping")
                return
            volume.type_id, volume.volume_type, volume.multiattach = target.id, target, multiattach

    # -- image metadata and images ----------------------------------------------------------------------
    def image_metadata(self, ctx: Context, volume_id: str) -> dict[str, str]:
        with self.db.read() as session:
            volume = load(session, Volume, volume_id, ctx, "Volume")
            authorize(ctx, "volume_extension:volume_image_metadata:show", volume.project_id)
            return dict(volume.image_metadata)

    def set_image_metadata(self, ctx: Context, volume_id: str, values: dict[str, str]) -> dict[str, str]:
        with self.db.write() as session:
            volume = load(session, Volume, volume_id, ctx, "Volume")
            authorize(ctx, "volume_extension:volume_image_metadata:set", volume.project_id)
            _no_change_while_busy(volume)
            volume.image_metadata = {**volume.image_metadata, **values}
            return dict(volume.image_metadata)

    def unset_image_metadata(self, ctx: Context, volume_id: str, key: str) -> None:
        with self.db.write() as session:
            volume = load(session, Volume, volume_id, ctx, "Volume")
            authorize(ctx, "volume_extension:volume_image_metadata:remove", volume.project_id)
            _no_change_while_busy(volume)
            if key not in volume.image_metadata:
                raise NotFound(f"Glance metadata for volume {volume.id} with key {key} could not be found.")
            volume.image_metadata = {k: v for k, v in volume.image_metadata.items() if k != key}

    def upload_to_image(self, ctx: Context, volume_id: str, asked: dict) -> tuple[Volume, dict]:
        """Make an image of the volume's data: the image record now (queued), its data by the reconciler
        while the volume is ``uploading``; (the volume, the image record)."""
        with self.db.read() as session:
            volume = load(session, Volume, volume_id, ctx, "Volume")
            authorize(ctx, "volume_extension:volume_actions:upload_image", volume.project_id)
            _uploadable(volume, asked["force"])
            record = images.upload_record(asked["image_name"], volume.size, volume.image_metadata,
                                          asked["disk_format"], asked["container_format"], asked.get("visibility"),
                                          asked.get("protected"))
        if asked.get("visibility") == "public":
            authorize(ctx, "volume_extension:volume_actions:upload_public", volume.project_id)
        try:
            image = self.image_api.create(ctx.token, record)
        except PeerError as exc:
            raise images.peer_error(exc, "image") from exc
        try:
            with self.db.write() as session:
                volume = load(session, Volume, volume_id, ctx, "Volume", lock=True)
                _uploadable(volume, asked["force"])
                volume.previous_status, volume.status, volume.task = volume.status, "uploading", "upload"
                volume.task_args = {"image_id": image["id"], "disk_format": asked["disk_format"]}
                volume.task_token = ctx.token
                return volume, image
        except BadRequest:
            self.image_api.delete(ctx.token, image["id"])  # the volume changed meanwhile: nothing to fill
            raise

    # -- record-only actions ---------------------------------------------------------------------------
    def reset_status(self, ctx: Context, volume_id: str, status: str | None, attach_status: str | None) -> None:
        with self.db.write() as session:
            volume = load(session, Volume, volume_id, ctx, "Volume")
            authorize(ctx, "volume_extension:volume_admin_actions:reset_status", volume.project_id)
            if status is not None:
                volume.status = status
            if attach_status == "detached":
                volume.attachments.clear()

    def set_bootable(self, ctx: Context, volume_id: str, bootable: bool) -> None:
        with self.db.write() as session:
            volume = load(session, Volume, volume_id, ctx, "Volume")
            authorize(ctx, "volume_extension:volume_actions:set_bootable", volume.project_id)
            volume.bootable = bootable

    def set_readonly(self, ctx: Context, volume_id: str, readonly: bool) -> None:
        with self.db.write() as session:
            volume = load(session, Volume, volume_id, ctx, "Volume")
            authorize(ctx, "volume:update_readonly_flag", volume.project_id)
            _no_change_while_busy(volume)
            volume.readonly = readonly
            volume.admin_metadata = {**(volume.admin_metadata or {}), "readonly": str(readonly)}


def _uploadable(volume: Volume, force: bool) -> None:
    if volume.encryption_key_id is not None:
        raise BadRequest(f"Invalid volume: Volume {volume.id} is encrypted; uploading an encrypted volume to an "
                         f"image is not provided.")
    allowed = ("available", "in-use") if force else ("available",)
    if volume.status not in allowed or volume.task is not None:
        raise BadRequest(f"Invalid volume: Volume {volume.id} status must be {' or '.join(allowed)} to upload "
                         f"to an image{'' if force else ' (or in-use with force)'}, but the current status is "
                         f"{volume.status}.")


def _no_change_while_busy(volume: Volume) -> None:
    if volume.status in ("maintenance", "uploading"):
        raise BadRequest(f"Invalid volume: The volume metadata cannot be updated when the volume is in "
                         f"{volume.status} status.")
