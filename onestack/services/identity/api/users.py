"""/v3/users and /v3/groups, membership, and a user's own password."""

from __future__ import annotations

import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onestack.db.base import new_id, utcnow
from onestack.http.errors import BadRequest, Forbidden, NotFound, Unauthorized
from onestack.http.routing import Call, Reply, route
from onestack.http.times import time_filters
from onestack.services.identity import schemas
from onestack.services.identity.api.common import (
    authorize,
    extra_attributes,
    filtered,
    identity,
    merge_extra,
    truthy,
    views,
)
from onestack.services.identity.assignments import projects_with_roles
from onestack.services.identity.models import (
    AccessRule,
    ApplicationCredential,
    Assignment,
    Credential,
    Group,
    Membership,
    Password,
    Project,
    User,
)
from onestack.services.identity.passwords import check_password, store_password
from onestack.services.identity.store import conflict, get

USER_FIELDS = schemas.user_create["properties"]["user"]["properties"]
GROUP_FIELDS = schemas.group_create["properties"]["group"]["properties"]


def _domain_for(call: Call, body: dict) -> str:
    ctx = call.ctx
    return body.get("domain_id") or ctx.domain_id or ctx.project_domain_id or "default"


def _require_domain(session: Session, domain_id: str) -> None:
    row = session.get(Project, domain_id)
    if row is None or not row.is_domain:
        raise NotFound(f"Could not find domain: {domain_id}.")



def _user(session: Session, uid: str) -> User:
    return get(session, User, uid, "user")


def _target(user: User) -> dict:
    return {"user_id": user.id, "domain_id": user.domain_id}


# -- passwords ---------------------------------------------------------------
def _history(session: Session, user_id: str, count: int) -> list[Password]:
    return list(session.scalars(select(Password).where(Password.user_id == user_id)
                                .order_by(Password.id.desc()).limit(max(count, 1))))


def change_password(call: Call) -> Reply:
    uid = call.path["user_id"]
    body = call.body["user"]
    svc = identity(call)
    rules = call.runtime.settings.security_compliance
    with svc.store.write() as session:
        user = session.get(User, uid)
        if user is None or not user.enabled:
            raise Unauthorized()
        history = _history(session, uid, rules.unique_last_password_count)
        if not history or not check_password(body["original_password"], history[0].hash):
            raise Unauthorized("The original password is wrong.")
        if (user.options or {}).get("lock_password"):
            raise Forbidden(f"You are not allowed to change the password of user {uid}.")
        if rules.minimum_password_age and history[0].self_service:
            ready = history[0].created_at + datetime.timedelta(days=rules.minimum_password_age)
            if utcnow() < ready:
                raise BadRequest(f"You cannot change your password at this time due to the minimum password "
                                 f"age. Once you change your password, it must be used for "
                                 f"{rules.minimum_password_age} day(s) before it can be changed.")
        if rules.unique_last_password_count > 0:
            for old in history[: rules.unique_last_password_count]:
                if check_password(body["password"], old.hash):
                    raise BadRequest("The new password cannot be identical to a previous password. The total "
                                     f"number which includes the new password must be unique is "
                                     f"{rules.unique_last_password_count}.")
        store_password(session, user, body["password"], call.runtime.settings, self_service=True)
        svc.tokens.revoke(session, user_id=uid)
    return Reply(status=204)


# -- users -------------------------------------------------------------------
def create_user(call: Call) -> Reply:
    body = call.body["user"]
    domain_id = _domain_for(call, body)
    authorize(call, "identity:create_user", {"domain_id": domain_id})
    with identity(call).store.write() as session:
        _require_domain(session, domain_id)
        if session.scalars(select(User.id).where(User.domain_id == domain_id, User.name == body["name"])).first():
            raise conflict("user", "name", body["name"])
        user = User(id=new_id(), name=body["name"], domain_id=domain_id, enabled=body.get("enabled", True),
                    default_project_id=body.get("default_project_id"), description=body.get("description"),
                    email=body.get("email"), options={k: v for k, v in (body.get("options") or {}).items()
                                                      if v is not None},
                    extra=extra_attributes(body, USER_FIELDS))
        session.add(user)
        session.flush()
        store_password(session, user, body.get("password"), call.runtime.settings, self_service=False)
        session.flush()
        return Reply({"user": views(call).user(session, user)}, 201)


def _expiry_filter(value: str):
    pieces = time_filters(value, "password_expires_at")
    return lambda expires: expires is not None and all(op(expires, moment) for op, moment in pieces)


