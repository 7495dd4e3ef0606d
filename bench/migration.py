"""Live migration of onestack-tiny (256 MB) between two QEMUs on this machine, idle and while it dirties
memory (16 MB rewritten by ``dd`` in a loop, the suite's dirtying guest): by the QEMU driver as the compute
engine drives it (the destination prepared with ``-incoming defer`` and NBD exports, the disk mirrored, the
cloud's policy steering pre-copy, then post-copy or auto-converge), beside a bare ``qemu-system-x86_64``
pair of the same hardware migrated by hand over QMP with the same capabilities and the same disk mirror,
interleaved in the same run.  Each guest's NIC is a tap in a bridge of the bench's own, where a namespace
pings it every 10 ms: the downtime is the largest gap between replies.  Also total time (``migrate`` until
the guest runs on the destination) and bytes moved (memory and disk).
"""

from __future__ import annotations

import dataclasses
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from onestack.drivers.compute import NIC, InstanceSpec
from onestack.drivers.qemu import QemuDriver, accel
from onestack.drivers.qemu.command import ram_size
from onestack.drivers.qemu.migration import free_port
from onestack.drivers.qemu.qmp import QMP, QMPError
from onestack.guestimage import build
from onestack.services.compute.service.live_migration import Policy, steer
from tests.dataplane.kernel import Namespace, free_subnet, sh
from tests.dataplane.pinger import Pinging
from tests.drivers.serial import DIRTYING_LOOP, unix_shell

MEMORY_MB = 256
DIRTY = DIRTYING_LOOP
TIMEOUT = 240.0


@dataclasses.dataclass
class Moved:
    seconds: float
    downtime: float
    lost: int
    memory_bytes: int
    disk_bytes: int
    passes: int
    mode: str
    prepare: float  # until the destination listens (and its disk is exported)
    switched: float  # until the source says completed


class Lan:
    """A bridge and a namespace on it that pings the guests; ``address(n)`` the subnet's n-th host."""

    def __init__(self):
        self.bridge = f"osbm{uuid.uuid4().hex[:8]}"
        self.subnet = free_subnet()
        sh("ip", "link", "add", self.bridge, "type", "bridge")
        sh("ip", "link", "set", self.bridge, "up")
        self.outside = Namespace(self.bridge)
        self.outside.address(f"{self.address(1)}/{self.subnet.prefixlen}")

    def address(self, n: int) -> str:
        return str(list(self.subnet.hosts())[n - 1])

    def plug(self, tap: str) -> None:
        sh("ip", "link", "set", tap, "master", self.bridge, "up")

    def close(self) -> None:
        self.outside.close()
        sh("ip", "link", "del", self.bridge, check=False)


def _prepare(shell, address: str, prefix: int, dirty: bool) -> None:
    shell.run(f"ip addr add {address}/{prefix} dev eth0; ip link set eth0 up")
    if dirty:
        shell.run(DIRTY)


def _watch(lan: Lan, address: str) -> Pinging:
    pinging = Pinging(lan.outside.name, address)
    deadline = time.monotonic() + 30
    while not lan.outside.pings(address):
        if time.monotonic() > deadline:
            pinging.kill()
            raise TimeoutError(f"the guest at {address} never answered ping")
    return pinging


def _settle(lan: Lan, address: str, pinging: Pinging) -> dict:
    """A reply after the move (the guest runs and is reachable on the destination), then the pinger's tally."""
    deadline = time.monotonic() + 30
    while not lan.outside.pings(address):
        if time.monotonic() > deadline:
            pinging.kill()
            raise TimeoutError(f"the guest at {address} stopped answering after its move (hung?)")
    return pinging.stop()


