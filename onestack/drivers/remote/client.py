"""The calling end of the link: a driver of a host that another process runs."""

from __future__ import annotations

import http.client
import json
import socket
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect, unix_connect

from onestack.drivers.compute import NIC, InstanceInfo, InstanceSpec, VolumeDisk
from onestack.drivers.remote import wire


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class RemoteDriver:
    """The calls of ``wire.CALLS`` on ``host``, whose process answers at ``url`` (``http://HOST:PORT`` or
    ``unix:PATH``).  Its guests' lifecycles are that process's engine's, but for the halves of a move between
    hosts that the other host's engine drives (a live migration's destination, a cold one's source)."""

    name = "remote"

    def __init__(self, host: str, url: str, secret: str, timeout: float = 60.0):
        self.host, self.url, self.secret, self.timeout = host, url, secret, timeout

    def _connection(self) -> http.client.HTTPConnection:
        if self.url.startswith("unix:"):
            return _UnixConnection(self.url[5:], self.timeout)
        parts = urlsplit(self.url)
        return http.client.HTTPConnection(parts.hostname, parts.port, timeout=self.timeout)

    def _call(self, method: str, uuid: str, *args):
        path = wire.call_path(self.host, uuid, method)
        body = json.dumps(wire.encode_args(method, args, self.secret)).encode()
        conn = self._connection()
        try:
            conn.request("POST", path, body, {"Content-Type": "application/json",
                                              **wire.sign(self.secret, "POST", path, body)})
            response = conn.getresponse()
            status, data = response.status, response.read()
        except OSError as exc:
            raise wire.LinkError(f"host {self.host} cannot be reached at {self.url}: {exc}") from None
        finally:
            conn.close()
        try:
            answer = json.loads(data)
        except ValueError:
            raise wire.LinkError(f"host {self.host} answered {status} with no JSON") from None
        if status == 200:
            return wire.decode_result(method, answer["result"])
        raise wire.ERRORS.get(answer.get("error"), wire.LinkError)(answer.get("message") or f"{status}")

    def console_output(self, uuid: str, length: int | None = None) -> str:
        return self._call("console_output", uuid, length)

    def set_admin_password(self, uuid: str, password: str) -> None:
        self._call("set_admin_password", uuid, password)

    def instance_info(self, uuid: str) -> InstanceInfo:
        return self._call("instance_info", uuid)

    def attach_interface(self, uuid: str, nic: NIC) -> None:
        self._call("attach_interface", uuid, nic)

    def detach_interface(self, uuid: str, nic: NIC) -> None:
        self._call("detach_interface", uuid, nic)

    def attach_volume(self, uuid: str, disk: VolumeDisk) -> None:
        self._call("attach_volume", uuid, disk)

    def detach_volume(self, uuid: str, volume_id: str) -> None:
        self._call("detach_volume", uuid, volume_id)

    def prepare_incoming(self, spec: InstanceSpec, address: str) -> str:
        return self._call("prepare_incoming", spec.uuid, spec, address)

    def finish_incoming(self, uuid: str) -> None:
        self._call("finish_incoming", uuid)

    def abort_incoming(self, uuid: str) -> None:
        self._call("abort_incoming", uuid)

    def export_disks(self, uuid: str, address: str) -> str:
        return self._call("export_disks", uuid, address)

    def end_export(self, uuid: str) -> None:
        self._call("end_export", uuid)

    def destroy(self, uuid: str) -> None:
        self._call("destroy", uuid)

    def release(self, uuid: str) -> None:
        self._call("release", uuid)

    def power_on(self, spec: InstanceSpec) -> None:
        self._call("power_on", spec.uuid, spec)

    def extend_volume(self, uuid: str, volume_id: str, size_bytes: int) -> bool:
        return bool(self._call("extend_volume", uuid, volume_id, size_bytes))

    def swap_volume(self, uuid: str, volume_id: str, disk: VolumeDisk) -> bool:
        return bool(self._call("swap_volume", uuid, volume_id, disk))

    def snapshot_volume(self, uuid: str, volume_id: str, overlay_path: str) -> bool:
        return bool(self._call("snapshot_volume", uuid, volume_id, overlay_path))

    def set_volume_limits(self, uuid: str, volume_id: str, throttle: dict) -> bool:
        return bool(self._call("set_volume_limits", uuid, volume_id, throttle))

    def console_socket(self, uuid: str, kind: str) -> str:
        """The link's URL of the guest's console (``ConsoleUnavailable`` if it has none now)."""
        self._call("console_socket", uuid, kind)
        path = wire.console_path(self.host, uuid, kind)
        if self.url.startswith("unix:"):
            return f"ws+unix:{self.url[5:]}:{path}"
        return f"ws://{urlsplit(self.url).netloc}{path}"


def is_link(address: str) -> bool:
    """Whether a console address is the link's (else it is a Unix socket of this host)."""
    return address.startswith(("ws://", "ws+unix:"))


async def open_console(address: str, secret: str) -> ClientConnection:
    """A websocket carrying the guest's console bytes, from a ``console_socket`` answer."""
    if address.startswith("ws+unix:"):
        socket_path, path = address[len("ws+unix:"):].rsplit(":", 1)
        return await unix_connect(socket_path, f"ws://localhost{path}",
                                  additional_headers=wire.sign(secret, "GET", path), open_timeout=10)
    path = urlsplit(address).path
    return await connect(address, additional_headers=wire.sign(secret, "GET", path), open_timeout=10)
