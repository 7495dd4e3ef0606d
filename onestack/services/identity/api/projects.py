"""/v3/domains and /v3/projects (one table: a domain is a project with is_domain)."""

from __future__ import annotations

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from onestack.db.base import new_id
from onestack.http.errors import BadRequest, Forbidden, NotFound
from onestack.http.routing import Call, Reply, route
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
from onestack.services.identity.assignments import ancestors, subtree
from onestack.services.identity.models import (
    ROOT_DOMAIN,
    Assignment,
    Group,
    Membership,
    Project,
    Role,
    User,
)
from onestack.services.identity.store import conflict

MAX_DEPTH = 5
RESERVED = ("domain_id", "parent_id", "is_domain", "id", "links")


def _get(session: Session, pid: str, *, domain: bool | None) -> Project:
    row = session.get(Project, pid)
    if row is None or (domain is not None and row.is_domain != domain):
        kind = "domain" if domain else "project"
        raise NotFound(f"Could not find {kind}: {pid}.")
    return row



def _check_unique(session: Session, domain_id: str, name: str, is_domain: bool, exclude: str | None = None):
    stmt = select(Project.id).where(Project.name == name)
    stmt = stmt.where(Project.is_domain) if is_domain else stmt.where(Project.domain_id == domain_id)
    if exclude:
        stmt = stmt.where(Project.id != exclude)
    if session.scalars(stmt).first():
        raise conflict("domain" if is_domain else "project", "name", name)


# -- domains ---------------------------------------------------------------
def create_domain_row(session: Session, body: dict, domain_id: str | None = None) -> Project:
    _check_unique(session, ROOT_DOMAIN, body["name"], True)
    did = domain_id or body.get("explicit_domain_id") or new_id()
    if session.get(Project, did) is not None:
        raise conflict("domain", "id", did)
    row = Project(id=did, name=body["name"], domain_id=ROOT_DOMAIN, parent_id=None, is_domain=True,
                  enabled=body.get("enabled", True), description=body.get("description"),
                  tags=body.get("tags") or [], options=body.get("options") or {},
                  extra=extra_attributes(body, schemas.domain_create["properties"]["domain"]["properties"], RESERVED))
    session.add(row)
    return row


def create_domain(call: Call) -> Reply:
    authorize(call, "identity:create_domain")
    with identity(call).store.write() as session:
        row = create_domain_row(session, call.body["domain"])
        session.flush()
        return Reply({"domain": views(call).domain(row)}, 201)


def list_domains(call: Call) -> dict:
    authorize(call, "identity:list_domains")
    v = views(call)
    with identity(call).store.read() as session:
        stmt = filtered(call, select(Project).where(Project.is_domain), Project, {"name": "name", "enabled": "enabled"})
        rows = session.scalars(stmt.order_by(Project.name)).all()
    return v.collection("domains", [v.domain(d) for d in rows], "domains", str(call.query))


def get_domain(call: Call) -> dict:
    did = call.path["domain_id"]
    authorize(call, "identity:get_domain", {"domain_id": did})
    with identity(call).store.read() as session:
        return {"domain": views(call).domain(_get(session, did, domain=True))}


def update_domain(call: Call) -> dict:
    did = call.path["domain_id"]
    authorize(call, "identity:update_domain", {"domain_id": did})
    body = call.body["domain"]
    with identity(call).store.write() as session:
        row = _get(session, did, domain=True)
        if "name" in body and body["name"] != row.name:
            _check_unique(session, ROOT_DOMAIN, body["name"], True, exclude=did)
        _apply(row, body, schemas.domain_update["properties"]["domain"]["properties"])
        return {"domain": views(call).domain(row)}


def delete_domain(call: Call) -> Reply:
    did = call.path["domain_id"]
    authorize(call, "identity:delete_domain", {"domain_id": did})
    with identity(call).store.write() as session:
        _delete_domain(session, _get(session, did, domain=True))
    return Reply(status=204)


