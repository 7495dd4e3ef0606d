"""QemuDriver: one QEMU process per guest, supervised through files, not through a parent.

Everything an instance has lives in ``<state dir>/instances/<uuid>/`` (see ``layout.py``): the
pidfile, the QMP socket, the serial log, the disks, the spec it was started with and, while
suspended, its saved state.  That directory is the whole truth: a new driver object on the same
state dir sees the same guests and talks to their running QEMUs, and never stops them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shlex
import shutil
import threading
import time
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
from onestack.drivers.qemu import accel as accel_probe
from onestack.drivers.qemu import coldmove, command, disks, process, taps, volumes
from onestack.drivers.qemu.layout import InstanceDir
from onestack.drivers.qemu.migrating import MigratingGuests
from onestack.drivers.qemu.qmp import QMP, QMPError
from onestack.drivers.qemu.rbddisks import RBDDisks
from onestack.drivers.secrets import secret_fd

# query-status "status" → power state; anything unlisted (prelaunch, debug, ...) counts as paused
_STATUS = {
    "running": PowerState.RUNNING,
    "paused": PowerState.PAUSED,
    "suspended": PowerState.SUSPENDED,
    "shutdown": PowerState.SHUTDOWN,
    "guest-panicked": PowerState.CRASHED,
    "internal-error": PowerState.CRASHED,
    "io-error": PowerState.CRASHED,
    "inmigrate": PowerState.PAUSED,
    "postmigrate": PowerState.SUSPENDED,
    "finish-migrate": PowerState.SUSPENDED,
}


class QemuDriver(MigratingGuests):
    name = "qemu"

    def __init__(self, state_dir: Path | str, accel: str | None = None, rbd_disks: RBDDisks | None = None):
        """``rbd_disks``: root disks of images kept in Ceph go there, as clones, and every guest's ephemeral and
        swap disks (Nova's images_type rbd)."""
        self.rbd = rbd_disks
        self.state_dir = Path(state_dir).resolve()
        self.instances_dir = self.state_dir / "instances"
        self.base_dir = self.state_dir / "_base"
        self.instances_dir.mkdir(parents=True, exist_ok=True)
        if accel is None:
            accel, self.accel_reason = accel_probe.choose(self.state_dir)
        else:
            self.accel_reason = "chosen by the caller"
        self.accel = accel
        self._locks: defaultdict[str, threading.RLock] = defaultdict(threading.RLock)

    # -- host -----------------------------------------------------------------------------------

    def host_resources(self) -> HostResources:
        return hostresources.measure(self.state_dir)

    def list_instances(self) -> list[str]:
        return sorted(p.name for p in self.instances_dir.iterdir() if InstanceDir(p).exists())

    # -- helpers --------------------------------------------------------------------------------

    def _dir(self, uuid: str) -> InstanceDir:
        if "/" in uuid or uuid in ("", ".", ".."):
            raise DriverError(f"bad instance uuid {uuid!r}")
        return InstanceDir(self.instances_dir / uuid)

    def _pid(self, uuid: str) -> int | None:
        return process.running_pid(self._dir(uuid), uuid)

    def _qmp(self, uuid: str, timeout: float = 10.0) -> QMP:
        return QMP(self._dir(uuid).qmp_socket, timeout)

    def _status(self, uuid: str) -> str | None:
        """QEMU's run state, or None if no QEMU runs for this guest."""
        if self._pid(uuid) is None:
            return None
        try:
            with self._qmp(uuid, timeout=5.0) as qmp:
                return qmp.execute("query-status")["status"]
        except QMPError:
            # alive but not answering (busy with another client, or starting up): it still runs
            return "running" if self._pid(uuid) else None

    def _require_running_qemu(self, uuid: str) -> None:
        if self._pid(uuid) is None:
            raise DriverError(f"instance {uuid} is not running")

    def _start(self, spec: InstanceSpec, incoming: Path | str | None = None) -> None:
        where = self._dir(spec.uuid)
        for nic in spec.nics:
            taps.ensure(nic)
        for sock in where.sockets():
            sock.unlink(missing_ok=True)
        with contextlib.ExitStack() as pipes:
            # each encrypted volume's passphrase in a pipe QEMU inherits, closed here once it has started
            fds = {disk.volume_id: pipes.enter_context(secret_fd(volumes.secret_of(disk).encode()))
                   for disk in spec.volumes if disk.encrypted}
            process.start(command.argv(spec, where, self.accel, incoming, rbd_root=self._rbd_root(where),
                                       secret_fds=fds, rbd_extras=self._rbd_extras(where)),
                          where, pass_fds=tuple(fds.values()))

    def _rbd_rooted(self, spec: InstanceSpec) -> bool:
        """Whether the guest's root disk goes in Ceph here: it boots from an image, not a volume (a clone when
        the image is in Ceph, else a raw copy of it)."""
        return self.rbd is not None and bool(spec.image_rbd or spec.image_path) and spec.boot_volume is None

    def _adopt_rbd_root(self, spec: InstanceSpec, where: InstanceDir) -> bool:
        """A guest moving here whose root disk is already in Ceph (another host made it): this host opens the
        same disk, grown to ``spec``'s flavor, and copies nothing.  False when it has none there."""
        if not self._rbd_rooted(spec) or where.root_disk.exists() or not self.rbd.exists(self.rbd.name(spec.uuid)):
            return False
        self.rbd.create_root(spec, where.root, self.base_dir)  # the disk is there: only grown, and named in root.rbd
        return True

    def _rbd_root(self, where: InstanceDir) -> dict | None:
        """The block node of the guest's root disk when it is in Ceph (the marker says so)."""
        marker = RBDDisks.marker(where.root)
        if not marker.exists():
            return None
        name = marker.read_text().strip()
        if self.rbd is None:
            raise DriverError(f"the root disk {name} is in Ceph, and this host has no Ceph cluster configured")
        return self.rbd.block_node(name, "root-disk")

    def _rbd_extras(self, where: InstanceDir) -> dict[str, dict]:
        """The block nodes of the guest's ephemeral and swap disks that are in Ceph (their markers say so)."""
        if self.rbd is None:
            if any(RBDDisks.extra_marker(where.root, kind).exists() for kind in ("ephemeral", "swap")):
                raise DriverError("the guest's disks are in Ceph, and this host has no Ceph cluster configured")
            return {}
        return {kind: self.rbd.block_node(name, f"{kind}-disk") for kind, name in self.rbd.extras_of(where.root).items()}

    def _create_ephemeral_and_swap(self, spec: InstanceSpec, where: InstanceDir) -> None:
        """The flavor's ephemeral and swap disks: in Ceph on a host whose guests' disks are there (as Nova's
        images_type rbd puts them, whatever the root disk is), so a move finds them there too; else files."""
        if self.rbd is not None:
            self.rbd.create_extras(spec, where)
        else:
            disks.create_ephemeral_and_swap(spec, where)

    def _stop(self, uuid: str, graceful_seconds: float) -> None:
        """Power-button first when ``graceful_seconds`` > 0; then QMP quit; then SIGKILL."""
        pid = self._pid(uuid)
        if pid is None:
            return
        if graceful_seconds > 0:
            try:
                with self._qmp(uuid) as qmp:
                    qmp.execute("system_powerdown")
            except QMPError:
                pass
            if pidfiles.wait_gone(pid, graceful_seconds):
                return
        try:
            with self._qmp(uuid) as qmp:
                qmp.execute("quit")
        except QMPError:
            pass
        if not pidfiles.wait_gone(pid, 5.0):
            pidfiles.kill(pid)

    # -- lifecycle ------------------------------------------------------------------------------

    def spawn(self, spec: InstanceSpec) -> None:
        with self._locks[spec.uuid]:
            where = self._dir(spec.uuid)
            if self._pid(spec.uuid):
                return
            where.root.mkdir(parents=True, exist_ok=True)
            try:
                if self._rbd_rooted(spec) and not where.root_disk.exists():
                    self.rbd.create_root(spec, where.root, self.base_dir)
                else:
                    disks.create_root(spec, where, self.base_dir)
                self._create_ephemeral_and_swap(spec, where)
                disks.copy_config_drive(spec, where)
                where.save_spec(spec)
                self._start(spec)
            except DriverError:
                raise
            except OSError as exc:
                raise DriverError(f"cannot prepare instance {spec.uuid}: {exc}") from exc

    def destroy(self, uuid: str) -> None:
        self._remove(uuid, shared_too=True)

    def release(self, uuid: str) -> None:
        self._remove(uuid, shared_too=False)

    def _remove(self, uuid: str, shared_too: bool) -> None:
        """The guest gone from this host; its root disk in Ceph too when ``shared_too`` (it is the guest's,
        not this host's: after a move it is the guest's on its other host)."""
        with self._locks[uuid]:
            where = self._dir(uuid)
            self._stop(uuid, graceful_seconds=0)
            coldmove.stop(where)
            nics = where.load_spec().nics if where.exists() else ()
            for nic in nics:
                taps.remove(nic.tap_name)
            where.remove_sockets()  # they may not be beside the files
            if self.rbd is not None and shared_too:
                self.rbd.remove(where.root)  # before the directory: a failure is retried, nothing is lost
            shutil.rmtree(where.root, ignore_errors=True)
        self._locks.pop(uuid, None)

    def power_on(self, spec: InstanceSpec) -> None:
        with self._locks[spec.uuid]:
            if self._dir(spec.uuid).saved_state.exists():
                self.resume(spec)  # as libvirt does with a managed save: starting restores it
                return
            if self._pid(spec.uuid):
                return
            self._prepare_rescue(spec, self._dir(spec.uuid))
            self._dir(spec.uuid).save_spec(spec)
            self._start(spec)

    def power_off(self, uuid: str, timeout: float = 60.0) -> None:
        with self._locks[uuid]:
            self._stop(uuid, graceful_seconds=timeout)

    def reboot(self, spec: InstanceSpec, hard: bool) -> None:
        """Soft: a reset of the running guest.  Hard: a new QEMU from ``spec`` (as Nova's hard
        reboot redefines the domain), which also starts a guest that was off."""
        with self._locks[spec.uuid]:
            if not hard and self._pid(spec.uuid):
                try:
                    with self._qmp(spec.uuid) as qmp:
                        if qmp.execute("query-status")["status"] == "paused":
                            qmp.execute("cont")
                        qmp.execute("system_reset")
                    return
                except QMPError:
                    pass  # not answering: fall through to the hard way
            where = self._dir(spec.uuid)
            self._make_rescue_disk(spec, where)  # before the guest stops: a rescue that cannot be made stops nothing
            self._stop(spec.uuid, graceful_seconds=0)
            where.saved_state.unlink(missing_ok=True)
            self._prepare_rescue(spec, where)
            where.save_spec(spec)
            self._start(spec)

    def _make_rescue_disk(self, spec: InstanceSpec, where: InstanceDir) -> None:
        if spec.rescue_image_path is not None:
            if spec.boot_volume is not None and not spec.stable_rescue:
                raise DriverError(f"Cannot rescue a volume-backed instance {spec.uuid}")
            disks.create_rescue(spec, where, self.base_dir)

    def _prepare_rescue(self, spec: InstanceSpec, where: InstanceDir) -> None:
        """The rescue disk made when ``spec`` rescues the guest, removed when it does not (an unrescue; the
        guest is stopped then).  Either can be repeated after a crash at any point: it converges on the same
        disks (the spec file, written after, names the rescue only once its disk is there)."""
        if spec.rescue_image_path is not None:
            self._make_rescue_disk(spec, where)
        else:
            where.rescue_disk.unlink(missing_ok=True)
            where.rescue_disk.with_suffix(".partial").unlink(missing_ok=True)

    def pause(self, uuid: str) -> None:
        with self._locks[uuid]:
            self._require_running_qemu(uuid)
            with self._qmp(uuid) as qmp:
                qmp.execute("stop")

    def unpause(self, uuid: str) -> None:
        with self._locks[uuid]:
            self._require_running_qemu(uuid)
            with self._qmp(uuid) as qmp:
                qmp.execute("cont")

    def extend_volume(self, uuid: str, volume_id: str, size_bytes: int) -> bool:
        return self._on_volume(uuid, volume_id, "extend", lambda qmp, key: volumes.resize(qmp, key, size_bytes))

    def set_volume_limits(self, uuid: str, volume_id: str, throttle: dict) -> bool:
        with self._locks[uuid]:
            where = self._dir(uuid)
            if not where.exists():
                return False
            spec = where.load_spec()
            disk = next((v for v in spec.volumes if v.volume_id == volume_id), None)
            if disk is None:
                return False
            if self._pid(uuid):
                try:
                    with self._qmp(uuid) as qmp:
                        volumes.set_limits(qmp, disk.qemu_key, throttle)
                except QMPError as exc:
                    raise DriverError(f"cannot limit volume {volume_id}: {exc}") from exc
            changed = dataclasses.replace(disk, throttle=dict(throttle))
            where.save_spec(dataclasses.replace(spec, volumes=tuple(changed if v is disk else v
                                                                    for v in spec.volumes)))
            return True

    def snapshot_volume(self, uuid: str, volume_id: str, overlay_path: str) -> bool:
        return self._on_volume(uuid, volume_id, "snapshot",
                               lambda qmp, key: volumes.snapshot(qmp, key, overlay_path))

    def swap_volume(self, uuid: str, volume_id: str, disk: VolumeDisk) -> bool:
        with self._locks[uuid]:
            where = self._dir(uuid)
            if not where.exists():
                raise DriverError(f"instance {uuid} does not exist")
            spec = where.load_spec()
            current = next((v for v in spec.volumes if v.volume_id in (volume_id, disk.volume_id)), None)
            if current is None:
                raise DriverError(f"volume {volume_id} is not attached to instance {uuid}")
            if current.boot:
                raise DriverError(f"volume {volume_id} is the guest's root disk")
            # the disk keeps its slot's names in this QEMU (and in every later start, see VolumeDisk.slot)
            moved = dataclasses.replace(disk, slot=current.qemu_key if current.qemu_key != disk.volume_id else None)
            running = bool(self._pid(uuid))
            if running:
                try:
                    # a copy of a whole volume under TCG on a loaded host: minutes at worst
                    with self._qmp(uuid, timeout=30) as qmp:
                        volumes.swap(qmp, current.qemu_key, moved, timeout=600.0,
                                     from_encrypted=current.encrypted)
                except QMPError as exc:
                    raise DriverError(f"cannot swap volume {volume_id} for {disk.volume_id}: {exc}") from exc
            where.save_spec(dataclasses.replace(spec, volumes=tuple(moved if v is current else v
                                                                    for v in spec.volumes)))
            return running

    def _on_volume(self, uuid: str, volume_id: str, what: str, act) -> bool:
        """``act`` on the running guest's QMP when the guest has the volume; False when none runs with it."""
        with self._locks[uuid]:
            where = self._dir(uuid)
            if not where.exists() or not self._pid(uuid):
                return False
            disk = next((v for v in where.load_spec().volumes if v.volume_id == volume_id), None)
            if disk is None:
                return False
            try:
                with self._qmp(uuid) as qmp:
                    act(qmp, disk.qemu_key)
            except QMPError as exc:
                raise DriverError(f"cannot {what} volume {volume_id}: {exc}") from exc
            return True

    def suspend(self, uuid: str) -> None:
        """Pause, write RAM and device state to ``suspended.state`` (migration to a file), quit."""
        with self._locks[uuid]:
            where = self._dir(uuid)
            pid = self._pid(uuid)
            if pid is None:
                if where.saved_state.exists():
                    return
                raise DriverError(f"instance {uuid} is not running")
            partial = where.saved_state.with_suffix(".partial")
            try:
                with self._qmp(uuid, timeout=30) as qmp:
                    qmp.execute("stop")
                    # the default 32 MiB/s cap is for live migration over a shared network
                    qmp.execute("migrate-set-parameters", **{"max-bandwidth": 8 * 1024**3})
                    qmp.execute("migrate", uri=f"exec:cat > {shlex.quote(str(partial))}")
                    deadline = time.monotonic() + 300
                    while (status := qmp.execute("query-migrate").get("status")) not in ("completed", "failed"):
                        if time.monotonic() > deadline:
                            raise DriverError("saving the guest's state took more than 300s")
                        time.sleep(0.1)
                    if status != "completed":
                        qmp.execute("cont")
                        raise DriverError("saving the guest's state failed")
                    partial.replace(where.saved_state)
                    qmp.execute("quit")
            except QMPError as exc:
                raise DriverError(f"suspend failed: {exc}") from exc
            finally:
                partial.unlink(missing_ok=True)  # a state not saved whole is no state (renamed once it is)
            if not pidfiles.wait_gone(pid, 10.0):
                pidfiles.kill(pid)

    def resume(self, spec: InstanceSpec) -> None:
        """Start QEMU with the hardware the state was saved from, load the state, continue."""
        with self._locks[spec.uuid]:
            where = self._dir(spec.uuid)
            if not where.saved_state.exists():
                if self._pid(spec.uuid):
                    return
                raise DriverError(f"instance {spec.uuid} has no saved state to resume")
            # the state only fits the machine it came from; its volumes' keys are the ones given now (a spec
            # file holds none)
            saved_spec = _with_secrets(where.load_spec(), spec)
            self._start(saved_spec, incoming=where.saved_state)
            try:
                with self._qmp(spec.uuid, timeout=30) as qmp:
                    deadline = time.monotonic() + 300
                    while qmp.execute("query-status")["status"] == "inmigrate":
                        if time.monotonic() > deadline:
                            raise DriverError("loading the guest's state took more than 300s")
                        time.sleep(0.05)
                    qmp.execute("cont")
            except QMPError as exc:
                raise DriverError(f"resume failed: {exc}") from exc
            where.saved_state.unlink()

    def snapshot(self, uuid: str, target_path: str) -> str:
        with self._locks[uuid]:
            where = self._dir(uuid)
            rbd_root = self.rbd.root_of(where.root) if self.rbd is not None else None
            if not where.root_disk.exists() and rbd_root is None:
                raise DriverError(f"instance {uuid} has no root disk")
            resume_after = False
            if self._status(uuid) == "running":
                # a paused guest writes nothing: the copy is consistent (QEMU flushes on stop)
                with self._qmp(uuid) as qmp:
                    qmp.execute("stop")
                resume_after = True
            try:
                if rbd_root is not None:
                    # raw, as Nova's RBD snapshots are: the image service keeps a raw image in the cluster
                    # too, so a guest booted (or unshelved) from the snapshot is a clone of it again
                    disks.snapshot_of(self.rbd.qemu_uri(rbd_root), Path(target_path), fmt="raw")
                    return "raw"
                disks.snapshot(where, Path(target_path))
            finally:
                if resume_after:
                    with self._qmp(uuid) as qmp:
                        qmp.execute("cont")
            return "qcow2"

    def resize(self, spec: InstanceSpec) -> None:
        with self._locks[spec.uuid]:
            where = self._dir(spec.uuid)
            if not where.exists():
                raise DriverError(f"instance {spec.uuid} does not exist")
            self._stop(spec.uuid, graceful_seconds=30)
            where.saved_state.unlink(missing_ok=True)  # its RAM size no longer fits
            rbd_root = self.rbd.root_of(where.root) if self.rbd is not None else None
            if rbd_root is not None and spec.boot_volume is None:
                self.rbd.grow(rbd_root, spec.root_gb)
            else:
                disks.grow_root(spec, where)
            self._create_ephemeral_and_swap(spec, where)
            where.save_spec(spec)
            self._start(spec)

    # -- interfaces -----------------------------------------------------------------------------

    def attach_interface(self, uuid: str, nic: NIC) -> None:
        with self._locks[uuid]:
            where = self._dir(uuid)
            spec = where.load_spec()
            if self._pid(uuid):
                netdev_id, device_id = command.nic_ids(nic)
                taps.ensure(nic)
                with self._qmp(uuid) as qmp:
                    present = {d["name"] for d in qmp.execute("qom-list", path="/machine/peripheral")}
                    if device_id not in present:
                        qmp.execute("netdev_add", type="tap", id=netdev_id, ifname=nic.tap_name,
                                    script="no", downscript="no")
                        qmp.execute("device_add", **command.nic_device(nic))
            if all(n.port_id != nic.port_id for n in spec.nics):
                where.save_spec(_with_nics(spec, spec.nics + (nic,)))

    def detach_interface(self, uuid: str, nic: NIC) -> None:
        with self._locks[uuid]:
            where = self._dir(uuid)
            spec = where.load_spec()
            if self._pid(uuid):
                netdev_id, device_id = command.nic_ids(nic)
                with self._qmp(uuid) as qmp:
                    present = {d["name"] for d in qmp.execute("qom-list", path="/machine/peripheral")}
                    if device_id in present:
                        qmp.execute("device_del", id=device_id)
                        # the guest must acknowledge the ACPI eject before the device goes
                        if not qmp.wait_event("DEVICE_DELETED", 20.0, lambda d: d.get("device") == device_id):
                            raise DriverError(f"guest did not release interface {nic.port_id}")
                    try:
                        qmp.execute("netdev_del", id=netdev_id)
                    except QMPError:
                        pass  # already gone
            taps.remove(nic.tap_name)
            where.save_spec(_with_nics(spec, tuple(n for n in spec.nics if n.port_id != nic.port_id)))

    # -- volumes --------------------------------------------------------------------------------

    def attach_volume(self, uuid: str, disk: VolumeDisk) -> None:
        with self._locks[uuid]:
            where = self._dir(uuid)
            if not where.exists():
                raise DriverError(f"instance {uuid} does not exist")
            spec = where.load_spec()
            if self._pid(uuid):
                try:
                    with self._qmp(uuid) as qmp:
                        volumes.plug(qmp, disk)
                except QMPError as exc:
                    raise DriverError(f"cannot attach volume {disk.volume_id}: {exc}") from exc
            if disk not in spec.volumes:
                kept = tuple(v for v in spec.volumes if v.volume_id != disk.volume_id)
                where.save_spec(dataclasses.replace(spec, volumes=kept + (disk,)))

    def detach_volume(self, uuid: str, volume_id: str) -> None:
        with self._locks[uuid]:
            where = self._dir(uuid)
            if not where.exists():
                return
            spec = where.load_spec()
            if any(v.boot and v.volume_id == volume_id for v in spec.volumes):
                raise DriverError(f"volume {volume_id} is the guest's root disk")
            held = next((v for v in spec.volumes if v.volume_id == volume_id), None)
            if self._pid(uuid):
                try:
                    with self._qmp(uuid, timeout=30) as qmp:
                        # under TCG a guest busy booting takes seconds to answer the eject
                        released = volumes.unplug(qmp, held.qemu_key if held else volume_id, timeout=30.0)
                except QMPError as exc:
                    raise DriverError(f"cannot detach volume {volume_id}: {exc}") from exc
                if not released:
                    raise DriverError(f"guest did not release volume {volume_id}")
            where.save_spec(dataclasses.replace(spec, volumes=tuple(v for v in spec.volumes
                                                                    if v.volume_id != volume_id)))

    # -- observation ----------------------------------------------------------------------------

    def set_admin_password(self, uuid: str, password: str) -> None:
        # Setting a password needs an agent inside the guest (Nova's libvirt driver uses the QEMU guest agent);
        # onestack's guests run none, so this is refused as Nova refuses it without one.
        raise DriverError("Set admin password is not supported by this driver: the guest runs no agent.")

    def console_output(self, uuid: str, length: int | None = None) -> str:
        text = consolelog.read(self._dir(uuid).console_log, length)
        if text is None:
            if self._dir(uuid).exists():
                return ""
            raise DriverError(f"instance {uuid} does not exist")
        return text

    def console_socket(self, uuid: str, kind: str) -> str:
        where = self._dir(uuid)
        path = {"serial": where.serial_socket, "vnc": where.vnc_socket}.get(kind)
        if path is None:
            raise ConsoleUnavailable(f"Unavailable console type {kind}.")
        if self._pid(uuid) is None:
            raise ConsoleUnavailable(f"instance {uuid} is not running")
        if not path.exists():  # a guest started before its QEMU had this console
            raise ConsoleUnavailable(f"Unavailable console type {kind}.")
        return str(path)

    def instance_info(self, uuid: str) -> InstanceInfo:
        where = self._dir(uuid)
        if not where.exists():
            return InstanceInfo(PowerState.NOSTATE)
        spec = where.load_spec()
        status = self._status(uuid)
        if status is None:
            state = PowerState.SUSPENDED if where.saved_state.exists() else PowerState.SHUTDOWN
        else:
            state = _STATUS.get(status, PowerState.PAUSED)
        return InstanceInfo(state, vcpus=spec.vcpus, memory_mb=spec.memory_mb)


def _with_nics(spec: InstanceSpec, nics: tuple[NIC, ...]) -> InstanceSpec:
    return dataclasses.replace(spec, nics=nics)


def _with_secrets(saved: InstanceSpec, given: InstanceSpec) -> InstanceSpec:
    """``saved`` (read from its file, which keeps no key) with the volumes' secrets ``given`` now."""
    secrets = {disk.volume_id: disk.secret for disk in given.volumes if disk.secret}
    return dataclasses.replace(saved, volumes=tuple(
        dataclasses.replace(disk, secret=secrets.get(disk.volume_id, disk.secret)) for disk in saved.volumes))
