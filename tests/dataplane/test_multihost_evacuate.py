"""What the multi-host tests with real guests ask of this machine's processes: which QEMUs run a guest.

The evacuation story that was told here (a joined QEMU host's `compute join` killed, its QEMU carrying on, the
server evacuated to another host, the leftover stopped when the dead host returns) is told in
``test_multihost_three.py``, on the three hosts and the guest it already boots."""

from pathlib import Path


def qemu_pids(server_id: str) -> set[int]:
    """The QEMU processes of this machine running the guest ``server_id`` (whatever host started them)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # gone meanwhile
        if argv and argv[0].endswith(b"qemu-system-x86_64") and server_id.encode() in argv:
            found.add(int(entry.name))
    return found
