"""The instance reconciler: converges each instance to what its ``task_state`` asks for.

The API only writes a task state (and the action record) and wakes the reconciler with the instance's
id.  One ``step`` reads the row, does one idempotent piece of work through the scheduler, the
network service or the host's driver, and writes the next state; it runs again until no task is
left.  A crash between two steps costs nothing: the periodic resync finds every instance with a
task and the step repeats safely.  ``DriverError`` is final (ERROR with a fault); anything else is
retried with backoff by the loop.
"""

from __future__ import annotations

import functools
import logging
import traceback
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import or_, select

from onestack.db.base import utcnow
from onestack.db.engine import Database
from onestack.drivers.compute import DriverError, PowerState
from onestack.http.errors import APIError
from onestack.reconcile.loop import KeyedQueue, Loop
from onestack.services.compute.models import Instance
from onestack.services.compute.models import states as st
from onestack.services.compute.reconcile.evacuate import EvacuateSteps
from onestack.services.compute.reconcile.live_migration import LiveMigrationSteps
from onestack.services.compute.reconcile.rebuild import RebuildSteps
from onestack.services.compute.reconcile.records import InstanceRecords
from onestack.services.compute.reconcile.rescue import RescueSteps
from onestack.services.compute.reconcile.resize import ResizeSteps
from onestack.services.compute.reconcile.shelving import ShelveSteps, forget_shelved_image
from onestack.services.compute.reconcile.snapshots import SnapshotSteps
from onestack.services.compute.reconcile.specs import GuestSpecs
from onestack.services.compute.service import ComputeService
from onestack.services.compute.service.boot_volumes import BootVolumes
from onestack.services.compute.service.evacuate import PLACED
from onestack.services.compute.service.host_drivers import HostDrivers
from onestack.services.compute.service.live_migration import Policy
from onestack.services.compute.service.networking import InstanceNetworking
from onestack.services.compute.service.scheduler import NoValidHost, Scheduler
from onestack.services.compute.service.shelving import SHELVED_IMAGE
from onestack.services.compute.service.snapshots import Snapshots
from onestack.services.compute.service.volume_attachments import VolumeAttachments
from onestack.services.compute.service.volume_rebuild import RootVolumeRebuild
from onestack.services.image.public import Images

LOG = logging.getLogger("onestack.compute.reconcile")

# task state -> (driver call, vm_state after, event name)
POWER_TASKS = {
    st.POWERING_OFF: ("power_off", st.STOPPED, "compute_stop_instance"),
    st.POWERING_ON: ("power_on", st.ACTIVE, "compute_start_instance"),
    st.REBOOTING: ("reboot", st.ACTIVE, "compute_reboot_instance"),
    st.REBOOTING_HARD: ("reboot", st.ACTIVE, "compute_reboot_instance"),
    st.PAUSING: ("pause", st.PAUSED, "compute_pause_instance"),
    st.UNPAUSING: ("unpause", st.ACTIVE, "compute_unpause_instance"),
    st.SUSPENDING: ("suspend", st.SUSPENDED, "compute_suspend_instance"),
    st.RESUMING: ("resume", st.ACTIVE, "compute_resume_instance"),
}
# drivers that take the whole spec rather than the uuid
NEEDS_SPEC = {"power_on", "reboot", "resume"}


