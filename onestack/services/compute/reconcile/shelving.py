"""The shelve steps: the guest stops and its disk is saved as the shelved image (the snapshot steps under the
shelving task names), then it is offloaded at once (Nova's ``shelved_offload_time`` 0): destroyed on its
host, its room given back to placement, its ports kept but unbound.  Unshelving starts it again where it
is, or schedules an offloaded one as a boot does; the shelved image goes once it runs again."""

from __future__ import annotations

from onestack.drivers.compute import PowerState
from onestack.services.compute.models import Instance
from onestack.services.compute.models import states as st
from onestack.services.compute.reconcile.records import InstanceRecords
from onestack.services.compute.reconcile.snapshots import SnapshotSteps
from onestack.services.compute.reconcile.specs import GuestSpecs
from onestack.services.compute.service.host_drivers import HostDrivers
from onestack.services.compute.service.networking import InstanceNetworking
from onestack.services.compute.service.scheduler import Scheduler
from onestack.services.compute.service.shelving import SHELVED_IMAGE
from onestack.services.compute.service.snapshots import IMAGE_ID, Snapshots
from onestack.services.image.public import Images


def forget_shelved_image(snapshots: Snapshots, instance: Instance) -> None:
    image = (instance.task_args or {}).get(SHELVED_IMAGE) or (instance.task_args or {}).get(IMAGE_ID)
    if image:
        snapshots.delete_image(image)


class ShelveSteps:
    def __init__(self, records: InstanceRecords, specs: GuestSpecs, hosts: HostDrivers, scheduler: Scheduler,
                 networking: InstanceNetworking, images: Images, snapshots: Snapshots):
        self.records = records
        self.specs = specs
        self.hosts = hosts
        self.scheduler = scheduler
        self.networking = networking
        self.snapshots = snapshots
        # after the upload: SHELVED, and offloaded at once
        self.snapshot = SnapshotSteps(
            records, hosts, images, snapshots, (st.SHELVING, st.SHELVING_IMAGE_PENDING_UPLOAD,
                                                st.SHELVING_IMAGE_UPLOADING),
            {"vm_state": st.SHELVED, "task_state": st.SHELVING_OFFLOADING, "power_state": int(PowerState.SHUTDOWN)},
            ("shelve", "compute_shelve_instance"))

    def steps(self) -> dict:
        return {**self.snapshot.steps(), st.SHELVING: self.stop_and_snapshot, st.SHELVING_OFFLOADING: self.offload,
                st.UNSHELVING: self.unshelve}

    def stop_and_snapshot(self, instance: Instance) -> None:
        """The guest stops before its disk is saved, so the image is consistent."""
        self.hosts.driver(instance.host).power_off(instance.id)
        self.snapshot.snapshot(instance)

    def offload(self, instance: Instance) -> None:
        if instance.host is not None:
            self.hosts.driver(instance.host).destroy(instance.id)
        self.scheduler.release(instance)
        self.networking.unbind_ports(instance)
        self.records.advance(instance.id, st.SHELVING_OFFLOADING, vm_state=st.SHELVED_OFFLOADED, task_state=None,
                             host=None, power_state=int(PowerState.NOSTATE))
        self.records.event(instance.id, None, "compute_shelve_offload_instance", "Success")

    def unshelve(self, instance: Instance) -> None:
        """Still on its host (not yet offloaded): start it again; offloaded: schedule it as a boot does."""
        if instance.host is None:
            self.scheduler.place(instance, lambda host: self.records.advance(
                instance.id, st.UNSHELVING, host=host, task_state=st.NETWORKING))
            return
        driver = self.hosts.driver(instance.host)
        driver.power_on(self.specs.spec(instance))
        power = driver.instance_info(instance.id).power_state
        if self.records.advance(instance.id, st.UNSHELVING, vm_state=st.ACTIVE, task_state=None,
                                power_state=int(power), task_args={}):
            forget_shelved_image(self.snapshots, instance)
            self.records.event(instance.id, "unshelve", "compute_unshelve_instance", "Success")
