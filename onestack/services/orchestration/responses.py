"""What Heat's bodies promise, as JSON Schema: the routes' ``response=``, published in the OpenAPI description
and checked by the fuzzer against every success.

Tempest ships no response schemas for Orchestration; the facts are Heat's API reference (its response
parameters and samples).  Required are the keys Heat always returns (its samples show them, null where there
is nothing: a stack's ``parent``, ``tags``, ``deletion_time``); keys that only some calls show (a list's
``project`` with ``global_tenant``, a resource's ``parent_resource`` in a nested stack, the outputs a show
without ``resolve_outputs`` leaves out) are optional, and other keys may follow.  Heat's types are loose where
its values are: an output's value and a parameter's are any JSON, a structured config's ``config`` a map.
"""

from __future__ import annotations

from onestack.http.shapes import (
    ARRAY,
    BOOLEAN,
    INTEGER,
    LINKS,
    OBJECT,
    STRING,
    TIME,
    array,
    either,
    many,
    nullable,
    obj,
    one,
)

# -- stacks ------------------------------------------------------------------------------------------------
_STACK_SUMMARY_KEYS = {
    "id": STRING, "stack_name": STRING, "description": STRING, "creation_time": TIME,
    "updated_time": nullable(TIME), "deletion_time": nullable(TIME), "stack_status": STRING,
    "stack_status_reason": STRING, "stack_owner": nullable(STRING), "parent": nullable(STRING),
    "stack_user_project_id": nullable(STRING), "tags": nullable(array(STRING)), "links": LINKS,
}
# ``project`` with global_tenant (an admin's list of every project's stacks)
_STACK_SUMMARY = obj(_STACK_SUMMARY_KEYS, {"project": STRING})
STACKS = obj({"stacks": array(_STACK_SUMMARY)}, {"count": INTEGER})

_OUTPUT = obj({"output_key": STRING, "description": nullable(STRING)},
              {"output_value": {}, "output_error": STRING})
_STACK_KEYS = {
    **_STACK_SUMMARY_KEYS, "capabilities": ARRAY, "disable_rollback": BOOLEAN, "notification_topics": ARRAY,
    "parameters": OBJECT, "template_description": STRING, "timeout_mins": nullable(INTEGER),
}
# outputs are left out when the caller asks not to resolve them (``resolve_outputs=false``)
STACK = one("stack", obj(_STACK_KEYS, {"outputs": array(_OUTPUT)}))
# Heat's preview shows each resource it would make (a nested stack's as a list of its own)
_PREVIEW_RESOURCE = obj({"resource_name": STRING, "resource_type": STRING, "required_by": array(STRING)}, {
    "resource_identity": OBJECT, "properties": OBJECT, "metadata": OBJECT, "physical_resource_id": STRING,
    "resource_action": STRING, "resource_status": STRING, "resource_status_reason": STRING,
    "stack_identity": OBJECT, "stack_name": STRING, "description": STRING, "attributes": OBJECT})
# a stack that is not made has no status (Heat's preview shows none)
_UNMADE = ("stack_status", "stack_status_reason")
STACK_PREVIEW = one("stack", obj(
    {**{k: v for k, v in _STACK_KEYS.items() if k not in _UNMADE},
     "resources": array(either(_PREVIEW_RESOURCE, ARRAY))},
    {"outputs": array(_OUTPUT), **{k: nullable(STRING) for k in _UNMADE}}))
STACK_CREATED = one("stack", obj({"id": STRING, "links": LINKS}))

OUTPUTS = obj({"outputs": array(obj({"output_key": STRING, "description": nullable(STRING)}))})
OUTPUT = one("output", _OUTPUT)

# -- resources and events -----------------------------------------------------------------------------------
_RESOURCE_KEYS = {
    "resource_name": STRING, "logical_resource_id": STRING, "physical_resource_id": nullable(STRING),
    "resource_status": STRING, "resource_status_reason": nullable(STRING), "resource_type": STRING,
    "creation_time": TIME, "updated_time": nullable(TIME), "required_by": array(STRING), "links": LINKS,
}
# ``with_detail`` adds what a show has; a nested stack's resources name their parent
_RESOURCE_DETAIL = {"description": STRING, "attributes": OBJECT, "metadata": OBJECT}
RESOURCES = many("resources", obj(_RESOURCE_KEYS, {**_RESOURCE_DETAIL, "parent_resource": STRING}))
RESOURCE = one("resource", obj({**_RESOURCE_KEYS, "description": STRING, "attributes": OBJECT},
                               {"metadata": OBJECT, "parent_resource": STRING}))
