"""Resources that are stacks: a provider template (a type mapped to a template in the request's ``files``),
``OS::Heat::Stack`` and ``OS::Heat::ResourceGroup``.  Each makes a child stack through ``Handle.stacks``
and is done when the child's action is; an update gives the child its new definition."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any, ClassVar

from onestack.http.errors import APIError
from onestack.services.orchestration.service.hot.template import load
from onestack.services.orchestration.service.resources.base import Handle, Prop, ResourceFailure, ResourceType

# How a provider template's parameter types become its resource's property types.
PARAMETER_PROPERTY = {"string": "string", "number": "number", "boolean": "boolean", "json": "any",
                      "comma_delimited_list": "list"}


class NestedStack(ResourceType):
    """What every stack-backed type shares; a subclass says what the child's template and parameters are."""

    def nested_template(self, h: Handle) -> dict:
        raise NotImplementedError

    def nested_parameters(self, h: Handle) -> dict:
        return {}

    def timeout(self, h: Handle) -> int | None:
        return None

    def create(self, h: Handle) -> None:
        h.physical_id = h.stacks.create(h, self.nested_template(h), self.nested_parameters(h), self.timeout(h))

    def create_done(self, h: Handle) -> bool:
        return h.stacks.done(h.physical_id, "CREATE")

    def update(self, h: Handle, old: dict, new: dict) -> None:
        h.stacks.update(h.physical_id, self.nested_template(h), self.nested_parameters(h), self.timeout(h))

    def update_done(self, h: Handle) -> bool:
        return h.stacks.done(h.physical_id, "UPDATE")

    def delete(self, h: Handle) -> None:
        h.stacks.delete(h.physical_id)

    def delete_done(self, h: Handle) -> bool:
        return h.stacks.done(h.physical_id, "DELETE")

    def find(self, h: Handle) -> str | None:
        return h.stacks.find(h)

    # Suspend and resume go down into the child: its servers are suspended too, as Heat's are.
    def suspend(self, h: Handle) -> None:
        if h.physical_id:
            h.stacks.walk(h.physical_id, "SUSPEND")

    def suspend_done(self, h: Handle) -> bool:
        return not h.physical_id or h.stacks.done(h.physical_id, "SUSPEND")

    def resume(self, h: Handle) -> None:
        if h.physical_id:
            h.stacks.walk(h.physical_id, "RESUME")

    def resume_done(self, h: Handle) -> bool:
        return not h.physical_id or h.stacks.done(h.physical_id, "RESUME")

    def attribute(self, h: Handle, name: str) -> Any:
        if name == "OS::stack_id":
            return h.physical_id
        if name == "show":
            state = h.stacks.state(h.physical_id)
            return {"id": h.physical_id, "stack_name": h.data.get("nested_name"),
                    "stack_status": f"{state[0]}_{state[1]}" if state else None}
        return None


class TemplateResource(NestedStack):
    """A provider template: its parameters are the resource's properties, its outputs the attributes."""

    name = "TemplateResource"
    description = "A resource implemented by a nested stack of a provider template."
    # Set on each provider's own subclass (``provider``).
    template: ClassVar[dict] = {}
    fingerprint: ClassVar[str] = ""

    def needs_replacement(self, old: dict, new: dict) -> bool:
        return False

    def nested_template(self, h: Handle) -> dict:
        return self.template

    def nested_parameters(self, h: Handle) -> dict:
        return {k: v for k, v in h.properties.items() if v is not None}

    def attribute(self, h: Handle, name: str) -> Any:
        if name in ("OS::stack_id", "show"):
            return super().attribute(h, name)
        return h.stacks.outputs(h.physical_id).get(name)


