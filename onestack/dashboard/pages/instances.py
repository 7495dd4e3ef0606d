"""Instances: a paged table whose status, task and power state refresh themselves, the launch form,
row actions, and the console log.  The admin panel's "all instances" is the same table across projects."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import NamedTuple

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import ApiError, Cloud
from onestack.dashboard.pages.keypairs import create_keypair
from onestack.dashboard.web import Page, panel

PAGE_SIZE = 50
# Nova takes at most 65535 bytes of base64: this much before encoding
MAX_USER_DATA = 49149
POWER_STATES = {0: "No state", 1: "Running", 3: "Paused", 4: "Shut down", 6: "Crashed", 7: "Suspended"}
# Each row action: the label, and the compute API action body (None: DELETE the server).
ACTIONS: dict[str, tuple[str, dict | None]] = {
    "start": ("Start", {"os-start": None}),
    "stop": ("Stop", {"os-stop": None}),
    "reboot": ("Reboot", {"reboot": {"type": "SOFT"}}),
    "hard-reboot": ("Hard reboot", {"reboot": {"type": "HARD"}}),
    "pause": ("Pause", {"pause": None}),
    "unpause": ("Unpause", {"unpause": None}),
    "suspend": ("Suspend", {"suspend": None}),
    "resume": ("Resume", {"resume": None}),
    "shelve": ("Shelve", {"shelve": None}),
    "unshelve": ("Unshelve", {"unshelve": None}),
    "confirm-resize": ("Confirm resize", {"confirmResize": None}),
    "revert-resize": ("Revert resize", {"revertResize": None}),
    "lock": ("Lock", {"lock": None}),
    "unlock": ("Unlock", {"unlock": None}),
    "delete": ("Delete", None),
}
# The actions that make sense in each status (Nova refuses the others with a 409 anyway).
BY_STATUS = {
    "ACTIVE": ["stop", "reboot", "hard-reboot", "pause", "suspend", "shelve"],
    "SHUTOFF": ["start", "shelve"],
    "PAUSED": ["unpause"],
    "SUSPENDED": ["resume"],
    "SHELVED": ["unshelve"],
    "SHELVED_OFFLOADED": ["unshelve"],
    "VERIFY_RESIZE": ["confirm-resize", "revert-resize"],
    "ERROR": ["hard-reboot"],
}
# Actions that need a choice first (their own small page): snapshot, resize, rebuild.
FORMS_BY_STATUS = {"ACTIVE": ["snapshot", "resize", "rebuild", "floating-ip", "interfaces"],
                   "SHUTOFF": ["snapshot", "resize", "rebuild", "floating-ip", "interfaces"],
                   "PAUSED": ["interfaces"], "SUSPENDED": ["interfaces"]}
FORM_LABELS = {"snapshot": "Create snapshot", "resize": "Resize", "rebuild": "Rebuild",
               "floating-ip": "Floating IPs", "interfaces": "Interfaces"}


def status_class(status: str) -> str:
    status = (status or "").upper()
    if status in ("ACTIVE", "AVAILABLE", "UP", "IN-USE"):
        return "ok"
    if status in ("ERROR", "DOWN", "KILLED", "DELETED") or status.startswith("ERROR") or status.endswith("_FAILED"):
        return "bad"
    if status in ("SHUTOFF", "SUSPENDED", "PAUSED", "SHELVED", "SHELVED_OFFLOADED", "DEACTIVATED", "INACTIVE"):
        return "off"
    return "busy"


def _addresses(server: dict) -> list[str]:
    return [f"{net}: {', '.join(a['addr'] for a in addrs)}" for net, addrs in (server.get("addresses") or {}).items()]


# What a locked instance still offers to someone who may not override the lock (Nova refuses them every
# task, attaching and deleting included): unlocking, and floating IPs (Neutron's, not the instance's).
LOCKED_FORMS = ("floating-ip",)


def row(server: dict, image_names: dict[str, str], overrides_lock: bool = False) -> dict:
    """A table row of ``server``; ``overrides_lock``: the viewer is an admin, whom Nova's lock does not stop."""
    image = server.get("image") or {}
    status = server.get("status", "")
    held = bool(server.get("locked")) and not overrides_lock
    actions = [] if held else [*BY_STATUS.get(status, [])]
    actions.append("unlock" if server.get("locked") else "lock")
    if not held:
        actions.append("delete")
    forms = [f for f in FORMS_BY_STATUS.get(status, []) if not held or f in LOCKED_FORMS]
    return {
        "id": server["id"], "name": server.get("name", ""), "status": status, "status_class": status_class(status),
        "task": server.get("OS-EXT-STS:task_state") or "", "project_id": server.get("tenant_id", ""),
        "power": POWER_STATES.get(server.get("OS-EXT-STS:power_state"), ""),
        "image": image_names.get(image.get("id", ""), image.get("id", "")) if image else "(volume)",
        "flavor": (server.get("flavor") or {}).get("original_name", ""), "addresses": _addresses(server),
        "fault": (server.get("fault") or {}).get("message", ""), "locked": bool(server.get("locked")),
        "actions": [(a, ACTIONS[a][0]) for a in actions],
        "volumes": [v["id"] for v in server.get("os-extended-volumes:volumes_attached") or []],
        "forms": [(f, FORM_LABELS[f]) for f in forms], "held": held,
    }


