"""The real `openstack stack ...` CLI (python-heatclient) against Orchestration, and a stack that lives
through a kill -9 of the cloud."""

import json
import uuid

import httpx
import yaml

from tests.api.helpers import ok, upload_image, wait
from tests.cloudfixture import Cloud

TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "description": "a network behind a router to the public network, a guarded port, a server and a floating IP",
    "parameters": {"public_net": {"type": "string"}, "image": {"type": "string"},
                   "flavor": {"type": "string", "default": "m1.tiny"}},
    "resources": {
        "key": {"type": "OS::Nova::KeyPair", "properties": {"name": {"get_param": "OS::stack_name"}}},
        "net": {"type": "OS::Neutron::Net"},
        "subnet": {"type": "OS::Neutron::Subnet",
                   "properties": {"network": {"get_resource": "net"}, "cidr": "10.77.0.0/24"}},
        "router": {"type": "OS::Neutron::Router",
                   "properties": {"external_gateway_info": {"network": {"get_param": "public_net"}}}},
        "iface": {"type": "OS::Neutron::RouterInterface",
                  "properties": {"router": {"get_resource": "router"}, "subnet": {"get_resource": "subnet"}}},
        "guard": {"type": "OS::Neutron::SecurityGroup", "properties": {"rules": [
            {"protocol": "tcp", "port_range_min": 22, "port_range_max": 22}, {"protocol": "icmp"}]}},
        "port": {"type": "OS::Neutron::Port", "properties": {
            "network": {"get_resource": "net"}, "security_groups": [{"get_resource": "guard"}]}},
        "server": {"type": "OS::Nova::Server", "properties": {
            "image": {"get_param": "image"}, "flavor": {"get_param": "flavor"}, "key_name": {"get_resource": "key"},
            "networks": [{"port": {"get_resource": "port"}}], "user_data_format": "RAW",
            "user_data": "#cloud-config\nruncmd: [echo made-by-heat]\n"}},
        "fip": {"type": "OS::Neutron::FloatingIP", "properties": {
            "floating_network": {"get_param": "public_net"}, "port_id": {"get_resource": "port"}}},
    },
    "outputs": {"floating_ip": {"description": "where the server answers",
                                "value": {"get_attr": ["fip", "floating_ip_address"]}}},
}


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def cli(cloud, *args: str, os_cloud: str = "onestack"):
    """The command's JSON answer (``--wait`` prints the stack's events as they come before it)."""
    out = cloud.openstack(*args, "-f", "json", cloud=os_cloud).stdout
    lines = out.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(("{", "["))), None)
    return json.loads("\n".join(lines[start:])) if start is not None else None


def public_network_and_image(cloud) -> tuple[str, str]:
    public = name("public")
    with httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": cloud.token()}, timeout=60) as admin:
        net = ok(admin.post("/network/v2.0/networks", json={"network": {
            "name": public, "router:external": True}}), 201)["network"]
        ok(admin.post("/network/v2.0/subnets", json={"subnet": {
            "network_id": net["id"], "ip_version": 4, "cidr": "203.0.113.0/24", "enable_dhcp": False}}), 201)
        image = upload_image(admin, image_name=name("img"))
        ok(admin.patch(f"/image/v2/images/{image['id']}", json=[{"op": "replace", "path": "/visibility",
                                                                  "value": "public"}],
                       headers={"Content-Type": "application/openstack-images-v2.1-json-patch"}))
    return public, image["id"]


