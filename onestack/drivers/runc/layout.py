"""Where a container instance's files live: everything under ``<state dir>/instances/<uuid>/``, which is
also the container's OCI bundle (``config.json`` and ``rootfs``)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from onestack.drivers import sockets, specfile
from onestack.drivers.compute import InstanceSpec

CONSOLE_SOCKET = "console.sock"


@dataclasses.dataclass(frozen=True)
class ContainerDir:
    root: Path

    @property
    def config(self) -> Path:  # the OCI runtime configuration runc reads
        return self.root / "config.json"

    @property
    def rootfs(self) -> Path:  # the overlay's mount point while the container runs
        return self.root / "rootfs"

    @property
    def upper(self) -> Path:  # what the container wrote: the cached image below stays untouched
        return self.root / "upper"

    @property
    def work(self) -> Path:  # overlayfs's own scratch directory
        return self.root / "work"

    @property
    def lower_file(self) -> Path:  # which cached image tree is the lower layer
        return self.root / "lower.json"

    @property
    def console_log(self) -> Path:  # the container's stdout and stderr, appended across boots
        return self.root / "console.log"

    @property
    def etc(self) -> Path:  # files bound over the container's /etc/resolv.conf, hosts and hostname
        return self.root / "etc"

    @property
    def resources(self) -> Path:  # the limits handed to ``runc update`` on a resize
        return self.root / "resources.json"

    @property
    def console_socket(self) -> Path:  # the interactive console's server (console_server.py) listens here
        return sockets.socket_dir(self.root, CONSOLE_SOCKET, "onestack-runc") / CONSOLE_SOCKET

    @property
    def console_pidfile(self) -> Path:
        return self.root / "console.pid"

    @property
    def frozen_for_snapshot(self) -> Path:  # which process froze the container to snapshot it
        return self.root / "frozen-for-snapshot"

    @property
    def spec_file(self) -> Path:
        return self.root / "spec.json"

    def exists(self) -> bool:
        return self.spec_file.exists()

    def save_spec(self, spec: InstanceSpec) -> None:
        specfile.save(self.spec_file, spec)

    def load_spec(self) -> InstanceSpec:
        return specfile.load(self.spec_file)

    def save_lower(self, rootfs: Path, config: dict) -> None:
        tmp = self.lower_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"rootfs": str(rootfs), "config": config}))
        tmp.replace(self.lower_file)

    def load_lower(self) -> tuple[Path, dict]:
        body = json.loads(self.lower_file.read_text())
        return Path(body["rootfs"]), body["config"]