class InstanceReconciler:
    def __init__(self, db: Database, hosts: HostDrivers, scheduler: Scheduler, networking: InstanceNetworking,
                 images: Images, snapshots: Snapshots, wakeups: KeyedQueue, *, config_drives: Path, workers: int,
                 schedules: bool, volumes: VolumeAttachments | None = None, boot_volumes: BootVolumes | None = None,
                 migration_policy: Policy | None = None):
        """``wakeups``: the instances the service hands over; ``schedules``: this process places new
        instances (a joined host only converges its own)."""
        self.db = db
        self.hosts = hosts
        self.scheduler = scheduler
        self.networking = networking
        self.snapshots = snapshots
        self.schedules = schedules
        self.records = InstanceRecords(db)
        self.volumes = volumes
        self.boot_volumes = boot_volumes
        self.specs = GuestSpecs(networking, images, config_drives, *([volumes.guest_disks] if volumes else []),
                                clones_in_ceph=hosts.rbd_disks is not None)
        self.loop = Loop("compute", self.step, self.pending, workers=workers, queue=wakeups)
        self.resizes = ResizeSteps(db, self.records, self.specs, hosts, scheduler, networking, volumes)
        self.live_migrations = LiveMigrationSteps(db, self.records, self.specs, hosts, scheduler, networking,
                                                  migration_policy or Policy(), volumes)
        # task state -> the step that moves it on; each action contributes its own steps
        self.steps: dict[str, Callable[[Instance], float | Instance | None]] = {
            st.SCHEDULING: self._schedule, st.NETWORKING: self._network, st.SPAWNING: self._spawn,
            st.DELETING: self._delete,
            **{task: functools.partial(self._power, task=task) for task in POWER_TASKS},
            **self.resizes.steps(),
            **self.live_migrations.steps(),
            **EvacuateSteps(db, self.records, self.specs, hosts, scheduler, networking, volumes).steps(),
            **RebuildSteps(self.records, self.specs, hosts,
                           RootVolumeRebuild(db, volumes) if volumes is not None else None).steps(),
            **SnapshotSteps.create_image(self.records, hosts, images, snapshots).steps(),
            **ShelveSteps(self.records, self.specs, hosts, scheduler, networking, images, snapshots).steps(),
            **RescueSteps(self.records, self.specs, hosts).steps(),
        }

    @classmethod
    def of(cls, compute: ComputeService) -> InstanceReconciler:
        """The reconciler of the instances ``compute`` hands over."""
        settings = compute.settings
        return cls(compute.db, compute.hosts, compute.scheduler, compute.networking, compute.images,
                   compute.snapshots, compute.wakeups, config_drives=settings.data_dir / "compute" / "config-drives",
                   workers=settings.compute.engine_workers, schedules=compute.schedules,
                   volumes=compute.volume_attachments, boot_volumes=compute.boot_volumes,
                   migration_policy=Policy(settings.compute.live_migration_downtime_ms,
                                           settings.compute.live_migration_downtime_step_ms,
                                           settings.compute.live_migration_max_downtime_ms,
                                           settings.compute.live_migration_switch_after,
                                           settings.compute.live_migration_bandwidth))

    def start(self) -> None:
        self.loop.start()

    def stop(self) -> None:
        self.loop.stop()

    def pending(self) -> list[str]:
        """Instances with work to do on the hosts this process runs (or waiting for a host)."""
        hosts = list(self.hosts.names())
        # a scheduling process also evacuates servers off hosts that are down (their own process is gone)
        mine = or_(Instance.host.in_(hosts), Instance.host.is_(None),
                   Instance.task_state == st.REBUILDING_ELSEWHERE) if self.schedules else Instance.host.in_(hosts)
        with self.db.read() as session:
            return list(session.scalars(select(Instance.id).where(
                Instance.deleted.is_(False), Instance.task_state.is_not(None), mine)))

    # -- one step ------------------------------------------------------------------
    def step(self, instance_id: str) -> float | None:
        with self.db.read() as session:
            instance = session.get(Instance, instance_id)
        while True:
            outcome = self._one_step(instance_id, instance)
            if not isinstance(outcome, Instance):
                return outcome
            # A boot step moved the server on and hands back the row as it wrote it (under the expected task):
            # the next step starts from that, not from a read of its own (a read transaction per step saved).
            instance = outcome

    def _one_step(self, instance_id: str, instance: Instance | None) -> float | Instance | None:
        """Seconds to wait before the same step runs again, the row as written when a step moved it on and
        says so (the caller runs the next step now), or None (the next step, if any, is woken)."""
        if instance is None or instance.deleted or instance.task_state is None:
            return None
        task = instance.task_state
        # a scheduling process claims a new host for a server evacuated off a down one; that host makes it
        placing = self.schedules and task == st.REBUILDING_ELSEWHERE and PLACED not in (instance.task_args or {})
        if instance.host not in self.hosts.names() and (instance.host is not None or not self.schedules) \
                and not placing:
            return None  # another process's host converges it, or the controller places (or evacuates) it
        run = self.steps.get(task)
        if run is None:
            LOG.warning("instance %s: no step for task %s", instance_id, task)
            return None
        try:
            again = run(instance)
        except DriverError as exc:
            self.records.error(instance_id, str(exc), traceback.format_exc())
            return None
        except NoValidHost as exc:
            self.records.error(instance_id, str(exc), "", code=500)
            return None
        if again is not None:  # waiting for something else (a volume being made): the same step later; or moved on
            return again
        self.loop.wake(instance_id)  # the next step, if any
        return None

    def _schedule(self, instance: Instance) -> Instance | None:
        placed: list[Instance | None] = []

        def record(host: str) -> bool:
            placed.append(self.records.advance_to(instance.id, st.SCHEDULING, host=host, task_state=st.NETWORKING))
            return placed[-1] is not None

        self.scheduler.place(instance, record)
        return placed[-1] if placed else None

    def _network(self, instance: Instance) -> Instance | None:
        try:
            self.networking.ensure_ports(instance)
        except APIError as exc:  # the network service said no (no address left, a group it cannot apply...)
            raise DriverError(f"Build of instance {instance.id} aborted: Failed to allocate the network(s): "
                              f"{exc}") from None
        return self.records.advance_to(instance.id, st.NETWORKING, task_state=st.SPAWNING)

    def _spawn(self, instance: Instance) -> float | Instance | None:
        """The guest's first start, or its start again after an unshelve (from the shelved snapshot), once the
        volumes it is built with are connected (seconds to look again while one is being made).  Its ports are
        up before the server says ACTIVE."""
        if self.volumes is not None and self.boot_volumes is not None:
            waiting = self.boot_volumes.connect_for_boot(instance, self.volumes)
            if waiting is not None:
                return waiting
        driver = self.hosts.driver(instance.host)
        ports = self.networking.ports(instance.id)  # read once: the guest's NICs, then the ports made ACTIVE
        driver.spawn(self.specs.spec(instance, ports=ports))
        unshelving = SHELVED_IMAGE in (instance.task_args or {})
        event = (("unshelve", "compute_unshelve_instance", "Success") if unshelving
                 else ("create", "compute__do_build_and_run_instance", "Success"))
        self.networking.mark_active(instance, ports)
        written = self.records.advance_to(instance.id, st.SPAWNING, event=event, vm_state=st.ACTIVE, task_state=None,
                                          power_state=int(PowerState.RUNNING), progress=100,
                                          **({"task_args": {}} if unshelving else {"launched_at": utcnow()}))
        if unshelving:
            forget_shelved_image(self.snapshots, instance)
        return written

    def _power(self, instance: Instance, task: str) -> None:
        call, vm_state, event = POWER_TASKS[task]
        driver = self.hosts.driver(instance.host)
        method = getattr(driver, call)
        if call == "reboot":
            method(self.specs.spec(instance), hard=task == st.REBOOTING_HARD)
        else:
            method(self.specs.spec(instance) if call in NEEDS_SPEC else instance.id)
        power = driver.instance_info(instance.id).power_state
        self.records.advance(instance.id, task, event=(None, event, "Success"), vm_state=vm_state, task_state=None,
                             power_state=int(power))

    def _delete(self, instance: Instance) -> None:
        if instance.host is not None:
            self.hosts.driver(instance.host).destroy(instance.id)
        self.resizes.forget(instance)  # a resize waiting for confirmation holds a guest and room elsewhere
        if instance.vm_state in (st.SHELVED, st.SHELVED_OFFLOADED):
            forget_shelved_image(self.snapshots, instance)
        if self.volumes is not None:
            self.volumes.release_all(instance)
        self.networking.release_ports(instance)
        self.scheduler.release(instance)
        self.specs.config_drive_path(instance.id).unlink(missing_ok=True)
        self.records.advance(instance.id, st.DELETING, vm_state=st.DELETED, task_state=None,
                             power_state=int(PowerState.NOSTATE), deleted=True, deleted_at=utcnow(),
                             terminated_at=utcnow())
