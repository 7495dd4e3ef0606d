"""API access: the current project's service endpoints, and a ``clouds.yaml`` and an ``openrc`` for it
(never with the password: ``openrc`` asks for it, ``clouds.yaml`` says where it goes)."""

from __future__ import annotations

import shlex

import yaml
from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import ApiError
from onestack.dashboard.web import Page, panel


def _endpoints(page: Page) -> list[dict]:
    rows = []
    for service in page.session.catalog:
        for endpoint in service.get("endpoints", []):
            if endpoint.get("interface") == "public":
                rows.append({"type": service.get("type", ""), "name": service.get("name", ""),
                             "url": endpoint.get("url", ""), "region": endpoint.get("region_id") or
                             endpoint.get("region") or ""})
    return sorted(rows, key=lambda r: r["type"])


def _settings(page: Page) -> dict:
    """What both files say: the cloud's own public identity URL (as its catalog gives it) and who, where."""
    if not page.session.project:
        raise ApiError(400, "Choose a project first: the files are for the current project.")
    identity = next((e for e in _endpoints(page) if e["type"] == "identity"), None)
    auth_url = identity["url"] if identity else page.dash.config.auth_url
    if not auth_url.rstrip("/").endswith("/v3"):
        auth_url = auth_url.rstrip("/") + "/v3"
    return {"auth_url": auth_url, "username": page.session.user["name"],
            "user_domain_name": page.session.user.get("domain") or "Default",
            "project_id": page.session.project["id"], "project_name": page.session.project["name"],
            "region": identity["region"] if identity else ""}


def _attachment(text: str, filename: str, media_type: str) -> Response:
    return Response(text, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


def _file_stem(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "project"


@panel()
async def api_access(page: Page) -> Response:
    return page.render("api_access.html", title="API access", endpoints=_endpoints(page), settings=_settings(page))


@panel()
async def clouds_yaml(page: Page) -> Response:
    s = _settings(page)
    cloud = {"auth": {"auth_url": s["auth_url"], "username": s["username"], "user_domain_name": s["user_domain_name"],
                      "project_id": s["project_id"], "project_name": s["project_name"]},
             "interface": "public", "identity_api_version": 3}
    if s["region"]:
        cloud["region_name"] = s["region"]
    text = ("# clouds.yaml for the onestack dashboard's current project.  Put it in ~/.config/openstack/ and use\n"
            f"# `openstack --os-cloud {s['project_name']} ...`; add `password:` under `auth:` (or to a secure.yaml)\n"
            "# or let the client ask for it.\n")
    text += yaml.safe_dump({"clouds": {s["project_name"]: cloud}}, default_flow_style=False, sort_keys=False)
    return _attachment(text, "clouds.yaml", "application/x-yaml")


@panel()
async def openrc(page: Page) -> Response:
    s = _settings(page)
    q = shlex.quote
    lines = ["#!/usr/bin/env bash",
             f"# Source this file to use project {s['project_name']} as {s['username']} from a shell: it asks",
             "# for the password and keeps it in this shell only.",
             *(f"unset {name}" for name in ("OS_TENANT_ID", "OS_TENANT_NAME", "OS_CLOUD", "OS_TOKEN")),
             f"export OS_AUTH_URL={q(s['auth_url'])}",
             "export OS_AUTH_TYPE=password",
             "export OS_IDENTITY_API_VERSION=3",
             "export OS_INTERFACE=public",
             f"export OS_PROJECT_ID={q(s['project_id'])}",
             f"export OS_PROJECT_NAME={q(s['project_name'])}",
             f"export OS_USER_DOMAIN_NAME={q(s['user_domain_name'])}",
             f"export OS_USERNAME={q(s['username'])}"]
    if s["region"]:
        lines.append(f"export OS_REGION_NAME={q(s['region'])}")
    lines += ['echo "Please enter your OpenStack password for project $OS_PROJECT_NAME as user $OS_USERNAME: "',
              "read -sr OS_PASSWORD_INPUT",
              'export OS_PASSWORD="$OS_PASSWORD_INPUT"',
              "unset OS_PASSWORD_INPUT", ""]
    return _attachment("\n".join(lines), f"{_file_stem(s['project_name'])}-openrc.sh", "text/plain")


def routes() -> list[Route]:
    return [Route("/api-access", api_access, methods=["GET"]),
            Route("/api-access/clouds.yaml", clouds_yaml, methods=["GET"]),
            Route("/api-access/openrc", openrc, methods=["GET"])]
