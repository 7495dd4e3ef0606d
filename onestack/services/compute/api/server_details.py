"""What hangs off a server: its metadata, its addresses, and the record of actions taken on it."""

from __future__ import annotations

from sqlalchemy import select

from onestack.http.errors import BadRequest, NotFound
from onestack.http.routing import Call, Reply, route
from onestack.services.compute import schemas
from onestack.services.compute.api.servers import compute
from onestack.services.compute.models import InstanceAction, InstanceActionEvent
from onestack.services.compute.service.servers import authorize
from onestack.services.compute.views import zulu as stamp


def _server(session, call: Call, write: bool):
    svc = compute(call)
    instance = svc.servers.get(session, call.ctx, call.path["server_id"])
    authorize(call.ctx, "os_compute_api:server-metadata:update" if write else "os_compute_api:server-metadata:index", instance)
    if write:
        svc.servers.check_lock(call.ctx, instance)
    return instance


def _change_metadata(call: Call, change) -> dict:
    svc = compute(call)
    with svc.db.write() as session:
        instance = _server(session, call, write=True)
        changed = change(dict(instance.metadata_ or {}))
        svc.check_metadata_quota(session, instance.project_id, changed)
        instance.metadata_ = changed
        return instance.metadata_


def list_metadata(call: Call) -> dict:
    with compute(call).db.read() as session:
        return {"metadata": _server(session, call, write=False).metadata_}


def replace_metadata(call: Call) -> dict:
    return {"metadata": _change_metadata(call, lambda _: call.body["metadata"])}


def merge_metadata(call: Call) -> dict:
    return {"metadata": _change_metadata(call, lambda m: {**m, **call.body["metadata"]})}


def show_item(call: Call) -> dict:
    key = call.path["key"]
    with compute(call).db.read() as session:
        metadata = _server(session, call, write=False).metadata_
    if key not in metadata:
        raise NotFound("Metadata item was not found")
    return {"meta": {key: metadata[key]}}


def set_item(call: Call) -> dict:
    key = call.path["key"]
    meta = call.body["meta"]
    if list(meta) != [key]:
        raise BadRequest("Request body and URI mismatch")
    _change_metadata(call, lambda m: {**m, **meta})
    return {"meta": meta}


def delete_item(call: Call) -> Reply:
    key = call.path["key"]

    def remove(metadata: dict) -> dict:
        if key not in metadata:
            raise NotFound("Metadata item was not found")
        return {k: v for k, v in metadata.items() if k != key}

    _change_metadata(call, remove)
    return Reply(status=204)


def list_ips(call: Call) -> dict:
    svc = compute(call)
    with svc.db.read() as session:
        instance = svc.servers.get(session, call.ctx, call.path["server_id"])
        authorize(call.ctx, "os_compute_api:ips:index", instance)
    return {"addresses": _plain(svc.networking.addresses([instance.id])[instance.id])}


def show_ips(call: Call) -> dict:
    found = list_ips(call)["addresses"]
    network = call.path["network"]
    if network not in found:
        raise NotFound("Instance is not a member of specified network")
    return {network: found[network]}


def _plain(addresses: dict) -> dict:
    """/ips shows only version and address, not the extended attributes of the server body."""
    return {net: [{"version": a["version"], "addr": a["addr"]} for a in entries] for net, entries in addresses.items()}


def _action_view(action: InstanceAction, events: list[InstanceActionEvent] | None = None) -> dict:
    body = {"action": action.action, "instance_uuid": action.instance_uuid, "request_id": action.request_id,
            "user_id": action.user_id, "project_id": action.project_id, "start_time": stamp(action.start_time),
            "message": action.message}
    if events is not None:
        body["events"] = [{"event": e.event, "start_time": stamp(e.start_time),
                           "finish_time": stamp(e.finish_time), "result": e.result, "traceback": e.traceback}
                          for e in events]
    return body


def list_actions(call: Call) -> dict:
    svc = compute(call)
    with svc.db.read() as session:
        instance = svc.servers.get(session, call.ctx, call.path["server_id"], deleted_ok=True)
        authorize(call.ctx, "os_compute_api:os-instance-actions:list", instance)
        actions = session.scalars(select(InstanceAction).where(InstanceAction.instance_uuid == instance.id)
                                  .order_by(InstanceAction.id.desc()))
        return {"instanceActions": [_action_view(a) for a in actions]}


def show_action(call: Call) -> dict:
    svc = compute(call)
    with svc.db.read() as session:
        instance = svc.servers.get(session, call.ctx, call.path["server_id"], deleted_ok=True)
        authorize(call.ctx, "os_compute_api:os-instance-actions:list", instance)
        action = session.scalars(select(InstanceAction).where(
            InstanceAction.instance_uuid == instance.id, InstanceAction.request_id == call.path["request_id"])).first()
        if action is None:
            raise NotFound(f"Action for request_id {call.path['request_id']} on instance {instance.id} not found")
        events = list(session.scalars(select(InstanceActionEvent).where(InstanceActionEvent.action_id == action.id)))
        if not call.ctx.is_admin:
            for event in events:
                event.traceback = None
        return {"instanceAction": _action_view(action, events)}


ROUTES = [
    route("/v2.1/servers/{server_id}/metadata", "GET", list_metadata),
    route("/v2.1/servers/{server_id}/metadata", "PUT", replace_metadata, schema=schemas.metadata_all),
    route("/v2.1/servers/{server_id}/metadata", "POST", merge_metadata, schema=schemas.metadata_all),
    route("/v2.1/servers/{server_id}/metadata/{key}", "GET", show_item),
    route("/v2.1/servers/{server_id}/metadata/{key}", "PUT", set_item, schema=schemas.metadata_item),
    route("/v2.1/servers/{server_id}/metadata/{key}", "DELETE", delete_item),
    route("/v2.1/servers/{server_id}/ips", "GET", list_ips),
    route("/v2.1/servers/{server_id}/ips/{network}", "GET", show_ips),
    route("/v2.1/servers/{server_id}/os-instance-actions", "GET", list_actions),
    route("/v2.1/servers/{server_id}/os-instance-actions/{request_id}", "GET", show_action),
]
