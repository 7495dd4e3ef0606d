"""Breakpoints over HTTP: an environment's ``resource_registry.resources.<name>.hooks`` pause a resource
before its create, update or delete; a signal ``{"unset_hook": ...}`` (what ``openstack stack hook
clear`` sends) lets it go on; events say so in the words ``stack hook poll`` reads; cancel and delete win
over a paused resource; bad hooks are 400s."""

from __future__ import annotations

from heatclient import client as heat_client

from tests.api.helpers import name, ok, wait
from tests.api.orchestration_helpers import fault

CHAIN = """
heat_template_version: 2018-08-31
parameters:
  word: {type: string, default: one}
resources:
  first: {type: OS::Heat::Value, properties: {value: {get_param: word}}}
  second: {type: OS::Heat::Value, properties: {value: {get_attr: [first, value]}}}
  third: {type: OS::Heat::Value, properties: {value: {get_attr: [second, value]}}}
outputs:
  third: {value: {get_attr: [third, value]}}
"""


def hooked(*names: str, hook: str = "pre-create") -> dict:
    return {"resource_registry": {"resources": {n: {"hooks": hook} for n in names}}}


def reasons(heat, stack) -> list[tuple[str, str, str]]:
    return [(e["resource_name"], e["resource_status"], e["resource_status_reason"])
            for e in heat.events(stack)]


def paused_at(heat, stack, resource: str, action: str, hook: str, times: int = 1) -> None:
    """Wait for the resource's ``times``-th pause at ``hook``."""
    wanted = f"{action} paused until Hook {hook} is cleared"
    wait(lambda: sum(r == resource and why == wanted for r, _, why in reasons(heat, stack)) >= times, 30,
         f"{resource} to pause at {hook}")


def test_pre_create_pauses_a_resource_until_the_hook_is_cleared(heat):
    stack = heat.create(CHAIN, environment=hooked("second"))
    paused_at(heat, stack, "second", "CREATE", "pre-create")
    # paused: the stack is in progress by design, what came before is made, what needs it waits
    assert heat.show(stack)["stack_status"] == "CREATE_IN_PROGRESS"
    resources = heat.resources(stack)
    assert resources["first"]["resource_status"] == "CREATE_COMPLETE"
    assert resources["second"]["resource_status"] == "INIT_COMPLETE"
    assert "third" not in resources or resources["third"]["resource_status"] == "INIT_COMPLETE"

    # heatclient's own hook clearing (the signal `openstack stack hook clear` sends)
    hc = heat_client.Client("1", endpoint=f"{heat.cloud.url}/orchestration/v1/{heat.project_id}", token=heat.token)
    signal = f"{heat.path(stack)}/resources/second/signal"
    assert "is not defined" in fault(heat.http.post(signal, json={"unset_hook": "pre-update"}), 400,
                                     "InvalidBreakPointHook")
    assert "Invalid hook type" in fault(heat.http.post(signal, json={"unset_hook": "pre-lunch"}), 400,
                                        "InvalidBreakPointHook")
    hc.resources.signal(stack_id=stack["id"], resource_name="second", data={"unset_hook": "pre-create"})
    done = heat.settle(stack)
    assert done["stack_status"] == "CREATE_COMPLETE", done["stack_status_reason"]
    assert heat.output(done, "third") == "one"
    seen = reasons(heat, stack)
    assert ("second", "INIT_COMPLETE", "CREATE paused until Hook pre-create is cleared") in seen
    assert ("second", "INIT_COMPLETE", "Hook pre-create is cleared") in seen
    assert seen.index(("second", "INIT_COMPLETE", "Hook pre-create is cleared")) < \
        seen.index(("second", "CREATE_IN_PROGRESS", "state changed"))
    # a hook no longer waited at cannot be cleared again
    fault(heat.http.post(signal, json={"unset_hook": "pre-create"}), 400, "InvalidBreakPointHook")
    heat.delete(done)


def test_pre_update_pauses_and_cancel_rolls_back_past_it(heat):
    stack = heat.created(CHAIN, environment=hooked("sec*", hook="pre-update"))  # a pattern, as Heat's
    ok(heat.http.patch(heat.path(stack), json={"parameters": {"word": "two"}}), 202)
    paused_at(heat, stack, "second", "UPDATE", "pre-update")
    shown = heat.show(stack)
    assert shown["stack_status"] == "UPDATE_IN_PROGRESS"
    resources = heat.resources(stack)
    assert resources["first"]["resource_status"] == "UPDATE_COMPLETE"
    assert resources["second"]["resource_status"] == "CREATE_COMPLETE"  # untouched while paused

    ok(heat.http.post(f"{heat.path(stack)}/actions", json={"cancel_update": None}))
    back = heat.settle(stack)
    assert back["stack_status"] == "ROLLBACK_COMPLETE", back["stack_status_reason"]
    assert heat.output(back, "third") == "one"

    # the same update again, cleared this time: it goes through
    ok(heat.http.patch(heat.path(stack), json={"parameters": {"word": "three"}}), 202)
    paused_at(heat, stack, "second", "UPDATE", "pre-update", times=2)
    ok(heat.http.post(f"{heat.path(stack)}/resources/second/signal", json={"unset_hook": "pre-update"}))
    done = heat.settle(stack)
    assert done["stack_status"] == "UPDATE_COMPLETE", done["stack_status_reason"]
    assert heat.output(done, "third") == "three"
    heat.delete(done)


