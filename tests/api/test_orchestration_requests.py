"""Requests of Heat's API that issue 16 lists and no other test made: an update cancelled without rollback,
the stack list's ``not_tags`` and ``not_tags_any``, a stack's environment and files shown back, a
CloudFormation template refused with a 400 that says so, the ``neutron.subnet``, ``neutron.port`` and
``neutron.security_group`` custom constraints, ``OS::Neutron::SecurityGroupRule``, a server booted from
the stack's volume (``block_device_mapping_v2``) with ``config_drive``, the events' filters, sort keys and
pages, and a resource's metadata (which, like its update policy, must be a map)."""


from tests.api.helpers import name, ok
from tests.api.orchestration_helpers import fault
from tests.api.test_orchestration_hooks import CHAIN, hooked, paused_at


def test_cancel_without_rollback_stops_the_update_where_it_is(heat):
    stack = heat.created(CHAIN, environment=hooked("second", hook="pre-update"))
    ok(heat.http.patch(heat.path(stack), json={"parameters": {"word": "two"}}), 202)
    paused_at(heat, stack, "second", "UPDATE", "pre-update")
    ok(heat.http.post(f"{heat.path(stack)}/actions", json={"cancel_without_rollback": None}))
    stopped = heat.settle(stack)
    assert stopped["stack_status"] == "UPDATE_FAILED", stopped["stack_status_reason"]
    assert stopped["stack_status_reason"] == "Stack UPDATE cancelled"
    resources = heat.resources(stack)
    # no rollback: what the update did stays done, what it had not reached stays as it was
    assert resources["first"]["resource_status"] == "UPDATE_COMPLETE"
    assert resources["second"]["resource_status"] == "CREATE_COMPLETE"
    assert heat.output(stopped, "third") == "one"
    assert ok(heat.http.get(f"{heat.path(stack)}/resources/first"))["resource"]["attributes"]["value"] == "two"
    # nothing is under way any more: a second cancel is refused
    fault(heat.http.post(f"{heat.path(stack)}/actions", json={"cancel_without_rollback": None}), 400)
    heat.delete(stopped)


def test_not_tags_filters_and_environment_and_files_shown(heat):
    env = {"parameter_defaults": {"word": "default"}, "parameters": {"word": "given"}}
    files = {"note.txt": "kept"}
    made = {tag: heat.created(CHAIN, stack_name=name("tagged"), tags=tag, environment=env, files=files)
            for tag in ("x", "x,y", "y")}
    ids = {tag: s["id"] for tag, s in made.items()}

    def listed(**params) -> set[str]:
        return {s["id"] for s in ok(heat.http.get("/stacks", params=params))["stacks"]}

    assert listed(not_tags="x,y") == {ids["x"], ids["y"]}  # all of them: only "x,y" has both
    assert listed(not_tags_any="x") == {ids["y"]}           # any of them
    assert listed(tags="x", not_tags_any="y") == {ids["x"]}

    stack = made["x"]
    shown = ok(heat.http.get(f"{heat.path(stack)}/environment"))
    assert shown["parameters"] == {"word": "given"} and shown["parameter_defaults"] == {"word": "default"}
    assert ok(heat.http.get(f"{heat.path(stack)}/files")) == files
    assert heat.output(stack, "third") == "given"
    fault(heat.http.get(f"/stacks/{stack['stack_name']}/00000000-0000-0000-0000-000000000000/environment"), 404)
    for s in made.values():
        heat.delete(s)


def test_a_cloudformation_template_is_a_400_saying_so(heat):
    cfn = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"r": {"Type": "OS::Heat::None"}}}
    message = fault(heat.http.post("/stacks", json={"stack_name": name("cfn"), "template": cfn}), 400)
    assert "CloudFormation templates are not supported" in message
    assert "CloudFormation" in fault(heat.http.post("/validate", json={"template": cfn}), 400)


