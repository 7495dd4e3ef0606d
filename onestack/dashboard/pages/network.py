"""Networks with their subnets and ports, the project's ports, and routers with their gateway,
interfaces and static routes."""

from __future__ import annotations

import asyncio

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import ApiError, Cloud
from onestack.dashboard.pages.instances import status_class
from onestack.dashboard.pages.paging import api_page
from onestack.dashboard.web import Form, Page, panel


def by_id(items: list[dict]) -> dict[str, dict]:
    return {item["id"]: item for item in items}


async def external_networks(cloud: Cloud) -> list[dict]:
    return (await cloud.get("network", "/networks", **{"router:external": "true"}))["networks"]


def _subnet_body(form: Form, network_id: str) -> dict:
    body = {"network_id": network_id, "ip_version": 6 if ":" in form.get("cidr") else 4, "cidr": form.get("cidr"),
            "enable_dhcp": bool(form.get("enable_dhcp"))}
    if form.get("subnet_name"):
        body["name"] = form.get("subnet_name")
    if form.get("gateway_ip"):
        body["gateway_ip"] = form.get("gateway_ip")
    return body


@panel()
async def networks(page: Page) -> Response:
    nets, subnets = await asyncio.gather(page.cloud.get("network", "/networks"), page.cloud.get("network", "/subnets"))
    cidrs: dict[str, list[str]] = {}
    for s in subnets["subnets"]:
        cidrs.setdefault(s["network_id"], []).append(f"{s.get('name') or s['id'][:8]} {s['cidr']}")
    rows = [{**n, "cidrs": cidrs.get(n["id"], []), "status_class": status_class(n.get("status")),
             "mine": n.get("project_id") == page.project_id} for n in nets["networks"]]
    return page.render("networks.html", title="Networks", rows=sorted(rows, key=lambda n: n.get("name") or ""),
                       create=bool(page.request.query_params.get("create")))


@panel(back="/networks")
async def create_network(page: Page) -> Response:
    form = page.form
    net = (await page.cloud.post("network", "/networks", {"network": {
        "name": form.get("name"), "admin_state_up": form.get("admin_state", "up") == "up"}}))["network"]
    if form.get("cidr"):
        try:
            await page.cloud.post("network", "/subnets", {"subnet": _subnet_body(form, net["id"])})
        except ApiError as err:
            await page.cloud.delete("network", f"/networks/{net['id']}")
            raise ApiError(err.status, f"The subnet was refused, so the network was not kept: {err.message}") from None
    return page.done(f"Network {net['name'] or net['id']} created.", "/networks")


@panel()
async def network_detail(page: Page) -> Response:
    net_id = page.request.path_params["id"]
    net, subnets, ports = await asyncio.gather(
        page.cloud.get("network", f"/networks/{net_id}"), page.cloud.get("network", "/subnets", network_id=net_id),
        page.cloud.get("network", "/ports", network_id=net_id))
    return page.render("network.html", title="Network", net=net["network"], subnets=subnets["subnets"],
                       ports=[{**p, "status_class": status_class(p.get("status"))} for p in ports["ports"]])


@panel(back="/networks")
async def add_subnet(page: Page) -> Response:
    net_id = page.request.path_params["id"]
    await page.cloud.post("network", "/subnets", {"subnet": _subnet_body(page.form, net_id)})
    return page.done("Subnet created.", f"/networks/{net_id}")


@panel(back="/networks")
async def delete_subnet(page: Page) -> Response:
    await page.cloud.delete("network", f"/subnets/{page.request.path_params['id']}")
    return page.done("Subnet deleted.", "/networks")


@panel(back="/networks")
async def delete_network(page: Page) -> Response:
    await page.cloud.delete("network", f"/networks/{page.request.path_params['id']}")
    return page.done("Network deleted.", "/networks")


def _device(port: dict) -> str:
    owner, device = port.get("device_owner") or "", port.get("device_id") or ""
    if owner.startswith("compute:"):
        return f"instance {device[:8]}"
    if owner == "network:router_interface" or owner == "network:router_gateway":
        return f"router {device[:8]}"
    if owner == "network:dhcp":
        return "DHCP"
    return owner or ("" if not device else device[:8])


