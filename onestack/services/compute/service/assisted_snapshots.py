"""Nova's assisted volume snapshots: Cinder's file-based (remotefs) volume drivers ask compute to snapshot
a volume file in use by a running guest, and compute tells Cinder how it went through
``os-update_snapshot_status``.  onestack's block storage snapshots its volumes itself (qcow2 files through the
host link, RBD snapshots), so no backend here ever asks; a request is checked as Nova checks it (the volume
attached to exactly one server, on a host, with no task under way) and then declined as Nova's libvirt
driver declines a volume it cannot snapshot: the snapshot it names, if Block Storage has one waiting on
compute, is reported ``error`` (``error_deleting`` for a delete)."""

from __future__ import annotations

import dataclasses
import logging

from sqlalchemy import select

from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import BadRequest, Forbidden, NotFound
from onestack.services.compute.models import BlockDevice, Instance
from onestack.services.compute.policies import authorize
from onestack.services.volume.public import BlockStorage

LOG = logging.getLogger("onestack.compute.assisted_snapshots")


@dataclasses.dataclass(eq=False)
class AssistedSnapshots:
    db: Database
    volumes: BlockStorage | None

    def create(self, ctx: Context, volume_id: str, create_info: dict) -> dict:
        authorize(ctx, "os_compute_api:os-assisted-volume-snapshots:create")
        self._server_of(volume_id)
        self._decline(ctx, create_info["snapshot_id"], "error")
        return {"id": create_info.get("id"), "volumeId": volume_id}  # Nova answers the optional id it was given

    def delete(self, ctx: Context, snapshot_id: str, delete_info: dict) -> None:
        authorize(ctx, "os_compute_api:os-assisted-volume-snapshots:delete")
        volume_id = delete_info.get("volume_id") if isinstance(delete_info, dict) else None
        if not isinstance(volume_id, str) or not volume_id:
            raise BadRequest("delete_info must name the volume_id")
        self._server_of(volume_id)
        self._decline(ctx, snapshot_id, "error_deleting")

    def _server_of(self, volume_id: str) -> Instance:
        """The one server the volume is attached to, as Nova finds its block device mapping (400s as Nova's)."""
        with self.db.read() as session:
            servers = list(session.scalars(
                select(Instance).join(BlockDevice, BlockDevice.instance_uuid == Instance.id)
                .where(BlockDevice.volume_id == volume_id, Instance.deleted.is_(False))))
        if not servers:
            raise BadRequest(f"No volume Block Device Mapping with id {volume_id}.")
        if len(servers) > 1:
            raise BadRequest(f"Block Device Mapping {volume_id} is a multi-attach volume and is not valid for this "
                             "operation.")
        server = servers[0]
        if server.host is None:
            raise BadRequest(f"Instance {server.id} is not ready")
        if server.task_state is not None:
            raise BadRequest(f"Instance {server.id} in task_state {server.task_state}. Cannot "
                             "volume_snapshot_create while the instance is in this state.")
        return server

    def _decline(self, ctx: Context, snapshot_id: str, status: str) -> None:
        LOG.info("assisted snapshot %s declined: this cloud's volume backends make their own snapshots", snapshot_id)
        if self.volumes is None:
            return
        try:
            self.volumes.update_snapshot_status(ctx, snapshot_id, status)
        except (NotFound, BadRequest, Forbidden):  # none this caller may report on waits on compute
            pass
