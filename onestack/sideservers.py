"""Small servers beside the API, each its own ASGI app on its own socket, run in threads of the process
that converges the compute hosts: the metadata service on ``DATA_DIR/metadata.sock`` (and on
``metadata.bind`` when set)."""

from __future__ import annotations

import logging
import os
import socket
import threading
from pathlib import Path

import uvicorn

from onestack.runtime import Runtime
from onestack.services.compute.api import metadata_service

LOG = logging.getLogger("onestack.sideservers")
SOCKET_PATH_MAX = 107  # Linux's sun_path less its terminating zero


def metadata_socket(data_dir: Path) -> Path:
    return data_dir / "metadata.sock"


def _unix_socket(path: Path) -> socket.socket:
    """Bound and listening, mode 0600: only the cloud's user (its metadata proxy) may speak to it,
    because what the proxy says about the caller is believed."""
    if len(str(path).encode()) > SOCKET_PATH_MAX:
        raise OSError(f"{path} is longer than a Unix socket path may be ({SOCKET_PATH_MAX} bytes)")
    path.unlink(missing_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        sock.bind(str(path))
    finally:
        os.umask(old)
    sock.listen(128)
    return sock


def _tcp_socket(bind: str) -> socket.socket:
    host, port = bind.rsplit(":", 1)
    return socket.create_server((host.strip("[]"), int(port)))


class SideServers:
    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self._servers: list[tuple[uvicorn.Server, threading.Thread, Path | None]] = []

    def start(self) -> None:
        settings = self.runtime.settings
        wanted = [(metadata_service.build(self.runtime.compute, trust_proxy_headers=True),
                   metadata_socket(settings.data_dir), None)]
        if settings.metadata.bind:
            wanted.append((metadata_service.build(self.runtime.compute, trust_proxy_headers=False), None,
                           settings.metadata.bind))
        for app, path, bind in wanted:
            try:
                sock = _unix_socket(path) if path is not None else _tcp_socket(bind)
            except OSError as exc:
                LOG.error("the metadata service cannot listen on %s: %s", path or bind, exc)
                continue
            server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off",
                                                   server_header=False))
            thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                                      name=f"metadata-{path or bind}")
            thread.start()
            self._servers.append((server, thread, path))
            LOG.info("metadata service on %s", path or bind)

    def stop(self) -> None:
        for server, _thread, _path in self._servers:
            server.should_exit = True
        for _server, thread, path in self._servers:
            thread.join(timeout=5)
            if path is not None:
                path.unlink(missing_ok=True)
        self._servers.clear()