def _driver_move(work: Path, accel_name: str, image: Path, lan: Lan, address: str, dirty: bool) -> Moved:
    port = uuid.uuid4().hex
    source = QemuDriver(work / "a", accel=accel_name)
    dest = QemuDriver(work / "b", accel=accel_name)
    # the same port on both "hosts", its tap named apart (one kernel here, two in a cloud)
    spec = InstanceSpec(uuid=str(uuid.uuid4()), name="bench-mover", hostname="mover", vcpus=1,
                        memory_mb=MEMORY_MB, root_gb=1, image_path=str(image), image_format="qcow2",
                        nics=(NIC(port, "52:54:00:12:34:56", f"tma{port[:8]}"),))
    there = dataclasses.replace(spec, nics=(NIC(port, "52:54:00:12:34:56", f"tmb{port[:8]}"),))
    pinging = None
    try:
        source.spawn(spec)
        lan.plug(spec.nics[0].tap_name)
        shell = unix_shell(source.console_socket(spec.uuid, "serial")).ready(180)
        _prepare(shell, address, lan.subnet.prefixlen, dirty)
        shell.close()
        pinging = _watch(lan, address)
        policy = Policy()
        started = time.monotonic()
        uri = dest.prepare_incoming(there, "127.0.0.1")
        lan.plug(there.nics[0].tap_name)  # as the agent wires the destination's binding before the move
        prepared = time.monotonic() - started
        source.live_migrate(spec.uuid, uri, policy.first_downtime_ms)
        while (progress := source.migration_progress(spec.uuid)).status == "active":
            if time.monotonic() - started > TIMEOUT:
                raise TimeoutError(f"the driver's migration did not end: {progress}")
            downtime, mode = steer(progress, policy)
            if downtime is not None or mode is not None:
                source.steer_migration(spec.uuid, downtime, mode)
            time.sleep(0.1)
        if progress.status != "completed":
            raise RuntimeError(f"the driver's migration ended {progress.status}: {progress.error}")
        completed = time.monotonic() - started
        dest.finish_incoming(spec.uuid)
        seconds = time.monotonic() - started
        source.destroy(spec.uuid)
        try:
            pinged = _settle(lan, address, pinging)
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}; the source said {progress}; {_destination_state(dest, spec.uuid)}") from None
        pinging = None
        return Moved(seconds, pinged["largest_gap_seconds"], pinged["lost"], progress.memory_processed,
                     progress.disk_processed, progress.iteration, progress.mode, prepared, completed)
    finally:
        if pinging is not None:
            pinging.kill()
        for driver in (source, dest):
            try:
                driver.destroy(spec.uuid)
            except Exception:  # noqa: BLE001 - cleaning up whatever is left
                pass


def _destination_state(dest: QemuDriver, uuid_: str) -> str:
    """What a guest that stopped answering after its move is doing: QEMU's status and where its vCPU is,
    and the first thing its kernel complained about on the console."""
    try:
        with QMP(dest.instances_dir / uuid_ / "qmp.sock") as qmp:
            status = qmp.execute("query-status")["status"]
            rip = [line.split()[0] for line in qmp.execute("human-monitor-command", **{
                "command-line": "info registers"}).splitlines() if line.startswith("RIP")]
    except (QMPError, OSError) as exc:
        status, rip = f"no QMP ({exc})", []
    console = dest.console_output(uuid_)
    found = [line for line in console.splitlines() if any(
        word in line for word in ("BUG:", "Oops", "general protection", "Kernel panic", "soft lockup"))]
    return f"the destination's QEMU {status}, vCPU at {rip}; its kernel said {found[:3]}"