async def image_names(cloud: Cloud) -> dict[str, str]:
    try:
        images = (await cloud.get("image", "/images", limit=1000))["images"]
    except ApiError:
        return {}
    return {i["id"]: i.get("name") or i["id"] for i in images}


async def servers_page(page: Page, *, all_projects: bool = False) -> dict:
    """One page of servers as table rows, and the marker of the next page if there is one."""
    marker = page.request.query_params.get("marker") or None
    listing, names = await asyncio.gather(
        page.cloud.get("compute", "/servers/detail", limit=PAGE_SIZE, marker=marker,
                       all_tenants="1" if all_projects else None),
        image_names(page.cloud))
    servers = listing["servers"]
    more = any(link.get("rel") == "next" for link in listing.get("servers_links", []))
    return {"rows": [row(s, names, page.session.is_admin) for s in servers], "next_marker": servers[-1]["id"] if more and servers else "",
            "marker": marker or "", "all_projects": all_projects}


@panel()
async def instances(page: Page) -> Response:
    return page.render("instances.html", title="Instances", **await servers_page(page))


@panel()
async def instance_rows(page: Page) -> Response:
    return page.fragment("_instance_rows.html", **await servers_page(page))


@panel(back="/instances")
async def instance_action(page: Page) -> Response:
    server_id, action = page.request.path_params["id"], page.request.path_params["action"]
    if action not in ACTIONS:
        raise ApiError(404, f"There is no action {action}.")
    label, body = ACTIONS[action]
    if body is None:
        await page.cloud.delete("compute", f"/servers/{server_id}")
        return page.done("Deleting the instance.", "/instances")
    await page.cloud.post("compute", f"/servers/{server_id}/action", body)
    return page.done(f"{label}: requested.", "/instances")


@panel()
async def attach_volume_form(page: Page) -> Response:
    server_id = page.request.path_params["id"]
    server, volumes = await asyncio.gather(page.cloud.get("compute", f"/servers/{server_id}"),
                                           page.cloud.get("block-storage", "/volumes/detail", status="available"))
    return page.render("instance_attach_volume.html", title="Attach volume", server=server["server"],
                       volumes=sorted(volumes["volumes"], key=lambda v: v.get("name") or v["id"]))


@panel(back="/instances")
async def attach_volume(page: Page) -> Response:
    volume_id = page.form.get("volume_id")
    if not volume_id:
        raise ApiError(400, "Choose the volume to attach.")
    await page.cloud.post("compute", f"/servers/{page.request.path_params['id']}/os-volume_attachments",
                          {"volumeAttachment": {"volumeId": volume_id}})
    return page.done("Attaching the volume.", "/instances")


@panel(back="/instances")
async def detach_volume(page: Page) -> Response:
    await page.cloud.delete("compute", f"/servers/{page.request.path_params['id']}/os-volume_attachments/"
                                       f"{page.form.get('volume_id')}")
    return page.done("Detaching the volume.", "/instances")


