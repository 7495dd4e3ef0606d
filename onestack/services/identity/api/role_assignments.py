"""GET /v3/role_assignments, with ``effective``, ``include_names`` and ``include_subtree``."""

from __future__ import annotations

from onestack.http.errors import BadRequest
from onestack.http.routing import Call, route
from onestack.services.identity.api.common import identity, truthy, views
from onestack.services.identity.policies import authorize
from onestack.services.identity.service.assignments import Wanted


def role_assignments(call: Call) -> dict:
    q = call.query
    effective = "effective" in q and q.get("effective", "") in ("", "true", "True", "1")
    names = truthy(q.get("include_names")) or ("include_names" in q and q["include_names"] == "")
    project_id = q.get("scope.project.id")
    domain_id = q.get("scope.domain.id")
    ctx = call.ctx
    authorize(ctx, "identity:list_role_assignments", {"domain_id": domain_id or ctx.domain_id, "project_id": project_id})
    # The admin and a system reader see every assignment; a domain's reader (Keystone's defaults) only those
    # on its domain and the domain's projects, whatever the filters ask.
    within_domain = None if ctx.is_admin or ctx.is_system else ctx.domain_id
    if effective and "group.id" in q:
        raise BadRequest("Combining effective and group filter will always result in an empty list.")
    if "include_subtree" in q and truthy(q["include_subtree"]) and not project_id:
        raise BadRequest("scope.project.id needs to be specified if include_subtree is also specified.")
    wanted = Wanted(user_id=q.get("user.id"), group_id=q.get("group.id"), role_id=q.get("role.id"),
                    project_id=project_id, include_subtree=truthy(q.get("include_subtree")), domain_id=domain_id,
                    system="scope.system" in q, inherited_only=q.get("scope.OS-INHERIT:inherited_to") == "projects",
                    within_domain=within_domain)
    lines, named = identity(call).assignments.list(wanted, effective=effective, names=names)
    v = views(call)
    return v.listing("role_assignments", [v.role_assignment(line, named) for line in lines],
                     f"{v.base}/v3/role_assignments")


ROUTES = [route("/v3/role_assignments", "GET", role_assignments)]