def _pages_lost(work: Path, accel_name: str, image: Path, how: str, memory: str | None = None) -> int:
    """The bare pair, the dirtying guest, the destination started with ``-S`` so that it never runs: once
    QEMU says the migration completed, the 4 KiB pages whose contents differ between the source's memory
    and the destination's (``pmemsave`` of each).  Any migration must leave none.  ``how``: "live"
    (pre-copy, the guest running), "paused" (the guest stopped first) or "post-copy" (switched to at once:
    the guest stops and every page not yet sent goes after).  ``memory``: ``-m``'s value if not the
    driver's (``"256"``: a RAM block of whole 64-page words, which QEMU 7.2's TCG loses writes to)."""
    tag = uuid.uuid4().hex[:8]
    made: list[Bare] = []
    try:
        for side in ("a", "b"):
            (work / f"{side}.qcow2").unlink(missing_ok=True)
        source = Bare(work, "a", accel_name, _overlay(image, work / "a.qcow2"), f"tpa{tag}", incoming=False,
                      memory=memory)
        made.append(source)
        shell = unix_shell(str(source.serial)).ready(180)
        shell.run(DIRTY)
        shell.close()
        time.sleep(2)
        dest = Bare(work, "b", accel_name, _overlay(image, work / "b.qcow2"), f"tpb{tag}", incoming=True,
                    extra=("-S",), memory=memory)
        made.append(dest)
        port = free_port("127.0.0.1")
        if how == "post-copy":
            for bare in (source, dest):
                bare.qmp.execute("migrate-set-capabilities", capabilities=[{"capability": "postcopy-ram",
                                                                            "state": True}])
        dest.qmp.execute("migrate-incoming", uri=f"tcp:127.0.0.1:{port}")
        source.qmp.execute("migrate-set-parameters", **{"max-bandwidth": 8 * 1024**3})
        if how == "paused":
            source.qmp.execute("stop")
        source.qmp.execute("migrate", uri=f"tcp:127.0.0.1:{port}")
        if how == "post-copy":
            source.qmp.execute("migrate-start-postcopy")
        deadline = time.monotonic() + TIMEOUT
        while (found := source.qmp.execute("query-migrate"))["status"] not in ("completed", "failed", "cancelled"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the bare migration did not end: {found}")
            time.sleep(0.1)
        if found["status"] != "completed":
            raise RuntimeError(f"the bare migration ended {found['status']}: {found.get('error-desc')}")
        while dest.qmp.execute("query-status")["status"] == "inmigrate":
            time.sleep(0.05)
        for side, bare in (("a", source), ("b", dest)):
            bare.qmp.execute("pmemsave", val=0, size=MEMORY_MB * 2**20, filename=str(work / f"{side}.mem"))
        there, here = (work / "a.mem").read_bytes(), (work / "b.mem").read_bytes()
        return sum(there[i:i + 4096] != here[i:i + 4096] for i in range(0, len(there), 4096))
    finally:
        for bare in made:
            bare.close()
        for leftover in ("a.mem", "b.mem"):
            (work / leftover).unlink(missing_ok=True)


class Bare:
    """One qemu-system-x86_64 of the driver's hardware for this guest, with a QMP and a serial socket."""

    def __init__(self, work: Path, side: str, accel_name: str, overlay: Path, tap: str, incoming: bool,
                 extra: tuple[str, ...] = (), memory: str | None = None):
        self.qmp_path, self.serial = work / f"{side}.qmp", work / f"{side}.serial"
        for stale in (self.qmp_path, self.serial):  # a killed QEMU leaves its sockets behind
            stale.unlink(missing_ok=True)
        sh("ip", "tuntap", "add", "dev", tap, "mode", "tap")
        self.tap = tap
        argv = [accel.QEMU, "-machine", f"pc,accel={accel_name}", *(["-cpu", "host"] if accel_name == "kvm" else []),
                "-smp", "1", "-m", memory or ram_size(MEMORY_MB, accel_name), "-nodefaults", "-no-user-config", "-display", "none",
                "-rtc", "base=utc", "-chardev", f"socket,id=qmp,path={self.qmp_path},server=on,wait=off",
                "-mon", "chardev=qmp,mode=control",
                "-chardev", f"socket,id=console,path={self.serial},server=on,wait=off",
                "-device", "isa-serial,chardev=console", "-device", "VGA,vgamem_mb=4",
                "-drive", f"file={overlay},format=qcow2,if=none,id=drive0,discard=unmap",
                "-device", "virtio-blk-pci,drive=drive0,id=disk0,bootindex=0",
                "-netdev", f"tap,id=net0,ifname={tap},script=no,downscript=no",
                "-device", "virtio-net-pci,id=nic0,netdev=net0,mac=52:54:00:12:34:57",
                *(["-incoming", "defer"] if incoming else []), *extra]
        self.qmp: QMP | None = None
        try:
            self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL)
        except OSError:
            sh("ip", "link", "del", tap, check=False)
            raise
        deadline = time.monotonic() + 30
        while self.qmp is None:  # the socket's file appears a moment before QEMU listens on it
            try:
                self.qmp = QMP(self.qmp_path, timeout=30).__enter__()
            except QMPError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.close()  # nobody else holds it yet: its process and tap go now
                    raise RuntimeError(f"bare QEMU {side} did not start") from None
                time.sleep(0.02)

    def close(self) -> None:
        if self.qmp is not None:
            self.qmp.__exit__()
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        sh("ip", "link", "del", self.tap, check=False)


def _overlay(image: Path, path: Path) -> Path:
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(image), str(path), "1G"],
                   check=True)
    return path


