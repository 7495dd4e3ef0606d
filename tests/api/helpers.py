"""Small builders for API tests: every test makes its own uniquely named resources."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx


def name(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def ok(resp: httpx.Response, status: int = 200) -> dict:
    assert resp.status_code == status, f"{resp.request.method} {resp.request.url} -> {resp.status_code}: {resp.text}"
    return resp.json() if resp.content else {}


def make_project(admin: httpx.Client, **extra) -> dict:
    return ok(admin.post("/projects", json={"project": {"name": name("p"), **extra}}), 201)["project"]


def make_user(admin: httpx.Client, password: str = "secret-pass-1", **extra) -> dict:
    return ok(admin.post("/users", json={"user": {"name": name("u"), "password": password, **extra}}), 201)["user"]


def role_id(admin: httpx.Client, role: str) -> str:
    return ok(admin.get("/roles", params={"name": role}))["roles"][0]["id"]


def grant(admin: httpx.Client, project_id: str, user_id: str, role: str = "member") -> None:
    ok(admin.put(f"/projects/{project_id}/users/{user_id}/roles/{role_id(admin, role)}"), 204)


def network_access(cloud, token: str) -> tuple[int, int]:
    """What ``token`` may really do in its project, asked of another service than the one that granted it:
    the statuses of listing networks and of creating one (a member's (200, 201), a reader's (200, 403), a
    token that no longer counts (401, 401))."""
    with httpx.Client(base_url=f"{cloud.url}/network/v2.0", headers={"X-Auth-Token": token}, timeout=60) as neutron:
        listed = neutron.get("/networks").status_code
        made = neutron.post("/networks", json={"network": {"name": name("access")}}).status_code
    return listed, made


def member_of_new_project(cloud, admin: httpx.Client, role: str = "member") -> tuple[dict, dict, str]:
    """A fresh project and user holding ``role`` on it, and a token scoped to it."""
    project = make_project(admin)
    user = make_user(admin)
    grant(admin, project["id"], user["id"], role)
    token = cloud.token(user["name"], "secret-pass-1", project["name"])
    return project, user, token


def nova(cloud, token: str | None = None, version: str | None = None) -> httpx.Client:
    """A client for the compute API as the admin project (or ``token``'s caller), at ``version`` if given."""
    headers = {"X-Auth-Token": token or cloud.token()}
    if version:
        headers["OpenStack-API-Version"] = f"compute {version}"
    return httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers=headers, timeout=60)


def nova_error(resp: httpx.Response, status: int) -> str:
    """The message of Nova's fault body, after checking its status and shape."""
    assert resp.status_code == status, f"{resp.status_code}: {resp.text}"
    (fault,) = resp.json().values()
    assert fault["code"] == status
    return fault["message"]


def wait(predicate, seconds: float, what: str, every: float = 0.2):
    """``predicate()``'s first truthy answer within ``seconds``; AssertionError naming ``what`` otherwise."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def upload_image(http: httpx.Client, path: Path | None = None, image_name: str = "onestack-tiny") -> dict:
    """An image made and uploaded through Glance (``http`` based at the cloud's root): the qcow2 file at
    ``path``, or without one 4 KiB of raw zeros (all the fake driver needs)."""
    image = ok(http.post("/image/v2/images", json={"name": image_name, "disk_format": "qcow2" if path else "raw",
                                                    "container_format": "bare"}), 201)
    ok(http.put(f"/image/v2/images/{image['id']}/file", content=path.read_bytes() if path else b"\0" * 4096,
                headers={"Content-Type": "application/octet-stream"}), 204)
    return image


def console_output(nova: httpx.Client, server_id: str, prefix: str = "") -> str:
    """The server's console log (``os-getConsoleOutput``); "" while its guest does not run yet (409), as
    between its port being made and QEMU starting."""
    resp = nova.post(f"{prefix}/servers/{server_id}/action", json={"os-getConsoleOutput": {}})
    if resp.status_code == 409:
        return ""
    return ok(resp)["output"]