def list_users(call: Call) -> dict:
    ctx = call.ctx
    domain_id = call.query.get("domain_id")
    authorize(call, "identity:list_users", {"domain_id": domain_id or ctx.domain_id})
    if not (ctx.is_admin or ctx.is_system) and domain_id is None:
        domain_id = ctx.domain_id
    v = views(call)
    with identity(call).store.read() as session:
        stmt = select(User)
        if domain_id is not None:
            stmt = stmt.where(User.domain_id == domain_id)
        stmt = filtered(call, stmt, User, {"name": "name", "enabled": "enabled"})
        users = session.scalars(stmt.order_by(User.name)).all()
        bodies = [v.user(session, u) for u in users]
    if "password_expires_at" in call.query:
        keep = _expiry_filter(call.query["password_expires_at"])
        bodies = [b for b in bodies if keep(_parse_stamp(b["password_expires_at"]))]
    return v.collection("users", bodies, "users", str(call.query))


def _parse_stamp(text: str | None):
    return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.UTC) if text else None


def get_user(call: Call) -> dict:
    with identity(call).store.read() as session:
        user = _user(session, call.path["user_id"])
        authorize(call, "identity:get_user", _target(user))
        return {"user": views(call).user(session, user)}


def update_user(call: Call) -> dict:
    body = call.body["user"]
    svc = identity(call)
    with svc.store.write() as session:
        user = _user(session, call.path["user_id"])
        authorize(call, "identity:update_user", _target(user))
        if "domain_id" in body and body["domain_id"] != user.domain_id:
            raise BadRequest("A user cannot move to another domain.")
        if "name" in body and body["name"] != user.name and session.scalars(
                select(User.id).where(User.domain_id == user.domain_id, User.name == body["name"])).first():
            raise conflict("user", "name", body["name"])
        for key in ("name", "enabled", "default_project_id", "description", "email"):
            if key in body:
                setattr(user, key, body[key])
        if "options" in body:
            options = dict(user.options or {})
            for key, value in body["options"].items():
                if value is None:
                    options.pop(key, None)
                else:
                    options[key] = value
            user.options = options
        merge_extra(user, body, USER_FIELDS)
        if "password" in body:
            store_password(session, user, body["password"], call.runtime.settings, self_service=False)
            svc.tokens.revoke(session, user_id=user.id)
        if body.get("enabled") is False:
            svc.tokens.revoke(session, user_id=user.id)
        session.flush()
        return {"user": views(call).user(session, user)}


def delete_user(call: Call) -> Reply:
    svc = identity(call)
    with svc.store.write() as session:
        user = _user(session, call.path["user_id"])
        authorize(call, "identity:delete_user", _target(user))
        for model in (Membership, ApplicationCredential, AccessRule, Credential, Password):
            session.execute(delete(model).where(model.user_id == user.id))
        session.execute(delete(Assignment).where(Assignment.actor_id == user.id))
        session.delete(user)
        svc.tokens.revoke(session, user_id=user.id)
    return Reply(status=204)


def user_groups(call: Call) -> dict:
    v = views(call)
    with identity(call).store.read() as session:
        user = _user(session, call.path["user_id"])
        authorize(call, "identity:list_groups_for_user", _target(user))
        rows = session.scalars(select(Group).join(Membership, Membership.group_id == Group.id)
                               .where(Membership.user_id == user.id).order_by(Group.name)).all()
    return v.collection("groups", [v.group(g) for g in rows], f"users/{user.id}/groups")


def user_projects(call: Call) -> dict:
    v = views(call)
    with identity(call).store.read() as session:
        user = _user(session, call.path["user_id"])
        authorize(call, "identity:list_user_projects", _target(user))
        ids = projects_with_roles(session, user.id)
        projects = session.scalars(select(Project).where(Project.id.in_(ids)).order_by(Project.name)).all()
        mine = [p for p in projects if _wanted(call, p)]
    return v.collection("projects", [v.project(p) for p in mine], f"users/{user.id}/projects")


def _wanted(call: Call, p: Project) -> bool:
    q = call.query
    return (all(getattr(p, key) == q[key] for key in ("name", "domain_id") if key in q)
            and ("enabled" not in q or p.enabled == truthy(q["enabled"])))


# -- groups ------------------------------------------------------------------
def _group(session: Session, gid: str) -> Group:
    return get(session, Group, gid, "group")


def create_group(call: Call) -> Reply:
    body = call.body["group"]
    domain_id = _domain_for(call, body)
    authorize(call, "identity:create_group", {"domain_id": domain_id})
    with identity(call).store.write() as session:
        _require_domain(session, domain_id)
        if session.scalars(select(Group.id).where(Group.domain_id == domain_id, Group.name == body["name"])).first():
            raise conflict("group", "name", body["name"])
        group = Group(id=new_id(), name=body["name"], domain_id=domain_id, description=body.get("description"),
                      extra=extra_attributes(body, GROUP_FIELDS))
        session.add(group)
        session.flush()
        return Reply({"group": views(call).group(group)}, 201)


