"""Server groups: the affinity and anti-affinity policies the scheduler honours, and their members."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import BadRequest, NotFound
from onestack.services.compute.models import Instance, ServerGroup, ServerGroupMember


class ServerGroups:
    def __init__(self, db: Database):
        self.db = db

    def create(self, ctx: Context, body: dict, policy_field: bool) -> ServerGroup:
        """``policy_field``: the request may name ``policy`` and ``rules`` (2.64) rather than ``policies``."""
        if "policies" in body:
            policy, rules = body["policies"][0], {}
        elif "policy" in body and policy_field:
            policy, rules = body["policy"], body.get("rules") or {}
        else:
            raise BadRequest("A server group needs 'policies' (a list with one policy).")
        if rules and policy != "anti-affinity":
            raise BadRequest("Only the anti-affinity policy has rules.")
        with self.db.write() as session:
            group = ServerGroup(id=str(uuid.uuid4()), name=body["name"], project_id=ctx.project_id or "",
                                user_id=ctx.user_id, policy=policy, rules=rules)
            session.add(group)
            session.flush()
            return group

    def listing(self, ctx: Context, all_projects: bool) -> list[tuple[ServerGroup, list[str]]]:
        stmt = select(ServerGroup).order_by(ServerGroup.created_at)
        if not (ctx.is_admin and all_projects):
            stmt = stmt.where(ServerGroup.project_id == ctx.project_id)
        with self.db.read() as session:
            return [(g, _members(session, g.id)) for g in session.scalars(stmt)]

    def get(self, ctx: Context, group_id: str) -> tuple[ServerGroup, list[str]]:
        with self.db.read() as session:
            group = _get(session, ctx, group_id)
            return group, _members(session, group.id)

    def delete(self, ctx: Context, group_id: str) -> None:
        with self.db.write() as session:
            session.delete(_get(session, ctx, group_id))


def _members(session: Session, group_id: str) -> list[str]:
    """The group's servers that still exist: a deleted server leaves its group, as in Nova."""
    return list(session.scalars(select(ServerGroupMember.instance_uuid).join(
        Instance, Instance.id == ServerGroupMember.instance_uuid).where(
        ServerGroupMember.group_id == group_id, Instance.deleted.is_(False))))


def _get(session: Session, ctx: Context, group_id: str) -> ServerGroup:
    group = session.get(ServerGroup, group_id)
    if group is None or not (ctx.is_admin or group.project_id == ctx.project_id):
        raise NotFound(f"Instance group {group_id} could not be found.")
    return group
