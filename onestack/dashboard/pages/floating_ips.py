"""Floating IPs: allocate from an external network, associate with an instance's port, disassociate, release."""

from __future__ import annotations

import asyncio

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import ApiError
from onestack.dashboard.pages.instances import status_class
from onestack.dashboard.pages.network import external_networks
from onestack.dashboard.web import Page, panel


@panel()
async def floating_ips(page: Page) -> Response:
    fips, ports, servers, externals = await asyncio.gather(
        page.cloud.get("network", "/floatingips"), page.cloud.get("network", "/ports", project_id=page.project_id),
        page.cloud.get("compute", "/servers", limit=1000), external_networks(page.cloud))
    server_names = {s["id"]: s["name"] for s in servers["servers"]}
    targets = []  # an instance's ports, by "instance: address"
    for p in ports["ports"]:
        if (p.get("device_owner") or "").startswith("compute:") and p["fixed_ips"]:
            label = f"{server_names.get(p['device_id'], p['device_id'])}: {p['fixed_ips'][0]['ip_address']}"
            targets.append({"id": p["id"], "label": label, "device_id": p["device_id"]})
    port_labels = {t["id"]: t["label"] for t in targets}
    pools = {n["id"]: n.get("name") or n["id"] for n in externals}
    rows = [{**f, "pool": pools.get(f["floating_network_id"], f["floating_network_id"]),
             "attached": port_labels.get(f.get("port_id") or "", f.get("fixed_ip_address") or ""),
             "status_class": status_class(f.get("status"))} for f in fips["floatingips"]]
    return page.render("floating_ips.html", title="Floating IPs", rows=rows, externals=externals, targets=targets)


@panel(back="/floating-ips")
async def allocate(page: Page) -> Response:
    if not page.form.get("pool"):
        raise ApiError(400, "Choose the external network to allocate from.")
    fip = (await page.cloud.post("network", "/floatingips", {"floatingip": {
        "floating_network_id": page.form.get("pool")}}))["floatingip"]
    if page.form.get("port"):
        await page.cloud.put("network", f"/floatingips/{fip['id']}", {"floatingip": {"port_id": page.form.get("port")}})
    return page.done(f"Floating IP {fip['floating_ip_address']} allocated.", "/floating-ips")


@panel(back="/floating-ips")
async def associate(page: Page) -> Response:
    port = page.form.get("port") or None
    await page.cloud.put("network", f"/floatingips/{page.request.path_params['id']}", {"floatingip": {"port_id": port}})
    return page.done("Floating IP associated." if port else "Floating IP disassociated.", "/floating-ips")


@panel(back="/floating-ips")
async def release(page: Page) -> Response:
    await page.cloud.delete("network", f"/floatingips/{page.request.path_params['id']}")
    return page.done("Floating IP released.", "/floating-ips")


def routes() -> list[Route]:
    return [Route("/floating-ips", floating_ips, methods=["GET"]), Route("/floating-ips", allocate, methods=["POST"]),
            Route("/floating-ips/{id}/associate", associate, methods=["POST"]),
            Route("/floating-ips/{id}/release", release, methods=["POST"])]
