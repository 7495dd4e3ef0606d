"""A small synchronous QMP client: one short connection per operation.

QEMU serves one QMP client at a time, so the driver never keeps a connection open: a second
driver object (or process) re-adopting the guest can always get in.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path


class QMPError(Exception):
    pass


class QMP:
    def __init__(self, path: Path, timeout: float = 10.0):
        self.path = path
        self.timeout = timeout
        self.events: list[dict] = []
        self._sock: socket.socket | None = None
        self._buffer = b""

    def __enter__(self) -> QMP:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(str(self.path))
        except OSError as exc:
            sock.close()
            raise QMPError(f"cannot connect to {self.path}: {exc}") from exc
        self._sock = sock
        self._read()  # the greeting
        self.execute("qmp_capabilities")
        return self

    def __exit__(self, *exc) -> None:
        if self._sock:
            self._sock.close()
            self._sock = None

    def _read(self) -> dict:
        assert self._sock is not None
        while b"\n" not in self._buffer:
            try:
                chunk = self._sock.recv(65536)
            except OSError as exc:
                raise QMPError(f"QMP read failed: {exc}") from exc
            if not chunk:
                raise QMPError("QEMU closed the QMP connection")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def execute(self, command: str, **arguments) -> object:
        assert self._sock is not None
        message: dict = {"execute": command}
        if arguments:
            message["arguments"] = arguments
        try:
            self._sock.sendall(json.dumps(message).encode() + b"\n")
        except OSError as exc:
            raise QMPError(f"QMP write failed: {exc}") from exc
        while True:
            reply = self._read()
            if "event" in reply:
                self.events.append(reply)
            elif "error" in reply:
                raise QMPError(f"{command}: {reply['error'].get('desc', reply['error'])}")
            elif "return" in reply:
                return reply["return"]

    def wait_event(self, name: str, timeout: float, match=lambda data: True) -> dict | None:
        """The first event ``name`` whose data satisfies ``match``, or None after ``timeout``."""
        assert self._sock is not None
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event["event"] == name and match(event.get("data", {})):
                    self.events.remove(event)
                    return event
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self._sock.settimeout(remaining)
            try:
                reply = self._read()
            except (QMPError, TimeoutError):
                return None
            finally:
                self._sock.settimeout(self.timeout)
            if "event" in reply:
                self.events.append(reply)