@panel()
async def ports(page: Page) -> Response:
    listing, nets = await asyncio.gather(api_page(page, "network", "/ports", "ports", project_id=page.project_id),
                                         page.cloud.get("network", "/networks"))
    names = {n["id"]: n.get("name") or n["id"] for n in nets["networks"]}
    rows = [{**p, "network": names.get(p["network_id"], p["network_id"]), "device": _device(p),
             "ips": ", ".join(ip["ip_address"] for ip in p.get("fixed_ips", [])),
             "free": not p.get("device_id") and not p.get("device_owner"),
             "router_id": p["device_id"] if (p.get("device_owner") or "").startswith("network:router") else "",
             "status_class": status_class(p.get("status"))} for p in listing["items"]]
    return page.render("ports.html", title="Ports", rows=rows, marker=listing["marker"],
                       next_marker=listing["next_marker"],
                       networks=[n for n in nets["networks"] if not n.get("router:external")])


@panel(back="/ports")
async def create_port(page: Page) -> Response:
    form = page.form
    body = {"network_id": form.get("network"), "admin_state_up": form.get("admin_state", "up") == "up"}
    if form.get("name"):
        body["name"] = form.get("name")
    if form.get("fixed_ip"):
        body["fixed_ips"] = [{"ip_address": form.get("fixed_ip")}]
    if form.get("port_security") == "off":
        body["port_security_enabled"] = False
        body["security_groups"] = []
    port = (await page.cloud.post("network", "/ports", {"port": body}))["port"]
    ips = ", ".join(ip["ip_address"] for ip in port.get("fixed_ips", []))
    return page.done(f"Port {port.get('name') or port['id']} created{': ' + ips if ips else ''}.", "/ports")


@panel(back="/ports")
async def delete_port(page: Page) -> Response:
    await page.cloud.delete("network", f"/ports/{page.request.path_params['id']}")
    return page.done("Port deleted.", "/ports")


@panel()
async def routers(page: Page) -> Response:
    """The routers; ``?gateway=`` (an external network) or ``?network=`` (a subnet of it for a first interface)
    fill in and open the create form, as the topology picture's buttons ask."""
    network, gateway = page.request.query_params.get("network"), page.request.query_params.get("gateway", "")
    found, externals, subnets = await asyncio.gather(
        page.cloud.get("network", "/routers"), external_networks(page.cloud),
        page.cloud.get("network", "/subnets", network_id=network) if network else asyncio.sleep(0, {"subnets": []}))
    names = {n["id"]: n.get("name") or n["id"] for n in externals}
    rows = [{**r, "gateway": names.get((r.get("external_gateway_info") or {}).get("network_id"), ""),
             "status_class": status_class(r.get("status"))} for r in found["routers"]]
    return page.render("routers.html", title="Routers", rows=rows, externals=externals, gateway=gateway,
                       subnets=subnets["subnets"], create=bool(network or gateway))


def _gateway(form: Form) -> dict:
    return {"external_gateway_info": {"network_id": form.get("external_network")}} if form.get("external_network") else {}


@panel(back="/routers")
async def create_router(page: Page) -> Response:
    body = {"name": page.form.get("name"), **_gateway(page.form)}
    router = (await page.cloud.post("network", "/routers", {"router": body}))["router"]
    if page.form.get("subnet"):
        await page.cloud.put("network", f"/routers/{router['id']}/add_router_interface",
                             {"subnet_id": page.form.get("subnet")})
    return page.done(f"Router {router['name'] or router['id']} created.", "/routers")


