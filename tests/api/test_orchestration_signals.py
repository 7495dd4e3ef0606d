"""Signal transports a guest can use, over HTTP against the real cloud: a Swift TempURL of this cloud's object
store (``OS::Heat::SwiftSignalHandle``/``SwiftSignal`` and a SoftwareDeployment's ``TEMP_URL_SIGNAL``) PUT
to by a plain HTTP client with no token, ``HEAT_SIGNAL`` with the deployment's own signal token,
``CFN_SIGNAL``'s pre-signed URL, and ``ZAQAR_SIGNAL`` (no messaging service here) refused by name."""

import json
import time

import httpx
import pytest
from heatclient import client as heat_client

from tests.api.helpers import ok, wait
from tests.api.orchestration_helpers import fault

HANDLE = {
    "heat_template_version": "2018-08-31",
    "resources": {
        "handle": {"type": "OS::Heat::SwiftSignalHandle"},
        "wait": {"type": "OS::Heat::SwiftSignal", "properties": {
            "handle": {"get_resource": "handle"}, "timeout": 120, "count": 2}},
    },
    "outputs": {"url": {"value": {"get_attr": ["handle", "endpoint"]}},
                "curl": {"value": {"get_attr": ["handle", "curl_cli"]}},
                "ref": {"value": {"get_resource": "handle"}},
                "data": {"value": {"get_attr": ["wait", "data"]}}},
}


def containers(heat) -> list[str]:
    resp = heat.root.get(f"/object-store/v1/AUTH_{heat.project_id}", params={"format": "json"})
    return [] if resp.status_code == 204 else [c["name"] for c in ok(resp)]


def handle_url(heat, stack) -> str:
    return wait(lambda: heat.resources(stack).get("handle", {}).get("resource_status") == "CREATE_COMPLETE"
                and ok(heat.http.get(f"{heat.path(stack)}/resources/handle"))["resource"]["attributes"]["endpoint"],
                60, "the handle's URL")


def test_swift_signal_completes_from_plain_puts_to_the_handles_tempurl(heat):
    stack = heat.create(HANDLE)
    url = handle_url(heat, stack)
    assert url.startswith(f"{heat.cloud.url}/object-store/v1/AUTH_{heat.project_id}/")
    assert "temp_url_sig=" in url and "temp_url_expires=" in url
    # The URL is a PUT of one object, nothing more: no token reads it or writes another.
    assert httpx.get(url).status_code == 401
    assert httpx.put(url.replace("?", "x?"), content=b"{}").status_code == 401

    assert httpx.put(url, content=json.dumps({"status": "SUCCESS", "data": "first", "id": "a"})).status_code == 201
    time.sleep(1)  # a span in which the engine could wrongly finish on one signal of two
    assert heat.show(stack)["stack_status"] == "CREATE_IN_PROGRESS"
    assert httpx.put(url, content=json.dumps({"status": "SUCCESS", "data": "second", "id": "b"})).status_code == 201
    stack = heat.settle(stack)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert json.loads(heat.output(stack, "data")) == {"a": "first", "b": "second"}
    assert heat.output(stack, "curl") == f"curl -i -X PUT '{url}'"

    assert heat.output(stack, "ref") == url  # get_resource of a handle is its URL, as Heat's
    physical = heat.resources(stack)["handle"]["physical_resource_id"]
    assert physical == containers(heat)[0]  # its id is its name (the signal container's), as Heat's
    assert len(containers(heat)) == 2  # the signal container and its versions archive
    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"
    assert containers(heat) == []
    assert httpx.put(url, content=b"{}").status_code in (401, 404)


