"""What hangs off a server: its metadata, its addresses, and the record of actions taken on it."""

from __future__ import annotations

from onestack.http.errors import BadRequest, NotFound
from onestack.http.routing import Call, Reply, route
from onestack.services.compute import schemas, views
from onestack.services.compute.api.servers import compute


def _change_metadata(call: Call, change) -> dict:
    return compute(call).details.change_metadata(call.ctx, call.path["server_id"], change)


def list_metadata(call: Call) -> dict:
    return {"metadata": compute(call).details.metadata(call.ctx, call.path["server_id"])}


def replace_metadata(call: Call) -> dict:
    return {"metadata": _change_metadata(call, lambda _: call.body["metadata"])}


def merge_metadata(call: Call) -> dict:
    return {"metadata": _change_metadata(call, lambda m: {**m, **call.body["metadata"]})}


def show_item(call: Call) -> dict:
    key = call.path["key"]
    metadata = compute(call).details.metadata(call.ctx, call.path["server_id"])
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
    return {"addresses": views.plain_addresses(compute(call).details.addresses(call.ctx, call.path["server_id"]))}


def show_ips(call: Call) -> dict:
    found = list_ips(call)["addresses"]
    network = call.path["network"]
    if network not in found:
        raise NotFound("Instance is not a member of specified network")
    return {network: found[network]}


def list_actions(call: Call) -> dict:
    actions = compute(call).details.actions(call.ctx, call.path["server_id"])
    return {"instanceActions": [views.instance_action(a) for a in actions]}


def show_action(call: Call) -> dict:
    action, events = compute(call).details.action(call.ctx, call.path["server_id"], call.path["request_id"])
    return {"instanceAction": views.instance_action(action, events)}


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
