"""Where an instance's sockets live: beside its files when the paths fit a Unix socket address, else all
together in one short directory that goes with them."""

from onestack.drivers.qemu.layout import InstanceDir
from onestack.drivers.sockets import SOCKET_PATH_MAX


def test_sockets_beside_the_files_when_they_fit(tmp_path):
    where = InstanceDir(tmp_path / "i")
    assert {s.parent for s in where.sockets()} == {where.root}


def test_long_instance_paths_put_every_socket_in_one_short_directory(tmp_path):
    where = InstanceDir(tmp_path / ("x" * SOCKET_PATH_MAX) / "8b0b9f5e-1f7c-4d36-9d0f-3f1c2a9e6b11")
    (short,) = {s.parent for s in where.sockets()}
    assert short != where.root and all(len(str(s).encode()) < SOCKET_PATH_MAX for s in where.sockets())
    assert InstanceDir(where.root).qmp_socket == where.qmp_socket  # found again by a new driver
    where.serial_socket.write_bytes(b"")
    where.remove_sockets()
    assert not short.exists()
