"""The network topology as an SVG drawn on the server: networks are vertical bars (external ones
first), routers and instances are boxes in rows to their left, and a line from a box ends in a dot on
each network it has a port on.  Under each bar, buttons create things there: an instance on the network
and a router on it (an interface on its subnet, or its gateway on an external network); right of the
bars, a new network.  The page polls the picture, so status colours follow the cloud.
"""

from __future__ import annotations

import asyncio
import dataclasses

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.pages.instances import status_class
from onestack.dashboard.web import Page, panel

TOP, ROW, BOX_W, BOX_H = 60, 56, 170, 40
BUTTONS_H = 64  # room under the bars for their "create here" buttons
BARS_X, BAR_GAP, BAR_W = 230, 64, 22
MAX_INSTANCES = 200  # past this the picture is no help; the table pages through the rest


@dataclasses.dataclass
class Bar:
    id: str
    name: str
    x: int
    status: str
    external: bool


@dataclasses.dataclass
class Device:
    id: str
    name: str
    kind: str
    status: str
    href: str
    y: int
    dots: list[int]  # x of each network it is on
    networks: list[str]

    @property
    def line_end(self) -> int:
        return max(self.dots, default=BOX_W + 20)


def _short(text: str, length: int = 20) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def layout(networks: list[dict], routers: list[dict], servers: list[dict], ports: list[dict], base: str) -> dict:
    nets = sorted(networks, key=lambda n: (not n.get("router:external"), n.get("name") or n["id"]))
    bars = {n["id"]: Bar(n["id"], _short(n.get("name") or n["id"], 24), BARS_X + i * BAR_GAP,
                         "external" if n.get("router:external") else status_class(n.get("status")),
                         bool(n.get("router:external"))) for i, n in enumerate(nets)}
    on: dict[str, set[str]] = {}
    for p in ports:
        if p.get("network_id") in bars:
            on.setdefault(p.get("device_id") or "", set()).add(p["network_id"])
    devices = []
    for r in sorted(routers, key=lambda r: r.get("name") or r["id"]):
        gateway = (r.get("external_gateway_info") or {}).get("network_id")
        ids = on.get(r["id"], set()) | ({gateway} if gateway in bars else set())
        devices.append((r, "router", f"{base}/routers/{r['id']}", ids))
    for s in servers:
        devices.append((s, "instance", f"{base}/instances/{s['id']}", on.get(s["id"], set())))
    placed = [Device(d["id"], _short(d.get("name") or d["id"]), kind, d.get("status") or "", href, TOP + i * ROW,
                     sorted(bars[n].x + BAR_W // 2 for n in ids), sorted(ids))
              for i, (d, kind, href, ids) in enumerate(devices)]
    height = TOP + max(len(placed), 1) * ROW + 20 + BUTTONS_H
    width = BARS_X + len(bars) * BAR_GAP + 120
    return {"bars": list(bars.values()), "devices": placed, "width": width, "height": height, "box_w": BOX_W,
            "box_h": BOX_H, "bar_w": BAR_W, "status_class": status_class,
            "bars_end": height - BUTTONS_H, "new_network_x": BARS_X + len(bars) * BAR_GAP}


async def _picture(page: Page) -> dict:
    networks, routers, ports, servers = await asyncio.gather(
        page.cloud.get("network", "/networks"), page.cloud.get("network", "/routers"),
        page.cloud.get("network", "/ports", project_id=page.project_id),
        page.cloud.get("compute", "/servers/detail", limit=MAX_INSTANCES))
    return layout(networks["networks"], routers["routers"], servers["servers"], ports["ports"], page.base)


@panel()
async def topology(page: Page) -> Response:
    return page.render("topology.html", title="Network topology", **await _picture(page))


@panel()
async def topology_svg(page: Page) -> Response:
    return page.fragment("_topology.svg.html", **await _picture(page))


def routes() -> list[Route]:
    return [Route("/topology", topology, methods=["GET"]), Route("/topology/svg", topology_svg, methods=["GET"])]
