"""The rebuild steps: the guest destroyed (rebuilding), then spawned from the new image (rebuild_spawning);
a stopped server is stopped again afterwards, as Nova leaves it.  ``service/rebuild.py`` says what a
rebuild changes."""

from __future__ import annotations

from onestack.services.compute.models import Instance
from onestack.services.compute.models import states as st
from onestack.services.compute.reconcile.records import InstanceRecords
from onestack.services.compute.reconcile.specs import GuestSpecs
from onestack.services.compute.service.host_drivers import HostDrivers
from onestack.services.compute.service.rebuild import OLD_VM_STATE


class RebuildSteps:
    def __init__(self, records: InstanceRecords, specs: GuestSpecs, hosts: HostDrivers):
        self.records = records
        self.specs = specs
        self.hosts = hosts

    def steps(self) -> dict:
        return {st.REBUILDING: self.destroy, st.REBUILD_SPAWNING: self.spawn}

    def destroy(self, instance: Instance) -> None:
        self.hosts.driver(instance.host).destroy(instance.id)
        self.records.advance(instance.id, st.REBUILDING, task_state=st.REBUILD_SPAWNING)

    def spawn(self, instance: Instance) -> None:
        driver = self.hosts.driver(instance.host)
        driver.spawn(self.specs.spec(instance))
        stopped = instance.task_args.get(OLD_VM_STATE) == st.STOPPED
        if stopped:
            driver.power_off(instance.id)
        power = driver.instance_info(instance.id).power_state
        self.records.advance(instance.id, st.REBUILD_SPAWNING, vm_state=st.STOPPED if stopped else st.ACTIVE,
                             task_state=None, power_state=int(power), progress=100, fault=None)
        self.records.event(instance.id, "rebuild", "compute_rebuild_instance", "Success")
