"""Structured configs and deployments (``OS::Heat::StructuredConfig``, ``StructuredDeployment``,
``StructuredDeploymentGroup``) over HTTP with heatclient: the config is a map, and each server is given a
derived config in which the deployment's inputs replace the ``get_input`` occurrences."""

from __future__ import annotations

import pytest
from heatclient import client as heat_client

from tests.api.helpers import ok, wait
from tests.api.orchestration_helpers import fault

CONFIG = {
    "service": {"greeting": {"get_input": "who"}, "ports": [{"get_input": "port"}, 22],
                "server": {"get_input": "deploy_server_id"}},
    "missing": {"get_input": "nobody"},
    "two_keys": {"get_input": "who", "kept": True},  # not a lone get_input: left as it is
    "own_key": {"fetch": "who"},
}


def template(deployment: dict) -> dict:
    return {
        "heat_template_version": "2018-08-31",
        "parameters": {"image": {"type": "string"}, "who": {"type": "string", "default": "world"}},
        "resources": {
            "net": {"type": "OS::Neutron::Net"},
            "subnet": {"type": "OS::Neutron::Subnet", "properties": {"network": {"get_resource": "net"},
                                                                     "cidr": "10.68.0.0/24"}},
            "server": {"type": "OS::Nova::Server", "properties": {
                "image": {"get_param": "image"}, "flavor": "m1.tiny", "user_data_format": "SOFTWARE_CONFIG",
                "networks": [{"network": {"get_resource": "net"}}]}},
            "config": {"type": "OS::Heat::StructuredConfig", "properties": {
                "group": "apply-config", "config": CONFIG,
                "inputs": [{"name": "who"}, {"name": "port", "type": "Number", "default": 8080}]}},
            "deploy": deployment,
        },
    }


def deployment(**properties) -> dict:
    return {"type": "OS::Heat::StructuredDeployment", "properties": {
        "config": {"get_resource": "config"}, "server": {"get_resource": "server"},
        "input_values": {"who": {"get_param": "who"}}, **properties}}


@pytest.fixture
def client(heat):
    return heat_client.Client("1", endpoint=f"{heat.cloud.url}/orchestration/v1/{heat.project_id}",
                              token=heat.token)


def test_software_config_api_keeps_a_map(heat, client):
    made = ok(heat.http.post("/software_configs", json={"name": "map", "group": "apply-config",
                                                        "config": CONFIG}))["software_config"]
    assert made["config"] == CONFIG
    assert client.software_configs.get(made["id"]).config == CONFIG
    fault(heat.http.post("/software_configs", json={"name": "bad", "config": ["not", "text"]}), 400)
    ok(heat.http.delete(f"/software_configs/{made['id']}"), 204)


def test_structured_deployment_substitutes_its_inputs(heat, client, heat_image):
    stack = heat.created(template(deployment()), parameters={"image": heat_image["id"]})
    found = heat.resources(stack)
    server, source = found["server"]["physical_resource_id"], found["config"]["physical_resource_id"]
    assert found["config"]["resource_type"] == "OS::Heat::StructuredConfig"
    assert client.software_configs.get(source).config == CONFIG  # the source is kept as written

    derived_id = client.software_deployments.get(found["deploy"]["physical_resource_id"]).config_id
    assert derived_id != source
    derived = client.software_configs.get(derived_id)
    expected = {"service": {"greeting": "world", "ports": [8080, 22], "server": server}, "missing": None,
                "two_keys": {"get_input": "who", "kept": True}, "own_key": {"fetch": "who"}}
    assert derived.config == expected and derived.group == "apply-config"
    metadata = client.software_deployments.metadata(server)
    assert [m["config"] for m in metadata] == [expected]

    # An update derives a new config from the new inputs, and the old derived one goes.
    ok(heat.http.patch(heat.path(stack), json={"parameters": {"who": "again"}}), 202)
    stack = heat.settle(stack)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    config = client.software_deployments.metadata(server)[0]["config"]
    assert config["service"]["greeting"] == "again"
    ids = {c["id"] for c in ok(heat.http.get("/software_configs"))["software_configs"]}
    assert source in ids and derived_id not in ids and len(ids) == 2

    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"
    assert ok(heat.http.get("/software_configs"))["software_configs"] == []
    assert ok(heat.http.get("/software_deployments"))["software_deployments"] == []


def test_own_input_key_and_strict_validation(heat, client, heat_image):
    # input_key names the substitution function; STRICT with every input given succeeds.
    given = deployment(input_key="fetch", input_values_validate="STRICT")
    stack = heat.created(template(given), parameters={"image": heat_image["id"]})
    server = heat.resources(stack)["server"]["physical_resource_id"]
    config = client.software_deployments.metadata(server)[0]["config"]
    assert config["own_key"] == "world" and config["service"]["greeting"] == {"get_input": "who"}
    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"

    # STRICT with an input that has no value fails the resource, saying which.
    stack = heat.settle(heat.create(template(deployment(input_values_validate="STRICT")),
                                    parameters={"image": heat_image["id"]}))
    assert stack["stack_status"] == "CREATE_FAILED"
    reason = heat.resources(stack)["deploy"]["resource_status_reason"]
    assert "The Parameter (nobody) was not provided." in reason, reason
    assert "nobody" in stack["stack_status_reason"]
    assert ok(heat.http.get("/software_deployments"))["software_deployments"] == []
    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"
    assert ok(heat.http.get("/software_configs"))["software_configs"] == []

    bad = template(deployment(input_values_validate="SOMETIMES"))
    assert "input_values_validate" in fault(heat.http.post("/validate", json={"template": bad}), 400)


def test_structured_deployment_group_over_two_servers(heat, client, heat_image):
    body = template({"type": "OS::Heat::StructuredDeploymentGroup", "properties": {
        "config": {"get_resource": "config"}, "input_values": {"who": {"get_param": "who"}},
        "servers": {"first": {"get_resource": "server"}, "second": {"get_resource": "other"}}}})
    body["resources"]["other"] = body["resources"]["server"]
    stack = heat.created(body, parameters={"image": heat_image["id"], "who": "both"})
    found = heat.resources(stack)
    assert found["deploy"]["resource_type"] == "OS::Heat::StructuredDeploymentGroup"
    servers = [found["server"]["physical_resource_id"], found["other"]["physical_resource_id"]]
    configs = [wait(lambda s=s: client.software_deployments.metadata(s), 30, "the metadata") for s in servers]
    for server, metadata in zip(servers, configs, strict=True):
        assert len(metadata) == 1
        assert metadata[0]["config"]["service"] == {"greeting": "both", "ports": [8080, 22], "server": server}
    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"
    assert ok(heat.http.get("/software_configs"))["software_configs"] == []
