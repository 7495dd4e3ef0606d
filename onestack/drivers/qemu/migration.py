"""Live migration between two QEMUs over TCP, with the guest's local disks mirrored over NBD.

The destination's QEMU starts with ``-incoming defer`` and the same hardware; it exports its (fresh) disks
on an NBD server at the host's tunnel address and listens for the state on another port.  The source
mirrors each writable local disk into those exports (``drive-mirror``, ``sync=top``: the destination's
overlay sits on the same image, so only what the guest wrote travels; ``copy-mode=write-blocking``: once
in sync, a guest write completes only when both copies hold it, so the moment the source stops, the
destination's disks are whole), then sends memory in pre-copy.  Post-copy is armed on both ends where
the destination's kernel offers userfaultfd (QEMU takes capabilities only before a migration starts);
else auto-converge is, which throttles the guest only once it outpaces the link.  Compression never.

The migration's own state (URI, mode, allowed downtime) is a small JSON file in the instance's
directory, so a new driver object (after a restart) follows the migration the running QEMUs carry on.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from onestack.drivers.compute import PAUSED_COPY, POST_COPY, DriverError, MigrationProgress
from onestack.drivers.qemu.qmp import QMP, QMPError

SCHEME = "onestack-qemu"
# QEMU's statuses of a migration still under way
UNDER_WAY = ("setup", "active", "postcopy-active", "device", "pre-switchover", "wait-unplug", "cancelling")
MIRROR_READY_SECONDS = 600.0
# No cap (QEMU's default is 32 MiB/s): the tunnel is the cloud's own unless the cloud caps its moves.
UNCAPPED = 8 * 1024**3
MIB = 1024**2
# QEMU's status -> ours
_STATUS = {"completed": "completed", "failed": "failed", "cancelled": "cancelled", "cancelling": "active",
           "none": "none"}


PORT_TRIES = 8


def free_port(address: str) -> int:
    """A TCP port free on ``address`` now (QEMU binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


def bound_to_a_free_port(address: str, bind: Callable[[int], None]) -> int:
    """``bind(port)`` on a port free on ``address``; returns the port.  A port free a moment ago may be taken
    by the time QEMU or qemu-nbd binds it (every guest, disk server and host on the machine picks ports too),
    so a bind that finds it in use is tried again on another."""
    for _ in range(PORT_TRIES - 1):
        port = free_port(address)
        try:
            bind(port)
            return port
        except (QMPError, DriverError) as exc:
            if "in use" not in str(exc):
                raise
    port = free_port(address)
    bind(port)
    return port


def incoming_uri(address: str, state_port: int, nbd_port: int, drives: list[str], postcopy: bool) -> str:
    query = urlencode({"state": state_port, "nbd": nbd_port, "drives": ",".join(drives), "postcopy": int(postcopy)})
    return f"{SCHEME}://{address}?{query}"


def parse_uri(uri: str) -> tuple[str, int, int, list[str], bool]:
    parts = urlsplit(uri)
    if parts.scheme != SCHEME or not parts.hostname:
        raise DriverError(f"not a QEMU migration address: {uri}")
    query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    drives = [d for d in query.get("drives", "").split(",") if d]
    return parts.hostname, int(query["state"]), int(query["nbd"]), drives, query.get("postcopy") == "1"


def _node_names(qmp: QMP) -> dict[str, str]:
    """drive id -> its top node's name (block-export-add names nodes, -drive names backends)."""
    return {b["device"]: b["inserted"]["node-name"] for b in qmp.execute("query-block") if b.get("inserted")}


def listen(qmp: QMP, address: str, drives: list[str]) -> str:
    """On the destination's QEMU (started with ``-incoming defer``): export the disks, arm post-copy where
    the kernel allows, and wait for the state.  Returns the URI the source sends to."""
    nbd_port = bound_to_a_free_port(address, lambda port: qmp.execute(
        "nbd-server-start", addr={"type": "inet", "data": {"host": address, "port": str(port)}}))
    nodes = _node_names(qmp)
    for drive in drives:
        qmp.execute("block-export-add", type="nbd", id=f"export-{drive}", **{"node-name": nodes[drive]},
                    name=drive, writable=True)
    try:
        qmp.execute("migrate-set-capabilities", capabilities=[{"capability": "postcopy-ram", "state": True}])
        postcopy = True
    except QMPError:  # no userfaultfd here: auto-converge instead
        postcopy = False
    # QEMU marks the incoming migration started only once it listens, so a refused port can be retried
    state_port = bound_to_a_free_port(address, lambda port: qmp.execute("migrate-incoming",
                                                                        uri=f"tcp:{address}:{port}"))
    return incoming_uri(address, state_port, nbd_port, drives, postcopy)


def start(qmp: QMP, uri: str, downtime_ms: int, bandwidth_mib: int = 0) -> bool:
    """On the source: mirror the disks, wait until they are in sync, then send memory, at most
    ``bandwidth_mib`` MiB/s in pre-copy (0: uncapped).  Returns whether post-copy is armed."""
    address, state_port, nbd_port, drives, postcopy = parse_uri(uri)
    for drive in drives:
        qmp.execute("drive-mirror", device=drive, **{"job-id": f"mirror-{drive}", "copy-mode": "write-blocking"},
                    target=f"nbd://{address}:{nbd_port}/{drive}", format="raw", sync="top", mode="existing")
    deadline = time.monotonic() + MIRROR_READY_SECONDS
    while not all(job.get("ready") for job in _mirrors(qmp)) and drives:
        failed = {f"mirror-{d}" for d in drives} - {job["device"] for job in _mirrors(qmp)}
        if failed:
            raise DriverError(f"mirroring the disks to {address} stopped: {', '.join(sorted(failed))}")
        if time.monotonic() > deadline:
            raise DriverError(f"the disks did not reach {address} within {MIRROR_READY_SECONDS:.0f}s")
        time.sleep(0.1)
    capabilities = [{"capability": "postcopy-ram", "state": postcopy},
                    {"capability": "auto-converge", "state": not postcopy}]
    qmp.execute("migrate-set-capabilities", capabilities=capabilities)
    # post-copy's own background push (max-postcopy-bandwidth) stays uncapped: the guest waits on each page
    qmp.execute("migrate-set-parameters", **{"downtime-limit": downtime_ms,
                                            "max-bandwidth": bandwidth_mib * MIB if bandwidth_mib else UNCAPPED})
    qmp.execute("migrate", uri=f"tcp:{address}:{state_port}")
    return postcopy


def _mirrors(qmp: QMP) -> list[dict]:
    return [job for job in qmp.execute("query-block-jobs") if job.get("type") == "mirror"]


def progress(qmp: QMP, mode: str, downtime_ms: int, postcopy: bool) -> MigrationProgress:
    found = qmp.execute("query-migrate")
    status = found.get("status", "none")
    ram = found.get("ram") or {}
    jobs = _mirrors(qmp)
    disk_total = sum(job.get("len", 0) for job in jobs)
    disk_done = sum(job.get("offset", 0) for job in jobs)
    if status == "postcopy-active":
        mode = POST_COPY
    ours = _STATUS.get(status, "active")
    return MigrationProgress(
        ours, mode, int(ram.get("dirty-sync-count", 0)), downtime_ms, postcopy,
        memory_total=int(ram.get("total", 0)), memory_processed=int(ram.get("transferred", 0)),
        memory_remaining=int(ram.get("remaining", 0)), disk_total=disk_total, disk_processed=disk_done,
        disk_remaining=disk_total - disk_done, error=found.get("error-desc", ""))


def steer(qmp: QMP, downtime_ms: int | None, mode: str | None) -> None:
    if downtime_ms is not None:
        qmp.execute("migrate-set-parameters", **{"downtime-limit": downtime_ms})
    if mode == POST_COPY:
        qmp.execute("migrate-start-postcopy")
    elif mode == PAUSED_COPY:
        # nothing more is dirtied: the rest goes in one pass, uncapped (a capped pass would be all downtime)
        qmp.execute("migrate-set-parameters", **{"max-bandwidth": UNCAPPED})
        qmp.execute("stop")
    # AUTO_CONVERGE was armed at the start; QEMU throttles the guest itself once it outpaces the link


def end_mirrors(qmp: QMP) -> None:
    """After the switch-over (or an abort): the mirrors let go of the destination's exports."""
    for job in _mirrors(qmp):
        try:
            qmp.execute("block-job-cancel", device=job["device"], force=True)
        except QMPError:
            pass


def cancel(qmp: QMP, mode: str) -> None:
    """Cancel a migration still in pre-copy: the guest carries on here (running again if it was paused for
    the last pass).  In post-copy the guest's state is split between the hosts: it is left to finish."""
    status = qmp.execute("query-migrate").get("status", "none")
    if status in ("postcopy-active", "completed", "none"):
        return
    qmp.execute("migrate_cancel")
    end_mirrors(qmp)
    if mode == PAUSED_COPY:
        deadline = time.monotonic() + 10
        while qmp.execute("query-migrate").get("status") not in ("cancelled", "failed", "completed"):
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        qmp.execute("cont")


def arrive(qmp: QMP, timeout: float = 120.0) -> None:
    """On the destination once the source is done: the disks' exports closed, the guest running, and its
    NICs announced (RARP) so the network learns where it is now."""
    deadline = time.monotonic() + timeout
    while qmp.execute("query-status")["status"] == "inmigrate":
        if time.monotonic() > deadline:
            raise DriverError("the guest's state did not arrive")
        time.sleep(0.05)
    for export in qmp.execute("query-block-exports"):
        try:
            qmp.execute("block-export-del", id=export["id"], mode="hard")
        except QMPError:
            pass
    try:
        qmp.execute("nbd-server-stop")
    except QMPError:
        pass
    if qmp.execute("query-status")["status"] != "running":
        qmp.execute("cont")
    qmp.execute("announce-self", initial=50, max=550, rounds=5, step=100)


class State:
    """The migration as the source's driver remembers it between calls: ``migration.json``."""

    def __init__(self, path: Path):
        self.path = path

    def read(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}

    def write(self, **values) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({**self.read(), **values}))
        tmp.replace(self.path)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)

