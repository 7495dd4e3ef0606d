"""/v3/policies: policy blobs stored and served for other services, as Keystone keeps them."""

from __future__ import annotations

from sqlalchemy import select

from onestack.db.base import new_id
from onestack.http.routing import Call, Reply, route
from onestack.services.identity import schemas
from onestack.services.identity.api.common import authorize, extra_attributes, identity, merge_extra
from onestack.services.identity.models import Policy
from onestack.services.identity.store import get

FIELDS = ("blob", "type")


def _view(call: Call, p: Policy) -> dict:
    return {**(p.extra or {}), "id": p.id, "type": p.type, "blob": p.blob,
            "links": {"self": call.url(f"/v3/policies/{p.id}")}}


def create_policy(call: Call) -> Reply:
    authorize(call, "identity:manage_policies")
    body = call.body["policy"]
    with identity(call).store.write() as session:
        row = Policy(id=new_id(), type=body["type"], blob=body["blob"], extra=extra_attributes(body, FIELDS))
        session.add(row)
        return Reply({"policy": _view(call, row)}, 201)


def list_policies(call: Call) -> dict:
    authorize(call, "identity:get_policy")
    with identity(call).store.read() as session:
        stmt = select(Policy)
        if "type" in call.query:
            stmt = stmt.where(Policy.type == call.query["type"])
        rows = session.scalars(stmt.order_by(Policy.id)).all()
    return {"policies": [_view(call, p) for p in rows],
            "links": {"self": call.url("/v3/policies"), "previous": None, "next": None}}


def get_policy(call: Call) -> dict:
    authorize(call, "identity:get_policy")
    with identity(call).store.read() as session:
        return {"policy": _view(call, get(session, Policy, call.path["policy_id"], "policy"))}


def update_policy(call: Call) -> dict:
    authorize(call, "identity:manage_policies")
    body = call.body["policy"]
    with identity(call).store.write() as session:
        row = get(session, Policy, call.path["policy_id"], "policy")
        for key in FIELDS:
            if key in body:
                setattr(row, key, body[key])
        merge_extra(row, body, FIELDS)
        return {"policy": _view(call, row)}


def delete_policy(call: Call) -> Reply:
    authorize(call, "identity:manage_policies")
    with identity(call).store.write() as session:
        session.delete(get(session, Policy, call.path["policy_id"], "policy"))
    return Reply(status=204)


ROUTES = [
    route("/v3/policies", "POST", create_policy, schema=schemas.policy_create),
    route("/v3/policies", "GET", list_policies),
    route("/v3/policies/{policy_id}", "GET", get_policy),
    route("/v3/policies/{policy_id}", "PATCH", update_policy, schema=schemas.policy_update),
    route("/v3/policies/{policy_id}", "DELETE", delete_policy),
]
