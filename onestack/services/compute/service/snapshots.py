"""Snapshots: a server's root disk saved as an image in the image service (createImage, createBackup, shelve).

The API creates the image record at once (queued, owned by the server's project, with Nova's snapshot
properties) and hands the instance to the reconciler, which has the driver write the disk and stores it
as the image's data (``reconcile/snapshots.py``).  A snapshot that fails, or whose image was deleted
meanwhile, ends the task and leaves the server as it was, as in Nova.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.db.engine import Database
from onestack.drivers.compute import CONTAINER
from onestack.http.context import Context
from onestack.http.errors import APIError, BadRequest, Conflict, NotFound
from onestack.services.compute.models import BlockDevice, Instance
from onestack.services.compute.models import states as st
from onestack.services.compute.policies import authorize
from onestack.services.compute.service import guest_kinds
from onestack.services.compute.service.admission import Admission
from onestack.services.compute.service.devices import ROOT
from onestack.services.compute.service.networking import service_context
from onestack.services.compute.service.quotas import QuotaExceeded
from onestack.services.compute.service.servers import Servers
from onestack.services.image.public import ImageInfo, Images
from onestack.services.volume.public import BlockStorage

IMAGE_ID, DISK_FORMAT = "image_id", "disk_format"
# createBackup's task arguments: how many backups of its type to keep once this one is stored
ROTATION, BACKUP_TYPE = "rotation", "backup_type"
# vm_states a snapshot may be taken in (Nova's createImage)
SNAPSHOT_STATES = (st.ACTIVE, st.STOPPED, st.PAUSED, st.SUSPENDED)


@dataclasses.dataclass(eq=False)
class Snapshots:
    db: Database
    servers: Servers
    admission: Admission
    images: Images
    volumes: BlockStorage | None = None

    # -- createImage (and createBackup, shelve): the image first, then the task ---------------------------
    def request(self, ctx: Context, server_id: str, policy: str, action: str, task: str,
                vm_states: tuple[str, ...], name: str | Callable[[Instance], str], metadata: dict, request_id: str,
                task_args: dict | None = None) -> tuple[Instance, str]:
        """Check, create the queued image, then start ``task``; the image goes again if the task cannot start
        (the server changed in between)."""
        with self.db.read() as session:
            instance = self.servers.get(session, ctx, server_id)
            authorize(ctx, policy, instance)
            self._check(session, ctx, instance, action, metadata, vm_states)
        if not instance.image_ref:
            return instance, self._volume_backed(ctx, instance, name, metadata)
        image_id = self._create_image(ctx, instance, name(instance) if callable(name) else name, metadata)
        try:
            with self.db.write() as session:
                instance = self.servers.get(session, ctx, server_id)
                self.servers.start_task(session, ctx, instance, action, task, request_id, vm_states,
                                        task_args={**(task_args or {}), IMAGE_ID: image_id})
        except BaseException:
            self.images.purge(image_id)
            raise
        self.servers.wake(instance.id)
        return instance, image_id

    def _check(self, session: Session, ctx: Context, instance: Instance, action: str, metadata: dict,
               vm_states: tuple[str, ...]) -> None:
        """What Nova refuses before it creates the image: a locked server, a wrong state, too much metadata."""
        self.servers.check_lock(ctx, instance)
        st.require(instance, action, vm_states)
        guest_kinds.require_supported(instance, action)  # before the image is made
        if not instance.image_ref and action != "createImage":  # booted from a volume: no disk of the host's
            raise Conflict(f"Cannot '{action}' instance {instance.id}: only createImage snapshots a volume-backed "
                           "server.")
        limit = self.admission.quotas.limits(session, instance.project_id)["metadata_items"]
        if limit != -1 and len(metadata) > limit:
            raise QuotaExceeded(["metadata_items"], [len(metadata)], [0], [limit])

    def _volume_backed(self, ctx: Context, instance: Instance, name: str, metadata: dict) -> str:
        """Nova's snapshot of a volume-backed server: a snapshot of each of its volumes (forced: they are in
        use), and an image without data, active at once, whose ``block_device_mapping`` names them, so that
        a boot from the image boots from new volumes made from those snapshots."""
        with self.db.read() as session:
            devices = list(session.scalars(select(BlockDevice).where(
                BlockDevice.instance_uuid == instance.id, BlockDevice.volume_id.is_not(None)).order_by(
                BlockDevice.created_at)))
        mapping = []
        for device in devices:
            snapshot = self.volumes.create_snapshot(ctx, device.volume_id, name=f"snapshot for {name}", force=True)
            mapping.append({"source_type": "snapshot", "destination_type": "volume", "snapshot_id": snapshot.id,
                            "volume_id": None, "image_id": None, "volume_size": snapshot.size,
                            "boot_index": device.boot_index, "device_name": device.device_name,
                            "delete_on_termination": device.delete_on_termination, "tag": device.tag,
                            "volume_type": device.volume_type, "device_type": "disk", "disk_bus": None,
                            "guest_format": None, "no_device": None})
        image_id = self._create_image(ctx, instance, name, {
            **metadata, "block_device_mapping": json.dumps(mapping), "bdm_v2": "True", "root_device_name": ROOT})
        self.images.start_upload(ctx, image_id, "raw")
        self.images.store_data(image_id, [])
        return image_id

    def _create_image(self, ctx: Context, instance: Instance, name: str, metadata: dict) -> str:
        """The queued snapshot image, checked against the caller's image rights and quotas."""
        base: ImageInfo | None = None
        if instance.image_ref:
            try:
                base = self.images.image(service_context(instance), instance.image_ref)
            except NotFound:
                base = None
        body = {
            "name": name, "visibility": "private",
            "disk_format": (base.disk_format if base is not None else None) or "raw",
            "container_format": (base.container_format if base is not None else None) or "bare",
            "min_disk": max(instance.flavor.get("disk", 0), base.min_disk if base is not None else 0),
            "min_ram": base.min_ram if base is not None else 0,
            # properties Nova gives a snapshot; the base image's own properties are inherited first
            **{k: v for k, v in (base.properties if base is not None else {}).items()
               if not k.startswith("os_glance") and k not in ("image_location", "image_state", "owner_id")},
            "image_type": "snapshot", "instance_uuid": instance.id, "base_image_ref": instance.image_ref or "",
            "user_id": ctx.user_id, "owner_user_name": ctx.user_name or "",
            "owner_project_name": ctx.project_name or "",
            **{str(k): str(v) for k, v in metadata.items()},
        }
        if instance.guest_kind == CONTAINER and guest_kinds.of_image(base) != CONTAINER:
            # the base image is gone (or never said so): the snapshot must still boot a container
            body["hypervisor_type"] = guest_kinds.CONTAINER_HYPERVISOR
        # an admin's snapshot of another project's server belongs to that project
        owner = instance.project_id if instance.project_id != ctx.project_id else None
        try:
            return self.images.create(ctx, body, owner=owner).id
        except APIError as exc:
            if exc.status in (400,):
                raise BadRequest(exc.message) from None
            raise

    # -- after the upload, and when a server or its shelved image goes --------------------------------------
    def delete_image(self, image_id: str) -> None:
        self.images.purge(image_id)

    def rotate_backups(self, instance: Instance, backup_type: str, rotation: int) -> None:
        """Keep the ``rotation`` newest backups of the server of this type; delete the older ones (Nova's
        rotation, after each backup is stored)."""
        backups = [image for image in self.images.owned_by(instance.project_id)
                   if image.properties.get("image_type") == "backup"
                   and image.properties.get("instance_uuid") == instance.id
                   and image.properties.get(BACKUP_TYPE) == backup_type]
        backups.sort(key=lambda image: image.created_at, reverse=True)
        for image in backups[rotation:]:
            self.images.purge(image.id)
