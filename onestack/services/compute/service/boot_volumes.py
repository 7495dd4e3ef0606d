"""Volumes a server is built with (``block_device_mapping_v2`` with ``destination_type: volume``): an existing
volume, or one the block storage service makes from an image, a snapshot or nothing (blank); the one with
``boot_index`` 0 is the guest's root disk instead of a copy of an image.

As in Nova, the request is checked before the server is written; then, as the caller, existing volumes are
reserved and new ones asked for (a failure there is the server's fault, ``ERROR``); the reconciler waits for
new volumes to be ``available``, connects each for the host and gives them to the guest it spawns.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import TYPE_CHECKING

from sqlalchemy import select

from onestack.db.base import utcnow
from onestack.db.engine import Database
from onestack.drivers.compute import DriverError
from onestack.http.context import Context
from onestack.http.errors import APIError, BadRequest, NotFound
from onestack.services.compute.models import BlockDevice, Instance
from onestack.services.compute.models import states as st
from onestack.services.compute.service.admission import Admission
from onestack.services.compute.service.devices import ROOT, next_device
from onestack.services.compute.service.networking import service_context
from onestack.services.image.public import ImageInfo
from onestack.services.volume.public import BlockStorage

if TYPE_CHECKING:
    from onestack.services.compute.service.volume_attachments import VolumeAttachments

# A volume still being made; the reconciler looks again after this many seconds.
RECHECK_SECONDS = 1.0
# How long a boot waits for its new volumes (Nova's block_device_allocate_retries × interval: 60 × 3 s).
WAIT_SECONDS = 180.0


@dataclasses.dataclass(frozen=True)
class Wanted:
    """One volume a boot asks for."""

    source_type: str  # volume, image, snapshot or blank
    source_id: str | None  # the volume, image or snapshot
    volume_size: int | None
    boot_index: int | None
    delete_on_termination: bool
    tag: str | None
    volume_type: str | None


def _int(value, what: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BadRequest(f"Invalid {what}: {value}") from None


def _flag(value) -> bool:
    return value is True or str(value).lower() in ("true", "1", "yes", "on")


class BootVolumes:
    def __init__(self, db: Database, admission: Admission, volumes: BlockStorage | None):
        self.db = db
        self.admission = admission
        self.volumes = volumes

    # -- at the API: what the request asks for --------------------------------------------------------
    def requested(self, ctx: Context, server: dict, flavor: dict, image_ref: str, count: int) -> tuple[
            str, list[Wanted], ImageInfo | None]:
        """The image the server boots from ("" when from a volume) and the volumes it is built with, checked as
        the caller; Nova's 400s for what cannot be.  Third: the image as read here (to look for a snapshot's
        volumes), which the caller need not read again; None when it was not read or not found."""
        wanted: list[Wanted] = []
        for entry in server.get("block_device_mapping_v2") or []:
            source = entry.get("source_type")
            boot_index = _int(entry.get("boot_index"), "boot_index")
            boot_index = None if boot_index is not None and boot_index < 0 else boot_index
            destination = entry.get("destination_type") or ("local" if source == "image" else "volume")
            ident = entry.get("uuid")
            if destination == "local":
                if source == "image" and boot_index == 0 and ident and image_ref in ("", ident):
                    image_ref = ident  # the image copied to a local root disk: an ordinary boot
                    continue
                raise BadRequest("Block Device Mapping is Invalid: only the image as the root disk may have a local "
                                 "destination here (ephemeral and swap disks come from the flavor).")
            if source not in ("volume", "image", "snapshot", "blank"):
                raise BadRequest(f"Block Device Mapping is Invalid: unknown source_type {source!r}.")
            if (source == "blank") == bool(ident):
                raise BadRequest("Block Device Mapping is Invalid: a blank volume has no uuid; any other source "
                                 "needs one.")
            size = _int(entry.get("volume_size"), "volume_size")
            if source in ("image", "blank") and not size:
                raise BadRequest(f"Block Device Mapping is Invalid: a volume from source {source} needs a non-zero "
                                 "volume_size.")
            wanted.append(Wanted(source, ident, size, boot_index, _flag(entry.get("delete_on_termination")),
                                 entry.get("tag"), entry.get("volume_type")))
        seen = None
        if image_ref and not any(w.boot_index == 0 for w in wanted):
            # a snapshot of a volume-backed server: the image names the volume snapshots to boot from
            seen, from_image = self._image_mapping(ctx, image_ref)
            if from_image:
                wanted, image_ref = from_image + wanted, ""
        boots = [w for w in wanted if w.boot_index == 0]
        if len(boots) > 1:
            raise BadRequest("Boot sequence for the instance and image/block device mapping combination is not "
                             "valid.")
        if boots and image_ref and boots[0].source_id != image_ref:
            # Nova boots from the volume at boot index 0 and keeps the imageRef only as what the server shows;
            # here a server with a boot volume has no image of its own, so the image is only checked
            self.admission.check_image(ctx, image_ref, {**flavor, "disk": 0})
        if boots:
            image_ref = ""  # the image goes into the volume; the server shows no image, as Nova's
        if not image_ref and not boots:
            raise BadRequest("Missing imageRef attribute")
        if wanted and self.volumes is None:
            raise BadRequest("Block Device Mapping is Invalid: there is no Block Storage service in this cloud.")
        if count > 1 and any(w.source_type == "volume" for w in wanted):
            raise BadRequest("Cannot attach one or more volumes to multiple instances")
        for want in wanted:
            self._check(ctx, want, flavor)
        return image_ref, wanted, seen if seen is not None and seen.id == image_ref else None

    def _image_mapping(self, ctx: Context, image_ref: str) -> tuple[ImageInfo | None, list[Wanted]]:
        """The image (None if this caller cannot see it) and the volumes its ``block_device_mapping`` property
        asks for (Nova's snapshot of a volume-backed server); none for an ordinary image, or one this caller
        cannot see (the boot's own check says so)."""
        try:
            image = self.admission.images.image(ctx, image_ref)
        except NotFound:
            return None, []
        raw = image.properties.get("block_device_mapping")
        if not raw or not _flag(image.properties.get("bdm_v2")):
            return image, []
        try:
            entries = json.loads(raw)
        except ValueError:
            raise BadRequest(f"Image {image_ref} has a block_device_mapping that is not JSON.") from None
        return image, [Wanted(entry["source_type"], entry.get("snapshot_id") or entry.get("volume_id"),
                       _int(entry.get("volume_size"), "volume_size"), _int(entry.get("boot_index"), "boot_index"),
                       _flag(entry.get("delete_on_termination")), entry.get("tag"), entry.get("volume_type"))
                for entry in entries if isinstance(entry, dict) and entry.get("source_type") in ("snapshot", "volume")
                and entry.get("destination_type", "volume") == "volume"]

    def _check(self, ctx: Context, want: Wanted, flavor: dict) -> None:
        if want.source_type == "image":
            self.admission.check_image(ctx, want.source_id, {**flavor, "disk": 0})
        elif want.source_type == "volume":
            try:
                volume = self.volumes.volume(ctx, want.source_id)
            except NotFound:
                raise BadRequest(f"Block Device Mapping is Invalid: failed to get volume {want.source_id}.") from None
            if volume.status != "available" and not volume.multiattach:
                raise BadRequest(f"Invalid volume: volume '{volume.id}' status must be 'available'. Currently in "
                                 f"'{volume.status}'")
            if want.boot_index == 0 and not volume.bootable:
                raise BadRequest(f"Block Device {volume.id} is not bootable.")

    def rows(self, instance_id: str, wanted: list[Wanted]) -> list[BlockDevice]:
        """The instance's rows for what it asked (its boot volume /dev/vda, the others after the flavor's
        disks), written in the creating transaction."""
        made: list[BlockDevice] = []
        for want in sorted(wanted, key=lambda w: w.boot_index != 0):
            made.append(BlockDevice(
                id=str(uuid.uuid4()), instance_uuid=instance_id,
                volume_id=want.source_id if want.source_type == "volume" else None,
                source_type=want.source_type, source_id=None if want.source_type == "volume" else want.source_id,
                volume_size=want.volume_size, boot_index=want.boot_index, tag=want.tag, status="pending",
                delete_on_termination=want.delete_on_termination, volume_type=want.volume_type, device_name=""))
        return made

    @staticmethod
    def name_devices(instance: Instance, rows: list[BlockDevice]) -> None:
        taken: list[str] = []
        for row in rows:
            row.device_name = ROOT if row.boot_index == 0 else next_device(instance, taken)
            taken.append(row.device_name)

    def provision(self, ctx: Context, instance_id: str) -> None:
        """Right after the server is written, as the caller: reserve the volumes it names, ask for the ones to
        be made.  What the block storage service refuses sends the server to ERROR with that fault, as a
        build Nova aborts."""
        with self.db.read() as session:
            rows = list(session.scalars(select(BlockDevice).where(BlockDevice.instance_uuid == instance_id,
                                                                  BlockDevice.status == "pending")))
        for row in rows:
            try:
                if row.source_type == "volume":
                    attachment_id = self.volumes.attachment_create(ctx, row.volume_id, instance_id)
                    self._update(row.id, attachment_id=attachment_id)
                else:
                    volume = self.volumes.create_volume(
                        ctx, row.volume_size, name=f"{instance_id}-blank-vol" if row.source_type == "blank" else None,
                        image_id=row.source_id if row.source_type == "image" else None,
                        snapshot_id=row.source_id if row.source_type == "snapshot" else None,
                        volume_type=row.volume_type)
                    self._update(row.id, volume_id=volume.id)
            except APIError as error:
                self._abort(instance_id, f"Build of instance {instance_id} aborted: {error.message}")
                return

    # -- in the reconciler: before the guest is spawned -------------------------------------------------
    def connect_for_boot(self, instance: Instance, attachments: VolumeAttachments) -> float | None:
        """Connect each new volume once it is ``available``; seconds to look again while one is still being
        made; ``DriverError`` (the build fails) when one ends in error or takes too long."""
        with self.db.read() as session:
            rows = list(session.scalars(select(BlockDevice).where(BlockDevice.instance_uuid == instance.id,
                                                                  BlockDevice.status == "pending")))
        if not rows:
            return None
        ctx = service_context(instance)
        for row in rows:
            if row.volume_id is None:
                raise DriverError(f"Build of instance {instance.id} aborted: its {row.source_type} volume was not "
                                  "made.")
            volume = self.volumes.volume(ctx, row.volume_id)
            if row.attachment_id is None:
                if volume.status in ("creating", "downloading"):
                    if (utcnow() - row.created_at).total_seconds() > WAIT_SECONDS:
                        raise DriverError(f"Volume {volume.id} did not finish being created even after we waited "
                                          f"{WAIT_SECONDS:.0f} seconds.")
                    return RECHECK_SECONDS
                if volume.status != "available":
                    raise DriverError(f"Volume {volume.id} did not finish being created: it is {volume.status}.")
                row.attachment_id = self.volumes.attachment_create(ctx, volume.id, instance.id)
                self._update(row.id, attachment_id=row.attachment_id)
            attachments.connect(ctx, instance, row, plug=False)
        return None

    # -- helpers ---------------------------------------------------------------------------------------
    def _update(self, row_id: str, **changes) -> None:
        with self.db.write() as session:
            row = session.get(BlockDevice, row_id)
            for key, value in changes.items():
                setattr(row, key, value)

    def _abort(self, instance_id: str, message: str) -> None:
        with self.db.write() as session:
            instance = session.get(Instance, instance_id)
            instance.vm_state, instance.task_state = st.ERROR, None
            instance.fault = {"code": 500, "message": message, "details": "",
                              "created": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")}
