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
    # An RBD image (``path`` is pool/image), opened by QEMU through librbd as this Ceph client:
    # {"conf", "user", "keyring"}; None for a file.
    rbd: dict | None = None
    # LUKS inside the qcow2 (Cinder's ``encrypted: true``): QEMU opens it with ``secret``, the volume's
    # passphrase, which compute asks of the block storage service for each start and attach.  The secret is
    # never shown (``repr``), never compared, and never written into a spec file (``specfile.save``).
    encrypted: bool = False
    secret: str | None = dataclasses.field(default=None, repr=False, compare=False)
    # After a swap the guest's disk keeps the names it was plugged with: those of the volume it was first
    # given (its ``slot``), which every later start and move of the guest keeps too.  None: its own.
    slot: str | None = None

    @property
    def qemu_key(self) -> str:
        """The volume id the hypervisor's names for this disk are made from."""
        return self.slot or self.volume_id

    @classmethod
    def from_connection(cls, connection: dict, *, boot: bool = False) -> VolumeDisk:
        """The disk a ``file`` or ``rbd`` connection names; ``DriverError`` for a connection this host
        cannot use."""
        kind, data = connection.get("driver_volume_type"), connection.get("data") or {}
        rbd = None
        if kind == "rbd" and "/" in (data.get("name") or "") and data.get("conf"):
            rbd = {"conf": data["conf"], "user": data.get("auth_username") or "admin",
                   "keyring": data.get("keyring") or ""}
            data = {**data, "path": data["name"], "format": "raw"}
        elif kind != "file" or not data.get("path") or data.get("format", "qcow2") not in ("qcow2", "raw"):
            raise DriverError(f"cannot connect a volume of type {kind!r} (only qcow2 or raw files and RBD "
                              f"images)")
        throttle = {}
        for key, value in (data.get("qos_specs") or {}).items():
            limit = QOS_LIMITS.get(key)
            # other keys (consumer, per-GB ones...) are not limits, nor is what is not a positive whole number
            if limit is not None and str(value).strip().isdigit() and int(value) > 0:
                throttle[limit] = int(value)
        return cls(volume_id=data["volume_id"], path=data["path"], format=data.get("format", "qcow2"),
                   read_only=data.get("access_mode") == "ro", boot=boot, throttle=throttle, rbd=rbd,
                   encrypted=bool(data.get("encrypted")), slot=data.get("slot"))


# What a stable device rescue can attach its rescue disk as: (hw_rescue_device, hw_rescue_bus).
RESCUE_DEVICES = frozenset({("disk", "virtio"), ("disk", "scsi"), ("disk", "usb"), ("disk", "ide"),
                            ("cdrom", "scsi"), ("cdrom", "ide")})


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
    # The image's snapshot in a Ceph cluster (``images/<id>@snap``) when the image service keeps it there:
    # a driver with RBD guest disks makes the root disk a clone of it instead of a file.
    image_rbd: str | None = None
    # The root disk must not depend on its image (a shelved guest's snapshot, deleted once it is unshelved):
    # a clone of it is flattened, as Nova does when it unshelves onto RBD.
    flatten_root: bool = False
    nics: tuple[NIC, ...] = ()
    config_drive: str | None = None  # path of an ISO9660 image labelled config-2, if any
    metadata: dict = dataclasses.field(default_factory=dict)
    guest_kind: str = VM  # VM or CONTAINER: which of a host's drivers runs it
    volumes: tuple[VolumeDisk, ...] = ()  # after the instance's own disks; a ``boot`` one instead of the image
    # A rescue (Nova's rescue): the guest boots from a disk made from this image's data, its own root disk
    # attached after it so it can be repaired; None boots it from its own root disk again. "" when the image's
    # data is gone since the rescue: the rescue disk made then still boots.
    rescue_image_path: str | None = None
    # Stable device rescue (Nova 2.87, from the rescue image's hw_rescue_device and hw_rescue_bus): the guest
    # keeps every disk where it was, volumes and a boot volume too, and the rescue disk comes last as this
    # device ("disk" or "cdrom") on this bus ("virtio", "scsi", "usb", "ide"), booted first.  None: the
    # rescue disk replaces the root disk as the first disk (Nova's rescue before it).
    rescue_device: str | None = None
    rescue_bus: str | None = None

    @property
    def boot_volume(self) -> VolumeDisk | None:
        return next((v for v in self.volumes if v.boot), None)

    @property
    def stable_rescue(self) -> bool:
        return self.rescue_image_path is not None and self.rescue_bus is not None


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