@panel()
async def server_form(page: Page) -> Response:
    """The page of an action that needs a choice: a snapshot's name, a flavor to resize to, an image to
    rebuild from."""
    server_id, kind = page.request.path_params["id"], page.request.path_params["form"]
    if kind not in FORM_LABELS:
        raise ApiError(404, f"There is no instance form {kind}.")
    if kind == "floating-ip":
        return await _floating_ip_form(page, server_id)
    if kind == "interfaces":
        return await _interfaces_form(page, server_id)
    resizing, rebuilding = kind == "resize", kind == "rebuild"
    server, flavors, limits, images = await asyncio.gather(
        page.cloud.get("compute", f"/servers/{server_id}"),
        page.cloud.get("compute", "/flavors/detail") if resizing else asyncio.sleep(0, {}),
        page.cloud.get("compute", "/limits") if resizing else asyncio.sleep(0, {}),
        page.cloud.get("image", "/images", status="active", limit=1000) if rebuilding else asyncio.sleep(0, {}))
    ordered = sorted((flavors or {}).get("flavors", []), key=lambda f: (f["vcpus"], f["ram"]))
    room = quota_room(limits) if resizing else Room(None, None)
    return page.render("instance_form.html", title=FORM_LABELS[kind], kind=kind, labels=FORM_LABELS,
                       server=server["server"],
                       flavors=[(f, resize_refusal(server["server"], f, room)) for f in ordered],
                       images=sorted((images or {}).get("images", []), key=lambda i: i.get("name") or ""))


class Room(NamedTuple):
    """What the project's compute quota still allows; None where it is unlimited."""
    cores: int | None
    ram: int | None
    instances: int | None = None

    def holds(self, cores: int, ram: int, instances: int = 0) -> bool:
        return all(left is None or wanted <= left
                   for wanted, left in ((cores, self.cores), (ram, self.ram), (instances, self.instances)))

    def fits(self, flavor: dict, count: int = 1) -> bool:
        """Whether ``count`` new instances of ``flavor`` fit, as Nova counts a launch."""
        return self.holds(flavor["vcpus"] * count, flavor["ram"] * count, count)

    def as_json(self) -> str:
        """For the launch form's script, which greys flavors again when the count changes."""
        return json.dumps(self._asdict())


def _left(absolute: dict, limit: str, used: str) -> int | None:
    return absolute[limit] - absolute[used] if absolute[limit] >= 0 else None


def quota_room(limits: dict) -> Room:
    absolute = limits["limits"]["absolute"]
    return Room(_left(absolute, "maxTotalCores", "totalCoresUsed"), _left(absolute, "maxTotalRAMSize", "totalRAMUsed"),
                _left(absolute, "maxTotalInstances", "totalInstancesUsed")
                if "maxTotalInstances" in absolute else None)


def resize_refusal(server: dict, flavor: dict, room: Room) -> str | None:
    """Why Nova would refuse to resize ``server`` to ``flavor``, or None: the form offers such a flavor
    disabled, with the reason, rather than letting the request fail."""
    now = server["flavor"]
    if flavor["name"] == now["original_name"]:
        return "the current flavor"
    # Nova counts a resize against the quota by what it adds
    if not room.holds(flavor["vcpus"] - now["vcpus"], flavor["ram"] - now["ram"]):
        return "over quota"
    if not server.get("image"):  # volume-backed: its root disk is the volume, the flavor's disk does not bind
        return None
    if flavor["disk"] == 0 and now["disk"]:
        return "no root disk"
    if flavor["disk"] < now["disk"]:
        return "a smaller root disk"
    return None


async def _floating_ip_form(page: Page, server_id: str) -> Response:
    """The instance's ports, the floating IPs on them (to disassociate), and the free ones and external
    networks to associate one from."""
    server, ports, fips, networks = await asyncio.gather(
        page.cloud.get("compute", f"/servers/{server_id}"), page.cloud.get("network", "/ports", device_id=server_id),
        page.cloud.get("network", "/floatingips", project_id=page.project_id),
        page.cloud.get("network", "/networks", **{"router:external": "true"}))
    mine = {p["id"] for p in ports["ports"]}
    return page.render("instance_floating_ip.html", title="Floating IPs", server=server["server"],
                       ports=[{"id": p["id"], "ips": ", ".join(ip["ip_address"] for ip in p.get("fixed_ips", []))}
                              for p in ports["ports"]],
                       attached=[f for f in fips["floatingips"] if f.get("port_id") in mine],
                       free=[f for f in fips["floatingips"] if not f.get("port_id")],
                       pools=networks["networks"])


