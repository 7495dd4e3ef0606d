"""What every move of a server between hosts (resize and cold migration, live migration, evacuation) does
the same way: its steps read the migration the task names (``task_args["migration"]``) and advance the
instance and that migration in one transaction, unless the task changed meanwhile."""

from __future__ import annotations

from sqlalchemy import select

from onestack.db.engine import Database
from onestack.services.compute.models import Instance, Migration
from onestack.services.compute.reconcile.records import InstanceRecords
from onestack.services.compute.reconcile.specs import GuestSpecs
from onestack.services.compute.service.host_drivers import HostDrivers
from onestack.services.compute.service.networking import InstanceNetworking
from onestack.services.compute.service.resize import MIGRATION
from onestack.services.compute.service.scheduler import Scheduler
from onestack.services.compute.service.volume_attachments import VolumeAttachments


class MoveSteps:
    def __init__(self, db: Database, records: InstanceRecords, specs: GuestSpecs, hosts: HostDrivers,
                 scheduler: Scheduler, networking: InstanceNetworking, volumes: VolumeAttachments | None = None):
        self.db = db
        self.records = records
        self.specs = specs
        self.hosts = hosts
        self.scheduler = scheduler
        self.networking = networking
        self.volumes = volumes

    def _bind(self, instance: Instance) -> None:
        """Where the guest runs now (``instance.host``): its ports bound there and its volumes' attachments
        naming that host, as Nova updates them with the destination's connector.  A binding made on
        another host beforehand (a live migration's) is activated rather than rewritten, and every other
        binding dropped."""
        self.networking.settle_bindings(instance)
        self.networking.ensure_ports(instance)
        if self.volumes is not None:
            self.volumes.rehome(instance)

    def _migration(self, instance: Instance) -> Migration:
        with self.db.read() as session:
            return session.scalars(select(Migration).where(Migration.uuid == instance.task_args[MIGRATION])).one()

    def _advance(self, instance: Instance, expected_task: str, migration: dict, **changes) -> bool:
        """Write ``changes`` to the instance and ``migration`` to its migration row, in one transaction, if
        its task is still ``expected_task``."""
        with self.db.write() as session:
            row = session.get(Instance, instance.id)
            if row is None or row.task_state != expected_task:
                return False
            record = session.scalars(select(Migration).where(Migration.uuid == row.task_args[MIGRATION])).one()
            for key, value in changes.items():
                setattr(row, key, value)
            for key, value in migration.items():
                setattr(record, key, value)
            return True
