"""The post's Docker-plugin template, with a network added, deployed through python-heatclient on the kernel
data plane: its ``DockerInc::Docker::Container`` runs onestack-tiny-container as a container server, its
``port_specs``/``port_bindings`` make a floating IP whose port 8080 forwards to the container's port 80, and
the outside world gets the container's page there; a VM of the same stack on the same network fetches the
page from the container's fixed address.  The stack's delete leaves no container behind.

The outside world is a namespace of the test's own on the external bridge (as in test_container_server.py).
"""

from __future__ import annotations

import random
import subprocess
import sys
import uuid

import httpx
import pytest

from onestack.drivers.runc import runtime
from onestack.guestimage import build
from tests.api.helpers import ok, wait
from tests.cloudfixture import Cloud
from tests.dataplane.kernel import Namespace, link_index, require_dataplane
from tests.dataplane.test_container_server import MARKER, container_state
from tests.dataplane.test_multihost_migration import shell_of

pytestmark = [pytest.mark.dataplane, pytest.mark.xdist_group("dataplane")]
OUTSIDE = "203.0.113.1"
TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "parameters": {"public_net": {"type": "string"}},
    "resources": {
        "net": {"type": "OS::Neutron::Net"},
        "subnet": {"type": "OS::Neutron::Subnet",
                   "properties": {"network": {"get_resource": "net"}, "cidr": "10.84.0.0/24"}},
        "router": {"type": "OS::Neutron::Router",
                   "properties": {"external_gateway_info": {"network": {"get_param": "public_net"}}}},
        "iface": {"type": "OS::Neutron::RouterInterface",
                  "properties": {"router": {"get_resource": "router"}, "subnet": {"get_resource": "subnet"}}},
        # the post's resource, as it was written for a Docker daemon, plus where it runs on this cloud
        "nginx": {"type": "DockerInc::Docker::Container", "depends_on": ["iface"], "properties": {
            "docker_endpoint": "tcp://192.168.1.250:2376", "image": "onestack-tiny-container", "name": "web",
            "port_specs": ["80"], "port_bindings": {"80/tcp": [{"HostPort": "8080"}]},
            "networks": [{"network": {"get_resource": "net"}}], "floating_network": {"get_param": "public_net"}}},
        "vm": {"type": "OS::Nova::Server", "depends_on": ["iface"], "properties": {
            "name": "vm1", "image": "onestack-tiny", "flavor": "42", "networks": [{"network": {"get_resource": "net"}}]}},
    },
    "outputs": {"web_ip": {"value": {"get_attr": ["nginx", "network_ip"]}},
                "web_url": {"value": {"str_replace": {"template": "http://host:port/", "params": {
                    "host": {"get_attr": ["nginx", "floating_ip"]},
                    "port": {"get_attr": ["nginx", "network_tcp_ports"]}}}}},
                "web_id": {"value": {"get_resource": "nginx"}}, "vm_id": {"value": {"get_resource": "vm"}},
                "vm_ip": {"value": {"get_attr": ["vm", "first_address"]}}},
}


def fetch(outside: Namespace, url: str) -> str | None:
    # under timeout: Debian's static busybox wget crashes with -T
    done = outside.run("timeout", "2", "busybox", "wget", "-q", "-O", "-", url, check=False)
    return done.stdout if done.returncode == 0 else None


