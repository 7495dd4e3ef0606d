"""One host that runs both kinds of guest: its VM driver and its container driver, seen as one driver.

The compute service and the host link ask a host's driver, not a driver per kind; this picks the one an
instance belongs to.  A call with a spec goes by the spec's ``guest_kind`` (the compute service records
it when the server is created); a call with only a uuid goes to the container driver when that driver
has files of the instance (across restarts too, and after a spawn that failed early), else to the VM
driver.
"""

from __future__ import annotations

from onestack.drivers.compute import (
    CONTAINER,
    NIC,
    ComputeDriver,
    HostResources,
    InstanceInfo,
    InstanceSpec,
    MigrationProgress,
    VolumeDisk,
)
from onestack.drivers.runc import RuncDriver


class VmAndContainerDriver:
    def __init__(self, vms: ComputeDriver, containers: RuncDriver):
        self.vms = vms
        self.containers = containers
        self.name = vms.name  # the hypervisor the host reports

    def _by_spec(self, spec: InstanceSpec) -> ComputeDriver:
        return self.containers if spec.guest_kind == CONTAINER else self.vms

    def _by_uuid(self, uuid: str) -> ComputeDriver:
        return self.containers if self.containers.has_files(uuid) else self.vms

    # -- host -----------------------------------------------------------------------------------

    def host_resources(self) -> HostResources:
        return self.vms.host_resources()  # one machine: both kinds share its CPUs, memory and disk

    def list_instances(self) -> list[str]:
        return sorted({*self.vms.list_instances(), *self.containers.list_instances()})

    # -- by spec --------------------------------------------------------------------------------

    def spawn(self, spec: InstanceSpec) -> None:
        self._by_spec(spec).spawn(spec)

    def power_on(self, spec: InstanceSpec) -> None:
        self._by_spec(spec).power_on(spec)

    def reboot(self, spec: InstanceSpec, hard: bool) -> None:
        self._by_spec(spec).reboot(spec, hard)

    def resume(self, spec: InstanceSpec) -> None:
        self._by_spec(spec).resume(spec)

    def resize(self, spec: InstanceSpec) -> None:
        self._by_spec(spec).resize(spec)

    # -- by uuid --------------------------------------------------------------------------------

    def destroy(self, uuid: str) -> None:
        self._by_uuid(uuid).destroy(uuid)

    def release(self, uuid: str) -> None:
        self._by_uuid(uuid).release(uuid)

    def power_off(self, uuid: str, timeout: float = 60.0) -> None:
        self._by_uuid(uuid).power_off(uuid, timeout)

    def pause(self, uuid: str) -> None:
        self._by_uuid(uuid).pause(uuid)

    def unpause(self, uuid: str) -> None:
        self._by_uuid(uuid).unpause(uuid)

    def suspend(self, uuid: str) -> None:
        self._by_uuid(uuid).suspend(uuid)

    def snapshot(self, uuid: str, target_path: str) -> str:
        return self._by_uuid(uuid).snapshot(uuid, target_path)

    def attach_interface(self, uuid: str, nic: NIC) -> None:
        self._by_uuid(uuid).attach_interface(uuid, nic)

    def attach_volume(self, uuid: str, disk: VolumeDisk) -> None:
        self._by_uuid(uuid).attach_volume(uuid, disk)

    def detach_volume(self, uuid: str, volume_id: str) -> None:
        self._by_uuid(uuid).detach_volume(uuid, volume_id)

    def extend_volume(self, uuid: str, volume_id: str, size_bytes: int) -> bool:
        return self._by_uuid(uuid).extend_volume(uuid, volume_id, size_bytes)

    def swap_volume(self, uuid: str, volume_id: str, disk: VolumeDisk) -> bool:
        return self._by_uuid(uuid).swap_volume(uuid, volume_id, disk)

    def snapshot_volume(self, uuid: str, volume_id: str, overlay_path: str) -> bool:
        return self._by_uuid(uuid).snapshot_volume(uuid, volume_id, overlay_path)

    def set_volume_limits(self, uuid: str, volume_id: str, throttle: dict) -> bool:
        return self._by_uuid(uuid).set_volume_limits(uuid, volume_id, throttle)

    def detach_interface(self, uuid: str, nic: NIC) -> None:
        self._by_uuid(uuid).detach_interface(uuid, nic)

    def set_admin_password(self, uuid: str, password: str) -> None:
        self._by_uuid(uuid).set_admin_password(uuid, password)

    def console_output(self, uuid: str, length: int | None = None) -> str:
        return self._by_uuid(uuid).console_output(uuid, length)

    def console_socket(self, uuid: str, kind: str) -> str:
        return self._by_uuid(uuid).console_socket(uuid, kind)

    def instance_info(self, uuid: str) -> InstanceInfo:
        return self._by_uuid(uuid).instance_info(uuid)

    # -- cold migration: a container's root is made from its image again where it goes ---------------------

    def export_disks(self, uuid: str, address: str) -> str:
        return "" if self.containers.has_files(uuid) else self.vms.export_disks(uuid, address)

    def end_export(self, uuid: str) -> None:
        if not self.containers.has_files(uuid):
            self.vms.end_export(uuid)

    def import_disks(self, spec: InstanceSpec, uri: str) -> None:
        if spec.guest_kind != CONTAINER:
            self.vms.import_disks(spec, uri)

    # -- live migration: VMs only (the API refuses it for containers) ---------------------------------

    def prepare_incoming(self, spec: InstanceSpec, address: str) -> str:
        return self.vms.prepare_incoming(spec, address)

    def finish_incoming(self, uuid: str) -> None:
        self.vms.finish_incoming(uuid)

    def abort_incoming(self, uuid: str) -> None:
        self.vms.abort_incoming(uuid)

    def live_migrate(self, uuid: str, uri: str, downtime_ms: int, bandwidth_mib: int = 0) -> None:
        self.vms.live_migrate(uuid, uri, downtime_ms, bandwidth_mib)

    def migration_progress(self, uuid: str) -> MigrationProgress:
        return self.vms.migration_progress(uuid)

    def steer_migration(self, uuid: str, downtime_ms: int | None = None, mode: str | None = None) -> None:
        self.vms.steer_migration(uuid, downtime_ms, mode)

    def abort_migration(self, uuid: str) -> None:
        self.vms.abort_migration(uuid)
