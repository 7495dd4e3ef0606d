"""/v3/OS-TRUST/trusts: delegation of a trustor's roles on a project to a trustee."""

from __future__ import annotations

from onestack.http.routing import Call, Reply, route
from onestack.services.identity import schemas
from onestack.services.identity.api.common import check, identity, views
from onestack.services.identity.policies import authorize
from onestack.services.identity.views import TRUSTS as BASE


def create_trust(call: Call) -> Reply:
    body = call.body["trust"]
    authorize(call.ctx, "identity:create_trust", {"trustor_user_id": body["trustor_user_id"]})
    trust, roles = identity(call).trusts.create(call.ctx, body)
    return Reply({"trust": views(call).trust(trust, roles)}, 201)


def list_trusts(call: Call) -> dict:
    trustor, trustee = call.query.get("trustor_user_id"), call.query.get("trustee_user_id")
    if call.ctx.user_id not in (trustor, trustee):
        authorize(call.ctx, "identity:list_trusts")
    v = views(call)
    rows = identity(call).trusts.list(trustor, trustee)
    return v.listing("trusts", [v.trust(t, None) for t in rows], call.url(BASE))


def _trust_check(call: Call, action: str):
    """A trust that is gone (or used up) is a 404 to anyone authenticated: Keystone answers so for trusts."""
    return check(call, action, missing_is_404=True)


def get_trust(call: Call) -> dict:
    trust, roles = identity(call).trusts.get(call.path["trust_id"], _trust_check(call, "identity:get_trust"))
    return {"trust": views(call).trust(trust, roles)}


def delete_trust(call: Call) -> Reply:
    identity(call).trusts.delete(call.path["trust_id"], _trust_check(call, "identity:delete_trust"))
    return Reply(status=204)


def trust_roles(call: Call) -> dict:
    v = views(call)
    trust, roles = identity(call).trusts.get(call.path["trust_id"], _trust_check(call, "identity:get_trust"))
    return v.listing("roles", [v.role_ref(r) for r in roles], call.url(f"{BASE}/{trust.id}/roles"))


def trust_role(call: Call) -> dict:
    role = identity(call).trusts.role(call.path["trust_id"], call.path["role_id"], _trust_check(call, "identity:get_trust"))
    return {"role": views(call).role_ref(role)}


ROUTES = [
    route(BASE, "POST", create_trust, schema=schemas.trust_create),
    route(BASE, "GET", list_trusts),
    route(f"{BASE}/{{trust_id}}", "GET", get_trust),
    route(f"{BASE}/{{trust_id}}", "DELETE", delete_trust),
    route(f"{BASE}/{{trust_id}}/roles", "GET", trust_roles),
    route(f"{BASE}/{{trust_id}}/roles/{{role_id}}", "GET", trust_role),
]