async def free_ports(cloud: Cloud, project_id: str) -> list[dict]:
    """The project's ports that no instance, router or DHCP server holds: an instance may take them."""
    found = (await cloud.get("network", "/ports", device_id="", project_id=project_id))["ports"]
    return sorted((p for p in found if not p.get("device_owner")), key=lambda p: p.get("name") or p["id"])


def port_label(port: dict, network_names: dict[str, str]) -> str:
    ips = ", ".join(ip["ip_address"] for ip in port.get("fixed_ips", []))
    net = network_names.get(port["network_id"], port["network_id"])
    return f"{port.get('name') or port['id'][:8]} — {net}{': ' + ips if ips else ''}"


async def _interfaces_form(page: Page, server_id: str) -> Response:
    """The instance's interfaces (to detach), and the networks and free ports to attach one from."""
    server, attached, networks, ports = await asyncio.gather(
        page.cloud.get("compute", f"/servers/{server_id}"), page.cloud.get("compute", f"/servers/{server_id}/os-interface"),
        page.cloud.get("network", "/networks"), free_ports(page.cloud, page.project_id))
    names = {n["id"]: n.get("name") or n["id"] for n in networks["networks"]}
    interfaces = [{"port_id": i["port_id"], "network": names.get(i["net_id"], i["net_id"]), "mac": i.get("mac_addr", ""),
                   "ips": ", ".join(ip["ip_address"] for ip in i.get("fixed_ips", [])), "state": i.get("port_state", ""),
                   "status_class": status_class(i.get("port_state"))} for i in attached["interfaceAttachments"]]
    return page.render("instance_interfaces.html", title="Interfaces", server=server["server"], interfaces=interfaces,
                       networks=[n for n in networks["networks"] if not n.get("router:external")],
                       ports=[{"id": p["id"], "label": port_label(p, names)} for p in ports])


async def _interfaces_post(page: Page, server_id: str) -> Response:
    form = page.form
    path = f"/servers/{server_id}/os-interface"
    if form.get("detach"):
        await page.cloud.delete("compute", f"{path}/{form.get('detach')}")
        return page.done("Detaching the interface.", f"/instances/{server_id}/do/interfaces")
    if form.get("port"):
        body = {"port_id": form.get("port")}
    elif form.get("network"):
        body = {"net_id": form.get("network")}
        if form.get("fixed_ip"):
            body["fixed_ips"] = [{"ip_address": form.get("fixed_ip")}]
    else:
        raise ApiError(400, "Choose a network or a port to attach.")
    attached = (await page.cloud.post("compute", path, {"interfaceAttachment": body}))["interfaceAttachment"]
    ips = ", ".join(ip["ip_address"] for ip in attached.get("fixed_ips", []))
    return page.done(f"Interface attached{': ' + ips if ips else ''}.", f"/instances/{server_id}/do/interfaces")


async def _floating_ip_post(page: Page, server_id: str) -> Response:
    form = page.form
    if form.get("disassociate"):
        await page.cloud.put("network", f"/floatingips/{form.get('disassociate')}", {"floatingip": {"port_id": None}})
        return page.done("Floating IP disassociated.", "/instances")
    port, choice = form.get("port"), form.get("floating_ip")
    if not port or not choice:
        raise ApiError(400, "Choose the port and a floating IP (or a pool to allocate one from).")
    kind, _, ident = choice.partition(":")
    if kind == "pool":
        fip = (await page.cloud.post("network", "/floatingips", {"floatingip": {
            "floating_network_id": ident, "port_id": port}}))["floatingip"]
    else:
        fip = (await page.cloud.put("network", f"/floatingips/{ident}", {"floatingip": {"port_id": port}}))["floatingip"]
    return page.done(f"Floating IP {fip['floating_ip_address']} associated.", "/instances")