# A live migration's modes: pre-copy (memory sent while the guest runs, then a short stop), post-copy (the guest
# runs on the destination and pulls what it lacks), auto-converge (the source's vCPUs throttled until pre-copy
# catches up), paused (the source stopped, so the rest is sent at once).
PRE_COPY, POST_COPY, AUTO_CONVERGE, PAUSED_COPY = "pre-copy", "post-copy", "auto-converge", "paused"


@dataclasses.dataclass(frozen=True)
class MigrationProgress:
    """A live migration as the source's driver sees it now.  ``status``: ``active``, ``completed``,
    ``failed``, ``cancelled``, or ``none`` (no migration of that guest here); ``iteration``: the memory
    passes made; ``postcopy_possible``: post-copy was armed at the start (the kernels have userfaultfd);
    ``converge_possible``: auto-converge was."""

    status: str
    mode: str = PRE_COPY
    iteration: int = 0
    downtime_ms: int = 0
    postcopy_possible: bool = False
    memory_total: int = 0
    memory_processed: int = 0
    memory_remaining: int = 0
    disk_total: int = 0
    disk_processed: int = 0
    disk_remaining: int = 0
    error: str = ""
    converge_possible: bool = True


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

    def release(self, uuid: str) -> None:
        """Remove the copy of a guest that a move left on this host (a migration's source once the guest runs
        elsewhere, a resize's other host): as ``destroy``, except for storage every host reaches (a root disk
        in Ceph), which the guest goes on using where it is now."""
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

    def swap_volume(self, uuid: str, volume_id: str, disk: VolumeDisk) -> bool:
        """Move the guest's disk of ``volume_id`` onto ``disk`` (another volume, at least as large) while the
        guest runs: its data copied, then the guest switched to it atomically, the device unchanged; the spec
        keeps ``disk`` in its place.  False when no running guest holds the volume (only the spec changes),
        ``DriverError`` when the guest could not (it stays on ``volume_id``).  Safe to repeat: a guest already
        on ``disk`` is left there."""
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

    # -- cold migration: a stopped guest's disks to another host -----------------------------------------
    def export_disks(self, uuid: str, address: str) -> str:
        """Serve the stopped guest's own disks at ``address`` (this host's) for another host to copy; the URI
        ``import_disks`` takes there ("" when nothing needs to travel)."""
        ...

    def end_export(self, uuid: str) -> None:
        """Stop serving the guest's disks (nothing if they are not served)."""
        ...

    def import_disks(self, spec: InstanceSpec, uri: str) -> None:
        """Copy the disks served at ``uri`` as this host's disks of the guest, before ``spawn`` starts it."""
        ...

    # -- live migration: the destination's half, then the source's --------------------------------------
    def prepare_incoming(self, spec: InstanceSpec, address: str) -> str:
        """A guest for ``spec`` that waits for the source's state, listening on ``address`` (this host's
        tunnel address); the URI the source sends to.  Repeating it answers the same URI."""
        ...

    def finish_incoming(self, uuid: str) -> None:
        """The source has sent everything: the guest runs here (its NICs announced on the network)."""
        ...

    def abort_incoming(self, uuid: str) -> None:
        """Remove a guest that was waiting for a migration that will not come (nothing if it is not one)."""
        ...

    def live_migrate(self, uuid: str, uri: str, downtime_ms: int, bandwidth_mib: int = 0) -> None:
        """Start sending the running guest (and its local disks) to ``uri`` in pre-copy, allowing
        ``downtime_ms`` of stop at the end, at most ``bandwidth_mib`` MiB/s (0: uncapped); returns at once.
        Post-copy is armed where both ends can."""
        ...

    def migration_progress(self, uuid: str) -> MigrationProgress: ...

    def steer_migration(self, uuid: str, downtime_ms: int | None = None, mode: str | None = None) -> None:
        """Raise the allowed downtime, or switch the running migration to ``POST_COPY``, ``AUTO_CONVERGE``
        or ``PAUSED_COPY``."""
        ...

    def abort_migration(self, uuid: str) -> None:
        """Cancel the running migration: the guest carries on here (nothing if none runs)."""
        ...
