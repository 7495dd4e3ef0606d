"""RuncDriver: one OCI container per instance under runc, supervised through files, not through a parent.

Everything an instance has lives in ``<state dir>/instances/<uuid>/`` (``layout.py``), which is also the
container's bundle; runc keeps its own state under ``<state dir>/runc`` and names the container by the
instance's uuid.  A new driver on the same state dir finds the running containers there (``runc state``)
and never stops them, as the QEMU driver re-adopts its guests.

- **Image**: the instance's image file (a ``docker save`` archive or an OCI image layout tar) is unpacked
  once per image (``images.py``); the container's root is an overlay with the instance's own upper layer.
- **Network**: a namespace of its own with a veth pair per NIC and a DHCP client per NIC (``network.py``).
- **Power**: stop is SIGTERM to the container's init, SIGKILL after the timeout, then ``runc delete``
  (its cgroups go) and the overlay unmounted; start builds the container again from the spec; pause
  and unpause freeze and thaw its cgroup.  Suspend is not done (runc saves no state without CRIU).
- **Console**: ``serial`` is a shell in the container on a terminal (``consoles.py``); its output is
  not in the console log, which is the init's stdout and stderr.
- **Snapshot**: the cached image tree and the upper layer as a two-layer image (``snapshot.py``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import threading
from collections import defaultdict
from pathlib import Path

from onestack.drivers import consolelog, hostresources, pidfiles
from onestack.drivers.compute import (
    NIC,
    ConsoleUnavailable,
    DriverError,
    HostResources,
    InstanceInfo,
    InstanceSpec,
    PowerState,
    VolumeDisk,
)
from onestack.drivers.runc import bundle, consoles, images, network, overlay, snapshot
from onestack.drivers.runc.layout import ContainerDir
from onestack.drivers.runc.runtime import Runc

_STATUS = {"running": PowerState.RUNNING, "paused": PowerState.PAUSED, "created": PowerState.PAUSED,
           "stopped": PowerState.SHUTDOWN}
SOFT_REBOOT_SECONDS = 10.0
# Absolute, as Docker's /docker/<id>: outside the cgroup of the onestack process, so a service manager
# stopping onestack's cgroup leaves the containers running for the next onestack to adopt.
CGROUP_PARENT = "/onestack"


def _process_token(pid: int) -> str:
    """A process named so that a later one given the same pid is not taken for it: pid and start time.  A
    process that has exited but not yet been reaped (a zombie: a killed onestack whose parent has not waited
    for it) is gone too: it will never thaw what it froze."""
    if not pidfiles.alive(pid):
        return f"{pid} gone"
    try:
        started = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        started = "gone"
    return f"{pid} {started}"


class RuncDriver:
    name = "runc"

    def __init__(self, state_dir: Path | str):
        self.state_dir = Path(state_dir).resolve()
        self.instances_dir = self.state_dir / "instances"
        self.images_dir = self.state_dir / "_images"
        self.instances_dir.mkdir(parents=True, exist_ok=True)
        images.remove_abandoned(self.images_dir)  # half an unpack a killed process left
        self.runc = Runc(self.state_dir / "runc")
        self._locks: defaultdict[str, threading.RLock] = defaultdict(threading.RLock)

    # -- host -----------------------------------------------------------------------------------

    def host_resources(self) -> HostResources:
        return hostresources.measure(self.state_dir)

    def list_instances(self) -> list[str]:
        return sorted(p.name for p in self.instances_dir.iterdir() if ContainerDir(p).exists())

    def has_files(self, uuid: str) -> bool:
        """Whether anything of instance ``uuid`` is here (its directory), even from a spawn that failed
        early: one look, not a listing."""
        return self._dir(uuid).root.exists()

    # -- helpers --------------------------------------------------------------------------------

    def _dir(self, uuid: str) -> ContainerDir:
        if "/" in uuid or uuid in ("", ".", ".."):
            raise DriverError(f"bad instance uuid {uuid!r}")
        return ContainerDir(self.instances_dir / uuid)

    def _status(self, uuid: str) -> str | None:
        status = self.runc.status(uuid)
        if status == "paused" and self._thaw_orphaned_freeze(uuid):
            return "running"
        return status

    def _thaw_orphaned_freeze(self, uuid: str) -> bool:
        """Thaw a container a snapshot froze in a process that died before it could thaw it (a kill -9 mid-
        snapshot): nobody else paused it, and a snapshot taken again freezes it again."""
        marker = self._dir(uuid).frozen_for_snapshot
        try:
            froze = marker.read_text().strip()
        except OSError:
            return False
        pid = froze.split()[0] if froze else ""
        if pid.isdigit() and froze == _process_token(int(pid)):
            return False  # the snapshot is under way in that process
        self.runc.resume(uuid)
        marker.unlink(missing_ok=True)
        return True

    def _require_spec(self, uuid: str) -> InstanceSpec:
        where = self._dir(uuid)
        if not where.exists():
            raise DriverError(f"instance {uuid} does not exist")
        return where.load_spec()

    def _etc_files(self, spec: InstanceSpec, where: ContainerDir) -> dict[str, Path]:
        where.etc.mkdir(exist_ok=True)
        hostname = spec.hostname or spec.name
        files = {
            "/etc/hostname": f"{hostname}\n",
            "/etc/hosts": f"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t{hostname}\n",
            "/etc/resolv.conf": "",  # the DHCP client writes the lease's servers into it
        }
        found = {}
        for inside, text in files.items():
            host = where.etc / inside.rsplit("/", 1)[1]
            if not host.exists() or inside != "/etc/resolv.conf":
                host.write_text(text)
            found[inside] = host
        return found

    def _start(self, spec: InstanceSpec) -> None:
        where = self._dir(spec.uuid)
        lower, image_config = where.load_lower()
        if not lower.is_dir():
            raise DriverError("the container's cached image is gone from the host")
        network.ensure_namespace(spec.uuid)
        inner = {nic.port_id: network.ensure_nic(spec.uuid, nic) for nic in spec.nics}
        files = self._etc_files(spec, where)
        config = bundle.runtime_config(spec, image_config, lower, network.netns_path(spec.uuid), files,
                                       f"{CGROUP_PARENT}/{spec.uuid}")
        if self.runc.state(spec.uuid) is not None:  # a container that stopped by itself: start it afresh
            self.runc.delete(spec.uuid)
        overlay.mount(lower, where.upper, where.work, where.rootfs)
        where.config.write_text(json.dumps(config, indent=1))
        # the DHCP clients first: the address is asked for while the container starts
        for nic in spec.nics:
            network.start_dhcp(spec.uuid, nic, inner[nic.port_id], spec.hostname or spec.name, where.root,
                               files["/etc/resolv.conf"])
        try:
            self.runc.run(spec.uuid, where.root, where.console_log)
        except DriverError:
            self._stop(spec.uuid, 0)
            raise

    def _stop(self, uuid: str, graceful_seconds: float) -> None:
        """SIGTERM to the container's init when ``graceful_seconds`` > 0, SIGKILL after; then nothing of the
        running container is left but its network (kept, as a stopped guest keeps its taps)."""
        where = self._dir(uuid)
        state = self.runc.state(uuid)
        if state is not None and state["status"] in ("running", "paused", "created") and graceful_seconds > 0:
            if state["status"] == "paused":
                self.runc.resume(uuid)  # a frozen init cannot act on the signal
            self.runc.kill(uuid, "TERM")
            pidfiles.wait_gone(int(state["pid"]), graceful_seconds)
        if state is not None:
            self.runc.delete(uuid)  # SIGKILL to whatever still runs; its cgroups go
        for nic in (where.load_spec().nics if where.exists() else ()):
            network.stop_dhcp(nic, where.root)
        consoles.stop(where.console_socket, where.console_pidfile)
        overlay.unmount(where.rootfs)

    # -- lifecycle ------------------------------------------------------------------------------

    def spawn(self, spec: InstanceSpec) -> None:
        with self._locks[spec.uuid]:
            where = self._dir(spec.uuid)
            if self._status(spec.uuid) in ("running", "paused", "created"):
                return
            if not spec.image_path:
                raise DriverError("no image to start the container from")
            where.root.mkdir(parents=True, exist_ok=True)
            try:
                image = images.cached(spec.image_path, self.images_dir)
                where.save_lower(image.rootfs, image.config)
                where.save_spec(spec)
                self._start(spec)
            except OSError as exc:
                raise DriverError(f"cannot prepare instance {spec.uuid}: {exc}") from exc

    def release(self, uuid: str) -> None:
        self.destroy(uuid)  # a container's layers are all on this host

    def destroy(self, uuid: str) -> None:
        with self._locks[uuid]:
            where = self._dir(uuid)
            self._stop(uuid, graceful_seconds=0)
            for nic in (where.load_spec().nics if where.exists() else ()):
                network.remove_nic(nic)
            network.remove_namespace(uuid)
            if where.console_socket.parent != where.root:  # the short directory of a deep state dir's socket
                shutil.rmtree(where.console_socket.parent, ignore_errors=True)
            shutil.rmtree(where.root, ignore_errors=True)
        self._locks.pop(uuid, None)

    def power_on(self, spec: InstanceSpec) -> None:
        with self._locks[spec.uuid]:
            if self._status(spec.uuid) in ("running", "paused", "created"):
                return
            self._require_spec(spec.uuid)
            self._dir(spec.uuid).save_spec(spec)
            self._start(spec)

    def power_off(self, uuid: str, timeout: float = 60.0) -> None:
        with self._locks[uuid]:
            self._stop(uuid, graceful_seconds=timeout)

    def reboot(self, spec: InstanceSpec, hard: bool) -> None:
        """Soft: SIGTERM, SIGKILL after a while, start again.  Hard: SIGKILL and start.  Both start a
        container that was off, from ``spec``."""
        with self._locks[spec.uuid]:
            self._require_spec(spec.uuid)
            self._stop(spec.uuid, graceful_seconds=0 if hard else SOFT_REBOOT_SECONDS)
            self._dir(spec.uuid).save_spec(spec)
            self._start(spec)

    def pause(self, uuid: str) -> None:
        with self._locks[uuid]:
            status = self._status(uuid)
            if status == "paused":
                return
            if status != "running":
                raise DriverError(f"instance {uuid} is not running")
            self.runc.pause(uuid)

    def unpause(self, uuid: str) -> None:
        with self._locks[uuid]:
            status = self._status(uuid)
            if status == "running":
                return
            if status != "paused":
                raise DriverError(f"instance {uuid} is not paused")
            self.runc.resume(uuid)

    def suspend(self, uuid: str) -> None:
        raise DriverError("Suspend is not supported for containers: runc saves no state without CRIU.")

    def resume(self, spec: InstanceSpec) -> None:
        raise DriverError("Resume is not supported for containers: they cannot be suspended.")

    def snapshot(self, uuid: str, target_path: str) -> str:
        """The image the container came from with its upper layer on top (``snapshot.py``), in the same
        container format; a running container is frozen meanwhile so its files hold still, as a VM is
        stopped for its disk's copy.  The file is a tar: its disk format is raw."""
        with self._locks[uuid]:
            where = self._dir(uuid)
            self._require_spec(uuid)
            lower, _ = where.load_lower()
            cached = images.described(lower)
            thaw = self._status(uuid) == "running"
            if thaw:  # marked first: a new process thaws it if this one dies before it does (_status)
                where.frozen_for_snapshot.write_text(_process_token(os.getpid()))
                try:
                    self.runc.pause(uuid)
                except DriverError:
                    where.frozen_for_snapshot.unlink(missing_ok=True)
                    raise
            try:
                snapshot.write(lower, cached.config, cached.format, where.upper, Path(target_path),
                               f"onestack: snapshot of instance {uuid}")
            finally:
                if thaw:
                    self.runc.resume(uuid)
                    where.frozen_for_snapshot.unlink(missing_ok=True)
            return "raw"

    def attach_volume(self, uuid: str, disk: VolumeDisk) -> None:
        raise DriverError("Volumes are not attached to containers: a container has no block devices of its own.")

    def detach_volume(self, uuid: str, volume_id: str) -> None:
        """Nothing to detach: no volume is ever attached to a container."""

    def extend_volume(self, uuid: str, volume_id: str, size_bytes: int) -> bool:
        return False  # no volume is ever attached to a container

    def swap_volume(self, uuid: str, volume_id: str, disk: VolumeDisk) -> bool:
        raise DriverError("Volumes are not attached to containers: there is no volume to swap.")

    def snapshot_volume(self, uuid: str, volume_id: str, overlay_path: str) -> bool:
        return False  # no volume is ever attached to a container

    def set_volume_limits(self, uuid: str, volume_id: str, throttle: dict) -> bool:
        return False  # no volume is ever attached to a container

    def resize(self, spec: InstanceSpec) -> None:
        """The new flavor's limits, applied to the running container at once (no restart)."""
        with self._locks[spec.uuid]:
            where = self._dir(spec.uuid)
            self._require_spec(spec.uuid)
            where.save_spec(spec)
            if self._status(spec.uuid) in ("running", "paused"):
                limits = bundle.limits(spec)
                limits.pop("devices")  # runc update changes limits, not the device rules
                where.resources.write_text(json.dumps(limits))
                self.runc.update(spec.uuid, where.resources)

    # -- interfaces -----------------------------------------------------------------------------

    def attach_interface(self, uuid: str, nic: NIC) -> None:
        with self._locks[uuid]:
            where = self._dir(uuid)
            spec = self._require_spec(uuid)
            if self._status(uuid) in ("running", "paused"):
                network.ensure_namespace(uuid)
                inner = network.ensure_nic(uuid, nic)
                network.start_dhcp(uuid, nic, inner, spec.hostname or spec.name, where.root,
                                   where.etc / "resolv.conf")
            if all(n.port_id != nic.port_id for n in spec.nics):
                where.save_spec(dataclasses.replace(spec, nics=spec.nics + (nic,)))

    def detach_interface(self, uuid: str, nic: NIC) -> None:
        with self._locks[uuid]:
            where = self._dir(uuid)
            spec = self._require_spec(uuid)
            network.stop_dhcp(nic, where.root)
            network.remove_nic(nic)
            where.save_spec(dataclasses.replace(spec, nics=tuple(n for n in spec.nics if n.port_id != nic.port_id)))

    # -- observation ----------------------------------------------------------------------------

    def set_admin_password(self, uuid: str, password: str) -> None:
        raise DriverError("Set admin password is not supported by this driver: the container runs no agent.")

    def console_output(self, uuid: str, length: int | None = None) -> str:
        text = consolelog.read(self._dir(uuid).console_log, length)
        if text is None:
            if self._dir(uuid).exists():
                return ""
            raise DriverError(f"instance {uuid} does not exist")
        return text

    def console_socket(self, uuid: str, kind: str) -> str:
        """``serial``: a shell in the running container on a terminal, one per connection, served by
        ``console_server.py`` (started at the first ask, stopped with the container)."""
        with self._locks[uuid]:
            where = self._dir(uuid)
            self._require_spec(uuid)
            if kind != "serial":
                raise ConsoleUnavailable(f"Unavailable console type {kind}.")
            if self._status(uuid) not in ("running", "paused"):
                raise ConsoleUnavailable(f"instance {uuid} is not running")
            return str(consoles.ensure(where.console_socket, where.console_pidfile, self.runc, uuid,
                                       where.root / "console-server.log"))

    def instance_info(self, uuid: str) -> InstanceInfo:
        where = self._dir(uuid)
        if not where.exists():
            return InstanceInfo(PowerState.NOSTATE)
        spec = where.load_spec()
        state = _STATUS.get(self._status(uuid) or "stopped", PowerState.SHUTDOWN)
        return InstanceInfo(state, vcpus=spec.vcpus, memory_mb=spec.memory_mb)