def test_pre_delete_pauses_the_delete_and_a_paused_create_can_be_deleted(heat):
    stack = heat.created(CHAIN, environment=hooked("third", hook="pre-delete"))
    ok(heat.http.delete(heat.path(stack)), 204)
    paused_at(heat, stack, "third", "DELETE", "pre-delete")
    assert heat.show(stack)["stack_status"] == "DELETE_IN_PROGRESS"
    assert set(heat.resources(stack)) == {"first", "second", "third"}  # dependents first: nothing went
    ok(heat.http.post(f"{heat.path(stack)}/resources/third/signal", json={"unset_hook": "pre-delete"}))
    assert heat.settle(stack)["stack_status"] == "DELETE_COMPLETE"

    waiting = heat.create(CHAIN, environment=hooked("first"))
    paused_at(heat, waiting, "first", "CREATE", "pre-create")
    gone = heat.delete(waiting)
    assert gone["stack_status"] == "DELETE_COMPLETE", gone["stack_status_reason"]


def test_hooks_in_a_nested_stack_are_the_parent_resources_entries(heat):
    template = """
heat_template_version: 2018-08-31
resources:
  group:
    type: OS::Heat::ResourceGroup
    properties: {count: 2, resource_def: {type: OS::Heat::Value, properties: {value: "%index%"}}}
"""
    stack = heat.create(template, environment={"resource_registry": {"resources": {
        "group": {"1": {"hooks": "pre-create"}}}}})
    children = wait(lambda: ok(heat.http.get("/stacks", params={"owner_id": stack["id"]}))["stacks"], 30,
                    "the group's nested stack")
    child = {"stack_name": children[0]["stack_name"], "id": children[0]["id"]}
    paused_at(heat, child, "1", "CREATE", "pre-create")
    # the members are made side by side: the one without a hook goes on to its end while "1" waits
    wait(lambda: heat.resources(child)["0"]["resource_status"] == "CREATE_COMPLETE", 30, "member 0 made")
    assert heat.resources(child)["1"]["resource_status"] == "INIT_COMPLETE"
    assert heat.show(stack)["stack_status"] == "CREATE_IN_PROGRESS"
    ok(heat.http.post(f"{heat.path(child)}/resources/1/signal", json={"unset_hook": "pre-create"}))
    assert heat.settle(stack)["stack_status"] == "CREATE_COMPLETE"
    heat.delete(stack)


def test_hooks_that_are_not_breakpoints_are_refused(heat):
    message = fault(heat.http.post("/stacks", json={"stack_name": name("h"), "template": CHAIN,
                                                    "environment": hooked("first", hook="pre-lunch")}),
                    400, "InvalidBreakPointHook")
    assert 'Invalid hook type "pre-lunch"' in message
    message = fault(heat.http.post("/validate", json={"template": CHAIN,
                                                      "environment": hooked("first", hook="post-lunch")}),
                    400, "InvalidBreakPointHook")
    assert "post-create, post-update, post-delete" in message
    assert ok(heat.http.get("/stacks"))["stacks"] == []


def test_post_hooks_hold_a_made_resource_in_progress_until_cleared(heat):
    """post-create: the thing is made (its physical id and attributes exist) but the resource stays
    CREATE_IN_PROGRESS and what needs it waits; post-update and post-delete likewise after the service's
    update and delete."""
    env = {"resource_registry": {"resources": {"second": {"hooks": ["post-create", "post-update",
                                                                    "post-delete"]}}}}
    stack = heat.create(CHAIN, environment=env)
    paused_at(heat, stack, "second", "CREATE", "post-create")
    resources = heat.resources(stack)
    assert resources["second"]["resource_status"] == "CREATE_IN_PROGRESS"
    assert resources["second"]["physical_resource_id"]  # made: the hook comes after the create
    assert "third" not in resources or resources["third"]["resource_status"] == "INIT_COMPLETE"
    assert heat.show(stack)["stack_status"] == "CREATE_IN_PROGRESS"
    signal = f"{heat.path(stack)}/resources/second/signal"
    assert "is not defined" in fault(heat.http.post(signal, json={"unset_hook": "pre-create"}), 400,
                                     "InvalidBreakPointHook")
    ok(heat.http.post(signal, json={"unset_hook": "post-create"}))
    stack = heat.settle(stack)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert heat.output(stack, "third") == "one"
    assert ("second", "CREATE_IN_PROGRESS", "Hook post-create is cleared") in reasons(heat, stack)

    ok(heat.http.patch(heat.path(stack), json={"parameters": {"word": "two"}}), 202)
    paused_at(heat, stack, "second", "UPDATE", "post-update")
    assert heat.resources(stack)["second"]["resource_status"] == "UPDATE_IN_PROGRESS"
    assert heat.resources(stack)["third"]["resource_status"] == "CREATE_COMPLETE"  # not yet updated
    ok(heat.http.post(signal, json={"unset_hook": "post-update"}))
    stack = heat.settle(stack)
    assert stack["stack_status"] == "UPDATE_COMPLETE" and heat.output(stack, "third") == "two"

    ok(heat.http.delete(heat.path(stack)), 204)
    paused_at(heat, stack, "second", "DELETE", "post-delete")
    assert heat.resources(stack)["second"]["resource_status"] == "DELETE_IN_PROGRESS"
    assert heat.show(stack)["stack_status"] == "DELETE_IN_PROGRESS"
    ok(heat.http.post(signal, json={"unset_hook": "post-delete"}))
    assert heat.settle(stack)["stack_status"] == "DELETE_COMPLETE"