def _delete_domain(session: Session, row: Project) -> None:
    """A domain goes with everything in it; Keystone insists it is disabled first."""
    if row.enabled:
        raise Forbidden("Cannot delete a domain that is enabled, please disable it first.")
    did = row.id
    projects = list(session.scalars(select(Project.id).where(Project.domain_id == did)))
    users = list(session.scalars(select(User.id).where(User.domain_id == did)))
    groups = list(session.scalars(select(Group.id).where(Group.domain_id == did)))
    session.execute(delete(Assignment).where(or_(Assignment.target_id.in_([did, *projects]),
                                                 Assignment.actor_id.in_(users + groups))))
    session.execute(delete(Membership).where(Membership.group_id.in_(groups)))
    session.execute(delete(User).where(User.domain_id == did))
    session.execute(delete(Group).where(Group.domain_id == did))
    session.execute(delete(Role).where(Role.domain_id == did))
    session.execute(delete(Project).where(Project.domain_id == did))
    session.delete(row)


def _apply(row, body: dict, known: dict) -> None:
    for key, value in body.items():
        if key in known and hasattr(row, key) and key not in RESERVED:
            setattr(row, key, value if key not in ("tags", "options") else (value or type(getattr(row, key))()))
    merge_extra(row, body, known, RESERVED)


# -- projects --------------------------------------------------------------
def _default_domain(call: Call) -> str:
    ctx = call.ctx
    return ctx.domain_id or ctx.project_domain_id or "default"


def create_project(call: Call) -> Reply:
    body = call.body["project"]
    with identity(call).store.write() as session:
        parent = None
        if body.get("parent_id"):
            parent = session.get(Project, body["parent_id"])
            if parent is None:
                raise NotFound(f"Could not find project: {body['parent_id']}.")
        if body.get("is_domain"):
            if parent is not None:
                raise BadRequest("A project acting as a domain cannot have a parent.")
            authorize(call, "identity:create_domain")
            row = create_domain_row(session, body)
            session.flush()
            return Reply({"project": views(call).project(row)}, 201)
        domain_id = body.get("domain_id") or (parent.domain_id if parent and not parent.is_domain else None) \
            or (parent.id if parent is not None else None) or _default_domain(call)
        authorize(call, "identity:create_project", {"domain_id": domain_id})
        domain = session.get(Project, domain_id)
        if domain is None or not domain.is_domain:
            raise NotFound(f"Could not find domain: {domain_id}.")
        if parent is None:
            parent = domain
        parent_domain = parent.id if parent.is_domain else parent.domain_id
        if parent_domain != domain_id:
            raise BadRequest("The project's domain must be the domain of its parent.")
        if len(ancestors(session, parent)) + 1 >= MAX_DEPTH + 1:
            raise Forbidden(f"Max hierarchy depth reached for {parent.id} branch.")
        _check_unique(session, domain_id, body["name"], False)
        row = Project(id=new_id(), name=body["name"], domain_id=domain_id, parent_id=parent.id, is_domain=False,
                      enabled=body.get("enabled", True), description=body.get("description"),
                      tags=body.get("tags") or [], options=body.get("options") or {},
                      extra=extra_attributes(body, schemas.project_create["properties"]["project"]["properties"], RESERVED))
        session.add(row)
        session.flush()
        return Reply({"project": views(call).project(row)}, 201)


_TAG_FILTERS = ("tags", "tags-any", "not-tags", "not-tags-any")


def _match_tags(project: Project, query) -> bool:
    have = set(project.tags or [])
    for key in _TAG_FILTERS:
        if key not in query:
            continue
        wanted = {t for t in query[key].split(",") if t}
        ok = {"tags": wanted <= have, "tags-any": bool(wanted & have), "not-tags": not wanted <= have,
              "not-tags-any": not (wanted & have)}[key]
        if not ok:
            return False
    return True


