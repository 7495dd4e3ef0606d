"""/v2.1/os-keypairs: a user's keypairs (admins may name another user from 2.10)."""

from __future__ import annotations

from onestack.http.listing import STRING, page_links, parse_limit, query_parameters
from onestack.http.microversion import at_least
from onestack.http.routing import Call, Versioned, route
from onestack.services.compute import responses, schemas, views
from onestack.services.compute.api.servers import compute
from onestack.services.compute.policies import authorize


def _owner(call: Call, action: str, asked: str | None = None) -> str:
    """The user whose keypairs the call is about, once allowed: the caller unless (from 2.10) it names
    another user, which only admins may."""
    if at_least(call.version, "2.10"):
        asked = asked or call.query.get("user_id")
    user_id = asked or call.ctx.user_id
    authorize(call.ctx, f"os_compute_api:os-keypairs:{action}", user_id=user_id)
    return user_id


def list_keypairs(call: Call) -> dict:
    user_id = _owner(call, "index")
    paged = at_least(call.version, "2.35")
    limit = parse_limit(call.query) if paged else None
    shown = compute(call).keypairs.listing(user_id, call.query if paged else {}, limit)
    marker = shown[-1].name if shown and limit and len(shown) == limit else None
    return {"keypairs": [{"keypair": views.keypair_summary(k, call.version)} for k in shown],
            **page_links("keypairs", call.url, "/v2.1/os-keypairs", call.query, marker)}


def create_keypair(call: Call) -> dict:
    asked = call.body["keypair"]
    user_id = _owner(call, "create", asked.get("user_id"))
    keypair, private_key = compute(call).keypairs.create(call.ctx.project_id, user_id, asked["name"],
                                                         asked.get("type", "ssh"), asked.get("public_key"))
    # answered with the route's status: 200, 201 from 2.2
    return {"keypair": views.keypair_created(keypair, call.version, private_key)}


def show_keypair(call: Call) -> dict:
    user_id = _owner(call, "show")
    return {"keypair": views.keypair(compute(call).keypairs.get(user_id, call.path["name"]), call.version)}


def delete_keypair(call: Call) -> None:
    user_id = _owner(call, "delete")
    compute(call).keypairs.delete(user_id, call.path["name"])  # 202, 204 from 2.2 (the route's status)


ROUTES = [
    route("/v2.1/os-keypairs", "GET", list_keypairs, response=responses.KEYPAIRS,
          query=query_parameters(user_id=STRING)),
    route("/v2.1/os-keypairs", "POST", create_keypair, schema=schemas.KEYPAIR_CREATE,
          status=Versioned({"2.1": 200, "2.2": 201}), response=responses.KEYPAIR_CREATED),
    route("/v2.1/os-keypairs/{name}", "GET", show_keypair, response=responses.KEYPAIR),
    route("/v2.1/os-keypairs/{name}", "DELETE", delete_keypair, status=Versioned({"2.1": 202, "2.2": 204})),
]
