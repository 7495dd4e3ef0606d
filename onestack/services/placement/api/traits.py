"""/traits (1.6) and /resource_providers/{uuid}/traits."""

from __future__ import annotations

from onestack.http.errors import BadRequest, NotFound
from onestack.http.routing import Call, Reply, route
from onestack.services.placement import catalog, providers, schemas, standard
from onestack.services.placement.api.common import V, authorize, body, placement, reply, since
from onestack.services.placement.queries import bad, only_known


def list_traits(call: Call) -> Reply:
    since(call, 1, 6)
    authorize(call, "traits")
    q = call.query
    only_known(q, {"name": V(1, 6), "associated": V(1, 6)}, call.version)
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
    with placement(call).read() as session:
        return reply(call, {"traits": catalog.traits(session, names, prefix, associated)})


def put_trait(call: Call) -> Reply:
    since(call, 1, 6)
    authorize(call, "traits")
    name = call.path["name"]
    if not standard.is_custom(name) or len(name) > 255:
        raise BadRequest('The trait is invalid. A valid trait must be no longer than 255 characters, start with the '
                         'prefix "CUSTOM_" and use following characters: "A"-"Z", "0"-"9" and "_"')
    with placement(call).write() as session:
        created = catalog.ensure_trait(session, name)
    headers = {"Location": call.url(f"/traits/{name}")}
    return Reply(None, 201 if created else 204, headers)


def show_trait(call: Call) -> Reply:
    since(call, 1, 6)
    authorize(call, "traits")
    with placement(call).read() as session:
        if not catalog.trait_exists(session, call.path["name"]):
            raise NotFound(f"No such trait(s): {call.path['name']}.")
    return Reply(None, 204)


def delete_trait(call: Call) -> Reply:
    since(call, 1, 6)
    authorize(call, "traits")
    with placement(call).write() as session:
        catalog.delete_trait(session, call.path["name"])
    return Reply(None, 204)


def _provider_traits(call: Call, session, provider) -> Reply:
    return reply(call, {"traits": catalog.provider_traits(session, provider),
                        "resource_provider_generation": provider.generation}, provider.updated_at)


def list_provider_traits(call: Call) -> Reply:
    since(call, 1, 6)
    authorize(call, "traits")
    with placement(call).read() as session:
        return _provider_traits(call, session, providers.get(session, call.path["uuid"]))


def set_provider_traits(call: Call) -> Reply:
    since(call, 1, 6)
    authorize(call, "traits")
    data = body(call, schemas.PROVIDER_TRAITS)
    with placement(call).write() as session:
        provider = providers.get(session, call.path["uuid"])
        catalog.set_provider_traits(session, provider, data["traits"], data["resource_provider_generation"])
        return _provider_traits(call, session, provider)


def delete_provider_traits(call: Call) -> Reply:
    since(call, 1, 6)
    authorize(call, "traits")
    with placement(call).write() as session:
        catalog.set_provider_traits(session, providers.get(session, call.path["uuid"]), [], None)
    return Reply(None, 204)


ROUTES = [
    route("/traits", "GET", list_traits),
    route("/traits/{name}", "PUT", put_trait),
    route("/traits/{name}", "GET", show_trait),
    route("/traits/{name}", "DELETE", delete_trait),
    route("/resource_providers/{uuid}/traits", "GET", list_provider_traits),
    route("/resource_providers/{uuid}/traits", "PUT", set_provider_traits),
    route("/resource_providers/{uuid}/traits", "DELETE", delete_provider_traits),
]
