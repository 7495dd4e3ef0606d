"""A container's interactive console under real runc: ``console_socket("serial")`` is a Unix socket on which
each client gets its own shell in the container, on a terminal; a client that goes leaves no shell
behind; a new driver finds the running console server; stopping the container stops it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import pytest

from onestack.drivers import pidfiles
from onestack.drivers.compute import ConsoleUnavailable, InstanceSpec
from onestack.drivers.runc import RuncDriver, consoles, network, runtime
from onestack.guestimage import container
from tests.drivers.serial import unix_shell

if os.geteuid() != 0:
    pytest.skip("containers and overlay mounts need root", allow_module_level=True)
if not runtime.installed():
    pytest.skip("runc is not installed (make install installs it)", allow_module_level=True)


def shells_in(uuid_: str) -> list[int]:
    """The ``runc exec`` processes of the container's console (one per connected client)."""
    return pidfiles.processes(lambda argv: b"exec" in argv and b"-t" in argv and uuid_.encode() in argv
                              and argv[0].endswith(b"runc"))


def test_the_serial_console_is_a_shell_in_the_container(tmp_path):
    driver = RuncDriver(tmp_path / "state")
    spec = InstanceSpec(uuid=str(uuid.uuid4()), name="instance-000000d2", hostname="with-a-console", vcpus=1,
                        memory_mb=64, root_gb=1, image_path=str(container.build().path))
    try:
        driver.spawn(spec)
        with pytest.raises(ConsoleUnavailable):
            driver.console_socket(spec.uuid, "vnc")
        path = driver.console_socket(spec.uuid, "serial")
        first, second = unix_shell(path).ready(30), unix_shell(path).ready(30)
        assert first.run("hostname; tty; id -u") == "with-a-console\n/dev/pts/0\n0"
        # the second client's shell is another process in the same container: it sees the first one's file
        first.run("echo from-the-first > /tmp/shared")
        assert second.run("cat /tmp/shared; tty") == "from-the-first\n/dev/pts/1"
        assert len(shells_in(spec.uuid)) == 2
        first.close()
        assert wait_for(lambda: len(shells_in(spec.uuid)) == 1), "the first client's shell outlived it"

        # a new driver (an onestack restart) finds the server that runs
        where = driver._dir(spec.uuid)
        server = pidfiles.running(where.console_pidfile, path)
        assert server is not None
        assert RuncDriver(tmp_path / "state").console_socket(spec.uuid, "serial") == path
        assert pidfiles.running(where.console_pidfile, path) == server, "a second console server was started"

        # a server whose starter died before writing the pidfile (its listening socket a spare one)
        spare = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        spare.bind(str(tmp_path / "spare.sock"))
        spare.listen(1)
        orphan = subprocess.Popen([sys.executable, "-I", str(consoles.SERVER), path, str(spare.fileno()), "runc",
                                   str(driver.runc.root), spec.uuid], pass_fds=(spare.fileno(),),
                                  start_new_session=True)
        spare.close()

        # power off: the console servers and the shells go with the container
        driver.power_off(spec.uuid, timeout=5)
        assert not pidfiles.alive(server), "the console server outlived the container"
        assert orphan.wait(5) is not None, "the orphaned console server outlived the container"
        assert not Path(path).exists()
        assert wait_for(lambda: shells_in(spec.uuid) == []), "a shell outlived the container"
        second.close()
        with pytest.raises(ConsoleUnavailable, match="not running"):
            driver.console_socket(spec.uuid, "serial")
    finally:
        driver.destroy(spec.uuid)
        subprocess.run(["ip", "netns", "del", network.netns_name(spec.uuid)], capture_output=True)


def wait_for(what, seconds: float = 10.0) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if what():
            return True
        time.sleep(0.05)
    return bool(what())


def test_a_container_without_a_shell_says_why_on_its_console_and_closes_it(tmp_path):
    import time

    from onestack.guestimage.initramfs import BUSYBOX
    from tests.drivers.test_runc_image import docker_save, entry, tar

    layer = tar(entry("bin", kind=tarfile.DIRTYPE),
                entry("bin/busybox", BUSYBOX.read_bytes(), mode=0o755))  # no /bin/sh
    image = tmp_path / "no-shell.tar"
    image.write_bytes(docker_save(layer, config={"Entrypoint": ["/bin/busybox", "sleep", "3600"]}))
    driver = RuncDriver(tmp_path / "state")
    spec = InstanceSpec(uuid=str(uuid.uuid4()), name="instance-000000d4", hostname="no-shell", vcpus=1,
                        memory_mb=64, root_gb=1, image_path=str(image))
    try:
        driver.spawn(spec)
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.connect(driver.console_socket(spec.uuid, "serial"))
        client.settimeout(10)
        seen, deadline = b"", time.monotonic() + 20
        while time.monotonic() < deadline:
            chunk = client.recv(65536)
            if not chunk:  # closed by the server once runc gave up
                break
            seen += chunk
        else:
            raise AssertionError(f"the console stayed open: {seen!r}")
        client.close()
        assert b"/bin/sh" in seen, seen  # runc's reason: no such file
        assert driver.runc.status(spec.uuid) == "running", "the container suffered from the failed shell"
        assert wait_for(lambda: shells_in(spec.uuid) == [])
    finally:
        driver.destroy(spec.uuid)
        subprocess.run(["ip", "netns", "del", network.netns_name(spec.uuid)], capture_output=True)
