"""Stacks, resources, events and outputs as Heat's API shows them."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from onestack.services.orchestration.models import Stack, StackEvent, StackResource

BUILD = "onestack"


def version(href: str) -> dict:
    return {"id": "v1.0", "status": "CURRENT", "links": [{"rel": "self", "href": href}]}


def when(moment: datetime.datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None


class Views:
    """Bodies with links: ``url(path)`` makes a path under ``/orchestration`` absolute."""

    def __init__(self, url: Callable[[str], str]):
        self.url = url

    def stack_path(self, stack: Stack) -> str:
        return f"/v1/{stack.project_id}/stacks/{stack.name}/{stack.id}"

    def stack_links(self, stack: Stack) -> list[dict]:
        return [{"href": self.url(self.stack_path(stack)), "rel": "self"}]

    def stack_ref(self, stack: Stack) -> dict:
        return {"id": stack.id, "links": self.stack_links(stack)}

    def stack_summary(self, stack: Stack, *, with_project: bool = False) -> dict:
        body = {
            "id": stack.id,
            "stack_name": stack.name,
            "description": (stack.template or {}).get("description") or "",
            "creation_time": when(stack.created_at),
            "updated_time": when(stack.updated_at),
            "deletion_time": when(stack.deleted_at),
            "stack_status": f"{stack.action}_{stack.status}",
            "stack_status_reason": stack.status_reason,
            "stack_owner": stack.username or None,
            "parent": stack.owner_id,
            "stack_user_project_id": stack.project_id,
            "tags": stack.tags or None,
            "links": self.stack_links(stack),
        }
        if with_project:
            body["project"] = stack.project_id
        return body

    def stack(self, stack: Stack, parameters: dict, outputs: list[dict] | None) -> dict:
        body = self.stack_summary(stack)
        body.update({
            "capabilities": [],
            "disable_rollback": stack.disable_rollback,
            "notification_topics": [],
            "parameters": parameters,
            "template_description": body["description"],
            "timeout_mins": stack.timeout_mins,
        })
        if outputs is not None:
            body["outputs"] = outputs
        return body

    # -- resources -------------------------------------------------------------------------------------------
    def resource_path(self, stack: Stack, name: str) -> str:
        return f"{self.stack_path(stack)}/resources/{name}"

    def resource(self, stack: Stack, row: StackResource, required_by: list[str], *, detail: bool = False) -> dict:
        body = {
            "resource_name": row.name,
            "logical_resource_id": row.name,
            "physical_resource_id": row.physical_id or "",
            "resource_status": f"{row.action}_{row.status}",
            "resource_status_reason": row.status_reason,
            "resource_type": row.type,
            "creation_time": when(row.created_at),
            "updated_time": when(row.updated_at or row.created_at),
            "required_by": required_by,
            "links": [{"href": self.url(self.resource_path(stack, row.name)), "rel": "self"},
                      {"href": self.url(self.stack_path(stack)), "rel": "stack"}],
        }
        data = row.data or {}
        if data.get("nested") and row.physical_id:
            body["links"].append({"href": self.url(f"/v1/{stack.project_id}/stacks/{data.get('nested_name')}/"
                                                   f"{row.physical_id}"), "rel": "nested"})
        if stack.parent_resource:
            body["parent_resource"] = stack.parent_resource
        if detail:
            body["description"] = ""
            body["attributes"] = dict(row.attributes or {})
            body["metadata"] = (row.definition or {}).get("metadata") or {}
        return body

    # -- events ----------------------------------------------------------------------------------------------
    def event(self, stack: Stack, row: StackEvent, *, detail: bool = False) -> dict:
        resource = stack.name if row.resource_type == "OS::Heat::Stack" else row.resource_name
        resource_path = self.resource_path(stack, resource)
        body = {
            "id": row.id,
            "event_time": when(row.created_at),
            "resource_name": row.resource_name,
            "logical_resource_id": row.resource_name,
            "physical_resource_id": row.physical_resource_id,
            "resource_status": f"{row.action}_{row.status}",
            "resource_status_reason": row.reason,
            "links": [{"href": self.url(f"{resource_path}/events/{row.id}"), "rel": "self"},
                      {"href": self.url(resource_path), "rel": "resource"},
                      {"href": self.url(self.stack_path(stack)), "rel": "stack"}],
        }
        if detail:
            body["resource_type"] = row.resource_type
            body["resource_properties"] = {}
        return body


def resource_type(kind) -> dict:
    return {
        "resource_type": kind.name,
        "description": kind.description,
        "properties": {name: prop.shown() for name, prop in kind.properties.items()},
        "attributes": {name: {"description": text} for name, text in
                       {**kind.attributes, "show": "Detailed information about resource."}.items()},
        "support_status": {"status": "SUPPORTED", "version": None, "message": None, "previous_status": None},
    }


def validated(definition, show_nested: bool = False) -> dict:
    """What template validate answers: the description, each parameter as Heat describes it (with the
    ``Value`` given), the environment it was read with, and with ``show_nested`` the same for each provider
    template resource's nested template (``NestedParameters``, recursively)."""
    out = _validated_level(definition, show_nested)
    env = definition.environment or {}
    registry = {k: v for k, v in (env.get("resource_registry") or {}).items() if k != "resources"}
    # provider templates named by file appear in the registry as Heat registers them (``file: file``)
    registry.update({r.type: r.type for r in definition.template.resources.values() if r.type in definition.files})
    out["Environment"] = {"event_sinks": env.get("event_sinks") or [],
                          "parameter_defaults": env.get("parameter_defaults") or {},
                          "parameters": env.get("parameters") or {},
                          "resource_registry": {**registry,
                                                "resources": (env.get("resource_registry") or {}).get("resources")
                                                or {}}}
    return out


