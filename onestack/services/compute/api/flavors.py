"""/v2.1/flavors: flavors, their extra specs and which projects may use a private one."""

from __future__ import annotations

from onestack.http.errors import BadRequest, Conflict, NotFound
from onestack.http.microversion import at_least
from onestack.http.routing import Call, Reply, route
from onestack.services.compute import schemas, views
from onestack.services.compute.policies import allowed, authorize
from onestack.services.compute.service import ComputeService, flavors

EXTRA_SPECS_INDEX = "os_compute_api:os-flavor-extra-specs:index"


def compute(call: Call) -> ComputeService:
    return call.runtime.compute


def _view(call: Call, flavor) -> dict:
    return {"flavor": views.flavor(flavor, call.url, call.version, allowed(call.ctx, EXTRA_SPECS_INDEX))}


def _listing(call: Call, detail: bool) -> dict:
    ctx = call.ctx
    with compute(call).db.read() as session:
        shown, limit = flavors.listing(session, ctx, call.query)
        if detail:
            show_specs = allowed(ctx, EXTRA_SPECS_INDEX)
            items = [views.flavor(f, call.url, call.version, show_specs) for f in shown]
        else:
            items = [views.flavor_summary(f, call.url, call.version) for f in shown]
    body = {"flavors": items}
    if shown and len(shown) == limit:  # Nova links on from every full page
        path = "flavors/detail" if detail else "flavors"
        body["flavors_links"] = views.next_link(call.url, path, call.query, shown[-1].flavorid)
    return body


def list_flavors(call: Call) -> dict:
    return _listing(call, detail=False)


def list_flavors_detail(call: Call) -> dict:
    return _listing(call, detail=True)


def show_flavor(call: Call) -> dict:
    with compute(call).db.read() as session:
        return _view(call, flavors.get(session, call.ctx, call.path["flavor_id"]))


def create_flavor(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-flavor-manage:create")
    schemas.check(call.body, schemas.flavor_create(call.version))
    with compute(call).db.write() as session:
        return _view(call, flavors.create(session, call.body["flavor"]))


def update_flavor(call: Call) -> dict:
    if not at_least(call.version, "2.55"):
        raise NotFound("The resource could not be found.")
    authorize(call.ctx, "os_compute_api:os-flavor-manage:update")
    schemas.check(call.body, schemas.FLAVOR_UPDATE)
    with compute(call).db.write() as session:
        flavor = flavors.get(session, call.ctx, call.path["flavor_id"])
        flavor.description = call.body["flavor"]["description"]
        session.flush()
        return _view(call, flavor)


def delete_flavor(call: Call) -> Reply:
    authorize(call.ctx, "os_compute_api:os-flavor-manage:delete")
    with compute(call).db.write() as session:
        session.delete(flavors.get(session, call.ctx, call.path["flavor_id"]))
    return Reply(status=202)


# -- extra specs -------------------------------------------------------------------------
def list_extra_specs(call: Call) -> dict:
    authorize(call.ctx, EXTRA_SPECS_INDEX)
    with compute(call).db.read() as session:
        return {"extra_specs": flavors.get(session, call.ctx, call.path["flavor_id"]).extra_specs}


def create_extra_specs(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-flavor-extra-specs:create")
    schemas.check(call.body, schemas.EXTRA_SPECS_CREATE)
    with compute(call).db.write() as session:
        flavor = flavors.get(session, call.ctx, call.path["flavor_id"])
        return {"extra_specs": flavors.set_extra_specs(session, flavor, call.body["extra_specs"])}


def show_extra_spec(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-flavor-extra-specs:show")
    with compute(call).db.read() as session:
        spec = flavors.extra_spec(flavors.get(session, call.ctx, call.path["flavor_id"]), call.path["key"])
        return {spec.key: spec.value}


def update_extra_spec(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-flavor-extra-specs:update")
    schemas.check(call.body, schemas.EXTRA_SPEC_UPDATE)
    if call.path["key"] not in call.body:
        raise BadRequest("Request body and URI mismatch")
    with compute(call).db.write() as session:
        flavor = flavors.get(session, call.ctx, call.path["flavor_id"])
        return flavors.set_extra_specs(session, flavor, call.body)


def delete_extra_spec(call: Call) -> Reply:
    authorize(call.ctx, "os_compute_api:os-flavor-extra-specs:delete")
    with compute(call).db.write() as session:
        flavors.delete_extra_spec(session, flavors.get(session, call.ctx, call.path["flavor_id"]), call.path["key"])
    return Reply(status=200)


# -- access to private flavors ----------------------------------------------------------------
def list_access(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-flavor-access")
    with compute(call).db.read() as session:
        flavor = flavors.get(session, call.ctx, call.path["flavor_id"])
        if flavor.is_public:
            raise NotFound("Access list not available for public flavors.")
        return views.flavor_access(flavor.flavorid, flavors.projects_with_access(session, flavor))


def flavor_action(call: Call) -> dict:
    schemas.check(call.body, schemas.FLAVOR_ACTION)
    (action, argument), = call.body.items()
    if action not in ("addTenantAccess", "removeTenantAccess"):
        raise BadRequest(f"There is no such action: {action}")
    adding = action == "addTenantAccess"
    authorize(call.ctx, "os_compute_api:os-flavor-access:" + ("add_tenant_access" if adding else
                                                              "remove_tenant_access"))
    with compute(call).db.write() as session:
        flavor = flavors.get(session, call.ctx, call.path["flavor_id"])
        if adding:
            if flavor.is_public and at_least(call.version, "2.7"):
                raise Conflict("Can not add access to a public flavor.")
            flavors.add_access(session, flavor, argument["tenant"])
        else:
            flavors.remove_access(session, flavor, argument["tenant"])
        return views.flavor_access(flavor.flavorid, flavors.projects_with_access(session, flavor))


_SPECS = "/v2.1/flavors/{flavor_id}/os-extra_specs"
ROUTES = [
    route("/v2.1/flavors", "GET", list_flavors),
    route("/v2.1/flavors", "POST", create_flavor),
    # before /flavors/{flavor_id}, which would take "detail" for an id
    route("/v2.1/flavors/detail", "GET", list_flavors_detail),
    route("/v2.1/flavors/{flavor_id}", "GET", show_flavor),
    route("/v2.1/flavors/{flavor_id}", "PUT", update_flavor),
    route("/v2.1/flavors/{flavor_id}", "DELETE", delete_flavor),
    route("/v2.1/flavors/{flavor_id}/action", "POST", flavor_action),
    route("/v2.1/flavors/{flavor_id}/os-flavor-access", "GET", list_access),
    route(_SPECS, "GET", list_extra_specs),
    route(_SPECS, "POST", create_extra_specs),
    route(_SPECS + "/{key}", "GET", show_extra_spec),
    route(_SPECS + "/{key}", "PUT", update_extra_spec),
    route(_SPECS + "/{key}", "DELETE", delete_extra_spec),
]