def test_stack_story_with_the_openstack_cli(cloud, tmp_path):
    public, image = public_network_and_image(cloud)
    template = tmp_path / "env.yaml"
    template.write_text(yaml.safe_dump(TEMPLATE))
    stack = name("cli-stack")
    made = cli(cloud, "stack", "create", "-t", str(template), "--parameter", f"public_net={public}",
               "--parameter", f"image={image}", "--wait", stack)
    assert made["stack_status"] == "CREATE_COMPLETE", made

    shown = cli(cloud, "stack", "show", stack)
    assert shown["stack_status"] == "CREATE_COMPLETE" and shown["stack_name"] == stack
    fip = cli(cloud, "stack", "output", "show", stack, "floating_ip")
    assert fip["output_value"].startswith("203.0.113.")
    assert fip["output_value"] in {f["Floating IP Address"] for f in cli(cloud, "floating", "ip", "list")}
    resources = {r["resource_name"]: r for r in cli(cloud, "stack", "resource", "list", stack)}
    assert set(resources) == set(TEMPLATE["resources"])
    assert {r["resource_status"] for r in resources.values()} == {"CREATE_COMPLETE"}
    server = cli(cloud, "server", "show", resources["server"]["physical_resource_id"])
    assert server["status"] == "ACTIVE" and server["key_name"] == stack
    events = cli(cloud, "stack", "event", "list", stack)
    assert events[-1]["resource_status"] == "CREATE_COMPLETE" and events[-1]["resource_name"] == stack
    assert stack in {s["Stack Name"] for s in cli(cloud, "stack", "list")}

    cloud.openstack("stack", "delete", "--wait", "-y", stack, cloud="onestack")
    assert stack not in {s["Stack Name"] for s in cli(cloud, "stack", "list")}
    assert resources["server"]["physical_resource_id"] not in {s["ID"] for s in cli(cloud, "server", "list")}
    assert fip["output_value"] not in {f["Floating IP Address"] for f in cli(cloud, "floating", "ip", "list")}
    assert resources["net"]["physical_resource_id"] not in {n["ID"] for n in cli(cloud, "network", "list")}
    assert stack not in {k["Name"] for k in cli(cloud, "keypair", "list")}


def test_a_failed_stack_says_why_on_the_cli(cloud, tmp_path):
    template = tmp_path / "bad.yaml"
    template.write_text(yaml.safe_dump({"heat_template_version": "2018-08-31", "resources": {
        "net": {"type": "OS::Neutron::Net"},
        "bad": {"type": "OS::Neutron::Subnet", "properties": {"network": {"get_resource": "net"},
                                                              "cidr": "not-a-cidr"}}}}))
    stack = name("cli-bad")
    failed = cloud.openstack("stack", "create", "-t", str(template), "--enable-rollback", "--wait", stack,
                             cloud="onestack", check=False)
    assert failed.returncode != 0
    shown = cli(cloud, "stack", "show", stack)
    assert shown["stack_status"] == "ROLLBACK_COMPLETE"
    assert "Resource CREATE failed: BadRequest: resources.bad: " in shown["stack_status_reason"]
    assert cli(cloud, "stack", "resource", "list", stack) == []
    malformed = tmp_path / "malformed.yaml"
    malformed.write_text("heat_template_version: 2018-08-31\nresources:\n  a: {type: OS::Heat::None\n")
    refused = cloud.openstack("stack", "create", "-t", str(malformed), name("m"), cloud="onestack", check=False)
    assert refused.returncode != 0 and "line" in refused.stderr
    cloud.openstack("stack", "delete", "--wait", "-y", stack, cloud="onestack")


def demo_heat(cloud) -> httpx.Client:
    """Orchestration as demo in its project."""
    issued = cloud.issue("demo", project="demo")
    assert issued.status_code == 201, issued.text
    demo = issued.json()["token"]["project"]["id"]
    return httpx.Client(base_url=f"{cloud.url}/orchestration/v1/{demo}",
                        headers={"X-Auth-Token": cloud.token("demo", project="demo")}, timeout=60)


def restart(cloud, heat: httpx.Client) -> None:
    """The same cloud up again after its process ended; ``heat`` gets demo's new token."""
    cloud.onestack("up", "--bind", f"127.0.0.1:{cloud.port}", "--detach", "--no-user-clouds")
    heat.headers["X-Auth-Token"] = cloud.token("demo", project="demo")


def kill_9_and_restart(cloud, heat: httpx.Client) -> None:
    """kill -9 of the cloud's process, then the same cloud up again; ``heat`` gets demo's new token."""
    cloud.kill_9()
    restart(cloud, heat)


