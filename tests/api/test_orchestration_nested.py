"""Nested stacks over HTTP against the real cloud: provider templates from the request's files (through
the resource_registry or named directly), OS::Heat::Stack, and OS::Heat::ResourceGroup growing and
shrinking, each shown as Heat shows nested stacks (parent, nested_depth)."""

import time

import yaml

from tests.api.helpers import ok, wait
from tests.api.orchestration_helpers import fault

MEMBER = {
    "heat_template_version": "2018-08-31",
    "parameters": {"value": {"type": "string"}, "suffix": {"type": "string", "default": "!"}},
    "resources": {"test": {"type": "OS::Heat::TestResource",
                           "properties": {"value": {"list_join": ["", [{"get_param": "value"},
                                                                       {"get_param": "suffix"}]]}}}},
    "outputs": {"out": {"value": {"get_attr": ["test", "output"]}}},
}


def nested_stacks(heat, stack) -> list[dict]:
    return [s for s in ok(heat.http.get("/stacks", params={"show_nested": True}))["stacks"]
            if s["parent"] == stack["id"]]


def test_provider_templates_are_nested_stacks(heat):
    template = {
        "heat_template_version": "2018-08-31",
        "resources": {
            "a": {"type": "My::Member", "properties": {"value": "hello"}},
            "b": {"type": "member.yaml", "properties": {"value": {"get_attr": ["a", "out"]}, "suffix": "?"}},
        },
        "outputs": {"a": {"value": {"get_attr": ["a", "out"]}}, "b": {"value": {"get_attr": ["b", "out"]}}},
    }
    files = {"member.yaml": yaml.safe_dump(MEMBER)}
    env = {"resource_registry": {"My::Member": "member.yaml"}}
    stack = heat.created(template, files=files, environment=env)
    assert heat.output(stack, "a") == "hello!" and heat.output(stack, "b") == "hello!?"

    # Hidden from the list unless asked; each names its parent and the resource it stands for.
    assert {s["id"] for s in ok(heat.http.get("/stacks"))["stacks"]} == {stack["id"]}
    children = nested_stacks(heat, stack)
    assert len(children) == 2 and {c["stack_status"] for c in children} == {"CREATE_COMPLETE"}
    top = heat.resources(stack)
    assert {c["id"] for c in children} == {top["a"]["physical_resource_id"], top["b"]["physical_resource_id"]}
    assert any(link["rel"] == "nested" for link in top["a"]["links"])
    deep = ok(heat.http.get(f"{heat.path(stack)}/resources", params={"nested_depth": 1}))["resources"]
    inner = [r for r in deep if r.get("parent_resource")]
    assert sorted(r["parent_resource"] for r in inner) == ["a", "b"]
    assert {r["resource_type"] for r in inner} == {"OS::Heat::TestResource"}

    # An update that changes a property updates the nested stack in place.
    ok(heat.http.patch(heat.path(stack), json={"parameters": {}, "template": {
        **template, "resources": {**template["resources"],
                                  "a": {"type": "My::Member", "properties": {"value": "bye"}}}}}), 202)
    updated = heat.settle(stack)
    assert updated["stack_status"] == "UPDATE_COMPLETE", updated["stack_status_reason"]
    assert heat.output(stack, "a") == "bye!" and heat.output(stack, "b") == "bye!?"
    assert heat.resources(stack)["a"]["physical_resource_id"] == top["a"]["physical_resource_id"]

    # A changed provider template updates its resources' nested stacks too.
    changed = {**MEMBER, "parameters": {**MEMBER["parameters"], "suffix": {"type": "string", "default": "."}}}
    ok(heat.http.patch(heat.path(stack), json={"files": {"member.yaml": yaml.safe_dump(changed)}}), 202)
    assert heat.settle(stack)["stack_status"] == "UPDATE_COMPLETE"
    assert heat.output(stack, "a") == "bye."

    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"
    assert nested_stacks(heat, stack) == []


