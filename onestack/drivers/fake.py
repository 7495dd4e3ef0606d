"""FakeDriver: the compute driver interface in memory, instant, for API and scale tests.

It keeps the same rules as the real driver (idempotent calls, DriverError for what cannot be
done, e.g. pausing a guest that is off) so tests written against it hold for QEMU too.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from pathlib import Path

from onestack.drivers.compute import (
    AUTO_CONVERGE,
    NIC,
    PAUSED_COPY,
    POST_COPY,
    PRE_COPY,
    ConsoleUnavailable,
    DriverError,
    HostResources,
    InstanceInfo,
    InstanceSpec,
    MigrationProgress,
    PowerState,
    VolumeDisk,
)

MIB = 1024 * 1024
# What a fake guest dirties per second while it migrates, from its metadata (0: an idle guest).
DIRTY_RATE_KEY = "fake:dirty_mb_per_s"


@dataclasses.dataclass
class _Migration:
    """A live migration simulated in memory: passes over the guest's memory at the host's bandwidth while
    the guest dirties pages at its rate; it ends when what is left fits in the allowed downtime."""

    total: int
    dirty_rate: float  # bytes per second
    downtime_ms: int
    last: float
    status: str = "active"
    mode: str = PRE_COPY
    iteration: int = 0
    processed: int = 0
    pass_left: int = 0
    pass_size: int = 0
    cap: float = 0.0  # bytes per second pre-copy may send (0: the host's bandwidth)

    def advance(self, now: float, bandwidth: float) -> None:
        if self.cap:
            bandwidth = min(bandwidth, self.cap)
        budget, self.last = (now - self.last) * bandwidth, now
        if self.status != "active":
            return
        if self.mode in (POST_COPY, PAUSED_COPY):  # the rest goes at once: pulled on demand, or the guest stopped
            self.processed += self.pass_left
            self.pass_left, self.status = 0, "completed"
            return
        while budget > 0 and self.status == "active":
            sent = min(budget, self.pass_left)
            self.pass_left -= int(sent)
            self.processed += int(sent)
            budget -= sent
            if self.pass_left <= 0:  # a pass ended: what the guest dirtied meanwhile is the next one
                self.iteration += 1
                rate = self.dirty_rate / (2 ** self.iteration if self.mode == AUTO_CONVERGE else 1)
                dirty = int(min(self.total, rate * self.pass_size / bandwidth))
                if dirty / bandwidth * 1000 <= self.downtime_ms:
                    self.processed += dirty
                    self.pass_left, self.status = 0, "completed"
                else:
                    self.pass_left = self.pass_size = dirty


@dataclasses.dataclass
class _Guest:
    spec: InstanceSpec
    state: PowerState
    console: list[str] = dataclasses.field(default_factory=list)
    incoming: bool = False  # waiting for a live migration's state

    def boot(self) -> None:
        self.state = PowerState.RUNNING
        addresses = ",".join(f"fake-{nic.mac_address}" for nic in self.spec.nics) or "none"
        # a boot log of a few lines, as a real guest's console has (clients page it with `length`)
        self.console.extend([f"fake: booting {self.spec.name}", f"fake: {self.spec.vcpus} vCPUs, "
                             f"{self.spec.memory_mb} MB", f"fake: {len(self.spec.nics)} network interfaces",
                             f"onestack-tiny: up hostname={self.spec.hostname} addresses={addresses} source=fake"])


class FakeDriver:
    name = "fake"

    def __init__(self, resources: HostResources | None = None):
        self.resources = resources or HostResources(vcpus=64, memory_mb=256 * 1024, disk_gb=10 * 1024)
        self._guests: dict[str, _Guest] = {}
        self._lock = threading.Lock()
        # A test cloud's armed build failures (onestack.testing): the fault a spawn fails with, or None.
        self.spawn_fault: Callable[[InstanceSpec], str | None] = lambda _spec: None
        self.migration_bandwidth = 1024 * MIB  # bytes per second between fake hosts
        self._migrations: dict[str, _Migration] = {}
        self._clock = time.monotonic
        self.swaps: list[tuple[str, str, str]] = []  # (instance, old volume, new volume) of each swap asked

    def _guest(self, uuid: str) -> _Guest:
        guest = self._guests.get(uuid)
        if guest is None:
            raise DriverError(f"instance {uuid} does not exist")
        return guest

    def host_resources(self) -> HostResources:
        return self.resources

    def list_instances(self) -> list[str]:
        with self._lock:
            return sorted(self._guests)

    def spawn(self, spec: InstanceSpec) -> None:
        with self._lock:
            if spec.uuid in self._guests:
                return
            fault = self.spawn_fault(spec)
            if fault:
                raise DriverError(fault)
            guest = _Guest(spec, PowerState.NOSTATE)
            guest.boot()
            self._guests[spec.uuid] = guest

    def destroy(self, uuid: str) -> None:
        with self._lock:
            self._guests.pop(uuid, None)
            self._migrations.pop(uuid, None)

    def release(self, uuid: str) -> None:
        self.destroy(uuid)  # a fake guest has no storage of its own

    def power_on(self, spec: InstanceSpec) -> None:
        with self._lock:
            guest = self._guest(spec.uuid)
            if guest.state in (PowerState.SHUTDOWN, PowerState.SUSPENDED, PowerState.CRASHED):
                guest.spec = spec if guest.state != PowerState.SUSPENDED else guest.spec
                guest.boot()

    def power_off(self, uuid: str, timeout: float = 60.0) -> None:
        with self._lock:
            guest = self._guest(uuid)
            if guest.state != PowerState.SUSPENDED:
                guest.state = PowerState.SHUTDOWN

    def reboot(self, spec: InstanceSpec, hard: bool) -> None:
        with self._lock:
            guest = self._guest(spec.uuid)
            if hard:
                guest.spec = spec
            elif guest.state not in (PowerState.RUNNING, PowerState.PAUSED):
                raise DriverError(f"instance {spec.uuid} is not running")
            guest.boot()

    def _transition(self, uuid: str, allowed: tuple[PowerState, ...], to: PowerState) -> None:
        with self._lock:
            guest = self._guest(uuid)
            if guest.state == to:
                return
            if guest.state not in allowed:
                raise DriverError(f"instance {uuid} is {guest.state.name}, cannot become {to.name}")
            guest.state = to

    def pause(self, uuid: str) -> None:
        self._transition(uuid, (PowerState.RUNNING,), PowerState.PAUSED)

    def unpause(self, uuid: str) -> None:
        self._transition(uuid, (PowerState.PAUSED,), PowerState.RUNNING)

    def suspend(self, uuid: str) -> None:
        self._transition(uuid, (PowerState.RUNNING, PowerState.PAUSED), PowerState.SUSPENDED)

    def resume(self, spec: InstanceSpec) -> None:
        self._transition(spec.uuid, (PowerState.SUSPENDED,), PowerState.RUNNING)

    def snapshot(self, uuid: str, target_path: str) -> str:
        with self._lock:
            guest = self._guest(uuid)
        # a marker file, honestly declared raw (the image service inspects what it is given)
        Path(target_path).write_bytes(f"fake snapshot of {guest.spec.uuid}\n".encode())
        return "raw"

    def resize(self, spec: InstanceSpec) -> None:
        with self._lock:
            guest = self._guest(spec.uuid)
            guest.spec = spec
            guest.boot()

    def attach_interface(self, uuid: str, nic: NIC) -> None:
        with self._lock:
            guest = self._guest(uuid)
            if all(n.port_id != nic.port_id for n in guest.spec.nics):
                guest.spec = dataclasses.replace(guest.spec, nics=guest.spec.nics + (nic,))

    def detach_interface(self, uuid: str, nic: NIC) -> None:
        with self._lock:
            guest = self._guest(uuid)
            guest.spec = dataclasses.replace(guest.spec, nics=tuple(n for n in guest.spec.nics
                                                                    if n.port_id != nic.port_id))

    def attach_volume(self, uuid: str, disk: VolumeDisk) -> None:
        with self._lock:
            guest = self._guest(uuid)
            kept = tuple(v for v in guest.spec.volumes if v.volume_id != disk.volume_id)
            guest.spec = dataclasses.replace(guest.spec, volumes=kept + (disk,))

    def detach_volume(self, uuid: str, volume_id: str) -> None:
        with self._lock:
            guest = self._guests.get(uuid)
            if guest is None:
                return
            if any(v.boot and v.volume_id == volume_id for v in guest.spec.volumes):
                raise DriverError(f"volume {volume_id} is the guest's root disk")
            guest.spec = dataclasses.replace(guest.spec, volumes=tuple(v for v in guest.spec.volumes
                                                                       if v.volume_id != volume_id))

    def swap_volume(self, uuid: str, volume_id: str, disk: VolumeDisk) -> bool:
        """A fake guest holds no file open: the swap is recorded in its spec (and in ``swaps``)."""
        with self._lock:
            guest = self._guest(uuid)
            if not any(v.volume_id in (volume_id, disk.volume_id) for v in guest.spec.volumes):
                raise DriverError(f"volume {volume_id} is not attached to instance {uuid}")
            guest.spec = dataclasses.replace(guest.spec, volumes=tuple(
                disk if v.volume_id == volume_id else v for v in guest.spec.volumes))
            self.swaps.append((uuid, volume_id, disk.volume_id))
        return False

    def set_volume_limits(self, uuid: str, volume_id: str, throttle: dict) -> bool:
        with self._lock:
            guest = self._guests.get(uuid)
            if guest is None or not any(v.volume_id == volume_id for v in guest.spec.volumes):
                return False
            guest.spec = dataclasses.replace(guest.spec, volumes=tuple(
                dataclasses.replace(v, throttle=dict(throttle)) if v.volume_id == volume_id else v
                for v in guest.spec.volumes))
            return True

    def snapshot_volume(self, uuid: str, volume_id: str, overlay_path: str) -> bool:
        """A fake guest holds no file open: the volume's file is frozen as it lies (as QEMU's driver answers
        for a guest that does not run: a restart of the cloud loses every fake guest, stopped ones too)."""
        return False

    def extend_volume(self, uuid: str, volume_id: str, size_bytes: int) -> bool:
        """A fake guest holds no file open: the volume's file is grown as it lies."""
        return False

    def set_admin_password(self, uuid: str, password: str) -> None:
        with self._lock:
            guest = self._guest(uuid)
            if guest.state != PowerState.RUNNING:
                raise DriverError(f"instance {uuid} is not running")
            guest.console.append("onestack-tiny: administrator password changed")

    def console_output(self, uuid: str, length: int | None = None) -> str:
        with self._lock:
            text = "".join(line + "\n" for line in self._guest(uuid).console)
            if length is None:
                return text
            # Nova's tail: the last ``length`` pieces of the log split at newlines (the one after the final
            # newline, empty, counts), so a client splitting the answer gets ``length`` pieces back
            return "\n".join(text.split("\n")[-length:]) if length > 0 else ""

    def console_socket(self, uuid: str, kind: str) -> str:
        self._guest(uuid)
        # No guest runs, so there is nothing to connect to: Nova's answer for a console type a host lacks.
        raise ConsoleUnavailable(f"Unavailable console type {kind}.")

    def instance_info(self, uuid: str) -> InstanceInfo:
        with self._lock:
            guest = self._guests.get(uuid)
            if guest is None:
                return InstanceInfo(PowerState.NOSTATE)
            return InstanceInfo(guest.state, vcpus=guest.spec.vcpus, memory_mb=guest.spec.memory_mb)

    # -- cold migration: nothing is on disk ----------------------------------------------------------------
    def export_disks(self, uuid: str, address: str) -> str:
        self._guest(uuid)
        return ""

    def end_export(self, uuid: str) -> None:
        return None

    def import_disks(self, spec: InstanceSpec, uri: str) -> None:
        return None

    # -- live migration --------------------------------------------------------------------------------
    def prepare_incoming(self, spec: InstanceSpec, address: str) -> str:
        with self._lock:
            guest = self._guests.get(spec.uuid)
            if guest is None:
                self._guests[spec.uuid] = _Guest(spec, PowerState.PAUSED, incoming=True)
            elif not guest.incoming:
                raise DriverError(f"instance {spec.uuid} already runs on this host")
            return f"fake://{address}/{spec.uuid}"

    def finish_incoming(self, uuid: str) -> None:
        with self._lock:
            guest = self._guest(uuid)
            if guest.incoming:
                guest.incoming, guest.state = False, PowerState.RUNNING
                guest.console.append(f"fake: {guest.spec.name} carries on after a live migration")

    def abort_incoming(self, uuid: str) -> None:
        with self._lock:
            guest = self._guests.get(uuid)
            if guest is not None and guest.incoming:
                del self._guests[uuid]

    def live_migrate(self, uuid: str, uri: str, downtime_ms: int, bandwidth_mib: int = 0) -> None:
        with self._lock:
            guest = self._guest(uuid)
            if guest.state not in (PowerState.RUNNING, PowerState.PAUSED):
                raise DriverError(f"instance {uuid} is not running")
            if uuid in self._migrations and self._migrations[uuid].status == "active":
                return
            total = guest.spec.memory_mb * MIB
            rate = float(guest.spec.metadata.get(DIRTY_RATE_KEY, 0) or 0) * MIB
            self._migrations[uuid] = _Migration(total=total, dirty_rate=rate, downtime_ms=downtime_ms,
                                                last=self._clock(), pass_left=total, pass_size=total,
                                                cap=bandwidth_mib * MIB)

    def migration_progress(self, uuid: str) -> MigrationProgress:
        with self._lock:
            migration = self._migrations.get(uuid)
            if migration is None:
                return MigrationProgress("none")
            migration.advance(self._clock(), self.migration_bandwidth)
            if migration.status == "completed" and uuid in self._guests:
                self._guests[uuid].state = PowerState.PAUSED  # as QEMU's source after a migration
            return MigrationProgress(
                migration.status, migration.mode, migration.iteration, migration.downtime_ms, True,
                memory_total=migration.total, memory_processed=min(migration.processed, migration.total),
                memory_remaining=migration.pass_left)

    def steer_migration(self, uuid: str, downtime_ms: int | None = None, mode: str | None = None) -> None:
        with self._lock:
            migration = self._migrations.get(uuid)
            if migration is None or migration.status != "active":
                return
            migration.advance(self._clock(), self.migration_bandwidth)
            if downtime_ms is not None:
                migration.downtime_ms = downtime_ms
            if mode is not None:
                migration.mode = mode

    def abort_migration(self, uuid: str) -> None:
        with self._lock:
            migration = self._migrations.get(uuid)
            if migration is not None and migration.status == "active":
                migration.status = "cancelled"