def _bare_move(work: Path, accel_name: str, image: Path, lan: Lan, address: str, dirty: bool) -> Moved:
    """By hand, as an operator would with QMP alone: the destination exports its disk over NBD and arms
    post-copy where it can; the source mirrors its disk, arms the same capabilities with QEMU's own
    downtime limit and no bandwidth cap, migrates, and switches to post-copy after the policy's number of
    passes (auto-converge needs nothing)."""
    tag = uuid.uuid4().hex[:8]
    for side in ("a", "b"):
        (work / f"{side}.qcow2").unlink(missing_ok=True)
    made: list[Bare] = []
    pinging = None
    try:
        source = Bare(work, "a", accel_name, _overlay(image, work / "a.qcow2"), f"tba{tag}", incoming=False)
        made.append(source)
        lan.plug(source.tap)
        shell = unix_shell(str(source.serial)).ready(180)
        _prepare(shell, address, lan.subnet.prefixlen, dirty)
        shell.close()
        pinging = _watch(lan, address)
        started = time.monotonic()
        dest = Bare(work, "b", accel_name, _overlay(image, work / "b.qcow2"), f"tbb{tag}", incoming=True)
        made.append(dest)
        lan.plug(dest.tap)
        nbd_port, state_port = free_port("127.0.0.1"), free_port("127.0.0.1")
        dest.qmp.execute("nbd-server-start", addr={"type": "inet", "data": {"host": "127.0.0.1",
                                                                            "port": str(nbd_port)}})
        node = dest.qmp.execute("query-block")[0]["inserted"]["node-name"]
        dest.qmp.execute("block-export-add", type="nbd", id="export0", **{"node-name": node}, name="drive0",
                         writable=True)
        try:
            dest.qmp.execute("migrate-set-capabilities", capabilities=[{"capability": "postcopy-ram", "state": True}])
            postcopy = True
        except QMPError:
            postcopy = False
        dest.qmp.execute("migrate-incoming", uri=f"tcp:127.0.0.1:{state_port}")
        prepared = time.monotonic() - started
        source.qmp.execute("drive-mirror", device="drive0", **{"job-id": "mirror0", "copy-mode": "write-blocking"},
                           target=f"nbd://127.0.0.1:{nbd_port}/drive0", format="raw", sync="top", mode="existing")
        while not all(j.get("ready") for j in source.qmp.execute("query-block-jobs")):
            time.sleep(0.05)
        source.qmp.execute("migrate-set-capabilities", capabilities=[
            {"capability": "postcopy-ram", "state": postcopy}, {"capability": "auto-converge", "state": not postcopy}])
        source.qmp.execute("migrate-set-parameters", **{"max-bandwidth": 8 * 1024**3})
        source.qmp.execute("migrate", uri=f"tcp:127.0.0.1:{state_port}")
        switched = False
        while (found := source.qmp.execute("query-migrate")).get("status") not in ("completed", "failed", "cancelled"):
            if time.monotonic() - started > TIMEOUT:
                raise TimeoutError(f"the bare migration did not end: {found}")
            passes = found.get("ram", {}).get("dirty-sync-count", 0)
            if postcopy and not switched and passes >= Policy().switch_after:
                source.qmp.execute("migrate-start-postcopy")
                switched = True
            time.sleep(0.1)
        if found["status"] != "completed":
            raise RuntimeError(f"the bare migration ended {found['status']}: {found.get('error-desc')}")
        completed = time.monotonic() - started
        jobs = source.qmp.execute("query-block-jobs")
        while dest.qmp.execute("query-status")["status"] != "running":
            if time.monotonic() - started > TIMEOUT:
                raise TimeoutError("the bare destination never ran")
            time.sleep(0.02)
        seconds = time.monotonic() - started
        source.close()
        pinged = _settle(lan, address, pinging)
        pinging = None
        return Moved(seconds, pinged["largest_gap_seconds"], pinged["lost"], int(found["ram"]["transferred"]),
                     sum(j.get("offset", 0) for j in jobs), int(found["ram"].get("dirty-sync-count", 0)),
                     "post-copy" if switched else "pre-copy", prepared, completed)
    finally:
        if pinging is not None:
            pinging.kill()
        for bare in made:
            bare.close()


