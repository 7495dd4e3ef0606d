"""Stack actions over HTTP against the real cloud (servers on the fake compute driver): suspend and resume
take every resource through the action in Heat's order and the server through Nova's suspend, check finds
the resource whose thing is gone, update preview says what an update would do without doing it, and an
abandoned stack's things are adopted by a new one."""

import json

from tests.api.helpers import ok
from tests.api.orchestration_helpers import fault

ONE_SERVER = {
    "heat_template_version": "2018-08-31",
    "parameters": {"image": {"type": "string"}},
    "resources": {
        "net": {"type": "OS::Neutron::Net"},
        "secret": {"type": "OS::Heat::RandomString"},
        "server": {"type": "OS::Nova::Server", "depends_on": "net", "properties": {
            "image": {"get_param": "image"}, "flavor": "m1.tiny", "networks": [{"allocate_network": "none"}]}},
    },
}


def act(heat, stack: dict, action: str) -> dict:
    resp = heat.http.post(f"{heat.path(stack)}/actions", json={action: None})
    assert resp.status_code == 200, resp.text
    return heat.settle(stack, 120)


def statuses(heat, stack: dict) -> dict[str, str]:
    return {name: r["resource_status"] for name, r in heat.resources(stack).items()}


def order(events: list[dict], action: str) -> list[tuple[str, str]]:
    """(resource, status) of the resources' events of ``action``, oldest first."""
    return [(e["resource_name"], e["resource_status"]) for e in events
            if e["resource_status"].startswith(action) and e["resource_name"] in ONE_SERVER["resources"]]


def test_suspend_resume_and_check_a_stack(heat, heat_image):
    stack = heat.created(ONE_SERVER, parameters={"image": heat_image["id"]})
    server_id = heat.resources(stack)["server"]["physical_resource_id"]

    def server_status() -> str:
        return ok(heat.root.get(f"/compute/v2.1/servers/{server_id}"))["server"]["status"]

    stack = act(heat, stack, "suspend")
    assert stack["stack_status"] == "SUSPEND_COMPLETE", stack["stack_status_reason"]
    assert stack["stack_status_reason"] == "Stack SUSPEND completed successfully"
    assert set(statuses(heat, stack).values()) == {"SUSPEND_COMPLETE"}
    assert server_status() == "SUSPENDED"
    suspended = order(heat.events(stack), "SUSPEND")
    # dependents first: the server is suspended before the network it needs is taken through it
    assert suspended.index(("server", "SUSPEND_COMPLETE")) < suspended.index(("net", "SUSPEND_IN_PROGRESS"))
    # a second suspend of a suspended stack changes nothing
    count = len(heat.events(stack))
    assert act(heat, stack, "suspend")["stack_status"] == "SUSPEND_COMPLETE"
    assert len(heat.events(stack)) == count

    stack = act(heat, stack, "resume")
    assert stack["stack_status"] == "RESUME_COMPLETE", stack["stack_status_reason"]
    assert set(statuses(heat, stack).values()) == {"RESUME_COMPLETE"}
    assert server_status() == "ACTIVE"
    resumed = order(heat.events(stack), "RESUME")
    assert resumed.index(("net", "RESUME_COMPLETE")) < resumed.index(("server", "RESUME_IN_PROGRESS"))

    stack = act(heat, stack, "check")
    assert stack["stack_status"] == "CHECK_COMPLETE", stack["stack_status_reason"]
    resources = heat.resources(stack)
    assert {r["resource_status"] for r in resources.values()} == {"CHECK_COMPLETE"}
    assert resources["secret"]["resource_status_reason"] == "CHECK not supported for OS::Heat::RandomString"

    # the network goes behind the stack's back: check names it, and only it
    net_id = resources["net"]["physical_resource_id"]
    ok(heat.root.delete(f"/network/v2.0/networks/{net_id}"), 204)
    stack = act(heat, stack, "check")
    assert stack["stack_status"] == "CHECK_FAILED"
    assert stack["stack_status_reason"].startswith("Resource CHECK failed: NotFound: resources.net: ")
    assert statuses(heat, stack) == {"net": "CHECK_FAILED", "secret": "CHECK_COMPLETE", "server": "CHECK_COMPLETE"}
    assert ("net", "CHECK_FAILED") in order(heat.events(stack), "CHECK")
    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"


