"""Security groups and their rules, with templates for the usual rules (SSH, HTTP, HTTPS, ICMP)."""

from __future__ import annotations

import asyncio
import json

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import ApiError
from onestack.dashboard.web import Form, Page, panel

# A template fixes protocol and ports; "custom" takes them from the form.
TEMPLATES: dict[str, dict] = {
    "ssh": {"label": "SSH", "protocol": "tcp", "port_range_min": 22, "port_range_max": 22},
    "http": {"label": "HTTP", "protocol": "tcp", "port_range_min": 80, "port_range_max": 80},
    "https": {"label": "HTTPS", "protocol": "tcp", "port_range_min": 443, "port_range_max": 443},
    "icmp": {"label": "All ICMP", "protocol": "icmp", "port_range_min": "", "port_range_max": ""},
    "all-tcp": {"label": "All TCP", "protocol": "tcp", "port_range_min": 1, "port_range_max": 65535},
    "all-udp": {"label": "All UDP", "protocol": "udp", "port_range_min": 1, "port_range_max": 65535},
    "custom": {"label": "Custom rule"},
}


def template_options() -> list[dict]:
    return [{"key": key, "label": t["label"],
             "values": json.dumps({k: v for k, v in t.items() if k != "label"})} for key, t in TEMPLATES.items()]


def rule_body(form: Form, group_id: str) -> dict:
    template = TEMPLATES.get(form.get("template") or "custom")
    if template is None:
        raise ApiError(400, "There is no such rule template.")
    chosen = template if "protocol" in template else {
        "protocol": form.get("protocol"), "port_range_min": form.get("port_range_min"),
        "port_range_max": form.get("port_range_max") or form.get("port_range_min")}
    remote = form.get("remote_ip_prefix")
    body = {"security_group_id": group_id, "direction": form.get("direction") or "ingress",
            "ethertype": "IPv6" if ":" in remote else form.get("ethertype") or "IPv4"}
    if chosen["protocol"] and chosen["protocol"] != "any":
        body["protocol"] = chosen["protocol"]
    for field in ("port_range_min", "port_range_max"):
        if str(chosen[field]).strip():
            try:
                body[field] = int(chosen[field])
            except ValueError:
                raise ApiError(400, "Ports are whole numbers.") from None
    if form.get("remote_group"):
        body["remote_group_id"] = form.get("remote_group")
    elif remote:
        body["remote_ip_prefix"] = remote
    return body


@panel()
async def security_groups(page: Page) -> Response:
    found = (await page.cloud.get("network", "/security-groups", project_id=page.project_id))["security_groups"]
    return page.render("security_groups.html", title="Security groups",
                       rows=sorted(found, key=lambda g: g.get("name") or ""))


@panel(back="/security-groups")
async def create_group(page: Page) -> Response:
    group = (await page.cloud.post("network", "/security-groups", {"security_group": {
        "name": page.form.get("name"), "description": page.form.get("description")}}))["security_group"]
    return page.done(f"Security group {group['name']} created.", f"/security-groups/{group['id']}")


@panel()
async def group_detail(page: Page) -> Response:
    group_id = page.request.path_params["id"]
    group, groups = await asyncio.gather(
        page.cloud.get("network", f"/security-groups/{group_id}"),
        page.cloud.get("network", "/security-groups", project_id=page.project_id))
    names = {g["id"]: g["name"] for g in groups["security_groups"]}
    rules = sorted(group["security_group"].get("security_group_rules", []),
                   key=lambda r: (r["direction"], r["ethertype"], r.get("protocol") or "", r.get("port_range_min") or 0))
    return page.render("security_group.html", title="Security group", group=group["security_group"], rules=rules,
                       names=names, templates=template_options(), groups=groups["security_groups"])


@panel(back="/security-groups")
async def add_rule(page: Page) -> Response:
    group_id = page.request.path_params["id"]
    await page.cloud.post("network", "/security-group-rules", {"security_group_rule": rule_body(page.form, group_id)})
    return page.done("Rule added.", f"/security-groups/{group_id}")


@panel(back="/security-groups")
async def delete_rule(page: Page) -> Response:
    await page.cloud.delete("network", f"/security-group-rules/{page.request.path_params['rule']}")
    return page.done("Rule deleted.", f"/security-groups/{page.request.path_params['id']}")


@panel(back="/security-groups")
async def delete_group(page: Page) -> Response:
    await page.cloud.delete("network", f"/security-groups/{page.request.path_params['id']}")
    return page.done("Security group deleted.", "/security-groups")


def routes() -> list[Route]:
    return [Route("/security-groups", security_groups, methods=["GET"]),
            Route("/security-groups", create_group, methods=["POST"]),
            Route("/security-groups/{id}", group_detail, methods=["GET"]),
            Route("/security-groups/{id}/rules", add_rule, methods=["POST"]),
            Route("/security-groups/{id}/rules/{rule}/delete", delete_rule, methods=["POST"]),
            Route("/security-groups/{id}/delete", delete_group, methods=["POST"])]
