"""The compute driver interface: what a compute host's worker asks of the thing that runs guests.

A driver never touches the database or HTTP: the worker hands it an ``InstanceSpec`` (everything
needed to build the guest) and writes back what the driver observes.  Every method is safe to
repeat: ``spawn`` of a running guest, ``destroy`` of a missing one and ``power_off`` of a stopped
one succeed without doing anything.  ``DriverError`` means the operation failed for good and the
instance goes to ERROR with the message as its fault; anything else is retried.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Protocol

# What kind of guest an instance is: a virtual machine (QEMU, or the fake driver) or an OCI container (runc).
VM, CONTAINER = "vm", "container"


class PowerState(enum.IntEnum):
    """Nova's power states, as the API reports them (``OS-EXT-STS:power_state``)."""

    NOSTATE = 0
    RUNNING = 1
    PAUSED = 3
    SHUTDOWN = 4
    CRASHED = 6
    SUSPENDED = 7


@dataclasses.dataclass(frozen=True)
class NIC:
    port_id: str
    mac_address: str
    tap_name: str  # "tap" + the first 11 characters of the port id, as Nova names it
    mtu: int = 1500


# Cinder's front-end QoS keys (as a connection's ``qos_specs`` carries them) -> QEMU's throttle limits
QOS_LIMITS = {
    "total_bytes_sec": "bps-total", "read_bytes_sec": "bps-read", "write_bytes_sec": "bps-write",
    "total_iops_sec": "iops-total", "read_iops_sec": "iops-read", "write_iops_sec": "iops-write",
    "total_bytes_sec_max": "bps-total-max", "read_bytes_sec_max": "bps-read-max",
    "write_bytes_sec_max": "bps-write-max", "total_iops_sec_max": "iops-total-max",
    "read_iops_sec_max": "iops-read-max", "write_iops_sec_max": "iops-write-max", "size_iops_sec": "iops-size",
}


@dataclasses.dataclass(frozen=True)
class VolumeDisk:
    """A volume given to the guest as a virtio disk, from the connection the block storage service answered
    (Cinder's ``connection_info``); the guest sees ``volume_id`` as the disk's serial."""

    volume_id: str
    path: str
    format: str = "qcow2"
    read_only: bool = False
    boot: bool = False  # the guest's root disk (booted from the volume)
    throttle: dict = dataclasses.field(default_factory=dict)  # QEMU's limits, e.g. {"iops-total": 100}

    @classmethod
    def from_connection(cls, connection: dict, *, boot: bool = False) -> VolumeDisk:
        """The disk a ``file`` connection names; ``DriverError`` for a connection this host cannot use."""
        kind, data = connection.get("driver_volume_type"), connection.get("data") or {}
        if kind != "file" or not data.get("path") or data.get("format", "qcow2") not in ("qcow2", "raw"):
            raise DriverError(f"cannot connect a volume of type {kind!r} (only qcow2 or raw files)")
        throttle = {}
        for key, value in (data.get("qos_specs") or {}).items():
            limit = QOS_LIMITS.get(key)
            # other keys (consumer, per-GB ones...) are not limits, nor is what is not a positive whole number
            if limit is not None and str(value).strip().isdigit() and int(value) > 0:
                throttle[limit] = int(value)
        return cls(volume_id=data["volume_id"], path=data["path"], format=data.get("format", "qcow2"),
                   read_only=data.get("access_mode") == "ro", boot=boot, throttle=throttle)


@dataclasses.dataclass(frozen=True)
class InstanceSpec:
    uuid: str
    name: str  # the hypervisor's name for it, e.g. "instance-0000002a"
    hostname: str
    vcpus: int
    memory_mb: int
    root_gb: int
    ephemeral_gb: int = 0
    swap_mb: int = 0
    image_path: str | None = None  # a local copy of the image's data (raw or qcow2)
    image_format: str | None = None
    nics: tuple[NIC, ...] = ()
    config_drive: str | None = None  # path of an ISO9660 image labelled config-2, if any
    metadata: dict = dataclasses.field(default_factory=dict)
    guest_kind: str = VM  # VM or CONTAINER: which of a host's drivers runs it
    volumes: tuple[VolumeDisk, ...] = ()  # after the instance's own disks; a ``boot`` one instead of the image

    @property
    def boot_volume(self) -> VolumeDisk | None:
        return next((v for v in self.volumes if v.boot), None)


