"""The websocket console proxy (Nova's novncproxy and serialproxy in one): ``/console/websocket?token=``
joins a client's websocket to the guest's console socket, bytes both ways (``/websockify`` with the token
in a ``token`` cookie too, as websockify-based proxies take it); ``/console/novnc/`` serves
noVNC's pages when Debian's ``novnc`` is installed.

A token that is unknown, expired or whose guest has no such console now is refused in the handshake
(HTTP 403), before anything reaches the guest.  So is a browser's request from a page of another site
(its ``Origin`` names neither this host nor an allowed origin), as Nova's proxies refuse it: a token in
a page's URL must not be usable from a page an attacker serves.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute, Mount, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket
from websockets.exceptions import InvalidHandshake

from onestack.services.compute.service import consoles

LOG = logging.getLogger("onestack.compute.consoles")
WEBSOCKIFY_PATH = "websockify"


def origin_allowed(origin: str | None, host: str, allowed: list[str]) -> bool:
    """Whether a websocket request with these ``Origin`` and ``Host`` headers may open a console.  No
    Origin is a client that is not a browser (it has no page to be tricked by)."""
    if origin is None:
        return True
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https"):
        return False
    return parts.hostname is not None and parts.hostname in {urlsplit(f"//{host}").hostname, *allowed}


async def _websocket(ws: WebSocket) -> None:
    compute = ws.scope["onestack.runtime"].compute
    if not origin_allowed(ws.headers.get("origin"), ws.headers.get("host", ""),
                          compute.settings.consoles.allowed_origins):
        LOG.warning("console websocket refused: origin %s does not match host %s", ws.headers.get("origin"),
                    ws.headers.get("host"))
        await ws.close(code=1008)
        return
    # the token in the query, or (as Nova's proxies take it) in a ``token`` cookie: noVNC before 1.1 and
    # Tempest's console client send it so, to websockify's own path
    token = ws.query_params.get("token") or ws.cookies.get("token", "")
    target = await run_in_threadpool(compute.consoles.connect, token)
    if target is None:
        await ws.close(code=1008)  # before accept: the handshake is refused
        return
    try:
        guest = await target.open()
    except (OSError, InvalidHandshake, TimeoutError) as exc:
        LOG.warning("console of %s: cannot connect to %s: %s", target.instance_uuid, target.socket, exc)
        await ws.close(code=1011)
        return
    # noVNC asks for the "binary" subprotocol (websockify's); a serial client may ask for none
    await ws.accept(subprotocol="binary" if "binary" in ws.scope.get("subprotocols", []) else None)
    await consoles.join(ws, guest)


def routes() -> list[BaseRoute]:
    found: list[BaseRoute] = [WebSocketRoute(f"/{consoles.WEBSOCKET_PATH}", _websocket),
                              # websockify's default path, where clients that drop the URL's path go (Nova's
                              # proxies answer on any path)
                              WebSocketRoute(f"/{WEBSOCKIFY_PATH}", _websocket)]
    if consoles.NOVNC_DIR.is_dir():
        found.append(Mount("/console/novnc", app=StaticFiles(directory=consoles.NOVNC_DIR, follow_symlink=True)))
    return found