RESOURCE_METADATA = one("metadata", OBJECT)

_EVENT_KEYS = {
    "id": STRING, "event_time": TIME, "resource_name": STRING, "logical_resource_id": STRING,
    "physical_resource_id": nullable(STRING), "resource_status": STRING,
    "resource_status_reason": nullable(STRING), "links": LINKS,
}
EVENTS = many("events", obj(_EVENT_KEYS, {"resource_type": STRING, "resource_properties": OBJECT}))
EVENT = one("event", obj({**_EVENT_KEYS, "resource_type": STRING, "resource_properties": OBJECT}))

# -- snapshots ------------------------------------------------------------------------------------------------
# the data once the snapshot is complete, null before
_SNAPSHOT_KEYS = {"id": STRING, "name": nullable(STRING), "status": STRING, "status_reason": nullable(STRING),
                  "data": nullable(OBJECT), "creation_time": TIME}
SNAPSHOT_TAKEN = obj(_SNAPSHOT_KEYS, {"stack_id": STRING})
SNAPSHOTS = many("snapshots", obj(_SNAPSHOT_KEYS, {"stack_id": STRING}))
SNAPSHOT = one("snapshot", obj(_SNAPSHOT_KEYS, {"stack_id": STRING}))

# -- what the cloud offers -------------------------------------------------------------------------------------
TEMPLATE_VERSIONS = many("template_versions", obj({"version": STRING, "type": {"enum": ["hot", "cfn"]}},
                                                  {"aliases": array(STRING)}))
TEMPLATE_FUNCTIONS = many("template_functions", obj({"functions": STRING, "description": STRING}))
# names alone, or with ``with_description`` each name with its description
RESOURCE_TYPES = many("resource_types", either(STRING, obj({"resource_type": STRING},
                                                            {"description": nullable(STRING)})))
RESOURCE_TYPE = obj({"resource_type": STRING, "properties": OBJECT, "attributes": OBJECT, "support_status": OBJECT},
                    {"description": nullable(STRING)})
BUILD_INFO = obj({"api": obj({"revision": STRING}), "engine": obj({"revision": STRING})})
VALIDATED = obj({"Description": STRING, "Parameters": OBJECT},
                {"ParameterGroups": ARRAY, "Environment": OBJECT, "NestedParameters": OBJECT})

# -- software configs and deployments ------------------------------------------------------------------------
_CONFIG_SUMMARY = {"id": STRING, "name": nullable(STRING), "group": STRING, "creation_time": TIME}
SOFTWARE_CONFIGS = many("software_configs", obj(_CONFIG_SUMMARY))
# a script's config is its text, a structured config's a map; Heat shows no options as null
SOFTWARE_CONFIG = one("software_config", obj({
    **_CONFIG_SUMMARY, "config": nullable(either(STRING, OBJECT)), "inputs": ARRAY, "outputs": ARRAY,
    "options": nullable(OBJECT)}, {"project": STRING}))
_DEPLOYMENT = obj({
    "id": STRING, "config_id": STRING, "server_id": STRING, "input_values": nullable(OBJECT),
    "output_values": nullable(OBJECT), "action": STRING, "status": STRING, "status_reason": nullable(STRING),
    "creation_time": TIME, "updated_time": nullable(TIME)})
SOFTWARE_DEPLOYMENT = one("software_deployment", _DEPLOYMENT)
SOFTWARE_DEPLOYMENTS = many("software_deployments", _DEPLOYMENT)
# a server's deployments as its agent reads them: each config with the deployment's input values
DEPLOYMENT_METADATA = many("metadata", obj({
    "id": STRING, "group": STRING, "config": nullable(either(STRING, OBJECT)), "inputs": ARRAY,
    "outputs": ARRAY}, {"name": nullable(STRING), "options": nullable(OBJECT), "creation_time": TIME,
                        "updated_time": nullable(TIME)}))