def measure(quick: bool) -> dict:
    image = build.build().path
    rounds = 1 if quick else 3
    accel_name, why = accel.choose(Path.home() / ".cache" / "onestack")
    lan = Lan()
    guests = 0
    found: dict = {"accel": accel_name, "accel_reason": why, "memory_mb": MEMORY_MB, "rounds": rounds}
    try:
        with tempfile.TemporaryDirectory(prefix="onestack-bench-migration-") as tmp:
            work = Path(tmp)
            for case, dirty in (("idle", False), ("dirtying", True)):
                runs: dict[str, list[Moved]] = {"driver": [], "bare": []}
                failures: list[str] = []
                for _ in range(rounds):  # interleaved so both sides see the same machine load
                    for side, move in (("driver", _driver_move), ("bare", _bare_move)):
                        guests += 1  # an address of its own: the pinger's ARP cache holds the last one's MAC
                        try:
                            runs[side].append(move(work, accel_name, image, lan, lan.address(1 + guests), dirty))
                        except (TimeoutError, RuntimeError, QMPError) as exc:
                            failures.append(f"{side}: {exc}"[:1200])
                found[case] = {side: _summary(moved) for side, moved in runs.items()}
                if runs["driver"] and runs["bare"]:
                    found[case]["driver_over_bare"] = round(
                        statistics.median(m.seconds for m in runs["driver"])
                        / statistics.median(m.seconds for m in runs["bare"]), 2)
                found[case]["failures"] = failures
            # is the destination's memory the source's? (what the dirtying guest's hangs come down to)
            # a live pre-copy with the driver's RAM size, and with the flavor's exact 256 MB (the QEMU defect
            # the driver's size avoids under TCG: command.TCG_RAM_PAD_KIB)
            for key, how, memory in (("pages_lost_live", "live", None),
                                     ("pages_lost_live_whole_words", "live", str(MEMORY_MB))):
                found[key] = []
                for _ in range(max(3, rounds)):
                    try:
                        found[key].append(_pages_lost(work, accel_name, image, how, memory))
                    except (TimeoutError, RuntimeError, QMPError) as exc:
                        found.setdefault("pages_lost_failures", []).append(str(exc)[:300])
    finally:
        lan.close()
    return found


def _summary(moved: list[Moved]) -> dict:
    if not moved:
        return {}

    def median(field: str) -> float:
        return round(statistics.median(getattr(m, field) for m in moved), 3)

    return {"seconds_median": median("seconds"), "downtime_seconds_median": median("downtime"),
            "downtime_seconds_max": round(max(m.downtime for m in moved), 3), "lost_median": median("lost"),
            "memory_mb_median": round(median("memory_bytes") / 2**20, 1),
            "prepared_seconds_median": median("prepare"), "completed_seconds_median": median("switched"),
            "disk_mb_median": round(median("disk_bytes") / 2**20, 1), "passes": [m.passes for m in moved],
            "modes": [m.mode for m in moved], "seconds": [round(m.seconds, 2) for m in moved]}


def table(found: dict) -> str:
    lines = [f"live migration ({found['accel']}, onestack-tiny, {found['memory_mb']} MB RAM, {found['rounds']} "
             "rounds, ping every 10 ms)"]
    for case in ("idle", "dirtying"):
        part = found.get(case, {})
        for side in ("driver", "bare"):
            s = part.get(side) or {}
            if s:
                lines.append(f"  {case:<9} {side:<6} total {s['seconds_median']:>6}s  downtime "
                             f"{s['downtime_seconds_median']:>6}s (max {s['downtime_seconds_max']})  lost "
                             f"{s['lost_median']:>5}  memory {s['memory_mb_median']:>6} MB  disk {s['disk_mb_median']} MB  "
                             f"{','.join(s['modes'])}")
                lines.append(f"  {'':<9} {'':<6} destination ready {s['prepared_seconds_median']}s, source "
                             f"completed {s['completed_seconds_median']}s")
        if "driver_over_bare" in part:
            lines.append(f"  {case:<9} driver / bare total time  {part['driver_over_bare']}x")
        for failure in part.get("failures", []):
            lines.append(f"  {case:<9} FAILED {failure}")
    lines.append(f"  dirtying guest, pages differing once QEMU says completed (bare pair, destination held, live "
                 f"pre-copy): the driver's RAM size {found.get('pages_lost_live')}, exactly {found['memory_mb']} MB "
                 f"{found.get('pages_lost_live_whole_words')}")
    return "\n".join(lines)


if __name__ == "__main__":
    import json
    import sys

    result = measure(quick="--quick" in sys.argv)
    print(json.dumps(result, indent=2))
    print(table(result))