@panel(back="/instances")
async def server_form_post(page: Page) -> Response:
    server_id, kind, form = page.request.path_params["id"], page.request.path_params["form"], page.form
    if kind == "snapshot":
        if not form.get("name"):
            raise ApiError(400, "The snapshot needs a name.")
        await page.cloud.post("compute", f"/servers/{server_id}/action", {"createImage": {"name": form.get("name")}})
        return page.done(f"Snapshot {form.get('name')} requested: it shows in Images.", "/instances")
    if kind == "resize":
        await page.cloud.post("compute", f"/servers/{server_id}/action", {"resize": {"flavorRef": form.get("flavor")}})
        return page.done("Resizing: confirm or revert it from the row once it waits for you.", "/instances")
    if kind == "rebuild":
        await page.cloud.post("compute", f"/servers/{server_id}/action", {"rebuild": {"imageRef": form.get("image")}})
        return page.done("Rebuilding the instance.", "/instances")
    if kind == "floating-ip":
        return await _floating_ip_post(page, server_id)
    if kind == "interfaces":
        return await _interfaces_post(page, server_id)
    raise ApiError(404, f"There is no instance form {kind}.")


@panel()
async def console_log(page: Page) -> Response:
    server_id = page.request.path_params["id"]
    server, output = await asyncio.gather(
        page.cloud.get("compute", f"/servers/{server_id}"),
        page.cloud.post("compute", f"/servers/{server_id}/action", {"os-getConsoleOutput": {"length": 200}}))
    return page.render("console_log.html", title="Console log", server=server["server"],
                       output=(output or {}).get("output", ""))


async def _launch_choices(cloud: Cloud, project_id: str) -> dict:
    images, flavors, networks, groups, keypairs, limits, server_groups, (volumes, snapshots), ports = await asyncio.gather(
        cloud.get("image", "/images", status="active", limit=1000),
        cloud.get("compute", "/flavors/detail"),
        cloud.get("network", "/networks"),
        cloud.get("network", "/security-groups", project_id=project_id),
        cloud.get("compute", "/os-keypairs"),
        cloud.get("compute", "/limits"),
        cloud.get("compute", "/os-server-groups"),
        _boot_volumes(cloud), free_ports(cloud, project_id))
    room = quota_room(limits)
    flavor_rows = [{**f, "fits": room.fits(f)}
                   for f in sorted(flavors["flavors"], key=lambda f: (f["vcpus"], f["ram"], f["name"]))]
    return {
        "images": launch_images(images["images"]), "flavors": flavor_rows,
        "networks": [n for n in networks["networks"] if not n.get("router:external")],
        "groups": groups["security_groups"], "keypairs": [k["keypair"] for k in keypairs["keypairs"]],
        "volumes": volumes, "snapshots": snapshots, "has_volumes": cloud.has("block-storage"),
        "server_groups": server_groups["server_groups"], "room": room.as_json(),
        "ports": [{"id": p["id"], "label": port_label(p, {n["id"]: n.get("name") or n["id"] for n in networks["networks"]})}
                  for p in ports],
    }


def launch_images(images: list[dict]) -> list[dict]:
    """The images to boot from, by name, with what they are: Nova's instance snapshots (``image_type``
    ``snapshot``; ``backup`` for its scheduled backups) apart from the images, as Horizon's boot sources."""
    kinds = {"snapshot": "Instance snapshots", "backup": "Instance backups"}
    return sorted(({**i, "source_kind": kinds.get(i.get("image_type") or "", "Images")} for i in images),
                  key=lambda i: (i["source_kind"] != "Images", i["source_kind"], i.get("name") or ""))


async def _boot_volumes(cloud: Cloud) -> tuple[list[dict], list[dict]]:
    """The project's available volumes and volume snapshots to boot from (none when the cloud has no
    Block Storage)."""
    if not cloud.has("block-storage"):
        return [], []
    volumes, snapshots = await asyncio.gather(cloud.get("block-storage", "/volumes/detail", status="available"),
                                              cloud.get("block-storage", "/snapshots", status="available"))
    return (sorted(volumes["volumes"], key=lambda v: v.get("name") or v["id"]),
            sorted(snapshots["snapshots"], key=lambda s: s.get("name") or s["id"]))


