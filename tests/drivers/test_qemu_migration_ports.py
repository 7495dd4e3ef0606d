"""A destination QEMU listens for a migration on ports free a moment before: one taken in between (by
another guest, disk server or host on the machine) is passed over for another, not a failed move."""

from __future__ import annotations

import socket
import subprocess
import time

import pytest

from onestack.drivers.qemu import migration
from onestack.drivers.qemu.qmp import QMP

pytestmark = pytest.mark.qemu


@pytest.fixture
def incoming_qemu(tmp_path):
    """A QEMU with no guest at all, waiting (``-incoming defer``) to be told where to listen."""
    monitor = tmp_path / "qmp.sock"
    qemu = subprocess.Popen(["qemu-system-x86_64", "-machine", "none", "-nodefaults", "-display", "none",
                             "-incoming", "defer", "-qmp", f"unix:{monitor},server=on,wait=off"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not monitor.exists():
            assert qemu.poll() is None, qemu.stderr.read().decode()
            assert time.monotonic() < deadline, "QEMU did not open its monitor within 30 s"
            time.sleep(0.05)
        yield monitor
    finally:
        qemu.kill()
        qemu.wait()


def test_ports_taken_between_choosing_and_binding_are_passed_over(incoming_qemu, monkeypatch):
    taken = []
    for _ in range(2):  # one for the disks' NBD server, one for the state
        holder = socket.socket()
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken.append(holder)
    offered = [holder.getsockname()[1] for holder in taken]
    truly_free = migration.free_port
    # each bind is first offered a port someone holds, as when another process took it in between
    monkeypatch.setattr(migration, "free_port", lambda address: offered.pop(0) if offered else truly_free(address))
    try:
        with QMP(incoming_qemu, timeout=30) as qmp:
            uri = migration.listen(qmp, "127.0.0.1", [])
        _, state_port, nbd_port, drives, _ = migration.parse_uri(uri)
        held = {holder.getsockname()[1] for holder in taken}
        assert offered == [] and drives == []
        assert state_port not in held and nbd_port not in held and state_port != nbd_port
        for port in (state_port, nbd_port):  # QEMU really listens where the URI says
            with socket.create_connection(("127.0.0.1", port), timeout=10):
                pass
    finally:
        for holder in taken:
            holder.close()
