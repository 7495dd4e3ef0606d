"""RBAC policies (``/v2.0/rbac-policies``): the explicit shares of ``rbac.py`` as a resource.

A policy lets ``target_tenant`` (a project, or ``*`` for every project) use an object its owner
shares.  The flags clients read keep following the policies: a wildcard ``access_as_shared`` is the
object's ``shared``, any ``access_as_external`` makes a network ``router:external``.  A policy other
projects' resources depend on cannot be removed or retargeted away from them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict, Forbidden
from onestack.services.network import schemas, views
from onestack.services.network.models import (
    FloatingIP,
    Network,
    Port,
    PortSecurityGroup,
    RBACPolicy,
    Router,
    Subnet,
    SubnetPool,
)
from onestack.services.network.service import rbac
from onestack.services.network.service.collection import Collection, new_uuid
from onestack.services.network.service.quotas import Quotas


def _network_ports(object_id: str) -> Select:
    return select(Port.project_id).where(Port.network_id == object_id)


def _external_users(object_id: str) -> Select:
    gateways = select(Router.project_id).join(Port, Router.gw_port_id == Port.id).where(Port.network_id == object_id)
    floating = select(FloatingIP.project_id).where(FloatingIP.floating_network_id == object_id)
    return gateways.union(floating)


def _pool_subnets(object_id: str) -> Select:
    return select(Subnet.project_id).where(Subnet.subnetpool_id == object_id)


def _scope_pools(object_id: str) -> Select:
    return select(SubnetPool.project_id).where(SubnetPool.address_scope_id == object_id)


def _group_ports(object_id: str) -> Select:
    return select(Port.project_id).join(PortSecurityGroup, PortSecurityGroup.port_id == Port.id).where(
        PortSecurityGroup.security_group_id == object_id)


@dataclasses.dataclass(frozen=True)
class Shareable:
    """An object type policies may share: per action, what other projects build on it (the projects
    of those rows are the policy's dependents)."""

    dependents: dict[str, Callable[[str], Select]]


# The object types and actions ``schemas.RBAC_POLICIES`` accepts.
SHAREABLE = {
    "network": Shareable({rbac.SHARED: _network_ports, rbac.EXTERNAL: _external_users}),
    "subnetpool": Shareable({rbac.SHARED: _pool_subnets}),
    "address_scope": Shareable({rbac.SHARED: _scope_pools}),
    "security_group": Shareable({rbac.SHARED: _group_ports}),
}


class RBACPolicies(Collection):
    singular, plural, kind, model = "rbac_policy", "rbac_policies", "RBAC policy", RBACPolicy
    path = "rbac-policies"
    standard_attributes = False
    table = schemas.RBAC_POLICIES

    def __init__(self, db: Database, quotas: Quotas, objects: Mapping[str, Collection]):
        """``objects``: the collection of each shareable object type, by type."""
        super().__init__(db, quotas)
        self.objects = objects

    def not_found(self, ident: str):
        err = super().not_found(ident)
        err.kind = "RbacPolicyNotFound"
        return err

    def render(self, session: Session, ctx: Context, row: RBACPolicy) -> dict:
        return views.rbac_policy(row)

    # -- create, retarget, delete ------------------------------------------------------
    def create(self, session: Session, ctx: Context, body: dict) -> RBACPolicy:
        kind, action, target = body["object_type"], body["action"], body["target_tenant"]
        if action not in SHAREABLE[kind].dependents:
            valid = ", ".join(SHAREABLE[kind].dependents)
            raise BadRequest(f"Invalid action '{action}' for object type '{kind}'. Valid actions: [{valid}]",
                             kind="InvalidActionForType")
        row = RBACPolicy(id=new_uuid(), project_id=self.owner(ctx, body), object_type=kind,
                         object_id=body["object_id"], action=action, target_project=target)
        self.authorize(ctx, "create", {"project_id": row.project_id})
        self._check_target(ctx, target)
        obj = self._object(session, ctx, row)
        self._check_unique(session, row)
        self.quotas.check(session, row.project_id, "rbac_policy")
        session.add(row)
        session.flush()
        self._sync(session, row, obj)
        return row

    def update(self, session: Session, ctx: Context, row: RBACPolicy, changes: dict) -> None:
        target = changes.get("target_tenant", row.target_project)
        if target == row.target_project:
            return
        self._check_target(ctx, target)
        self._check_unused(session, row, target)
        row.target_project = target
        self._check_unique(session, row)
        session.flush()
        self._sync(session, row, self._owned_object(session, row))

    def delete(self, session: Session, ctx: Context, row: RBACPolicy) -> None:
        self._check_unused(session, row, None)
        session.delete(row)
        session.flush()
        self._sync(session, row, self._owned_object(session, row))

    # -- checks ----------------------------------------------------------------------
    @staticmethod
    def _check_target(ctx: Context, target: str) -> None:
        if target == rbac.EVERYONE and not ctx.is_admin:
            raise Forbidden("(rule:create_rbac_policy and rule:create_rbac_policy:target_tenant) is disallowed by "
                            "policy", kind="PolicyNotAuthorized")

    def _object(self, session: Session, ctx: Context, row: RBACPolicy):
        """The shared object: it must exist and be visible (404) and be the caller's own (400)."""
        obj = self.objects[row.object_type].get(session, ctx, row.object_id)
        if not ctx.is_admin and obj.project_id != ctx.project_id:
            raise BadRequest("Invalid input for operation: Only admins can manipulate policies on objects they do "
                             "not own.", kind="InvalidInput")
        return obj

    def _owned_object(self, session: Session, row: RBACPolicy):
        return session.get(self.objects[row.object_type].model, row.object_id)

    @staticmethod
    def _check_unique(session: Session, row: RBACPolicy) -> None:
        same = session.scalar(select(RBACPolicy.id).where(
            RBACPolicy.object_type == row.object_type, RBACPolicy.object_id == row.object_id,
            RBACPolicy.action == row.action, RBACPolicy.target_project == row.target_project,
            RBACPolicy.id != row.id).limit(1))
        if same is not None:
            raise Conflict("An RBAC policy already exists with those values.", kind="DuplicateRbacPolicy")

    def _check_unused(self, session: Session, row: RBACPolicy, new_target: str | None) -> None:
        """Refuse a change that would take access from a project whose resources rely on it: one that
        is not the owner and that no remaining policy (or ``new_target``) still covers."""
        obj = self._owned_object(session, row)
        if obj is None:
            return
        remaining = set(session.scalars(select(RBACPolicy.target_project).where(
            RBACPolicy.object_type == row.object_type, RBACPolicy.object_id == row.object_id,
            RBACPolicy.action == row.action, RBACPolicy.id != row.id)))
        if new_target is not None:
            remaining.add(new_target)
        if rbac.EVERYONE in remaining:
            return
        dependents = SHAREABLE[row.object_type].dependents[row.action](row.object_id).subquery()
        losing = select(dependents.c.project_id).where(dependents.c.project_id != obj.project_id,
                                                       dependents.c.project_id != "",
                                                       dependents.c.project_id.not_in(remaining))
        if row.target_project != rbac.EVERYONE:
            losing = losing.where(dependents.c.project_id == row.target_project)
        project = session.scalar(losing.limit(1))
        if project is not None:
            raise Conflict(f"RBAC policy on object {row.object_id} cannot be removed because other objects depend "
                           f"on it.\nDetails: project {project} has resources that use it.", kind="RbacPolicyInUse")

    def _sync(self, session: Session, row: RBACPolicy, obj) -> None:
        """Make the object's flags say what its policies now grant, and count the change in its revision."""
        if obj is None:
            return
        obj.shared = self._any_grant(session, row, rbac.SHARED, rbac.EVERYONE)
        if isinstance(obj, Network):
            obj.external = self._any_grant(session, row, rbac.EXTERNAL)
        self.touch(obj)

    @staticmethod
    def _any_grant(session: Session, row: RBACPolicy, action: str, target: str | None = None) -> bool:
        stmt = select(RBACPolicy.id).where(RBACPolicy.object_type == row.object_type,
                                           RBACPolicy.object_id == row.object_id, RBACPolicy.action == action)
        if target is not None:
            stmt = stmt.where(RBACPolicy.target_project == target)
        return session.scalar(stmt.limit(1)) is not None
