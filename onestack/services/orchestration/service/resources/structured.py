"""Structured configs and deployments: a config that is a map (``OS::Heat::StructuredConfig``), and a
deployment of one (``OS::Heat::StructuredDeployment``, and ``StructuredDeploymentGroup`` over several
servers) that deploys a *derived* config: a copy of the map in which every ``{get_input: name}`` (or the
``input_key`` chosen) is replaced by the deployment's value of that input, as Heat's agents expect."""

from __future__ import annotations

from typing import Any

from onestack.services.orchestration.service.resources.base import (
    Handle,
    Prop,
    ResourceFailure,
    ignore_missing,
)
from onestack.services.orchestration.service.resources.software import (
    SoftwareConfig,
    SoftwareDeployment,
    SoftwareDeploymentGroup,
    declared_inputs,
)

LAX, STRICT = "LAX", "STRICT"


class StructuredConfig(SoftwareConfig):
    name = "OS::Heat::StructuredConfig"
    description = ("A resource which has same logic with OS::Heat::SoftwareConfig except that the config "
                   "property is represented by a Map rather than a String.")
    properties = {
        **SoftwareConfig.properties,
        "config": Prop("map", "Map representing the configuration data structure which will be serialized to "
                       "JSON format.", default={}),
    }

    def body(self, h: Handle) -> dict:
        return {**super().body(h), "config": h.properties["config"] or {}}


def substitute(snippet: Any, values: dict, input_key: str, strict: bool) -> Any:
    """``snippet`` with each one-key map ``{input_key: "<name>"}`` replaced by ``values[name]``.  A name
    without a value is None (LAX) or fails the deployment (STRICT)."""
    if isinstance(snippet, dict):
        if len(snippet) == 1 and isinstance(snippet.get(input_key), str):
            wanted = snippet[input_key]
            if wanted not in values and strict:
                raise ResourceFailure(f"The Parameter ({wanted}) was not provided.", "UserParameterMissing")
            return values.get(wanted)
        return {key: substitute(value, values, input_key, strict) for key, value in snippet.items()}
    if isinstance(snippet, list):
        return [substitute(value, values, input_key, strict) for value in snippet]
    return snippet


class StructuredDeployment(SoftwareDeployment):
    """A SoftwareDeployment whose server is given a derived config (made by this resource, removed with it
    or when an update derives a new one) instead of the ``config`` it names."""

    name = "OS::Heat::StructuredDeployment"
    description = ("A deployment resource which works with OS::Heat::StructuredConfig: the config is "
                   "deployed to the server after its get_input occurrences are replaced by input values.")
    properties = {
        **SoftwareDeployment.properties,
        "input_key": Prop("string", "Name of key to use for substituting inputs during deployment.",
                          default="get_input"),
        "input_values_validate": Prop("string", "Perform a check on the input values passed to verify that "
                                      "each required input has a corresponding value. When the property is "
                                      "set to STRICT and no value is passed, an exception is raised.",
                                      default=LAX, allowed=(LAX, STRICT)),
    }

    def _derive(self, h: Handle, properties: dict, inputs: dict) -> str:
        """A new config: the source config's map with the inputs substituted (its declared defaults, then
        the input values, then the ``deploy_*`` values the stack adds)."""
        source: dict = {"group": "Heat::Ungrouped", "config": {}, "inputs": [], "outputs": [], "options": {}}
        if properties.get("config"):
            source = h.cloud.get("orchestration", f"/software_configs/{properties['config']}")["software_config"]
        values = {i["name"]: i.get("default") for i in source.get("inputs") or []
                  if isinstance(i, dict) and "default" in i}
        values.update(inputs)
        config = substitute(source.get("config"), values, properties.get("input_key") or "get_input",
                            properties.get("input_values_validate") == STRICT)
        body = {"name": properties.get("name") or h.physical_name(), "group": source.get("group"),
                "config": config, "inputs": declared_inputs(source.get("inputs") or [], values),
                "outputs": source.get("outputs") or [], "options": source.get("options") or {}}
        return h.cloud.post("orchestration", "/software_configs", body)["software_config"]["id"]

    def _config(self, h: Handle, inputs: dict) -> str:
        h.data["own_config"] = self._derive(h, h.properties, inputs)
        return h.data["own_config"]

    def _updated_config(self, h: Handle, old: dict, new: dict, inputs: dict) -> str:
        h.data["replaced_config"] = h.data.get("own_config")
        h.data["own_config"] = self._derive(h, new, inputs)
        return h.data["own_config"]

    def _updated(self, h: Handle) -> None:
        replaced = h.data.pop("replaced_config", None)
        if replaced and replaced != h.data.get("own_config"):
            ignore_missing(lambda: h.cloud.delete("orchestration", f"/software_configs/{replaced}"))
        # a try of this update cut by a kill -9 may have derived one the resource never recorded
        self._sweep(h, {h.data.get("own_config"), h.physical_id} - {None})


class StructuredDeploymentGroup(SoftwareDeploymentGroup):
    name = "OS::Heat::StructuredDeploymentGroup"
    description = ("This resource associates a group of servers with some configuration. This resource works "
                   "similar as OS::Heat::SoftwareDeploymentGroup, but for structured resources.")
    properties = {
        **{k: v for k, v in StructuredDeployment.properties.items() if k != "server"},
        "servers": SoftwareDeploymentGroup.properties["servers"],
    }
    member = StructuredDeployment


TYPES = [StructuredConfig, StructuredDeployment, StructuredDeploymentGroup]
