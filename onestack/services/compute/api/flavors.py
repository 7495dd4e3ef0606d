"""/v2.1/flavors: flavors, their extra specs and which projects may use a private one."""

from __future__ import annotations

from onestack.http.errors import BadRequest, NotFound
from onestack.http.listing import page_links
from onestack.http.microversion import at_least
from onestack.http.resource import summary_and_detail
from onestack.http.routing import Call, Reply, route
from onestack.services.compute import responses, schemas, views
from onestack.services.compute.policies import allowed, authorize
from onestack.services.compute.service import ComputeService, flavors

EXTRA_SPECS_INDEX = "os_compute_api:os-flavor-extra-specs:index"


def compute(call: Call) -> ComputeService:
    return call.runtime.compute


def _view(call: Call, flavor) -> dict:
    return {"flavor": views.flavor(flavor, call.url, call.version, allowed(call.ctx, EXTRA_SPECS_INDEX))}


def _listing(call: Call, detail: bool) -> dict:
    ctx = call.ctx
    shown, limit = compute(call).flavors.listing(ctx, call.query)
    if detail:
        show_specs = allowed(ctx, EXTRA_SPECS_INDEX)
        items = [views.flavor(f, call.url, call.version, show_specs) for f in shown]
    else:
        items = [views.flavor_summary(f, call.url, call.version) for f in shown]
    # Nova links on from every full page
    marker = shown[-1].flavorid if shown and len(shown) == limit else None
    path = "/v2.1/flavors/detail" if detail else "/v2.1/flavors"
    return {"flavors": items, **page_links("flavors", call.url, path, call.query, marker)}


def show_flavor(call: Call) -> dict:
    return _view(call, compute(call).flavors.get(call.ctx, call.path["flavor_id"]))


def create_flavor(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-flavor-manage:create")
    return _view(call, compute(call).flavors.create(call.body["flavor"]))


def update_flavor(call: Call) -> dict:
    if not at_least(call.version, "2.55"):
        raise NotFound("The resource could not be found.")
    authorize(call.ctx, "os_compute_api:os-flavor-manage:update")
    return _view(call, compute(call).flavors.describe(call.ctx, call.path["flavor_id"],
                                                      call.body["flavor"]["description"]))


def delete_flavor(call: Call) -> Reply:
    authorize(call.ctx, "os_compute_api:os-flavor-manage:delete")
    compute(call).flavors.delete(call.ctx, call.path["flavor_id"])
    return Reply(status=202)


# -- extra specs -------------------------------------------------------------------------
def list_extra_specs(call: Call) -> dict:
    authorize(call.ctx, EXTRA_SPECS_INDEX)
    return {"extra_specs": compute(call).flavors.get(call.ctx, call.path["flavor_id"]).extra_specs}


def create_extra_specs(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-flavor-extra-specs:create")
    return {"extra_specs": compute(call).flavors.set_extra_specs(call.ctx, call.path["flavor_id"],
                                                                 call.body["extra_specs"])}


def show_extra_spec(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-flavor-extra-specs:show")
    spec = compute(call).flavors.extra_spec(call.ctx, call.path["flavor_id"], call.path["key"])
    return {spec.key: spec.value}


def update_extra_spec(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-flavor-extra-specs:update")
    if call.path["key"] not in call.body:
        raise BadRequest("Request body and URI mismatch")
    return compute(call).flavors.set_extra_specs(call.ctx, call.path["flavor_id"], call.body)


def delete_extra_spec(call: Call) -> Reply:
    authorize(call.ctx, "os_compute_api:os-flavor-extra-specs:delete")
    compute(call).flavors.delete_extra_spec(call.ctx, call.path["flavor_id"], call.path["key"])
    return Reply(status=200)


# -- access to private flavors ----------------------------------------------------------------
def list_access(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-flavor-access")
    flavor, projects = compute(call).flavors.access(call.ctx, call.path["flavor_id"])
    return views.flavor_access(flavor.flavorid, projects)


def flavor_action(call: Call) -> dict:
    (action, argument), = call.body.items()
    if action not in ("addTenantAccess", "removeTenantAccess"):
        raise BadRequest(f"There is no such action: {action}")
    adding = action == "addTenantAccess"
    authorize(call.ctx, "os_compute_api:os-flavor-access:" + ("add_tenant_access" if adding else
                                                              "remove_tenant_access"))
    flavor, projects = compute(call).flavors.change_access(call.ctx, call.path["flavor_id"], argument["tenant"],
                                                           adding=adding, public_refused=at_least(call.version, "2.7"))
    return views.flavor_access(flavor.flavorid, projects)


_SPECS = "/v2.1/flavors/{flavor_id}/os-extra_specs"
ROUTES = [
    *summary_and_detail("/v2.1/flavors", _listing, flavors.QUERY, (responses.FLAVORS, responses.FLAVORS_DETAIL)),
    route("/v2.1/flavors", "POST", create_flavor, schema=schemas.FLAVOR_CREATE, response=responses.FLAVOR),
    route("/v2.1/flavors/{flavor_id}", "GET", show_flavor, response=responses.FLAVOR),
    route("/v2.1/flavors/{flavor_id}", "PUT", update_flavor, schema=schemas.FLAVOR_UPDATE, response=responses.FLAVOR),
    route("/v2.1/flavors/{flavor_id}", "DELETE", delete_flavor),
    route("/v2.1/flavors/{flavor_id}/action", "POST", flavor_action, schema=schemas.FLAVOR_ACTION),
    route("/v2.1/flavors/{flavor_id}/os-flavor-access", "GET", list_access),
    route(_SPECS, "GET", list_extra_specs),
    route(_SPECS, "POST", create_extra_specs, schema=schemas.EXTRA_SPECS_CREATE),
    route(_SPECS + "/{key}", "GET", show_extra_spec),
    route(_SPECS + "/{key}", "PUT", update_extra_spec, schema=schemas.EXTRA_SPEC_UPDATE),
    route(_SPECS + "/{key}", "DELETE", delete_extra_spec),
]
