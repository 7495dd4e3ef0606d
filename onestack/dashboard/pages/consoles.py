"""An instance's interactive console in the page: the serial console (a websocket to the compute
service's console proxy, drawn by the dashboard's script) or noVNC (the cloud's own noVNC page in a
frame).  The dashboard asks Nova's ``remote-consoles`` for a URL with a fresh token, as the user."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import ApiError
from onestack.dashboard.web import Page, panel

KINDS = {"serial": ("serial", "Serial console"), "novnc": ("vnc", "Graphical console (noVNC)")}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return f"{scheme}://{parts.netloc}"


def for_browser(page: Page, url: str) -> tuple[str, bool]:
    """The console URL as the browser must use it, and whether it is on the dashboard's own site (so the
    page may frame it and its script may open its websocket).  A cloud serving its own dashboard answers
    with the address the dashboard reached it at (loopback, or its public URL): that is this site, by the
    address the browser used."""
    ours = {_origin(page.cloud.endpoints.get("compute", ""))}
    if page.dash.config.rewrite:
        ours |= {_origin(prefix) for prefix in page.dash.config.rewrite}
    if _origin(url) not in ours:
        return url, _origin(url) == f"{page.request.url.scheme}://{page.request.url.netloc}"
    parts = urlsplit(url)
    scheme = page.request.url.scheme
    if parts.scheme in ("ws", "wss"):
        scheme = "wss" if scheme == "https" else "ws"
    return f"{scheme}://{page.request.url.netloc}{parts.path}{'?' + parts.query if parts.query else ''}", True


@panel()
async def remote_console(page: Page) -> Response:
    server_id = page.request.path_params["id"]
    kind = page.request.query_params.get("type", "serial")
    if kind not in KINDS:
        raise ApiError(404, f"There is no console type {kind}.")
    body = {"remote_console": {"protocol": KINDS[kind][0], "type": kind}}
    server, console = await asyncio.gather(
        page.cloud.get("compute", f"/servers/{server_id}"),
        page.cloud.post("compute", f"/servers/{server_id}/remote-consoles", body), return_exceptions=True)
    if isinstance(server, BaseException):
        raise server
    url, error, same_site = "", "", False
    if isinstance(console, ApiError) and console.status in (400, 409):
        error = console.message  # no such console on this guest, or it is not running: said on the page
    elif isinstance(console, BaseException):
        raise console
    else:
        url, same_site = for_browser(page, console["remote_console"]["url"])
        if kind == "novnc":  # noVNC's full page waits for a click on Connect unless told; scaled to the frame
            url += ("&" if "?" in url else "?") + "autoconnect=true&resize=scale"
    return page.render("remote_console.html", title=KINDS[kind][1], server=server["server"], kind=kind, kinds=KINDS,
                       url=url, same_site=same_site, error=error)


def routes() -> list[Route]:
    return [Route("/instances/{id}/remote-console", remote_console, methods=["GET"])]