def _validated_level(definition, show_nested: bool) -> dict:
    parameters = {}
    for name, param in definition.template.parameters.items():
        shown = {"Type": {"string": "String", "number": "Number", "json": "Json", "boolean": "Boolean",
                          "comma_delimited_list": "CommaDelimitedList"}[param.type],
                 "Description": param.description, "Label": param.label or name,
                 "NoEcho": "true" if param.hidden else "false"}
        if param.has_default:
            shown["Default"] = param.default
        for constraint in param.constraints:
            if "allowed_values" in constraint:
                shown["AllowedValues"] = constraint["allowed_values"]
            if "allowed_pattern" in constraint:
                shown["AllowedPattern"] = constraint["allowed_pattern"]
            for key, (low, high) in (("length", ("MinLength", "MaxLength")), ("range", ("MinValue", "MaxValue"))):
                if key in constraint:
                    bounds = constraint[key] or {}
                    if "min" in bounds:
                        shown[low] = bounds["min"]
                    if "max" in bounds:
                        shown[high] = bounds["max"]
        if name in definition.given:
            shown["Value"] = "******" if param.hidden else definition.given[name]
        parameters[name] = shown
    out = {"Description": definition.template.description or "No description", "Parameters": parameters,
           **({"ParameterGroups": definition.template.parameter_groups}
              if definition.template.parameter_groups else {})}
    if show_nested:
        nested = {name: {**_validated_level(child, True), "Type": kind}
                  for name, (kind, child) in definition.provider_children().items()}
        if nested:
            out["NestedParameters"] = nested
    return out


def snapshot(taken) -> dict:
    """A stack snapshot as Heat shows it; its data once it is complete."""
    return {"id": taken.id, "name": taken.name, "stack_id": taken.stack_id, "status": taken.status,
            "status_reason": taken.status_reason, "data": taken.data if taken.status == "COMPLETE" else None, "creation_time": when(taken.created_at)}


def config_value(row):
    """A config's config: its text, or its map for a structured one."""
    return row.config_map if row.config_map is not None else row.config


def software_config(row, *, summary: bool = False) -> dict:
    body = {"id": row.id, "name": row.name, "group": row.group, "creation_time": when(row.created_at)}
    if not summary:
        body.update({"config": config_value(row), "inputs": row.inputs or [], "outputs": row.outputs or [],
                     "options": row.options or {}, "project": row.project_id})
    return body


def software_deployment(row) -> dict:
    return {"id": row.id, "config_id": row.config_id, "server_id": row.server_id,
            "input_values": row.input_values or {}, "output_values": row.output_values or {},
            "action": row.action, "status": row.status, "status_reason": row.status_reason,
            "creation_time": when(row.created_at), "updated_time": when(row.updated_at)}


def deployed_config(deployment, config) -> dict:
    """One entry of a server's deployment metadata: the config with the deployment's input values."""
    values = deployment.input_values or {}
    inputs = [{**i, "value": values.get(i.get("name"), i.get("default"))} if isinstance(i, dict) else i
              for i in config.inputs or []]
    # Values the config does not declare (the deploy_* ones a stack adds: where to signal) are inputs too,
    # as Heat's derived config lists them.
    declared = {i.get("name") for i in inputs if isinstance(i, dict)}
    inputs += [{"name": k, "type": "String", "value": v} for k, v in values.items() if k not in declared]
    return {"id": deployment.id, "name": config.name, "group": config.group, "config": config_value(config),
            "inputs": inputs, "outputs": config.outputs or [], "options": config.options or {},
            "creation_time": when(config.created_at), "updated_time": when(deployment.updated_at)}


PARAMETER_TYPES = {"string": "string", "integer": "number", "number": "number", "boolean": "boolean",
                   "map": "json", "list": "comma_delimited_list", "any": "json"}


def resource_type_template(kind) -> dict:
    """A HOT template that makes one resource of ``kind`` from parameters named after its properties and
    gives every attribute as an output (``resource_types/{type}/template``)."""
    resource = kind.name.split("::")[-1]
    parameters = {}
    for name, prop in kind.properties.items():
        param = {"type": PARAMETER_TYPES.get(prop.type, "string"), "description": prop.description}
        if prop.default is not None:
            param["default"] = prop.default
        parameters[name] = param
    return {
        "heat_template_version": "2016-10-14",
        "description": f"Initial template of {resource}",
        "parameters": parameters,
        "resources": {resource: {"type": kind.name,
                                 "properties": {name: {"get_param": name} for name in kind.properties}}},
        "outputs": {name: {"description": text, "value": {"get_attr": [resource, name]}}
                    for name, text in {**kind.attributes, "show": "Detailed information about resource."}.items()},
    }
