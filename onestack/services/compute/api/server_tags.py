"""/servers/{id}/tags (2.26): a server's tags, listed, replaced, checked, added, removed.

Tags are strings of 1 to 60 characters without '/' or ',', at most 50 per server; they change only
while the server is in a settled state, as Nova allows."""

from __future__ import annotations

from onestack.http.errors import NotFound
from onestack.http.microversion import at_least
from onestack.http.routing import Call, Reply, route
from onestack.services.compute import schemas
from onestack.services.compute.api.servers import compute


def _require_version(call: Call) -> None:
    if not at_least(call.version, "2.26"):
        raise NotFound("The resource could not be found.")


def _read(call: Call, policy: str) -> list[str]:
    _require_version(call)
    return compute(call).details.tags(call.ctx, call.path["server_id"], policy)


def _change(call: Call, policy: str, change, adding: str | None = None) -> list[str]:
    _require_version(call)
    return compute(call).details.change_tags(call.ctx, call.path["server_id"], policy, change, adding)


def list_tags(call: Call) -> dict:
    return {"tags": _read(call, "os_compute_api:os-server-tags:index")}


def replace_tags(call: Call) -> dict:
    new = call.body["tags"]
    _change(call, "os_compute_api:os-server-tags:update_all", lambda _: new)
    return {"tags": list(dict.fromkeys(new))}


def delete_tags(call: Call) -> Reply:
    _change(call, "os_compute_api:os-server-tags:delete_all", lambda _: [])
    return Reply(status=204)


def check_tag(call: Call) -> Reply:
    if call.path["tag"] not in _read(call, "os_compute_api:os-server-tags:show"):
        raise NotFound(f"Tag {call.path['tag']} could not be found.")
    return Reply(status=204)


def add_tag(call: Call) -> Reply:
    tag = call.path["tag"]
    before = _change(call, "os_compute_api:os-server-tags:update", lambda tags: [*tags, tag], adding=tag)
    if tag in before:
        return Reply(status=204)
    return Reply(None, 201, {"Location": call.url(f"/v2.1/servers/{call.path['server_id']}/tags/{tag}")})


def delete_tag(call: Call) -> Reply:
    tag = call.path["tag"]
    before = _change(call, "os_compute_api:os-server-tags:delete", lambda tags: [t for t in tags if t != tag])
    if tag not in before:
        raise NotFound(f"Tag {tag} could not be found.")
    return Reply(status=204)


ROUTES = [
    route("/v2.1/servers/{server_id}/tags", "GET", list_tags),
    route("/v2.1/servers/{server_id}/tags", "PUT", replace_tags, schema=schemas.SERVER_TAGS),
    route("/v2.1/servers/{server_id}/tags", "DELETE", delete_tags, status=204),
    route("/v2.1/servers/{server_id}/tags/{tag}", "GET", check_tag, status=204),
    route("/v2.1/servers/{server_id}/tags/{tag}", "PUT", add_tag, status=201),
    route("/v2.1/servers/{server_id}/tags/{tag}", "DELETE", delete_tag, status=204),
]
