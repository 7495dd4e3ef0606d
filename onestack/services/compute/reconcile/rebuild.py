"""The rebuild steps: the guest destroyed (rebuilding), a volume-backed server's root volume re-imaged
(rebuild_block_device_mapping, 2.93), then the guest spawned from the new image or the re-imaged volume
(rebuild_spawning); a stopped server is stopped again afterwards, as Nova leaves it.  ``service/rebuild.py``
says what a rebuild changes, ``service/volume_rebuild.py`` how a root volume is re-imaged."""

from __future__ import annotations

from onestack.drivers.compute import DriverError
from onestack.services.compute.models import Instance
from onestack.services.compute.models import states as st
from onestack.services.compute.reconcile.records import InstanceRecords
from onestack.services.compute.reconcile.specs import GuestSpecs
from onestack.services.compute.service import volume_rebuild
from onestack.services.compute.service.host_drivers import HostDrivers
from onestack.services.compute.service.rebuild import OLD_VM_STATE


class RebuildSteps:
    def __init__(self, records: InstanceRecords, specs: GuestSpecs, hosts: HostDrivers,
                 root_volumes: volume_rebuild.RootVolumeRebuild | None = None):
        self.records = records
        self.specs = specs
        self.hosts = hosts
        self.root_volumes = root_volumes

    def steps(self) -> dict:
        return {st.REBUILDING: self.destroy, st.REBUILD_BLOCK_DEVICE_MAPPING: self.reimage,
                st.REBUILD_SPAWNING: self.spawn}

    def destroy(self, instance: Instance) -> None:
        self.hosts.driver(instance.host).destroy(instance.id)
        after = st.REBUILD_BLOCK_DEVICE_MAPPING if volume_rebuild.wanted(instance) else st.REBUILD_SPAWNING
        self.records.advance(instance.id, st.REBUILDING, task_state=after)

    def reimage(self, instance: Instance) -> float | None:
        if self.root_volumes is None:
            raise DriverError("Block Storage is not available to re-image the root volume.")
        again = self.root_volumes.step(instance)
        if again is not None:
            return again
        self.records.advance(instance.id, st.REBUILD_BLOCK_DEVICE_MAPPING, task_state=st.REBUILD_SPAWNING,
                             task_args=volume_rebuild.finished(instance.task_args))
        return None

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