def test_swift_signal_failure_bad_json_and_timeout(heat):
    failing = heat.create(HANDLE)
    url = handle_url(heat, failing)
    ok(httpx.put(url, content=json.dumps({"status": "FAILURE", "reason": "the guest gave up"})), 201)
    failing = heat.settle(failing)
    assert failing["stack_status"] == "CREATE_FAILED"
    assert "SwiftSignalFailure: resources.wait: the guest gave up" in failing["stack_status_reason"]

    garbled = heat.create(HANDLE)
    ok(httpx.put(handle_url(heat, garbled), content=b"not json"), 201)
    garbled = heat.settle(garbled)
    assert "Failed to parse JSON data: not json" in garbled["stack_status_reason"]

    quick = {**HANDLE, "resources": {**HANDLE["resources"], "wait": {
        "type": "OS::Heat::SwiftSignal", "properties": {"handle": {"get_resource": "handle"}, "timeout": 1}}}}
    timed_out = heat.settle(heat.create(quick))
    assert "SwiftSignalTimeout: resources.wait: 0 of 1 received" in timed_out["stack_status_reason"]

    elsewhere = {"heat_template_version": "2018-08-31", "resources": {"wait": {
        "type": "OS::Heat::SwiftSignal", "properties": {"handle": "http://example.com/x/y", "timeout": 60}}}}
    wrong = heat.settle(heat.create(elsewhere))
    assert "is not a signal URL of this project's object store" in wrong["stack_status_reason"]
    for stack in (failing, garbled, timed_out, wrong):
        assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"
    assert containers(heat) == []


def deployment_template(transport: str) -> dict:
    return {
        "heat_template_version": "2018-08-31",
        "parameters": {"image": {"type": "string"}, "who": {"type": "string", "default": "world"}},
        "resources": {
            "net": {"type": "OS::Neutron::Net"},
            "subnet": {"type": "OS::Neutron::Subnet", "properties": {"network": {"get_resource": "net"},
                                                                     "cidr": "10.67.0.0/24"}},
            "server": {"type": "OS::Nova::Server", "properties": {
                "image": {"get_param": "image"}, "flavor": "m1.tiny", "user_data_format": "SOFTWARE_CONFIG",
                "networks": [{"network": {"get_resource": "net"}}]}},
            "config": {"type": "OS::Heat::SoftwareConfig", "properties": {
                "group": "script", "config": "#!/bin/sh\necho hello $who", "inputs": [{"name": "who"}]}},
            "deploy": {"type": "OS::Heat::SoftwareDeployment", "properties": {
                "config": {"get_resource": "config"}, "server": {"get_resource": "server"},
                "signal_transport": transport, "input_values": {"who": {"get_param": "who"}}}},
        },
        "outputs": {"stdout": {"value": {"get_attr": ["deploy", "deploy_stdout"]}}},
    }


def deployed_inputs(heat, stack, action: str, **expected) -> dict:
    """The deploy inputs the server's agent reads, once the deployment of ``action`` (with the ``expected``
    inputs: a second update has the same action as the first) is recorded."""
    def inputs():
        server = heat.resources(stack).get("server", {}).get("physical_resource_id")
        metadata = ok(heat.http.get(f"/software_deployments/metadata/{server}"))["metadata"] if server else []
        values = {i["name"]: i["value"] for m in metadata for i in m["inputs"]}
        wanted = {"deploy_action": action, **expected}
        return values if all(values.get(k) == v for k, v in wanted.items()) else None
    return wait(inputs, 60, f"the {action} deployment's inputs")


def test_temp_url_signal_deployment_reported_by_a_plain_put(heat, heat_image):
    stack = heat.create(deployment_template("TEMP_URL_SIGNAL"), parameters={"image": heat_image["id"]})
    inputs = deployed_inputs(heat, stack, "CREATE")
    assert inputs["who"] == "world" and inputs["deploy_signal_transport"] == "TEMP_URL_SIGNAL"
    assert inputs["deploy_signal_verb"] == "PUT" and inputs["deploy_resource_name"] == "deploy"
    assert inputs["deploy_stack_id"] == f"{stack['stack_name']}/{stack['id']}"
    assert inputs["deploy_server_id"] == heat.resources(stack)["server"]["physical_resource_id"]
    url = inputs["deploy_signal_id"]
    assert url.startswith(f"{heat.cloud.url}/object-store/v1/AUTH_{heat.project_id}/") and "temp_url_sig=" in url
    time.sleep(1)  # the engine must not finish without the report
    assert heat.show(stack)["stack_status"] == "CREATE_IN_PROGRESS"

    ok(httpx.put(url, content=json.dumps({"deploy_stdout": "hello world", "deploy_stderr": "",
                                          "deploy_status_code": 0})), 201)
    stack = heat.settle(stack)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert heat.output(stack, "stdout") == "hello world"

    # An update waits for a new report at the same URL; the old one does not count.
    ok(heat.http.patch(heat.path(stack), json={"parameters": {"who": "again"}}), 202)
    inputs = deployed_inputs(heat, stack, "UPDATE", who="again")
    assert inputs["deploy_signal_id"] == url
    time.sleep(1)
    assert heat.show(stack)["stack_status"] == "UPDATE_IN_PROGRESS"
    ok(httpx.put(url, content=json.dumps({"deploy_stdout": "hello again", "deploy_status_code": 0})), 201)
    stack = heat.settle(stack)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert heat.output(stack, "stdout") == "hello again"

    ok(heat.http.patch(heat.path(stack), json={"parameters": {"who": "fails"}}), 202)
    # An agent reports once it reads the new inputs; a PUT before the update began would be an old report.
    deployed_inputs(heat, stack, "UPDATE", who="fails")
    ok(httpx.put(url, content=json.dumps({"deploy_stdout": "", "deploy_status_code": 4})), 201)
    stack = heat.settle(stack)
    assert stack["stack_status"] == "UPDATE_FAILED"
    assert "Deployment exited with non-zero status code: 4" in stack["stack_status_reason"]

    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"
    assert containers(heat) == []
    assert ok(heat.http.get("/software_deployments"))["software_deployments"] == []