def test_a_stack_created_across_a_kill_9_completes_and_deletes_cleanly(tmp_path):
    """kill -9 of the cloud while a stack is being made: after the restart the engine resumes it (nothing
    stays IN_PROGRESS without a worker), it completes, and its delete leaves nothing behind."""
    cloud = Cloud(tmp_path / "data")
    cloud.start()
    try:
        public, image = public_network_and_image(cloud)
        slow = {"type": "OS::Heat::TestResource", "depends_on": "server",
                "properties": {"action_wait_secs": {"create": 4}}}
        template = {**TEMPLATE, "resources": {**TEMPLATE["resources"], "slow": slow}}
        heat = demo_heat(cloud)
        stack_name = name("survivor")
        ref = ok(heat.post("/stacks", json={"stack_name": stack_name, "template": template,
                                            "parameters": {"public_net": public, "image": image}}), 201)["stack"]
        path = f"/stacks/{stack_name}/{ref['id']}"

        def resources() -> dict:
            return {r["resource_name"]: r["resource_status"] for r in ok(heat.get(f"{path}/resources"))["resources"]}

        wait(lambda: resources().get("slow") == "CREATE_IN_PROGRESS", 60, "the slow resource to start")
        kill_9_and_restart(cloud, heat)

        done = wait(lambda: (s := ok(heat.get(path))["stack"])["stack_status"] != "CREATE_IN_PROGRESS" and s, 60,
                    "the stack to finish after the restart")
        assert done["stack_status"] == "CREATE_COMPLETE", done["stack_status_reason"]
        assert set(resources().values()) == {"CREATE_COMPLETE"}
        servers = cli(cloud, "server", "list")
        assert len(servers) == 1  # resumed, not made twice

        ok(heat.delete(path), 204)
        wait(lambda: ok(heat.get(path))["stack"]["stack_status"] == "DELETE_COMPLETE", 60, "the delete")
        assert cli(cloud, "server", "list") == []
        assert [n for n in cli(cloud, "network", "list") if n["Name"] != public] == []
        assert cli(cloud, "floating", "ip", "list") == []
        heat.close()
    finally:
        cloud.stop()


def test_a_delete_cut_before_its_request_went_out_is_sent_after_the_restart(tmp_path):
    """The engine records a resource's DELETE_IN_PROGRESS, then asks for the delete: a kill -9 between the
    two leaves a row deleting a thing no one was asked to delete.  After the restart the engine makes the
    request (it is safe to repeat) instead of waiting forever for the thing to go."""
    cloud = Cloud(tmp_path / "data")
    cloud.start()
    try:
        heat = demo_heat(cloud)
        template = {"heat_template_version": "2018-08-31", "resources": {"net": {"type": "OS::Neutron::Net"}}}
        stack_name = name("cut")
        ref = ok(heat.post("/stacks", json={"stack_name": stack_name, "template": template}), 201)["stack"]
        path = f"/stacks/{stack_name}/{ref['id']}"
        wait(lambda: ok(heat.get(path))["stack"]["stack_status"] == "CREATE_COMPLETE", 60, "the create")
        net_id = ok(heat.get(f"{path}/resources/net"))["resource"]["physical_resource_id"]

        cloud.kill_9()
        # what the kill leaves between the engine's two steps: the delete begun and recorded, no request made
        cloud.execute("UPDATE orchestration_stack SET action = 'DELETE', status = 'IN_PROGRESS', "
                      "generation = generation + 1 WHERE id = :id", id=ref["id"])
        cloud.execute("UPDATE orchestration_resource SET action = 'DELETE', status = 'IN_PROGRESS', generation = "
                      "(SELECT generation FROM orchestration_stack WHERE id = :id) WHERE stack_id = :id", id=ref["id"])
        restart(cloud, heat)

        done = wait(lambda: (s := ok(heat.get(path))["stack"])["stack_status"] != "DELETE_IN_PROGRESS" and s, 60,
                    "the delete to finish after the restart")
        assert done["stack_status"] == "DELETE_COMPLETE", done["stack_status_reason"]
        with httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": cloud.token()}, timeout=60) as admin:
            assert admin.get(f"/network/v2.0/networks/{net_id}").status_code == 404
        heat.close()
    finally:
        cloud.stop()
