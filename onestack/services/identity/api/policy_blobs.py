"""/v3/policies: policy blobs stored and served for other services, as Keystone keeps them."""

from __future__ import annotations

from onestack.http.routing import Call, route
from onestack.services.identity import schemas
from onestack.services.identity.api.common import identity, resource, views
from onestack.services.identity.policies import authorize
from onestack.services.identity.service.policy_blobs import PolicyBlobs
from onestack.services.identity.views import Views

POLICIES = resource("/v3/policies", "policy", "policy_id", lambda i: i.policy_blobs, Views.policy)


def list_policies(call: Call) -> dict:
    authorize(call.ctx, "identity:get_policy")
    v = views(call)
    rows = identity(call).policy_blobs.list(call.query.get("type"))
    return v.listing("policies", [v.policy(p) for p in rows], call.url("/v3/policies"))


ROUTES = [
    POLICIES.create("identity:manage_policies", PolicyBlobs.create, schemas.policy_create),
    route("/v3/policies", "GET", list_policies),
    POLICIES.show("identity:get_policy", PolicyBlobs.get),
    POLICIES.update("identity:manage_policies", PolicyBlobs.update, schemas.policy_update),
    POLICIES.delete("identity:manage_policies", PolicyBlobs.delete),
]
