"""``resource_facade`` (HOT) and ``Fn::ResourceFacade`` (HOT 2013-05-23): a provider template reads the
metadata, deletion_policy and update_policy of the resource that stands for it in the parent, and the
parent reads them back through the resource's attributes (the provider template's outputs)."""

from __future__ import annotations

import yaml

from tests.api.orchestration_helpers import fault

PROVIDER = {
    "heat_template_version": "2015-10-15",
    "resources": {"inner": {"type": "OS::Heat::Value",
                            "properties": {"value": {"resource_facade": "metadata"}}}},
    "outputs": {
        "metadata": {"value": {"resource_facade": "metadata"}},
        "deletion_policy": {"value": {"resource_facade": "deletion_policy"}},
        "update_policy": {"value": {"resource_facade": "update_policy"}},
        "inner": {"value": {"get_attr": ["inner", "value"]}},
    },
}
# The same with CloudFormation's spelling, which only HOT 2013-05-23 has.
OLD_PROVIDER = {
    "heat_template_version": "2013-05-23",
    "outputs": {"metadata": {"value": {"Fn::ResourceFacade": "Metadata"}},
                "deletion_policy": {"value": {"Fn::ResourceFacade": "DeletionPolicy"}},
                "update_policy": {"value": {"Fn::ResourceFacade": "UpdatePolicy"}}},
}


def parent(role: str) -> dict:
    return {
        "heat_template_version": "2016-10-14",
        "parameters": {"role": {"type": "string", "default": role}},
        "resources": {
            "random": {"type": "OS::Heat::RandomString", "properties": {"length": 6}},
            "facade": {"type": "facade.yaml", "deletion_policy": "Retain",
                       "metadata": {"role": {"get_param": "role"}, "seed": {"get_resource": "random"}},
                       "update_policy": {"batch": 2}},
            "old": {"type": "old.yaml", "metadata": {"role": {"get_param": "role"}}},
        },
        "outputs": {name: {"value": {"get_attr": ["facade", name]}}
                    for name in ("metadata", "deletion_policy", "update_policy", "inner")}
        | {"old": {"value": {"get_attr": ["old", "metadata"]}},
           "old_policy": {"value": {"get_attr": ["old", "deletion_policy"]}}},
    }


FILES = {"facade.yaml": yaml.safe_dump(PROVIDER), "old.yaml": yaml.safe_dump(OLD_PROVIDER)}


def test_a_provider_template_reads_its_facade_and_the_parent_reads_it_back(heat):
    stack = heat.created(yaml.safe_dump(parent("web")), files=FILES)
    seed = heat.output(stack, "metadata")["seed"]
    assert len(seed) == 6  # resolved in the parent: the RandomString's value, made before the facade
    assert heat.output(stack, "metadata") == {"role": "web", "seed": seed}
    assert heat.output(stack, "inner") == {"role": "web", "seed": seed}
    assert heat.output(stack, "deletion_policy") == "Retain"
    assert heat.output(stack, "update_policy") == {"batch": 2}
    assert heat.output(stack, "old") == {"role": "web"}
    assert heat.output(stack, "old_policy") == "Delete"

    # an update of the parent resource's metadata reaches the child
    resp = heat.http.put(heat.path(stack), json={"template": yaml.safe_dump(parent("db")), "files": FILES})
    assert resp.status_code == 202, resp.text
    stack = heat.settle(stack)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert heat.output(stack, "metadata") == {"role": "db", "seed": seed}
    assert heat.output(stack, "old") == {"role": "db"}


def test_resource_facade_outside_a_nested_stack_and_with_a_wrong_argument_are_400s(heat):
    top = {"heat_template_version": "2016-10-14",
           "resources": {"v": {"type": "OS::Heat::Value", "properties": {"value": {"resource_facade": "metadata"}}}}}
    resp = heat.http.post("/stacks", json={"stack_name": "facade-top", "template": yaml.safe_dump(top)})
    assert "resource_facade is only valid in a nested stack" in fault(resp, 400, "StackValidationFailed")
    wrong = {"heat_template_version": "2016-10-14",
             "resources": {"v": {"type": "OS::Heat::Value", "properties": {"value": {"resource_facade": "name"}}}}}
    resp = heat.http.post("/validate", json={"template": wrong})
    assert fault(resp, 400) == ('resources.v.properties.value.resource_facade: Incorrect arguments to '
                                '"resource_facade" should be one of: metadata, deletion_policy, update_policy')
