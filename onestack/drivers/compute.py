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
