"""Where an instance's files live: everything under ``<state dir>/instances/<uuid>/``."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tempfile
from pathlib import Path

from onestack.drivers.compute import NIC, InstanceSpec

# Linux's sun_path holds 108 bytes including the terminating zero.
SOCKET_PATH_MAX = 108


@dataclasses.dataclass(frozen=True)
class InstanceDir:
    root: Path

    @property
    def pidfile(self) -> Path:
        return self.root / "qemu.pid"

    def _socket(self, name: str) -> Path:
        """Beside the instance's files when the path fits a Unix socket address (108 bytes), else in a
        short directory named from the instance directory, so a new driver finds it again."""
        inside = self.root / name
        if len(str(inside).encode()) < SOCKET_PATH_MAX:
            return inside
        short = Path(tempfile.gettempdir()) / "onestack-qmp" / hashlib.sha1(str(self.root).encode()).hexdigest()[:16]
        short.mkdir(mode=0o700, parents=True, exist_ok=True)
        return short / name

    @property
    def qmp_socket(self) -> Path:
        return self._socket("qmp.sock")

    @property
    def serial_socket(self) -> Path:  # the serial console, for the websocket proxy (output also in console.log)
        return self._socket("serial.sock")

    @property
    def vnc_socket(self) -> Path:
        return self._socket("vnc.sock")

    def sockets(self) -> list[Path]:
        return [self.qmp_socket, self.serial_socket, self.vnc_socket]

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
        body = dataclasses.asdict(spec)
        tmp = self.spec_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(body, indent=1, default=str))  # paths given as Path
        tmp.replace(self.spec_file)

    def load_spec(self) -> InstanceSpec:
        body = json.loads(self.spec_file.read_text())
        body["nics"] = tuple(NIC(**nic) for nic in body.get("nics", ()))
        return InstanceSpec(**body)
