"""The arithmetic of Heat's groups and signals, without a cloud: scaling adjustments, group capacity,
member names under removal policies, %index% replacement, wait condition signals."""

import pytest

from onestack.services.orchestration.service.resources.base import (
    Handle,
    ResourceFailure,
    StackInfo,
    with_signals_taken,
)
from onestack.services.orchestration.service.resources.nested import (
    AutoScalingGroup,
    ResourceGroup,
    ScalingPolicy,
    _replace_index,
)
from onestack.services.orchestration.service.resources.software import SoftwareDeployment, WaitConditionHandle


@pytest.mark.parametrize(("kind", "step", "least", "current", "wanted"), [
    ("change_in_capacity", 2, None, 3, 5),
    ("change_in_capacity", -1, None, 3, 2),
    ("exact_capacity", 7, None, 3, 7),
    ("percent_change_in_capacity", 50, None, 4, 6),
    ("percent_change_in_capacity", 10, None, 4, 5),    # under one member still moves by one
    ("percent_change_in_capacity", -10, None, 4, 3),
    ("percent_change_in_capacity", 10, 3, 4, 7),       # min_adjustment_step
])
def test_scaling_adjustments(kind, step, least, current, wanted):
    properties = {"adjustment_type": kind, "scaling_adjustment": step, "min_adjustment_step": least}
    assert ScalingPolicy.adjusted(properties, current) == wanted


def test_capacity_is_the_policys_then_the_desired_then_the_minimum_within_bounds():
    bounds = {"min_size": 1, "max_size": 4, "desired_capacity": None}
    assert AutoScalingGroup.capacity(bounds, {}) == 1
    assert AutoScalingGroup.capacity({**bounds, "desired_capacity": 3}, {}) == 3
    assert AutoScalingGroup.capacity({**bounds, "desired_capacity": 3}, {"capacity": 2}) == 2
    assert AutoScalingGroup.capacity(bounds, {"capacity": 9}) == 4
    assert AutoScalingGroup.pending_change(AutoScalingGroup(), {"capacity": 2, "applied": 1})
    assert not AutoScalingGroup.pending_change(AutoScalingGroup(), {"capacity": 2, "applied": 2})


def handle(properties: dict, data: dict | None = None) -> Handle:
    return Handle("group", StackInfo("s", "stack", "p"), properties, None, data or {}, None)


def test_members_skip_the_names_removal_policies_name():
    group = ResourceGroup()
    h = handle({"count": 3, "removal_policies": [{"resource_list": ["1"]}], "removal_policies_mode": "append",
                "resource_def": {"type": "OS::Heat::None", "properties": {"n": "%index%"}}, "index_var": "%index%"})
    template = group.nested_template(h)
    assert list(template["resources"]) == ["0", "2", "3"]
    assert template["resources"]["3"]["properties"] == {"n": "3"}
    # append: a name removed once stays removed when a later update no longer lists it
    h2 = handle({**h.properties, "removal_policies": []}, dict(h.data))
    assert group.member_names(h2) == ["0", "2", "3"]
    h3 = handle({**h.properties, "removal_policies": [], "removal_policies_mode": "update"}, dict(h.data))
    assert group.member_names(h3) == ["0", "1", "2"]


def test_index_replacement_reaches_keys_and_nested_values():
    assert _replace_index({"a-%i%": ["x%i%", {"y": "%i%"}], "n": 3}, "%i%", "7") == {
        "a-7": ["x7", {"y": "7"}], "n": 3}


def test_wait_condition_signals():
    data = WaitConditionHandle.take_signal({}, None, "CREATE")
    data = WaitConditionHandle.take_signal(data, {"status": "FAILURE", "reason": "broke", "id": "x"}, "CREATE")
    data = WaitConditionHandle.take_signal(data, {"status": "SUCCESS", "id": "x", "data": "fixed"}, "CREATE")
    assert [(s["id"], s["status"]) for s in data["signals"]] == [("1", "SUCCESS"), ("x", "SUCCESS")]
    assert data["signals"][0]["reason"] == "Signal 1 received"
    with pytest.raises(ResourceFailure, match="Metadata format invalid"):
        WaitConditionHandle.take_signal(data, {"status": "DONE"}, "CREATE")
    with pytest.raises(ResourceFailure):
        WaitConditionHandle.take_signal(data, ["not", "a", "map"], "CREATE")


def test_a_deployment_report_belongs_to_the_action_the_resource_is_in():
    data = SoftwareDeployment.take_signal({"signals": [{"deploy_status_code": 0, "action": "CREATE"}]},
                                          {"deploy_status_code": 3}, "UPDATE")
    assert data["signals"] == [{"deploy_status_code": 0, "action": "CREATE"},
                               {"deploy_status_code": 3, "action": "UPDATE"}]


def test_a_steps_save_keeps_the_signals_taken_while_it_worked():
    old, again, new = {"id": "old", "action": "UPDATE"}, {"id": "again"}, {"id": "new", "action": "UPDATE"}
    h = Handle("deploy", StackInfo("s", "stack", "p"), {}, "x", {"signals": [old, again, again]}, None)
    assert h.signals_read == [old, again, again]
    h.data["signals"] = [again, again]  # the step drops a previous update's report
    stored = {"signals": [old, again, again, new]}  # a report the signal handler took meanwhile
    assert with_signals_taken(h.data, h.signals_read, stored)["signals"] == [again, again, new]
    # the same report twice counts twice; one seen is not taken again
    assert with_signals_taken({"signals": [again]}, [again], {"signals": [again, again]})["signals"] == [again, again]
    assert with_signals_taken({"signals": []}, [], None) == {"signals": []}
