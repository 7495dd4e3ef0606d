"""The reconciler's side of a migration (see ``service/migrations.py``): the phases, each written on the row
before it runs, so a restart resumes where the row says.

- ``starting``/``migrating``: the data are copied to the destination backend (a file made whole under a
  temporary name, then renamed; an attached volume's running guest copies its disk there itself and switches
  to it, QMP ``blockdev-mirror``, as Cinder has Nova swap the volume); the row still names the source.
- ``completing``: the row names the destination (backend, and the new type of a retype), in one
  transaction; the source's data are removed.
- ``success``: the volume back in the status it left.  A failure before ``completing`` removes what the
  destination holds and ends ``error``, the volume where it was and in the status it left.
"""

from __future__ import annotations

import logging

from sqlalchemy import update

from onestack.db.engine import Database
from onestack.drivers.volumefiles import VolumeFileError, VolumeFiles
from onestack.http.errors import APIError
from onestack.services.compute.public import GuestVolumes
from onestack.services.volume.models import Volume, VolumeType
from onestack.services.volume.service import messages
from onestack.services.volume.service.attachments import Attachments
from onestack.services.volume.service.encryption import luks_for
from onestack.services.volume.service.stores import VolumeStores
from onestack.services.volume.service.volumes import is_multiattach

LOG = logging.getLogger("onestack.volume")


class MigrationSteps:
    def __init__(self, db: Database, stores: VolumeStores, guests: GuestVolumes | None):
        self.db = db
        self.stores = stores
        self.guests = guests
        self.attachments = Attachments(db, stores)

    def step(self, volume: Volume) -> None:
        args = volume.task_args
        source, dest = self.stores.of(args["source"]), self.stores.of(args["backend"])
        if volume.migration_status in ("starting", "migrating"):
            self._phase(volume, "migrating")
            try:
                self._copy(volume, source, dest)
            except OSError as exc:  # the destination's directory cannot be written: the migration fails
                raise VolumeFileError(f"the data could not be copied to backend {args['backend']}: {exc}") from None
            self._switch(volume)
        source.delete_volume(volume.id)
        self._end(volume, "success")

    def _phase(self, volume: Volume, phase: str, **values) -> None:
        with self.db.write() as session:
            session.execute(update(Volume).where(Volume.id == volume.id, Volume.task == "migrate")
                            .values(migration_status=phase, **values))

    def _copy(self, volume: Volume, source, dest) -> None:
        """The volume's data onto the destination: through the running guest that holds it when attached
        (it goes on writing meanwhile), else a copy of the file (or image) as it lies."""
        key = luks_for(self.db, self.stores.keys, volume)
        if volume.previous_status == "in-use" and self.guests is not None:
            # the guest's copy needs its target: an empty one, unless an interrupted try made it (the guest may
            # be writing to it already)
            dest.create_blank(volume.id, volume.size, **key)
            with self.db.read() as session:
                row = session.get(Volume, volume.id)
                connection = self.attachments.connection(row, backend=volume.task_args["backend"])
            try:
                if self.guests.volume_moved(volume.id, connection.as_dict()):
                    return
            except APIError as exc:
                raise VolumeFileError(exc.message) from None
        if isinstance(source, VolumeFiles) and isinstance(dest, VolumeFiles):
            dest.copy_volume(volume.id, source.volume(volume.id), volume.size, **key)
            return
        raw = source.work_file(volume.id, "migrate")
        try:
            source.export_raw(source.source(volume.id), raw)
            dest.import_raw(volume.id, raw, volume.size)
        finally:
            raw.unlink(missing_ok=True)

    def _switch(self, volume: Volume) -> None:
        """The row names the destination (and a retype's new type): ``completing``."""
        values = {"backend": volume.task_args["backend"]}
        type_id = volume.task_args.get("type_id")
        if type_id is not None:
            with self.db.read() as session:
                target = session.get(VolumeType, type_id)
            if target is not None:
                values.update(type_id=target.id, multiattach=is_multiattach(target.extra_specs))
        self._phase(volume, "completing", **values)

    def _end(self, volume: Volume, outcome: str, reason: str | None = None) -> None:
        with self.db.write() as session:
            changed = session.execute(update(Volume).where(Volume.id == volume.id, Volume.task == "migrate").values(
                status=volume.previous_status or "available", migration_status=outcome, task=None,
                task_args=None, previous_status=None, fault=reason)).rowcount
            if changed and reason is not None:
                messages.record(session, volume.project_id, "VOLUME", volume.id, "migrate", reason)

    def _give_back(self, volume: Volume) -> None:
        """The servers of an attached volume whose move failed are given the source's connection again (a
        stopped one was given the destination's before its data were copied; a running guest still on the
        source's file stays there: the driver's swap to the file it has changes nothing)."""
        if volume.previous_status != "in-use" or self.guests is None:
            return
        with self.db.read() as session:
            row = session.get(Volume, volume.id)
            if row is None:
                return
            connection = self.attachments.connection(row, backend=volume.task_args["source"])
        try:
            self.guests.volume_moved(volume.id, connection.as_dict())
        except APIError as exc:
            LOG.warning("volume %s: its servers could not be given its source back: %s", volume.id, exc.message)

    def failed(self, volume: Volume, reason: str) -> None:
        """A migration that could not copy the data: the destination's copy goes, the volume stays where it
        was (``error``).  Once ``completing`` the data are on the destination: only the source's removal is
        left, which the next try does."""
        args = volume.task_args or {}
        if volume.migration_status != "completing":
            self._give_back(volume)
            try:
                self.stores.of(args["backend"]).delete_volume(volume.id)
            except (VolumeFileError, KeyError) as exc:
                LOG.warning("volume %s: what a failed migration copied stays: %s", volume.id, exc)
        else:
            LOG.warning("volume %s: the source data of a completed migration stay: %s", volume.id, reason)
        self._end(volume, "error" if volume.migration_status != "completing" else "success", reason)