def list_projects(call: Call) -> dict:
    ctx = call.ctx
    domain_id = call.query.get("domain_id")
    authorize(call, "identity:list_projects", {"domain_id": domain_id or ctx.domain_id})
    if not (ctx.is_admin or ctx.is_system) and domain_id is None:
        domain_id = ctx.domain_id
    v = views(call)
    with identity(call).store.read() as session:
        stmt = select(Project)
        if domain_id is not None:
            stmt = stmt.where(Project.domain_id == domain_id)
        if "is_domain" not in call.query:
            stmt = stmt.where(Project.is_domain.is_(False))
        stmt = filtered(call, stmt, Project, {"name": "name", "enabled": "enabled", "parent_id": "parent_id",
                                              "is_domain": "is_domain"})
        rows = [p for p in session.scalars(stmt.order_by(Project.name)) if _match_tags(p, call.query)]
    return v.collection("projects", [v.project(p) for p in rows], "projects", str(call.query))


def _nest(parent_of: dict[str, str | None], ids: list[str], root: str, upward: bool) -> dict | None:
    """Keystone's ``*_as_ids`` shape: nested dicts of ids, None at the leaves."""
    tree: dict = {}
    if upward:
        node = tree
        for pid in ids:
            node[pid] = {}
            node = node[pid]
        _null_leaves(tree)
        return tree or None
    children: dict[str, list[str]] = {}
    for pid in ids:
        children.setdefault(parent_of[pid], []).append(pid)

    def build(node_id: str):
        kids = children.get(node_id, [])
        return {k: build(k) for k in kids} or None

    return build(root)


def _null_leaves(tree: dict) -> None:
    for key, value in tree.items():
        if value:
            _null_leaves(value)
        else:
            tree[key] = None


def get_project(call: Call) -> dict:
    pid = call.path["project_id"]
    v = views(call)
    with identity(call).store.read() as session:
        row = _get(session, pid, domain=None)
        authorize(call, "identity:get_project", {"project_id": row.id, "domain_id": row.domain_id})
        body = v.project(row)
        q = call.query
        if truthy(q.get("parents_as_list")) or truthy(q.get("parents_as_ids")):
            parents = [p for p in ancestors(session, row) if not p.is_domain or row.is_domain]
            if truthy(q.get("parents_as_list")):
                body["parents"] = [{"project": v.project(p)} for p in parents]
            else:
                body["parents"] = _nest({}, [p.id for p in parents], row.id, upward=True)
        if truthy(q.get("subtree_as_list")) or truthy(q.get("subtree_as_ids")):
            below = subtree(session, row.id)
            if truthy(q.get("subtree_as_list")):
                body["subtree"] = [{"project": v.project(p)} for p in below]
            else:
                body["subtree"] = _nest({p.id: p.parent_id for p in below}, [p.id for p in below], row.id,
                                        upward=False)
    return {"project": body}


def update_project(call: Call) -> dict:
    pid = call.path["project_id"]
    body = call.body["project"]
    with identity(call).store.write() as session:
        row = _get(session, pid, domain=None)
        authorize(call, "identity:update_project", {"project_id": row.id, "domain_id": row.domain_id})
        if "name" in body and body["name"] != row.name:
            _check_unique(session, row.domain_id, body["name"], row.is_domain, exclude=pid)
        if body.get("enabled") and row.parent_id:
            parent = session.get(Project, row.parent_id)
            if parent is not None and not parent.is_domain and not parent.enabled:
                raise Forbidden(f"Cannot enable project {pid} since it has disabled parents.")
        _apply(row, body, schemas.project_update["properties"]["project"]["properties"])
        return {"project": views(call).project(row)}