@dataclasses.dataclass(frozen=True)
class InstanceInfo:
    power_state: PowerState
    vcpus: int = 0
    memory_mb: int = 0


@dataclasses.dataclass(frozen=True)
class HostResources:
    """What a host offers to placement."""

    vcpus: int
    memory_mb: int
    disk_gb: int


class DriverError(Exception):
    """A permanent failure: the instance goes to ERROR with this message as its fault."""


class ConsoleUnavailable(Exception):
    """The guest has no console of that kind now (none at all, or it is not running)."""


class ComputeDriver(Protocol):
    name: str

    def host_resources(self) -> HostResources: ...

    def list_instances(self) -> list[str]:
        """UUIDs of the guests this driver has on the host, running or not (for reconcile)."""
        ...

    def spawn(self, spec: InstanceSpec) -> None: ...

    def destroy(self, uuid: str) -> None:
        """Stop the guest if it runs and remove everything it had on the host."""
        ...

    def power_on(self, spec: InstanceSpec) -> None: ...

    def power_off(self, uuid: str, timeout: float = 60.0) -> None:
        """ACPI power-down, then a hard stop once ``timeout`` seconds have passed."""
        ...

    def reboot(self, spec: InstanceSpec, hard: bool) -> None: ...

    def pause(self, uuid: str) -> None: ...

    def unpause(self, uuid: str) -> None: ...

    def suspend(self, uuid: str) -> None:
        """Save the guest's state to disk and stop it."""
        ...

    def resume(self, spec: InstanceSpec) -> None: ...

    def snapshot(self, uuid: str, target_path: str) -> str:
        """Write the root disk as a standalone image at ``target_path``; returns its disk format."""
        ...

    def resize(self, spec: InstanceSpec) -> None:
        """Restart the guest with the new flavor in ``spec``, growing its root disk."""
        ...

    def attach_interface(self, uuid: str, nic: NIC) -> None: ...

    def detach_interface(self, uuid: str, nic: NIC) -> None: ...

    def attach_volume(self, uuid: str, disk: VolumeDisk) -> None:
        """Give the guest the volume as a virtio disk, hot-plugged if it runs; kept in the guest's spec."""
        ...

    def detach_volume(self, uuid: str, volume_id: str) -> None:
        """Take the volume's disk away once the running guest has let go of it (``DriverError`` if it will
        not); dropped from the guest's spec."""
        ...

    def set_volume_limits(self, uuid: str, volume_id: str, throttle: dict) -> bool:
        """New QoS limits for an attached volume (QEMU's, as ``VolumeDisk.throttle``), kept in the guest's spec
        and applied to the running guest; False when the guest does not have the volume."""
        ...

    def snapshot_volume(self, uuid: str, volume_id: str, overlay_path: str) -> bool:
        """Make the empty qcow2 at ``overlay_path`` (backed by the volume's current data) the layer the running
        guest writes the volume to, atomically, so the data below it are frozen; False when no running guest
        holds the volume, ``DriverError`` when the guest could not."""
        ...

    def extend_volume(self, uuid: str, volume_id: str, size_bytes: int) -> bool:
        """Grow an attached volume's disk to ``size_bytes`` through the running guest, which holds its file open
        and sees the new size at once; False when no running guest holds it (the file may be grown as it
        lies), ``DriverError`` when the guest could not grow it."""
        ...

    def set_admin_password(self, uuid: str, password: str) -> None:
        """Set the guest's administrator password; DriverError if the driver cannot reach inside the guest."""
        ...

    def console_output(self, uuid: str, length: int | None = None) -> str:
        """The serial console log (the last ``length`` lines if given)."""
        ...

    def console_socket(self, uuid: str, kind: str) -> str:
        """The Unix socket of the running guest's ``serial`` (bytes of its serial port) or ``vnc`` (RFB)
        console; ``ConsoleUnavailable`` if it has none."""
        ...

    def instance_info(self, uuid: str) -> InstanceInfo:
        """The guest's power state now (NOSTATE if it does not exist)."""
        ...