def test_heat_signal_deployment_reported_with_its_own_token(heat, heat_image):
    stack = heat.create(deployment_template("HEAT_SIGNAL"), parameters={"image": heat_image["id"]})
    inputs = deployed_inputs(heat, stack, "CREATE")
    assert inputs["deploy_signal_verb"] == "POST" and inputs["deploy_signal_id"].endswith(
        f"/stacks/{stack['stack_name']}/{stack['id']}/resources/deploy/signal")
    # a wrong token is refused; the deployment's own token (no Keystone user) is taken
    assert httpx.post(inputs["deploy_signal_id"], headers={"X-Auth-Token": "wrong"},
                      json={"deploy_status_code": 0}).status_code == 401
    ok(httpx.post(inputs["deploy_signal_id"], headers={"X-Auth-Token": inputs["deploy_signal_token"]},
                  json={"deploy_stdout": "signalled", "deploy_status_code": 0}))
    stack = heat.settle(stack)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert heat.output(stack, "stdout") == "signalled"
    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"


def test_cfn_signal_deployment_reported_to_its_presigned_url(heat, heat_image):
    stack = heat.create(deployment_template("CFN_SIGNAL"), parameters={"image": heat_image["id"]})
    inputs = deployed_inputs(heat, stack, "CREATE")
    url = inputs["deploy_signal_id"]
    assert inputs["deploy_signal_verb"] == "POST" and "deploy_signal_token" not in inputs
    assert url.startswith(f"{heat.cloud.url}/orchestration/v1/{heat.project_id}/stacks/{stack['stack_name']}/"
                          f"{stack['id']}/resources/deploy/signal?signature=")
    # the signature opens this resource's signal alone, and only as signed
    assert httpx.post(url[:-4] + "0000", json={"deploy_status_code": 0}).status_code == 401
    assert httpx.post(url.replace("/resources/deploy/", "/resources/server/"),
                      json={"deploy_status_code": 0}).status_code == 401
    assert httpx.post(url.split("?")[0], json={"deploy_status_code": 0}).status_code == 401
    ok(httpx.post(url, json={"deploy_stdout": "presigned", "deploy_status_code": 0}))
    stack = heat.settle(stack)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert heat.output(stack, "stdout") == "presigned"
    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"


@pytest.mark.parametrize(("transport", "why"), [
    ("ZAQAR_SIGNAL", "needs a messaging service (Zaqar), which this cloud does not have"),
])
def test_transports_this_cloud_cannot_offer_are_refused_by_name(heat, transport, why):
    template = {"heat_template_version": "2018-08-31", "resources": {"deploy": {
        "type": "OS::Heat::SoftwareDeployment", "properties": {"server": "x", "signal_transport": transport}}}}
    for resp in (heat.http.post("/stacks", json={"stack_name": "refused", "template": template}),
                 heat.http.post("/validate", json={"template": template})):
        message = fault(resp, 400)
        assert "resources.deploy.properties.signal_transport" in message and why in message, message


