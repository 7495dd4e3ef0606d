"""Moves backup data: each backup with a ``task`` (create, restore, delete, import, purge) is converged by
key in a loop of its own, so a long backup never holds up volume work, and its status written when done.

Cinder's start-up cleanup, at ``recover``: a backup being made when the process died ends in ``error``
(its partial objects purged by the loop once the APIs answer) and its volume goes back to its status; a
restore cut short leaves the backup ``available`` and the volume ``error_restoring`` (``error`` for a
volume being made from the backup); deletes and imports are resumed.

A backup of an RBD volume (not of one of its snapshots) is an ``rbd export-diff`` stream of an RBD snapshot
``backup.<id>`` of it, as Cinder's Ceph backup driver makes them: an incremental one is the diff from the
snapshot of the backup it builds on, which stays on the volume until a later backup is made (a full stream
when it is gone); every other source goes through the chunked engine.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update

from onestack.db.engine import Database
from onestack.drivers.backups import BackupError, chunked, diffs
from onestack.drivers.volumefiles import VolumeFileError
from onestack.services.volume.models import Backup, Snapshot, Volume
from onestack.services.volume.service import messages
from onestack.services.volume.service.backups import BackupStores
from onestack.services.volume.service.catalog import PeerError
from onestack.services.volume.service.encryption import luks_for
from onestack.services.volume.service.stores import VolumeStores

LOG = logging.getLogger("onestack.volume.backup")
TASK_ERRORS = (BackupError, VolumeFileError, PeerError)
RESTORING = ("restoring-backup", "creating")


class BackupSteps:
    def __init__(self, db: Database, volumes: VolumeStores, stores: BackupStores):
        self.db = db
        self.volumes = volumes
        self.stores = stores

    def pending(self) -> list[str]:
        with self.db.read() as session:
            return [f"backup:{i}" for i in session.scalars(select(Backup.id).where(Backup.task.is_not(None)))]

    def step(self, backup_id: str) -> None:
        with self.db.read() as session:
            backup = session.get(Backup, backup_id)
        if backup is None or backup.task is None:
            return
        try:
            getattr(self, f"_{backup.task}")(backup)
        except TASK_ERRORS as exc:
            LOG.warning("backup %s: %s failed: %s", backup.id, backup.task, exc)
            getattr(self, f"_{backup.task}_failed")(backup, str(exc))

    def _finish(self, backup: Backup, **values) -> bool:
        """Write the task's end unless the row was given another task meanwhile; whether it was written."""
        with self.db.write() as session:
            done = session.execute(update(Backup).where(Backup.id == backup.id, Backup.task == backup.task)
                                   .values(task=None, task_token=None, **values))
            return done.rowcount == 1

    # -- create ----------------------------------------------------------------------------------------
    def _create(self, backup: Backup) -> None:
        with self.db.read() as session:
            volume = session.get(Volume, backup.volume_id)
            parent = session.get(Backup, backup.parent_id) if backup.parent_id else None
        if volume is None:
            raise BackupError(f"volume {backup.volume_id} is gone")
        data = self.volumes.of(volume.backend)
        identity = {"backup_id": backup.id, "volume_id": volume.id, "bootable": volume.bootable,
                    "volume_metadata": dict(volume.metadata_), "volume_image_metadata": dict(volume.image_metadata)}
        if self.volumes.is_rbd(volume.backend) and backup.snapshot_id is None:
            manifest = self._create_diff(backup, volume, parent, identity)
            # the next incremental diffs from this backup's snapshot: the older ones are of no more use
            self.volumes.rbd.drop_backup_snapshots(volume.id, keep=manifest["snap"])
            self._finish(backup, status="available", fault=None, object_count=chunked.own_objects(manifest))
            self._release_source(backup)
            return
        source = data.source(volume.id, backup.snapshot_id)
        raw = data.work_file(volume.id, f"backup-{backup.id}")
        try:
            # an encrypted volume's bytes as they are (only its key opens the backup)
            data.export_raw(source, raw, **({"encrypted": True} if volume.encryption_key_id else {}))
            with self.stores.open(backup, backup.task_token) as store:
                before = chunked.read_manifest(store, parent.container, parent.object_prefix) if parent else None
                manifest = chunked.back_up(store, backup.container, backup.object_prefix, raw, before, identity)
        finally:
            raw.unlink(missing_ok=True)
        self._finish(backup, status="available", fault=None, object_count=chunked.own_objects(manifest))
        self._release_source(backup)

    def _create_diff(self, backup: Backup, volume: Volume, parent: Backup | None, identity: dict) -> dict:
        """The volume's ``export-diff`` stream into the store: from the parent backup's snapshot when that is
        an RBD diff backup whose snapshot the volume still holds, else whole."""
        rbd = self.volumes.rbd
        with self.stores.open(backup, backup.task_token) as store:
            before = chunked.read_manifest(store, parent.container, parent.object_prefix) if parent else None
            base = before if diffs.is_diff(before) and before["snap"] in rbd.snapshots(volume.id) else None
            size = rbd.take_backup_snapshot(volume.id, backup.id)
            snap = rbd.backup_snap(backup.id)
            with rbd.export_diff(volume.id, snap, base["snap"] if base else None) as stream:
                parts = diffs.store_stream(store, backup.container, backup.object_prefix, stream)
            return diffs.write_manifest(store, backup.container, backup.object_prefix, parts, snap=snap, base=base,
                                        base_container=parent.container if base else None, size_bytes=size,
                                        identity=identity)

    def _drop_backup_snapshot(self, backup: Backup) -> None:
        """The RBD snapshot a backup read (or a failed one took) goes with it."""
        with self.db.read() as session:
            volume = session.get(Volume, backup.volume_id)
        if volume is not None and self.volumes.is_rbd(volume.backend):
            self.volumes.rbd.drop_backup_snapshot(volume.id, backup.id)

    def _release_source(self, backup: Backup) -> None:
        """The volume (or snapshot) a backup read goes back to the status it had."""
        with self.db.write() as session:
            if backup.snapshot_id:
                session.execute(update(Snapshot).where(Snapshot.id == backup.snapshot_id,
                                                       Snapshot.status == "backing-up").values(status="available"))
                return
            volume = session.get(Volume, backup.volume_id)
            if volume is not None and volume.status == "backing-up":
                volume.status, volume.previous_status = volume.previous_status or "available", None

    def _create_failed(self, backup: Backup, reason: str) -> None:
        # The objects already stored are purged by the next step (the task becomes "purge").
        with self.db.write() as session:
            session.execute(update(Backup).where(Backup.id == backup.id, Backup.task == "create")
                            .values(status="error", fault=reason, task="purge"))
            messages.record(session, backup.project_id, "VOLUME_BACKUP", backup.id, "backup_create", reason)
        self._release_source(backup)

    def _purge(self, backup: Backup) -> None:
        with self.stores.open(backup, backup.task_token) as store:
            chunked.delete(store, backup.container, backup.object_prefix)
        self._drop_backup_snapshot(backup)
        self._finish(backup)

    def _purge_failed(self, backup: Backup, reason: str) -> None:
        LOG.warning("backup %s: its partial objects stay in %s: %s", backup.id, backup.container, reason)
        self._finish(backup)

    # -- restore ---------------------------------------------------------------------------------------
    def _restore(self, backup: Backup) -> None:
        with self.db.read() as session:
            volume = session.get(Volume, backup.restore_volume_id)
        if volume is None or volume.status not in RESTORING:
            raise BackupError(f"the volume to restore into ({backup.restore_volume_id}) is gone or was changed")
        data = self.volumes.of(volume.backend)
        raw = data.work_file(volume.id, "restore")
        try:
            with self.stores.open(backup, backup.task_token) as store:
                manifest = chunked.read_manifest(store, backup.container, backup.object_prefix)
                if diffs.is_diff(manifest):
                    written = self._restore_diffs(store, backup, manifest, volume, raw)
                else:
                    chunked.restore(store, backup.container, manifest, raw)
                    written = False
            if not written:
                data.import_raw(volume.id, raw, volume.size, **luks_for(self.db, self.volumes.keys, volume))
        finally:
            raw.unlink(missing_ok=True)
        with self.db.write() as session:
            row = session.get(Volume, volume.id)
            if row is not None and row.status in RESTORING:
                row.status, row.fault = "available", None
                # What the volume was travels with its data, as Cinder restores a backup's volume metadata.
                row.bootable = bool(manifest.get("bootable", row.bootable))
                row.metadata_ = {**row.metadata_, **(manifest.get("volume_metadata") or {})}
                row.image_metadata = dict(manifest.get("volume_image_metadata") or row.image_metadata)
        self._finish(backup, status="available", restore_volume_id=None)

    def _restore_diffs(self, store, backup: Backup, manifest: dict, volume: Volume, raw) -> bool:
        """Apply an RBD diff backup's chain of streams: straight into an RBD volume (True: done), or into a
        local raw file for a file volume (False: ``raw`` is to be imported)."""
        rbd = self.volumes.rbd
        if rbd is None:
            raise BackupError(f"backup {backup.id} is an RBD diff backup and this cloud has no Ceph cluster")
        steps = diffs.chain(store, manifest)
        streams = [diffs.stream(store, container, step)
                   for step, container in zip(steps, diffs.containers(steps, backup.container), strict=True)]
        if self.volumes.is_rbd(volume.backend):
            rbd.restore_diffs(volume.id, streams, volume.size)
            return True
        rbd.diffs_to_raw(volume.id, streams, raw)
        return False

    def _restore_failed(self, backup: Backup, reason: str) -> None:
        with self.db.write() as session:
            volume = session.get(Volume, backup.restore_volume_id)
            if volume is not None and volume.status in RESTORING:
                volume.status = "error" if volume.status == "creating" else "error_restoring"
                volume.fault = f"restoring backup {backup.id}: {reason}"
            messages.record(session, backup.project_id, "VOLUME_BACKUP", backup.id, "backup_restore", reason)
        self._finish(backup, status="available", restore_volume_id=None)

    # -- delete and import -----------------------------------------------------------------------------
    def _delete(self, backup: Backup) -> None:
        with self.stores.open(backup, backup.task_token) as store:
            chunked.delete(store, backup.container, backup.object_prefix)
        self._drop_backup_snapshot(backup)
        with self.db.write() as session:
            row = session.get(Backup, backup.id)
            if row is not None and row.task == "delete":
                session.delete(row)
                self.volumes.keys.delete(session, row.encryption_key_id)

    def _delete_failed(self, backup: Backup, reason: str) -> None:
        if self._finish(backup, status="error_deleting", fault=reason):
            with self.db.write() as session:
                messages.record(session, backup.project_id, "VOLUME_BACKUP", backup.id, "backup_delete", reason)

    def _import(self, backup: Backup) -> None:
        """An imported record becomes available once its manifest is found and agrees with it."""
        with self.stores.open(backup, backup.task_token) as store:
            manifest = chunked.read_manifest(store, backup.container, backup.object_prefix)
        if manifest.get("size_bytes", 0) > backup.size * 1024**3:
            raise BackupError("the backup's data are larger than its record says")
        self._finish(backup, status="available", fault=None, object_count=chunked.own_objects(manifest))

    def _import_failed(self, backup: Backup, reason: str) -> None:
        self._finish(backup, status="error", fault=f"import: {reason}")

    # -- after a crash ---------------------------------------------------------------------------------
    def recover(self) -> None:
        self.stores.posix.discard_partials()
        with self.db.read() as session:
            cut = session.scalars(select(Backup).where(Backup.task.in_(("create", "restore")))).all()
        for backup in cut:
            reason = f"Block Storage restarted while {'making' if backup.task == 'create' else 'restoring'} it"
            LOG.warning("backup %s: %s", backup.id, reason)
            getattr(self, f"_{backup.task}_failed")(backup, reason)