def delete_project(call: Call) -> Reply:
    pid = call.path["project_id"]
    with identity(call).store.write() as session:
        row = _get(session, pid, domain=None)
        authorize(call, "identity:delete_project", {"project_id": row.id, "domain_id": row.domain_id})
        if row.is_domain:
            _delete_domain(session, row)
            return Reply(status=204)
        below = subtree(session, row.id)
        if below and not truthy(call.query.get("cascade")):
            raise Forbidden(f"Cannot delete the project {pid} since it is not a leaf in the hierarchy. "
                            "Use the cascade option if you want to delete a whole subtree.")
        ids = [pid, *(p.id for p in below)]
        session.execute(delete(Assignment).where(Assignment.target_id.in_(ids)))
        session.execute(delete(Project).where(Project.id.in_(ids)))
        for project_id in ids:
            identity(call).tokens.revoke(session, project_id=project_id)
    return Reply(status=204)


# -- project tags ------------------------------------------------------------
def list_tags(call: Call) -> dict:
    with identity(call).store.read() as session:
        row = _get(session, call.path["project_id"], domain=None)
        authorize(call, "identity:project_tags", {"project_id": row.id, "domain_id": row.domain_id})
        return {"tags": list(row.tags or [])}


def _set_tags(call: Call, change) -> list:
    with identity(call).store.write() as session:
        row = _get(session, call.path["project_id"], domain=None)
        authorize(call, "identity:update_project_tags", {"project_id": row.id, "domain_id": row.domain_id})
        tags = change(list(row.tags or []))
        if len(tags) > 80:
            raise BadRequest("A project has at most 80 tags.")
        row.tags = tags
        return tags


def replace_tags(call: Call) -> dict:
    return {"tags": _set_tags(call, lambda _old: list(dict.fromkeys(call.body["tags"])))}


def clear_tags(call: Call) -> Reply:
    _set_tags(call, lambda _old: [])
    return Reply(status=204)


def check_tag(call: Call) -> Reply:
    tags = list_tags(call)["tags"]
    if call.path["tag"] not in tags:
        raise NotFound(f"Tag {call.path['tag']} not found.")
    return Reply(status=204)


def add_tag(call: Call) -> Reply:
    tag = call.path["tag"]
    schema_ok = tag and len(tag) <= 255 and "," not in tag and "/" not in tag
    if not schema_ok:
        raise BadRequest(f"Invalid tag: {tag}.")
    _set_tags(call, lambda old: old if tag in old else [*old, tag])
    return Reply(status=201, headers={"Location": call.url(f"/v3/projects/{call.path['project_id']}/tags/{tag}")})


def remove_tag(call: Call) -> Reply:
    tag = call.path["tag"]

    def drop(old: list) -> list:
        if tag not in old:
            raise NotFound(f"Tag {tag} not found.")
        return [t for t in old if t != tag]

    _set_tags(call, drop)
    return Reply(status=204)


ROUTES = [
    route("/v3/domains", "POST", create_domain, schema=schemas.domain_create),
    route("/v3/domains", "GET", list_domains),
    route("/v3/domains/{domain_id}", "GET", get_domain),
    route("/v3/domains/{domain_id}", "PATCH", update_domain, schema=schemas.domain_update),
    route("/v3/domains/{domain_id}", "DELETE", delete_domain),
    route("/v3/projects", "POST", create_project, schema=schemas.project_create),
    route("/v3/projects", "GET", list_projects),
    route("/v3/projects/{project_id}", "GET", get_project),
    route("/v3/projects/{project_id}", "PATCH", update_project, schema=schemas.project_update),
    route("/v3/projects/{project_id}", "DELETE", delete_project),
    route("/v3/projects/{project_id}/tags", "GET", list_tags),
    route("/v3/projects/{project_id}/tags", "PUT", replace_tags, schema=schemas.project_tags),
    route("/v3/projects/{project_id}/tags", "DELETE", clear_tags),
    route("/v3/projects/{project_id}/tags/{tag}", "GET", check_tag),
    route("/v3/projects/{project_id}/tags/{tag}", "PUT", add_tag),
    route("/v3/projects/{project_id}/tags/{tag}", "DELETE", remove_tag),
]