def test_heatclient_sees_the_swift_signal_types(heat):
    client = heat_client.Client("1", endpoint=f"{heat.cloud.url}/orchestration/v1/{heat.project_id}",
                               token=heat.token)
    names = {t.resource_type for t in client.resource_types.list()}
    assert {"OS::Heat::SwiftSignal", "OS::Heat::SwiftSignalHandle"} <= names
    schema = client.resource_types.get("OS::Heat::SwiftSignal")
    assert schema["properties"]["handle"]["required"] is True and "data" in schema["attributes"]


def wait_template(transport: str, timeout: int = 120) -> dict:
    return {"heat_template_version": "2018-08-31", "resources": {
        "handle": {"type": "OS::Heat::WaitConditionHandle", "properties": {"signal_transport": transport}},
        "wait": {"type": "OS::Heat::WaitCondition", "properties": {"handle": {"get_resource": "handle"},
                                                                   "timeout": timeout}}},
        "outputs": {"signal": {"value": {"get_attr": ["handle", "signal"]}},
                    "curl": {"value": {"get_attr": ["handle", "curl_cli"]}},
                    "data": {"value": {"get_attr": ["wait", "data"]}}}}


def handle_attributes(heat, stack) -> dict:
    return wait(lambda: heat.resources(stack).get("handle", {}).get("resource_status") == "CREATE_COMPLETE"
                and ok(heat.http.get(f"{heat.path(stack)}/resources/handle"))["resource"]["attributes"],
                60, "the handle")


def test_wait_condition_handles_over_a_tempurl_a_presigned_url_or_no_signal(heat):
    stack = heat.create(wait_template("TEMP_URL_SIGNAL"))
    attributes = handle_attributes(heat, stack)
    url = json.loads(attributes["signal"])["alarm_url"]
    assert attributes["endpoint"] == url and attributes["curl_cli"] == f"curl -i -X PUT '{url}'"
    assert url.startswith(f"{heat.cloud.url}/object-store/v1/AUTH_{heat.project_id}/")
    ok(httpx.put(url, content=json.dumps({"status": "SUCCESS", "data": "from a PUT"})), 201)
    stack = heat.settle(stack)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert list(json.loads(heat.output(stack, "data")).values()) == ["from a PUT"]
    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"
    assert containers(heat) == []

    stack = heat.create(wait_template("CFN_SIGNAL"))
    url = json.loads(handle_attributes(heat, stack)["signal"])["alarm_url"]
    assert "/resources/handle/signal?signature=" in url
    ok(httpx.post(url, json={"status": "FAILURE", "reason": "presigned failure"}))
    stack = heat.settle(stack)
    assert "WaitConditionFailure: resources.wait: presigned failure" in stack["stack_status_reason"]
    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"

    stack = heat.settle(heat.create(wait_template("NO_SIGNAL", timeout=600)))
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    heat.delete(stack)

    message = fault(heat.http.post("/validate", json={"template": wait_template("ZAQAR_SIGNAL")}), 400)
    assert "messaging service" in message


def test_event_sinks_need_a_messaging_service(heat):
    template = {"heat_template_version": "2018-08-31", "resources": {"v": {"type": "OS::Heat::Value",
                                                                          "properties": {"value": 1}}}}
    sink = {"event_sinks": [{"type": "zaqar-queue", "target": "events", "ttl": 60}]}
    message = fault(heat.http.post("/stacks", json={"stack_name": "sinks", "template": template,
                                                    "environment": sink}), 400, "InvalidEnvironment")
    assert "zaqar-queue is not supported by this cloud" in message and "messaging service" in message
    assert "Unknown sink type smoke" in fault(heat.http.post("/validate", json={
        "template": template, "environment": {"event_sinks": [{"type": "smoke"}]}}), 400)
    # no sink at all is fine
    heat.delete(heat.created(template, environment={"event_sinks": []}))


