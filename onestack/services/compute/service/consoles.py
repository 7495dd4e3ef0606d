"""Remote consoles: tokens that let a client reach one guest's console through the websocket proxy.

A token is made for one instance and one console type, kept only as its SHA-256 and good for
``consoles.token_ttl`` seconds (Nova's ``[consoleauth] token_ttl``).  Serial consoles are the guest's
serial port as raw bytes; VNC is RFB, which noVNC (served from Debian's ``novnc`` package when it is
installed) speaks over the same websocket.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import uuid
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import delete

from onestack.db.base import utcnow
from onestack.db.engine import Database
from onestack.drivers.compute import ConsoleUnavailable, DriverError, PowerState
from onestack.drivers.remote import client as remote
from onestack.drivers.remote import relay
from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict
from onestack.services.compute.models import ConsoleToken, Instance
from onestack.services.compute.service.host_drivers import HostDrivers
from onestack.services.compute.service.servers import Servers

NOVNC_DIR = Path("/usr/share/novnc")
# protocol -> the console types onestack serves for it; Nova's others (spice, rdp, mks) are unavailable
SERVED = {"vnc": ("novnc",), "serial": ("serial",)}
KNOWN_TYPES = ("novnc", "xvpvnc", "spice-html5", "spice-direct", "rdp-html5", "serial", "webmks")
WEBSOCKET_PATH = "console/websocket"


@dataclasses.dataclass(frozen=True)
class Target:
    """Where a token's console is: a Unix socket on this machine, or a host link URL (with the key that
    signs calls on that link)."""

    instance_uuid: str
    console_type: str
    host: str
    socket: str
    link_secret: str | None = None

    @property
    def access_path(self) -> str:
        """The guest's console socket on this host, as ``unix:<path>``; one on another host, by its link URL."""
        return self.socket if self.link_secret is not None else f"unix:{self.socket}"

    async def open(self) -> relay.UnixPeer | relay.LinkPeer:
        """The console, opened for relaying (``OSError``, ``InvalidHandshake`` or ``TimeoutError`` if it
        cannot be reached)."""
        if self.link_secret is not None:
            return relay.LinkPeer(await remote.open_console(self.socket, self.link_secret))
        return await relay.UnixPeer.open(self.socket)


async def join(websocket, guest: relay.UnixPeer | relay.LinkPeer) -> None:
    """Bytes both ways between a client's (accepted) websocket and the guest's console, until either ends."""
    await relay.relay(websocket, guest)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _protocol(console_type: str) -> str:
    return next(p for p, types in SERVED.items() if console_type in types)


def available(protocol: str, console_type: str) -> None:
    """Nova's 400s: a type it does not know, or one this cloud does not serve."""
    if console_type not in KNOWN_TYPES:
        raise BadRequest(f"Invalid console type {console_type}")
    if console_type not in SERVED.get(protocol, ()) or (console_type == "novnc" and not NOVNC_DIR.is_dir()):
        raise BadRequest(f"Unavailable console type {console_type}.")


@dataclasses.dataclass(eq=False)
class Consoles:
    db: Database
    servers: Servers
    hosts: HostDrivers
    token_ttl: int

    def url(self, ctx: Context, server_id: str, protocol: str, console_type: str, base_url: str) -> str:
        """A new token for the server's console, and the URL that uses it."""
        instance = self.servers.show(ctx, server_id, "os_compute_api:os-remote-consoles")
        available(protocol, console_type)
        if instance.host is None or instance.power_state not in (PowerState.RUNNING, PowerState.PAUSED):
            raise Conflict(f"Instance {instance.id} is not ready")
        try:
            self.hosts.driver(instance.host).console_socket(instance.id, protocol)
        except ConsoleUnavailable as exc:
            raise BadRequest(str(exc)) from None
        except DriverError as exc:  # its host's process cannot be reached
            raise Conflict(f"Instance {instance.id} is not ready: {exc}") from None
        token = str(uuid.uuid4())
        now = utcnow()
        with self.db.write() as session:
            session.execute(delete(ConsoleToken).where(ConsoleToken.expires_at < now))
            session.add(ConsoleToken(token_hash=_hash(token), instance_uuid=instance.id, console_type=console_type,
                                     host=instance.host, created_at=now,
                                     expires_at=now + datetime.timedelta(seconds=self.token_ttl)))
        socket_url = f"{WEBSOCKET_PATH}?token={token}"
        if console_type == "novnc":  # noVNC's page, told where its websocket is (as Nova's novncproxy_base_url)
            return f"{base_url}/console/novnc/vnc_auto.html?path={quote(socket_url, safe='')}"
        return f"{base_url.replace('http', 'ws', 1)}/{socket_url}"

    def find(self, token: str) -> ConsoleToken | None:
        """The live token (not expired, its instance not deleted), or None."""
        with self.db.read() as session:
            found = session.get(ConsoleToken, _hash(token))
            if found is None or found.expires_at <= utcnow():
                return None
            instance = session.get(Instance, found.instance_uuid)
            if instance is None or instance.deleted or instance.host != found.host:
                return None
            session.expunge(found)
            return found

    def connect(self, token: str) -> Target | None:
        """Where the proxy connects for ``token``: the console socket of the guest, if it has one now."""
        found = self.find(token)
        if found is None:
            return None
        try:
            path = self.hosts.driver(found.host).console_socket(found.instance_uuid, _protocol(found.console_type))
        except (ConsoleUnavailable, DriverError):
            return None
        secret = self.hosts.link_secret(found.host) if remote.is_link(path) else None
        return Target(found.instance_uuid, found.console_type, found.host, path, secret)
