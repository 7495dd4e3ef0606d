"""Snapshots: a server's root disk saved as an image in the image service (createImage, and shelve).

The API creates the image record at once (queued, owned by the server's project, with Nova's
snapshot properties) and hands the instance to the engine; the engine asks the driver to write the
disk to a file beside the host's state, claims the image for upload, streams the file into the
image store in chunks and publishes it (the image service inspects it as it would any upload).
Steps: image_snapshot (driver writes the file) -> image_pending_upload (queued -> saving) ->
image_uploading (data stored, image active) -> no task.  Each repeats safely: the file is rewritten,
a claim already made is kept, a published image is left alone.  A snapshot that fails, or whose
image was deleted meanwhile, ends the task and leaves the server as it was, as in Nova.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.drivers.compute import DriverError
from onestack.http.context import Context
from onestack.http.errors import APIError, BadRequest, NotFound
from onestack.services.compute.models import Instance
from onestack.services.compute.models import states as st
from onestack.services.compute.service.networking import service_context
from onestack.services.compute.service.quotas import QuotaExceeded
from onestack.services.compute.service.servers import authorize
from onestack.services.image.models import Image
from onestack.services.image.store import CHUNK

LOG = logging.getLogger("onestack.compute.snapshots")
IMAGE_ID, DISK_FORMAT = "image_id", "disk_format"
# createBackup's task arguments: how many backups of its type to keep once this one is stored
ROTATION, BACKUP_TYPE = "rotation", "backup_type"
# vm_states a snapshot may be taken in (Nova's createImage)
SNAPSHOT_STATES = (st.ACTIVE, st.STOPPED, st.PAUSED, st.SUSPENDED)


def check_request(compute, session: Session, ctx: Context, instance: Instance, action: str, metadata: dict,
                  vm_states: tuple[str, ...]) -> None:
    """What Nova refuses before it creates the image: a locked server, a wrong state, too much metadata."""
    compute.servers.check_lock(ctx, instance)
    st.require(instance, action, vm_states)
    limit = compute.quota_limits(session, instance.project_id)["metadata_items"]
    if limit != -1 and len(metadata) > limit:
        raise QuotaExceeded(["metadata_items"], [len(metadata)], [0], [limit])


def create_image_record(compute, ctx: Context, instance: Instance, name: str, metadata: dict) -> str:
    """The queued snapshot image, checked against the caller's image rights and quotas.  Its own
    transaction: call it outside the compute one (one writer at a time)."""
    image_svc = compute.image
    base: Image | None = None
    with image_svc.db.read() as session:
        if instance.image_ref:
            try:
                base = image_svc.get(session, service_context(instance), instance.image_ref)
            except NotFound:
                base = None
    body = {
        "name": name, "visibility": "private",
        "disk_format": (base.disk_format if base is not None else None) or "raw",
        "container_format": (base.container_format if base is not None else None) or "bare",
        "min_disk": max(instance.flavor.get("disk", 0), base.min_disk or 0 if base is not None else 0),
        "min_ram": (base.min_ram or 0) if base is not None else 0,
        # properties Nova gives a snapshot; the base image's own properties are inherited first
        **{k: v for k, v in ((base.properties or {}) if base is not None else {}).items()
           if not k.startswith("os_glance") and k not in ("image_location", "image_state", "owner_id")},
        "image_type": "snapshot", "instance_uuid": instance.id, "base_image_ref": instance.image_ref or "",
        "user_id": ctx.user_id, "owner_user_name": ctx.user_name or "", "owner_project_name": ctx.project_name or "",
        **{str(k): str(v) for k, v in metadata.items()},
    }
    with image_svc.db.write() as session:
        try:
            image = image_svc.create(session, ctx, body)
        except APIError as exc:
            if exc.status in (400,):
                raise BadRequest(exc.message) from None
            raise
        if instance.project_id != ctx.project_id:  # an admin's snapshot of another project's server
            image.owner = instance.project_id
        return image.id


def delete_image(compute, instance: Instance, image_id: str) -> None:
    with compute.image.db.write() as session:
        image = session.get(Image, image_id)
        if image is not None:
            session.delete(image)
    compute.image.store.delete(image_id)


class SnapshotSteps:
    """The three snapshot steps; ``then`` is what the last one writes (createImage: no task; shelve:
    the next task and the SHELVED state)."""

    def __init__(self, engine, tasks: tuple[str, str, str], then: dict, event: tuple[str, str]):
        self.engine = engine
        self.compute = engine.compute
        self.tasks = tasks
        self.then = then
        self.event = event

    def staging(self, image_id: str) -> Path:
        where = self.compute.hosts.state_dir / "snapshots"
        where.mkdir(parents=True, exist_ok=True, mode=0o700)
        return where / image_id

    def _image_id(self, instance: Instance) -> str:
        return instance.task_args[IMAGE_ID]

    def _image(self, image_id: str) -> Image | None:
        with self.compute.image.db.read() as session:
            return session.get(Image, image_id)

    def snapshot(self, instance: Instance) -> None:
        image_id = self._image_id(instance)
        if self._image(image_id) is None:
            return self._give_up(instance, f"image {image_id} was deleted before its snapshot was taken")
        try:
            disk_format = self.compute.hosts.driver(instance.host).snapshot(instance.id, str(self.staging(image_id)))
        except DriverError as exc:
            return self._give_up(instance, str(exc))
        self.engine._advance(instance.id, self.tasks[0], task_state=self.tasks[1],
                             task_args={**instance.task_args, DISK_FORMAT: disk_format})

    def claim(self, instance: Instance) -> None:
        """queued -> saving, with the format the driver wrote; a claim an interrupted run made stands."""
        image_id = self._image_id(instance)
        with self.compute.image.db.write() as session:
            image = session.get(Image, image_id)
            if image is not None and image.status == "queued":
                image.disk_format = instance.task_args.get(DISK_FORMAT) or image.disk_format
        if image is None:  # given up outside the transaction: giving up writes (one writer at a time)
            return self._give_up(instance, f"image {image_id} was deleted during the snapshot")
        if image.status == "queued":
            with self.compute.image.db.write() as session:
                self.compute.image.begin_upload(session, service_context(instance), image_id)
        self.engine._advance(instance.id, self.tasks[1], task_state=self.tasks[2])

    def upload(self, instance: Instance) -> None:
        image_id = self._image_id(instance)
        image = self._image(image_id)
        if image is None:
            return self._give_up(instance, f"image {image_id} was deleted during its upload")
        staged = self.staging(image_id)
        if image.status == "saving":
            if not staged.exists():  # lost with the host's disk: take it again
                self.compute.hosts.driver(instance.host).snapshot(instance.id, str(staged))
            written = self.compute.image.store.write(image_id, _chunks(staged), max_size=1 << 62)
            try:
                self.compute.image.finish_upload(image_id, image.disk_format, written)
            except APIError as exc:
                return self._give_up(instance, f"the snapshot was refused by the image service: {exc.message}")
        staged.unlink(missing_ok=True)
        if ROTATION in instance.task_args:
            rotate_backups(self.compute, instance, instance.task_args[BACKUP_TYPE], instance.task_args[ROTATION])
        self.engine._advance(instance.id, self.tasks[2], **self.then)
        self.engine._event(instance.id, self.event[0], self.event[1], "Success")

    def _give_up(self, instance: Instance, why: str) -> None:
        LOG.info("instance %s: snapshot abandoned: %s", instance.id, why)
        image_id = self._image_id(instance)
        self.staging(image_id).unlink(missing_ok=True)
        delete_image(self.compute, instance, image_id)
        if self.engine._advance(instance.id, instance.task_state, task_state=None):
            self.engine._event(instance.id, self.event[0], self.event[1], "Error", why)

    def table(self) -> dict:
        return {self.tasks[0]: self.snapshot, self.tasks[1]: self.claim, self.tasks[2]: self.upload}


def rotate_backups(compute, instance: Instance, backup_type: str, rotation: int) -> None:
    """Keep the ``rotation`` newest backups of the server of this type; delete the older ones (Nova's
    rotation, after each backup is stored)."""
    with compute.image.db.read() as session:
        backups = [image for image in session.scalars(select(Image).where(Image.owner == instance.project_id))
                   if (image.properties or {}).get("image_type") == "backup"
                   and image.properties.get("instance_uuid") == instance.id
                   and image.properties.get(BACKUP_TYPE) == backup_type]
    backups.sort(key=lambda image: image.created_at, reverse=True)
    for image in backups[rotation:]:
        delete_image(compute, instance, image.id)


def _chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


# -- createImage (and shelve): the image first, then the task -------------------------------------------
def request(compute, ctx: Context, server_id: str, policy: str, action: str, task: str, vm_states: tuple[str, ...],
            name: str | Callable[[Instance], str], metadata: dict, request_id: str,
            task_args: dict | None = None) -> tuple[Instance, str]:
    """Check, create the queued image, then start ``task``; the image goes again if the task cannot start
    (the server changed in between)."""
    with compute.db.read() as session:
        instance = compute.servers.get(session, ctx, server_id)
        authorize(ctx, policy, instance)
        check_request(compute, session, ctx, instance, action, metadata, vm_states)
    image_id = create_image_record(compute, ctx, instance, name(instance) if callable(name) else name, metadata)
    try:
        with compute.db.write() as session:
            instance = compute.servers.get(session, ctx, server_id)
            compute.servers.start_task(session, ctx, instance, action, task, request_id, vm_states,
                                       task_args={**(task_args or {}), IMAGE_ID: image_id})
    except BaseException:
        delete_image(compute, instance, image_id)
        raise
    compute.engine.wake(instance.id)
    return instance, image_id


def steps(engine) -> dict:
    return SnapshotSteps(engine, (st.IMAGE_SNAPSHOT, st.IMAGE_PENDING_UPLOAD, st.IMAGE_UPLOADING),
                         {"task_state": None}, ("createImage", "compute_snapshot_instance")).table()