def test_software_deployment_group_over_two_servers_reported_by_tempurl_puts(heat, heat_image):
    template = deployment_template("TEMP_URL_SIGNAL")
    resources = template["resources"]
    resources["other"] = resources["server"]
    resources["deploy"] = {"type": "OS::Heat::SoftwareDeploymentGroup", "properties": {
        "config": {"get_resource": "config"}, "signal_transport": "TEMP_URL_SIGNAL",
        "servers": {"first": {"get_resource": "server"}, "second": {"get_resource": "other"}},
        "input_values": {"who": {"get_param": "who"}}}}
    template["outputs"] = {"stdouts": {"value": {"get_attr": ["deploy", "deploy_stdouts"]}},
                           "codes": {"value": {"get_attr": ["deploy", "deploy_status_codes"]}}}
    stack = heat.create(template, parameters={"image": heat_image["id"]})

    def urls():
        found = heat.resources(stack)
        if "server" not in found or "other" not in found:
            return None
        out = {}
        for key in ("server", "other"):
            server = found[key]["physical_resource_id"]
            if not server:
                return None
            metadata = ok(heat.http.get(f"/software_deployments/metadata/{server}"))["metadata"]
            values = {i["name"]: i["value"] for m in metadata for i in m["inputs"]}
            if "deploy_signal_id" not in values:
                return None
            out[key] = values
        return out
    inputs = wait(urls, 60, "both deployments recorded")
    assert inputs["server"]["deploy_resource_name"] == "first" and inputs["other"]["deploy_resource_name"] == "second"
    assert inputs["server"]["deploy_signal_id"] != inputs["other"]["deploy_signal_id"]
    ok(httpx.put(inputs["server"]["deploy_signal_id"], content=json.dumps(
        {"deploy_stdout": "one", "deploy_status_code": 0})), 201)
    time.sleep(1)
    assert heat.show(stack)["stack_status"] == "CREATE_IN_PROGRESS"  # the second server has not reported
    ok(httpx.put(inputs["other"]["deploy_signal_id"], content=json.dumps(
        {"deploy_stdout": "two", "deploy_status_code": 0})), 201)
    stack = heat.settle(stack)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert heat.output(stack, "stdouts") == {"first": "one", "second": "two"}
    assert heat.output(stack, "codes") == {"first": 0, "second": 0}
    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"
    assert containers(heat) == []
    assert ok(heat.http.get("/software_deployments"))["software_deployments"] == []


def test_deployment_actions_delete_suspend_and_resume_await_their_reports(heat, heat_image):
    """With DELETE, SUSPEND and RESUME among ``actions`` the deployment is given that action (its
    ``deploy_action`` input) and the resource waits for the agent's report: by a PUT to the TempURL for
    suspend and resume, by CFN_SIGNAL's pre-signed POST during the stack's delete."""
    template = deployment_template("TEMP_URL_SIGNAL")
    template["resources"]["deploy"]["properties"]["actions"] = ["CREATE", "SUSPEND", "RESUME", "DELETE"]
    stack = heat.create(template, parameters={"image": heat_image["id"]})
    url = deployed_inputs(heat, stack, "CREATE")["deploy_signal_id"]
    ok(httpx.put(url, content=json.dumps({"deploy_stdout": "made", "deploy_status_code": 0})), 201)
    stack = heat.settle(stack)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]

    ok(heat.http.post(f"{heat.path(stack)}/actions", json={"suspend": None}))
    assert deployed_inputs(heat, stack, "SUSPEND")["deploy_signal_id"] == url
    time.sleep(1)
    assert heat.show(stack)["stack_status"] == "SUSPEND_IN_PROGRESS"  # the agent has not reported
    ok(httpx.put(url, content=json.dumps({"deploy_stdout": "suspended", "deploy_status_code": 0})), 201)
    stack = heat.settle(stack, 120)
    assert stack["stack_status"] == "SUSPEND_COMPLETE", stack["stack_status_reason"]
    deployment = heat.resources(stack)["deploy"]["physical_resource_id"]
    shown = ok(heat.http.get(f"/software_deployments/{deployment}"))["software_deployment"]
    assert (shown["action"], shown["status"]) == ("SUSPEND", "COMPLETE")
    assert shown["output_values"]["deploy_stdout"] == "suspended"

    ok(heat.http.post(f"{heat.path(stack)}/actions", json={"resume": None}))
    deployed_inputs(heat, stack, "RESUME")
    ok(httpx.put(url, content=json.dumps({"deploy_stdout": "resumed", "deploy_status_code": 0})), 201)
    stack = heat.settle(stack, 120)
    assert stack["stack_status"] == "RESUME_COMPLETE", stack["stack_status_reason"]

    ok(heat.http.delete(heat.path(stack)), 204)
    deployed_inputs(heat, stack, "DELETE")
    time.sleep(1)
    assert heat.resources(stack)["deploy"]["resource_status"] == "DELETE_IN_PROGRESS"
    assert heat.resources(stack)["server"]["resource_status"] != "DELETE_IN_PROGRESS"  # needed till the report
    ok(httpx.put(url, content=json.dumps({"deploy_stdout": "cleaned up", "deploy_status_code": 0})), 201)
    assert heat.settle(stack, 120)["stack_status"] == "DELETE_COMPLETE"
    assert containers(heat) == []
    assert ok(heat.http.get("/software_deployments"))["software_deployments"] == []


