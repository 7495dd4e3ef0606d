"""/traits (1.6) and /resource_providers/{uuid}/traits."""

from __future__ import annotations

from onestack.http.errors import BadRequest
from onestack.http.listing import query_parameters
from onestack.http.routing import Call, Reply, route
from onestack.services.placement import responses, schemas, views
from onestack.services.placement.api.common import placement, reply, since
from onestack.services.placement.policies import authorize
from onestack.services.placement.service import standard
from onestack.services.placement.service.queries import bad, only_known

# the list's filters (from the version each is known at)
FILTERS = {"name": "1.6", "associated": "1.6"}


def list_traits(call: Call) -> Reply:
    since(call, "1.6")
    authorize(call.ctx, "traits")
    q = call.query
    only_known(q, FILTERS, call.version)
    names, prefix, associated = None, None, None
    if "name" in q:
        text = q["name"]
        if text.startswith("in:"):
            names = frozenset(text[3:].split(","))
        elif text.startswith("startswith:"):
            prefix = text[len("startswith:"):]
        else:
            raise bad(f"Badly formatted name parameter. Expected name query string parameter in form: "
                      f"?name=[in|startswith]:[name1,name2|prefix]. Got: \"{text}\"")
    if "associated" in q:
        if q["associated"] not in ("true", "false"):
            raise bad(f"The query parameter \"associated\" only accepts \"true\" or \"false\". Got: "
                      f"{q['associated']}")
        associated = q["associated"] == "true"
    return reply(call, {"traits": placement(call).traits(names, prefix, associated)})


def put_trait(call: Call) -> Reply:
    since(call, "1.6")
    authorize(call.ctx, "traits")
    name = call.path["name"]
    if not standard.is_custom(name) or len(name) > 255:
        raise BadRequest('The trait is invalid. A valid trait must be no longer than 255 characters, start with the '
                         'prefix "CUSTOM_" and use following characters: "A"-"Z", "0"-"9" and "_"')
    created = placement(call).ensure_trait(name)
    return Reply(None, 201 if created else 204, {"Location": call.url(f"/traits/{name}")})


def show_trait(call: Call) -> Reply:
    since(call, "1.6")
    authorize(call.ctx, "traits")
    placement(call).trait(call.path["name"])
    return Reply(None, 204)


def delete_trait(call: Call) -> Reply:
    since(call, "1.6")
    authorize(call.ctx, "traits")
    placement(call).delete_trait(call.path["name"])
    return Reply(None, 204)


def _reply(call: Call, provider, names: list[str]) -> Reply:
    return reply(call, views.provider_traits(provider, names), provider.updated_at)


def list_provider_traits(call: Call) -> Reply:
    since(call, "1.6")
    authorize(call.ctx, "traits")
    return _reply(call, *placement(call).provider_traits(call.path["uuid"]))


def set_provider_traits(call: Call) -> Reply:
    since(call, "1.6")
    authorize(call.ctx, "traits")
    return _reply(call, *placement(call).set_provider_traits(call.path["uuid"], call.body["traits"],
                                                             call.body["resource_provider_generation"]))


def delete_provider_traits(call: Call) -> Reply:
    since(call, "1.6")
    authorize(call.ctx, "traits")
    placement(call).set_provider_traits(call.path["uuid"], [], None)
    return Reply(None, 204)


ROUTES = [
    route("/traits", "GET", list_traits, query=query_parameters(FILTERS, paging=()), response=responses.TRAITS),
    route("/traits/{name}", "PUT", put_trait),
    route("/traits/{name}", "GET", show_trait),
    route("/traits/{name}", "DELETE", delete_trait),
    route("/resource_providers/{uuid}/traits", "GET", list_provider_traits, response=responses.PROVIDER_TRAITS),
    route("/resource_providers/{uuid}/traits", "PUT", set_provider_traits, schema=schemas.TRAITS),
    route("/resource_providers/{uuid}/traits", "DELETE", delete_provider_traits),
]
