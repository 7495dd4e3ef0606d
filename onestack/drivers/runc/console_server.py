"""A container's interactive console: a small server on a Unix socket that gives each client a shell in the
container (``runc exec -t <id> /bin/sh``) on a terminal, as a VM's serial port gives a login prompt.

Run as a script (standard library only, so it starts fast), by the driver, which binds the listening
socket and hands it over (its descriptor's number in the command line), so the socket answers as soon as the driver returns it.
``runc exec -t`` makes the terminal inside the container and copies between it and its own standard
input and output, which must be a terminal too: each client gets a pseudo-terminal here, with runc on
its slave side and the client's bytes on its master side.  When the client goes, the shell gets SIGHUP
(runc passes signals on), as a serial line's hang-up; runc is killed if it lingers.

    console_server.py <socket path> <listening fd> <runc> <runc root> <container id>

The socket path is in the command line so the driver can tell this process from any other by it.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import threading

ROWS, COLUMNS = 24, 80
SHELL = "/bin/sh"
HANG_UP_SECONDS = 2.0


def _relay(client: socket.socket, master: int, process: subprocess.Popen) -> None:
    while True:
        ready, _, _ = select.select([client, master], [], [], 1.0)
        if not ready and process.poll() is not None:
            return
        if client in ready:
            data = client.recv(65536)
            if not data:
                return
            os.write(master, data)
        if master in ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the slave side closed, the shell is gone
                return
            if not data:
                return
            client.sendall(data)


def serve(client: socket.socket, runc: str, root: str, container_id: str) -> None:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    process = None
    try:
        process = subprocess.Popen(
            # setsid --ctty: a session of its own whose controlling terminal is the slave, so closing the
            # master hangs it up (no preexec_fn: this process has threads)
            ["setsid", "--ctty", runc, "--root", root, "exec", "-t", "--env", "TERM=vt100", container_id, SHELL],
            stdin=slave, stdout=slave, stderr=slave, close_fds=True)
        os.close(slave)
        slave = -1
        _relay(client, master, process)
    except OSError:
        pass  # the client went, or runc could not be started: the connection ends
    finally:
        if slave >= 0:
            os.close(slave)
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGHUP)  # runc hands it to the shell
            try:
                process.wait(HANG_UP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        os.close(master)
        client.close()


def main(argv: list[str]) -> int:
    _, fd, runc, root, container_id = argv
    listener = socket.socket(fileno=int(fd))
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        client, _ = listener.accept()
        threading.Thread(target=serve, args=(client, runc, root, container_id), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