@panel()
async def router_detail(page: Page) -> Response:
    router_id = page.request.path_params["id"]
    router, ports, subnets, externals = await asyncio.gather(
        page.cloud.get("network", f"/routers/{router_id}"), page.cloud.get("network", "/ports", device_id=router_id),
        page.cloud.get("network", "/subnets"), external_networks(page.cloud))
    subnet_names = {s["id"]: f"{s.get('name') or s['id'][:8]} ({s['cidr']})" for s in subnets["subnets"]}
    interfaces = [{"port": p, "subnets": [subnet_names.get(ip["subnet_id"], ip["subnet_id"]) for ip in p["fixed_ips"]],
                   "ips": [ip["ip_address"] for ip in p["fixed_ips"]], "status_class": status_class(p.get("status"))}
                  for p in ports["ports"] if p.get("device_owner") == "network:router_interface"]
    external_ids = {n["id"] for n in externals}
    choices = [s for s in subnets["subnets"] if s["network_id"] not in external_ids]
    return page.render("router.html", title="Router", router=router["router"], interfaces=interfaces,
                       subnets=choices, subnet_names=subnet_names, externals=externals)


@panel(back="/routers")
async def router_interface(page: Page) -> Response:
    router_id, verb = page.request.path_params["id"], page.request.path_params["verb"]
    if verb not in ("add", "remove"):
        raise ApiError(404, f"There is no router interface action {verb}.")
    body = {"port_id": page.form.get("port")} if page.form.get("port") else {"subnet_id": page.form.get("subnet")}
    await page.cloud.put("network", f"/routers/{router_id}/{verb}_router_interface", body)
    return page.done("Interface added." if verb == "add" else "Interface removed.", f"/routers/{router_id}")


@panel(back="/routers")
async def router_gateway(page: Page) -> Response:
    router_id = page.request.path_params["id"]
    gateway = _gateway(page.form) or {"external_gateway_info": {}}
    await page.cloud.put("network", f"/routers/{router_id}", {"router": gateway})
    return page.done("Gateway set." if page.form.get("external_network") else "Gateway cleared.", f"/routers/{router_id}")


@panel(back="/routers")
async def router_route(page: Page) -> Response:
    """A static route (Neutron's extra routes): added or removed on its own, so a concurrent change to
    another route is never overwritten."""
    router_id, verb = page.request.path_params["id"], page.request.path_params["verb"]
    destination, nexthop = page.form.get("destination"), page.form.get("nexthop")
    if verb not in ("add", "remove"):
        raise ApiError(404, f"There is no router route action {verb}.")
    if not destination or not nexthop:
        raise ApiError(400, "A static route needs a destination CIDR and a next hop address.")
    await page.cloud.put("network", f"/routers/{router_id}/{verb}_extraroutes",
                         {"router": {"routes": [{"destination": destination, "nexthop": nexthop}]}})
    return page.done(f"Route to {destination} {'added' if verb == 'add' else 'removed'}.", f"/routers/{router_id}")


@panel(back="/routers")
async def delete_router(page: Page) -> Response:
    await page.cloud.delete("network", f"/routers/{page.request.path_params['id']}")
    return page.done("Router deleted.", "/routers")


def routes() -> list[Route]:
    return [Route("/networks", networks, methods=["GET"]), Route("/networks", create_network, methods=["POST"]),
            Route("/networks/{id}", network_detail, methods=["GET"]),
            Route("/networks/{id}/subnets", add_subnet, methods=["POST"]),
            Route("/networks/{id}/delete", delete_network, methods=["POST"]),
            Route("/subnets/{id}/delete", delete_subnet, methods=["POST"]),
            Route("/ports", ports, methods=["GET"]), Route("/ports", create_port, methods=["POST"]),
            Route("/ports/{id}/delete", delete_port, methods=["POST"]),
            Route("/routers/{id}/routes/{verb}", router_route, methods=["POST"]),
            Route("/routers", routers, methods=["GET"]), Route("/routers", create_router, methods=["POST"]),
            Route("/routers/{id}", router_detail, methods=["GET"]),
            Route("/routers/{id}/gateway", router_gateway, methods=["POST"]),
            Route("/routers/{id}/interfaces/{verb}", router_interface, methods=["POST"]),
            Route("/routers/{id}/delete", delete_router, methods=["POST"])]
