"""The rescue steps.  Drivers have no separate rescue call: a rescue is the hard reboot that builds the guest
again from a spec naming the rescue image (the driver boots a disk made from it, the guest's own root disk
attached after it), and unrescue the hard reboot from the server's own spec (the rescue disk goes).  Both are
repeated whole when a crash interrupts them."""

from __future__ import annotations

from onestack.services.compute.models import Instance
from onestack.services.compute.models import states as st
from onestack.services.compute.reconcile.records import InstanceRecords
from onestack.services.compute.reconcile.specs import GuestSpecs
from onestack.services.compute.service.host_drivers import HostDrivers
from onestack.services.compute.service.rescue import RESCUE_IMAGE


class RescueSteps:
    def __init__(self, records: InstanceRecords, specs: GuestSpecs, hosts: HostDrivers):
        self.records = records
        self.specs = specs
        self.hosts = hosts

    def steps(self) -> dict:
        return {st.RESCUING: self.rescue, st.UNRESCUING: self.unrescue}

    def _boot(self, instance: Instance, task: str, image_ref: str | None, vm_state: str, event: str) -> None:
        driver = self.hosts.driver(instance.host)
        driver.reboot(self.specs.spec(instance, rescue_image_ref=image_ref), hard=True)
        power = driver.instance_info(instance.id).power_state
        self.records.advance(instance.id, task, vm_state=vm_state, task_state=None, power_state=int(power))
        self.records.event(instance.id, None, event, "Success")

    def rescue(self, instance: Instance) -> None:
        self._boot(instance, st.RESCUING, instance.task_args.get(RESCUE_IMAGE), st.RESCUED, "compute_rescue_instance")

    def unrescue(self, instance: Instance) -> None:
        self._boot(instance, st.UNRESCUING, None, st.ACTIVE, "compute_unrescue_instance")