def provider(source: str, template: dict) -> type[TemplateResource]:
    """The type a provider template defines: one property per parameter, one attribute per output."""
    properties = {}
    for pname, spec in (template.get("parameters") or {}).items():
        spec = spec if isinstance(spec, dict) else {}
        kind = PARAMETER_PROPERTY.get(spec.get("type"), "any")
        properties[pname] = Prop(kind, spec.get("description") or "", required="default" not in spec,
                                 update=True)
    attributes = {oname: (spec or {}).get("description") or "" if isinstance(spec, dict) else ""
                  for oname, spec in (template.get("outputs") or {}).items()}
    fingerprint = hashlib.sha256(json.dumps(template, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return type("ProviderTemplateResource", (TemplateResource,), {
        "template": template, "properties": properties, "attributes": attributes, "fingerprint": fingerprint,
        "description": f"A resource of the provider template {source}."})


class RemoteStack(NestedStack):
    name = "OS::Heat::Stack"
    description = "A stack of this cloud made from a template, as a resource (its region is this one)."
    properties = {
        "context": Prop("map", "Context for this stack.", schema={
            "region_name": Prop("string", "Region name in which this stack will be created."),
            "ca_cert": Prop("string", "CA Cert for SSL."),
            "insecure": Prop("boolean", "If set, then the server's certificate will not be verified.",
                             default=False),
        }),
        "template": Prop("any", "Template that specifies the stack to be created as a resource.", required=True,
                         update=True),
        "timeout": Prop("integer", "Number of minutes to wait for this stack creation.", update=True, min=1),
        "parameters": Prop("map", "Set of parameters passed to this stack.", default={}, update=True),
    }
    attributes = {"stack_name": "Name of the stack.", "outputs": "A dict of key-value pairs output from the "
                                                                  "stack."}

    def needs_replacement(self, old: dict, new: dict) -> bool:
        return (old.get("context") or {}) != (new.get("context") or {})

    def nested_template(self, h: Handle) -> dict:
        region = (h.properties.get("context") or {}).get("region_name")
        if region and region != h.stacks.region:
            raise ResourceFailure(f"Region {region} is not this cloud's region ({h.stacks.region}): onestack "
                                  "makes OS::Heat::Stack only in its own region", "RemoteStackFailed")
        try:
            return load(h.properties["template"])
        except APIError as exc:
            raise ResourceFailure(exc.message, exc.kind or "StackValidationFailed") from None

    def nested_parameters(self, h: Handle) -> dict:
        return dict(h.properties.get("parameters") or {})

    def timeout(self, h: Handle) -> int | None:
        return h.properties.get("timeout")

    def attribute(self, h: Handle, name: str) -> Any:
        if name == "outputs":
            return h.stacks.outputs(h.physical_id)
        if name == "stack_name":
            return h.data.get("nested_name")
        return super().attribute(h, name)


def _replace_index(value, var: str, index: str):
    if isinstance(value, str):
        return value.replace(var, index)
    if isinstance(value, list):
        return [_replace_index(v, var, index) for v in value]
    if isinstance(value, dict):
        return {_replace_index(k, var, index): _replace_index(v, var, index) for k, v in value.items()}
    return value


class ResourceGroup(NestedStack):
    name = "OS::Heat::ResourceGroup"
    description = "Creates one or more identically configured nested resources."
    local_attributes = False
    properties = {
        "count": Prop("integer", "The number of resources to create.", default=1, update=True, min=0),
        "index_var": Prop("string", "A variable that this resource will use to replace with the current index "
                          "of a given resource in the group.", default="%index%", update=True, min=3),
        "resource_def": Prop("map", "Resource definition for the resources in the group.", required=True,
                             update=True, schema={
                                 "type": Prop("string", "The type of the resources in the group.", required=True),
                                 "properties": Prop("map", "Property values for the resources in the group."),
                                 "metadata": Prop("map", "Supplied metadata for the resources in the group."),
                             }),
        "removal_policies": Prop("list", "Policies for removal of resources on update.", default=[],
                                 update=True, schema=Prop("map", schema={
                                     "resource_list": Prop("list", "List of resources to be removed when "
                                                           "doing an update which requires removal of specific "
                                                           "resources.", default=[])})),
        "removal_policies_mode": Prop("string", "How to handle changes to removal_policies on update.",
                                      default="append", update=True, allowed=("append", "update")),
    }
    attributes = {
        "refs": "A list of resource IDs for the resources in the group.",
        "refs_map": "A map of resource names to IDs for the resources in the group.",
        "attributes": "A map of resource names to the specified attribute of each individual resource.",
        "removed_rsrc_list": "A list of removed resource names.",
    }

    update_policy_schema = {
        "rolling_update": Prop("map", "Policy for rolling updates: members are updated in batches.", schema={
            "min_in_service": Prop("integer", "The minimum number of resources in service while rolling updates "
                                   "are being executed.", default=0, min=0),
            "max_batch_size": Prop("integer", "The maximum number of resources to replace at once.", default=1,
                                   min=1),
            "pause_time": Prop("number", "The number of seconds to wait between batches of updates.", default=0,
                               min=0),
        }),
        "batch_create": Prop("map", "Policy for creating members in batches.", schema={
            "max_batch_size": Prop("integer", "The maximum number of resources to create at once.", default=1,
                                   min=1),
            "pause_time": Prop("number", "The number of seconds to wait between batches.", default=0, min=0),
        }),
    }
    definition_key: ClassVar[str] = "resource_def"

    @classmethod
    def member_types(cls, properties) -> list[str]:
        definition = properties.get(cls.definition_key) if isinstance(properties, dict) else None
        kind = definition.get("type") if isinstance(definition, dict) else None
        return [kind] if isinstance(kind, str) else []

    def _removed(self, h: Handle) -> list[str]:
        """Names never to use again: those the removal policies name (kept across updates in ``append``)."""
        named = [str(n) for policy in h.properties.get("removal_policies") or []
                 for n in policy.get("resource_list") or []]
        if h.properties.get("removal_policies_mode") == "append":
            named = [*h.data.get("removed", []), *named]
        return list(dict.fromkeys(named))

    def member_names(self, h: Handle) -> list[str]:
        removed = set(self._removed(h))
        names, index = [], 0
        while len(names) < h.properties["count"]:
            if str(index) not in removed:
                names.append(str(index))
            index += 1
        return names

    def nested_template(self, h: Handle) -> dict:
        definition = h.properties["resource_def"]
        var = h.properties["index_var"]
        h.data["removed"] = self._removed(h)
        resources = {}
        for name in self.member_names(h):
            member: dict[str, Any] = {"type": definition["type"]}
            if definition.get("properties"):
                member["properties"] = _replace_index(definition["properties"], var, name)
            if definition.get("metadata"):
                member["metadata"] = _replace_index(definition["metadata"], var, name)
            resources[name] = member
        return {"heat_template_version": "2015-04-30", "resources": resources}

    # -- batches (update_policy) ---------------------------------------------------------------------------
    # A batched action gives the child its members a batch at a time: each batch is an UPDATE of the child
    # whose template holds the members done so far as they are meant and the others as they were (or not
    # yet there), so a batch touches only its own members.  ``data["batches"]`` says where it is: the final
    # template, the members that change in order, those given so far, the batch size and the pause.

    def rolling(self, h: Handle) -> dict | None:
        return (h.update_policy or {}).get("rolling_update")

    def _batch_size(self, policy: dict, members: int) -> int:
        """``max_batch_size``, less what ``min_in_service`` keeps out of a batch (never under one: onestack
        adds no temporary members to keep more in service)."""
        size = policy.get("max_batch_size") or 1
        if policy.get("min_in_service"):
            size = min(size, members - policy["min_in_service"])
        return max(1, size)

    @staticmethod
    def _mixed(current: dict, target: dict, given: list[str]) -> dict:
        """``target`` with each member not yet ``given`` as it is in the ``current`` template (left out if it is
        not there)."""
        now = current.get("resources") or {}
        resources = {name: member if name in given or name not in now else now[name]
                     for name, member in target["resources"].items() if name in given or name in now}
        return {**target, "resources": resources}

    def _start_batches(self, h: Handle, target: dict, current: dict, changing: list[str], size: int,
                       pause: float) -> dict:
        h.data["batches"] = {"target": target, "changing": changing, "given": changing[:size], "size": size,
                             "pause": pause}
        return self._mixed(current, target, changing[:size])

    def _next_batch(self, h: Handle) -> bool:
        """Once the child has finished a batch: give it the next one (after the pause); False while any
        batch remains, True when every member is as it is meant."""
        batches = h.data.get("batches")
        if not batches:
            return True
        left = [n for n in batches["changing"] if n not in batches["given"]]
        if not left:
            h.data.pop("batches", None)
            h.data.pop("pause_until", None)
            return True
        if batches["pause"]:
            if "pause_until" not in h.data:
                h.data["pause_until"] = time.time() + batches["pause"]
            if time.time() < h.data["pause_until"]:
                return False
            h.data.pop("pause_until")
        given = [*batches["given"], *left[:batches["size"]]]
        h.data["batches"] = {**batches, "given": given}
        current = h.stacks.template(h.physical_id)
        h.stacks.update(h.physical_id, self._mixed(current, batches["target"], given), self.nested_parameters(h),
                        self.timeout(h))
        return False

    def create(self, h: Handle) -> None:
        policy = (h.update_policy or {}).get("batch_create")
        target = self.nested_template(h)
        names = list(target["resources"])
        if not policy or len(names) <= (policy.get("max_batch_size") or 1):
            h.physical_id = h.stacks.create(h, target, self.nested_parameters(h), self.timeout(h))
            return
        first = self._start_batches(h, target, {"resources": {}}, names, policy.get("max_batch_size") or 1,
                                    policy.get("pause_time") or 0)
        h.physical_id = h.stacks.create(h, first, self.nested_parameters(h), self.timeout(h))

    def create_done(self, h: Handle) -> bool:
        return super().create_done(h) and self._next_batch(h)

    def update(self, h: Handle, old: dict, new: dict) -> None:
        policy = self.rolling(h)
        h.data.pop("batches", None)
        h.data.pop("pause_until", None)
        target = self.nested_template(h)
        current = h.stacks.template(h.physical_id)
        members = current.get("resources") or {}
        changing = [n for n in target["resources"] if n in members and members[n] != target["resources"][n]]
        size = self._batch_size(policy or {}, len(members))
        if not policy or len(changing) <= size:
            h.stacks.update(h.physical_id, target, self.nested_parameters(h), self.timeout(h))
            return
        # members added or removed by the same update go with the first batch
        added = [n for n in target["resources"] if n not in members]
        first = self._start_batches(h, target, current, changing, size, policy.get("pause_time") or 0)
        first["resources"].update({n: target["resources"][n] for n in added})
        h.stacks.update(h.physical_id, first, self.nested_parameters(h), self.timeout(h))

    def update_done(self, h: Handle) -> bool:
        return super().update_done(h) and self._next_batch(h)

    def _members(self, h: Handle) -> list:
        rows = {r.name: r for r in h.stacks.members(h.physical_id)}
        return [rows[n] for n in sorted(rows, key=lambda n: (not n.isdigit(), int(n) if n.isdigit() else 0, n))]

    def attribute(self, h: Handle, name: str) -> Any:
        if name in ("OS::stack_id", "show"):
            return super().attribute(h, name)
        stacks, child = h.stacks, h.physical_id
        members = self._members(h)
        if name == "refs":
            return [stacks.member_reference(child, m) for m in members]
        if name == "refs_map":
            return {m.name: stacks.member_reference(child, m) for m in members}
        if name == "removed_rsrc_list":
            return list(h.data.get("removed", []))
        if name == "attributes":
            return {attr: {m.name: stacks.member_attribute(child, m, attr, h.cloud) for m in members}
                    for attr in h.attribute_paths.get("attributes", ()) if isinstance(attr, str)}
        if name.startswith("resource."):
            _, _, rest = name.partition(".")
            index, _, attr = rest.partition(".")
            member = next((m for m in members if m.name == index), None)
            if member is None:
                return None
            if attr:
                return stacks.member_attribute(child, member, attr, h.cloud)
            paths = [p for p in h.attribute_paths.get(name, ()) if isinstance(p, str)]
            if paths:
                return {p: stacks.member_attribute(child, member, p, h.cloud) for p in paths}
            return stacks.member_reference(child, member)
        return [stacks.member_attribute(child, m, name, h.cloud) for m in members]


class AutoScalingGroup(ResourceGroup):
    name = "OS::Heat::AutoScalingGroup"
    definition_key = "resource"
    description = "An autoscaling group that can scale arbitrary resources (resized by ScalingPolicy signals)."
    properties = {
        "resource": Prop("map", "Resource definition for the resources in the group, in HOT format.",
                         required=True, update=True, schema={
                             "type": Prop("string", "The type of the resources in the group.", required=True),
                             "properties": Prop("map", "Property values for the resources in the group."),
                             "metadata": Prop("map", "Supplied metadata for the resources in the group."),
                         }),
        "max_size": Prop("integer", "Maximum number of resources in the group.", required=True, update=True,
                         min=0),
        "min_size": Prop("integer", "Minimum number of resources in the group.", required=True, update=True,
                         min=0),
        "desired_capacity": Prop("integer", "Desired initial number of resources.", update=True),
        "cooldown": Prop("integer", "Cooldown period, in seconds.", update=True),
        "rolling_updates": Prop("map", "Policy for rolling updates for this scaling group.", update=True,
                                schema={
                                    "min_in_service": Prop("integer", "The minimum number of resources in service "
                                                           "while rolling updates are being executed.", default=0,
                                                           min=0),
                                    "max_batch_size": Prop("integer", "The maximum number of resources to replace "
                                                           "at once.", default=1, min=1),
                                    "pause_time": Prop("number", "The number of seconds to wait between batches "
                                                       "of updates.", default=0, min=0),
                                }),
    }
    update_policy_schema = {}
    attributes = {
        "current_size": "The current size of AutoscalingResourceGroup.",
        "outputs": "A map of resource names to the specified attribute of each individual resource.",
        "outputs_list": "A list of the specified attribute of each individual resource.",
        "refs": "A list of resource IDs for the resources in the group.",
        "refs_map": "A map of resource names to IDs for the resources in the group.",
    }

    @staticmethod
    def capacity(properties: dict, data: dict) -> int:
        """The size now: what the last policy made it, else the desired capacity, else the minimum."""
        wanted = data.get("capacity")
        if wanted is None:
            wanted = properties.get("desired_capacity")
        if wanted is None:
            wanted = properties["min_size"]
        return max(properties["min_size"], min(properties["max_size"], int(wanted)))

    def pending_change(self, data: dict) -> bool:
        return data.get("capacity") is not None and data.get("capacity") != data.get("applied")

    def rolling(self, h: Handle) -> dict | None:
        return h.properties.get("rolling_updates")

    def create(self, h: Handle) -> None:
        if h.properties["min_size"] > h.properties["max_size"]:
            raise ResourceFailure("min_size can not be greater than max_size", "StackValidationFailed")
        super().create(h)

    def update(self, h: Handle, old: dict, new: dict) -> None:
        if old.get("desired_capacity") != new.get("desired_capacity") and new.get("desired_capacity") is not None:
            h.data.pop("capacity", None)  # a new desired capacity in the template wins over the last policy
        super().update(h, old, new)

    def nested_template(self, h: Handle) -> dict:
        size = self.capacity(h.properties, h.data)
        h.data["applied"] = h.data.get("capacity")
        h.data["size"] = size
        as_group = {**h.properties, "count": size, "resource_def": h.properties["resource"], "index_var": "%index%",
                    "removal_policies": [], "removal_policies_mode": "update"}
        return super().nested_template(Handle(h.name, h.stack, as_group, h.physical_id, h.data, h.cloud))

    def member_names(self, h: Handle) -> list[str]:
        return [str(i) for i in range(h.properties["count"])]

    def attribute(self, h: Handle, name: str) -> Any:
        if name == "current_size":
            return len(h.stacks.members(h.physical_id))
        if name in ("outputs", "outputs_list"):
            members = self._members(h)
            attrs = [a for a in h.attribute_paths.get(name, ()) if isinstance(a, str)]
            read = h.stacks.member_attribute
            if name == "outputs":
                return {a: {m.name: read(h.physical_id, m, a, h.cloud) for m in members} for a in attrs}
            return {a: [read(h.physical_id, m, a, h.cloud) for m in members] for a in attrs}
        return super().attribute(h, name)


class ScalingPolicy(ResourceType):
    name = "OS::Heat::ScalingPolicy"
    description = "A resource to manage scaling of OS::Heat::AutoScalingGroup: each signal adjusts its size."
    signalable = True
    scales = True
    properties = {
        "auto_scaling_group_id": Prop("string", "AutoScaling group ID to apply policy to.", required=True),
        "adjustment_type": Prop("string", "Type of adjustment (absolute or percentage).", required=True,
                                update=True, allowed=("change_in_capacity", "exact_capacity",
                                                      "percent_change_in_capacity")),
        "scaling_adjustment": Prop("number", "Size of adjustment.", required=True, update=True),
        "cooldown": Prop("integer", "Cooldown period, in seconds.", update=True),
        "min_adjustment_step": Prop("integer", "Minimum number of resources that are added or removed when the "
                                    "AutoScaling group scales up or down.", update=True, min=0),
    }
    attributes = {"signal_url": "A URL to signal this policy (POST with a token of the stack's project).",
                  "alarm_url": "The same URL: onestack has no pre-signed alarm URLs."}

    def create(self, h: Handle) -> None:
        h.physical_id = h.physical_name()

    def attribute(self, h: Handle, name: str) -> Any:
        if name in ("signal_url", "alarm_url"):
            return (f"{h.signal_base}/orchestration/v1/{h.stack.project_id}/stacks/{h.stack.name}/{h.stack.id}"
                    f"/resources/{h.name}/signal")
        return None

    @staticmethod
    def adjusted(properties: dict, current: int) -> int:
        """The group's new size after one signal, as Heat's adjustment types compute it."""
        kind, step = properties["adjustment_type"], properties["scaling_adjustment"]
        if kind == "exact_capacity":
            return int(step)
        if kind == "change_in_capacity":
            return current + int(step)
        delta = current * step / 100.0
        least = properties.get("min_adjustment_step") or 0
        change = int(delta) if abs(delta) >= 1 else (1 if delta > 0 else -1 if delta < 0 else 0)
        if abs(change) < least:
            change = least if change > 0 else -least
        return current + change


TYPES = [RemoteStack, ResourceGroup, AutoScalingGroup, ScalingPolicy]
