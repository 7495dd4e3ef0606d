"""/v3/policies: policy blobs stored and served for other services, as Keystone keeps them."""

from __future__ import annotations

from onestack.http.routing import Call, Reply, route
from onestack.services.identity import schemas
from onestack.services.identity.api.common import identity, views
from onestack.services.identity.policies import authorize


def create_policy(call: Call) -> Reply:
    authorize(call.ctx, "identity:manage_policies")
    row = identity(call).policy_blobs.create(call.body["policy"])
    return Reply({"policy": views(call).policy(row)}, 201)


def list_policies(call: Call) -> dict:
    authorize(call.ctx, "identity:get_policy")
    v = views(call)
    rows = identity(call).policy_blobs.list(call.query.get("type"))
    return v.listing("policies", [v.policy(p) for p in rows], call.url("/v3/policies"))


def get_policy(call: Call) -> dict:
    authorize(call.ctx, "identity:get_policy")
    return {"policy": views(call).policy(identity(call).policy_blobs.get(call.path["policy_id"]))}


def update_policy(call: Call) -> dict:
    authorize(call.ctx, "identity:manage_policies")
    row = identity(call).policy_blobs.update(call.path["policy_id"], call.body["policy"])
    return {"policy": views(call).policy(row)}


def delete_policy(call: Call) -> Reply:
    authorize(call.ctx, "identity:manage_policies")
    identity(call).policy_blobs.delete(call.path["policy_id"])
    return Reply(status=204)


ROUTES = [
    route("/v3/policies", "POST", create_policy, schema=schemas.policy_create),
    route("/v3/policies", "GET", list_policies),
    route("/v3/policies/{policy_id}", "GET", get_policy),
    route("/v3/policies/{policy_id}", "PATCH", update_policy, schema=schemas.policy_update),
    route("/v3/policies/{policy_id}", "DELETE", delete_policy),
]
