"""Heat's software configs and deployments, resource health marks, signals and generated type templates,
over HTTP against the real cloud."""

import time

from tests.api.helpers import ok, wait
from tests.api.orchestration_helpers import fault


def test_software_configs_and_deployments(heat, make_heat):
    config = ok(heat.http.post("/software_configs", json={
        "name": "hello", "group": "script", "config": "#!/bin/sh\necho hello",
        "inputs": [{"name": "who", "default": "world"}], "outputs": [{"name": "result"}]}))["software_config"]
    assert config["group"] == "script" and config["inputs"][0]["name"] == "who"
    shown = ok(heat.http.get(f"/software_configs/{config['id']}"))["software_config"]
    assert shown["config"] == "#!/bin/sh\necho hello"
    listed = ok(heat.http.get("/software_configs"))["software_configs"]
    assert [c["id"] for c in listed] == [config["id"]] and "config" not in listed[0]

    deployment = ok(heat.http.post("/software_deployments", json={
        "config_id": config["id"], "server_id": "server-1", "action": "CREATE", "status": "IN_PROGRESS",
        "input_values": {"who": "heat"}}))["software_deployment"]
    assert deployment["status"] == "IN_PROGRESS"
    metadata = ok(heat.http.get("/software_deployments/metadata/server-1"))["metadata"]
    assert metadata[0]["group"] == "script" and metadata[0]["inputs"][0]["value"] == "heat"
    updated = ok(heat.http.put(f"/software_deployments/{deployment['id']}", json={
        "status": "COMPLETE", "status_reason": "done", "output_values": {"result": "ok"}}))["software_deployment"]
    assert updated["status"] == "COMPLETE" and updated["output_values"] == {"result": "ok"}
    assert [d["id"] for d in ok(heat.http.get("/software_deployments", params={"server_id": "server-1"}))[
        "software_deployments"]] == [deployment["id"]]

    # Another project sees none of it.
    other = make_heat()
    fault(other.http.get(f"/software_configs/{config['id']}"), 404)
    assert ok(other.http.get("/software_deployments"))["software_deployments"] == []

    fault(heat.http.post("/software_deployments", json={"config_id": "nope", "server_id": "s"}), 404)
    fault(heat.http.post("/software_deployments", json={"config_id": config["id"]}), 400)
    fault(heat.http.post("/software_configs", json={"name": "x", "inputs": "not-a-list"}), 400)
    ok(heat.http.delete(f"/software_deployments/{deployment['id']}"), 204)
    ok(heat.http.delete(f"/software_configs/{config['id']}"), 204)
    fault(heat.http.get(f"/software_configs/{config['id']}"), 404)


def test_mark_unhealthy_signal_and_type_template(heat):
    created = heat.create({"heat_template_version": "2016-04-08",
                           "resources": {"test": {"type": "OS::Heat::TestResource",
                                                  "properties": {"value": "kept"}}}})
    assert heat.http.post("/stacks", json={}).status_code == 400
    stack = heat.settle(created)
    resource = f"{heat.path(stack)}/resources/test"
    assert ok(heat.http.get(resource))["resource"]["attributes"]["output"] == "kept"
    ok(heat.http.patch(resource, json={"mark_unhealthy": True, "resource_status_reason": "broken"}))
    shown = ok(heat.http.get(resource))["resource"]
    assert (shown["resource_status"], shown["resource_status_reason"]) == ("CHECK_FAILED", "broken")
    fault(heat.http.patch(resource, json={}), 400)
    assert "takes no signals" in fault(heat.http.post(f"{resource}/signal", json={}), 400,
                                       "ResourceActionNotSupported")
    # An update replaces the unhealthy resource.
    ok(heat.http.patch(heat.path(stack), json={"existing": True}), 202)
    assert heat.settle(stack)["stack_status"] == "UPDATE_COMPLETE"
    again = ok(heat.http.get(resource))["resource"]
    assert again["resource_status"] == "CREATE_COMPLETE" and again["physical_resource_id"] != \
        shown["physical_resource_id"]

    generated = ok(heat.http.get("/resource_types/OS::Heat::TestResource/template",
                                 params={"template_type": "hot"}))
    assert generated["resources"]["TestResource"]["type"] == "OS::Heat::TestResource"
    assert generated["parameters"]["value"]["default"] == "test_string"
    assert generated["outputs"]["output"]["value"] == {"get_attr": ["TestResource", "output"]}
    assert "Parameters" in ok(heat.http.post("/validate", json={"template": generated}))
    fault(heat.http.get("/resource_types/OS::Nope::Thing/template"), 404)


