"""/os-server-groups: affinity and anti-affinity groups the scheduler honours."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from onestack.http.errors import BadRequest, NotFound
from onestack.http.microversion import at_least
from onestack.http.routing import Call, Reply, route
from onestack.services.compute import schemas
from onestack.services.compute.api.servers import compute
from onestack.services.compute.models import Instance, ServerGroup, ServerGroupMember
from onestack.services.compute.service.servers import authorize


def view(call: Call, group: ServerGroup, members: list[str]) -> dict:
    body = {"id": group.id, "name": group.name, "members": members}
    if at_least(call.version, "2.64"):
        body.update(policy=group.policy, rules=group.rules or {})
    else:
        body.update(policies=[group.policy], metadata={})
    if at_least(call.version, "2.13"):
        body.update(project_id=group.project_id, user_id=group.user_id)
    return body


def _members(session, group_id: str) -> list[str]:
    """The group's servers that still exist: a deleted server leaves its group, as in Nova."""
    return list(session.scalars(select(ServerGroupMember.instance_uuid).join(
        Instance, Instance.id == ServerGroupMember.instance_uuid).where(
        ServerGroupMember.group_id == group_id, Instance.deleted.is_(False))))


def _get(session, call: Call, group_id: str) -> ServerGroup:
    group = session.get(ServerGroup, group_id)
    if group is None or not (call.ctx.is_admin or group.project_id == call.ctx.project_id):
        raise NotFound(f"Instance group {group_id} could not be found.")
    return group


def create_group(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-server-groups:create")
    body = call.body["server_group"]
    if "policies" in body:
        policy, rules = body["policies"][0], {}
    elif "policy" in body and at_least(call.version, "2.64"):
        policy, rules = body["policy"], body.get("rules") or {}
    else:
        raise BadRequest("A server group needs 'policies' (a list with one policy).")
    if rules and policy != "anti-affinity":
        raise BadRequest("Only the anti-affinity policy has rules.")
    with compute(call).db.write() as session:
        group = ServerGroup(id=str(uuid.uuid4()), name=body["name"], project_id=call.ctx.project_id or "",
                            user_id=call.ctx.user_id, policy=policy, rules=rules)
        session.add(group)
        session.flush()
        return {"server_group": view(call, group, [])}


def list_groups(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-server-groups:index")
    stmt = select(ServerGroup).order_by(ServerGroup.created_at)
    if not (call.ctx.is_admin and call.query.get("all_projects") is not None):
        stmt = stmt.where(ServerGroup.project_id == call.ctx.project_id)
    with compute(call).db.read() as session:
        return {"server_groups": [view(call, g, _members(session, g.id)) for g in session.scalars(stmt)]}


def show_group(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-server-groups:index")
    with compute(call).db.read() as session:
        group = _get(session, call, call.path["group_id"])
        return {"server_group": view(call, group, _members(session, group.id))}


def delete_group(call: Call) -> Reply:
    authorize(call.ctx, "os_compute_api:os-server-groups:delete")
    with compute(call).db.write() as session:
        session.delete(_get(session, call, call.path["group_id"]))
    return Reply(status=204)


ROUTES = [
    route("/v2.1/os-server-groups", "POST", create_group, schema=schemas.server_group_create),
    route("/v2.1/os-server-groups", "GET", list_groups),
    route("/v2.1/os-server-groups/{group_id}", "GET", show_group),
    route("/v2.1/os-server-groups/{group_id}", "DELETE", delete_group),
]
