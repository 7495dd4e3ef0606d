"""/v2.1/os-security-groups and /v2.1/os-security-group-rules (gone at 2.36), a server's groups
(/servers/{id}/os-security-groups, kept) and the addSecurityGroup/removeSecurityGroup actions: Nova's
proxy to the network service's security groups."""

from __future__ import annotations

from onestack.http.errors import BadRequest
from onestack.http.routing import Call, Reply, route
from onestack.services.compute import views
from onestack.services.compute.api.servers import compute
from onestack.services.compute.policies import authorize
from onestack.services.compute.service.security_group_proxy import SecurityGroupProxy
from onestack.services.compute.versions import PROXY_LAST, served_until


def _proxy(call: Call, action: str | None = None, *, deprecated: bool = True) -> SecurityGroupProxy:
    if deprecated:
        served_until(call.version, PROXY_LAST)
    if action is not None:
        authorize(call.ctx, f"os_compute_api:os-security-groups:{action}")
    return compute(call).security_group_proxy


def member(body, key: str) -> dict:
    """``body[key]``, which must be an object; Nova's 400s for an empty body or a missing member (these
    legacy APIs had no schema)."""
    if not body:
        raise BadRequest("The request body can't be empty")
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, dict):
        raise BadRequest(f"Missing parameter {key}")
    return value


def list_groups(call: Call) -> dict:
    proxy = _proxy(call, "get")
    all_projects = call.query.get("all_tenants", "0").lower() not in ("0", "false", "no", "off")
    return {"security_groups": [views.proxied_group(g) for g in proxy.list(call.ctx, all_projects)]}


def show_group(call: Call) -> dict:
    return {"security_group": views.proxied_group(_proxy(call, "show").show(call.ctx, call.path["group_id"]))}


def create_group(call: Call) -> dict:
    proxy = _proxy(call, "create")
    args = member(call.body, "security_group")
    return {"security_group": views.proxied_group(proxy.create(call.ctx, args.get("name"), args.get("description")))}


def update_group(call: Call) -> dict:
    proxy = _proxy(call, "update")
    args = member(call.body, "security_group")
    return {"security_group": views.proxied_group(proxy.update(call.ctx, call.path["group_id"], args.get("name"),
                                                               args.get("description")))}


def delete_group(call: Call) -> Reply:
    _proxy(call, "delete").delete(call.ctx, call.path["group_id"])
    return Reply(status=202)


def create_rule(call: Call) -> dict:
    proxy = _proxy(call, "rule:create")
    return {"security_group_rule": views.proxied_rule(proxy.add_rule(call.ctx,
                                                                     member(call.body, "security_group_rule")))}


def delete_rule(call: Call) -> Reply:
    _proxy(call, "rule:delete").delete_rule(call.ctx, call.path["rule_id"])
    return Reply(status=202)


# -- a server's groups ---------------------------------------------------------------------------
def list_server_groups(call: Call) -> dict:
    instance = compute(call).servers.show(call.ctx, call.path["server_id"], "os_compute_api:os-security-groups:list")
    return {"security_groups": [views.proxied_group(g)
                                for g in _proxy(call, deprecated=False).of_server(instance.id)]}


def _group_name(args) -> str:
    name = args.get("name") if isinstance(args, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise BadRequest("Invalid input for field/attribute name. Value should be a non-empty string.")
    return name.strip()


def add_security_group(call: Call, args) -> Reply:
    name = _group_name(args)
    _proxy(call, deprecated=False).add_to_server(call.ctx, call.path["server_id"], name)
    return Reply(status=202)


def remove_security_group(call: Call, args) -> Reply:
    name = _group_name(args)
    _proxy(call, deprecated=False).remove_from_server(call.ctx, call.path["server_id"], name)
    return Reply(status=202)


ROUTES = [
    route("/v2.1/os-security-groups", "GET", list_groups),
    route("/v2.1/os-security-groups", "POST", create_group),
    route("/v2.1/os-security-groups/{group_id}", "GET", show_group),
    route("/v2.1/os-security-groups/{group_id}", "PUT", update_group),
    route("/v2.1/os-security-groups/{group_id}", "DELETE", delete_group),
    route("/v2.1/os-security-group-rules", "POST", create_rule),
    route("/v2.1/os-security-group-rules/{rule_id}", "DELETE", delete_rule),
    route("/v2.1/servers/{server_id}/os-security-groups", "GET", list_server_groups),
]