def test_software_deployments_as_resources(heat, heat_image):
    """``OS::Heat::SoftwareDeployment`` on a server (fake driver): with NO_SIGNAL it is complete once its
    record exists (the server's metadata gives its config and inputs); with HEAT_SIGNAL the stack waits for
    the agent's report, a signal with deploy_stdout and deploy_status_code whose outputs become attributes,
    and an update waits for a new one; a non-zero status code fails it; delete removes the records."""
    template = {
        "heat_template_version": "2018-08-31",
        "parameters": {"image": {"type": "string"}, "who": {"type": "string", "default": "world"}},
        "resources": {
            "net": {"type": "OS::Neutron::Net"},
            "subnet": {"type": "OS::Neutron::Subnet", "properties": {"network": {"get_resource": "net"},
                                                                     "cidr": "10.66.0.0/24"}},
            "server": {"type": "OS::Nova::Server", "properties": {
                "image": {"get_param": "image"}, "flavor": "m1.tiny", "user_data_format": "SOFTWARE_CONFIG",
                "networks": [{"network": {"get_resource": "net"}}]}},
            "config": {"type": "OS::Heat::SoftwareConfig", "properties": {
                "group": "script", "config": "#!/bin/sh\necho hello $who", "inputs": [{"name": "who"}]}},
            "quiet": {"type": "OS::Heat::SoftwareDeployment", "properties": {
                "config": {"get_resource": "config"}, "server": {"get_resource": "server"},
                "input_values": {"who": "quiet"}}},
            "reported": {"type": "OS::Heat::SoftwareDeployment", "properties": {
                "config": {"get_resource": "config"}, "server": {"get_resource": "server"},
                "signal_transport": "HEAT_SIGNAL", "input_values": {"who": {"get_param": "who"}}}},
        },
        "outputs": {"stdout": {"value": {"get_attr": ["reported", "deploy_stdout"]}}},
    }
    stack = heat.create(template, parameters={"image": heat_image["id"]})
    path = heat.path(stack)

    def resource(name: str) -> dict:
        found = heat.http.get(f"{path}/resources/{name}")
        return {} if found.status_code == 404 else ok(found)["resource"]  # not started yet


    wait(lambda: resource("reported").get("resource_status") == "CREATE_IN_PROGRESS"
         and resource("quiet").get("resource_status") == "CREATE_COMPLETE", 60, "the deployments to be recorded")
    server = resource("server")["physical_resource_id"]
    metadata = ok(heat.http.get(f"/software_deployments/metadata/{server}"))["metadata"]
    assert sorted(m["inputs"][0]["value"] for m in metadata) == ["quiet", "world"]
    assert {m["config"] for m in metadata} == {"#!/bin/sh\necho hello $who"}
    time.sleep(1)  # a span in which the engine could wrongly finish: proving it does not takes time, no event
    assert heat.show(stack)["stack_status"] == "CREATE_IN_PROGRESS"  # waiting for the agent's report

    ok(heat.http.post(f"{path}/resources/reported/signal", json={
        "deploy_stdout": "hello world", "deploy_stderr": "", "deploy_status_code": 0}))
    stack = heat.settle(stack)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert heat.output(stack, "stdout") == "hello world"
    deployment = ok(heat.http.get(f"/software_deployments/{resource('reported')['physical_resource_id']}"))
    assert deployment["software_deployment"]["status"] == "COMPLETE"

    ok(heat.http.patch(path, json={"parameters": {"who": "again"}}), 202)
    wait(lambda: resource("reported")["resource_status"] == "UPDATE_IN_PROGRESS", 60, "the update to wait")
    ok(heat.http.post(f"{path}/resources/reported/signal", json={"deploy_stdout": "", "deploy_status_code": 3}))
    stack = heat.settle(stack)
    assert stack["stack_status"] == "UPDATE_FAILED"
    assert "Error: resources.reported: Deployment to server failed: deploy_status_code : Deployment exited " \
           "with non-zero status code: 3" in stack["stack_status_reason"]
    assert resource("quiet")["resource_status"] == "CREATE_COMPLETE"  # its inputs did not change

    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"
    assert ok(heat.http.get("/software_deployments"))["software_deployments"] == []
    assert ok(heat.http.get("/software_configs"))["software_configs"] == []