def test_resource_group_grows_and_shrinks(heat):
    def template(count: int) -> dict:
        return {
            "heat_template_version": "2018-08-31",
            "parameters": {"count": {"type": "number", "default": count}},
            "resources": {"group": {"type": "OS::Heat::ResourceGroup", "properties": {
                "count": {"get_param": "count"},
                "resource_def": {"type": "OS::Heat::TestResource", "properties": {"value": "member-%index%"}}}}},
            "outputs": {
                "values": {"value": {"get_attr": ["group", "output"]}},
                "refs": {"value": {"get_attr": ["group", "refs"]}},
                "by_name": {"value": {"get_attr": ["group", "attributes", "output"]}},
                "second": {"value": {"get_attr": ["group", "resource.1", "output"]}},
            },
        }

    stack = heat.created(template(3))
    assert heat.output(stack, "values") == ["member-0", "member-1", "member-2"]
    assert heat.output(stack, "refs") == ["member-0", "member-1", "member-2"]  # TestResource's reference
    assert heat.output(stack, "by_name") == {"0": "member-0", "1": "member-1", "2": "member-2"}
    assert heat.output(stack, "second") == "member-1"
    [child] = nested_stacks(heat, stack)
    child_path = f"/stacks/{child['stack_name']}/{child['id']}"
    assert len(ok(heat.http.get(f"{child_path}/resources"))["resources"]) == 3

    ok(heat.http.patch(heat.path(stack), json={"parameters": {"count": 5}}), 202)
    assert heat.settle(stack)["stack_status"] == "UPDATE_COMPLETE"
    assert heat.output(stack, "values") == [f"member-{i}" for i in range(5)]
    ok(heat.http.patch(heat.path(stack), json={"parameters": {"count": 2}}), 202)
    assert heat.settle(stack)["stack_status"] == "UPDATE_COMPLETE"
    assert heat.output(stack, "values") == ["member-0", "member-1"]
    assert sorted(r["resource_name"] for r in ok(heat.http.get(f"{child_path}/resources"))["resources"]) == \
        ["0", "1"]
    deep = ok(heat.http.get(f"{heat.path(stack)}/resources", params={"nested_depth": 2}))["resources"]
    assert sorted(r["resource_name"] for r in deep) == ["0", "1", "group"]
    # Events with nested_depth: the nested stack's own events too, linked to their stack.
    events = ok(heat.http.get(f"{heat.path(stack)}/events", params={"nested_depth": 1}))["events"]
    inner = [e for e in events if e["resource_name"] in ("3", "4") and e["resource_status"] == "DELETE_COMPLETE"]
    assert len(inner) == 2 and all(child["id"] in e["links"][-1]["href"] for e in inner)
    assert len(heat.events(stack)) < len(events)
    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"
    assert ok(heat.http.get(child_path))["stack"]["stack_status"] == "DELETE_COMPLETE"


def test_os_heat_stack_and_nested_failures(heat):
    inner = yaml.safe_dump({"heat_template_version": "2018-08-31",
                            "parameters": {"word": {"type": "string"}},
                            "resources": {"v": {"type": "OS::Heat::Value", "properties": {
                                "value": {"str_replace": {"template": "say W", "params": {"W": {
                                    "get_param": "word"}}}}}}},
                            "outputs": {"said": {"value": {"get_attr": ["v", "value"]}}}})
    stack = heat.created({"heat_template_version": "2018-08-31", "resources": {"child": {
        "type": "OS::Heat::Stack", "properties": {"template": inner, "parameters": {"word": "hi"}}}},
        "outputs": {"all": {"value": {"get_attr": ["child", "outputs"]}},
                    "said": {"value": {"get_attr": ["child", "outputs", "said"]}}}})
    assert heat.output(stack, "said") == "say hi" and heat.output(stack, "all") == {"said": "say hi"}
    heat.delete(stack)

    # A member that fails fails its group and the stack, naming the nested resource.
    failing = heat.settle(heat.create({"heat_template_version": "2018-08-31", "resources": {"group": {
        "type": "OS::Heat::ResourceGroup", "properties": {"count": 2, "resource_def": {
            "type": "OS::Heat::TestResource", "properties": {"fail": True}}}}}}))
    assert failing["stack_status"] == "CREATE_FAILED"
    assert "resources.group" in failing["stack_status_reason"]
    assert "Test Resource failed" in failing["stack_status_reason"]
    heat.delete(failing)

    # A provider template that is not in the files, or is not a template, is a 400 naming the resource.
    message = fault(heat.http.post("/stacks", json={"stack_name": "missing", "template": {
        "heat_template_version": "2018-08-31", "resources": {"x": {"type": "nowhere.yaml"}}}}), 400)
    assert "resources.x" in message and "nowhere.yaml" in message
    message = fault(heat.http.post("/stacks", json={"stack_name": "broken", "files": {"bad.yaml": "a: [b"},
                                                    "template": {"heat_template_version": "2018-08-31",
                                                                 "resources": {"x": {"type": "bad.yaml"}}}}), 400)
    assert "resources.x" in message and "line" in message
    message = fault(heat.http.post("/stacks", json={"stack_name": "unknown-prop", "files": {
        "m.yaml": yaml.safe_dump(MEMBER)}, "template": {"heat_template_version": "2018-08-31", "resources": {
            "x": {"type": "m.yaml", "properties": {"value": "v", "colour": "red"}}}}}), 400)
    assert "colour" in message
    # A group of a type nobody knows is refused before anything is made.
    message = fault(heat.http.post("/stacks", json={"stack_name": "nope", "template": {
        "heat_template_version": "2018-08-31", "resources": {"g": {"type": "OS::Heat::ResourceGroup",
                                                                   "properties": {"resource_def": {
                                                                       "type": "OS::Nope::Thing"}}}}}}), 400)
    assert "resources.g" in message and "OS::Nope::Thing" in message
    # A template that nests itself stops at Heat's depth limit instead of going on forever.
    loop = {"heat_template_version": "2018-08-31", "resources": {"again": {"type": "loop.yaml"}}}
    looped = heat.settle(heat.create(loop, files={"loop.yaml": yaml.safe_dump(loop)}))
    assert looped["stack_status"] == "CREATE_FAILED" and "Recursion depth exceeds" in looped["stack_status_reason"]
    assert heat.delete(looped, 90)["stack_status"] == "DELETE_COMPLETE"


