"""Nova's ``os-volumes`` and ``os-snapshots`` (to 2.35) over Block Storage, always as the caller, so Cinder's
ownership and status rules are the ones applied (the views are ``views.proxied_volume`` and
``views.proxied_snapshot``)."""

from __future__ import annotations

from onestack.http.context import Context
from onestack.http.errors import NotFound
from onestack.services.volume.public import BlockStorage, SnapshotInfo, VolumeInfo


class VolumeProxy:
    def __init__(self, volumes: BlockStorage | None):
        self._volumes = volumes

    @property
    def volumes(self) -> BlockStorage:
        if self._volumes is None:
            raise NotFound("The block storage service is not available in this cloud.")
        return self._volumes

    def list(self, ctx: Context) -> list[VolumeInfo]:
        return self.volumes.volume_infos(ctx)

    def get(self, ctx: Context, volume_id: str) -> VolumeInfo:
        return self.volumes.volume_info(ctx, volume_id)

    def create(self, ctx: Context, asked: dict) -> VolumeInfo:
        if asked.get("snapshot_id") is not None:
            self.volumes.snapshot_info(ctx, asked["snapshot_id"])  # Nova's 404 for a snapshot it can't see
        made = self.volumes.create_volume(
            ctx, int(asked["size"]), name=asked.get("display_name"), snapshot_id=asked.get("snapshot_id"),
            volume_type=asked.get("volume_type"), availability_zone=asked.get("availability_zone"),
            description=asked.get("display_description"), metadata=asked.get("metadata"))
        return self.volumes.volume_info(ctx, made.id)

    def delete(self, ctx: Context, volume_id: str) -> None:
        self.volumes.delete_volume(ctx, volume_id)

    def snapshots(self, ctx: Context) -> list[SnapshotInfo]:
        return self.volumes.snapshot_infos(ctx)

    def snapshot(self, ctx: Context, snapshot_id: str) -> SnapshotInfo:
        return self.volumes.snapshot_info(ctx, snapshot_id)

    def create_snapshot(self, ctx: Context, asked: dict, force: bool) -> SnapshotInfo:
        return self.volumes.create_snapshot(ctx, asked["volume_id"], name=asked.get("display_name"),
                                            description=asked.get("display_description"), force=force)

    def delete_snapshot(self, ctx: Context, snapshot_id: str) -> None:
        self.volumes.delete_snapshot(ctx, snapshot_id)
