"""/servers: create, list, show, update, delete."""

from __future__ import annotations

import secrets

from onestack.http.listing import page_links
from onestack.http.microversion import at_least
from onestack.http.resource import summary_and_detail
from onestack.http.routing import Call, Reply, route
from onestack.services.compute import responses, schemas, views
from onestack.services.compute.models import Instance
from onestack.services.compute.service import ComputeService, server_listing


def compute(call: Call) -> ComputeService:
    return call.runtime.compute


def request_id(call: Call) -> str:
    return call.request.scope.get("onestack.request_id", "")


def render(call: Call, instances: list[Instance], detail: bool = True, single: bool = False) -> list[dict]:
    svc = compute(call)
    ids = [i.id for i in instances]
    addresses, groups = svc.networking.addresses_and_groups(ids) if detail else (svc.networking.addresses(ids), {})
    statuses = _host_statuses(call, instances) if detail else {}
    volumes = svc.volume_attachments.rows(ids) if detail else {}
    return [views.server(i, call.ctx, call.url, call.version, addresses[i.id], detail=detail, single=single,
                         host_status=statuses.get(i.host), groups=groups.get(i.id, []),
                         volumes=volumes.get(i.id)) for i in instances]


def _host_statuses(call: Call, instances: list[Instance]) -> dict[str, str]:
    """host -> Nova's host_status, for the admins who see it (from 2.16)."""
    if not (call.ctx.is_admin and at_least(call.version, "2.16")):
        return {}
    found = compute(call).host_records.host_states({i.host for i in instances if i.host})
    return {name: views.host_status(row, running) for name, (row, running) in found.items()}


def full_reply(call: Call) -> bool:
    """Update and rebuild answer with the whole server from 2.75, with its basic view before."""
    return at_least(call.version, "2.75")


def create_server(call: Call) -> Reply:
    body = call.body
    server = dict(body["server"])
    for key in ("min_count", "max_count"):
        if key in server:
            server[key] = int(server[key])
    hints = body.get("os:scheduler_hints") or body.get("OS-SCH-HNT:scheduler_hints") or {}
    made = compute(call).servers.create(call.ctx, server, hints, request_id(call))
    if str(server.get("return_reservation_id", "")).lower() in ("true", "1"):
        return Reply({"reservation_id": made[0].reservation_id}, 202)
    first = made[0]
    # Nova answers with the groups as asked (its ports are not made yet): an empty list stays empty
    asked = server.get("security_groups")
    reply = {"id": first.id, "links": views.links(call.url, "servers", first.id), "OS-DCF:diskConfig": views.disk_config(first),
             "security_groups": [{"name": g["name"]} for g in asked] if asked is not None else [{"name": "default"}],
             "adminPass": server.get("adminPass") or secrets.token_urlsafe(9)}
    return Reply({"server": reply}, 202, {"Location": call.url(f"/v2.1/servers/{first.id}")})


def _list(call: Call, detail: bool) -> dict:
    shown, next_marker = compute(call).listing.page(call.ctx, call.query, call.version)
    path = "/v2.1/servers/detail" if detail else "/v2.1/servers"
    return {"servers": render(call, shown, detail) if detail else [views.brief(i, call.url) for i in shown],
            **page_links("servers", call.url, path, call.query, next_marker or None)}


def show_server(call: Call) -> dict:
    instance = compute(call).servers.show(call.ctx, call.path["server_id"], "os_compute_api:servers:show")
    return {"server": render(call, [instance], single=True)[0]}


def update_server(call: Call) -> dict:
    instance = compute(call).servers.update(call.ctx, call.path["server_id"], call.body["server"])
    return {"server": render(call, [instance], detail=full_reply(call), single=True)[0]}


def delete_server(call: Call) -> Reply:
    compute(call).servers.delete(call.ctx, call.path["server_id"], request_id(call))
    return Reply(status=204)


ROUTES = [
    route("/v2.1/servers", "POST", create_server, schema=schemas.SERVER_CREATE, status=202,
          response=responses.SERVER_CREATED),
    *summary_and_detail("/v2.1/servers", _list, server_listing.QUERY,
                        (responses.SERVERS, responses.SERVERS_DETAIL)),
    route("/v2.1/servers/{server_id}", "GET", show_server, response=responses.SERVER),
    route("/v2.1/servers/{server_id}", "PUT", update_server, schema=schemas.SERVER_UPDATE,
          response=responses.SERVER),
    route("/v2.1/servers/{server_id}", "DELETE", delete_server),
]