def boot_source(form) -> dict:
    """What the form boots from, as the server body's ``imageRef`` or ``block_device_mapping_v2``: an image
    (on the host's disk, or copied into a new volume), a volume, or a new volume from a volume snapshot."""
    image, kind, _, volume_source = form.get("image"), *form.get("boot_volume").partition(":")
    delete_on_termination = bool(form.get("delete_on_termination"))
    if volume_source:
        if image:
            raise ApiError(400, "Boot from an image or from a volume, not both.")
        if kind not in ("volume", "snapshot"):
            raise ApiError(400, "Choose a volume or a volume snapshot to boot from.")
        mapping = {"boot_index": 0, "uuid": volume_source, "source_type": kind, "destination_type": "volume",
                   "delete_on_termination": delete_on_termination}
        return {"block_device_mapping_v2": [mapping]}
    if not image:
        raise ApiError(400, "Choose an image, a volume or a volume snapshot to boot from.")
    if form.get("new_volume"):
        size = form.int("volume_size")
        if not size or size < 1:
            raise ApiError(400, "A new volume needs a size in GB.")
        return {"block_device_mapping_v2": [{
            "boot_index": 0, "uuid": image, "source_type": "image", "destination_type": "volume",
            "volume_size": size, "delete_on_termination": delete_on_termination}]}
    return {"imageRef": image}


@panel()
async def launch_form(page: Page) -> Response:
    choices = await _launch_choices(page.cloud, page.project_id)
    return page.render("launch.html", title="Launch instance", chosen_image=page.request.query_params.get("image", ""),
                       chosen_network=page.request.query_params.get("network", ""),
                       chosen_port=page.request.query_params.get("port", ""),
                       chosen_volume=f"volume:{page.request.query_params['volume']}"
                       if page.request.query_params.get("volume") else "", **choices)


@panel(back="/instances/launch")
async def launch(page: Page) -> Response:
    form = page.form
    server: dict = {"name": form.get("name"), "flavorRef": form.get("flavor"),
                    "min_count": form.int("count", 1), "max_count": form.int("count", 1)}
    server.update(boot_source(form))
    networks = [{"uuid": n} for n in form.getlist("network")] + [{"port": p} for p in form.getlist("port")]
    server["networks"] = networks or "none"
    groups = form.getlist("security_group")
    if groups:
        server["security_groups"] = [{"name": g} for g in groups]
    if form.get("new_key_name"):
        # a key pair made in place: the launch then uses it (a generated one's private key waits for download)
        server["key_name"] = await create_keypair(page, form.get("new_key_name"), form.get("new_public_key"))
    elif form.get("key_name"):
        server["key_name"] = form.get("key_name")
    user_data = form.get("user_data").encode()
    if form.files.get("user_data_file"):
        user_data = await form.files["user_data_file"].read(MAX_USER_DATA + 1)
    if len(user_data) > MAX_USER_DATA:
        raise ApiError(400, f"User data is limited to {MAX_USER_DATA} bytes (65535 once base64-encoded).")
    if user_data:
        server["user_data"] = base64.b64encode(user_data).decode()
    metadata = form.key_values("metadata")
    if metadata:
        server["metadata"] = metadata
    if form.get("config_drive"):
        server["config_drive"] = True
    if not server["name"] or not server["flavorRef"]:
        raise ApiError(400, "An instance needs a name and a flavor.")
    body: dict = {"server": server}
    if form.get("server_group"):
        body["os:scheduler_hints"] = {"group": form.get("server_group")}
    await page.cloud.post("compute", "/servers", body)
    return page.done(f"Launching {server['name']}.", "/instances")


def routes() -> list[Route]:
    return [Route("/instances", instances, methods=["GET"]), Route("/instances", launch, methods=["POST"]),
            Route("/instances/rows", instance_rows, methods=["GET"]),
            Route("/instances/launch", launch_form, methods=["GET"]),
            Route("/instances/{id}/console", console_log, methods=["GET"]),
            Route("/instances/{id}/attach-volume", attach_volume_form, methods=["GET"]),
            Route("/instances/{id}/attach-volume", attach_volume, methods=["POST"]),
            Route("/instances/{id}/detach-volume", detach_volume, methods=["POST"]),
            Route("/instances/{id}/do/{form}", server_form, methods=["GET"]),
            Route("/instances/{id}/do/{form}", server_form_post, methods=["POST"]),
            Route("/instances/{id}/{action}", instance_action, methods=["POST"])]
