"""Requests of Heat's API that issue 16 lists and no other test made: an update cancelled without rollback,
the stack list's ``not_tags`` and ``not_tags_any``, a stack's environment and files shown back, and a
CloudFormation template refused with a 400 that says so."""


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
