"""Live migration for the QEMU driver: the destination's half and the source's, over the instance's files."""

from __future__ import annotations

from onestack.drivers.compute import PRE_COPY, DriverError, InstanceSpec, MigrationProgress
from onestack.drivers.qemu import coldmove, command, disks, migration
from onestack.drivers.qemu.qmp import QMPError


class MigratingGuests:
    """The QEMU driver's live migrations, its half on either end (a mixin of ``QemuDriver``, whose files,
    locks and QMP it uses); ``qemu/migration.py`` says how a migration goes."""

    def _migration(self, uuid: str) -> migration.State:
        return migration.State(self._dir(uuid).root / "migration.json")

    # -- cold: a stopped guest's disks ------------------------------------------------------------------

    def export_disks(self, uuid: str, address: str) -> str:
        with self._locks[uuid]:
            where = self._dir(uuid)
            if not where.exists():
                raise DriverError(f"instance {uuid} does not exist")
            if self._pid(uuid):
                raise DriverError(f"instance {uuid} runs: only a stopped guest's disks are copied")
            return coldmove.serve(where.load_spec(), where, address or "127.0.0.1")

    def end_export(self, uuid: str) -> None:
        with self._locks[uuid]:
            coldmove.stop(self._dir(uuid))

    def import_disks(self, spec: InstanceSpec, uri: str) -> None:
        with self._locks[spec.uuid]:
            where = self._dir(spec.uuid)
            if where.exists() or not uri:  # made here already (spawn writes the spec last)
                return
            where.root.mkdir(parents=True, exist_ok=True)
            try:
                coldmove.fetch(spec, where, self.base_dir, uri)
                # a root disk in Ceph did not travel: it is opened where it is (and grown for a larger flavor);
                # so are ephemeral and swap disks there, which spawn finds
                if not self._adopt_rbd_root(spec, where):
                    disks.grow_root(spec, where)  # a resize to a larger flavor, on the copy
            except OSError as exc:
                raise DriverError(f"cannot copy instance {spec.uuid}'s disks: {exc}") from exc

    # -- live -------------------------------------------------------------------------------------------

    def prepare_incoming(self, spec: InstanceSpec, address: str) -> str:
        with self._locks[spec.uuid]:
            where, state = self._dir(spec.uuid), self._migration(spec.uuid)
            known = state.read()
            if known.get("incoming") and known.get("uri") and self._pid(spec.uuid):
                return known["uri"]
            if where.exists() and not known.get("incoming"):
                raise DriverError(f"instance {spec.uuid} already runs on this host")
            if known.get("incoming"):  # an earlier attempt whose QEMU is gone: start afresh
                self.release(spec.uuid)
            where.root.mkdir(parents=True, exist_ok=True)
            state.write(incoming=True)  # first, so that abort_incoming finds whatever follows
            try:
                # a root disk in Ceph is opened by both QEMUs (the destination's touches it only once it
                # runs): not mirrored, as writable_drives leaves it out; a local one is a fresh overlay
                if not self._adopt_rbd_root(spec, where):
                    disks.create_root(spec, where, self.base_dir)
                # ephemeral and swap disks in Ceph are opened where they are, as the root disk is
                self._create_ephemeral_and_swap(spec, where)
                disks.copy_config_drive(spec, where)
                where.save_spec(spec)
                self._start(spec, incoming="defer")
                with self._qmp(spec.uuid, timeout=30) as qmp:
                    uri = migration.listen(qmp, address or "127.0.0.1", command.writable_drives(spec, where))
            except QMPError as exc:
                raise DriverError(f"the destination cannot take the guest: {exc}") from exc
            except OSError as exc:
                raise DriverError(f"cannot prepare instance {spec.uuid}: {exc}") from exc
            state.write(uri=uri)
            return uri

    def finish_incoming(self, uuid: str) -> None:
        with self._locks[uuid]:
            state = self._migration(uuid)
            if not state.read().get("incoming"):
                return
            self._require_running_qemu(uuid)
            try:
                with self._qmp(uuid, timeout=30) as qmp:
                    migration.arrive(qmp)
            except QMPError as exc:
                raise DriverError(f"the guest did not start on the destination: {exc}") from exc
            state.clear()

    def abort_incoming(self, uuid: str) -> None:
        with self._locks[uuid]:
            if self._migration(uuid).read().get("incoming"):
                self.release(uuid)  # a root disk in Ceph is the source's guest's, which carries on there

    def live_migrate(self, uuid: str, uri: str, downtime_ms: int, bandwidth_mib: int = 0) -> None:
        with self._locks[uuid]:
            self._require_running_qemu(uuid)
            state = self._migration(uuid)
            try:
                with self._qmp(uuid, timeout=30) as qmp:
                    if qmp.execute("query-migrate").get("status") in migration.UNDER_WAY:
                        return
                    postcopy = migration.start(qmp, uri, downtime_ms, bandwidth_mib)
            except QMPError as exc:
                raise DriverError(f"the migration did not start: {exc}") from exc
            state.write(outgoing=True, mode=PRE_COPY, downtime_ms=downtime_ms, postcopy=postcopy)

    def migration_progress(self, uuid: str) -> MigrationProgress:
        with self._locks[uuid]:
            state = self._migration(uuid)
            known = state.read()
            if not known.get("outgoing") or self._pid(uuid) is None:
                return MigrationProgress("none")
            try:
                with self._qmp(uuid) as qmp:
                    found = migration.progress(qmp, known["mode"], known["downtime_ms"], known["postcopy"])
                    if found.status in ("completed", "failed", "cancelled"):
                        migration.end_mirrors(qmp)
            except QMPError as exc:
                raise DriverError(f"cannot follow the migration: {exc}") from exc
            if found.mode != known["mode"]:
                state.write(mode=found.mode)
            return found

    def steer_migration(self, uuid: str, downtime_ms: int | None = None, mode: str | None = None) -> None:
        with self._locks[uuid]:
            state = self._migration(uuid)
            if not state.read().get("outgoing"):
                return
            try:
                with self._qmp(uuid) as qmp:
                    migration.steer(qmp, downtime_ms, mode)
            except QMPError as exc:
                raise DriverError(f"cannot steer the migration: {exc}") from exc
            state.write(**({"downtime_ms": downtime_ms} if downtime_ms is not None else {}),
                        **({"mode": mode} if mode is not None else {}))

    def abort_migration(self, uuid: str) -> None:
        with self._locks[uuid]:
            known = self._migration(uuid).read()
            if not known.get("outgoing") or self._pid(uuid) is None:
                return
            try:
                with self._qmp(uuid, timeout=30) as qmp:
                    migration.cancel(qmp, known.get("mode", PRE_COPY))
            except QMPError as exc:
                raise DriverError(f"cannot cancel the migration: {exc}") from exc
