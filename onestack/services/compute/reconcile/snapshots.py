"""The snapshot steps: the driver writes the disk to a file beside the host's state, the image is claimed
for upload, the file is streamed into the image service, which inspects and publishes it.

image_snapshot (driver writes the file) -> image_pending_upload (queued -> saving) -> image_uploading
(data stored, image active) -> no task.  Each repeats safely: the file is rewritten, a claim already made
is kept, a published image is left alone.  Shelving runs the same steps under its own task names.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from onestack.drivers.compute import DriverError
from onestack.http.errors import APIError
from onestack.services.compute.models import Instance
from onestack.services.compute.models import states as st
from onestack.services.compute.reconcile.records import InstanceRecords
from onestack.services.compute.service.host_drivers import HostDrivers
from onestack.services.compute.service.networking import service_context
from onestack.services.compute.service.snapshots import (
    BACKUP_TYPE,
    DISK_FORMAT,
    IMAGE_ID,
    ROTATION,
    Snapshots,
)
from onestack.services.image.public import Images

LOG = logging.getLogger("onestack.compute.snapshots")
CHUNK = 1 << 20


class SnapshotSteps:
    """The three snapshot steps; ``then`` is what the last one writes (createImage: no task; shelve: the next
    task and the SHELVED state)."""

    def __init__(self, records: InstanceRecords, hosts: HostDrivers, images: Images, snapshots: Snapshots,
                 tasks: tuple[str, str, str], then: dict, event: tuple[str, str]):
        self.records = records
        self.hosts = hosts
        self.images = images
        self.snapshots = snapshots
        self.tasks = tasks
        self.then = then
        self.event = event

    @classmethod
    def create_image(cls, records: InstanceRecords, hosts: HostDrivers, images: Images,
                     snapshots: Snapshots) -> SnapshotSteps:
        return cls(records, hosts, images, snapshots, (st.IMAGE_SNAPSHOT, st.IMAGE_PENDING_UPLOAD, st.IMAGE_UPLOADING),
                   {"task_state": None}, ("createImage", "compute_snapshot_instance"))

    def steps(self) -> dict:
        return {self.tasks[0]: self.snapshot, self.tasks[1]: self.claim, self.tasks[2]: self.upload}

    def staging(self, image_id: str) -> Path:
        where = self.hosts.state_dir / "snapshots"
        where.mkdir(parents=True, exist_ok=True, mode=0o700)
        return where / image_id

    @staticmethod
    def _image_id(instance: Instance) -> str:
        return instance.task_args[IMAGE_ID]

    def snapshot(self, instance: Instance) -> None:
        image_id = self._image_id(instance)
        if self.images.find(image_id) is None:
            return self._give_up(instance, f"image {image_id} was deleted before its snapshot was taken")
        try:
            disk_format = self.hosts.driver(instance.host).snapshot(instance.id, str(self.staging(image_id)))
        except DriverError as exc:
            return self._give_up(instance, str(exc))
        self.records.advance(instance.id, self.tasks[0], task_state=self.tasks[1],
                             task_args={**instance.task_args, DISK_FORMAT: disk_format})

    def claim(self, instance: Instance) -> None:
        """queued -> saving, with the format the driver wrote; a claim an interrupted run made stands."""
        image_id = self._image_id(instance)
        claimed = self.images.start_upload(service_context(instance), image_id, instance.task_args.get(DISK_FORMAT))
        if claimed is None:
            return self._give_up(instance, f"image {image_id} was deleted during the snapshot")
        self.records.advance(instance.id, self.tasks[1], task_state=self.tasks[2])

    def upload(self, instance: Instance) -> None:
        image_id = self._image_id(instance)
        image = self.images.find(image_id)
        if image is None:
            return self._give_up(instance, f"image {image_id} was deleted during its upload")
        staged = self.staging(image_id)
        if image.status == "saving":
            if not staged.exists():  # lost with the host's disk: take it again
                self.hosts.driver(instance.host).snapshot(instance.id, str(staged))
            try:
                self.images.store_data(image_id, _chunks(staged))
            except APIError as exc:
                return self._give_up(instance, f"the snapshot was refused by the image service: {exc.message}")
        staged.unlink(missing_ok=True)
        if ROTATION in instance.task_args:
            self.snapshots.rotate_backups(instance, instance.task_args[BACKUP_TYPE], instance.task_args[ROTATION])
        self.records.advance(instance.id, self.tasks[2], **self.then)
        self.records.event(instance.id, self.event[0], self.event[1], "Success")

    def _give_up(self, instance: Instance, why: str) -> None:
        LOG.info("instance %s: snapshot abandoned: %s", instance.id, why)
        image_id = self._image_id(instance)
        self.staging(image_id).unlink(missing_ok=True)
        self.snapshots.delete_image(image_id)
        if self.records.advance(instance.id, instance.task_state, task_state=None):
            self.records.event(instance.id, self.event[0], self.event[1], "Error", why)


def _chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk
