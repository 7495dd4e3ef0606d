"""What a cloud's orchestration offers: template validation, resource types, template versions and their
functions, and the build."""

from __future__ import annotations

import re

from onestack.http.errors import BadRequest
from onestack.http.routing import Call
from onestack.services.orchestration import responses, schemas, views
from onestack.services.orchestration.api.paths import orchestration, project, v1
from onestack.services.orchestration.policies import authorize
from onestack.services.orchestration.service.hot.versions import VERSIONS
from onestack.services.orchestration.service.listing import flag

# Heat's codes of the errors validate may be told to ignore (ignore_errors): 99001, a resource type whose
# service is unavailable.  Every type onestack registers has its service, so ignoring it changes nothing.
IGNORABLE_ERRORS = {"99001"}


def validate(call: Call) -> dict:
    ignore = call.query.get("ignore_errors")
    if ignore:
        invalid = sorted(set(ignore.split(",")) - IGNORABLE_ERRORS)
        if invalid:
            raise BadRequest(f"Invalid codes in ignore_errors : {invalid}")
    return views.validated(orchestration(call).validate(call.ctx, project(call), call.body),
                           show_nested=flag(call.query.get("show_nested")))


# Heat's support statuses (heat/engine/support.py), in its order: the list filter takes one of them.
SUPPORT_STATUSES = ("UNKNOWN", "SUPPORTED", "DEPRECATED", "UNSUPPORTED", "HIDDEN")


def resource_types(call: Call) -> dict:
    project(call)
    kinds = orchestration(call).resource_types(call.ctx)
    support = call.query.get("support_status")
    if support is not None and support not in SUPPORT_STATUSES:
        raise BadRequest(f"Invalid support status and should be one of {SUPPORT_STATUSES}", kind="Invalid")
    name = call.query.get("name")
    if name:  # Heat's: a regular expression matched at the start of the name (one that does not compile: none)
        try:
            pattern = re.compile(name)
        except re.error:
            pattern = None
        kinds = [k for k in kinds if pattern is not None and pattern.match(k.name)]
    # every type here is SUPPORTED with no version of its own (see views.resource_type)
    if (support and support != "SUPPORTED") or call.query.get("version"):
        kinds = []
    if str(call.query.get("with_description", "")).lower() in ("true", "1", "yes"):
        return {"resource_types": [{"resource_type": k.name, "description": k.description} for k in kinds]}
    return {"resource_types": [k.name for k in kinds]}


def resource_type(call: Call) -> dict:
    project(call)
    return views.resource_type(orchestration(call).resource_type(call.ctx, call.path["type_name"]))


def resource_type_template(call: Call) -> dict:
    project(call)
    authorize(call.ctx, "resource_types:template")
    kind = orchestration(call).resource_type(call.ctx, call.path["type_name"])
    template_type = call.query.get("template_type", "cfn")
    if template_type not in ("hot", "cfn"):
        raise BadRequest(f"Template type is not supported: {template_type}", kind="HTTPBadRequest")
    if template_type == "cfn":
        raise BadRequest("CloudFormation templates are not supported by onestack: ask for template_type=hot",
                         kind="NotSupported")
    return views.resource_type_template(kind)


def template_versions(call: Call) -> dict:
    project(call)
    authorize(call.ctx, "stacks:list_template_versions")
    return {"template_versions": [{"version": f"heat_template_version.{v}", "type": "hot", "aliases": []}
                                  for v in VERSIONS]}


def template_functions(call: Call) -> dict:
    project(call)
    found = orchestration(call).template_functions(call.ctx, call.path["template_version"],
                                                   with_conditions=flag(call.query.get("with_condition_func")))
    return {"template_functions": [{"functions": name, "description": text} for name, text in found.items()]}


def build_info(call: Call) -> dict:
    project(call)
    authorize(call.ctx, "build_info:build_info")
    return {"api": {"revision": views.BUILD}, "engine": {"revision": views.BUILD}}


ROUTES = [
    v1("/validate", "POST", validate, schema=schemas.template_validate, response=responses.VALIDATED),
    v1("/resource_types", "GET", resource_types, response=responses.RESOURCE_TYPES),
    v1("/resource_types/{type_name}", "GET", resource_type, response=responses.RESOURCE_TYPE),
    v1("/resource_types/{type_name}/template", "GET", resource_type_template),
    v1("/template_versions", "GET", template_versions, response=responses.TEMPLATE_VERSIONS),
    v1("/template_versions/{template_version}/functions", "GET", template_functions,
       response=responses.TEMPLATE_FUNCTIONS),
    v1("/build_info", "GET", build_info, response=responses.BUILD_INFO),
]