def test_resume_of_a_stack_never_suspended_fails_naming_the_state(heat):
    stack = heat.created({"heat_template_version": "2018-08-31",
                          "resources": {"secret": {"type": "OS::Heat::RandomString"}}})
    stack = act(heat, stack, "resume")
    assert stack["stack_status"] == "RESUME_FAILED"
    assert "resources.secret: State ('CREATE', 'COMPLETE') invalid for resume" in stack["stack_status_reason"]


def test_actions_are_refused_while_one_runs_and_unknown_ones_are_400(heat):
    stack = heat.create({"heat_template_version": "2018-08-31", "resources": {
        "slow": {"type": "OS::Heat::TestResource",
                 "properties": {"action_wait_secs": {"create": 600, "delete": 0}}}}})
    fault(heat.http.post(f"{heat.path(stack)}/actions", json={"suspend": None}), 409, "ActionInProgress")
    fault(heat.http.post(f"{heat.path(stack)}/actions", json={"hibernate": None}), 400)
    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"


def test_update_preview_says_what_an_update_would_do_and_does_nothing(heat):
    template = {"heat_template_version": "2018-08-31",
                "parameters": {"value": {"type": "string", "default": "one"}},
                "resources": {"kept": {"type": "OS::Heat::TestResource", "properties": {"value": {"get_param": "value"}}},
                              "swapped": {"type": "OS::Heat::TestResource", "properties": {"value": "a"}},
                              "same": {"type": "OS::Heat::RandomString"},
                              "dropped": {"type": "OS::Heat::RandomString"}}}
    stack = heat.created(template)
    before = heat.resources(stack)
    new = {**template, "resources": {**template["resources"],
                                     "swapped": {"type": "OS::Heat::TestResource",
                                                 "properties": {"value": "b", "update_replace": True}},
                                     "fresh": {"type": "OS::Heat::Value", "properties": {"value": 1}}}}
    del new["resources"]["dropped"]
    resp = heat.http.put(f"{heat.path(stack)}/preview", json={"template": new, "parameters": {"value": "two"}})
    changes = ok(resp)["resource_changes"]
    assert {kind: sorted(r["resource_name"] for r in entries) for kind, entries in changes.items()} == {
        "added": ["fresh"], "deleted": ["dropped"], "replaced": ["swapped"], "updated": ["kept"],
        "unchanged": ["same"]}
    assert changes["added"][0]["resource_type"] == "OS::Heat::Value"
    assert changes["updated"][0]["resource_identity"]["path"] == "/resources/kept"
    # PATCH keeps the template: only the parameter's change shows
    changes = ok(heat.http.patch(f"{heat.path(stack)}/preview", json={"parameters": {"value": "two"}}))
    assert [r["resource_name"] for r in changes["resource_changes"]["updated"]] == ["kept"]
    assert changes["resource_changes"]["added"] == [] and changes["resource_changes"]["deleted"] == []
    # nothing happened
    assert heat.show(stack)["stack_status"] == "CREATE_COMPLETE"
    assert heat.resources(stack) == before
    # the real update does what the preview said
    ok(heat.http.put(heat.path(stack), json={"template": new, "parameters": {"value": "two"}}), 202)
    stack = heat.settle(stack)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    after = heat.resources(stack)
    assert after["kept"]["physical_resource_id"] == before["kept"]["physical_resource_id"]
    assert after["swapped"]["physical_resource_id"] != before["swapped"]["physical_resource_id"]
    assert after["same"]["resource_status"] == "CREATE_COMPLETE" and "dropped" not in after
    fault(heat.http.put(f"{heat.path(stack)}/preview", json={"template": "resources: [broken"}), 400)