def test_a_failed_parent_rolls_its_nested_stacks_back(heat):
    stack = heat.settle(heat.create({"heat_template_version": "2018-08-31", "resources": {
        "group": {"type": "OS::Heat::ResourceGroup", "properties": {"count": 2, "resource_def": {
            "type": "OS::Heat::TestResource", "properties": {"value": "x"}}}},
        "bad": {"type": "OS::Heat::TestResource", "depends_on": "group", "properties": {"fail": True}}}},
        disable_rollback=False))
    assert stack["stack_status"] == "ROLLBACK_COMPLETE", stack["stack_status_reason"]
    assert heat.resources(stack) == {}
    assert nested_stacks(heat, stack) == []

    # A delete while the nested stack is still being made stops it and removes both.
    slow = heat.create({"heat_template_version": "2018-08-31", "resources": {"group": {
        "type": "OS::Heat::ResourceGroup", "properties": {"count": 2, "resource_def": {
            "type": "OS::Heat::TestResource", "properties": {"action_wait_secs": {"create": 30}}}}}}})
    wait(lambda: nested_stacks(heat, slow), 30, "the nested stack")
    assert heat.delete(slow)["stack_status"] == "DELETE_COMPLETE"
    assert nested_stacks(heat, slow) == []


def test_scaling_policies_resize_an_autoscaling_group(heat):
    def template(desired: int) -> dict:
        return {"heat_template_version": "2018-08-31", "resources": {
            "asg": {"type": "OS::Heat::AutoScalingGroup", "properties": {
                "min_size": 1, "max_size": 4, "desired_capacity": desired,
                "resource": {"type": "OS::Heat::TestResource", "properties": {"value": "m"}}}},
            "up": {"type": "OS::Heat::ScalingPolicy", "properties": {
                "auto_scaling_group_id": {"get_resource": "asg"}, "adjustment_type": "change_in_capacity",
                "scaling_adjustment": 1}},
            "exact": {"type": "OS::Heat::ScalingPolicy", "properties": {
                "auto_scaling_group_id": {"get_resource": "asg"}, "adjustment_type": "exact_capacity",
                "scaling_adjustment": 1}}},
            "outputs": {"size": {"value": {"get_attr": ["asg", "current_size"]}},
                        "values": {"value": {"get_attr": ["asg", "outputs_list", "output"]}},
                        "url": {"value": {"get_attr": ["up", "signal_url"]}}}}

    stack = heat.created(template(2))
    assert heat.output(stack, "size") == 2 and heat.output(stack, "values") == ["m", "m"]
    url = heat.output(stack, "url")
    assert url.endswith(f"{heat.path(stack)}/resources/up/signal")

    def signal(policy: str, size: int) -> None:
        ok(heat.http.post(f"{heat.path(stack)}/resources/{policy}/signal", json={}))
        settled = heat.settle(stack)
        assert settled["stack_status"] in ("UPDATE_COMPLETE", "CREATE_COMPLETE"), settled["stack_status_reason"]
        assert heat.output(stack, "size") == size

    signal("up", 3)
    signal("up", 4)
    signal("up", 4)  # max_size holds
    signal("exact", 1)
    assert any(e["resource_name"] == "up" and e["resource_status"] == "SIGNAL_COMPLETE" and
               "from 2 to 3" in e["resource_status_reason"] for e in heat.events(stack))
    # A new desired capacity in the template wins over the last policy.
    ok(heat.http.put(heat.path(stack), json={"template": template(3)}), 202)
    assert heat.settle(stack)["stack_status"] == "UPDATE_COMPLETE"
    assert heat.output(stack, "size") == 3
    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"