def test_heat_signal_is_taken_during_a_deployments_delete(heat, heat_image):
    template = deployment_template("HEAT_SIGNAL")
    template["resources"]["deploy"]["properties"]["actions"] = ["DELETE"]
    stack = heat.created(template, parameters={"image": heat_image["id"]})  # CREATE is not awaited
    ok(heat.http.delete(heat.path(stack)), 204)
    inputs = deployed_inputs(heat, stack, "DELETE")
    ok(httpx.post(inputs["deploy_signal_id"], headers={"X-Auth-Token": inputs["deploy_signal_token"]},
                  json={"deploy_stdout": "bye", "deploy_status_code": 0}))
    assert heat.settle(stack, 120)["stack_status"] == "DELETE_COMPLETE"


def test_an_agent_polls_its_deployments_and_reports_through_tempurls_alone(heat, heat_image):
    """The whole loop a guest's agent runs, with nothing but plain HTTP and no credentials: the server's
    ``software_config_transport: POLL_TEMP_URL`` gives it (``os_collect_config``) a TempURL GET of its
    deployments, each deployment there carries its own TempURL PUT to report to, and an update rewrites
    what the agent reads."""
    template = deployment_template("TEMP_URL_SIGNAL")
    template["resources"]["server"]["properties"]["software_config_transport"] = "POLL_TEMP_URL"
    template["outputs"]["collect"] = {"value": {"get_attr": ["server", "os_collect_config"]}}
    stack = heat.create(template, parameters={"image": heat_image["id"]})

    def polled(action: str):
        server = heat.resources(stack).get("server", {})
        url = (server.get("attributes") or {}).get("os_collect_config") if server else None
        if not url:
            shown = ok(heat.http.get(f"{heat.path(stack)}/resources/server"))["resource"] if server else {}
            url = (shown.get("attributes") or {}).get("os_collect_config")
        if not url:
            return None
        resp = httpx.get(url["request"]["metadata_url"])
        if resp.status_code != 200:
            return None
        deployments = resp.json()["deployments"]
        values = {i["name"]: i["value"] for d in deployments for i in d["inputs"]}
        return (url, deployments, values) if values.get("deploy_action") == action else None

    collect, deployments, values = wait(lambda: polled("CREATE"), 60, "the agent's metadata")
    assert collect["collectors"] == ["request", "local"]
    assert collect["request"]["metadata_url"].startswith(
        f"{heat.cloud.url}/object-store/v1/AUTH_{heat.project_id}/heat-config-")
    assert httpx.put(collect["request"]["metadata_url"], content=b"{}").status_code == 401  # read-only URL
    assert [d["config"] for d in deployments] == ["#!/bin/sh\necho hello $who"] and values["who"] == "world"
    ok(httpx.put(values["deploy_signal_id"], content=json.dumps({"deploy_stdout": "polled",
                                                                 "deploy_status_code": 0})), 201)
    stack = heat.settle(stack)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert heat.output(stack, "collect") == collect

    ok(heat.http.patch(heat.path(stack), json={"parameters": {"who": "again"}}), 202)
    _, _, values = wait(lambda: polled("UPDATE"), 60, "the update in the agent's metadata")
    assert values["who"] == "again"
    ok(httpx.put(values["deploy_signal_id"], content=json.dumps({"deploy_status_code": 0})), 201)
    assert heat.settle(stack)["stack_status"] == "UPDATE_COMPLETE"
    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"
    assert containers(heat) == []
