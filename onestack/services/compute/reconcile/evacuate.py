"""The evacuation's steps (task ``rebuilding_elsewhere``): a scheduling process claims a new host (the
migration accepted -> pre-migrating, the server now that host's), then the new host's own process makes the
guest (-> done); ``error`` when no host will take it, the server then left as it was on its down host.  ``service/evacuate.py`` says what it is.

Each step may be repeated: the claim rewrites the same allocations, a spawn of a guest that runs does
nothing, the last write is one transaction."""

from __future__ import annotations

from onestack.drivers.compute import PowerState
from onestack.services.compute.models import Instance
from onestack.services.compute.models import states as st
from onestack.services.compute.reconcile.moves import MoveSteps
from onestack.services.compute.service.evacuate import PLACED, STOPPED_AFTER
from onestack.services.compute.service.resize import OLD_VM_STATE
from onestack.services.compute.service.scheduler import NoValidHost


class EvacuateSteps(MoveSteps):
    def steps(self) -> dict:
        return {st.REBUILDING_ELSEWHERE: self.step}

    def _set(self, instance: Instance, migration: dict, **changes) -> bool:
        return self._advance(instance, st.REBUILDING_ELSEWHERE, migration, **changes)

    def step(self, instance: Instance) -> None:
        migration = self._migration(instance)
        if migration.status == "accepted":
            try:
                dest = self.scheduler.place_resize(instance, instance.flavor, migration.uuid, same_host=False)
            except NoValidHost as exc:
                if self._set(instance, {"status": "error"}, task_state=None, task_args={}):
                    self.records.event(instance.id, "evacuate", "conductor_rebuild_server", "Error", str(exc))
                return
            self._set(instance, {"status": "pre-migrating", "dest_compute": dest, "dest_node": dest,
                                 "dest_host": self.hosts.address(dest)},
                      host=dest, task_args={**instance.task_args, PLACED: dest})
            return
        dest = migration.dest_compute
        self._bind(instance)
        driver = self.hosts.driver(dest)
        driver.spawn(self.specs.spec(instance))
        stopped = instance.task_args.get(STOPPED_AFTER) or instance.task_args.get(OLD_VM_STATE) == st.STOPPED
        if stopped:
            driver.power_off(instance.id)
        self.networking.mark_active(instance)
        self.scheduler.release_migration(migration.uuid)  # the down host's room
        power = driver.instance_info(instance.id).power_state
        if self._set(instance, {"status": "done"}, host=dest, task_state=None, task_args={},
                     vm_state=st.STOPPED if stopped else st.ACTIVE, power_state=int(power or PowerState.NOSTATE),
                     fault=None):
            self.records.event(instance.id, "evacuate", "compute_rebuild_instance", "Success")