def list_groups(call: Call) -> dict:
    ctx = call.ctx
    domain_id = call.query.get("domain_id")
    authorize(call, "identity:list_groups", {"domain_id": domain_id or ctx.domain_id})
    if not (ctx.is_admin or ctx.is_system) and domain_id is None:
        domain_id = ctx.domain_id
    v = views(call)
    with identity(call).store.read() as session:
        stmt = select(Group)
        if domain_id is not None:
            stmt = stmt.where(Group.domain_id == domain_id)
        rows = session.scalars(filtered(call, stmt, Group, {"name": "name"}).order_by(Group.name)).all()
    return v.collection("groups", [v.group(g) for g in rows], "groups", str(call.query))


def get_group(call: Call) -> dict:
    with identity(call).store.read() as session:
        group = _group(session, call.path["group_id"])
        authorize(call, "identity:get_group", {"domain_id": group.domain_id})
        return {"group": views(call).group(group)}


def update_group(call: Call) -> dict:
    body = call.body["group"]
    with identity(call).store.write() as session:
        group = _group(session, call.path["group_id"])
        authorize(call, "identity:update_group", {"domain_id": group.domain_id})
        if "domain_id" in body and body["domain_id"] != group.domain_id:
            raise BadRequest("A group cannot move to another domain.")
        if "name" in body and body["name"] != group.name and session.scalars(
                select(Group.id).where(Group.domain_id == group.domain_id, Group.name == body["name"])).first():
            raise conflict("group", "name", body["name"])
        for key in ("name", "description"):
            if key in body:
                setattr(group, key, body[key])
        merge_extra(group, body, GROUP_FIELDS)
        return {"group": views(call).group(group)}


def delete_group(call: Call) -> Reply:
    with identity(call).store.write() as session:
        group = _group(session, call.path["group_id"])
        authorize(call, "identity:delete_group", {"domain_id": group.domain_id})
        session.execute(delete(Assignment).where(Assignment.actor_id == group.id))
        session.delete(group)
    return Reply(status=204)


def group_users(call: Call) -> dict:
    v = views(call)
    with identity(call).store.read() as session:
        group = _group(session, call.path["group_id"])
        authorize(call, "identity:list_users_in_group", {"domain_id": group.domain_id})
        rows = session.scalars(select(User).join(Membership, Membership.user_id == User.id)
                               .where(Membership.group_id == group.id).order_by(User.name)).all()
        bodies = [v.user(session, u) for u in rows]
    return v.collection("users", bodies, f"groups/{group.id}/users")


def add_member(call: Call) -> Reply:
    store = identity(call).store
    with store.write() as session:
        group = _group(session, call.path["group_id"])
        user = _user(session, call.path["user_id"])
        authorize(call, "identity:add_user_to_group", {"domain_id": group.domain_id})
        if session.get(Membership, (user.id, group.id)) is None:
            session.add(Membership(user_id=user.id, group_id=group.id))
    return Reply(status=204)


def check_member(call: Call) -> Reply:
    with identity(call).store.read() as session:
        group = _group(session, call.path["group_id"])
        user = _user(session, call.path["user_id"])
        authorize(call, "identity:check_user_in_group", {"domain_id": group.domain_id})
        if session.get(Membership, (user.id, group.id)) is None:
            raise NotFound(f"User {user.id} is not a member of group {group.id}.")
    return Reply(status=204)


def remove_member(call: Call) -> Reply:
    with identity(call).store.write() as session:
        group = _group(session, call.path["group_id"])
        user = _user(session, call.path["user_id"])
        authorize(call, "identity:remove_user_from_group", {"domain_id": group.domain_id})
        row = session.get(Membership, (user.id, group.id))
        if row is None:
            raise NotFound(f"User {user.id} is not a member of group {group.id}.")
        session.delete(row)
    return Reply(status=204)


ROUTES = [
    route("/v3/users", "POST", create_user, schema=schemas.user_create),
    route("/v3/users", "GET", list_users),
    route("/v3/users/{user_id}", "GET", get_user),
    route("/v3/users/{user_id}", "PATCH", update_user, schema=schemas.user_update),
    route("/v3/users/{user_id}", "DELETE", delete_user),
    route("/v3/users/{user_id}/password", "POST", change_password, schema=schemas.password_change),
    route("/v3/users/{user_id}/groups", "GET", user_groups),
    route("/v3/users/{user_id}/projects", "GET", user_projects),
    route("/v3/groups", "POST", create_group, schema=schemas.group_create),
    route("/v3/groups", "GET", list_groups),
    route("/v3/groups/{group_id}", "GET", get_group),
    route("/v3/groups/{group_id}", "PATCH", update_group, schema=schemas.group_update),
    route("/v3/groups/{group_id}", "DELETE", delete_group),
    route("/v3/groups/{group_id}/users", "GET", group_users),
    route("/v3/groups/{group_id}/users/{user_id}", "PUT", add_member),
    route("/v3/groups/{group_id}/users/{user_id}", "HEAD", check_member),
    route("/v3/groups/{group_id}/users/{user_id}", "DELETE", remove_member),
]