def test_abandon_keeps_the_things_and_adopt_takes_them_back(heat):
    template = {"heat_template_version": "2018-08-31",
                "parameters": {"cidr": {"type": "string"}},
                "resources": {"net": {"type": "OS::Neutron::Net"},
                              "subnet": {"type": "OS::Neutron::Subnet", "properties": {
                                  "network": {"get_resource": "net"}, "cidr": {"get_param": "cidr"}}},
                              "secret": {"type": "OS::Heat::RandomString"}},
                "outputs": {"secret": {"value": {"get_attr": ["secret", "value"]}}}}
    stack = heat.created(template, parameters={"cidr": "10.91.0.0/24"})
    made = {name: r["physical_resource_id"] for name, r in heat.resources(stack).items()}
    secret = heat.output(stack, "secret")

    data = ok(heat.http.delete(f"{heat.path(stack)}/abandon"))
    assert data["id"] == stack["id"] and data["name"] == stack["stack_name"]
    assert data["template"]["resources"].keys() == template["resources"].keys()
    assert {name: r["resource_id"] for name, r in data["resources"].items()} == made
    assert data["environment"]["parameters"] == {"cidr": "10.91.0.0/24"}
    # the stack is gone, what it made is not
    assert stack["stack_name"] not in {s["stack_name"] for s in ok(heat.http.get("/stacks"))["stacks"]}
    assert ok(heat.root.get(f"/network/v2.0/networks/{made['net']}"))["network"]["id"] == made["net"]
    fault(heat.http.delete(f"{heat.path(stack)}/abandon"), 404)

    again = stack["stack_name"] + "-again"
    adopted = ok(heat.http.post("/stacks", json={"stack_name": again, "adopt_stack_data": json.dumps(data)}), 201)
    adopted = heat.settle({**adopted["stack"], "stack_name": again})
    assert adopted["stack_status"] == "ADOPT_COMPLETE", adopted["stack_status_reason"]
    resources = heat.resources(adopted)
    assert {name: r["physical_resource_id"] for name, r in resources.items()} == made
    assert {r["resource_status"] for r in resources.values()} == {"ADOPT_COMPLETE"}
    assert heat.output(adopted, "secret") == secret
    assert len(ok(heat.root.get("/network/v2.0/networks", params={"tenant_id": heat.project_id}))["networks"]) == 1
    # the adopted stack owns them now: its delete removes them
    assert heat.delete(adopted)["stack_status"] == "DELETE_COMPLETE"
    assert heat.root.get(f"/network/v2.0/networks/{made['net']}").status_code == 404

    # adopting what no longer exists fails, naming the resource
    gone = stack["stack_name"] + "-gone"
    made_again = ok(heat.http.post("/stacks", json={"stack_name": gone, "adopt_stack_data": data}), 201)
    failed = heat.settle({**made_again["stack"], "stack_name": gone})
    assert failed["stack_status"] == "ADOPT_FAILED"
    assert failed["stack_status_reason"].startswith("Resource ADOPT failed: NotFound: resources.net: ")
    fault(heat.http.post("/stacks", json={"stack_name": "x", "adopt_stack_data": "{not json"}), 400)


