"""A driver that completes every operation at once and keeps its guests in memory.

For API tests and scale tests (10,000 servers on 100 fake hosts): it obeys the same contract as a
real driver, including idempotence, but runs nothing.
"""

from __future__ import annotations

import threading

from onestack.drivers.compute import NIC, DriverError, HostResources, InstanceInfo, InstanceSpec, PowerState


class FakeDriver:
    name = "fake"

    def __init__(self, resources: HostResources | None = None):
        self.resources = resources or HostResources(vcpus=64, memory_mb=262144, disk_gb=10240)
        self._guests: dict[str, dict] = {}
        self._lock = threading.Lock()

    def host_resources(self) -> HostResources:
        return self.resources

    def list_instances(self) -> list[str]:
        with self._lock:
            return list(self._guests)

    def _set(self, uuid: str, state: PowerState) -> None:
        with self._lock:
            if uuid not in self._guests:
                raise DriverError(f"Instance {uuid} does not exist on this host.")
            self._guests[uuid]["state"] = state

    def spawn(self, spec: InstanceSpec) -> None:
        with self._lock:
            self._guests.setdefault(spec.uuid, {"spec": spec, "state": PowerState.RUNNING, "nics": list(spec.nics),
                                                "log": [f"fake console of {spec.hostname}"]})

    def destroy(self, uuid: str) -> None:
        with self._lock:
            self._guests.pop(uuid, None)

    def power_on(self, spec: InstanceSpec) -> None:
        self.spawn(spec)
        self._set(spec.uuid, PowerState.RUNNING)

    def power_off(self, uuid: str, timeout: float = 60.0) -> None:
        self._set(uuid, PowerState.SHUTDOWN)

    def reboot(self, spec: InstanceSpec, hard: bool) -> None:
        self.power_on(spec)

    def pause(self, uuid: str) -> None:
        self._set(uuid, PowerState.PAUSED)

    def unpause(self, uuid: str) -> None:
        self._set(uuid, PowerState.RUNNING)

    def suspend(self, uuid: str) -> None:
        self._set(uuid, PowerState.SUSPENDED)

    def resume(self, spec: InstanceSpec) -> None:
        self._set(spec.uuid, PowerState.RUNNING)

    def snapshot(self, uuid: str, target_path: str) -> str:
        with self._lock:
            if uuid not in self._guests:
                raise DriverError(f"Instance {uuid} does not exist on this host.")
        with open(target_path, "wb") as fh:
            fh.write(b"\0" * 1024)
        return "raw"

    def resize(self, spec: InstanceSpec) -> None:
        with self._lock:
            self._guests.setdefault(spec.uuid, {"state": PowerState.RUNNING, "nics": [], "log": []})["spec"] = spec

    def attach_interface(self, uuid: str, nic: NIC) -> None:
        with self._lock:
            nics = self._guests[uuid]["nics"]
            if nic not in nics:
                nics.append(nic)

    def detach_interface(self, uuid: str, nic: NIC) -> None:
        with self._lock:
            nics = self._guests.get(uuid, {}).get("nics", [])
            if nic in nics:
                nics.remove(nic)

    def console_output(self, uuid: str, length: int | None = None) -> str:
        with self._lock:
            lines = list(self._guests.get(uuid, {}).get("log", []))
        return "\n".join(lines[-length:] if length else lines)

    def instance_info(self, uuid: str) -> InstanceInfo:
        with self._lock:
            guest = self._guests.get(uuid)
        if guest is None:
            return InstanceInfo(PowerState.NOSTATE)
        return InstanceInfo(guest["state"])
