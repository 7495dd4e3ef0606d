"""The lifecycle engine: converges each instance to what its ``task_state`` asks for.

The API only writes a task state (and the action record) and wakes the engine with the instance's
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

from sqlalchemy import Row, or_, select
from sqlalchemy.orm import Session

from onestack.db.base import utcnow
from onestack.drivers import configdrive
from onestack.drivers.compute import DriverError, InstanceSpec, PowerState
from onestack.http.errors import APIError
from onestack.reconcile.loop import Loop
from onestack.services.compute.models import Instance, InstanceAction, InstanceActionEvent
from onestack.services.compute.models import states as st
from onestack.services.compute.service import guest_metadata as metadata
from onestack.services.compute.service import rebuild, rescue, resize, shelving, snapshots
from onestack.services.compute.service.scheduler import NoValidHost

LOG = logging.getLogger("onestack.compute.engine")

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
SYNC_KEY, SYNC_EVERY = "hosts", 10.0
# drivers that take the whole spec rather than the uuid
NEEDS_SPEC = {"power_on", "reboot", "resume"}


class Engine:
    def __init__(self, compute):
        """``compute``: the ComputeService (database, hosts, scheduler, network access)."""
        self.compute = compute
        self.db = compute.db
        self.loop = Loop("compute", self.step, self.pending, workers=compute.settings.compute.engine_workers)
        self.config_drives = compute.settings.data_dir / "compute" / "config-drives"
        self.hosts_loop = Loop("compute-hosts", self.sync_hosts, lambda: [], workers=1, resync_every=60)
        # task state -> the step that moves it on; each action's module contributes its own steps
        self.steps: dict[str, Callable[[Instance], None]] = {
            st.SCHEDULING: self._schedule, st.NETWORKING: self._network, st.SPAWNING: self._spawn,
            st.DELETING: self._delete,
            **{task: functools.partial(self._power, task=task) for task in POWER_TASKS},
        }
        for module in (resize, rebuild, snapshots, shelving, rescue):
            self.steps.update(module.steps(self))

    def start(self) -> None:
        self.loop.start()
        self.hosts_loop.start()
        self.hosts_loop.wake(SYNC_KEY)

    def stop(self) -> None:
        self.loop.stop()
        self.hosts_loop.stop()

    # -- the hosts against the database ----------------------------------------------------------------
    def sync_hosts(self, _key: str) -> float:
        """Nova's power-state sync and orphan cleanup, at start and every ``SYNC_EVERY`` seconds: a guest
        whose process died is SHUTOFF; a guest the database does not know (a crash between spawn and
        record, or a deleted row) is destroyed.  Guests that run are adopted, never restarted.  It is also
        the hosts' heartbeat."""
        self.compute.hosts.heartbeat()
        names = self.compute.hosts.names()
        # Guests first, records second: a guest spawned meanwhile had its record (and host) written before.
        guests = {host: self.compute.hosts.driver(host).list_instances() for host in names}
        on_host: dict[str, dict[str, Row]] = {host: {} for host in names}
        with self.db.read() as session:
            # The columns the sync compares, for every host at once: this runs over every instance there is.
            for row in session.execute(select(Instance.id, Instance.host, Instance.vm_state, Instance.task_state,
                                              Instance.power_state).where(Instance.host.in_(names),
                                                                          Instance.deleted.is_(False))):
                on_host[row.host][row.id] = row
        for host, known in on_host.items():
            driver = self.compute.hosts.driver(host)
            for uuid in guests[host]:
                if uuid not in known:
                    LOG.warning("destroying guest %s on %s: no instance record wants it", uuid, host)
                    driver.destroy(uuid)
            for instance in known.values():
                if instance.task_state is None and instance.vm_state in (st.ACTIVE, st.STOPPED, st.PAUSED,
                                                                         st.SUSPENDED):
                    self._sync_power(instance, driver.instance_info(instance.id).power_state)
        return SYNC_EVERY

    def _sync_power(self, instance: Row, seen: PowerState) -> None:
        if seen == instance.power_state:
            return
        changes = {"power_state": int(seen)}
        if instance.vm_state == st.ACTIVE and seen in (PowerState.SHUTDOWN, PowerState.NOSTATE, PowerState.CRASHED):
            LOG.warning("instance %s stopped outside onestack: marked SHUTOFF", instance.id)
            changes["vm_state"] = st.STOPPED
        with self.db.write() as session:
            row = session.get(Instance, instance.id)
            if row is not None and row.task_state is None and row.vm_state == instance.vm_state:
                for key, value in changes.items():
                    setattr(row, key, value)

    def wake(self, instance_id: str) -> None:
        self.loop.wake(instance_id)

    def pending(self) -> list[str]:
        """Instances with work to do on the hosts this process runs (or waiting for a host)."""
        hosts = list(self.compute.hosts.names())
        mine = or_(Instance.host.in_(hosts), Instance.host.is_(None)) if self.compute.schedules \
            else Instance.host.in_(hosts)
        with self.db.read() as session:
            return list(session.scalars(select(Instance.id).where(
                Instance.deleted.is_(False), Instance.task_state.is_not(None), mine)))

    # -- one step ------------------------------------------------------------------
    def step(self, instance_id: str) -> float | None:
        with self.db.read() as session:
            instance = session.get(Instance, instance_id)
        if instance is None or instance.deleted or instance.task_state is None:
            return None
        task = instance.task_state
        if instance.host not in self.compute.hosts.names() and (instance.host is not None
                                                                or not self.compute.schedules):
            return None  # another process's host converges it, or the controller places it
        run = self.steps.get(task)
        if run is None:
            LOG.warning("instance %s: no step for task %s", instance_id, task)
            return None
        try:
            run(instance)
        except DriverError as exc:
            self._error(instance_id, str(exc), traceback.format_exc())
            return None
        except NoValidHost as exc:
            self._error(instance_id, str(exc), "", code=500)
            return None
        self.wake(instance_id)  # the next step, if any
        return None

    def _schedule(self, instance: Instance) -> None:
        self.compute.scheduler.place(instance, lambda host: self._advance(
            instance.id, st.SCHEDULING, host=host, task_state=st.NETWORKING))

    def _network(self, instance: Instance) -> None:
        try:
            self.compute.networking.ensure_ports(instance)
        except APIError as exc:  # the network service said no (no address left, a group it cannot apply...)
            raise DriverError(f"Build of instance {instance.id} aborted: Failed to allocate the network(s): "
                              f"{exc}") from None
        self._advance(instance.id, st.NETWORKING, task_state=st.SPAWNING)

    def _spawn(self, instance: Instance) -> None:
        """The guest's first start, or its start again after an unshelve (from the shelved snapshot)."""
        driver = self.compute.hosts.driver(instance.host)
        driver.spawn(self.spec(instance))
        unshelving = shelving.SHELVED_IMAGE in (instance.task_args or {})
        event = (("unshelve", "compute_unshelve_instance", "Success") if unshelving
                 else ("create", "compute__do_build_and_run_instance", "Success"))
        self._advance(instance.id, st.SPAWNING, event=event, also=self.compute.networking.mark_active,
                      vm_state=st.ACTIVE, task_state=None, power_state=int(PowerState.RUNNING), progress=100,
                      **({"task_args": {}} if unshelving else {"launched_at": utcnow()}))
        if unshelving:
            shelving.forget_shelved_image(self, instance)

    def _power(self, instance: Instance, task: str) -> None:
        call, vm_state, event = POWER_TASKS[task]
        driver = self.compute.hosts.driver(instance.host)
        method = getattr(driver, call)
        if call == "reboot":
            method(self.spec(instance), hard=task == st.REBOOTING_HARD)
        else:
            method(self.spec(instance) if call in NEEDS_SPEC else instance.id)
        power = driver.instance_info(instance.id).power_state
        self._advance(instance.id, task, event=(None, event, "Success"), vm_state=vm_state, task_state=None,
                      power_state=int(power))

    def _delete(self, instance: Instance) -> None:
        if instance.host is not None:
            self.compute.hosts.driver(instance.host).destroy(instance.id)
        self.resizes.forget(instance)  # a resize waiting for confirmation holds a guest and room elsewhere
        if instance.vm_state in (st.SHELVED, st.SHELVED_OFFLOADED):
            shelving.forget_shelved_image(self, instance)
        self.compute.networking.release_ports(instance)
        self.compute.scheduler.release(instance)
        (self.config_drives / f"{instance.id}.iso").unlink(missing_ok=True)
        self._advance(instance.id, st.DELETING, vm_state=st.DELETED, task_state=None,
                      power_state=int(PowerState.NOSTATE), deleted=True, deleted_at=utcnow(),
                      terminated_at=utcnow())

    # -- writing back ------------------------------------------------------------------
    def _advance(self, instance_id: str, expected_task: str, *, event: tuple[str | None, str, str] | None = None,
                 also: Callable[[Session, Instance], None] | None = None, **changes) -> bool:
        """Write the outcome unless the task changed meanwhile (a delete overtook a boot, say).  In the same
        transaction, when it is written: ``event`` (action or None for the latest, event, result) closes
        the action, and ``also`` writes what else goes with the outcome."""
        with self.db.write() as session:
            instance = session.get(Instance, instance_id)
            if instance is None or instance.task_state != expected_task:
                return False
            for key, value in changes.items():
                setattr(instance, key, value)
            if also is not None:
                also(session, instance)
            if event is not None:
                self._record_event(session, instance, *event)
            return True

    def _error(self, instance_id: str, message: str, details: str, code: int = 500) -> None:
        LOG.info("instance %s failed: %s", instance_id, message)
        with self.db.write() as session:
            instance = session.get(Instance, instance_id)
            if instance is None:
                return
            instance.vm_state, instance.task_state = st.ERROR, None
            instance.fault = {"code": code, "message": message, "details": details,
                              "created": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")}
            self._record_event(session, instance, None, "compute_error", "Error", details)

    def _event(self, instance_id: str, action: str | None, event: str, result: str, details: str = "") -> None:
        """Close the instance's latest action (or the latest of kind ``action``) with one event."""
        with self.db.write() as session:
            instance = session.get(Instance, instance_id)
            if instance is not None:
                self._record_event(session, instance, action, event, result, details)

    @staticmethod
    def _record_event(session: Session, instance: Instance, action: str | None, event: str, result: str,
                      details: str = "") -> None:
        stmt = select(InstanceAction).where(InstanceAction.instance_uuid == instance.id)
        if action is not None:
            stmt = stmt.where(InstanceAction.action == action)
        record = session.scalars(stmt.order_by(InstanceAction.id.desc()).limit(1)).first()
        if record is None:
            return
        now = utcnow()
        session.add(InstanceActionEvent(action_id=record.id, event=event, host=instance.host, result=result,
                                        traceback=details or None, start_time=record.start_time, finish_time=now))
        record.finish_time = now
        if result == "Error":
            record.message = "Error"

    # -- what the driver is told -------------------------------------------------------------
    def spec(self, instance: Instance, flavor: dict | None = None, image_ref: str | None = None) -> InstanceSpec:
        """The guest as the instance row describes it; ``flavor`` and ``image_ref`` override the row's
        (a resize reverting to the old flavor, a rescue booting another image)."""
        flavor = flavor or instance.flavor
        nics = self.compute.networking.nics(instance)
        image_ref = image_ref or (instance.task_args or {}).get(shelving.SHELVED_IMAGE) or instance.image_ref
        return InstanceSpec(
            uuid=instance.id, name=f"instance-{instance.number:08x}", hostname=instance.hostname,
            vcpus=flavor["vcpus"], memory_mb=flavor["ram"], root_gb=flavor["disk"],
            ephemeral_gb=flavor.get("ephemeral", 0), swap_mb=flavor.get("swap", 0),
            image_path=self.compute.image_path(image_ref), image_format=None,
            nics=tuple(nics), config_drive=self._config_drive(instance), metadata=instance.metadata_)

    def _config_drive(self, instance: Instance) -> str | None:
        """The instance's config-2 ISO, written afresh (cheap, and always what the row says now)."""
        if not instance.config_drive:
            return None
        path = self.config_drives / f"{instance.id}.iso"
        path.parent.mkdir(parents=True, exist_ok=True)
        configdrive.build(path, metadata.config_drive_files(self.compute.guest(instance)))
        return str(path)