def test_snapshots_are_taken_listed_restored_and_deleted(heat):
    template = {"heat_template_version": "2018-08-31",
                "parameters": {"value": {"type": "string", "default": "one"}},
                "resources": {"kept": {"type": "OS::Heat::TestResource", "properties": {"value": {"get_param": "value"}}},
                              "net": {"type": "OS::Neutron::Net"}},
                "outputs": {"value": {"value": {"get_attr": ["kept", "output"]}}}}
    stack = heat.created(template)
    snapshots = f"{heat.path(stack)}/snapshots"
    # a body that is not an object, or a name that is not a string, is refused (the fuzz found a 500)
    for bad in ([["a"], []], {"name": 5}):
        assert heat.http.post(snapshots, json=bad).status_code == 400, bad
    taken = ok(heat.http.post(snapshots, json={"name": "first"}))
    assert taken["name"] == "first" and taken["status"] in ("IN_PROGRESS", "COMPLETE")
    stack = heat.settle(stack)
    assert stack["stack_status"] == "SNAPSHOT_COMPLETE", stack["stack_status_reason"]
    assert {r["resource_status"] for r in heat.resources(stack).values()} == {"SNAPSHOT_COMPLETE"}
    shown = ok(heat.http.get(f"{snapshots}/{taken['id']}"))["snapshot"]
    assert shown["status"] == "COMPLETE" and shown["status_reason"] == "Stack SNAPSHOT completed successfully"
    assert shown["data"]["environment"]["parameters"] == {}
    assert set(shown["data"]["resources"]) == {"kept", "net"}
    assert [s["id"] for s in ok(heat.http.get(snapshots))["snapshots"]] == [taken["id"]]

    # the stack changes: a new parameter value, the network gone from the template
    del template["resources"]["net"]
    ok(heat.http.put(heat.path(stack), json={"template": template, "parameters": {"value": "two"}}), 202)
    assert heat.settle(stack)["stack_status"] == "UPDATE_COMPLETE"
    assert heat.output(stack, "value") == "two" and set(heat.resources(stack)) == {"kept"}

    # restore: back to the snapshot's definition, as an update would go there
    resp = heat.http.post(f"{snapshots}/{taken['id']}/restore")
    assert resp.status_code == 202, resp.text
    stack = heat.settle(stack)
    assert stack["stack_status"] == "RESTORE_COMPLETE", stack["stack_status_reason"]
    assert heat.output(stack, "value") == "one" and set(heat.resources(stack)) == {"kept", "net"}

    fault(heat.http.get(f"{snapshots}/not-a-snapshot"), 404)
    assert heat.http.delete(f"{snapshots}/{taken['id']}").status_code == 204
    assert ok(heat.http.get(snapshots))["snapshots"] == []
    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"


def test_suspend_and_resume_go_down_into_nested_stacks(heat, heat_image):
    """A ResourceGroup of servers: the stack's suspend suspends its child stack and every member server
    (fake driver), and resume brings them back, as Heat's nested stacks do."""
    template = {
        "heat_template_version": "2018-08-31",
        "parameters": {"image": {"type": "string"}},
        "resources": {"group": {"type": "OS::Heat::ResourceGroup", "properties": {"count": 2, "resource_def": {
            "type": "OS::Nova::Server", "properties": {"image": {"get_param": "image"}, "flavor": "m1.tiny",
                                                       "networks": [{"allocate_network": "none"}]}}}}},
    }
    stack = heat.created(template, parameters={"image": heat_image["id"]})
    child_id = heat.resources(stack)["group"]["physical_resource_id"]
    child = ok(heat.http.get(f"/stacks/{child_id}", follow_redirects=True))["stack"]
    servers = [r["physical_resource_id"] for r in heat.resources(child).values()]
    assert len(servers) == 2

    def server_statuses() -> set[str]:
        return {ok(heat.root.get(f"/compute/v2.1/servers/{s}"))["server"]["status"] for s in servers}

    stack = act(heat, stack, "suspend")
    assert stack["stack_status"] == "SUSPEND_COMPLETE", stack["stack_status_reason"]
    assert heat.show(child)["stack_status"] == "SUSPEND_COMPLETE"
    assert set(statuses(heat, child).values()) == {"SUSPEND_COMPLETE"}
    assert server_statuses() == {"SUSPENDED"}

    stack = act(heat, stack, "resume")
    assert stack["stack_status"] == "RESUME_COMPLETE", stack["stack_status_reason"]
    assert heat.show(child)["stack_status"] == "RESUME_COMPLETE"
    assert server_statuses() == {"ACTIVE"}
    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"
