"""/v3/roles, implied roles, grants (incl. OS-INHERIT and system) and /v3/role_assignments."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onestack.db.base import new_id
from onestack.http.errors import Forbidden, NotFound
from onestack.http.routing import Call, Reply, route
from onestack.services.identity import schemas
from onestack.services.identity.api.common import authorize, filtered, identity, views
from onestack.services.identity.assignments import SYSTEM, implied_closure
from onestack.services.identity.models import Assignment, Group, ImpliedRole, Project, Role, User
from onestack.services.identity.store import conflict, get

ROLE_FIELDS = schemas.role_create["properties"]["role"]["properties"]


def _role(session: Session, rid: str) -> Role:
    return get(session, Role, rid, "role")


def _immutable(role: Role) -> None:
    if (role.options or {}).get("immutable"):
        raise Forbidden(f"Role {role.id} is immutable and cannot be changed or deleted.")


def create_role(call: Call) -> Reply:
    authorize(call, "identity:create_role")
    body = call.body["role"]
    domain_id = body.get("domain_id") or ""
    with identity(call).store.write() as session:
        if domain_id:
            domain = session.get(Project, domain_id)
            if domain is None or not domain.is_domain:
                raise NotFound(f"Could not find domain: {domain_id}.")
        if session.scalars(select(Role.id).where(Role.domain_id == domain_id, Role.name == body["name"])).first():
            raise conflict("role", "name", body["name"])
        role = Role(id=new_id(), name=body["name"], domain_id=domain_id, description=body.get("description"),
                    options={k: v for k, v in (body.get("options") or {}).items() if v is not None},
                    extra={k: v for k, v in body.items() if k not in ROLE_FIELDS})
        session.add(role)
        session.flush()
        return Reply({"role": views(call).role(role)}, 201)


def list_roles(call: Call) -> dict:
    authorize(call, "identity:list_roles")
    v = views(call)
    with identity(call).store.read() as session:
        stmt = select(Role).where(Role.domain_id == (call.query.get("domain_id") or ""))
        rows = session.scalars(filtered(call, stmt, Role, {"name": "name"}).order_by(Role.name)).all()
    return v.collection("roles", [v.role(r) for r in rows], "roles", str(call.query))


def get_role(call: Call) -> dict:
    authorize(call, "identity:get_role")
    with identity(call).store.read() as session:
        return {"role": views(call).role(_role(session, call.path["role_id"]))}


def update_role(call: Call) -> dict:
    authorize(call, "identity:update_role")
    body = call.body["role"]
    with identity(call).store.write() as session:
        role = _role(session, call.path["role_id"])
        if (role.options or {}).get("immutable") and set(body) - {"options"}:
            _immutable(role)
        if "name" in body and body["name"] != role.name and session.scalars(
                select(Role.id).where(Role.domain_id == role.domain_id, Role.name == body["name"])).first():
            raise conflict("role", "name", body["name"])
        for key in ("name", "description"):
            if key in body:
                setattr(role, key, body[key])
        if "options" in body:
            options = dict(role.options or {})
            for key, value in body["options"].items():
                options.pop(key, None) if value is None else options.__setitem__(key, value)
            role.options = options
        return {"role": views(call).role(role)}


def delete_role(call: Call) -> Reply:
    authorize(call, "identity:delete_role")
    with identity(call).store.write() as session:
        role = _role(session, call.path["role_id"])
        _immutable(role)
        session.execute(delete(Assignment).where(Assignment.role_id == role.id))
        session.execute(delete(ImpliedRole).where((ImpliedRole.prior_role_id == role.id)
                                                  | (ImpliedRole.implied_role_id == role.id)))
        session.delete(role)
    return Reply(status=204)


# -- implied roles -----------------------------------------------------------
def _inference(v, prior: Role, implied: list[Role]) -> dict:
    return {"role_inference": {"prior_role": v.role_ref(prior), "implies": [v.role_ref(r) for r in implied]},
            "links": {"self": f"{v.base}/v3/roles/{prior.id}/implies"}}


def create_implied(call: Call) -> Reply:
    authorize(call, "identity:manage_implied_roles")
    with identity(call).store.write() as session:
        prior = _role(session, call.path["prior_role_id"])
        implied = _role(session, call.path["implied_role_id"])
        if implied.domain_id and not prior.domain_id:
            raise Forbidden(f"A global role cannot imply the domain-specific role {implied.id}.")
        if prior.id == implied.id or prior.id in implied_closure(session, {implied.id}):
            raise Forbidden("Implied roles may not form a loop.")
        if session.get(ImpliedRole, (prior.id, implied.id)) is None:
            session.add(ImpliedRole(prior_role_id=prior.id, implied_role_id=implied.id))
        v = views(call)
        body = {"role_inference": {"prior_role": v.role_ref(prior), "implies": v.role_ref(implied)},
                "links": {"self": f"{v.base}/v3/roles/{prior.id}/implies/{implied.id}"}}
    return Reply(body, 201)


def _edge(session: Session, call: Call) -> tuple[Role, Role, ImpliedRole]:
    prior = _role(session, call.path["prior_role_id"])
    implied = _role(session, call.path["implied_role_id"])
    edge = session.get(ImpliedRole, (prior.id, implied.id))
    if edge is None:
        raise NotFound(f"{prior.id} does not imply {implied.id}.")
    return prior, implied, edge


def get_implied(call: Call) -> dict:
    authorize(call, "identity:implied_roles")
    v = views(call)
    with identity(call).store.read() as session:
        prior, implied, _ = _edge(session, call)
        return {"role_inference": {"prior_role": v.role_ref(prior), "implies": v.role_ref(implied)},
                "links": {"self": f"{v.base}/v3/roles/{prior.id}/implies/{implied.id}"}}


def check_implied(call: Call) -> Reply:
    authorize(call, "identity:implied_roles")
    with identity(call).store.read() as session:
        _edge(session, call)
    return Reply(status=204)


def delete_implied(call: Call) -> Reply:
    authorize(call, "identity:manage_implied_roles")
    with identity(call).store.write() as session:
        _, _, edge = _edge(session, call)
        session.delete(edge)
    return Reply(status=204)


def _implied_by(session: Session) -> dict[str, list[str]]:
    edges: dict[str, list[str]] = {}
    for e in session.scalars(select(ImpliedRole)):
        edges.setdefault(e.prior_role_id, []).append(e.implied_role_id)
    return edges


def list_implied(call: Call) -> dict:
    authorize(call, "identity:implied_roles")
    v = views(call)
    with identity(call).store.read() as session:
        prior = _role(session, call.path["prior_role_id"])
        ids = _implied_by(session).get(prior.id, [])
        implied = [session.get(Role, i) for i in ids]
        return _inference(v, prior, implied)


def role_inferences(call: Call) -> dict:
    authorize(call, "identity:implied_roles")
    v = views(call)
    with identity(call).store.read() as session:
        edges = _implied_by(session)
        result = []
        for prior_id, implied_ids in edges.items():
            prior = session.get(Role, prior_id)
            result.append({"prior_role": v.role_ref(prior),
                           "implies": [v.role_ref(session.get(Role, i)) for i in implied_ids]})
    return {"role_inferences": result, "links": {"self": f"{v.base}/v3/role_inferences"}}


# -- grants ------------------------------------------------------------------
_ACTORS = {"users": (User, "user", "User"), "groups": (Group, "group", "Group")}


def _grant_target(call: Call, session: Session, kind: str, target_id: str) -> dict:
    if kind == "system":
        return {}
    row = session.get(Project, target_id)
    if row is None or row.is_domain != (kind == "domains"):
        raise NotFound(f"Could not find {'domain' if kind == 'domains' else 'project'}: {target_id}.")
    return {"domain_id": row.id if row.is_domain else row.domain_id, "project_id": row.id}


def _grant(call: Call, session: Session, kind: str, actors: str, inherited: bool, role_needed: bool):
    model, label, prefix = _ACTORS[actors]
    actor_id = call.path["actor_id"]
    target_id = SYSTEM if kind == "system" else call.path["target_id"]
    target = _grant_target(call, session, kind, target_id)
    get(session, model, actor_id, label)
    role = _role(session, call.path["role_id"]) if role_needed else None
    if role is not None and role.domain_id and kind != "system":
        owner = target.get("domain_id")
        if role.domain_id != owner:
            raise Forbidden(f"Domain-specific role {role.id} can only be granted inside its own domain.")
    if role is not None:
        target["role_name"] = role.name
    suffix = "System" if kind == "system" else ("Domain" if kind == "domains" else "Project")
    return Assignment(type=prefix + suffix, actor_id=actor_id, target_id=target_id,
                      role_id=role.id if role else "", inherited=inherited), target


def _action(kind: str, manage: bool) -> str:
    if kind == "system":
        return "identity:manage_system_grants" if manage else "identity:list_system_grants"
    return "identity:manage_grants" if manage else "identity:list_grants"


def grant_handlers(kind: str, actors: str, inherited: bool):
    def put(call: Call) -> Reply:
        with identity(call).store.write() as session:
            a, target = _grant(call, session, kind, actors, inherited, True)
            authorize(call, _action(kind, True), target)
            key = (a.type, a.actor_id, a.target_id, a.role_id, a.inherited)
            if session.get(Assignment, key) is None:
                session.add(a)
        return Reply(status=204)

    def check(call: Call) -> Reply:
        with identity(call).store.read() as session:
            a, target = _grant(call, session, kind, actors, inherited, True)
            authorize(call, _action(kind, False), target)
            if session.get(Assignment, (a.type, a.actor_id, a.target_id, a.role_id, a.inherited)) is None:
                raise NotFound(f"Could not find role assignment with role: {a.role_id}.")
        return Reply(status=204)

    def revoke(call: Call) -> Reply:
        with identity(call).store.write() as session:
            a, target = _grant(call, session, kind, actors, inherited, True)
            authorize(call, _action(kind, True), target)
            row = session.get(Assignment, (a.type, a.actor_id, a.target_id, a.role_id, a.inherited))
            if row is None:
                raise NotFound(f"Could not find role assignment with role: {a.role_id}.")
            session.delete(row)
        return Reply(status=204)

    def list_(call: Call) -> dict:
        v = views(call)
        with identity(call).store.read() as session:
            a, target = _grant(call, session, kind, actors, inherited, False)
            authorize(call, _action(kind, False), target)
            role_ids = session.scalars(select(Assignment.role_id).where(
                Assignment.type == a.type, Assignment.actor_id == a.actor_id,
                Assignment.target_id == a.target_id, Assignment.inherited == inherited))
            roles = [session.get(Role, r) for r in role_ids]
        return v.collection("roles", [v.role(r) for r in roles], call.request.url.path.split("/v3/", 1)[1])

    return put, check, revoke, list_


def _grant_routes() -> list:
    routes = []
    specs = [("projects", "/v3/projects/{target_id}", False), ("domains", "/v3/domains/{target_id}", False),
             ("system", "/v3/system", False),
             ("domains", "/v3/OS-INHERIT/domains/{target_id}", True),
             ("projects", "/v3/OS-INHERIT/projects/{target_id}", True)]
    for kind, base, inherited in specs:
        for actors in ("users", "groups"):
            put, check, revoke, list_ = grant_handlers(kind, actors, inherited)
            suffix = "/inherited_to_projects" if inherited else ""
            one = f"{base}/{actors}/{{actor_id}}/roles/{{role_id}}{suffix}"
            many = f"{base}/{actors}/{{actor_id}}/roles{suffix}"
            routes += [route(one, "PUT", put), route(one, "GET", check),
                       route(one, "DELETE", revoke), route(many, "GET", list_)]
    return routes


ROUTES = [
    route("/v3/roles", "POST", create_role, schema=schemas.role_create),
    route("/v3/roles", "GET", list_roles),
    route("/v3/roles/{role_id}", "GET", get_role),
    route("/v3/roles/{role_id}", "PATCH", update_role, schema=schemas.role_update),
    route("/v3/roles/{role_id}", "DELETE", delete_role),
    route("/v3/roles/{prior_role_id}/implies", "GET", list_implied),
    route("/v3/roles/{prior_role_id}/implies/{implied_role_id}", "PUT", create_implied),
    # HEAD first: Starlette lets a GET route answer HEAD too.
    route("/v3/roles/{prior_role_id}/implies/{implied_role_id}", "HEAD", check_implied),
    route("/v3/roles/{prior_role_id}/implies/{implied_role_id}", "GET", get_implied),
    route("/v3/roles/{prior_role_id}/implies/{implied_role_id}", "DELETE", delete_implied),
    route("/v3/role_inferences", "GET", role_inferences),
    *_grant_routes(),
]
