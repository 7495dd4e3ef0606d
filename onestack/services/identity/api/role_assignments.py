"""GET /v3/role_assignments, with ``effective``, ``include_names`` and ``include_subtree``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.http.errors import BadRequest
from onestack.http.routing import Call, route
from onestack.services.identity.api.common import authorize, identity, truthy, views
from onestack.services.identity.assignments import SYSTEM, subtree
from onestack.services.identity.models import Assignment, Group, ImpliedRole, Membership, Project, Role, User


class _Row:
    """One assignment as reported: actor, target, role, and where it came from."""

    __slots__ = ("actor_kind", "actor_id", "target_kind", "target_id", "role_id", "inherited", "links")

    def __init__(self, actor_kind, actor_id, target_kind, target_id, role_id, inherited, links):
        self.actor_kind, self.actor_id = actor_kind, actor_id
        self.target_kind, self.target_id = target_kind, target_id
        self.role_id, self.inherited, self.links = role_id, inherited, links

    def key(self):
        return (self.actor_kind, self.actor_id, self.target_kind, self.target_id, self.role_id, self.inherited)


def _base(v, a: Assignment) -> _Row:
    actor = "user" if a.type.startswith("User") else "group"
    kind = a.type[len(actor):].lower()
    if kind == "system":
        path = f"system/{actor}s/{a.actor_id}/roles/{a.role_id}"
    else:
        path = f"{kind}s/{a.target_id}/{actor}s/{a.actor_id}/roles/{a.role_id}"
    if a.inherited:
        path = f"OS-INHERIT/{path}/inherited_to_projects"
    return _Row(actor, a.actor_id, kind, a.target_id, a.role_id, a.inherited,
                {"assignment": f"{v.base}/v3/{path}"})


def _expand(session: Session, rows: list[_Row], v) -> list[_Row]:
    """Effective view: groups become their users, inheritance reaches projects, implied roles appear."""
    out: list[_Row] = []
    for r in rows:
        actors = [(r.actor_kind, r.actor_id, None)]
        if r.actor_kind == "group":
            users = session.scalars(select(Membership.user_id).where(Membership.group_id == r.actor_id))
            actors = [("user", u, f"{v.base}/v3/groups/{r.actor_id}/users/{u}") for u in users]
        targets = [(r.target_kind, r.target_id)]
        if r.inherited:
            if r.target_kind == "domain":
                ids = session.scalars(select(Project.id).where(Project.domain_id == r.target_id,
                                                               Project.is_domain.is_(False)))
            else:
                ids = [p.id for p in subtree(session, r.target_id)]
            targets = [("project", pid) for pid in ids]
        for kind, actor_id, membership in actors:
            for tkind, tid in targets:
                links = dict(r.links)
                if membership:
                    links["membership"] = membership
                out.append(_Row(kind, actor_id, tkind, tid, r.role_id, False, links))
    edges: dict[str, list[str]] = {}
    for e in session.scalars(select(ImpliedRole)):
        edges.setdefault(e.prior_role_id, []).append(e.implied_role_id)
    implied: list[_Row] = []
    for r in out:
        todo, seen = [r.role_id], {r.role_id}
        while todo:
            prior = todo.pop()
            for role_id in edges.get(prior, ()):
                if role_id in seen:
                    continue
                seen.add(role_id)
                todo.append(role_id)
                links = {**r.links, "prior_role": f"{v.base}/v3/roles/{prior}"}
                implied.append(_Row(r.actor_kind, r.actor_id, r.target_kind, r.target_id, role_id, False, links))
    # Domain-specific roles never reach a token, only the global roles they imply do.
    domain_roles = set(session.scalars(select(Role.id).where(Role.domain_id != "")))
    unique: dict = {}
    for r in out + implied:
        if r.role_id not in domain_roles:
            unique.setdefault(r.key(), r)
    return list(unique.values())


def _named(session: Session, model, rid: str) -> dict:
    row = session.get(model, rid)
    body = {"id": rid}
    if row is None:
        return body
    body["name"] = row.name
    if model is Project and row.is_domain:
        return body
    domain = session.get(Project, row.domain_id)
    body["domain"] = {"id": row.domain_id, "name": domain.name if domain else None}
    return body


def _body(session: Session, r: _Row, names: bool) -> dict:
    actor_model = User if r.actor_kind == "user" else Group
    item: dict = {"links": r.links}
    item[r.actor_kind] = _named(session, actor_model, r.actor_id) if names else {"id": r.actor_id}
    role = session.get(Role, r.role_id)
    item["role"] = {"id": r.role_id}
    if names and role is not None:
        item["role"]["name"] = role.name
        if role.domain_id:
            domain = session.get(Project, role.domain_id)
            item["role"]["domain"] = {"id": role.domain_id, "name": domain.name if domain else None}
    if r.target_kind == "system":
        item["scope"] = {"system": {"all": True}}
    else:
        target = _named(session, Project, r.target_id) if names else {"id": r.target_id}
        item["scope"] = {r.target_kind: target}
    if r.inherited:
        item["scope"]["OS-INHERIT:inherited_to"] = "projects"
    return item


def role_assignments(call: Call) -> dict:
    q = call.query
    effective = "effective" in q and q.get("effective", "") in ("", "true", "True", "1")
    names = truthy(q.get("include_names")) or ("include_names" in q and q["include_names"] == "")
    project_id = q.get("scope.project.id")
    domain_id = q.get("scope.domain.id")
    authorize(call, "identity:list_role_assignments",
              {"domain_id": domain_id or call.ctx.domain_id, "project_id": project_id})
    if effective and "group.id" in q:
        raise BadRequest("Combining effective and group filter will always result in an empty list.")
    if "include_subtree" in q and truthy(q["include_subtree"]) and not project_id:
        raise BadRequest("scope.project.id needs to be specified if include_subtree is also specified.")
    v = views(call)
    with identity(call).store.read() as session:
        stmt = select(Assignment)
        if "role.id" in q and not effective:
            stmt = stmt.where(Assignment.role_id == q["role.id"])
        if q.get("scope.OS-INHERIT:inherited_to") == "projects":
            stmt = stmt.where(Assignment.inherited.is_(True))
        rows = [_base(v, a) for a in session.scalars(stmt)]
        if effective:
            rows = _expand(session, rows, v)
        rows = _filter(session, rows, q, project_id, domain_id)
        items = [_body(session, r, names) for r in rows]
    return {"role_assignments": items, "links": {"self": f"{v.base}/v3/role_assignments", "previous": None,
                                                 "next": None}}


def _filter(session: Session, rows: list[_Row], q, project_id, domain_id) -> list[_Row]:
    if "user.id" in q:
        rows = [r for r in rows if r.actor_kind == "user" and r.actor_id == q["user.id"]]
    if "group.id" in q:
        rows = [r for r in rows if r.actor_kind == "group" and r.actor_id == q["group.id"]]
    if "role.id" in q:
        rows = [r for r in rows if r.role_id == q["role.id"]]
    if project_id:
        wanted = {project_id}
        if truthy(q.get("include_subtree")):
            wanted |= {p.id for p in subtree(session, project_id)}
        rows = [r for r in rows if r.target_kind == "project" and r.target_id in wanted]
    if domain_id:
        rows = [r for r in rows if r.target_kind == "domain" and r.target_id == domain_id]
    if "scope.system" in q:
        rows = [r for r in rows if r.target_kind == "system" and r.target_id == SYSTEM]
    return rows


ROUTES = [route("/v3/role_assignments", "GET", role_assignments)]
