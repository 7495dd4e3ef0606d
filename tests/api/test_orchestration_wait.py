"""Wait conditions signalled with curl from the handle's curl_cli (the command a guest's user data runs),
and software configs (SoftwareConfig, CloudConfig, MultipartMime) as a server's user data, against the real
cloud (servers on the fake compute driver)."""

import base64
import json
import subprocess

import httpx
import pytest
import yaml

from tests.api.helpers import ok, wait
from tests.api.orchestration_helpers import fault


def waiting(count: int = 2, timeout: int = 60) -> dict:
    return {
        "heat_template_version": "2018-08-31",
        "resources": {
            "handle": {"type": "OS::Heat::WaitConditionHandle"},
            "wait": {"type": "OS::Heat::WaitCondition",
                     "properties": {"handle": {"get_resource": "handle"}, "count": count, "timeout": timeout}},
        },
        "outputs": {"curl": {"value": {"get_attr": ["handle", "curl_cli"]}},
                    "data": {"value": {"get_attr": ["wait", "data"]}}},
    }


def curl(command: str, body: dict) -> str:
    """Run the handle's curl_cli as a guest's shell would, with a JSON body."""
    done = subprocess.run(f"{command} --data-binary '{json.dumps(body)}'", shell=True, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout



@pytest.fixture(scope="module")
def image(heat_image):
    return heat_image

def test_a_wait_condition_completes_on_curl_signals(heat):
    stack = heat.create(waiting(count=2))
    command = wait(lambda: heat.output(stack, "curl"), 30, "the handle's curl command")
    assert command.startswith("curl -i -X POST -H 'X-Auth-Token: ")
    wait(lambda: heat.resources(stack).get("wait", {}).get("resource_status") == "CREATE_IN_PROGRESS", 30,
         "the wait condition to wait")
    assert heat.show(stack)["stack_status"] == "CREATE_IN_PROGRESS"
    assert "200 OK" in curl(command, {"status": "SUCCESS", "reason": "booted", "data": "first", "id": "a"})
    assert heat.show(stack)["stack_status"] == "CREATE_IN_PROGRESS"  # one of two
    curl(command, {"status": "SUCCESS", "data": "second", "id": "b"})
    done = heat.settle(stack)
    assert done["stack_status"] == "CREATE_COMPLETE", done["stack_status_reason"]
    assert json.loads(heat.output(stack, "data")) == {"a": "first", "b": "second"}
    assert any(e["resource_name"] == "handle" and e["resource_status"] == "SIGNAL_COMPLETE"
               for e in heat.events(stack))

    # The handle's token opens only its own signal; a wrong one is refused, and so is a bad status.
    endpoint = command.split()[-1]
    token = command.split("X-Auth-Token: ")[1].split("'")[0]
    assert httpx.post(endpoint, headers={"X-Auth-Token": "not-the-token"}, json={}).status_code == 401
    assert httpx.get(endpoint.rsplit("/resources/", 1)[0], headers={"X-Auth-Token": token}).status_code == 401
    bad = httpx.post(endpoint, headers={"X-Auth-Token": token}, json={"status": "MAYBE"})
    assert "Metadata format invalid" in fault(bad, 400)
    heat.delete(stack)


def test_a_failure_signal_or_a_timeout_fails_the_stack(heat):
    stack = heat.create(waiting(count=1))
    command = wait(lambda: heat.output(stack, "curl"), 30, "the handle's curl command")
    curl(command, {"status": "FAILURE", "reason": "the guest could not start its service"})
    failed = heat.settle(stack)
    assert failed["stack_status"] == "CREATE_FAILED"
    assert "WaitConditionFailure: resources.wait: the guest could not start its service" in \
        failed["stack_status_reason"]
    heat.delete(stack)

    late = heat.settle(heat.create(waiting(count=1, timeout=1)), 30)
    assert late["stack_status"] == "CREATE_FAILED"
    assert "WaitConditionTimeout: resources.wait: 0 of 1 received" in late["stack_status_reason"]
    heat.delete(late)


def test_software_configs_become_a_servers_user_data(cloud, heat, image):
    template = {
        "heat_template_version": "2018-08-31",
        "parameters": {"image": {"type": "string"}},
        "resources": {
            "net": {"type": "OS::Neutron::Net"},
            "subnet": {"type": "OS::Neutron::Subnet",
                       "properties": {"network": {"get_resource": "net"}, "cidr": "10.88.0.0/24"}},
            "cloud": {"type": "OS::Heat::CloudConfig", "properties": {"cloud_config": {
                "runcmd": ["echo made-by-cloud-config"], "packages": []}}},
            "script": {"type": "OS::Heat::SoftwareConfig", "properties": {
                "group": "ungrouped", "config": "#!/bin/sh\necho made-by-script\n"}},
            "mime": {"type": "OS::Heat::MultipartMime", "properties": {"parts": [
                {"config": {"get_resource": "cloud"}}, {"config": {"get_resource": "script"}},
                {"config": "#!/bin/sh\necho inline\n", "filename": "inline.sh"}]}},
            "server": {"type": "OS::Nova::Server", "properties": {
                "image": {"get_param": "image"}, "flavor": "m1.tiny", "networks": [{"network": {
                    "get_resource": "net"}}], "user_data_format": "SOFTWARE_CONFIG",
                "user_data": {"get_resource": "mime"}}, "depends_on": "subnet"},
        },
        "outputs": {"cloud": {"value": {"get_attr": ["cloud", "config"]}},
                    "mime": {"value": {"get_attr": ["mime", "config"]}}},
    }
    stack = heat.created(template, parameters={"image": image["id"]}, timeout_mins=5)
    cloud_config = heat.output(stack, "cloud")
    assert cloud_config.startswith("#cloud-config\n")
    assert yaml.safe_load(cloud_config) == {"runcmd": ["echo made-by-cloud-config"], "packages": []}
    resources = heat.resources(stack)
    configs = {c["id"] for c in ok(heat.http.get("/software_configs"))["software_configs"]}
    assert {resources[n]["physical_resource_id"] for n in ("cloud", "script", "mime")} == configs

    server_id = resources["server"]["physical_resource_id"]
    with httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": cloud.token()}, timeout=60) as admin:
        shown = ok(admin.get(f"/compute/v2.1/servers/{server_id}",
                             headers={"OpenStack-API-Version": "compute 2.3"}))["server"]
    user_data = base64.b64decode(shown["OS-EXT-SRV-ATTR:user_data"]).decode()
    assert user_data == heat.output(stack, "mime")
    assert user_data.startswith("Content-Type: multipart/mixed")
    for text in ("Content-Type: text/cloud-config", "made-by-cloud-config", "text/x-shellscript",
                 "made-by-script", 'filename="inline.sh"'):
        assert text in user_data, text

    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"
    assert ok(heat.http.get("/software_configs"))["software_configs"] == []