def test_the_docker_plugin_template_answers_on_its_floating_ip_beside_a_vm(tmp_path):
    require_dataplane()
    if not runtime.installed():
        pytest.skip("runc is not installed (make install installs it)")
    from heatclient import client as heat_client
    from keystoneauth1 import session
    from keystoneauth1.identity import v3

    tag = uuid.uuid4().hex[:6]
    vni = random.randrange(100000, 16000000)
    cloud = Cloud(tmp_path / "data", settings={"compute": {"driver": "qemu"}, "network": {
        "dataplane": True, "physical_networks": {"public": f"brx{tag}"}, "vni_ranges": [[vni, vni + 9]]}}).start()
    http = httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": cloud.token()}, timeout=120)
    outside = None
    try:
        registered = subprocess.run([sys.executable, "-m", "onestack", "image", "register", "--data-dir",
                                     str(cloud.data_dir)], capture_output=True, text=True, timeout=300,
                                    env={**cloud.env, "ONESTACK_IMAGE_CACHE": str(build.default_cache_dir())})
        assert registered.returncode == 0, registered.stdout + registered.stderr
        ext = ok(http.post("/network/v2.0/networks", json={"network": {
            "name": "public", "router:external": True, "provider:network_type": "flat",
            "provider:physical_network": "public"}}), 201)["network"]
        ok(http.post("/network/v2.0/subnets", json={"subnet": {
            "network_id": ext["id"], "cidr": "203.0.113.0/24", "ip_version": 4, "enable_dhcp": False,
            "gateway_ip": OUTSIDE, "allocation_pools": [{"start": "203.0.113.10", "end": "203.0.113.99"}]}}), 201)
        entry = cloud.clouds["onestack-admin"]["auth"]
        heat = heat_client.Client("1", session=session.Session(auth=v3.Password(
            auth_url=entry["auth_url"], username=entry["username"], password=entry["password"],
            project_name=entry["project_name"], user_domain_name=entry.get("user_domain_name", "Default"),
            project_domain_name=entry.get("project_domain_name", "Default")), verify=cloud.verify))
        stack_id = heat.stacks.create(stack_name="docker-post", template=TEMPLATE,
                                      parameters={"public_net": ext["id"]})["stack"]["id"]

        def created():
            stack = heat.stacks.get(stack_id)
            assert stack.stack_status != "CREATE_FAILED", stack.stack_status_reason
            return stack if stack.stack_status == "CREATE_COMPLETE" else None

        stack = wait(created, 240, "the stack", every=0.5)
        outputs = {o["output_key"]: o["output_value"] for o in stack.outputs}
        assert container_state(cloud, outputs["web_id"])["status"] == "running"
        assert outputs["web_url"].endswith(":8080/"), outputs
        wait(lambda: link_index(f"brx{tag}"), 30, "the external bridge (made for the router's gateway)")
        outside = Namespace(f"brx{tag}")
        outside.address(f"{OUTSIDE}/24")  # the "internet": no route to the tenant subnet

        # the outside world: the floating IP's 8080 is the container's 80
        page = wait(lambda: fetch(outside, outputs["web_url"]), 90, f"an answer on {outputs['web_url']}", every=0.2)
        assert MARKER.search(page).groups() == ("web", outputs["web_ip"]), page

        # the VM of the same stack fetches the container's page on the shared network
        with httpx.Client(base_url=f"{cloud.url}/compute/v2.1", timeout=60, headers={
                "X-Auth-Token": http.headers["X-Auth-Token"], "X-OpenStack-Nova-API-Version": "2.6"}) as nova:
            shell = shell_of(nova, outputs["vm_id"]).ready(300)
        try:
            wait(lambda: outputs["vm_ip"] in shell.run("ip -4 addr show eth0"), 120, "the VM's address from DHCP")
            fetched = shell.run(f"timeout 5 wget -q -O - http://{outputs['web_ip']}/ || echo unanswered")
            assert MARKER.search(fetched) and MARKER.search(fetched).groups() == ("web", outputs["web_ip"]), fetched
        finally:
            shell.close()

        # the stack's delete: no container left, nothing answers
        heat.stacks.delete(stack_id)

        def deleted():
            try:
                return heat.stacks.get(stack_id).stack_status == "DELETE_COMPLETE"
            except Exception as exc:  # heatclient's 404 once it is gone
                return "404" in str(getattr(exc, "code", "")) or "could not be found" in str(exc)

        wait(deleted, 240, "the stack deleted", every=0.5)
        assert container_state(cloud, outputs["web_id"]) is None
        assert fetch(outside, outputs["web_url"]) is None
    finally:
        if outside is not None:
            outside.close()
        http.close()
        cloud.purge(check=False)  # containers too, whatever failed above
