"""Makes the files follow the rows: each volume or snapshot with a ``task`` is converged by key, one at a
time (a snapshot and its volume share files), and its status written when done; backups move their data
in a loop of their own (``backups``).

Wake-ups come from every commit that sets a task in this process; the resync picks up other processes'
and anything a failure left.  ``recover`` runs once before the loop: tasks a crash interrupted are simply
resumed where every step is safe to repeat (file steps), and end as Cinder's start-up cleanup ends them
where they are not (an image download or upload: the volume in ``error``, or back where it was, with the
reason); files no row owns are removed.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update

from onestack.db.engine import Database
from onestack.drivers.volumefiles import VolumeFileError
from onestack.http.errors import APIError
from onestack.reconcile.loop import Loop
from onestack.services.compute.public import GuestVolumes
from onestack.services.volume.models import Backup, Group, GroupSnapshot, Snapshot, Volume
from onestack.services.volume.reconcile.backups import BackupSteps
from onestack.services.volume.reconcile.groups import KINDS, GroupSteps
from onestack.services.volume.reconcile.migrations import MigrationSteps
from onestack.services.volume.service import messages
from onestack.services.volume.service.backups import BackupStores
from onestack.services.volume.service.catalog import PeerError
from onestack.services.volume.service.encryption import luks_for
from onestack.services.volume.service.imageapi import ImageAPI
from onestack.services.volume.service.reimage import status_after
from onestack.services.volume.service.stores import VolumeStores

LOG = logging.getLogger("onestack.volume")
# How soon to look again at a row waiting on another (a clone on its source's frozen copy, say).
WAIT = 0.2
# The status a failed task leaves, as Cinder names them (an upload goes back to the status it left).
FAILED = {"create": "error", "extend": "error_extending", "delete": "error_deleting", "revert": "error",
          "reimage": "error"}  # a migration goes back to the status it left, its migration_status error
# How soon a re-image looks again for an image service it could not reach (this process's own API, at start).
RETRY_UNREACHED = 1.0
# What makes a task fail for good: a file step or another service said no.
TASK_ERRORS = (VolumeFileError, PeerError)



def _snapshot_restored(session, volume: Volume) -> None:
    """The snapshot a revert read from is ``available`` again, in the transaction that ends the revert (done
    or failed): apart, a reader or a crash between the two writes saw the volume done and the snapshot still
    ``restoring``, a state no task would ever end."""
    session.execute(update(Snapshot).where(Snapshot.id == volume.task_args["snapshot_id"],
                                           Snapshot.status == "restoring").values(status="available"))

class Reconciler:
    def __init__(self, db: Database, stores: VolumeStores, image_api: ImageAPI | None = None,
                 backup_stores: BackupStores | None = None, guests: GuestVolumes | None = None):
        """``guests``: compute, which grows the disks of running guests that hold an extended volume and
        snapshots the ones they hold live."""
        self.db = db
        self.guests = guests
        self.stores = stores
        self.files = stores.files
        self.image_api = image_api
        self.backups = BackupSteps(db, stores, backup_stores or BackupStores(self.files.root.parent / "backups"))
        self.groups = GroupSteps(db, WAIT)
        self.migrations = MigrationSteps(db, stores, guests)
        self.loop = Loop("volume", self.step, self._volume_pending, workers=1)
        self.backup_loop = Loop("volume-backup", self.step, self.backups.pending, workers=1)

    def start(self) -> None:
        self.recover()
        self._listen_for_tasks()
        self.loop.start()
        self.backup_loop.start()

    def stop(self) -> None:
        self.backup_loop.stop()
        self.loop.stop()

    def wake(self, key: str) -> None:
        (self.backup_loop if key.startswith("backup:") else self.loop).wake(key)

    # -- wake-ups --------------------------------------------------------------------------------------
    def _listen_for_tasks(self) -> None:
        def flushed(session, _context):
            keys = session.info.setdefault("volume_tasks", set())
            for row in (*session.new, *session.dirty):
                if isinstance(row, Volume | Snapshot | Backup | Group | GroupSnapshot) and row.task is not None:
                    keys.add(_key(row))

        def committed(session):
            for key in session.info.pop("volume_tasks", ()):
                self.wake(key)

        self.db.listen("after_flush", flushed)
        self.db.listen("after_commit", committed)
        self.db.listen("after_soft_rollback", lambda session, _previous: session.info.pop("volume_tasks", None))

    def pending(self) -> list[str]:
        """Every key with work left, volumes', snapshots' and backups'."""
        return self._volume_pending() + self.backups.pending()

    def _volume_pending(self) -> list[str]:
        with self.db.read() as session:
            volumes = session.scalars(select(Volume.id).where(Volume.task.is_not(None))).all()
            snapshots = session.scalars(select(Snapshot.id).where(Snapshot.task.is_not(None))).all()
        return [f"volume:{i}" for i in volumes] + [f"snapshot:{i}" for i in snapshots] + self.groups.pending()

    # -- one key ---------------------------------------------------------------------------------------
    def step(self, key: str) -> float | None:
        kind, _, ident = key.partition(":")
        if kind == "backup":
            return self.backups.step(ident)
        if kind in KINDS:
            return self.groups.step(kind, ident)
        model = Volume if kind == "volume" else Snapshot
        with self.db.read() as session:
            row = session.get(model, ident)
        if row is None or row.task is None:
            return None
        try:
            again = (self._volume if kind == "volume" else self._snapshot)(row)
        except TASK_ERRORS as exc:
            LOG.warning("%s %s: %s failed: %s", kind, ident, row.task, exc)
            self._failed(model, row, str(exc))
            return None
        return again

    def _failed(self, model, row, reason: str) -> None:
        values = {"task": None, "fault": reason}
        if model is Volume:
            values.update(task_token=None, task_args=None, previous_status=None)
            if row.task == "migrate":
                self.migrations.failed(row, reason)
                return
            if row.task == "upload":
                values["status"] = row.previous_status or "available"
                self._forget_image(row)
            else:
                values["status"] = FAILED[row.task]
            if row.task == "create":
                self._discard(row)
        else:
            values["status"] = FAILED[row.task]
        with self.db.write() as session:
            changed = session.execute(update(model).where(model.id == row.id, model.task == row.task)
                                      .values(**values)).rowcount
            if changed and model is Volume and row.task == "revert":
                _snapshot_restored(session, row)
            if changed and not getattr(row, "hidden", False):
                messages.record(session, row.project_id, *_what(row), reason)

    def _forget_image(self, volume: Volume) -> None:
        """The image a failed upload was to fill goes, as Cinder deletes it (it would stay queued)."""
        try:
            self.image_api.delete(volume.task_token, volume.task_args["image_id"])
        except PeerError as exc:
            LOG.warning("volume %s: the image of a failed upload stays: %s", volume.id, exc)

    def _discard(self, volume: Volume) -> None:
        """The data of a volume whose create failed, on whichever backend they are (if it exists)."""
        try:
            self.stores.of(volume.backend).delete_volume(volume.id)
        except VolumeFileError as exc:
            LOG.warning("volume %s: what a failed create made stays: %s", volume.id, exc)

    def _luks(self, volume: Volume) -> dict:
        return luks_for(self.db, self.stores.keys, volume)

    def _volume(self, volume: Volume) -> float | None:
        store = self.stores.of(volume.backend)
        key = self._luks(volume)
        if volume.task == "create":
            if volume.image_id is not None:
                self._create_from_image(store, volume)
            elif volume.clone_of is not None:
                frozen = self._snapshot_row(volume.clone_of)
                if frozen is None or frozen.status == "error":
                    raise VolumeFileError("the frozen copy of the source volume could not be made")
                if frozen.task is not None:
                    return WAIT
                store.create_from_snapshot(volume.id, frozen.id, volume.size, source_volume=frozen.volume_id, **key)
            elif volume.snapshot_id is not None:
                source = self._snapshot_row(volume.snapshot_id)
                store.create_from_snapshot(volume.id, volume.snapshot_id, volume.size,
                                           source_volume=source.volume_id if source else None, **key)
            else:
                store.create_blank(volume.id, volume.size, **key)
            self._done(Volume, volume, "available")
        elif volume.task == "extend":
            self._extend(store, volume)
        elif volume.task == "delete":
            self._delete_volume(volume)
        elif volume.task == "upload":
            self._upload(store, volume)
        elif volume.task == "revert":
            store.revert_to_snapshot(volume.id, volume.task_args["snapshot_id"], **key)
            self._done(Volume, volume, "available")
        elif volume.task == "reimage":
            return self._reimage(store, volume)
        elif volume.task == "migrate":
            self.migrations.step(volume)
        return None

    def _reimage(self, store, volume: Volume) -> float | None:
        """The volume's data become the image's (``os-reimage``): the image cached as for a volume made from
        it, then a new file renamed over the volume's (safe to repeat: a restart resumes it, with the token
        the task keeps; one that no longer opens the image fails the re-image).  Cinder's start-up cleanup
        would leave an interrupted re-image ``error``; resuming it instead keeps a server's root volume
        usable, and nothing of the old data is left half-replaced either way."""
        image_id = volume.task_args["image_id"]
        try:
            image = self.image_api.show(volume.task_token, image_id)
            if image is None:
                raise PeerError(f"image {image_id} can no longer be read", 404)
            self._cache_image(store, volume.task_token, image)
        except PeerError as exc:
            if exc.status is None:  # not reached (right after a restart, before the APIs are served): again
                LOG.info("volume %s: the image service is not reached yet, the re-image waits: %s", volume.id, exc)
                return RETRY_UNREACHED
            raise
        store.reimage(volume.id, image_id, volume.size, **self._luks(volume))
        with self.db.write() as session:
            row = session.get(Volume, volume.id, with_for_update={"of": Volume})
            if row is not None and row.task == "reimage":
                row.status = status_after(row.previous_status, {a.attach_status for a in row.attachments})
                row.task = row.fault = row.task_token = row.task_args = row.previous_status = None
                row.bootable, row.image_metadata = True, volume.task_args["image_metadata"]
        store.prune_images()
        return None

    def _cache_image(self, store, token: str | None, image: dict) -> None:
        """The image's data in the backend's image cache (downloaded and converted once)."""
        if store.has_image(image["id"]):
            return
        downloaded = store.download_target(image["id"])
        try:
            self.image_api.download(token, image, downloaded)
            store.cache_image(image["id"], downloaded, image["disk_format"])
        finally:
            store.discard_temporaries("image", image["id"])

    def _extend(self, store, volume: Volume) -> None:
        """An attached volume (3.42) grows through the guests that hold it open (compute's
        ``volume_extended``, Cinder's event to Nova); a volume no running guest holds grows as it lies."""
        if volume.previous_status == "in-use" and self.guests is not None:
            try:
                grown = self.guests.volume_extended(volume.id, volume.size)
            except APIError as exc:
                raise VolumeFileError(exc.message) from None
            if not grown:
                store.extend(volume.id, volume.size, **self._luks(volume))
        else:
            store.extend(volume.id, volume.size, **self._luks(volume))
        self._done(Volume, volume, volume.previous_status or "available")

    def _create_from_image(self, store, volume: Volume) -> None:
        # Asked again with the caller's token even when the image is cached: it may be gone or hidden now.
        image = self.image_api.show(volume.task_token, volume.image_id)
        if image is None:
            raise PeerError(f"image {volume.image_id} can no longer be read")
        if self._clone_from_image_store(store, volume, image):
            self._done(Volume, volume, "available")
            return
        self._cache_image(store, volume.task_token, image)
        store.create_from_image(volume.id, volume.image_id, volume.size, **self._luks(volume))
        self._done(Volume, volume, "available")

    def _clone_from_image_store(self, store, volume: Volume, image: dict) -> bool:
        """An RBD volume from a raw image the image service keeps in the same cluster is a clone of its
        ``<images pool>/<id>@snap`` (Cinder's RBD driver with Glance's RBD store): nothing is downloaded."""
        if store is not self.stores.rbd or image.get("disk_format") != "raw" \
                or "rbd" not in (image.get("stores") or "").split(","):
            return False
        return store.clone_image_store(volume.id, self.stores.image_pool, volume.image_id, volume.size)

    def _upload(self, store, volume: Volume) -> None:
        target = store.work_file(volume.id, "upload")
        try:
            store.export(volume.id, volume.task_args["disk_format"], target)
            self.image_api.upload(volume.task_token, volume.task_args["image_id"], target)
        finally:
            target.unlink(missing_ok=True)
        self._done(Volume, volume, volume.previous_status or "available")

    def _delete_volume(self, volume: Volume) -> None:
        # The volume's own file first: it is a leaf, so its snapshots then have fewer files to rebase (an
        # RBD image takes its RBD snapshots with it, their clones flattened first).
        store = self.stores.of(volume.backend)
        store.delete_volume(volume.id)
        for other in self.stores.file_stores.values():  # what a migration cut short by a force-delete made
            if other is not store:
                other.delete_volume(volume.id)
        if volume.cascade:
            with self.db.read() as session:
                snapshots = session.scalars(select(Snapshot).where(Snapshot.volume_id == volume.id,
                                                                   Snapshot.task == "delete")).all()
            for snapshot in snapshots:
                self._delete_snapshot(snapshot)
        with self.db.write() as session:
            row = session.get(Volume, volume.id)
            if row is not None:
                session.delete(row)
            # the key goes with the data it opened (a clone's or backup's copy stays with its owner)
            self.stores.keys.delete(session, volume.encryption_key_id)
            if volume.clone_of is not None:
                still_used = session.scalars(select(Volume.id).where(Volume.clone_of == volume.clone_of,
                                                                     Volume.id != volume.id)).first()
                if still_used is None:
                    session.execute(update(Snapshot).where(Snapshot.id == volume.clone_of)
                                    .values(status="deleting", task="delete"))
        if volume.clone_of is not None:
            self.loop.wake(f"snapshot:{volume.clone_of}")
        store.prune_images()

    def _snapshot(self, snapshot: Snapshot) -> float | None:
        if snapshot.task == "create":
            with self.db.read() as session:
                volume = session.get(Volume, snapshot.volume_id)
            if volume is None:
                raise VolumeFileError(f"volume {snapshot.volume_id} is gone")
            if volume.task == "create":
                return WAIT
            self._take_snapshot(volume, snapshot)
            self._done(Snapshot, snapshot, "available")
        elif snapshot.task == "delete":
            with self.db.read() as session:
                waiting = session.scalars(select(Volume.id).where(
                    (Volume.snapshot_id == snapshot.id) | (Volume.clone_of == snapshot.id),
                    Volume.task == "create")).first()
            if waiting is not None:  # a volume is still being made from it
                return WAIT
            self._delete_snapshot(snapshot)
        return None

    def _take_snapshot(self, volume: Volume, snapshot: Snapshot) -> None:
        """A running guest holding a file volume switches to the new overlay itself (a live snapshot through
        QMP), so nothing it writes lands in the frozen file; a file no guest holds is frozen as it lies.  An RBD
        snapshot is taken by the cluster, consistent whoever writes."""
        store = self.stores.of(snapshot.backend)
        if not self.stores.is_file(snapshot.backend):
            store.take_snapshot(volume.id, snapshot.id)
            return
        if volume.encryption_key_id is not None:  # a whole copy, taken while no guest holds it
            store.take_snapshot(volume.id, snapshot.id, **self._luks(volume))
            return
        overlay = store.snapshot_overlay(volume.id, snapshot.id)
        if overlay is None:
            return  # taken already
        if self.guests is not None:
            try:
                self.guests.snapshot_volume(volume.id, str(overlay))
            except APIError as exc:
                raise VolumeFileError(exc.message) from None
        store.freeze(volume.id, snapshot.id)

    def _delete_snapshot(self, snapshot: Snapshot) -> None:
        store = self.stores.of(snapshot.backend)
        store.delete_snapshot(snapshot.id, volume_id=snapshot.volume_id)
        store.prune_images()
        with self.db.write() as session:
            row = session.get(Snapshot, snapshot.id)
            if row is not None:
                session.delete(row)

    def _snapshot_row(self, snapshot_id: str) -> Snapshot | None:
        with self.db.read() as session:
            return session.get(Snapshot, snapshot_id)

    def _done(self, model, row, status: str) -> None:
        """The task is done: the status it leads to, unless the row was given another task meanwhile."""
        values = {"status": status, "task": None, "fault": None}
        if model is Volume:
            values.update(task_token=None, task_args=None, previous_status=None)
        with self.db.write() as session:
            changed = session.execute(update(model).where(model.id == row.id, model.task == row.task)
                                      .values(**values)).rowcount
            if changed and model is Volume and row.task == "revert":
                _snapshot_restored(session, row)

    # -- after a crash ---------------------------------------------------------------------------------
    def recover(self) -> None:
        """End the tasks a restart cannot resume (they talk to other services), remove files no row owns
        (rows lost with a database restored from a backup, say; the loop itself removes a file before its
        row); other interrupted tasks are left to the loop, which resumes them."""
        self._end_interrupted()
        self.backups.recover()
        self.groups.recover()
        with self.db.read() as session:
            volumes = set(session.scalars(select(Volume.id)))
            snapshots = set(session.scalars(select(Snapshot.id)))
            # an overlay a guest may be writing to: a snapshot of its volume is being taken, or it is attached
            overlaid = set(session.scalars(select(Snapshot.volume_id).where(Snapshot.task == "create"))) \
                | set(session.scalars(select(Volume.id).where(Volume.status == "in-use")))
        for files in self.stores.file_stores.values():
            self._sweep(files, volumes, snapshots, overlaid)
        if self.stores.rbd is not None:
            self._recover_rbd(volumes)
        resumed = self.pending()
        if resumed:
            LOG.info("resuming %d interrupted volume and snapshot tasks", len(resumed))


    @staticmethod
    def _sweep(files, volumes: set[str], snapshots: set[str], overlaid: set[str]) -> None:
        """Remove from one file backend what no row owns and the temporary files no task continues."""
        for path, (kind, ident) in files.owners().items():
            if path.name.startswith("."):
                # A temporary file: a download, conversion, create, copy, import, upload, backup, restore or
                # migration no task continues (each makes its file anew). The one kept is the overlay a
                # snapshot being taken gave its volume while a guest may be writing to it (the snapshot's task
                # renames it).
                live_overlay = kind == "volume" and ident in overlaid \
                    and path == files.overlay(files.volume(ident))
                if not live_overlay:
                    files.remove(path)
            elif kind == "image":
                continue
            elif ident not in (volumes if kind == "volume" else snapshots):
                LOG.warning("removing %s: no %s %s exists", path, kind, ident)
                files.remove(path)
        files.prune_images()

    def _recover_rbd(self, volumes: set[str]) -> None:
        """An image import a crash cut short goes; an RBD volume image no row owns is only reported, as
        the pool may be shared with another cloud (Cinder does not sweep its pool either)."""
        rbd = self.stores.rbd
        try:
            for name, (kind, ident) in rbd.owners().items():
                if name.endswith(".partial"):
                    rbd.discard_temporaries(kind, ident)
                elif kind == "volume" and ident not in volumes:
                    LOG.warning("RBD image %s/%s: no volume %s exists here", rbd.pool, name, ident)
            rbd.prune_images()
        except VolumeFileError as exc:
            LOG.error("the Ceph cluster could not be checked at start-up (RBD volumes will fail until it "
                      "answers): %s", exc)

    def _end_interrupted(self) -> None:
        with self.db.read() as session:
            stopped = session.scalars(select(Volume).where(
                (Volume.task == "upload") | ((Volume.task == "create") & Volume.image_id.is_not(None)))).all()
        for volume in stopped:
            what = (f"creating it from image {volume.image_id}" if volume.task == "create"
                    else f"uploading it to image {volume.task_args['image_id']}")
            reason = f"Block Storage restarted while {what}; the work was not finished"
            LOG.warning("volume %s: %s", volume.id, reason)
            if volume.task == "upload":
                self.stores.of(volume.backend).discard_temporaries("volume", volume.id)
            # No image API call here: the API is not served yet; the image an upload made stays queued.
            with self.db.write() as session:
                values = {"task": None, "fault": reason, "task_token": None, "task_args": None,
                          "previous_status": None,
                          "status": "error" if volume.task == "create" else volume.previous_status or "available"}
                session.execute(update(Volume).where(Volume.id == volume.id, Volume.task == volume.task)
                                .values(**values))
                messages.record(session, volume.project_id, *_what(volume), reason)
            if volume.task == "create":
                self._discard(volume)


def _what(row: Volume | Snapshot) -> tuple[str, str, str]:
    """(resource type, its id, the message action) of a failed task, as Cinder's user messages name them."""
    if isinstance(row, Snapshot):
        return "VOLUME_SNAPSHOT", row.id, f"snapshot_{row.task}"
    return "VOLUME", row.id, "image" if row.task == "create" and row.image_id else row.task


def _key(row: Volume | Snapshot | Backup | Group | GroupSnapshot) -> str:
    return f"{type(row).__name__.lower()}:{row.id}"