def _child_events(heat, child: dict) -> list[tuple[str, str]]:
    path = f"/stacks/{child['stack_name']}/{child['id']}/events"
    return [(e["resource_name"], e["resource_status"]) for e in ok(heat.http.get(path))["events"]]


def test_resource_group_update_policy_rolls_members_in_batches(heat):
    """``rolling_update`` (max_batch_size 2, a pause between batches) updates five members two at a time:
    the second pair starts only once the first is done, the child stack takes one UPDATE per batch.
    ``batch_create`` (max_batch_size 3) creates them in batches too.  A policy key the type does not know is
    a 400 naming it."""
    def template(value: str, pause: float = 0.5) -> dict:
        return {
            "heat_template_version": "2018-08-31",
            "parameters": {"value": {"type": "string", "default": value}},
            "resources": {"group": {
                "type": "OS::Heat::ResourceGroup",
                "update_policy": {"rolling_update": {"max_batch_size": 2, "pause_time": pause},
                                  "batch_create": {"max_batch_size": 3}},
                "properties": {"count": 5, "resource_def": {"type": "OS::Heat::TestResource", "properties": {
                    "value": {"str_replace": {"template": "%index%-V", "params": {"V": {"get_param": "value"}}}}}}}}},
            "outputs": {"values": {"value": {"get_attr": ["group", "output"]}}},
        }

    stack = heat.created(template("a"))
    assert heat.output(stack, "values") == [f"{i}-a" for i in range(5)]
    [child] = nested_stacks(heat, stack)
    created = _child_events(heat, child)
    # batch_create: members 3 and 4 start only after 0, 1 and 2 are complete (a CREATE, then an UPDATE)
    assert max(created.index((n, "CREATE_COMPLETE")) for n in "012") < \
        min(created.index((n, "CREATE_IN_PROGRESS")) for n in "34")
    assert (child["stack_name"], "UPDATE_COMPLETE") in created

    started = time.monotonic()
    ok(heat.http.patch(heat.path(stack), json={"parameters": {"value": "b"}}), 202)
    stack = heat.settle(stack)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert time.monotonic() - started >= 1.0  # two pauses of 0.5 s between three batches
    assert heat.output(stack, "values") == [f"{i}-b" for i in range(5)]
    events = _child_events(heat, child)[len(created):]
    first = {("0", "UPDATE_COMPLETE"), ("1", "UPDATE_COMPLETE")}
    assert max(events.index(e) for e in first) < min(events.index((n, "UPDATE_IN_PROGRESS")) for n in "23")
    assert max(events.index((n, "UPDATE_COMPLETE")) for n in "23") < events.index(("4", "UPDATE_IN_PROGRESS"))
    assert events.count((child["stack_name"], "UPDATE_COMPLETE")) == 3  # batches of 2, 2 and 1

    # an update policy its type does not have is refused before anything changes
    bad = template("c")
    bad["resources"]["group"]["update_policy"]["rolling_update"]["max_batch"] = 2
    message = fault(heat.http.patch(heat.path(stack), json={"template": bad}), 400)
    assert "resources.group.update_policy.rolling_update" in message and "max_batch" in message, message
    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"


def test_autoscaling_group_rolling_updates_one_member_at_a_time(heat):
    def template(value: str) -> dict:
        return {"heat_template_version": "2018-08-31", "resources": {"asg": {
            "type": "OS::Heat::AutoScalingGroup", "properties": {
                "min_size": 3, "max_size": 3, "rolling_updates": {"max_batch_size": 1},
                "resource": {"type": "OS::Heat::TestResource", "properties": {"value": value}}}}}}

    stack = heat.created(template("a"))
    [child] = nested_stacks(heat, stack)
    before = len(_child_events(heat, child))
    ok(heat.http.put(heat.path(stack), json={"template": template("b")}), 202)
    assert heat.settle(stack)["stack_status"] == "UPDATE_COMPLETE"
    events = _child_events(heat, child)[before:]
    assert events.count((child["stack_name"], "UPDATE_COMPLETE")) == 3  # one member per batch
    for first, second in (("0", "1"), ("1", "2")):
        assert events.index((first, "UPDATE_COMPLETE")) < events.index((second, "UPDATE_IN_PROGRESS"))
