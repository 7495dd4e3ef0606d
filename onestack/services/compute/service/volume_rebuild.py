"""A volume-backed server's rebuild (2.93): its root volume re-imaged with the new image through the block
storage service's ``os-reimage``, in Nova's order.  Once the guest is destroyed (``rebuilding``), in the task
``rebuild_block_device_mapping``:

1. a new attachment of the root volume for the server, with no connector, so the volume stays ``reserved``
   when the old attachment goes (both ids written with the task before the old one is let go);
2. ``reimage_volume(..., reimage_reserved=True)`` as the caller (the image is read with the token the task keeps
   until then): the volume is ``downloading``, then ``reserved`` again with the new image's data;
3. the attachment connected for the host and completed (``in-use``); the guest then spawns from the volume
   (``rebuild_spawning``).

Each phase is written in the task's arguments before the next one starts and every step is safe to repeat,
so a restart resumes where the process died: the server never stays in REBUILD and the volume never stays
``reserved`` or ``downloading`` (the block storage service resumes its own re-image).  A re-image that is
refused or fails reconnects the volume (``in-use`` again, with the data it has) and the server goes to ERROR
with the reason, as Nova's failed rebuild does.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.db.engine import Database
from onestack.drivers.compute import DriverError
from onestack.http.errors import APIError, NotFound
from onestack.services.compute.models import BlockDevice, Instance
from onestack.services.compute.service.networking import service_context

IMAGE, TOKEN, PHASE, OLD_ATTACHMENT = "reimage_image", "reimage_token", "reimage_phase", "reimage_old_attachment"
KEYS = (IMAGE, TOKEN, PHASE, OLD_ATTACHMENT)
# How soon to look again at a volume being re-imaged.
RECHECK_SECONDS = 0.5
# compute's side of the root volume's attachment while it is re-imaged (the start-up cleanup leaves it be)
REIMAGING = "reimaging"


def task_args(image_id: str, token: str) -> dict:
    return {IMAGE: image_id, TOKEN: token}


def wanted(instance: Instance) -> bool:
    """The rebuild re-images the server's root volume."""
    return IMAGE in (instance.task_args or {})


def root_of(session: Session, instance_id: str) -> BlockDevice | None:
    return session.scalars(select(BlockDevice).where(BlockDevice.instance_uuid == instance_id,
                                                     BlockDevice.boot_index == 0,
                                                     BlockDevice.volume_id.is_not(None))).first()


class RootVolumeRebuild:
    def __init__(self, db: Database, attachments):
        """``attachments``: compute's ``VolumeAttachments`` (the block storage service and the connect step)."""
        self.db = db
        self.attachments = attachments

    @property
    def volumes(self):
        return self.attachments.volumes

    def step(self, instance: Instance) -> float | None:
        """One phase; seconds to look again while the volume is re-imaged, None once connected (the caller
        then moves the task on).  ``DriverError`` ends the rebuild in ERROR."""
        if self.volumes is None:
            raise DriverError("Block Storage is not available to re-image the root volume.")
        with self.db.read() as session:
            row = root_of(session, instance.id)
        if row is None:
            raise DriverError(f"Instance {instance.id} has no root volume to re-image.")
        ctx = service_context(instance)
        args = dict(instance.task_args or {})
        phase = args.get(PHASE)
        try:
            if phase is None:
                new_id = self.volumes.attachment_create(ctx, row.volume_id, instance.id)
                self._save(instance, row.id, {PHASE: "reserving", OLD_ATTACHMENT: row.attachment_id},
                           attachment_id=new_id, status=REIMAGING)
                return 0.0
            if phase == "reserving":
                self._let_go(ctx, args.get(OLD_ATTACHMENT))
                self._save(instance, row.id, {PHASE: "reserved", OLD_ATTACHMENT: None})
                return 0.0
            if phase == "reserved":
                if self.volumes.volume(ctx, row.volume_id).status != "downloading":  # not asked yet
                    asking = dataclasses.replace(ctx, token=args.get(TOKEN) or "")
                    self.volumes.reimage_volume(asking, row.volume_id, args[IMAGE], reimage_reserved=True)
                self._save(instance, row.id, {PHASE: "sent", TOKEN: None})
                return RECHECK_SECONDS
        except APIError as exc:
            self._reconnect(ctx, instance, row)
            raise DriverError(f"The root volume {row.volume_id} could not be re-imaged: {exc.message}") from None
        volume = self.volumes.volume(ctx, row.volume_id)
        if volume.status == "downloading":
            return RECHECK_SECONDS
        if volume.status != "reserved":
            raise DriverError(f"The root volume {row.volume_id} could not be re-imaged: it is {volume.status}.")
        self.attachments.connect(ctx, instance, row, plug=False)
        return None

    def _reconnect(self, ctx, instance: Instance, row: BlockDevice) -> None:
        """A refused re-image: the volume given back to the server as it was (``in-use``), not left reserved."""
        with self.db.read() as session:
            row = session.get(BlockDevice, row.id)
        try:
            if row.status == REIMAGING:
                self.attachments.connect(ctx, instance, row, plug=False)
        except APIError:
            pass  # the volume itself is in error: the server's fault says why

    def _let_go(self, ctx, attachment_id: str | None) -> None:
        if attachment_id is None:
            return
        try:
            self.volumes.attachment_delete(ctx, attachment_id)
        except NotFound:
            pass  # let go before the process died

    def _save(self, instance: Instance, row_id: str, changes: dict, **row_changes) -> None:
        """The phase reached, with the row's new attachment, in one transaction (the in-memory instance too)."""
        with self.db.write() as session:
            found = session.get(Instance, instance.id)
            args = {**(found.task_args or {}), **changes}
            found.task_args = {k: v for k, v in args.items() if v is not None}
            row = session.get(BlockDevice, row_id)
            for key, value in row_changes.items():
                setattr(row, key, value)
        instance.task_args = {k: v for k, v in {**(instance.task_args or {}), **changes}.items() if v is not None}


def finished(args: dict | None) -> dict:
    """The task's arguments without the re-image's."""
    return {k: v for k, v in (args or {}).items() if k not in KEYS}