def test_neutron_constraints_and_a_security_group_rule(heat):
    net = ok(heat.root.post("/network/v2.0/networks", json={"network": {"name": name("net")}}), 201)["network"]
    subnet = ok(heat.root.post("/network/v2.0/subnets", json={"subnet": {
        "network_id": net["id"], "ip_version": 4, "cidr": "10.71.0.0/24"}}), 201)["subnet"]
    port = ok(heat.root.post("/network/v2.0/ports", json={"port": {"network_id": net["id"]}}), 201)["port"]
    template = {
        "heat_template_version": "2018-08-31",
        "parameters": {
            "subnet": {"type": "string", "constraints": [{"custom_constraint": "neutron.subnet"}]},
            "port": {"type": "string", "constraints": [{"custom_constraint": "neutron.port"}]},
            "group": {"type": "string", "constraints": [{"custom_constraint": "neutron.security_group"}]},
        },
        "resources": {"rule": {"type": "OS::Neutron::SecurityGroupRule", "properties": {
            "security_group": {"get_param": "group"}, "protocol": "tcp", "port_range_min": 22,
            "port_range_max": 22, "remote_ip_prefix": "192.0.2.0/24", "description": "ssh"}},
            # a group by name: Neutron lists groups under "security_groups", not the path's "security-groups"
            "guarded": {"type": "OS::Neutron::Port", "properties": {
                "network": net["id"], "security_groups": [{"get_param": "group"}]}}},
    }
    good = {"subnet": subnet["id"], "port": port["id"], "group": "default"}
    for key, kind in (("subnet", "subnet"), ("port", "port"), ("group", "security_group")):
        resp = heat.http.post("/stacks", json={"stack_name": name("c"), "template": template,
                                               "parameters": {**good, key: "missing"}})
        assert fault(resp, 400, "StackValidationFailed") == (
            f"Parameter '{key}' is invalid: Error validating value 'missing': Unable to find {kind} with name or "
            "id 'missing'")

    stack = heat.created(template, parameters=good)
    rule_id = heat.resources(stack)["rule"]["physical_resource_id"]
    rule = ok(heat.root.get(f"/network/v2.0/security-group-rules/{rule_id}"))["security_group_rule"]
    assert (rule["protocol"], rule["port_range_min"], rule["port_range_max"], rule["direction"],
            rule["remote_ip_prefix"], rule["description"]) == ("tcp", 22, 22, "ingress", "192.0.2.0/24", "ssh")
    default = ok(heat.root.get("/network/v2.0/security-groups", params={"name": "default"}))["security_groups"]
    guarded = heat.resources(stack)["guarded"]["physical_resource_id"]
    assert ok(heat.root.get(f"/network/v2.0/ports/{guarded}"))["port"]["security_groups"] == [default[0]["id"]]
    heat.delete(stack)
    resp = heat.root.get(f"/network/v2.0/security-group-rules/{rule_id}")
    assert resp.status_code == 404, resp.text
    ok(heat.root.delete(f"/network/v2.0/ports/{port['id']}"), 204)
    ok(heat.root.delete(f"/network/v2.0/networks/{net['id']}"), 204)


def test_a_server_booted_from_the_stacks_volume_with_a_config_drive(heat, heat_image):
    """``block_device_mapping_v2`` naming a volume of the same stack, and ``config_drive``, reach Nova."""
    template = {
        "heat_template_version": "2018-08-31",
        "resources": {
            "disk": {"type": "OS::Cinder::Volume", "properties": {"size": 1, "image": heat_image["id"]}},
            "server": {"type": "OS::Nova::Server", "properties": {
                "flavor": "m1.tiny", "config_drive": True, "networks": [{"allocate_network": "none"}],
                "block_device_mapping_v2": [{"volume_id": {"get_resource": "disk"}, "boot_index": 0,
                                             "delete_on_termination": False}]}},
        },
    }
    stack = heat.created(template, timeout_mins=5)
    found = heat.resources(stack)
    volume_id, server_id = found["disk"]["physical_resource_id"], found["server"]["physical_resource_id"]
    server = ok(heat.root.get(f"/compute/v2.1/servers/{server_id}"))["server"]
    assert server["status"] == "ACTIVE" and server["image"] == ""  # volume-backed, as Nova shows it
    assert [v["id"] for v in server["os-extended-volumes:volumes_attached"]] == [volume_id]
    assert server["config_drive"] in ("True", True)
    volume = ok(heat.root.get(f"/volume/v3/{heat.project_id}/volumes/{volume_id}"))["volume"]
    assert volume["status"] == "in-use" and volume["bootable"] == "true"
    assert heat.delete(stack, 120)["stack_status"] == "DELETE_COMPLETE"
    assert heat.root.get(f"/compute/v2.1/servers/{server_id}").status_code == 404
    assert heat.root.get(f"/volume/v3/{heat.project_id}/volumes/{volume_id}").status_code == 404


def test_events_filters_sort_and_pages_and_resource_metadata(heat):
    template = {"heat_template_version": "2018-08-31", "resources": {
        "b": {"type": "OS::Heat::Value", "properties": {"value": 1}, "metadata": {"role": "second"}},
        "a": {"type": "OS::Heat::RandomString", "depends_on": "b"}}}
    stack = heat.created(template)
    path = f"{heat.path(stack)}/events"

    def events(**params) -> list[dict]:
        return ok(heat.http.get(path, params=params))["events"]

    every = events()
    assert [e["resource_status"] for e in every if e["resource_name"] == "b"] == ["CREATE_IN_PROGRESS",
                                                                                  "CREATE_COMPLETE"]
    done = events(resource_action="CREATE", resource_status="COMPLETE")
    assert {e["resource_name"] for e in done} == {"a", "b", stack["stack_name"]}
    assert {e["resource_status"] for e in done} == {"CREATE_COMPLETE"}
    assert [e["resource_name"] for e in events(resource_name="a")] == ["a", "a"]
    assert {e["resource_name"] for e in events(resource_type="OS::Heat::Value")} == {"b"}
    # newest first; by name (then as they happened); a page after a marker
    assert [e["id"] for e in events(sort_dir="desc")] == [e["id"] for e in reversed(every)]
    by_name = events(sort_keys="resource_name", resource_action="CREATE")
    names = [e["resource_name"] for e in by_name]
    assert names == sorted(names) and names[0] == "a"
    assert [e["resource_status"] for e in by_name if e["resource_name"] == "a"] == ["CREATE_IN_PROGRESS",
                                                                                    "CREATE_COMPLETE"]
    assert [e["id"] for e in events(limit=2, marker=every[0]["id"])] == [e["id"] for e in every[1:3]]
    fault(heat.http.get(path, params={"sort_keys": "colour"}), 400)
    fault(heat.http.get(path, params={"marker": "nothing"}), 404)

    assert ok(heat.http.get(f"{heat.path(stack)}/resources/b/metadata")) == {"metadata": {"role": "second"}}
    fault(heat.http.get(f"{heat.path(stack)}/resources/nothing/metadata"), 404)
    heat.delete(stack)


def test_a_resource_metadata_or_update_policy_that_is_no_map_is_refused(heat):
    """Found by declaring Heat's bodies (docs/hardening.md): a list given as a resource's metadata was taken
    and shown as the resource's metadata, which Heat's API promises is an object; Heat refuses it."""
    for part, value in (("metadata", [1]), ("metadata", "role"), ("update_policy", [])):
        template = {"heat_template_version": "2018-08-31",
                    "resources": {"r": {"type": "OS::Heat::None", part: value}}}
        for path, body in (("/stacks", {"stack_name": name("m"), "template": template}),
                           ("/validate", {"template": template})):
            message = fault(heat.http.post(path, json=body), 400)
            assert message == f"Resource r {part} type must be object", (path, part, message)
    # maps are taken, and the metadata is shown as given
    stack = heat.created({"heat_template_version": "2018-08-31", "resources": {
        "r": {"type": "OS::Heat::None", "metadata": {"role": "first"}, "update_policy": {}}}})
    assert ok(heat.http.get(f"{heat.path(stack)}/resources/r/metadata"))["metadata"] == {"role": "first"}
