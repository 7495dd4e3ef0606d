"""``VolumeService``: Block Storage's domain rules, the only layer that opens transactions.

It is what the runtime builds (``runtime.volume``) and what other services receive as a
``public.BlockStorage``: volumes, snapshots, backups, transfers, types and QoS specs, quotas, attachments
and user messages are its parts.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from onestack.config import Settings
from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import APIError, BadRequest
from onestack.services.compute.public import GuestVolumes
from onestack.services.volume.models import DefaultType, Snapshot, Volume, VolumeType, VolumeTypeAccess
from onestack.services.volume.policies import authorize
from onestack.services.volume.public import AttachmentRef, Connection, SnapshotInfo, VolumeInfo, VolumeRef
from onestack.services.volume.service import quotas, types
from onestack.services.volume.service.access import load, scoped
from onestack.services.volume.service.attachments import Attachments
from onestack.services.volume.service.backend import Backend
from onestack.services.volume.service.backups import Backups, BackupStores
from onestack.services.volume.service.catalog import Catalog
from onestack.services.volume.service.encryption import Encryption
from onestack.services.volume.service.groups import Groups, GroupSnapshots
from onestack.services.volume.service.grouptypes import GroupTypes
from onestack.services.volume.service.imageapi import ImageAPI
from onestack.services.volume.service.messages import Messages
from onestack.services.volume.service.migrations import Migrations
from onestack.services.volume.service.qos import Qos, front_end_limits
from onestack.services.volume.service.reimage import Reimages
from onestack.services.volume.service.revert import Reverts
from onestack.services.volume.service.snapshots import Snapshots
from onestack.services.volume.service.stores import VolumeStores
from onestack.services.volume.service.transfers import Transfers
from onestack.services.volume.service.volumes import Volumes

LOG = logging.getLogger("onestack.volume")


class VolumeService:
    def __init__(self, db: Database, settings: Settings):
        self.db = db
        # The file backend, and the RBD one when a Ceph cluster is configured.
        self.stores = VolumeStores(settings)
        self.files = self.stores.files
        # Other services' APIs, reached over HTTP with the caller's token at the catalog's endpoints.
        self.catalog = Catalog(f"{settings.base_url}/identity", settings.region)
        self.image_api = ImageAPI(self.catalog)
        self.volumes = Volumes(db, self.image_api, self.stores)
        self.backup_stores = BackupStores(settings.data_dir / "backups")
        self.backups = Backups(db, settings.volume, self.catalog, self.stores.keys)
        self.transfers = Transfers(db)
        self.encryption = Encryption(db)
        self.group_types = GroupTypes(db)
        self.groups = Groups(db, self.volumes)
        self.group_snapshots = GroupSnapshots(db)
        # compute, once the runtime has built it: told when a QoS change moves an attached volume's limits
        self.guests: GuestVolumes | None = None
        self.qos = Qos(db, self._limits_changed)
        self.backend = Backend(db, self.stores, settings.volume)
        self.messages = Messages(db)
        self.snapshots = Snapshots(db)
        self.reverts = Reverts(db)
        self.reimages = Reimages(db, self.image_api)
        self.attachments = Attachments(db, self.stores)
        self.migrations = Migrations(db, self.stores)

    def _limits_changed(self, type_ids: set[str]) -> None:
        """Each attached volume of these types gets its type's front-end limits now, in the guests that have
        it (a guest that cannot is logged: it gets them at its next start or attach)."""
        if self.guests is None or not type_ids:
            return
        with self.db.read() as session:
            attached = list(session.scalars(select(Volume).where(Volume.type_id.in_(type_ids),
                                                                 Volume.status.in_(("in-use", "detaching")))))
            limits = {v.id: front_end_limits(session, v.volume_type, v.size) for v in attached}
        for volume_id, qos_specs in limits.items():
            try:
                self.guests.volume_limits_changed(volume_id, qos_specs)
            except APIError as error:
                LOG.warning("volume %s: its new QoS limits did not reach its guest: %s", volume_id, error)

    # -- types -----------------------------------------------------------------------------------------
    def show_type(self, ctx: Context, ref: str) -> VolumeType:
        authorize(ctx, "volume_extension:type_get")
        with self.db.read() as session:
            return types.find(session, ctx, ref)

    def list_types(self, ctx: Context, is_public: str | None) -> list[VolumeType]:
        authorize(ctx, "volume_extension:type_get")
        with self.db.read() as session:
            return types.listing(session, ctx, is_public)

    def create_type(self, ctx: Context, name: str, description: str | None, is_public: bool,
                    extra_specs: dict[str, str]) -> VolumeType:
        with self.db.write() as session:
            return types.create(session, ctx, name, description, is_public, extra_specs)

    def update_type(self, ctx: Context, ref: str, changes: dict) -> VolumeType:
        with self.db.write() as session:
            return types.update(session, ctx, ref, changes)

    def delete_type(self, ctx: Context, ref: str) -> None:
        with self.db.write() as session:
            types.delete(session, ctx, ref)

    def set_extra_specs(self, ctx: Context, ref: str, specs: dict[str, str]) -> dict[str, str]:
        with self.db.write() as session:
            return types.set_specs(session, ctx, ref, specs)

    def unset_extra_spec(self, ctx: Context, ref: str, key: str) -> None:
        with self.db.write() as session:
            types.unset_spec(session, ctx, ref, key)

    def type_access(self, ctx: Context, ref: str) -> list[VolumeTypeAccess]:
        with self.db.read() as session:
            return types.access(session, ctx, ref)

    def change_type_access(self, ctx: Context, ref: str, project_id: str, add: bool) -> None:
        with self.db.write() as session:
            types.change_access(session, ctx, ref, project_id, add)

    def project_default(self, ctx: Context, project_id: str) -> DefaultType:
        with self.db.read() as session:
            return types.project_default(session, ctx, project_id)

    def project_defaults(self, ctx: Context) -> list[DefaultType]:
        with self.db.read() as session:
            return types.project_defaults(session, ctx)

    def set_project_default(self, ctx: Context, project_id: str, ref: str) -> DefaultType:
        with self.db.write() as session:
            return types.set_project_default(session, ctx, project_id, ref)

    def unset_project_default(self, ctx: Context, project_id: str) -> None:
        with self.db.write() as session:
            types.unset_project_default(session, ctx, project_id)

    # -- quotas ----------------------------------------------------------------------------------------
    def quota_limits(self, ctx: Context, project_id: str, usage: bool = False) -> dict:
        """The project's limits, or with ``usage`` each as {limit, in_use, reserved, allocated}."""
        authorize(ctx, "volume_extension:quotas:show", project_id)
        with self.db.read() as session:
            limits = quotas.limits(session, project_id)
            if not usage:
                return limits
            used = quotas.usage(session, project_id)
        return {name: {"limit": limit, "in_use": used.get(name, 0), "reserved": 0, "allocated": 0}
                for name, limit in limits.items()}

    def quota_defaults(self, ctx: Context, project_id: str) -> dict[str, int]:
        authorize(ctx, "volume_extension:quotas:show", project_id)
        with self.db.read() as session:
            return quotas.class_limits(session)

    def update_quotas(self, ctx: Context, project_id: str, values: dict) -> dict[str, int]:
        authorize(ctx, "volume_extension:quotas:update", project_id)
        with self.db.write() as session:
            quotas.update(session, project_id, values)
            session.flush()
            return quotas.limits(session, project_id)

    def reset_quotas(self, ctx: Context, project_id: str) -> None:
        authorize(ctx, "volume_extension:quotas:delete", project_id)
        with self.db.write() as session:
            quotas.reset(session, project_id)

    def quota_class(self, ctx: Context, class_name: str, values: dict | None = None) -> dict[str, int]:
        authorize(ctx, "volume_extension:quota_classes")
        with self.db.write() as session:
            if values:
                quotas.update_class(session, class_name, values)
                session.flush()
            return quotas.class_limits(session, class_name)

    def absolute_limits(self, ctx: Context, project_id: str | None = None) -> tuple[dict, dict]:
        """(limits, in use) of the caller's project, or of ``project_id`` for an admin."""
        authorize(ctx, "limits_extension:used_limits")
        if project_id not in (None, ctx.project_id):
            authorize(ctx, "volume_extension:quotas:update", project_id)
        with self.db.read() as session:
            target = project_id or ctx.project_id
            return quotas.limits(session, target), quotas.usage(session, target)

    # -- what other services use (public.BlockStorage) -------------------------------------------------
    def volume(self, ctx: Context, volume_id: str) -> VolumeRef:
        with self.db.read() as session:
            row = load(session, Volume, volume_id, ctx, "Volume")
            authorize(ctx, "volume:get", row.project_id)
            return VolumeRef(row.id, row.project_id, row.size, row.status, row.bootable, row.multiattach,
                             row.readonly, tuple((a.instance_uuid, a.attach_status, a.attach_mode)
                                                 for a in row.attachments),
                             (row.image_metadata or {}).get("image_id"))

    def attachment_create(self, ctx: Context, volume_id: str, instance_uuid: str, connector: dict | None = None,
                          mode: str = "rw") -> str:
        return self.attachments.create(ctx, volume_id, instance_uuid, connector, mode)[0].id

    def attachment_update(self, ctx: Context, attachment_id: str, connector: dict,
                          mountpoint: str | None = None) -> Connection:
        if not isinstance(connector, dict):
            raise BadRequest("Invalid input received: connector must be an object.")
        return self.attachments.update(ctx, attachment_id, connector, mountpoint)[1]

    def attachment_complete(self, ctx: Context, attachment_id: str) -> None:
        self.attachments.complete(ctx, attachment_id)

    def attachment_delete(self, ctx: Context, attachment_id: str) -> None:
        self.attachments.delete(ctx, attachment_id)

    def volume_secret(self, ctx: Context, volume_id: str) -> str:
        with self.db.read() as session:
            row = load(session, Volume, volume_id, ctx, "Volume")
            authorize(ctx, "volume:get", row.project_id)
            if row.encryption_key_id is None:
                raise BadRequest(f"Invalid volume: Volume {volume_id} is not encrypted.")
            try:
                return self.stores.keys.secret_of(session, row.encryption_key_id).decode()
            except KeyError:
                raise BadRequest(f"Invalid volume: the encryption key of volume {volume_id} is missing.") from None

    def attachments_of(self, ctx: Context, instance_uuid: str) -> list[AttachmentRef]:
        found, _ = self.attachments.listing(ctx, {"instance_uuid": instance_uuid, "all_tenants": "1"})
        return [AttachmentRef(a.id, a.volume_id, a.attach_status) for a in found]

    def begin_detaching(self, ctx: Context, volume_id: str) -> None:
        self.attachments.begin_detaching(ctx, volume_id)

    def roll_detaching(self, ctx: Context, volume_id: str) -> None:
        self.attachments.roll_detaching(ctx, volume_id)

    def reimage_volume(self, ctx: Context, volume_id: str, image_id: str, reimage_reserved: bool = False) -> None:
        self.reimages.reimage(ctx, volume_id, image_id, reimage_reserved)

    def migrate_volume_completion(self, ctx: Context, volume_id: str, new_volume_id: str, error: bool) -> str:
        return self.attachments.migrate_completion(ctx, volume_id, new_volume_id, error, checked=False)

    def update_snapshot_status(self, ctx: Context, snapshot_id: str, status: str) -> None:
        self.snapshots.update_status(ctx, snapshot_id, status, None)

    def create_volume(self, ctx: Context, size: int | None, *, name: str | None = None, image_id: str | None = None,
                      snapshot_id: str | None = None, source_volid: str | None = None,
                      volume_type: str | None = None, availability_zone: str | None = None,
                      description: str | None = None, metadata: dict | None = None) -> VolumeRef:
        asked = {"size": size, "name": name, "imageRef": image_id, "snapshot_id": snapshot_id,
                 "source_volid": source_volid, "volume_type": volume_type, "availability_zone": availability_zone,
                 "description": description, "metadata": metadata}
        row = self.volumes.create(ctx, {key: value for key, value in asked.items() if value is not None})
        return VolumeRef(row.id, row.project_id, row.size, row.status, row.bootable, row.multiattach, row.readonly)

    def delete_volume(self, ctx: Context, volume_id: str) -> None:
        self.volumes.delete(ctx, volume_id)

    def volume_info(self, ctx: Context, volume_id: str) -> VolumeInfo:
        return _volume_info(self.volumes.show(ctx, volume_id))

    def volume_infos(self, ctx: Context) -> list[VolumeInfo]:
        authorize(ctx, "volume:get_all")
        with self.db.read() as session:
            rows = session.scalars(scoped(select(Volume), Volume, ctx).order_by(Volume.created_at.desc())).unique()
            return [_volume_info(row) for row in rows]

    def snapshot_info(self, ctx: Context, snapshot_id: str) -> SnapshotInfo:
        return _snapshot_info(self.snapshots.show(ctx, snapshot_id))

    def snapshot_infos(self, ctx: Context) -> list[SnapshotInfo]:
        authorize(ctx, "volume:get_all_snapshots")
        with self.db.read() as session:
            stmt = scoped(select(Snapshot), Snapshot, ctx).where(Snapshot.hidden.is_(False))
            return [_snapshot_info(row) for row in session.scalars(stmt.order_by(Snapshot.created_at.desc()))]

    def create_snapshot(self, ctx: Context, volume_id: str, *, name: str | None = None,
                        description: str | None = None, force: bool = False) -> SnapshotInfo:
        asked = {"volume_id": volume_id, "name": name, "description": description, "force": force}
        return _snapshot_info(self.snapshots.create(ctx, asked, None))

    def delete_snapshot(self, ctx: Context, snapshot_id: str) -> None:
        self.snapshots.delete(ctx, snapshot_id)


def _volume_info(row: Volume) -> VolumeInfo:
    attached = tuple((a.instance_uuid, a.mountpoint) for a in row.attachments
                     if a.attach_status == "attached" and a.instance_uuid)
    return VolumeInfo(row.id, row.name, row.description, row.size, row.status, row.availability_zone,
                      row.created_at, row.volume_type.name, row.snapshot_id,
                      {**row.metadata_, **(row.admin_metadata or {})}, attached)


def _snapshot_info(row: Snapshot) -> SnapshotInfo:
    return SnapshotInfo(row.id, row.volume_id, row.name, row.description, row.size, row.status, row.created_at)
