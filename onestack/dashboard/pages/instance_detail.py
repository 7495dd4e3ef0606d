"""An instance's own page (Horizon's instance detail): its facts, addresses, security groups, metadata and
volumes, its row actions, and Nova's record of what was done to it (the action log), refreshed live.
The Instances table's names and the topology picture's instance boxes lead here."""

from __future__ import annotations

import asyncio

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import ApiError, Cloud
from onestack.dashboard.pages.instances import POWER_STATES, row, status_class
from onestack.dashboard.web import Page, panel


def addresses(server: dict) -> list[dict]:
    """Every address of the server, a row each: its network, the address, fixed or floating, and the MAC."""
    return [{"network": network, "addr": a["addr"], "type": a.get("OS-EXT-IPS:type", ""),
             "mac": a.get("OS-EXT-IPS-MAC:mac_addr", ""), "version": a.get("version", 4)}
            for network, found in sorted((server.get("addresses") or {}).items()) for a in found]


def action_log(actions: list[dict]) -> list[dict]:
    """Nova's instance actions, newest first.  Nova lists them so, newest first; the sort (stable, by start
    time alone) only mends another cloud's order and keeps Nova's for actions started in the same second."""
    return sorted(actions, key=lambda a: a.get("start_time") or "", reverse=True)


def flavor_text(flavor: dict) -> str:
    disk = f"{flavor.get('disk', 0)} GB disk" + (f" + {flavor['ephemeral']} GB ephemeral" if flavor.get("ephemeral") else "")
    return f"{flavor.get('original_name', '')} — {flavor.get('vcpus', '?')} vCPU, {flavor.get('ram', '?')} MB RAM, {disk}"


async def _image_name(cloud: Cloud, server: dict) -> str:
    image_id = (server.get("image") or {}).get("id")
    if not image_id:
        return "(booted from a volume)"
    try:
        return (await cloud.get("image", f"/images/{image_id}")).get("name") or image_id
    except ApiError:
        return image_id  # deleted since, or not visible to this project: Nova still names it


async def _view(page: Page) -> dict:
    server_id = page.request.path_params["id"]
    server, actions = await asyncio.gather(
        page.cloud.get("compute", f"/servers/{server_id}"),
        page.cloud.get("compute", f"/servers/{server_id}/os-instance-actions"))
    server = server["server"]
    image = await _image_name(page.cloud, server)
    return {"server": server, "row": row(server, {}, page.session.is_admin), "image_name": image, "status_class": status_class,
            "power": POWER_STATES.get(server.get("OS-EXT-STS:power_state"), ""),
            "flavor": flavor_text(server.get("flavor") or {}), "addresses": addresses(server),
            "groups": sorted({g["name"] for g in server.get("security_groups") or []}),
            "metadata": sorted((server.get("metadata") or {}).items()),
            "volumes": [v["id"] for v in server.get("os-extended-volumes:volumes_attached") or []],
            "actions": action_log(actions["instanceActions"])}


@panel()
async def instance_page(page: Page) -> Response:
    view = await _view(page)
    return page.render("instance.html", title=f"Instance {view['server'].get('name', '')}", **view)


@panel()
async def instance_live(page: Page) -> Response:
    return page.fragment("_instance_live.html", **await _view(page))


def routes() -> list[Route]:
    return [Route("/instances/{id}", instance_page, methods=["GET"]),
            Route("/instances/{id}/live", instance_live, methods=["GET"])]
