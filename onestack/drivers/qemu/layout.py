"""Where an instance's files live: everything under ``<state dir>/instances/<uuid>/``."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from onestack.drivers import sockets, specfile
from onestack.drivers.compute import InstanceSpec

# Linux's sun_path holds 108 bytes including the terminating zero.
LONGEST_SOCKET = "serial.sock"


@dataclasses.dataclass(frozen=True)
class InstanceDir:
    root: Path

    @property
    def pidfile(self) -> Path:
        return self.root / "qemu.pid"

    @property
    def socket_dir(self) -> Path:
        """The instance directory when its longest socket path fits a Unix socket address (108 bytes),
        else a short directory named from the instance directory, so a new driver finds it again."""
        return sockets.socket_dir(self.root, LONGEST_SOCKET, "onestack-qmp")

    @property
    def qmp_socket(self) -> Path:
        return self.socket_dir / "qmp.sock"

    @property
    def serial_socket(self) -> Path:  # the serial console, for the websocket proxy (output also in console.log)
        return self.socket_dir / LONGEST_SOCKET

    @property
    def vnc_socket(self) -> Path:
        return self.socket_dir / "vnc.sock"

    def sockets(self) -> list[Path]:
        return [self.qmp_socket, self.serial_socket, self.vnc_socket]

    def remove_sockets(self) -> None:
        """The sockets, and their short directory when they are not beside the files."""
        for sock in self.sockets():
            sock.unlink(missing_ok=True)
        if self.socket_dir != self.root:
            shutil.rmtree(self.socket_dir, ignore_errors=True)

    @property
    def console_log(self) -> Path:
        return self.root / "console.log"

    @property
    def qemu_log(self) -> Path:  # QEMU's own stderr: why a start failed
        return self.root / "qemu.log"

    @property
    def root_disk(self) -> Path:
        return self.root / "disk"

    @property
    def rescue_disk(self) -> Path:  # present only while rescued
        return self.root / "disk.rescue"

    @property
    def ephemeral_disk(self) -> Path:
        return self.root / "disk.eph0"

    @property
    def swap_disk(self) -> Path:
        return self.root / "disk.swap"

    @property
    def config_drive(self) -> Path:
        return self.root / "disk.config"

    @property
    def saved_state(self) -> Path:  # present only while suspended
        return self.root / "suspended.state"

    @property
    def spec_file(self) -> Path:
        return self.root / "spec.json"

    def exists(self) -> bool:
        return self.spec_file.exists()

    def save_spec(self, spec: InstanceSpec) -> None:
        specfile.save(self.spec_file, spec)

    def load_spec(self) -> InstanceSpec:
        return specfile.load(self.spec_file)
