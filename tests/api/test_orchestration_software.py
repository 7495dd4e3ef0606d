"""Heat's software configs and deployments, resource health marks, signals and generated type templates,
over HTTP against the real cloud."""

from tests.api.helpers import ok
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
